"""The benchmark dataset registry: what each dataset is, where its files are, and their sha256.

The eleven datasets are those of the benchmark data README (``shared/data/README.md`` in this
checkout). Each :class:`DatasetSpec` names its task, source repository and commit, standard
split and metric, the parser its files need (``format``), and every file with its sha256 (of
the file as stored) and the canonical URL it comes from.

Files are looked up, in order, under each directory of ``$RNNKIT_DATA`` (``os.pathsep``
separated) and then the user cache directory (:func:`cache_dir`); see :func:`data_roots`.
:func:`download` fetches only absent files, only where the network is allowed
(``RNNKIT_OFFLINE=1`` forbids it), and keeps a file only when its sha256 matches.

Compressed files: the benchmark copy gzips text files over about 5 MB (``wiki.train.tokens.gz``)
while the upstream repositories hold them plain, so each ``.gz`` entry also records the sha256
of its decompressed bytes (``raw_sha256``). A download saves the decompressed file (the bytes
the URL serves) under the name without ``.gz``; lookup accepts either form, and the readers
open both (:func:`rnnkit.data.readers.open_text`).

Example:
    >>> spec = get_spec("ptb")
    >>> spec.format, spec.metric.split(" on ")[0]
    ('ptb-text', 'word-level perplexity')
    >>> [f.split for f in spec.files]
    ['train', 'valid', 'test']
    >>> spec.files[0].url.split("/")[3:5]
    ['wojzaremba', 'lstm']
"""

from __future__ import annotations

import difflib
import hashlib
import os
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Literal, NamedTuple

from rnnkit.atomic import replace_atomically
from rnnkit.data.datasets import REGISTRY, DatasetFile, DatasetSpec
from rnnkit.data.errors import DataError

__all__ = [
    "REGISTRY",
    "DatasetFile",
    "DatasetSpec",
    "DownloadResult",
    "VerifyResult",
    "cache_dir",
    "data_roots",
    "download",
    "get_spec",
    "local_files",
    "locate",
    "sha256_file",
    "verify",
]

_CHUNK = 1 << 20  # 1 MiB: hashing and download chunk
# Data files that ship inside the package (the demo's corpus, so `make demo` needs no data
# directory and no network), laid out as under a data root; searched after every root.
BUNDLED = Path(__file__).resolve().parent / "bundled"


class VerifyResult(NamedTuple):
    """The check of one dataset file: ``status`` is ``"ok"``, ``"missing"`` or ``"mismatch"``.

    ``path`` is where the file was found (None when missing), ``expected`` the sha256 the
    registry records for that form of the file, ``got`` the sha256 computed (None when
    missing).
    """

    file: DatasetFile
    path: Path | None
    status: Literal["ok", "missing", "mismatch"]
    expected: str
    got: str | None


class DownloadResult(NamedTuple):
    """One file after :func:`download`: ``status`` is ``"downloaded"`` or ``"present"``."""

    file: DatasetFile
    path: Path
    status: Literal["downloaded", "present"]


