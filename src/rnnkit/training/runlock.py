"""One writer per run directory: an exclusive lock the operating system drops with its process.

Training (new, resumed or replacing a run) holds an exclusive ``flock`` on ``<run>/.lock``
from the moment it decides to write into the directory until it ends. A second process that
wants to write the same run (``--resume`` twice, ``--overwrite`` of a live run, two new runs
racing for one ``--out``) fails at once with one line naming the holder's pid. The lock is
tied to the open file, so a killed process (SIGKILL included) never leaves a stale lock
behind: the file stays, the lock goes. Readers (``eval``, ``predict``, ``info``) take no lock.

Where the platform has no ``fcntl`` (Windows), nothing is locked.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from types import TracebackType

from rnnkit.config import RnnkitError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["LOCK_NAME", "RunLock", "RunLockedError"]

LOCK_NAME = ".lock"


class RunLockedError(RnnkitError):
    """Another process is writing the run directory ``path``."""

    def __init__(self, problem: str, *, path: Path) -> None:
        super().__init__(f"{os.fspath(path)}: {problem}")
        self.path = path
        self.problem = problem


class RunLock:
    """The held lock on one run directory; :meth:`acquire` gets it, :meth:`release` (or the
    end of a ``with`` block, or of the process) lets it go."""

    def __init__(self, directory: Path, fd: int | None) -> None:
        self.directory = directory
        self._fd = fd

    @classmethod
    def acquire(cls, directory: str | os.PathLike[str]) -> RunLock:
        """Locks ``directory`` (which must exist) for this process.

        Raises:
            RunLockedError: Another process holds the lock (its pid is named when known).
        """
        directory = Path(directory)
        if fcntl is None:  # pragma: no cover - Windows
            return cls(directory, None)
        path = directory / LOCK_NAME
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            who = f"another process (pid {holder})" if holder else "another process"
            raise RunLockedError(
                f"{who} is writing this run; wait for it to finish or choose another --out",
                path=directory,
            ) from None
        except BaseException:
            os.close(fd)
            raise
        _write_pid(fd)
        return cls(directory, fd)

    def release(self) -> None:
        """Lets the lock go (the file stays: removing it could let two lockers in at once)."""
        if self._fd is not None:
            os.close(self._fd)  # closing the file drops the flock
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None or fcntl is None

    def __enter__(self) -> RunLock:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.release()


def _write_pid(fd: int) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)


def _read_pid(fd: int) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        return int(os.pread(fd, 32, 0).decode("ascii").strip())
    return None
