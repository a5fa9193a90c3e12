"""Labelled examples for sequence classification: texts, or numeric sequences, with labels.

:func:`read_text_examples` reads texts and their labels from JSONL, CSV or TSV files (as
:func:`rnnkit.data.readers.read_records` does) or from a folder per label;
:func:`read_numeric_examples` reads variable-length numeric sequences from JSONL, long-format
CSV/TSV or NPZ files. Labels are always strings (JSON ``1`` becomes ``"1"``), and
``label_col=None`` reads unlabelled files (for prediction). Problems in a file are
:class:`DataError` naming the file, the 1-based line and the field; bad arguments are
:class:`rnnkit.config.ConfigError`.

Example:
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "sst.tsv"
    >>> _ = path.write_text("sentence\\tlabel\\na gem\\t1\\na dud\\t0\\n", encoding="utf-8")
    >>> read_text_examples(path, text_col="sentence")
    (['a gem', 'a dud'], ['1', '0'])
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from rnnkit.config import ConfigError, validate_choice
from rnnkit.data.errors import DataError
from rnnkit.data.readers import (
    _check_file,
    _check_names,
    _guess_format,
    _json_lines,
    _read_table,
    _strip_eol,
    _Table,
    read_text,
)

__all__ = ["read_numeric_examples", "read_text_examples"]

PathLike = str | os.PathLike[str]
_JSON_TYPES = {bool: "boolean", int: "number", float: "number", list: "array", dict: "object"}
_FLOAT32_MAX = float(np.finfo(np.float32).max)


# ---------------------------------------------------------------------------------------------
# Shared checks
# ---------------------------------------------------------------------------------------------


def _check_column(name: str, value: object, *, optional: bool = False) -> None:
    """A column argument must be a non-empty str (or None where ``optional``)."""
    if (value is None and optional) or (isinstance(value, str) and value):
        return
    also = " or None" if optional else ""
    raise ConfigError(f"expected a column name (a non-empty str){also}, got {value!r}", key=name)


def _show(value: Any) -> str:
    """A JSON value as the user wrote it, with its JSON type: ``0.5 (a JSON number)``."""
    kind = "null" if value is None else _JSON_TYPES.get(type(value), "string")
    text = json.dumps(value)
    return f"{text if len(text) <= 40 else text[:37] + '...'} (a JSON {kind})"


def _json_objects(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line of a JSON-lines file."""
    for lineno, obj in _json_lines(path):
        if not isinstance(obj, dict):
            message = f"expected a JSON object, got {_show(obj)}"
            raise DataError(message, file=path, line=lineno)
        yield lineno, obj


def _get(path: Path, line: int, obj: dict[str, Any], key: str) -> Any:
    if key not in obj:
        present = ", ".join(repr(name) for name in obj) or "none"
        raise DataError(f"missing; the object has keys {present}", file=path, line=line, field=key)
    return obj[key]


def _json_label(path: Path, line: int, obj: dict[str, Any], key: str) -> str:
    """A JSON string or integer label as a string (bools, floats, null, arrays are errors)."""
    value = _get(path, line, obj, key)
    if isinstance(value, str) and not value.strip():
        raise DataError("empty label", file=path, line=line, field=key)
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    message = f"expected a string or integer label, got {_show(value)}"
    raise DataError(message, file=path, line=line, field=key)


def _table(path: Path, kind: str, required: list[str]) -> _Table:
    """A CSV (quoted fields) or TSV (literal fields, as GLUE's) file with ``required`` columns."""
    delimiter = "," if kind == "csv" else "\t"
    return _read_table(path, delimiter, quoted=kind == "csv", required=required)


def _require_examples(path: Path, count: int) -> None:
    if count == 0:
        raise DataError("no examples in the file", file=path)


# ---------------------------------------------------------------------------------------------
# Texts
# ---------------------------------------------------------------------------------------------


def _text_format(path: PathLike, format: str) -> tuple[Path, str]:
    """The checked path and its format; ``"auto"`` takes a directory as a folder per label."""
    if format == "folder" or (format == "auto" and Path(path).is_dir()):
        return Path(path), "folder"
    checked = _check_file(path)
    return checked, _guess_format(checked) if format == "auto" else format