def get_spec(name: str) -> DatasetSpec:
    """Returns the registered dataset called ``name``.

    Raises:
        DataError: No dataset has that name; the message lists the known names.

    Example:
        >>> get_spec("conll2003").files[2].path
        'conll2003/eng.testb'
        >>> try:
        ...     get_spec("ptbb")
        ... except DataError as err:
        ...     print(err)  # doctest: +ELLIPSIS
        unknown dataset 'ptbb' (did you mean 'ptb'?); known: airline, conll2003, ..., wikitext-2
    """
    if name in REGISTRY:
        return REGISTRY[name]
    close = difflib.get_close_matches(name, REGISTRY, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise DataError(f"unknown dataset {name!r}{hint}; known: {', '.join(sorted(REGISTRY))}")


def cache_dir() -> Path:
    """The user cache directory: ``$RNNKIT_CACHE``, else ``$XDG_CACHE_HOME/rnnkit``, else
    ``~/.cache/rnnkit``. Downloads go here unless told otherwise.

    Example:
        >>> import os
        >>> from unittest import mock
        >>> with mock.patch.dict(os.environ, RNNKIT_CACHE="/tmp/rnnkit-cache"):
        ...     print(cache_dir().as_posix())
        /tmp/rnnkit-cache
    """
    if os.environ.get("RNNKIT_CACHE"):
        return Path(os.environ["RNNKIT_CACHE"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "rnnkit"


def data_roots() -> list[Path]:
    """The directories searched for dataset files, in order.

    Each directory of ``$RNNKIT_DATA`` (``os.pathsep`` separated; unset or empty means
    none), then :func:`cache_dir`. Directories that do not exist are listed too: they are
    what a "not found" message reports.

    Example:
        >>> import os
        >>> from unittest import mock
        >>> with mock.patch.dict(os.environ, RNNKIT_DATA="/data/a", RNNKIT_CACHE="/tmp/c"):
        ...     print([p.as_posix() for p in data_roots()])
        ['/data/a', '/tmp/c']
    """
    roots = [
        Path(part).expanduser()
        for part in os.environ.get("RNNKIT_DATA", "").split(os.pathsep)
        if part
    ]
    cache = cache_dir()
    return [*roots, cache] if cache not in roots else roots


def _candidates(file: DatasetFile) -> list[tuple[str, str]]:
    """(relative path, expected sha256) of each accepted form: as stored, then decompressed."""
    forms = [(file.path, file.sha256)]
    if file.raw_sha256:
        forms.append((file.path.removesuffix(".gz"), file.raw_sha256))
    return forms


def _find(file: DatasetFile, roots: Iterable[Path]) -> tuple[Path, str] | None:
    """First (path, expected sha256) of ``file`` under ``roots``, then among the files
    bundled with rnnkit (:data:`BUNDLED`), or None."""
    for root in [*roots, BUNDLED]:
        for relpath, expected in _candidates(file):
            path = root / relpath
            if path.is_file():
                return path, expected
    return None


def local_files(name: str) -> list[tuple[DatasetFile, Path | None]]:
    """Each file of dataset ``name`` with where it was found (None if missing); no hashing.

    Example:
        >>> import os, tempfile
        >>> from unittest import mock
        >>> root = tempfile.mkdtemp()  # an empty data root and cache
        >>> with mock.patch.dict(os.environ, RNNKIT_DATA=root, RNNKIT_CACHE=root):
        ...     print([(f.name, path) for f, path in local_files("airline")])
        [('airline-passengers.csv', None), ('airline-passengers.names', None)]
    """
    roots = data_roots()
    found = []
    for file in get_spec(name).files:
        hit = _find(file, roots)
        found.append((file, hit[0] if hit else None))
    return found


def _select(spec: DatasetSpec, split: str | None, file: str | None) -> DatasetFile:
    """The one file of ``spec`` that ``split`` or ``file`` (a file name) picks."""
    if split is not None and file is not None:
        raise DataError("give split or file, not both", field="split")
    if file is not None:
        hits = [f for f in spec.files if file in (f.name, f.name.removesuffix(".gz"), f.path)]
        choices = ", ".join(f.name for f in spec.files)
        if not hits:
            raise DataError(
                f"dataset {spec.name!r} has no file {file!r}; files: {choices}", field="file"
            )
        return hits[0]
    if split is not None:
        hits = [f for f in spec.files if f.split == split]
        if not hits:
            splits = sorted({f.split for f in spec.files if f.split}) or ["none shipped"]
            raise DataError(
                f"dataset {spec.name!r} has no split {split!r}; splits: {', '.join(splits)}",
                field="split",
            )
        return hits[0]
    data = [f for f in spec.files if f.kind == "data"]
    if len(data) != 1:
        splits = sorted({f.split for f in data if f.split})
        how = f"split= one of {', '.join(splits)}" if splits else "file="
        names = ", ".join(f.name for f in data)
        raise DataError(f"dataset {spec.name!r} has {len(data)} data files ({names}); pass {how}")
    return data[0]


def _how_to_get(spec: DatasetSpec, file: DatasetFile) -> str:
    where = f"set RNNKIT_DATA to the directory that holds {spec.name}/"
    if file.url is None:
        return f"{where} (no download URL: the file is a repack made for the benchmark copy)"
    return f"{where}, or run `rnnkit datasets download {spec.name}`"


def locate(name: str, split: str | None = None, *, file: str | None = None) -> Path:
    """Finds a file of a registered dataset on this machine (without hashing it).

    Args:
        name: Dataset name (see :data:`REGISTRY`).
        split: ``"train"``, ``"valid"`` or ``"test"``; picks the file of that split.
        file: A file name (``"ETTh1.csv"``; ``.gz`` optional); for datasets whose files are
            not splits. With neither, the dataset must have exactly one data file.

    Returns:
        The path of the first copy found under :func:`data_roots`, as stored or
        decompressed (``wiki.train.tokens.gz`` or ``wiki.train.tokens``).

    Raises:
        DataError: Unknown dataset, split or file, or the file is in no data root; the
            message names every directory searched and how to get the file.

    Example:
        >>> import os, tempfile
        >>> from unittest import mock
        >>> root = tempfile.mkdtemp()
        >>> os.mkdir(f"{root}/ptb")
        >>> _ = Path(root, "ptb", "ptb.valid.txt").write_text(" a b\\n")
        >>> with mock.patch.dict(os.environ, RNNKIT_DATA=root, RNNKIT_CACHE=root):
        ...     print(locate("ptb", "valid").name)
        ...     try:
        ...         locate("ptb", "test")
        ...     except DataError as err:
        ...         print(str(err).replace(root, "ROOT"))  # doctest: +NORMALIZE_WHITESPACE
        ptb.valid.txt
        dataset 'ptb': file ptb/ptb.test.txt not found; searched ROOT; to fix: set
        RNNKIT_DATA to the directory that holds ptb/, or run `rnnkit datasets download ptb`
    """
    spec = get_spec(name)
    chosen = _select(spec, split, file)
    roots = data_roots()
    hit = _find(chosen, roots)
    if hit is not None:
        return hit[0]
    forms = " or ".join(relpath for relpath, _ in _candidates(chosen))
    searched = ", ".join(str(root) for root in roots)
    raise DataError(
        f"dataset {spec.name!r}: file {forms} not found; searched {searched}; "
        f"to fix: {_how_to_get(spec, chosen)}"
    )


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB chunks.

    Example:
        >>> import tempfile
        >>> with tempfile.NamedTemporaryFile(delete=False) as f:
        ...     _ = f.write(b"abc")
        >>> sha256_file(f.name)[:16]
        'ba7816bf8f01cfea'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verify(name: str) -> list[VerifyResult]:
    """Checks the sha256 of every file of a registered dataset found on this machine.

    A ``.gz`` file found in decompressed form is checked against its ``raw_sha256``.

    Returns:
        One result per file of the dataset, in registry order.

    Raises:
        DataError: Unknown dataset.

    Example:
        >>> import os, tempfile
        >>> from unittest import mock
        >>> root = tempfile.mkdtemp()  # an empty data root and cache
        >>> with mock.patch.dict(os.environ, RNNKIT_DATA=root, RNNKIT_CACHE=root):
        ...     print([(r.file.name, r.status) for r in verify("airline")])
        [('airline-passengers.csv', 'missing'), ('airline-passengers.names', 'missing')]
    """
    roots = data_roots()
    results = []
    for file in get_spec(name).files:
        hit = _find(file, roots)
        if hit is None:
            results.append(VerifyResult(file, None, "missing", file.sha256, None))
            continue
        path, expected = hit
        got = sha256_file(path)
        status: Literal["ok", "mismatch"] = "ok" if got == expected else "mismatch"
        results.append(VerifyResult(file, path, status, expected, got))
    return results


def _offline() -> bool:
    return os.environ.get("RNNKIT_OFFLINE", "").strip().lower() in ("1", "true", "yes")


def download(
    name: str, *, root: str | os.PathLike[str] | None = None, progress: bool = True
) -> list[DownloadResult]:
    """Downloads the files of a registered dataset that are not on this machine yet.

    A file counts as present when it is found under :func:`data_roots` or ``root``
    (present files are not re-checked: run :func:`verify` for that). Each absent file is
    streamed from its URL into a temporary file beside its destination, its sha256 checked,
    then fsynced and renamed into place, so no partial or unverified file is ever left
    under its real name. ``.gz`` entries are saved decompressed, as their URL serves them.

    Args:
        name: Dataset name.
        root: Directory to download into; default :func:`cache_dir`.
        progress: Show a tqdm progress bar on stderr.

    Returns:
        One result per file, in registry order.

    Raises:
        DataError: Unknown dataset; an absent file has no URL; ``RNNKIT_OFFLINE=1`` while a
            file is absent; the download fails; or its sha256 does not match (expected and
            got are in the message, and nothing is kept).

    Example:
        >>> import os, tempfile
        >>> from unittest import mock
        >>> root = tempfile.mkdtemp()  # an empty data root and cache
        >>> env = {"RNNKIT_DATA": root, "RNNKIT_CACHE": root, "RNNKIT_OFFLINE": "1"}
        >>> with mock.patch.dict(os.environ, env):
        ...     try:
        ...         download("airline")
        ...     except DataError as err:
        ...         print(str(err).split(" (")[0])
        RNNKIT_OFFLINE=1: not downloading 2 files of dataset 'airline'
    """
    spec = get_spec(name)
    target = Path(root).expanduser() if root is not None else cache_dir()
    roots = [*data_roots(), target]
    results: list[DownloadResult | None] = []
    absent: list[tuple[int, DatasetFile]] = []
    for file in spec.files:
        hit = _find(file, roots)
        results.append(DownloadResult(file, hit[0], "present") if hit else None)
        if hit is None:
            absent.append((len(results) - 1, file))
    _check_can_download(spec, [file for _, file in absent])
    for index, file in absent:
        assert file.url is not None  # checked above
        dest = target / file.download_path
        _fetch(file.url, dest, file.download_sha256, progress=progress)
        results[index] = DownloadResult(file, dest, "downloaded")
    return [result for result in results if result is not None]


def _check_can_download(spec: DatasetSpec, absent: list[DatasetFile]) -> None:
    """Refuses before fetching anything when some absent file cannot be downloaded."""
    if not absent:
        return
    no_url = [file.path for file in absent if file.url is None]
    if no_url:
        raise DataError(
            f"dataset {spec.name!r}: {', '.join(no_url)} cannot be downloaded (no upstream "
            "file: a repack made for the benchmark copy); set RNNKIT_DATA to a directory "
            f"that holds {spec.name}/"
        )
    if _offline():
        names = ", ".join(file.path for file in absent)
        raise DataError(
            f"RNNKIT_OFFLINE=1: not downloading {len(absent)} file"
            f"{'' if len(absent) == 1 else 's'} of dataset {spec.name!r} ({names}); unset "
            f"RNNKIT_OFFLINE, or set RNNKIT_DATA to a directory that holds {spec.name}/"
        )


def _fetch(url: str, dest: Path, expected: str, *, progress: bool) -> None:
    """Streams ``url`` to ``dest`` atomically, keeping it only if its sha256 is ``expected``."""
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DataError(f"cannot write to {dest.parent}: {err.strerror or err}") from err

    def write(temp: Path) -> None:
        with open(temp, "wb") as out:
            got = _stream(url, out, dest.name, progress=progress)
        if got != expected:
            raise DataError(
                f"download of {url} does not match the registry: expected sha256 {expected}, "
                f"got {got}; nothing was kept"
            )

    replace_atomically(dest, write)


def _stream(url: str, out: IO[bytes], label: str, *, progress: bool) -> str:
    """Copies ``url`` into ``out`` in chunks under a progress bar; returns the sha256."""
    import urllib.error
    import urllib.request

    from tqdm import tqdm

    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            total = response.headers.get("Content-Length")
            with tqdm(
                total=int(total) if total else None,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=label,
                disable=not progress,
            ) as bar:
                while chunk := response.read(_CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
    except (urllib.error.URLError, OSError, ValueError) as err:
        reason = getattr(err, "reason", None) or err
        raise DataError(f"download of {url} failed: {reason}") from err
    return digest.hexdigest()
