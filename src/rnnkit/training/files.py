"""Reading a run's files whole: only regular files, and only up to a size a run file can have.

A run directory may come from elsewhere, and its files are read whole (``config.json``,
``vocab.json``, the checkpoint's JSON, ``tokenizer.model``). A name that is a link to
``/dev/zero`` would be read forever, a FIFO would block the reader, and a file of gigabytes
would fill the memory before any check ran. So the file is checked before it is opened (a
FIFO is never opened), opened without blocking, checked again on the open descriptor (a file
swapped in between is caught), and read to at most its limit.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Protocol

__all__ = ["MAX_RUN_FILE", "check_run_file", "read_run_file"]

# A vocabulary of millions of words is tens of megabytes of JSON; nothing a run keeps and
# reads whole comes near this.
MAX_RUN_FILE = 1 << 30


class _ErrorType(Protocol):
    def __call__(
        self, problem: str, *, path: str | os.PathLike[str] | None = None
    ) -> Exception: ...


def read_run_file(path: Path, error: _ErrorType, limit: int = MAX_RUN_FILE) -> bytes:
    """The bytes of the run file ``path``.

    Args:
        path: The file (links are followed; what they point to must be a regular file).
        error: The exception type to raise, called as ``error(problem, path=path)``
            (``RunDirError``, ``CheckpointError``).
        limit: The most bytes the file may have.

    Raises:
        ``error``: The file is missing, unreadable, not a regular file, or too large.
    """
    try:
        _check(os.stat(path), path, error, limit)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise error("missing file", path=path) from None
    except PermissionError:
        raise error("cannot read: permission denied", path=path) from None
    except OSError as exc:
        raise error(f"cannot read: {exc.strerror or exc}", path=path) from None
    with os.fdopen(fd, "rb") as file:
        _check(os.fstat(fd), path, error, limit)
        data = file.read(limit + 1)
    if len(data) > limit:  # it grew after the check
        raise error(f"larger than a run file may be ({limit:,} bytes)", path=path)
    return data


def check_run_file(path: Path, error: _ErrorType) -> None:
    """Checks that ``path`` is a regular file a library may open (weights, which are read
    in place, of any size).

    Raises:
        ``error``: The file is missing, not a regular file, or cannot be examined.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise error("missing file", path=path) from None
    except OSError as exc:
        raise error(f"cannot read: {exc.strerror or exc}", path=path) from None
    _check(info, path, error, limit=None)


def _check(info: os.stat_result, path: Path, error: _ErrorType, limit: int | None) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise error("is a directory, expected a file", path=path)
    if not stat.S_ISREG(info.st_mode):
        raise error("not a regular file (a device, a pipe or a socket)", path=path)
    if limit is not None and info.st_size > limit:
        raise error(f"{info.st_size:,} bytes, larger than a run file may be ({limit:,})", path=path)
