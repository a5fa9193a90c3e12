"""What ``rnnkit info RUN`` reports: a run directory summarised from its files alone.

Nothing is executed or unpickled: the config is JSON, the parameter count comes from the
safetensors header (shapes, without reading the weights), and the rest from
``metrics.jsonl``.
"""

from __future__ import annotations

import math
import statistics
from pathlib import Path
from typing import Any

from rnnkit.training.files import check_run_file
from rnnkit.training.grad_health import gradient_warning
from rnnkit.training.rundir import RunDir, RunDirError

__all__ = ["parameter_count", "summarize_run"]


def parameter_count(path: Path) -> int:
    """Scalars stored in a ``.safetensors`` file, read from its header only.

    Raises:
        RunDirError: The file is missing, not a regular file, or not valid safetensors.
    """
    from safetensors import SafetensorError, safe_open

    if not path.exists():
        raise RunDirError("missing (the run has not saved weights yet)", path=path)
    check_run_file(path, RunDirError)
    try:
        # safe_open reads and checks the header (its length against the file's, its JSON)
        # and maps the rest without reading it.
        with safe_open(path, framework="numpy") as f:
            return sum(math.prod(f.get_slice(key).get_shape()) for key in f.keys())  # noqa: SIM118
    except (SafetensorError, OSError, ValueError) as err:
        raise RunDirError(f"not a valid safetensors file ({err})", path=path) from None


def summarize_run(path: Path | str) -> dict[str, Any]:
    """Config, size, best metrics, training time and gradient-norm summary of a run.

    Returns:
        A JSON-ready dict: ``path``, ``task``, ``config``, ``parameters`` (None when no
        weights are saved yet), ``epochs``, ``steps``, ``train_time``, ``best`` (the epoch
        record with the best monitored value, or the last one), ``last``, ``grad_norm``
        (``median``, ``p99``, ``max``, ``clipped_share`` over all steps), ``grad_warning``
        (exploding or vanishing norms with the remedy, see
        :mod:`rnnkit.training.grad_health`; None when the norms look healthy), ``stop_reason``
        (why the last training stopped; None if it did not finish), ``complete`` (all
        epochs done).

    Raises:
        RunDirError: Not a run directory, or a file in it is unreadable.
    """
    run = RunDir.open(path)
    config = run.read_config()
    records = run.read_metrics()
    epochs = [r for r in records if r.get("kind") == "epoch"]
    steps = [r for r in records if r.get("kind") == "step"]
    ends = [r for r in records if r.get("kind") == "end"]
    train = config.get("train", {})
    monitor, mode = train.get("monitor", "val_loss"), train.get("mode", "min")
    scored = [r for r in epochs if isinstance(r.get(monitor), int | float)]
    if scored:
        pick = min if mode == "min" else max
        best = pick(scored, key=lambda r: r[monitor])
    else:
        best = epochs[-1] if epochs else None
    return {
        "path": str(run.path),
        "task": config.get("task"),
        "config": config,
        "parameters": parameter_count(run.model_path) if run.model_path.exists() else None,
        "epochs": len(epochs),
        "steps": steps[-1]["step"] if steps else 0,
        "train_time": ends[-1]["train_time"] if ends else _last_train_time(epochs),
        "monitor": monitor,
        "best": best,
        "last": epochs[-1] if epochs else None,
        "grad_norm": _grad_norm_summary(steps),
        "grad_warning": _grad_warning(steps),
        # None while training runs (or after a crash): the last fit did not finish.
        "stop_reason": ends[-1]["stop_reason"]
        if ends and ends[-1]["step"] == _last_step(records)
        else None,
        "complete": bool(epochs) and len(epochs) >= int(train.get("epochs", 0) or 0),
    }


def _last_train_time(epochs: list[dict[str, Any]]) -> float | None:
    return epochs[-1].get("train_time") if epochs else None


def _last_step(records: list[dict[str, Any]]) -> int:
    return max((r.get("step", 0) for r in records), default=0)


def _grad_warning(steps: list[dict[str, Any]]) -> str | None:
    recorded = [r for r in steps if isinstance(r.get("grad_norm"), int | float)]
    return gradient_warning([r["grad_norm"] for r in recorded], [r["step"] for r in recorded])


def _grad_norm_summary(steps: list[dict[str, Any]]) -> dict[str, float] | None:
    norms = sorted(r["grad_norm"] for r in steps if "grad_norm" in r)
    if not norms:
        return None
    clipped = sum(1 for r in steps if r.get("clipped"))
    return {
        "median": statistics.median(norms),
        "p99": norms[min(len(norms) - 1, int(0.99 * len(norms)))],
        "max": norms[-1],
        "clipped_share": clipped / len(steps),
    }