def _read_folder(root: Path) -> tuple[list[str], list[str]]:
    """``root/<label>/*.txt``: one example per file; labels and files in sorted order."""
    if not root.is_dir():
        raise DataError("expected a directory of label subfolders (root/<label>/*.txt)", file=root)
    subdirs = sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.name)
    subdirs = [p for p in subdirs if not p.name.startswith(".")]
    if not subdirs:
        raise DataError(
            "expected one subfolder per label (root/<label>/*.txt), found none", file=root
        )
    texts, labels = [], []
    for subdir in subdirs:
        files = sorted(f for f in subdir.iterdir() if f.suffix.lower() == ".txt" and f.is_file())
        for file in (f for f in files if not f.name.startswith(".")):
            texts.append(_strip_eol(read_text(file)))  # a file's final line end is no part of it
            labels.append(subdir.name)
    if not texts:
        names = ", ".join(p.name for p in subdirs)
        raise DataError(
            f"expected .txt files in the label subfolders ({names}), found none", file=root
        )
    return texts, labels


def _jsonl_texts(
    path: Path, text_col: str, label_col: str | None
) -> tuple[list[str], list[str] | None]:
    texts: list[str] = []
    labels: list[str] = []
    for line, obj in _json_objects(path):
        text = _get(path, line, obj, text_col)
        if not isinstance(text, str):
            message = f"expected a string, got {_show(text)}"
            raise DataError(message, file=path, line=line, field=text_col)
        texts.append(text)
        if label_col is not None:
            labels.append(_json_label(path, line, obj, label_col))
    return texts, None if label_col is None else labels


def _table_texts(
    path: Path, kind: str, text_col: str, label_col: str | None
) -> tuple[list[str], list[str] | None]:
    table = _table(path, kind, [text_col, *([label_col] if label_col else [])])
    texts = [row[table.header.index(text_col)] for row in table.rows]
    if label_col is None:
        return texts, None
    column = table.header.index(label_col)
    for row, line in zip(table.rows, table.lines, strict=True):
        if not row[column].strip():  # an empty label is a missing one, not a class ""
            raise DataError("empty label", file=path, line=line, field=label_col)
    return texts, [row[column] for row in table.rows]


def read_text_examples(
    path: PathLike,
    *,
    text_col: str = "text",
    label_col: str | None = "label",
    format: Literal["auto", "jsonl", "csv", "tsv", "folder"] = "auto",
) -> tuple[list[str], list[str] | None]:
    """Reads texts and their labels, for text classification.

    JSONL: one object per line (blank lines skipped); the text must be a string (an empty
    one is kept), the label a string or an integer. CSV/TSV: a header row, then one example
    per row; CSV fields may be quoted (``"a,b"``), TSV fields are literal (GLUE's files).
    Folder: ``root/<label>/*.txt``, one example per UTF-8 file without its final line end;
    label folders and files are taken in sorted order, hidden ones ignored (the column
    names do not apply; ``label_col=None`` still drops the labels).

    Args:
        path: The file (``.gz`` transparently), or the root folder.
        text_col: The key or header name of the text.
        label_col: The key or header name of the label; None for unlabelled files.
        format: ``"auto"`` takes a directory as ``"folder"`` and chooses a file's format by
            its suffix, ``.gz`` stripped first: ``.jsonl``/``.json`` JSONL, ``.csv`` CSV,
            ``.tsv``/``.txt`` TSV.

    Returns:
        ``(texts, labels)`` in file order; ``labels`` are strings (JSON ``0`` becomes
        ``"0"``), or None when ``label_col`` is None.

    Shapes:
        ``len(texts) == len(labels)``, the number of examples (at least one).

    Raises:
        DataError: Unreadable file; no examples; a missing key or column (naming those
            present); a text that is not a string (null included) or a label that is not a
            string or integer (file, line and field named); a folder without label
            subfolders or ``.txt`` files.
        ConfigError: Bad column names or ``format``.

    Example:
        >>> import pathlib, tempfile
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (root / "reviews.jsonl").write_text(
        ...     '{"text": "great", "label": 1}\\n{"text": "", "label": 0}\\n', encoding="utf-8")
        >>> read_text_examples(root / "reviews.jsonl")
        (['great', ''], ['1', '0'])
        >>> for label, text in [("neg", "dull"), ("pos", "fun")]:
        ...     (root / "imdb" / label).mkdir(parents=True)
        ...     _ = (root / "imdb" / label / "0.txt").write_text(text + "\\n", encoding="utf-8")
        >>> read_text_examples(root / "imdb")
        (['dull', 'fun'], ['neg', 'pos'])
    """
    _check_column("text_col", text_col)
    _check_column("label_col", label_col, optional=True)
    validate_choice("format", format, ("auto", "jsonl", "csv", "tsv", "folder"))
    checked, kind = _text_format(path, format)
    if kind == "folder":
        texts, folder_labels = _read_folder(checked)
        return texts, None if label_col is None else folder_labels
    if kind == "jsonl":
        texts, labels = _jsonl_texts(checked, text_col, label_col)
    else:
        texts, labels = _table_texts(checked, kind, text_col, label_col)
    _require_examples(checked, len(texts))
    return texts, labels


