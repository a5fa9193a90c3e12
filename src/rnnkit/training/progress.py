"""What a user sees while :func:`fit` runs: a progress bar on a terminal, log lines elsewhere.

The library never writes to the terminal by itself: the command line (or a notebook) builds a
reporter with the stream to write to and hands it to ``fit``. On a terminal, a tqdm bar shows
loss, tokens/s, the gradient norm and the ETA; when the stream is not a terminal (CI, a log
file), one plain line every ``log_every`` steps says the same. Warnings (``warn``), such as
exploding or vanishing gradient norms (:mod:`rnnkit.training.grad_health`, shown once each),
appear as ``warning: ...`` lines in both.
"""

from __future__ import annotations

from typing import IO, Any, Literal, NamedTuple

from tqdm import tqdm

__all__ = ["BarProgress", "LogProgress", "Progress", "StepInfo", "make_progress"]


class StepInfo(NamedTuple):
    """One optimiser step, as reported to the progress display.

    Attributes:
        epoch: 0-based epoch.
        step: Optimiser steps so far (global, 1-based after the first).
        step_in_epoch: Optimiser steps so far in this epoch.
        loss: Mean training loss since the last report.
        lr: Current learning rate.
        grad_norm: Pre-clip global gradient norm of this step.
        items_per_s: Throughput (tokens or examples per second) since the last report.
    """

    epoch: int
    step: int
    step_in_epoch: int
    loss: float
    lr: float
    grad_norm: float
    items_per_s: float


class Progress:
    """Does nothing; the base of the reporters (and what ``fit`` uses without one)."""

    def start_epoch(self, epoch: int, epochs: int, total_steps: int | None) -> None:
        """An epoch begins; ``total_steps`` is None when the batch count is unknown."""

    def step(self, info: StepInfo, report: bool) -> None:
        """An optimiser step ended; ``report`` is True every ``log_every`` steps."""

    def end_epoch(self, record: dict[str, Any]) -> None:
        """An epoch ended with validation: ``record`` is its metrics-log record."""

    def warn(self, message: str) -> None:
        """Something the user should know now (e.g. exploding gradient norms)."""

    def close(self) -> None:
        """Training ended (normally or not)."""


def _epoch_summary(record: dict[str, Any]) -> str:
    parts = [f"epoch {record['epoch'] + 1}"]
    for key, value in record.items():
        if key.startswith("val_") or key in ("train_loss", "clipped_share"):
            parts.append(f"{key} {value:.4g}" if isinstance(value, float) else f"{key} {value}")
    parts.append(f"lr {record['lr']:.3g}")
    parts.append(f"{record['epoch_time']:.1f}s")
    return "  ".join(parts)


def _step_line(info: StepInfo) -> str:
    return (
        f"epoch {info.epoch + 1} step {info.step_in_epoch}  loss {info.loss:.4f}  "
        f"lr {info.lr:.3g}  grad {info.grad_norm:.3g}  {info.items_per_s:,.0f}/s"
    )


class LogProgress(Progress):
    """One plain line per report to ``stream`` (for logs and CI, where a bar is noise)."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.total: int | None = None

    def start_epoch(self, epoch: int, epochs: int, total_steps: int | None) -> None:
        self.total = total_steps

    def step(self, info: StepInfo, report: bool) -> None:
        if report:
            of = f"/{self.total}" if self.total else ""
            line = _step_line(info).replace(
                f"step {info.step_in_epoch}", f"step {info.step_in_epoch}{of}"
            )
            self._write(line)

    def end_epoch(self, record: dict[str, Any]) -> None:
        self._write(_epoch_summary(record))

    def warn(self, message: str) -> None:
        self._write(f"warning: {message}")

    def _write(self, line: str) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()


class BarProgress(Progress):
    """A tqdm bar per epoch with loss, throughput, gradient norm and ETA."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.bar: tqdm | None = None

    def start_epoch(self, epoch: int, epochs: int, total_steps: int | None) -> None:
        self.close()
        self.bar = tqdm(
            total=total_steps,
            desc=f"epoch {epoch + 1}/{epochs}",
            file=self.stream,
            unit="step",
            dynamic_ncols=True,
            leave=False,
        )

    def step(self, info: StepInfo, report: bool) -> None:
        if self.bar is None:
            return
        self.bar.update(1)
        if report:
            self.bar.set_postfix(
                loss=f"{info.loss:.4f}",
                lr=f"{info.lr:.3g}",
                grad=f"{info.grad_norm:.3g}",
                rate=f"{info.items_per_s:,.0f}/s",
                refresh=True,
            )

    def end_epoch(self, record: dict[str, Any]) -> None:
        self.close()
        tqdm.write(_epoch_summary(record), file=self.stream)

    def warn(self, message: str) -> None:
        tqdm.write(f"warning: {message}", file=self.stream)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def make_progress(kind: Literal["auto", "bar", "log", "none"], stream: IO[str]) -> Progress:
    """A reporter writing to ``stream``: ``auto`` is a bar on a terminal, log lines otherwise.

    Example:
        >>> import io
        >>> type(make_progress("auto", io.StringIO())).__name__
        'LogProgress'
    """
    if kind == "none":
        return Progress()
    if kind == "bar" or (kind == "auto" and stream.isatty()):
        return BarProgress(stream)
    return LogProgress(stream)
