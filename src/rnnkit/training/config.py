"""``TrainConfig``: everything :func:`rnnkit.training.fit` needs to know, as one frozen dataclass.

The field names are the command-line flags (``--clip-norm 5`` sets ``clip_norm``), so a run's
``config.json`` reads like the command that made it.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Literal

from rnnkit.config import (
    ConfigError,
    check_field_types,
    validate_fraction,
    validate_positive,
)

__all__ = ["StreamTrainConfig", "TrainConfig", "parse_duration"]

OptimizerName = Literal["sgd", "adam", "adamw"]
ScheduleName = Literal["constant", "step", "plateau", "cosine"]
DeviceName = Literal["auto", "cpu", "cuda", "mps"]
Mode = Literal["min", "max"]

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(h|m|s)")
_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0}


def parse_duration(text: str) -> float:
    """Seconds in a duration such as ``"90s"``, ``"10m"``, ``"1h30m"`` or a bare ``"45"``.

    Raises:
        ConfigError: The text is not a positive duration.

    Example:
        >>> parse_duration("1h30m"), parse_duration("10m"), parse_duration("2.5")
        (5400.0, 600.0, 2.5)
    """
    stripped = text.strip().lower()
    try:
        seconds = float(stripped)
    except ValueError:
        parts = _DURATION.findall(stripped)
        if not parts or _DURATION.sub("", stripped).strip():
            raise ConfigError(
                f"expected a duration like '90s', '10m' or '1h30m', got {text!r}", key="max_time"
            ) from None
        seconds = sum(float(number) * _SECONDS[unit] for number, unit in parts)
    if not seconds > 0:
        raise ConfigError(f"expected a positive duration, got {text!r}", key="max_time")
    return seconds


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """How to train: optimiser, schedule, clipping, stopping, logging, device.

    Attributes:
        epochs: Passes over the training batches.
        seed: Seeds torch, NumPy and ``random``; the same seed gives the same numbers on CPU.
        optimizer: ``"sgd"`` (with ``momentum``/``nesterov``), ``"adam"`` or ``"adamw"``.
        lr: Initial learning rate.
        momentum: SGD momentum.
        nesterov: SGD with Nesterov momentum (needs ``momentum > 0``).
        weight_decay: L2 penalty (SGD, Adam) or decoupled decay (AdamW).
        betas: Adam/AdamW moment decay rates.
        schedule: ``"constant"``; ``"step"`` multiplies the rate by ``lr_decay`` every epoch
            after ``decay_after`` epochs (Zaremba et al. 2014); ``"plateau"`` multiplies it by
            ``lr_decay`` when the monitored metric has not improved for ``plateau_patience``
            epochs; ``"cosine"`` warms up linearly for ``warmup_steps`` then follows a cosine
            down to ``min_lr``.
        lr_decay: Factor of the ``step`` and ``plateau`` schedules, in (0, 1).
        decay_after: Epochs at the initial rate before ``step`` decay starts.
        plateau_patience: Epochs without improvement before ``plateau`` decays.
        warmup_steps: Optimiser steps of linear warm-up (``cosine``).
        min_lr: Final rate of ``cosine``.
        clip_norm: Rescale the gradient when its global L2 norm exceeds this
            (Pascanu et al. 2013, Algorithm 1); None disables.
        clip_value: Clamp every gradient element to [-clip_value, clip_value]; None disables.
        accumulate: Mini-batches whose gradients are averaged before one optimiser step.
        max_steps: Stop after this many optimiser steps (None: no limit).
        max_time: Wall-clock budget such as ``"10m"``; training stops at the next step
            boundary after it, then evaluates and saves.
        patience: Early stopping: epochs without improvement of ``monitor`` before stopping
            (None: never); the best weights are kept either way.
        monitor: Validation metric that decides "best" (a key the objective reports).
        mode: ``"min"`` when lower ``monitor`` is better, ``"max"`` otherwise.
        log_every: Optimiser steps between progress lines and metrics-log flushes.
        checkpoint_every: Optimiser steps between checkpoints (None: at epoch ends only).
        device: ``"auto"`` picks CUDA, then MPS, then CPU.
        bf16: bfloat16 autocast for the forward pass (CUDA only).

    Example:
        >>> TrainConfig(optimizer="sgd", lr=1.0, schedule="step").lr
        1.0
        >>> try:
        ...     TrainConfig(nesterov=True, optimizer="sgd")
        ... except ConfigError as err:
        ...     print(err)
        nesterov: needs optimizer='sgd' with momentum > 0, got momentum=0.0
    """

    epochs: int = 10
    seed: int = 0
    optimizer: OptimizerName = "adam"
    lr: float = 1e-3
    momentum: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0
    betas: tuple[float, float] = (0.9, 0.999)
    schedule: ScheduleName = "constant"
    lr_decay: float = 0.5
    decay_after: int = 4
    plateau_patience: int = 0
    warmup_steps: int = 0
    min_lr: float = 0.0
    clip_norm: float | None = 5.0
    clip_value: float | None = None
    accumulate: int = 1
    max_steps: int | None = None
    max_time: str | None = None
    patience: int | None = None
    monitor: str = "val_loss"
    mode: Mode = "min"
    log_every: int = 50
    checkpoint_every: int | None = None
    device: DeviceName = "auto"
    bf16: bool = False

    def __post_init__(self) -> None:
        check_field_types(self)
        for name in ("epochs", "lr", "accumulate", "log_every"):
            validate_positive(name, getattr(self, name))
        optional = ("clip_norm", "clip_value", "max_steps", "checkpoint_every")
        for name in (*optional, "patience"):
            if getattr(self, name) is not None:
                validate_positive(name, getattr(self, name))
        for name in ("momentum", "weight_decay", "min_lr", "warmup_steps", "plateau_patience"):
            if getattr(self, name) < 0:
                raise ConfigError(f"expected >= 0, got {getattr(self, name)!r}", key=name)
        if not 0 <= self.seed < 2**32:  # what NumPy's generator accepts, and torch's
            raise ConfigError(f"expected an int in [0, 2**32), got {self.seed!r}", key="seed")
        validate_fraction("momentum", self.momentum)
        for i, beta in enumerate(self.betas):
            validate_fraction(f"betas[{i}]", beta)
        if not 0.0 < self.lr_decay < 1.0:
            raise ConfigError(f"expected a float in (0, 1), got {self.lr_decay!r}", key="lr_decay")
        if self.nesterov and (self.optimizer != "sgd" or self.momentum == 0):
            raise ConfigError(
                f"needs optimizer='sgd' with momentum > 0, got momentum={self.momentum!r}"
                + ("" if self.optimizer == "sgd" else f" and optimizer={self.optimizer!r}"),
                key="nesterov",
            )
        if self.max_time is not None:
            parse_duration(self.max_time)

    @property
    def max_seconds(self) -> float | None:
        """``max_time`` in seconds, or None."""
        return None if self.max_time is None else parse_duration(self.max_time)


@dataclasses.dataclass(frozen=True, kw_only=True)
class StreamTrainConfig(TrainConfig):
    """:class:`TrainConfig` for one long stream cut into windows (language models): truncated
    backpropagation through time, BPTT(k1, k2) (Williams & Peng 1990).

    Jobs whose examples are whole sequences take :class:`TrainConfig`, which has no such
    fields, so ``--bptt`` is no flag of theirs.

    Attributes:
        bptt: Truncated BPTT window ``k2`` (steps back-propagated through).
        bptt_stride: ``k1`` (steps between truncations); None means ``bptt`` (k1 = k2).

    Example:
        >>> cfg = StreamTrainConfig(bptt=70, bptt_stride=35)
        >>> cfg.k1, cfg.k2
        (35, 70)
    """

    bptt: int = 35
    bptt_stride: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        validate_positive("bptt", self.bptt)
        if self.bptt_stride is not None:
            validate_positive("bptt_stride", self.bptt_stride)
            if self.bptt_stride > self.bptt:
                raise ConfigError(
                    f"the stride k1 must be <= the window k2 (bptt={self.bptt}), "
                    f"got {self.bptt_stride}",
                    key="bptt_stride",
                )

    @property
    def k1(self) -> int:
        """Truncated-BPTT stride: steps between truncations (Williams & Peng 1990)."""
        return self.bptt if self.bptt_stride is None else self.bptt_stride

    @property
    def k2(self) -> int:
        """Truncated-BPTT window: steps back-propagated through at each truncation."""
        return self.bptt