# ---------------------------------------------------------------------------------------------
# Numeric sequences
# ---------------------------------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _json_sequence(path: Path, line: int, value: Any, field: str) -> np.ndarray:
    """A JSON list of numbers (T,) or of equal-length lists of numbers (T, F) as (T, F)."""
    if not isinstance(value, list) or not value:
        expected = "a non-empty list of numbers or of equal-length lists of numbers"
        raise DataError(
            f"expected {expected}, got {_show(value)}", file=path, line=line, field=field
        )
    steps = value if isinstance(value[0], list) else [[item] for item in value]
    width = len(steps[0])
    for t, step in enumerate(steps):
        if not isinstance(step, list) or len(step) != width or width == 0:
            expected = f"a list of {width} numbers (as step 0)" if width else "a non-empty list"
            message = f"step {t}: expected {expected}, got {_show(step)}"
            raise DataError(message, file=path, line=line, field=field)
        for item in step:
            if not _is_number(item) or not abs(item) <= _FLOAT32_MAX:  # NaN fails `<=` too
                message = f"step {t}: expected a finite float32 number, got {_show(item)}"
                raise DataError(message, file=path, line=line, field=field)
    return np.asarray(steps, dtype=np.float32)  # (T, F)


def _check_widths(path: Path, arrays: list[np.ndarray], lines: list[int], field: str) -> None:
    """Every example has as many features per step as the first."""
    for i, array in enumerate(arrays):
        if array.shape[1] != arrays[0].shape[1]:
            message = (
                f"example {i} has {array.shape[1]} features per step, but example 0 (line "
                f"{lines[0]}) has {arrays[0].shape[1]}; every example needs the same number"
            )
            raise DataError(message, file=path, line=lines[i], field=field)


def _jsonl_sequences(
    path: Path, sequence_col: str, label_col: str | None
) -> tuple[list[np.ndarray], list[str] | None]:
    arrays: list[np.ndarray] = []
    labels: list[str] = []
    lines: list[int] = []
    for line, obj in _json_objects(path):
        arrays.append(_json_sequence(path, line, _get(path, line, obj, sequence_col), sequence_col))
        if label_col is not None:
            labels.append(_json_label(path, line, obj, label_col))
        lines.append(line)
    _require_examples(path, len(arrays))
    _check_widths(path, arrays, lines, sequence_col)
    return arrays, None if label_col is None else labels


def _table_floats(path: Path, table: _Table, names: list[str]) -> np.ndarray:
    """The ``names`` columns of every row as float32 (R, F); a bad cell names its line."""
    cells = np.array([[row[table.header.index(n)] for n in names] for row in table.rows], dtype=str)
    for r, row in enumerate(cells):  # (F,) strings; one vectorised parse per row
        try:
            values = row.astype(np.float64)
            if np.all(np.abs(values) <= _FLOAT32_MAX):  # NaN and inf fail too
                continue
        except ValueError:
            pass
        for name, text in zip(names, row, strict=True):
            try:
                ok = abs(float(np.asarray([text]).astype(np.float64)[0])) <= _FLOAT32_MAX
            except ValueError:
                ok = False
            if not ok:
                message = f"expected a finite float32 number, got {str(text)!r}"
                raise DataError(message, file=path, line=table.lines[r], field=name)
    return cells.astype(np.float64).astype(np.float32)  # (R, F)


