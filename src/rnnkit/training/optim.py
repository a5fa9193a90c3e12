"""Optimisers, learning-rate schedules and gradient clipping, built from a :class:`TrainConfig`.

The optimisers and schedulers are torch's own (their update rules are not the point of
rnnkit); this module only maps config fields onto them and measures the gradient.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

import torch
from torch import nn
from torch.optim import lr_scheduler

from rnnkit.training.config import TrainConfig

__all__ = ["LRGroup", "Schedule", "clip_gradients", "make_optimizer", "make_schedule"]

# Parameters that train at ``factor`` times the configured learning rate.
LRGroup = tuple[Sequence[nn.Parameter], float]


def make_optimizer(
    params: Iterable[nn.Parameter],
    config: TrainConfig,
    *,
    lr_groups: Sequence[LRGroup] | None = None,
) -> torch.optim.Optimizer:
    """The optimiser ``config.optimizer`` over ``params`` with the config's hyper-parameters.

    Args:
        params: The parameters to train.
        config: Optimiser and hyper-parameters.
        lr_groups: ``(parameters, factor)`` pairs: those parameters train at
            ``factor * config.lr`` (discriminative fine-tuning, Howard & Ruder 2018); a
            parameter of ``params`` in no group trains at ``config.lr``. Schedules scale every
            group's rate alike.

    Example:
        >>> opt = make_optimizer(nn.Linear(2, 1).parameters(), TrainConfig(optimizer="sgd",
        ...                      lr=0.5, momentum=0.9, nesterov=True))
        >>> type(opt).__name__, opt.param_groups[0]["nesterov"]
        ('SGD', True)
        >>> layer = nn.Linear(2, 1)
        >>> opt = make_optimizer(layer.parameters(), TrainConfig(lr=0.5),
        ...                      lr_groups=[([layer.bias], 0.1)])
        >>> [round(g["lr"], 3) for g in opt.param_groups]
        [0.5, 0.05]
    """
    params = _param_groups(list(params), config.lr, lr_groups or [])
    if config.optimizer == "sgd":
        return torch.optim.SGD(
            params,
            lr=config.lr,
            momentum=config.momentum,
            nesterov=config.nesterov,
            weight_decay=config.weight_decay,
        )
    adam = torch.optim.Adam if config.optimizer == "adam" else torch.optim.AdamW
    return adam(params, lr=config.lr, betas=config.betas, weight_decay=config.weight_decay)


def _param_groups(
    params: list[nn.Parameter], lr: float, lr_groups: Sequence[LRGroup]
) -> list[nn.Parameter] | list[dict]:
    """``params`` as torch param groups: one per distinct factor, factor 1 first."""
    if not lr_groups:
        return params
    wanted = {id(p) for p in params}
    factor_of = {id(p): float(f) for group, f in lr_groups for p in group if id(p) in wanted}
    by_factor: dict[float, list[nn.Parameter]] = {}
    for p in params:
        by_factor.setdefault(factor_of.get(id(p), 1.0), []).append(p)
    order = sorted(by_factor, key=lambda f: (f != 1.0, -f))
    return [{"params": by_factor[f], "lr": lr * f} for f in order]


class Schedule:
    """A learning-rate schedule with two hooks: after each optimiser step, after each epoch.

    Wraps one torch scheduler. ``step`` decay and ``cosine`` are ``LambdaLR`` (their state is
    plain numbers, so a checkpoint stores it as JSON); ``plateau`` is ``ReduceLROnPlateau``.

    Args:
        optimizer: The optimiser whose rate is scheduled.
        config: ``schedule`` and its fields.
        total_steps: Optimiser steps in the whole run; needed by ``cosine`` only.
    """

    def __init__(
        self, optimizer: torch.optim.Optimizer, config: TrainConfig, total_steps: int | None
    ) -> None:
        self.kind = config.schedule
        self.scheduler: lr_scheduler.LRScheduler | lr_scheduler.ReduceLROnPlateau | None = None
        if self.kind == "step":
            decay, after = config.lr_decay, config.decay_after
            # Epoch e (0-based) trains at lr * decay^max(0, e + 1 - after): Zaremba et al.'s
            # "after 4 epochs, halve the rate every epoch" is decay=0.5, after=4.
            self.scheduler = lr_scheduler.LambdaLR(
                optimizer, lambda epoch: decay ** max(0, epoch + 1 - after)
            )
        elif self.kind == "plateau":
            self.scheduler = lr_scheduler.ReduceLROnPlateau(
                optimizer,
                mode=config.mode,
                factor=config.lr_decay,
                patience=config.plateau_patience,
            )
        elif self.kind == "cosine":
            if total_steps is None:
                raise ValueError("the cosine schedule needs the total number of steps")
            self.scheduler = lr_scheduler.LambdaLR(
                optimizer,
                _warmup_cosine(config.warmup_steps, total_steps, config.min_lr / config.lr),
            )

    def after_step(self) -> None:
        """Advance per-step schedules (cosine)."""
        if self.kind == "cosine":
            self.scheduler.step()

    def after_epoch(self, metric: float | None) -> None:
        """Advance per-epoch schedules; ``plateau`` needs the monitored validation metric."""
        if self.kind == "step":
            self.scheduler.step()
        elif self.kind == "plateau" and metric is not None:
            self.scheduler.step(metric)

    def state_dict(self) -> dict:
        return {} if self.scheduler is None else self.scheduler.state_dict()

    def load_state_dict(self, state: dict) -> None:
        if self.scheduler is not None:
            self.scheduler.load_state_dict(state)


def _warmup_cosine(warmup: int, total: int, floor: float) -> Callable[[int], float]:
    """Rate factor at step s: linear 0 -> 1 over ``warmup`` steps, then cosine to ``floor``."""

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, total - warmup))
        return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))

    return factor


def make_schedule(
    optimizer: torch.optim.Optimizer, config: TrainConfig, total_steps: int | None = None
) -> Schedule:
    """The schedule ``config.schedule`` for ``optimizer`` (see :class:`Schedule`)."""
    return Schedule(optimizer, config, total_steps)


def clip_gradients(
    params: Iterable[nn.Parameter], *, max_norm: float | None, max_value: float | None
) -> float:
    """Clips gradients in place and returns their global L2 norm *before* clipping.

    ``g <- g * max_norm / ‖g‖`` when ``‖g‖ > max_norm``, where ``‖g‖`` is the norm of all
    gradients concatenated (Pascanu et al. 2013, Algorithm 1), then element-wise clamping to
    ``[-max_value, max_value]``. The norm is returned even when both limits are None: the
    training log records it every step, and a non-finite value is how a divergence is caught.

    Example:
        >>> p = nn.Parameter(torch.zeros(2)); p.grad = torch.tensor([3.0, 4.0])
        >>> clip_gradients([p], max_norm=1.0, max_value=None)
        5.0
        >>> p.grad
        tensor([0.6000, 0.8000])
    """
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return 0.0
    norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
    total = float(norm)
    if max_norm is not None and math.isfinite(total) and total > max_norm:
        scale = max_norm / (total + 1e-6)
        for g in grads:
            g.mul_(scale)
    if max_value is not None:
        for g in grads:
            g.clamp_(-max_value, max_value)
    return total
