"""Opening and loading a trained run of any job, with the run-kind check and the upgrade of
configs written by earlier versions.

Every verb that loads a run goes through :func:`load` (or :func:`open_run`) with the kind it
needs, so a run of another kind is a one-line error naming both kinds, never a traceback
from deep inside a task.
"""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path
from typing import Any

from torch import nn

from rnnkit.config import ConfigError, StackConfig, from_dict
from rnnkit.tasks.common.job import Job
from rnnkit.tasks.common.registry import job_named
from rnnkit.training.config import TrainConfig
from rnnkit.training.loop import resolve_device
from rnnkit.training.rundir import RunDir, RunDirError
from rnnkit.training.weights import CheckpointError

__all__ = ["WrongKindError", "load", "open_run", "read_config", "upgrade_config"]


class WrongKindError(RunDirError):
    """A run of one kind given where another is needed (``rnnkit lm score CLASSIFIER_RUN``)."""


def open_run(path: str | Path, kind: str | None = None) -> tuple[RunDir, Job]:
    """The run directory at ``path`` and the job that made it.

    Args:
        path: A run directory.
        kind: The run kind the caller needs (``"lm"``), or None for any.

    Raises:
        RunDirError: Not a run directory, or made by a job this rnnkit does not have.
        WrongKindError: The run is of another kind than ``kind``.
    """
    run = RunDir.open(path)
    found = run.read_config().get("task")
    job = job_named(found, where=run.config_path)
    if kind is not None and found != kind:
        wanted = job_named(kind)
        raise WrongKindError(
            f"{path} is a {job.title} run (kind {found!r}); this needs a {wanted.title} run "
            f"(kind {kind!r})"
        )
    return run, job


def read_config(job: Job, run: RunDir) -> Any:
    """The run's config as ``job.config``, upgraded from an earlier rnnkit's shape.

    Raises:
        RunDirError: ``config.json`` does not fit the job's config (the key is named).
    """
    raw = job.upgrade(upgrade_config(job.config, run.read_config()))
    try:
        return from_dict(job.config, raw)
    except ConfigError as err:
        raise RunDirError(
            f"does not read as a {job.title} config ({err}); if another rnnkit wrote it, "
            "train the run again with this one, or edit the file as the message says",
            path=run.config_path,
        ) from None


def load(path: str | Path, device: str = "cpu", *, kind: str | None = None) -> Any:
    """The trained task object of a run directory (its model, artifacts, config).

    Nothing is unpickled: weights come from safetensors, everything else from JSON.

    Args:
        path: The run directory.
        device: Where the model runs: ``cpu`` (the default, wherever it was trained),
            ``cuda``, ``mps``, or ``auto`` (CUDA, then MPS, then the CPU).
        kind: The run kind the caller needs, or None for any.

    Raises:
        RunDirError: Not a run directory, or made by a job this rnnkit does not have.
        WrongKindError: The run is of another kind than ``kind``.
        ConfigError: The device is not available on this machine.
    """
    run, job = open_run(path, kind)
    where = resolve_device(device)  # before reading the weights: a bad device fails fast
    config = read_config(job, run)
    artifacts = job.read_artifacts(run, config)
    model = job.build_model(config, artifacts)
    _load_weights(run, model)
    model.to(where)
    return job.task(config, artifacts, model, run)


def _load_weights(run: RunDir, model: nn.Module) -> None:
    """The run's weights into ``model``; a shape that does not fit also names the files the
    model's sizes came from (a vocabulary one word short shows as an embedding's shape)."""
    try:
        run.load_model(model)
    except CheckpointError as err:
        if "expected shape" not in err.problem:
            raise
        sources = sorted(
            p.name for p in run.path.iterdir() if p.suffix in (".json", ".model") and p.is_file()
        )
        raise CheckpointError(
            f"{err.problem}; the model's sizes come from {', '.join(sources)}: one of them does "
            "not belong with these weights",
            path=err.path,
        ) from None


def upgrade_config(cls: type, raw: dict[str, Any]) -> dict[str, Any]:
    """``raw`` (a ``config.json``) without what rnnkit 0.1.0 wrote that is no choice of the
    user's and no longer a field: the ``input_size`` of every recurrent stack (it is derived
    from the data and the model), and the truncated-BPTT fields of jobs that do not train on
    streams (they were accepted and ignored).

    Example:
        >>> from rnnkit.tasks.lm import LMConfig
        >>> old = {"task": "lm", "model": {"rnn": {"input_size": 8, "hidden_size": 4}}}
        >>> upgrade_config(LMConfig, old)["model"]["rnn"]
        {'hidden_size': 4}
    """
    return _drop_stale(cls, raw)


def _drop_stale(cls: type, raw: Any) -> Any:
    if not isinstance(raw, dict):
        return raw
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    out = {}
    for key, value in raw.items():
        if key not in names and _stale(cls, key):
            continue
        tp = hints.get(key)
        nested = isinstance(tp, type) and dataclasses.is_dataclass(tp)
        out[key] = _drop_stale(tp, value) if nested else value
    return out


def _stale(cls: type, key: str) -> bool:
    if key == "input_size":
        return issubclass(cls, StackConfig)
    return key in ("bptt", "bptt_stride") and issubclass(cls, TrainConfig)
