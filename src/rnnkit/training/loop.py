"""``fit``: the one training loop every task calls.

A task supplies the model, its batches and an :class:`Objective` (how a batch becomes a
loss, how a validation set becomes metrics); ``fit`` owns everything else: the optimiser and
schedule, gradient accumulation and clipping, the truncated-BPTT state carried between
batches, stopping (epochs, steps, time budget, early stopping, Ctrl-C, divergence), the
metrics log, checkpoints and exact resumption.

Exact resumption rests on three rules: the batches of epoch e are a pure function of e
(``train_data(e)``; shuffle with a generator seeded from e, never the global RNG), the
checkpoint holds every random state, and the loop's own running sums go into the checkpoint
too. Then a run killed at any moment and resumed ends with the same parameters as one that
never stopped.
"""

from __future__ import annotations

import contextlib
import math
import random
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, NamedTuple, Protocol

import numpy as np
import torch
from torch import nn

from rnnkit.config import ConfigError, RnnkitError
from rnnkit.training import checkpoint as ckpt
from rnnkit.training.config import TrainConfig
from rnnkit.training.distributed import DistributedContext, has_rows
from rnnkit.training.grad_health import GradientWatch
from rnnkit.training.optim import LRGroup, clip_gradients, make_optimizer, make_schedule
from rnnkit.training.progress import Progress, StepInfo
from rnnkit.training.rundir import RunDir
from rnnkit.training.tbptt import detach_state
from rnnkit.training.tree import flatten, tree_map, unflatten

__all__ = [
    "FitResult",
    "Objective",
    "StepOutput",
    "TrainingError",
    "fit",
    "resolve_device",
    "seed_everything",
]


class TrainingError(RnnkitError):
    """Training cannot go on (a non-finite loss or gradient); the message names the step."""


class StepOutput(NamedTuple):
    """What an objective returns for one training batch.

    Attributes:
        loss: Scalar tensor, the mean loss over the batch's ``count`` items.
        count: Items the loss averages over (tokens, examples); weights the epoch mean and
            measures throughput.
        state: Recurrent state to start the next batch from (truncated BPTT over streams),
            or None. ``fit`` detaches it; it is reset to None at each epoch start.
    """

    loss: torch.Tensor
    count: int
    state: Any = None


class Objective(Protocol):
    """How a task's batches become a loss and a validation set becomes metrics."""

    def loss(self, model: nn.Module, batch: Any, state: Any) -> StepOutput:
        """The training loss of one batch, given the state carried from the previous one."""
        ...

    def evaluate(self, model: nn.Module, batches: Iterable[Any]) -> dict[str, float]:
        """Metrics over a whole validation set (called in eval mode, without gradients).

        Keys are plain names (``loss``, ``ppl``, ``accuracy``); ``fit`` logs them as
        ``val_<name>``.
        """
        ...


@dataclass
class FitResult:
    """What :func:`fit` returns (and :func:`rnnkit.load` later reads from the run directory).

    Attributes:
        stop_reason: ``completed``, ``early_stopping``, ``max_steps``, ``max_time`` or
            ``interrupted``.
        best_metric: Best value of ``config.monitor`` (None without validation).
        best_epoch: 0-based epoch of the best value.
        epochs: Epochs completed.
        steps: Optimiser steps taken.
        train_time: Seconds spent training (across resumptions).
        history: One metrics record per completed epoch.
        partial: The validation record taken after a mid-epoch stop (``max_time``,
            ``max_steps``), or None.
    """

    stop_reason: str
    best_metric: float | None
    best_epoch: int | None
    epochs: int
    steps: int
    train_time: float
    history: list[dict[str, Any]] = field(default_factory=list)
    partial: dict[str, Any] | None = None

    def validations(self) -> list[dict[str, Any]]:
        """Every validation record: each epoch's, then the mid-epoch stop's (if any).

        A run stopped by ``--max-time`` before its first epoch ended still has one.
        """
        records = [r for r in self.history if any(k.startswith("val_") for k in r)]
        return records + ([self.partial] if self.partial is not None else [])


