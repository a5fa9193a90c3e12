"""Whether a compiled library found in the cache may be loaded.

Loading a shared library runs its code (its constructors run inside ``dlopen``), so a file is
not trusted for its name. A library is loaded only when:

- its directory belongs to this user and no one else may write to it (a directory of ours
  that others may write to is tightened; one of another user's is not used at all);
- the file is a regular file (not a link) of this user's that no one else may write to;
- its SHA-256 equals the digest recorded beside it (``<library>.sha256``, written when this
  user built it, under the same two rules), so a truncated, swapped or half-copied file is
  rebuilt rather than loaded.

Each check returns None when it passes, else the reason in a few words (for ``status``).
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from pathlib import Path

__all__ = ["check_directory", "check_library", "digest_path", "record_digest"]

_OTHERS_WRITE = stat.S_IWGRP | stat.S_IWOTH


def check_directory(path: Path) -> str | None:
    """None when ``path`` is this user's directory and only this user may write to it;
    removes group and other write permission from a directory of ours that has it."""
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode):
        return f"{path} is not a directory"
    if not _ours(info):
        return f"{path} belongs to another user"
    if info.st_mode & _OTHERS_WRITE:
        os.chmod(path, stat.S_IMODE(info.st_mode) & ~_OTHERS_WRITE)
    return None


def check_library(path: Path) -> str | None:
    """None when ``path`` may be loaded (see the module docstring), else why not."""
    problem = _check_file(path)
    if problem is not None:
        return problem
    recorded = digest_path(path)
    if not os.path.lexists(recorded):
        return "no recorded digest"
    problem = _check_file(recorded)
    if problem is not None:
        return f"digest file: {problem}"
    try:
        expected = recorded.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return "unreadable digest"
    if _sha256(path) != expected:
        return "digest does not match"
    return None


def record_digest(library: Path, target: Path) -> None:
    """Records ``library``'s digest as that of ``target`` (the name it is about to take), and
    takes write permission on both from everyone but this user (whatever the umask)."""
    os.chmod(library, 0o755)
    # Written beside its final name and renamed, as the library is (cells may not use
    # rnnkit.atomic; a torn digest file would only mean a rebuild).
    fd, temp = tempfile.mkstemp(suffix=".sha256", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(_sha256(library) + "\n")
        os.chmod(temp, 0o644)
        os.replace(temp, digest_path(target))
    except BaseException:
        os.unlink(temp)
        raise


def digest_path(library: Path) -> Path:
    return library.with_name(library.name + ".sha256")


def _check_file(path: Path) -> str | None:
    info = os.lstat(path)
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file"
    if not _ours(info):
        return "owned by another user"
    if info.st_mode & _OTHERS_WRITE:
        return "writable by others"
    return None


def _ours(info: os.stat_result) -> bool:
    # No owners to compare where the platform has no user ids.
    return not hasattr(os, "getuid") or info.st_uid == os.getuid()


def _sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
