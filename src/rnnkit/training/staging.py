"""A new run is built beside its final place and moved there only when it can start.

Training a new run writes its config and artifacts, builds the model and plans the batches
before the first step; any of that can fail (a vocabulary too small for the adaptive
softmax's cut-offs, a batch larger than the data, a model too big for memory). So all of it
happens in a hidden staging directory next to ``--out`` (``.<name>.new-<random>``), locked
(:mod:`rnnkit.training.runlock`) from its first file. Only when it is complete is it moved to
``--out``, replacing the old run with ``--overwrite`` (two renames, the window of
:func:`rnnkit.atomic.move_directory_into_place`). A failed start removes the staging
directory (and the parents it created): the old run, or nothing, is left, and the same
command can be run again.

An existing ``--out`` is replaced only with ``--overwrite`` and only when it is a run, or
without it when it is the stub of a start that failed before this (a ``config.json`` but
no checkpoint and no weights); in both cases only when no other process holds its lock (a
live run is never replaced).
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from rnnkit.atomic import move_directory_into_place
from rnnkit.training.rundir import RunDir, RunDirError
from rnnkit.training.runlock import RunLock

__all__ = ["StagedRun"]


class StagedRun:
    """A run being set up for ``final``; use it as a context manager around the set-up::

        with StagedRun.begin(out, config=config, overwrite=overwrite) as staged:
            job.save_artifacts(staged.run, artifacts)  # ...and build, plan
        run, lock = staged.committed

    A clean exit from the block moves the run into place (its lock still held, now the
    caller's to release); an exception removes it and leaves ``final`` as it was.
    """

    def __init__(self, final: Path, run: RunDir, lock: RunLock, *, replaces: RunLock | None):
        self.final = final
        self.run = run
        self._lock = lock
        self._replaces = replaces
        self._created: list[Path] = []
        self.committed: tuple[RunDir, RunLock] | None = None

    @classmethod
    def begin(
        cls, final: str | os.PathLike[str], *, config: Mapping[str, Any], overwrite: bool = False
    ) -> StagedRun:
        """Checks that ``final`` may receive a new run, locks what it would replace, and creates
        the locked staging directory with ``config.json``.

        Raises:
            RunDirError: ``final`` holds a run and ``overwrite`` is False, or is not a run
                directory, or is a file.
            RunLockedError: Another process is writing the run ``final`` holds.
        """
        final = Path(final)
        replaces = RunDir.check_new(final, overwrite=overwrite)
        created = _make_parents(final)
        old_lock = RunLock.acquire(final) if replaces else None
        staging = final.with_name(f".{final.name}.new-{secrets.token_hex(4)}")
        try:
            staging.mkdir()
            lock = RunLock.acquire(staging)
            staged = cls(final, RunDir(staging), lock, replaces=old_lock)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            _remove_empty(created)
            if old_lock is not None:
                old_lock.release()
            raise
        staged._created = created
        try:
            RunDir.create(staging, config=config)
        except BaseException:
            staged.discard()
            raise
        return staged

    def commit(self) -> tuple[RunDir, RunLock]:
        """Moves the staged run to ``final``; returns it and its (held) lock.

        Raises:
            RunDirError: ``final`` became a run meanwhile (another process created it).
        """
        staging = self.run.path
        if self._replaces is None and _non_empty(self.final):
            raise RunDirError(_TAKEN, path=self.final)
        try:  # without a run to replace, a run another process made meanwhile stays
            move_directory_into_place(staging, self.final, replace=self._replaces is not None)
        except OSError as exc:
            raise RunDirError(f"{_TAKEN} ({exc.strerror})", path=self.final) from None
        if self._replaces is not None:
            self._replaces.release()  # the old run's lock, on the old (now deleted) directory
        self._lock.directory = self.final
        self.committed = (RunDir(self.final), self._lock)
        return self.committed

    def discard(self) -> None:
        """Removes the staging directory and the parents it created; releases the locks."""
        shutil.rmtree(self.run.path, ignore_errors=True)
        self._lock.release()
        if self._replaces is not None:
            self._replaces.release()
        _remove_empty(self._created)

    def __enter__(self) -> StagedRun:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if error is not None:
            self.discard()
            return
        try:
            self.commit()
        except BaseException:
            self.discard()
            raise


_TAKEN = (
    "another process created a run directory here while this one was being set up; "
    "choose another --out"
)


def _non_empty(path: Path) -> bool:
    return path.is_dir() and any(path.iterdir())


def _make_parents(final: Path) -> list[Path]:
    """Creates the missing parents of the run directory ``final``; returns those it created,
    deepest first (to remove them again if the run never starts).

    Raises:
        RunDirError: A parent that exists is not a directory (``--out notes.txt/run``).
    """
    missing = []
    for path in final.parents:
        if path.exists():
            if not path.is_dir():
                raise RunDirError(f"cannot create it: {path} is not a directory", path=final)
            break
        missing.append(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    return missing


def _remove_empty(directories: list[Path]) -> None:
    for path in directories:
        try:
            path.rmdir()
        except OSError:
            return