def seed_everything(seed: int) -> None:
    """Seeds torch (CPU and CUDA), NumPy and ``random``: same seed, same numbers on CPU."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def resolve_device(name: str) -> torch.device:
    """``auto`` -> CUDA, else Apple MPS, else CPU; a named device must be available.

    Raises:
        ConfigError: The named device is not available on this machine.
    """
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    available = {
        "cpu": True,
        "cuda": torch.cuda.is_available(),
        "mps": torch.backends.mps.is_available(),
    }
    if not available[name]:
        raise ConfigError(f"{name!r} is not available on this machine", key="device")
    return torch.device(name)


EpochData = Callable[[int], Iterable[Any]] | Iterable[Any]


def _epoch_batches(data: EpochData, epoch: int) -> Iterable[Any]:
    return data(epoch) if callable(data) else data


def fit(
    model: nn.Module,
    train_data: EpochData,
    val_data: EpochData | None,
    config: TrainConfig,
    *,
    objective: Objective,
    run: RunDir | None = None,
    resume: bool = False,
    progress: Progress | None = None,
    dist_context: DistributedContext | None = None,
    lr_groups: Sequence[LRGroup] | None = None,
) -> FitResult:
    """Trains ``model`` on ``train_data`` with ``objective`` as ``config`` says.

    Args:
        model: Any module; moved to ``config.device``.
        train_data: ``epoch -> iterable of batches`` (a pure function of the epoch, for exact
            resumption), or one re-iterable collection used every epoch.
        val_data: The same for validation (called with the epoch), or None.
        config: Optimiser, schedule, clipping, stopping, logging, device.
        objective: Turns batches into losses and validation metrics.
        run: Run directory for the metrics log, checkpoints and best weights; None keeps
            everything in memory (the best weights are still restored at the end).
        resume: Continue from ``run``'s last checkpoint instead of starting fresh.
        progress: Progress display (see :mod:`rnnkit.training.progress`); None shows nothing.
        dist_context: Rank and world size under ``torchrun``; None for one process.
        lr_groups: ``(parameters, factor)`` pairs that train at ``factor * config.lr``
            (see :func:`~rnnkit.training.optim.make_optimizer`); None trains all at
            ``config.lr``.

    Returns:
        A :class:`FitResult`. The model holds the best weights (by ``config.monitor``) when
        there is validation data, else the last ones.

    Raises:
        TrainingError: The loss or the gradient became non-finite; the last good checkpoint
            (if any) is kept.
        ConfigError: Bad device or settings; ``resume`` without a run directory.
    """
    trainer = _Trainer(
        model, train_data, val_data, config, objective, run, progress, dist_context, lr_groups
    )
    try:
        if resume:
            trainer.restore()
        else:
            # One random stream per rank (rank 0's is the single-process one): ranks drawing
            # the same dropout masks for their rows would correlate them across the batch.
            seed_everything(config.seed + trainer.dist.rank)
            trainer.start()
        return trainer.train()
    finally:
        trainer.progress.close()


class _Trainer:
    """The state of one ``fit`` call; every field that matters for resuming is checkpointed."""

    def __init__(
        self,
        model: nn.Module,
        train_data: EpochData,
        val_data: EpochData | None,
        config: TrainConfig,
        objective: Objective,
        run: RunDir | None,
        progress: Progress | None,
        dist_context: DistributedContext | None,
        lr_groups: Sequence[LRGroup] | None = None,
    ) -> None:
        self.config = config
        self.device = resolve_device(config.device)
        if config.bf16 and self.device.type != "cuda":
            raise ConfigError(f"bf16 autocast needs a CUDA device, got {self.device}", key="bf16")
        self.model = model.to(self.device)
        self.train_data, self.val_data = train_data, val_data
        self.objective = objective
        self.dist = dist_context or DistributedContext()
        # Every rank resumes from the run's checkpoint; only rank 0 writes to the run.
        self.source_run = run
        self.run = run if self.dist.is_main else None
        # Checkpoints gather every rank's state, so every rank must know whether rank 0 saves.
        self.checkpointing = self.dist.any(run is not None)
        self.progress = progress if (progress is not None and self.dist.is_main) else Progress()
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.optimizer = make_optimizer(self.params, config, lr_groups=lr_groups)
        self.schedule = make_schedule(self.optimizer, config, self._total_steps())
        self.interrupted = False
        self.max_seconds = config.max_seconds
        self.grad_watch = GradientWatch()  # exploding/vanishing norms, warned once each
        # Everything below is checkpointed ("progress").
        self.epoch = 0
        self.batch_in_epoch = 0  # mini-batches consumed in the current epoch
        self.step = 0  # optimiser steps, all epochs
        self.train_time = 0.0
        self.best_metric: float | None = None
        self.best_epoch: int | None = None
        self.bad_epochs = 0
        self.history: list[dict[str, Any]] = []
        self.sums = _EpochSums()
        self.carry: Any = None
        self.best_weights: dict[str, torch.Tensor] | None = None
        self.pending_records: list[dict[str, Any]] = []

    # --- set-up -------------------------------------------------------------------------

    def _total_steps(self) -> int | None:
        if self.config.max_steps is not None:
            return self.config.max_steps
        data = self.train_data if not callable(self.train_data) else self.train_data(0)
        try:
            batches = len(data)  # type: ignore[arg-type]
        except TypeError:
            if self.config.schedule == "cosine":
                raise ConfigError(
                    "the cosine schedule needs max_steps when the batch count is unknown",
                    key="schedule",
                ) from None
            return None
        return self.config.epochs * math.ceil(batches / self.config.accumulate)

    def start(self) -> None:
        self.dist.broadcast_parameters(self.model)

    def restore(self) -> None:
        if self.source_run is None:
            raise ConfigError("resume needs a run directory", key="resume")
        loaded = ckpt.load_checkpoint(
            self.source_run.checkpoint_dir,
            model=self.model,
            optimizer=self.optimizer,
            scheduler=self.schedule,
        )
        tensors = {k: v.to(self.device) for k, v in loaded.tensors.items()}
        try:
            self._restore_trainer_state(loaded.progress["trainer"], tensors, loaded.tensors)
        except (KeyError, TypeError, ValueError) as exc:
            problem = f"missing key {exc}" if isinstance(exc, KeyError) else str(exc)
            raise ckpt.CheckpointError(
                f"malformed trainer state: {problem}", path=loaded.path / "progress.json"
            ) from None
        best = {k.removeprefix("best."): v for k, v in tensors.items() if k.startswith("best.")}
        self.best_weights = best or None
        if self.run is not None:
            self.run.truncate_metrics(after_step=self.step)

    def _restore_trainer_state(
        self,
        state: dict[str, Any],
        tensors: dict[str, torch.Tensor],
        saved: dict[str, torch.Tensor],
    ) -> None:
        """The loop's counters, history and carried state from a checkpoint's ``trainer``
        record (``tensors`` on this device, ``saved`` as loaded).

        Raises:
            KeyError, TypeError, ValueError: The record is incomplete or of the wrong types.
        """
        for name in ("epoch", "batch", "step", "bad_epochs"):
            if type(state[name]) is not int or state[name] < 0:
                raise ValueError(f"trainer.{name}: expected an int >= 0, got {state[name]!r}")
        seconds = state["train_time"]
        if type(seconds) not in (int, float) or not seconds >= 0:
            raise ValueError(f"trainer.train_time: expected seconds >= 0, got {seconds!r}")
        self.epoch, self.batch_in_epoch, self.step = state["epoch"], state["batch"], state["step"]
        self.train_time, self.bad_epochs = state["train_time"], state["bad_epochs"]
        self.best_metric, self.best_epoch = state["best_metric"], state["best_epoch"]
        self.history = state["history"]
        self.sums = _EpochSums(**state["sums"])
        self.carry = unflatten(tensors, state["carry"], "trainer.carry")
        self._restore_rank_state(state, saved)

    # --- the loop -----------------------------------------------------------------------

    def train(self) -> FitResult:
        stop_reason = "completed"
        with _sigint_sets_flag(self):
            while self.epoch < self.config.epochs:
                stop_reason = self._run_epoch() or self._end_epoch() or self._should_stop()
                if stop_reason:
                    break
            stop_reason = stop_reason or "completed"
        partial = None
        if stop_reason in ("max_steps", "max_time", "interrupted") and self.batch_in_epoch:
            # Stopped mid-epoch: evaluate what we have so the result is usable, and checkpoint
            # the exact position so --resume continues from here.
            self._flush_records()
            self._save_checkpoint()
            if stop_reason != "interrupted":
                partial = self._validate_partial()
        self._finish()
        if self.run is not None:
            self.run.log_metrics(
                {
                    "kind": "end",
                    "step": self.step,
                    "epoch": self.epoch,
                    "stop_reason": stop_reason,
                    "train_time": self.train_time,
                    "best_metric": self.best_metric,
                    "best_epoch": self.best_epoch,
                }
            )
        return FitResult(
            stop_reason=stop_reason,
            best_metric=self.best_metric,
            best_epoch=self.best_epoch,
            epochs=len(self.history),
            steps=self.step,
            train_time=self.train_time,
            history=self.history,
            partial=partial,
        )

    def _run_epoch(self) -> str | None:
        """Trains one epoch (or the rest of it); returns why it stopped early, if it did."""
        data = _epoch_batches(self.train_data, self.epoch)
        total = _length(data)
        batches = iter(data)
        steps_in_epoch = None if total is None else math.ceil(total / self.config.accumulate)
        self.progress.start_epoch(self.epoch, self.config.epochs, steps_in_epoch)
        # Resuming mid-epoch: skip the batches already trained on (the order is a pure
        # function of the epoch, so these are the same batches).
        batches = islice(batches, self.batch_in_epoch, None)
        window = _Window()
        for group in _groups(batches, self.config.accumulate):
            # Checked before each step (not after), so a stop that falls on the epoch's last
            # step lets the epoch end normally.
            reason = self._should_stop()
            if reason:
                return reason
            tic = time.perf_counter()
            grad_norm, loss_sum, items = self._optimizer_step(group)
            elapsed = time.perf_counter() - tic
            self.train_time += elapsed
            window.add(loss_sum, items, elapsed)
            self._after_step(grad_norm, loss_sum, items, len(group), window)
        return None

    def _optimizer_step(self, group: list[Any]) -> tuple[float, float, int]:
        """One optimiser step over a group of mini-batches: (grad norm, loss sum, items)."""
        self.optimizer.zero_grad(set_to_none=True)
        items, loss_sum = 0, 0.0
        for batch in group:
            batch = self.dist.shard(tree_map(self._to_device, batch))
            if not has_rows(batch):
                continue  # a small last batch left this rank nothing: it adds 0 items
            with self._autocast():
                out = self.objective.loss(self.model, batch, self.carry)
            loss = out.loss
            if not self.dist.enabled and not torch.isfinite(loss.detach()):
                raise self._diverged(f"the loss is {float(loss.detach())}")
            # δ = (1/M) Σ_k δ_k over the M accumulated mini-batches.
            (loss / len(group)).backward()
            self.carry = detach_state(out.state) if out.state is not None else None
            items += out.count
            loss_sum += float(loss.detach()) * out.count
        self.dist.average_gradients(self.model, items)
        grad_norm = clip_gradients(
            self.params, max_norm=self.config.clip_norm, max_value=self.config.clip_value
        )
        if not math.isfinite(grad_norm):
            raise self._diverged(f"the gradient norm is {grad_norm}")
        self.optimizer.step()
        self.schedule.after_step()
        return grad_norm, loss_sum, items

    def _after_step(
        self, grad_norm: float, loss_sum: float, items: int, batches: int, window: _Window
    ) -> None:
        self.step += 1
        self.batch_in_epoch += batches
        clipped = self.config.clip_norm is not None and grad_norm > self.config.clip_norm
        self.sums.add(loss_sum, items, grad_norm, clipped)
        lr = self.optimizer.param_groups[0]["lr"]
        self.pending_records.append(
            {
                "kind": "step",
                "step": self.step,
                "epoch": self.epoch,
                "loss": loss_sum / max(items, 1),
                "items": items,
                "lr": lr,
                "grad_norm": grad_norm,
                "clipped": clipped,
            }
        )
        report = self.step % self.config.log_every == 0
        info = StepInfo(
            epoch=self.epoch,
            step=self.step,
            step_in_epoch=self.sums.steps,
            loss=window.mean_loss(),
            lr=lr,
            grad_norm=grad_norm,
            items_per_s=window.rate(),
        )
        self.progress.step(info, report)
        warning = self.grad_watch.add(grad_norm, self.step)
        if warning is not None:
            self.progress.warn(warning)
        if report:
            window.reset()
            self._flush_records()
        if self.config.checkpoint_every and self.step % self.config.checkpoint_every == 0:
            self._flush_records()
            self._save_checkpoint()

    def _should_stop(self) -> str | None:
        cfg = self.config
        reason = None
        if cfg.max_steps is not None and self.step >= cfg.max_steps:
            reason = "max_steps"
        elif self.max_seconds is not None and self.train_time >= self.max_seconds:
            reason = "max_time"
        elif self.interrupted:
            reason = "interrupted"
        if self.dist.any(reason is not None):
            return reason or "interrupted"
        return None

    def _end_epoch(self) -> str | None:
        """Validates, logs, keeps the best weights, checkpoints; returns a stop reason or None."""
        metrics = self._validate()
        record = {
            "kind": "epoch",
            "epoch": self.epoch,
            "step": self.step,
            "train_loss": self.sums.mean_loss(),
            **{f"val_{k}": v for k, v in metrics.items()},
            "lr": self.optimizer.param_groups[0]["lr"],
            "clipped_share": self.sums.clipped / max(self.sums.steps, 1),
            "grad_norm_mean": self.sums.grad_norm_sum / max(self.sums.steps, 1),
            "grad_norm_max": self.sums.grad_norm_max,
            "epoch_time": self.sums.seconds(self.train_time),
            "train_time": self.train_time,
        }
        improved = self._track_best(record)
        self.history.append(record)
        self.pending_records.append(record)
        self.progress.end_epoch(record)
        self.schedule.after_epoch(record.get(self.config.monitor))
        self.epoch += 1
        self.batch_in_epoch = 0
        self.sums = _EpochSums(start_time=self.train_time)
        self.carry = None
        self._flush_records()
        if improved and self.run is not None:
            self.run.save_model(self.model)
        self._save_checkpoint()
        if self.config.patience is not None and self.bad_epochs >= self.config.patience:
            return "early_stopping"
        return None

    def _track_best(self, record: dict[str, Any]) -> bool:
        if self.val_data is None:
            self.best_weights = None
            return True  # without validation, "best" is the latest
        value = record.get(self.config.monitor)
        if value is None:
            known = ", ".join(k for k in record if k.startswith("val_"))
            raise ConfigError(
                f"the objective reports no {self.config.monitor!r} (it reports {known})",
                key="monitor",
            )
        better = self.best_metric is None or (
            value < self.best_metric if self.config.mode == "min" else value > self.best_metric
        )
        if better:
            self.best_metric, self.best_epoch, self.bad_epochs = value, self.epoch, 0
            self.best_weights = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        else:
            self.bad_epochs += 1
        return better

    def _validate(self) -> dict[str, float]:
        if self.val_data is None:
            return {}
        self.model.eval()
        try:
            with torch.no_grad(), self._autocast():
                batches = (
                    tree_map(self._to_device, b) for b in _epoch_batches(self.val_data, self.epoch)
                )
                return {
                    k: float(v) for k, v in self.objective.evaluate(self.model, batches).items()
                }
        finally:
            self.model.train()

    def _validate_partial(self) -> dict[str, Any] | None:
        """After a mid-epoch stop: validate, and keep these weights if they are the best.

        Returns the validation record (None without validation data)."""
        record = {"kind": "partial", "epoch": self.epoch, "step": self.step}
        record.update({f"val_{k}": v for k, v in self._validate().items()})
        if self.val_data is not None and self._track_best(record) and self.run is not None:
            self.run.save_model(self.model)
        if self.run is not None:
            self.run.log_metrics(record)
        return record if self.val_data is not None else None

    def _finish(self) -> None:
        self._flush_records()
        if self.best_weights is not None:
            self.model.load_state_dict(self.best_weights)
        if self.run is not None:
            self.run.save_model(self.model)
            self.run.plot_loss_curve()

    # --- persistence --------------------------------------------------------------------

    def _flush_records(self) -> None:
        if self.run is not None:
            for record in self.pending_records:
                self.run.log_metrics(record)
        self.pending_records = []

    def _restore_rank_state(self, state: dict[str, Any], saved: dict[str, torch.Tensor]) -> None:
        """Ranks after 0 take back their own carried state and random streams.

        A checkpoint from another number of processes has no rows of this rank's: then every
        rank starts its next window from a zero state, and ranks after 0 draw fresh streams,
        so the run is close to, not exactly, one that never stopped.
        """
        if state.get("world_size", 1) != self.dist.world_size:
            self.carry = None
            if self.dist.rank > 0:
                seed_everything(hash((self.config.seed, self.dist.rank, self.step)) % 2**62)
            return
        if self.dist.rank == 0:
            return  # rank 0's state is the checkpoint's own
        prefix = f"rank{self.dist.rank}."
        mine = state["ranks"][str(self.dist.rank)]
        ours = {k: v for k, v in saved.items() if k.startswith(prefix)}
        self.carry = unflatten({k: v.to(self.device) for k, v in ours.items()}, mine["carry"])
        rng = {k.removeprefix(prefix + "rng."): v for k, v in ours.items() if ".rng." in k}
        assert self.source_run is not None  # restore() checked it
        path = self.source_run.checkpoint_dir
        ckpt.restore_rng_state(ckpt.parse_rng_state(rng, mine["rng"], path))

    def _rank_state(self) -> tuple[dict[str, torch.Tensor], Any, dict[str, Any]]:
        """This rank's carried state and RNG states, named ``rank<r>.carry.*``/``.rng.*``."""
        prefix = f"rank{self.dist.rank}"
        tensors, carry_spec = flatten(self.carry, f"{prefix}.carry")
        rng_tensors, rng_info = ckpt.capture_rng_state()
        tensors = {k: v.cpu() for k, v in tensors.items()}
        tensors.update({f"{prefix}.rng.{k}": v for k, v in rng_tensors.items()})
        return tensors, carry_spec, rng_info

    def _save_checkpoint(self) -> None:
        if not self.checkpointing:
            return
        # Under torchrun rank 0 writes, for every other rank too: its rows' carried state
        # and its random streams, so that --resume continues each rank exactly.
        others = self.dist.gather_to_main(self._rank_state()) if self.dist.enabled else None
        if self.run is None:
            return
        carry_tensors, carry_spec = flatten(self.carry, "carry")
        tensors = dict(carry_tensors)
        ranks = {}
        for rank, (rank_tensors, rank_carry, rank_rng) in enumerate(others or []):
            if rank > 0:
                tensors.update(rank_tensors)
                ranks[str(rank)] = {"carry": rank_carry, "rng": rank_rng}
        if self.best_weights is not None:
            tensors.update({f"best.{k}": v for k, v in self.best_weights.items()})
        trainer = {
            "epoch": self.epoch,
            "batch": self.batch_in_epoch,
            "step": self.step,
            "train_time": self.train_time,
            "bad_epochs": self.bad_epochs,
            "best_metric": self.best_metric,
            "best_epoch": self.best_epoch,
            "history": self.history,
            "sums": self.sums.as_dict(),
            "carry": carry_spec,
            "world_size": self.dist.world_size,
            "ranks": ranks,
        }
        ckpt.save_checkpoint(
            self.run.checkpoint_dir,
            model=self.model,
            optimizer=self.optimizer,
            scheduler=self.schedule,
            progress={"step": self.step, "epoch": self.epoch, "trainer": trainer},
            tensors={k: v.detach().cpu() for k, v in tensors.items()},
        )

    # --- helpers ------------------------------------------------------------------------

    def _to_device(self, tensor: torch.Tensor) -> torch.Tensor:
        return tensor.to(self.device, non_blocking=True)

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.config.bf16:
            return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _diverged(self, what: str) -> TrainingError:
        kept = (
            f"; the last good checkpoint is kept in {self.run.checkpoint_dir}"
            if self.run is not None
            else ""
        )
        return TrainingError(
            f"training diverged at step {self.step + 1} (epoch {self.epoch + 1}): {what}. "
            f"Lower the learning rate (now {self.optimizer.param_groups[0]['lr']:.3g}) or "
            f"clip the gradient norm (clip_norm={self.config.clip_norm}){kept}"
        )


