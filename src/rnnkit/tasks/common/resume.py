"""Resuming a run: its saved config, with only "how long and where" allowed to change."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rnnkit.config import ConfigError, apply_overrides
from rnnkit.tasks.common.job import Job
from rnnkit.tasks.common.runs import read_config
from rnnkit.training.rundir import RunDir

__all__ = ["RESUMABLE_CHANGES", "resume_config"]

# Fields a resumed run may change: how long and where it trains, not what it trains.
RESUMABLE_CHANGES = ("epochs", "max_time", "max_steps", "device", "log_every", "patience")


def resume_config(job: Job, run: RunDir, overrides: Sequence[str] = ()) -> Any:
    """The run's saved config (as ``job.config``) with ``train.<field>=value`` overrides of
    resumable fields.

    Raises:
        ConfigError: An override touches a field a resumed run must keep.
    """
    saved = read_config(job, run)
    for override in overrides:
        key = override.partition("=")[0].strip()
        if key.removeprefix("train.") not in RESUMABLE_CHANGES or not key.startswith("train."):
            raise ConfigError(
                "a resumed run keeps its config; only "
                + ", ".join(RESUMABLE_CHANGES)
                + " may change",
                key=key,
            )
    return apply_overrides(saved, overrides)
