"""Atomic file and directory writes: a crash never leaves a half-written file behind.

This module is at the bottom of rnnkit (it imports only the standard library), so every
layer that writes files, ``data`` and ``training`` alike, writes them the same way.

Every writer here follows the same protocol (DESIGN.md, "Runs, checkpoints, data"): write to a
temporary name in the *same* directory (so the final rename never crosses a file system),
flush and ``os.fsync`` the data, ``os.replace`` it over the final name (atomic on POSIX and
Windows), then fsync the directory so the rename itself survives a power loss. Readers see
either the old file or the new one, never a mix. On any exception the temporary file is
removed and the old file is left untouched.

Temporary names start with a dot and contain a random token (``.model.safetensors.1f2e3d4c.tmp``)
so they never collide with a real file or with another writer.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = atomic_write_json(Path(d) / "scaler.json", {"mean": 0.5, "max": float("inf")})
    ...     print(path.read_text(), end="")
    ...     sorted(p.name for p in Path(d).iterdir())  # no temporary file is left behind
    {
      "mean": 0.5,
      "max": Infinity
    }
    ['scaler.json']
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
import shutil
import stat
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "atomic_directory",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_lines",
    "atomic_write_text",
    "check_parents",
    "move_directory_into_place",
    "named",
    "replace_atomically",
]

# Directory fsync is a POSIX notion: Windows cannot open a directory as a file.
_CAN_FSYNC_DIRECTORIES = os.name == "posix"


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Writes ``data`` to ``path`` atomically (temp file, fsync, rename, directory fsync).

    Args:
        path: The file to create or replace. Its directory must exist.
        data: The complete new content.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> with tempfile.TemporaryDirectory() as d:
        ...     atomic_write_bytes(Path(d) / "blob.bin", b"\\x00\\x01").read_bytes()
        b'\\x00\\x01'
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"data: expected bytes, got {type(data).__name__}")

    def write(temp: Path) -> None:
        with open(temp, "wb") as file:
            file.write(data)

    return replace_atomically(Path(path), write)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Writes ``text`` (UTF-8, newlines as given) to ``path`` atomically.

    Args:
        path: The file to create or replace. Its directory must exist.
        text: The complete new content.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> with tempfile.TemporaryDirectory() as d:
        ...     atomic_write_text(Path(d) / "latest", "step-00000100\\n").read_text()
        'step-00000100\\n'
    """
    if not isinstance(text, str):
        raise TypeError(f"text: expected str, got {type(text).__name__}")
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_lines(path: str | os.PathLike[str], lines: Iterable[str]) -> Path:
    """Writes ``lines`` (each with its own line end) to ``path`` atomically, as UTF-8 with
    ``\n`` line ends, without holding the whole text in memory.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> with tempfile.TemporaryDirectory() as d:
        ...     atomic_write_lines(Path(d) / "w.txt", (f"{i}\\n" for i in range(3))).read_text()
        '0\\n1\\n2\\n'
    """

    def write(temp: Path) -> None:
        with open(temp, "w", encoding="utf-8", newline="\n") as file:
            file.writelines(lines)

    return replace_atomically(path, write)


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> Path:
    """Writes ``obj`` as JSON to ``path`` atomically.

    The layout is stable and diff-friendly: 2-space indent, keys in insertion order, non-ASCII
    kept as UTF-8, a trailing newline. Infinities and NaN are written as ``Infinity`` /
    ``NaN`` (Python's ``json`` reads them back) because real states contain them, e.g. the
    initial best metric of a reduce-on-plateau schedule.

    Args:
        path: The file to create or replace. Its directory must exist.
        obj: A JSON-serializable object.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        TypeError: ``obj`` is not JSON-serializable (nothing is written).

    Example:
        >>> import json, tempfile
        >>> from pathlib import Path
        >>> with tempfile.TemporaryDirectory() as d:
        ...     json.loads(atomic_write_json(Path(d) / "v.json", {"a": [1, 2]}).read_text())
        {'a': [1, 2]}
    """
    # Serialize first: a TypeError must not leave even a temporary file behind.
    text = json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=True) + "\n"
    return atomic_write_text(path, text)


@contextlib.contextmanager
def atomic_directory(final: str | os.PathLike[str]) -> Iterator[Path]:
    """Builds a directory under a temporary name and moves it into place on success.

    Yields a fresh, empty directory ``<final>.tmp-<random>`` next to ``final``. On a clean
    exit every file in it and the directory itself are fsynced, and it is renamed to ``final``.
    If ``final`` already exists it is replaced: ``final`` is renamed to
    ``<final>.old-<random>``, the new directory is renamed to ``final``, then the old one is
    deleted. On an exception the temporary directory is deleted and ``final`` is untouched.

    Crash windows (a rename is atomic, but two renames are not one): a crash before the rename
    leaves ``final`` as it was plus a stray ``*.tmp-*`` directory; when replacing, a crash
    between the two renames leaves *no* ``final``, the previous content complete under
    ``*.old-*`` and the new content complete under ``*.tmp-*``; a crash after the second rename
    leaves a stray ``*.old-*``. Callers that replace directories keep a pointer to the good one
    (the checkpoint ``latest`` file) and clean up stray names.

    Args:
        final: The directory to create or replace. Its parent must exist.

    Yields:
        The temporary directory to fill.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> with tempfile.TemporaryDirectory() as d:
        ...     with atomic_directory(Path(d) / "gen") as tmp:
        ...         _ = atomic_write_text(tmp / "a.txt", "1")
        ...     sorted(p.name for p in Path(d).iterdir()), (Path(d) / "gen" / "a.txt").read_text()
        (['gen'], '1')
    """
    final = Path(final)
    temp = _make_unique(final, "tmp", os.mkdir)
    try:
        yield temp
        move_directory_into_place(temp, final)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise


def move_directory_into_place(
    temp: str | os.PathLike[str], final: str | os.PathLike[str], *, replace: bool = True
) -> None:
    """Renames the finished directory ``temp`` to ``final``, after fsyncing every file in it.
    With ``replace``, an existing ``final`` is swapped out and deleted (the swap
    :func:`atomic_directory` makes, with the same crash windows); without, ``final`` may at
    most be an empty directory, and anything else there stays and makes it fail.

    Raises:
        OSError: A rename failed; ``final`` is as it was then (and ``temp`` is kept).
    """
    _fsync_tree(Path(temp))
    final = Path(final)
    if not replace or not final.exists():
        os.rename(temp, final)
        _fsync_directory(final.parent)
        return
    old = _make_unique(final, "old", lambda p: os.rename(final, p))
    try:
        os.rename(temp, final)
    except BaseException:
        os.rename(old, final)  # put the previous content back before giving up
        raise
    _fsync_directory(final.parent)
    shutil.rmtree(old, ignore_errors=True)


def check_parents(path: str | os.PathLike[str]) -> None:
    """Raises NotADirectoryError naming the first existing ancestor of ``path`` that is not a
    directory (``--out notes.txt/vectors.txt``), before any work whose result could not be
    written there; missing ancestors are fine (they will be created).

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> notes = Path(tempfile.mkdtemp()) / "notes.txt"
        >>> _ = notes.write_text("")
        >>> try:
        ...     check_parents(notes / "out" / "vectors.txt")
        ... except NotADirectoryError as err:
        ...     print(err.strerror, err.filename == str(notes))
        Not a directory (expected a folder for .../out/vectors.txt) True
    """
    path = Path(path)
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                where = f"expected a folder for .../{path.relative_to(parent)}"
                raise NotADirectoryError(errno.ENOTDIR, f"Not a directory ({where})", str(parent))
            return


# ---------------------------------------------------------------------------------------------
# Internals
# ---------------------------------------------------------------------------------------------


def replace_atomically(path: str | os.PathLike[str], write: Callable[[Path], None]) -> Path:
    """Runs ``write(temp)`` on a fresh temporary file next to ``path``, then fsyncs it and
    renames it over ``path``; if ``write`` raises (a failed check, say), the temporary file
    is removed and ``path`` is untouched. The building block of every writer here."""
    path = Path(path)
    try:
        temp = _make_unique(path, "tmp", _create_empty_file, hidden=True)
    except OSError as exc:  # a missing or read-only directory, a file where it should be
        raise _naming(exc, path) from exc
    try:
        mode = stat.S_IMODE(os.stat(temp).st_mode)
        write(temp)
        # A writer that makes its own file (safetensors does, 0o600) must not change who may
        # read the result: every file of a run gets the mode the umask gives.
        if stat.S_IMODE(os.stat(temp).st_mode) != mode:
            os.chmod(temp, mode)
        _fsync_file(temp)
        os.replace(temp, path)
    except OSError as exc:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        raise _naming(exc, path) from exc
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        raise
    _fsync_directory(path.parent)
    return path


def named(error: OSError, path: str | os.PathLike[str]) -> OSError:
    """``error`` itself when it names a file, else the same error naming ``path`` (a write to
    an open file that fails, for a full disk say, names none)."""
    return error if error.filename is not None else _naming(error, path)


def _naming(error: OSError, path: str | os.PathLike[str]) -> OSError:
    """``error`` as the same kind of error naming ``path``: the file the caller asked for,
    not the temporary one beside it, which is an implementation detail."""
    return type(error)(error.errno, error.strerror or str(error), os.fspath(path))


def _create_empty_file(path: Path) -> None:
    # O_EXCL: never reuse a name someone else holds; mode 0o666 lets the umask decide, as for
    # any ordinary file (tempfile.mkstemp would force 0o600).
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))


def _make_unique(
    final: Path, kind: str, create: Callable[[Path], None], hidden: bool = False
) -> Path:
    """Creates ``<final>.<kind>-<random>`` (or ``.<final>.<random>.<kind>``) with ``create``."""
    while True:
        token = secrets.token_hex(4)
        name = f".{final.name}.{token}.{kind}" if hidden else f"{final.name}.{kind}-{token}"
        candidate = final.with_name(name)
        try:
            create(candidate)
        except FileExistsError:
            continue  # 2**32 tokens: a collision is astronomically rare, but possible
        return candidate


def _fsync_tree(root: Path) -> None:
    """fsyncs every regular file under ``root``, then every directory, deepest first."""
    for dirpath, _, filenames in os.walk(root, topdown=False):
        for name in filenames:
            file = Path(dirpath, name)
            if file.is_file() and not file.is_symlink():
                _fsync_file(file)
        _fsync_directory(Path(dirpath))


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDWR)  # Windows needs a writable handle to flush
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_directory(directory: Path) -> None:
    if not _CAN_FSYNC_DIRECTORIES:
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems (e.g. certain network mounts) do not support it; best effort
    finally:
        os.close(fd)