def _id_groups(
    path: Path, table: _Table, id_col: str, label_col: str | None
) -> list[tuple[int, int, str | None]]:
    """``(first row, end row, label)`` per id, in order; rows of an id must be contiguous and
    agree on the label."""
    id_i = table.header.index(id_col)
    label_i = None if label_col is None else table.header.index(label_col)
    groups: list[tuple[int, int, str | None]] = []
    first_line: dict[str, int] = {}
    for r, row in enumerate(table.rows):
        key, line = row[id_i], table.lines[r]
        label = None if label_i is None else row[label_i]
        if groups and table.rows[groups[-1][0]][id_i] == key:
            start, _, first = groups[-1]
            if label != first:
                message = (
                    f"id {key!r} has label {first!r} at line {table.lines[start]} and {label!r} "
                    "here; every row of an id needs the same label"
                )
                raise DataError(message, file=path, line=line, field=label_col)
            groups[-1] = (start, r + 1, first)
        elif key in first_line:
            message = (
                f"rows of id {key!r} must be contiguous: it starts at line {first_line[key]}, "
                "then other ids come between"
            )
            raise DataError(message, file=path, line=line, field=id_col)
        else:
            first_line[key] = line
            groups.append((r, r + 1, label))
    return groups


def _long_sequences(
    path: Path, kind: str, id_col: str, label_col: str | None, features: list[str] | None
) -> tuple[list[np.ndarray], list[str] | None]:
    keys = [id_col, *([label_col] if label_col else [])]
    table = _table(path, kind, [*keys, *(features or [])])
    names = features or [name for name in table.header if name not in keys]
    if not names:
        message = f"no feature columns: the header has only {', '.join(table.header)}"
        raise DataError(message, file=path)
    _require_examples(path, len(table.rows))
    values = _table_floats(path, table, names)  # (R, F)
    groups = _id_groups(path, table, id_col, label_col)
    arrays = [values[start:end] for start, end, _ in groups]  # (T_i, F) each
    labels = None if label_col is None else [str(label) for _, _, label in groups]
    return arrays, labels


