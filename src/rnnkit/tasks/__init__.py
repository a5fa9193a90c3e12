"""One module per job (language modeling, classification, forecasting, ...).

Each task module turns a config into data, a model, a trained run directory and
predictions; the command line is a thin layer over these modules. A run directory's
``config.json`` names its task (``"task": "lm"``), and :func:`load` finds the module that
rebuilds it.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from typing import Any

from rnnkit.training.loop import resolve_device
from rnnkit.training.rundir import RunDir, RunDirError

__all__ = ["TASKS", "load"]

# task name (as written in config.json) -> module with a ``load(run: RunDir)`` function.
TASKS: dict[str, str] = {
    "lm": "rnnkit.tasks.language_modeling",
    "classify": "rnnkit.tasks.classification",
    "forecast": "rnnkit.tasks.forecasting",
}


def load(path: str | Path, device: str = "cpu") -> Any:
    """The trained task object of a run directory (its model, vocabulary or scaler, config).

    Nothing is unpickled: weights come from safetensors, everything else from JSON.

    Args:
        path: The run directory.
        device: Where the model runs: ``cpu`` (the default, wherever it was trained),
            ``cuda``, ``mps``, or ``auto`` (CUDA, then MPS, then the CPU).

    Raises:
        RunDirError: Not a run directory, or made by a task this rnnkit does not have.
        ConfigError: The device is not available on this machine.
    """
    run = RunDir.open(path)
    task = run.read_config().get("task")
    if task not in TASKS:
        known = ", ".join(sorted(TASKS)) or "none yet"
        raise RunDirError(
            f"{run.config_path}: task {task!r} is not one this rnnkit can load (known: {known})"
        )
    where = resolve_device(device)  # before reading the weights: a bad device fails fast
    loaded = import_module(TASKS[task]).load(run)
    loaded.model.to(where)
    return loaded
