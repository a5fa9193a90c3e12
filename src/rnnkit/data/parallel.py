"""Parallel text: sentences and their translations, in the three forms people keep them.

- two aligned files, line ``i`` of one translating line ``i`` of the other (``train.en`` and
  ``train.de``; ``.gz`` transparently);
- one tab-separated file of pairs (the Anki/Tatoeba ``eng-fra.txt`` layout), the source in
  a chosen column;
- JSON lines, ``{"src": ..., "tgt": ...}``.

Every pair needs text on both sides. Whatever breaks that (files of different lengths, an
empty side, a value that is not a string, bytes that are not UTF-8) is a :class:`DataError`
naming the file, the line and the problem.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from rnnkit.data.errors import DataError
from rnnkit.data.readers import PathLike, _check_file, _json_lines, _needed, iter_lines

__all__ = ["Parallel", "read_aligned", "read_jsonl_pairs", "read_tsv_pairs"]


class Parallel(NamedTuple):
    """Source sentences, their targets (same length), and where they came from."""

    src: list[str]
    tgt: list[str]
    source: str


def read_aligned(src_path: PathLike, tgt_path: PathLike) -> Parallel:
    """Two files whose line ``i`` are a pair. A line blank in both is skipped (a trailing
    empty line, say); blank on one side only is an error.

    Raises:
        DataError: The files have different numbers of lines; a side is empty; a file is
            missing or not UTF-8.

    Example:
        >>> import pathlib, tempfile
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (d / "a.en").write_text("A dog.\\nTwo cats.\\n", encoding="utf-8")
        >>> _ = (d / "a.de").write_text("Ein Hund.\\nZwei Katzen.\\n", encoding="utf-8")
        >>> read_aligned(d / "a.en", d / "a.de").tgt
        ['Ein Hund.', 'Zwei Katzen.']
    """
    src_lines, tgt_lines = list(iter_lines(src_path)), list(iter_lines(tgt_path))
    if len(src_lines) != len(tgt_lines):
        raise DataError(
            f"{len(tgt_lines):,} lines where {Path(src_path).name} has {len(src_lines):,}: "
            "line i of one file must translate line i of the other",
            file=tgt_path,
        )
    src, tgt = [], []
    for lineno, (s, t) in enumerate(zip(src_lines, tgt_lines, strict=True), start=1):
        if not s.strip() and not t.strip():
            continue
        for text, path in ((s, src_path), (t, tgt_path)):
            if not text.strip():
                raise DataError(_EMPTY, file=path, line=lineno)
        src.append(s.strip())
        tgt.append(t.strip())
    return Parallel(src, tgt, f"{src_path} + {Path(tgt_path).name}")


def read_tsv_pairs(path: PathLike, *, src_col: int = 0, tgt_col: int = 1) -> Parallel:
    """Tab-separated pairs, one per line (extra columns, an attribution say, are ignored;
    blank lines skipped). ``src_col``/``tgt_col`` are 0-based, negative from the end.

    Raises:
        DataError: A line with too few columns, an empty side, a missing or non-UTF-8 file.

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "fra.txt"
        >>> _ = path.write_text("Go.\\tVa !\\tCC-BY 2.0\\n", encoding="utf-8")
        >>> read_tsv_pairs(path, src_col=1, tgt_col=0)[:2]
        (['Va !'], ['Go.'])
    """
    need = max(_needed("src_col", src_col), _needed("tgt_col", tgt_col))
    src, tgt = [], []
    for lineno, line in _numbered(path):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) < need:
            raise DataError(
                f"expected at least {need} tab-separated columns, got {len(fields)}: {line!r}",
                file=path,
                line=lineno,
            )
        pair = fields[src_col].strip(), fields[tgt_col].strip()
        for text, col in zip(pair, (src_col, tgt_col), strict=True):
            if not text:
                raise DataError(f"column {col}: {_EMPTY}", file=path, line=lineno)
        src.append(pair[0])
        tgt.append(pair[1])
    return Parallel(src, tgt, str(path))


def read_jsonl_pairs(path: PathLike, *, src_key: str = "src", tgt_key: str = "tgt") -> Parallel:
    """JSON lines ``{"src": "...", "tgt": "..."}`` (other keys ignored, blank lines skipped).

    Raises:
        DataError: Bad JSON, a line that is not an object, a key missing, a value that is
            not a non-empty string.
    """
    src, tgt = [], []
    for lineno, obj in _json_lines(_check_file(path)):
        if not isinstance(obj, dict):
            raise DataError(
                f"expected a JSON object, got {type(obj).__name__}", file=path, line=lineno
            )
        src.append(_text_field(obj, src_key, path, lineno))
        tgt.append(_text_field(obj, tgt_key, path, lineno))
    return Parallel(src, tgt, str(path))


_EMPTY = "empty sentence: every pair needs text on both sides"


def _numbered(path: PathLike) -> Iterator[tuple[int, str]]:
    return enumerate(iter_lines(path), start=1)


def _text_field(obj: dict[str, Any], key: str, path: PathLike, lineno: int) -> str:
    if key not in obj:
        present = ", ".join(repr(k) for k in obj) or "none"
        raise DataError(
            f"missing; the object has keys {present}", file=path, line=lineno, field=key
        )
    value = obj[key]
    if not isinstance(value, str):
        raise DataError(
            f"expected a string, got {type(value).__name__}", file=path, line=lineno, field=key
        )
    if not value.strip():
        raise DataError(_EMPTY, file=path, line=lineno, field=key)
    return value.strip()
