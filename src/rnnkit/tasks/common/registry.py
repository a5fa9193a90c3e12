"""Which jobs this rnnkit has: run kind -> :class:`~rnnkit.tasks.common.job.Job`.

The built-in jobs are named here by module and imported on first use, so loading a
classifier never imports the forecasting code, and the skeleton never imports a job
statically. :func:`register` adds a job declared elsewhere (a plug-in, a test's own job).
"""

from __future__ import annotations

from importlib import import_module

from rnnkit.tasks.common.job import Job
from rnnkit.training.rundir import RunDirError

__all__ = ["BUILTIN", "job_named", "kinds", "register"]

# run kind -> the module whose ``JOB`` declares it
BUILTIN: dict[str, str] = {
    "lm": "rnnkit.tasks.lm",
    "classify": "rnnkit.tasks.classify",
    "forecast": "rnnkit.tasks.forecast",
    "tag": "rnnkit.tasks.tag",
    "translate": "rnnkit.tasks.translate",
}
_REGISTERED: dict[str, Job] = {}


def register(job: Job) -> Job:
    """Makes ``job`` known to :func:`rnnkit.load` and the run-kind checks; returns it.

    Raises:
        ValueError: A different job already has its name.
    """
    known = _REGISTERED.get(job.name)
    if job.name in BUILTIN or (known is not None and type(known) is not type(job)):
        raise ValueError(f"a job named {job.name!r} exists already")
    _REGISTERED[job.name] = job
    return job


def kinds() -> list[str]:
    """Every run kind this rnnkit can load."""
    return sorted({*BUILTIN, *_REGISTERED})


def job_named(kind: object, *, where: object = None) -> Job:
    """The job of run kind ``kind``.

    Raises:
        RunDirError: No job has that name (``where`` names the file that said it).
    """
    if isinstance(kind, str) and kind in _REGISTERED:
        return _REGISTERED[kind]
    if isinstance(kind, str) and kind in BUILTIN:
        return import_module(BUILTIN[kind]).JOB
    known = ", ".join(kinds())
    prefix = f"{where}: " if where is not None else ""
    raise RunDirError(f"{prefix}task {kind!r} is not one this rnnkit can load (known: {known})")
