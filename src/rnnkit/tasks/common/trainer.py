"""Training any job into a run directory: the skeleton every job's ``train`` runs.

1. The config a new run starts from (:meth:`Job.adopt`; the files it names made absolute,
   :mod:`~rnnkit.tasks.common.paths`), checked against the processes.
2. Rank 0 of a new run reads the data, fits the artifacts, and sets the run up in a staging
   directory beside ``out`` (config, artifacts, model, first weights, batches); only when all
   of that worked is it moved to ``out`` (replacing the old run with ``--overwrite``), so a
   failed start leaves nothing behind (:mod:`rnnkit.training.staging`). A resumed run, and
   every other rank of a data-parallel one (``torchrun``), waits for that (a barrier) and
   reads the artifacts back from the run, so every process has the very same ones
   (sentencepiece training and vocabulary order need not be reproducible across
   processes), then builds the model and its batches.
3. The process that writes the run holds its lock (:mod:`rnnkit.training.runlock`) from
   the staging directory's first file (or, resuming, before reading the checkpoint) to the
   end: a second writer gets a one-line error.
4. :func:`rnnkit.training.fit` (resuming from the last checkpoint when asked).
5. The task object; :meth:`Job.finish` on the process that writes the run.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from torch import nn

from rnnkit.config import ConfigError, to_dict
from rnnkit.tasks.common.job import FitPlan, Job, Notify, Prepared
from rnnkit.tasks.common.paths import absolute_paths
from rnnkit.tasks.common.runs import open_run
from rnnkit.training.distributed import DistributedContext, init_distributed
from rnnkit.training.loop import FitResult, fit, resolve_device, seed_everything
from rnnkit.training.progress import Progress
from rnnkit.training.rundir import RunDir, RunDirError
from rnnkit.training.runlock import RunLock
from rnnkit.training.staging import StagedRun

__all__ = ["train"]


def train(
    job: Job,
    config: Any,
    out: Path | str,
    *,
    overwrite: bool = False,
    resume: bool = False,
    progress: Progress | None = None,
    notify: Notify | None = None,
) -> tuple[Any, FitResult]:
    """Trains ``job`` with ``config`` into the run directory ``out``.

    With ``resume``, ``out`` is an existing run of the same kind and ``config`` its own (see
    :func:`rnnkit.tasks.common.resume.resume_config`): training continues from the last
    checkpoint with the run's artifacts.

    Under ``torchrun`` every process calls this; they train one model data-parallel, each on
    its rows of every batch, and rank 0 alone writes the run.

    Returns:
        The task object (best weights by ``config.train.monitor``) and the training result.

    Raises:
        RnnkitError: Bad data or config (a new run's directory is not created), a run of
            another kind to resume, or a checkpoint that does not fit.
    """
    context = init_distributed(resolve_device(config.train.device))
    _check_batch_size(config, context)
    lock = None
    try:
        if resume:
            open_run(out, job.name)  # a run of another kind is refused before anything is read
        else:
            config = job.adopt(absolute_paths(config))
        if context.is_main:
            try:
                if resume:
                    lock = RunLock.acquire(out)
                    RunDir(out).remove_leftovers()
                else:
                    run, lock, prepared, model, plan = _start(job, config, out, overwrite, notify)
            except BaseException:
                context.any(True)  # the other ranks must not wait for a run that never comes
                raise
        # Every rank learns whether rank 0 has the run ready (this is also the barrier).
        if context.any(False):
            raise RunDirError("rank 0 could not start the run; its error says why", path=out)
        if resume or not context.is_main:
            run = RunDir.open(out)
            prepared = job.prepare(config, job.read_artifacts(run, config))
            seed_everything(config.train.seed)
            model = job.build_model(config, prepared.artifacts)
            plan = job.plan(config, prepared, model, run, fresh=False, notify=notify)
        result = fit(
            model,
            plan.train,
            plan.valid,
            config.train,
            objective=plan.objective,
            run=run,
            resume=resume,
            progress=progress,
            lr_groups=plan.lr_groups,
            dist_context=context,
        )
        context.close()
        task = job.task(config, prepared.artifacts, model, run)
        if context.is_main:
            job.finish(task, prepared, run)
        return task, result
    finally:
        if lock is not None:
            lock.release()


def _start(
    job: Job, config: Any, out: Path | str, overwrite: bool, notify: Notify | None
) -> tuple[RunDir, RunLock, Prepared, nn.Module, FitPlan]:
    """A new run set up beside ``out`` (config, artifacts, model, first weights, batches) and
    moved there once all of it worked (:class:`~rnnkit.training.staging.StagedRun`): a
    start that fails leaves ``out`` as it was."""
    prepared = job.prepare(config, None)
    with StagedRun.begin(out, config=to_dict(config), overwrite=overwrite) as staged:
        job.save_artifacts(staged.run, prepared.artifacts)
        seed_everything(config.train.seed)
        model = _build(job, config, prepared)
        plan = job.plan(config, prepared, model, staged.run, fresh=True, notify=notify)
    assert staged.committed is not None
    run, lock = staged.committed
    return run, lock, prepared, model, plan


def _build(job: Job, config: Any, prepared: Prepared) -> nn.Module:
    """The new run's model, or a one-line error when its sizes do not fit in memory."""
    try:
        return job.build_model(config, prepared.artifacts)
    except (MemoryError, RuntimeError) as exc:
        # torch's CPU allocator says "can't allocate memory: you tried to allocate N bytes".
        if not isinstance(exc, MemoryError) and "allocate" not in str(exc):
            raise
        tried = re.search(r"allocate (\d+) bytes", str(exc))
        size = f" ({int(tried.group(1)) / 2**30:,.1f} GiB for one tensor)" if tried else ""
        raise ConfigError(
            f"the model does not fit in memory{size}; choose smaller sizes", key="model"
        ) from None


def _check_batch_size(config: Any, context: DistributedContext) -> None:
    batch_size = config.data.batch_size
    if batch_size < context.world_size:
        raise ConfigError(
            f"expected at least one example per process: batch_size is {batch_size} but "
            f"torchrun started {context.world_size} processes",
            key="data.batch_size",
        )