@dataclass
class _EpochSums:
    """Running sums of the current epoch (checkpointed so a resumed epoch reports the same)."""

    loss_sum: float = 0.0
    count: int = 0
    steps: int = 0
    clipped: int = 0
    grad_norm_sum: float = 0.0
    grad_norm_max: float = 0.0
    start_time: float = 0.0

    def add(self, loss_sum: float, count: int, grad_norm: float, clipped: bool) -> None:
        self.loss_sum += loss_sum
        self.count += count
        self.steps += 1
        self.clipped += int(clipped)
        self.grad_norm_sum += grad_norm
        self.grad_norm_max = max(self.grad_norm_max, grad_norm)

    def mean_loss(self) -> float:
        return self.loss_sum / max(self.count, 1)

    def seconds(self, now: float) -> float:
        return now - self.start_time

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass
class _Window:
    """Loss and throughput since the last progress report."""

    loss_sum: float = 0.0
    items: int = 0
    seconds: float = 0.0

    def add(self, loss_sum: float, items: int, seconds: float) -> None:
        self.loss_sum += loss_sum
        self.items += items
        self.seconds += seconds

    def mean_loss(self) -> float:
        return self.loss_sum / max(self.items, 1)

    def rate(self) -> float:
        return self.items / self.seconds if self.seconds > 0 else 0.0

    def reset(self) -> None:
        self.loss_sum, self.items, self.seconds = 0.0, 0, 0.0


def _groups(batches: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Consecutive groups of ``size`` batches (the last one may be shorter)."""
    iterator = iter(batches)
    while group := list(islice(iterator, size)):
        yield group


def _length(batches: Iterable[Any]) -> int | None:
    try:
        return len(batches)  # type: ignore[arg-type]
    except TypeError:
        return None


@contextlib.contextmanager
def _sigint_sets_flag(trainer: _Trainer) -> Iterator[None]:
    """First Ctrl-C: finish the step, checkpoint, stop cleanly. Second: stop now."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        if trainer.interrupted:
            raise KeyboardInterrupt
        trainer.interrupted = True
        trainer.progress.warn("interrupted: saving a checkpoint at the end of this step")

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
