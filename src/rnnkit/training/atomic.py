"""Atomic file and directory writes: a crash never leaves a half-written file behind.

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
import json
import os
import secrets
import shutil
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import safetensors.torch
import torch

__all__ = [
    "atomic_directory",
    "atomic_save_safetensors",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
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

    return _replace_atomically(Path(path), write)


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


def atomic_save_safetensors(
    path: str | os.PathLike[str],
    tensors: Mapping[str, torch.Tensor],
    metadata: Mapping[str, str] | None = None,
) -> Path:
    """Saves ``tensors`` to a safetensors file at ``path`` atomically.

    safetensors refuses tensors that share memory and non-contiguous tensors; both are made
    safe here by copying (a tensor that shares storage with one already being saved is cloned),
    so callers may pass views or aliases of a model's parameters. Use
    :func:`rnnkit.training.checkpoint.save_model_weights` for a model: it stores a tied weight
    once instead of twice.

    Args:
        path: The file to create or replace. Its directory must exist.
        tensors: Name -> dense tensor (any device; written from CPU memory).
        metadata: Optional string -> string header metadata.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Example:
        >>> import tempfile, torch
        >>> from pathlib import Path
        >>> from safetensors.torch import load_file
        >>> w = torch.arange(6.0).reshape(2, 3)
        >>> with tempfile.TemporaryDirectory() as d:
        ...     p = atomic_save_safetensors(Path(d) / "t.safetensors", {"w": w, "wt": w.t()})
        ...     loaded = load_file(p)
        >>> torch.equal(loaded["wt"], w.t())
        True
    """
    prepared = _safetensors_ready(tensors)
    meta = _string_metadata(metadata)

    def write(temp: Path) -> None:
        safetensors.torch.save_file(prepared, temp, metadata=meta)

    return _replace_atomically(Path(path), write)


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
        _fsync_tree(temp)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    _move_directory_into_place(temp, final)


# ---------------------------------------------------------------------------------------------
# Internals
# ---------------------------------------------------------------------------------------------


def _replace_atomically(path: Path, write: Callable[[Path], None]) -> Path:
    """Runs ``write(temp)`` on a fresh temp file next to ``path``, then renames it over ``path``."""
    temp = _make_unique(path, "tmp", _create_empty_file, hidden=True)
    try:
        write(temp)
        _fsync_file(temp)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        raise
    _fsync_directory(path.parent)
    return path


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


def _move_directory_into_place(temp: Path, final: Path) -> None:
    if not final.exists():
        os.replace(temp, final)
        _fsync_directory(final.parent)
        return
    old = _make_unique(final, "old", lambda p: os.rename(final, p))
    try:
        os.rename(temp, final)
    except BaseException:
        os.rename(old, final)  # put the previous content back before giving up
        shutil.rmtree(temp, ignore_errors=True)
        raise
    _fsync_directory(final.parent)
    shutil.rmtree(old, ignore_errors=True)


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


def _safetensors_ready(tensors: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Dense, contiguous tensors with no two sharing storage (what safetensors accepts)."""
    if not isinstance(tensors, Mapping):
        raise TypeError(
            f"tensors: expected a mapping of str to Tensor, got {type(tensors).__name__}"
        )
    ready: dict[str, torch.Tensor] = {}
    seen_storages: set[tuple[torch.device, int]] = set()
    for name, tensor in tensors.items():
        if not isinstance(name, str):
            raise TypeError(f"tensors: keys must be str, got {name!r} ({type(name).__name__})")
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(f"tensors[{name!r}]: expected a Tensor, got {type(tensor).__name__}")
        tensor = tensor.detach()
        if tensor.layout != torch.strided:
            tensor = tensor.to_dense()
        storage = (tensor.device, tensor.untyped_storage().data_ptr())
        if storage in seen_storages and tensor.numel() > 0:
            tensor = tensor.clone()  # safetensors rejects aliases; a copy stores the same values
        else:
            seen_storages.add(storage)
        ready[name] = tensor.contiguous()
    return ready


def _string_metadata(metadata: Mapping[str, str] | None) -> dict[str, str] | None:
    if metadata is None:
        return None
    bad = [k for k, v in metadata.items() if not (isinstance(k, str) and isinstance(v, str))]
    if bad:
        raise TypeError(f"metadata: keys and values must be str, got a bad entry at {bad[0]!r}")
    return dict(metadata)