def _npz_arrays(path: Path) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` archive; object arrays are refused (they would unpickle)."""
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):  # a .npy file loads as one array
            raise DataError("expected an .npz archive (np.savez), got a single array", file=path)
        with archive:
            return {name: archive[name] for name in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        message = f"cannot read as an .npz archive without pickles: {err}"
        raise DataError(message, file=path) from None


def _npz_lengths(path: Path, lengths: np.ndarray | None, n: int, t: int) -> list[int]:
    if lengths is None:
        return [t] * n
    if lengths.shape != (n,) or lengths.dtype.kind not in "iu":
        message = f"expected {n} integers, got shape {lengths.shape} of {lengths.dtype}"
        raise DataError(message, file=path, field="lengths")
    bad = (lengths < 1) | (lengths > t)
    if bad.any():
        i = int(bad.argmax())
        message = f"example {i}: expected a length in [1, {t}], got {int(lengths[i])}"
        raise DataError(message, file=path, field="lengths")
    return [int(length) for length in lengths]


def _npz_labels(path: Path, labels: np.ndarray, n: int) -> list[str]:
    if labels.shape != (n,) or labels.dtype.kind not in "iuU":
        message = f"expected {n} integers or strings, got shape {labels.shape} of {labels.dtype}"
        raise DataError(message, file=path, field="labels")
    return [str(label) for label in labels.tolist()]


def _npz_sequences(path: Path, labelled: bool) -> tuple[list[np.ndarray], list[str] | None]:
    arrays = _npz_arrays(path)
    for name in ["sequences", *(["labels"] if labelled else [])]:
        if name not in arrays:
            present = ", ".join(sorted(arrays)) or "none"
            raise DataError(f"missing; the archive has arrays: {present}", file=path, field=name)
    data = arrays["sequences"]
    if data.ndim not in (2, 3) or data.dtype.kind not in "iuf" or 0 in data.shape:
        message = f"expected numbers of shape (N, T) or (N, T, F), got {data.shape} of {data.dtype}"
        raise DataError(message, file=path, field="sequences")
    data = data.reshape(*data.shape[:2], -1)  # (N, T, F)
    lengths = _npz_lengths(path, arrays.get("lengths"), data.shape[0], data.shape[1])
    examples = [data[i, :length].astype(np.float64) for i, length in enumerate(lengths)]
    for i, example in enumerate(examples):  # (T_i, F); padding past a length may hold anything
        bad = ~(np.abs(example) <= _FLOAT32_MAX)
        if bad.any():
            t, f = np.argwhere(bad)[0]
            message = f"example {i}, step {t}, feature {f}: expected a finite float32 number"
            message += f", got {example[t, f]}"
            raise DataError(message, file=path, field="sequences")
    labels = _npz_labels(path, arrays["labels"], data.shape[0]) if labelled else None
    return [example.astype(np.float32) for example in examples], labels


def read_numeric_examples(
    path: PathLike,
    *,
    sequence_col: str = "sequence",
    label_col: str | None = "label",
    id_col: str = "id",
    features: Sequence[str] | None = None,
    format: Literal["auto", "jsonl", "csv", "tsv", "npz"] = "auto",
) -> tuple[list[np.ndarray], list[str] | None]:
    """Reads labelled numeric sequences of varying length, for sequence classification.

    JSONL: one object per line; ``sequence_col`` holds a list of numbers (one feature per
    step) or a list of equal-length lists of numbers. CSV/TSV, long format: a header, then
    one row per time step; ``id_col`` groups contiguous rows into examples (in order of first
    appearance) and the label must be the same on every row of an id. NPZ (read without
    unpickling anything): arrays ``sequences`` (N, T) or (N, T, F), optional integer
    ``lengths`` (N,) in [1, T] (example i is ``sequences[i, :lengths[i]]``), and ``labels``
    (N,) of integers or strings.

    Args:
        path: The file (``.gz`` transparently for JSONL/CSV/TSV).
        sequence_col: The JSONL key of the sequence (JSONL only).
        label_col: The key or column of the label (NPZ: the ``labels`` array is read unless
            this is None); None for unlabelled files.
        id_col: The column of the example id (CSV/TSV only).
        features: The value columns, in order (CSV/TSV only); None takes every column but
            ``id_col`` and ``label_col``.
        format: ``"auto"`` chooses by suffix, ``.gz`` stripped first: ``.npz`` NPZ,
            ``.jsonl``/``.json`` JSONL, ``.csv`` CSV, ``.tsv``/``.txt`` TSV.

    Returns:
        ``(sequences, labels)``: float32 arrays in file order, and their labels as strings
        (or None when ``label_col`` is None).

    Shapes:
        ``sequences[i]``: (T_i, F); T_i may differ between examples, F may not.

    Raises:
        DataError: Unreadable file; no examples; a missing key, column or array (naming
            those present); a value that is not a finite number (file, line and field, or
            example and step, named); examples of different widths (both named); CSV rows of
            an id that are not contiguous or disagree on the label; bad ``lengths``/``labels``.
        ConfigError: Bad column names or ``format``; ``features`` with a non-CSV/TSV file.

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "walks.csv"
        >>> _ = path.write_text("id,x,y,label\\na,1,2,up\\na,3,4,up\\nb,5,6,down\\n",
        ...                     encoding="utf-8")
        >>> sequences, labels = read_numeric_examples(path)
        >>> [s.shape for s in sequences], labels
        ([(2, 2), (1, 2)], ['up', 'down'])
        >>> sequences[0]
        array([[1., 2.],
               [3., 4.]], dtype=float32)
    """
    for name, value in (("sequence_col", sequence_col), ("id_col", id_col)):
        _check_column(name, value)
    _check_column("label_col", label_col, optional=True)
    validate_choice("format", format, ("auto", "jsonl", "csv", "tsv", "npz"))
    names = None if features is None else _check_names("features", features)
    checked = _check_file(path)
    kind = format
    if format == "auto":
        kind = "npz" if checked.suffix.lower() == ".npz" else _guess_format(checked)
    if names is not None and kind not in ("csv", "tsv"):
        message = f"applies to long-format CSV/TSV files only, got a {kind} file"
        raise ConfigError(message, key="features")
    if kind == "npz":
        return _npz_sequences(checked, labelled=label_col is not None)
    if kind == "jsonl":
        return _jsonl_sequences(checked, sequence_col, label_col)
    return _long_sequences(checked, kind, id_col, label_col, names)
