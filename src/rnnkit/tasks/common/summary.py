"""The train summary every job prints: the same keys, the same numbering, from ``FitResult``.

``best_epoch`` counts from 1 everywhere (as the text says "epoch 3"); ``best`` is the
monitored validation metric of the weights that were kept, read from :class:`FitResult`
(never recomputed with another metric), and ``validation`` is every validation metric of
that same record. What only one job knows goes under ``details``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from torch import nn

from rnnkit.tasks.common.job import Job
from rnnkit.training.loop import FitResult

__all__ = ["SUMMARY_KEYS", "best_record", "describe_summary", "train_summary"]

SUMMARY_KEYS = (
    "type",
    "task",
    "run",
    "stop_reason",
    "epochs",
    "steps",
    "train_time",
    "parameters",
    "device",
    "monitor",
    "best",
    "best_epoch",
    "validation",
    "plot",
    "details",
)


def best_record(result: FitResult, monitor: str) -> dict[str, Any] | None:
    """The validation record whose weights ``fit`` kept: the epoch (or the mid-epoch stop)
    where ``monitor`` reached ``result.best_metric``; None without validation."""
    if result.best_epoch is None or result.best_metric is None:
        return None
    for record in reversed(result.validations()):
        if record.get("epoch") == result.best_epoch and record.get(monitor) == result.best_metric:
            return record
    return None


def train_summary(job: Job, task: Any, result: FitResult, out: Path | str) -> dict[str, Any]:
    """The summary of a finished training (JSON-able; keys :data:`SUMMARY_KEYS`)."""
    model: nn.Module = task.model
    monitor = task.config.train.monitor
    record = best_record(result, monitor)
    plot = Path(out) / "loss.png"
    return {
        "type": "summary",
        "task": job.name,
        "run": str(out),
        "stop_reason": result.stop_reason,
        "epochs": result.epochs,
        "steps": result.steps,
        "train_time": result.train_time,
        "parameters": sum(p.numel() for p in model.parameters()),
        "device": str(next(model.parameters()).device),
        "monitor": monitor,
        "best": result.best_metric,
        "best_epoch": None if record is None else record["epoch"] + 1,
        "validation": {}
        if record is None
        else {k.removeprefix("val_"): v for k, v in record.items() if k.startswith("val_")},
        "plot": str(plot) if plot.exists() else None,
        "details": job.details(task, result),
    }


def describe_summary(job: Job, summary: Mapping[str, Any]) -> list[str]:
    """The summary as the lines ``train`` prints."""
    lines = [
        f"trained {summary['parameters']:,} parameters for {summary['steps']} steps in "
        f"{summary['train_time']:.0f}s on {summary['device']} ({summary['stop_reason']})"
    ]
    lines += job.describe(summary)
    if summary["best_epoch"] is not None:
        others = ", ".join(
            f"{name} {value:.4g}"
            for name, value in summary["validation"].items()
            if f"val_{name}" != summary["monitor"]
        )
        lines.append(
            f"best {summary['monitor']} {summary['best']:.4f} at epoch {summary['best_epoch']}"
            + (f" ({others})" if others else "")
        )
    if summary["plot"]:
        lines.append(f"loss curve: {summary['plot']}")
    lines.append(f"run directory: {summary['run']}")
    return lines
