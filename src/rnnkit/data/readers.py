"""Readers for user data files: text, JSONL/CSV/TSV records, CoNLL, TSV pairs, time series.

Every reader takes any path, registered or not, reads UTF-8 strictly and opens ``.gz`` files
transparently. Problems in a file are :class:`DataError` naming the file, the 1-based line and
the field, with what was expected and what was got; bad arguments are
:class:`rnnkit.config.ConfigError`. A UTF-8 byte-order mark at the start of a file is dropped.

Example:
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "pairs.tsv"
    >>> _ = path.write_text("Go.\\tVa !\\nRun!\\tCours !\\n", encoding="utf-8")
    >>> read_pairs(path)
    [('Go.', 'Va !'), ('Run!', 'Cours !')]
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import stat
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal, NamedTuple, TextIO

from rnnkit.config import ConfigError, validate_choice
from rnnkit.data.errors import DataError
from rnnkit.data.memory import check_fits
from rnnkit.data.timestamps import parse_timestamps

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "Sentence",
    "iter_lines",
    "open_text",
    "read_conll",
    "read_input_lines",
    "read_pairs",
    "read_records",
    "read_text",
    "read_timeseries_csv",
]

PathLike = str | os.PathLike[str]
_BOM = "\ufeff"
_GZIP_ERRORS = (gzip.BadGzipFile, EOFError, zlib.error)


class Sentence(NamedTuple):
    """One sentence of a CoNLL file: its tokens and their tags, the same length."""

    tokens: list[str]
    tags: list[str]


# ---------------------------------------------------------------------------------------------
# Files and lines
# ---------------------------------------------------------------------------------------------


def _check_file(path: PathLike, what: str = "a file") -> Path:
    """``path`` as a Path, or a DataError if it is not an existing regular file (``what``
    names the kind of file expected in the message). Links are followed."""
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise DataError("no such file", file=path) from None
    except OSError as err:
        raise DataError(f"cannot read: {err.strerror or err}", file=path) from None
    if stat.S_ISDIR(mode):
        raise DataError(f"is a directory, expected {what}", file=path)
    if not stat.S_ISREG(mode):
        # A device (/dev/zero) never ends and a pipe blocks until someone writes to it.
        raise DataError(
            f"not a regular file (a device, a pipe or a socket), expected {what}", file=path
        )
    return path


def _is_gzip(path: Path) -> bool:
    return path.suffix.lower() == ".gz"


def _open_binary(path: Path) -> IO[bytes]:
    try:
        if _is_gzip(path):  # buffered: GzipFile's own readline is slow
            return io.BufferedReader(gzip.open(path, "rb"), buffer_size=1 << 20)  # type: ignore[arg-type]
        return open(path, "rb")  # noqa: SIM115
    except OSError as err:
        raise DataError(f"cannot open: {err.strerror or err}", file=path) from err


def open_text(path: PathLike, *, newline: str | None = None) -> TextIO:
    """Opens a UTF-8 text file for reading, decompressing ``.gz`` files transparently.

    Decoding is strict; a bad byte raises ``UnicodeDecodeError`` while reading. Use
    :func:`iter_lines` or :func:`read_text` for an error that names the line and offset.

    Args:
        path: The file.
        newline: As for :func:`open` (``""`` for the csv module).

    Returns:
        A text stream; close it (``with open_text(path) as f:``).

    Raises:
        DataError: The file does not exist, is a directory or cannot be opened.

    Example:
        >>> import gzip, pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.txt.gz"
        >>> with gzip.open(path, "wt", encoding="utf-8") as f:
        ...     _ = f.write("héllo\\n")
        >>> with open_text(path) as f:
        ...     f.read()
        'héllo\\n'
    """
    checked = _check_file(path)
    return io.TextIOWrapper(_open_binary(checked), encoding="utf-8", newline=newline)


def _utf8_error(
    path: Path, err: UnicodeDecodeError, data: bytes, base: int, line: int
) -> DataError:
    """The DataError for a bad byte at ``err.start`` of ``data`` (which starts at ``base``)."""
    offset = base + err.start
    column = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
    where = "of the decompressed text " if _is_gzip(path) else ""
    name = path.name.removesuffix(".gz")
    return DataError(
        f"not valid UTF-8: byte 0x{data[err.start]:02x} at byte offset {offset} {where}"
        f"(column {column}); re-encode the file as UTF-8, e.g. "
        f"`iconv -f latin1 -t utf-8 {name} > utf8-{name}`",
        file=path,
        line=line,
    )


def _text_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(1-based line number, decoded line with its terminator) for each line of ``path``."""
    offset = 0
    with _open_binary(path) as handle:
        try:
            for lineno, raw in enumerate(handle, start=1):
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as err:
                    raise _utf8_error(path, err, raw, offset, lineno) from None
                offset += len(raw)
                yield lineno, text.removeprefix(_BOM) if lineno == 1 else text
        except _GZIP_ERRORS as err:
            raise DataError(f"not a valid gzip file: {err}", file=path) from err


def _strip_eol(line: str) -> str:
    return line.removesuffix("\n").removesuffix("\r")


def iter_lines(path: PathLike) -> Iterator[str]:
    """Yields the lines of a UTF-8 text file (``.gz`` transparently), without line ends.

    ``\\n`` and ``\\r\\n`` both end a line. The file is checked when this is called; bad
    UTF-8 is reported when its line is reached.

    Raises:
        DataError: Missing file or directory; a line that is not UTF-8 (with its line
            number and byte offset); a broken ``.gz`` file.

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
        >>> _ = path.write_bytes(b"one\\r\\ntwo\\n\\nthree")
        >>> list(iter_lines(path))
        ['one', 'two', '', 'three']
    """
    checked = _check_file(path)
    return (_strip_eol(line) for _, line in _text_lines(checked))


def read_input_lines(stream: IO[bytes], name: str = "<stdin>") -> list[str]:
    """The lines of the UTF-8 text arriving on ``stream`` (a predict verb's ``--input -``),
    without line ends (``\\n`` or ``\\r\\n``).

    Raises:
        DataError: A NUL byte (binary data, not text) or bytes that are not UTF-8, with the
            line and byte offset.

    Example:
        >>> import io
        >>> read_input_lines(io.BytesIO(b"caf\\xc3\\xa9\\r\\nok\\n"))
        ['café', 'ok']
        >>> try:
        ...     read_input_lines(io.BytesIO(b"ok\\n\\x89PNG\\x00"))
        ... except DataError as err:
        ...     print(err)
        <stdin>:2: binary data (a NUL byte at byte offset 7), expected UTF-8 text
    """
    data = stream.read()
    nul = data.find(b"\0")
    if nul >= 0:
        raise DataError(
            f"binary data (a NUL byte at byte offset {nul}), expected UTF-8 text",
            file=name,
            line=data.count(b"\n", 0, nul) + 1,
        )
    try:
        text = data.decode("utf-8").removeprefix(_BOM)
    except UnicodeDecodeError as err:
        raise DataError(
            f"not valid UTF-8: byte 0x{data[err.start]:02x} at byte offset {err.start}; "
            "send UTF-8 text (e.g. through `iconv -f latin1 -t utf-8`)",
            file=name,
            line=data.count(b"\n", 0, err.start) + 1,
        ) from None
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()  # the final newline ends the last line; it starts no new one
    return [line.removesuffix("\r") for line in lines]


def read_text(path: PathLike) -> str:
    """Reads a whole UTF-8 text file (``.gz`` transparently), exactly: no newline translation.

    Raises:
        DataError: Missing file or directory; bytes that are not UTF-8 (the message gives the
            line, the byte offset and how to re-encode); a broken ``.gz`` file.

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "latin1.txt"
        >>> _ = path.write_bytes("ok\\ncafé\\n".encode("latin-1"))
        >>> try:
        ...     read_text(path)
        ... except DataError as err:
        ...     print(str(err).split(": ", 1)[1])  # doctest: +NORMALIZE_WHITESPACE
        not valid UTF-8: byte 0xe9 at byte offset 6 (column 4); re-encode the file as UTF-8,
        e.g. `iconv -f latin1 -t utf-8 latin1.txt > utf8-latin1.txt`
    """
    checked = _check_file(path)
    if not _is_gzip(checked):
        # The bytes and the decoded str are both held for a moment; the str takes 1 to 4
        # bytes per character, so twice the file is the least this read needs.
        size = checked.stat().st_size
        check_fits(2 * size, file=checked, what=f"reading its {size:,} bytes")
    with _open_binary(checked) as handle:
        try:
            data = handle.read()
        except _GZIP_ERRORS as err:
            raise DataError(f"not a valid gzip file: {err}", file=checked) from err
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise _utf8_error(checked, err, data, 0, line) from None
    return text.removeprefix(_BOM)


# ---------------------------------------------------------------------------------------------
# Tables: JSONL, CSV, TSV
# ---------------------------------------------------------------------------------------------


class _Table(NamedTuple):
    header: list[str]
    rows: list[list[str]]
    lines: list[int]  # the 1-based line of each row (its last line if a quoted field spans more)


def _read_table(path: Path, delimiter: str, *, quoted: bool, required: Sequence[str]) -> _Table:
    """A delimited file with a header row naming every ``required`` column; every row has as
    many fields as the header."""
    lines = _text_lines(path)
    reader = csv.reader(
        (text for _, text in lines),
        delimiter=delimiter,
        quoting=csv.QUOTE_MINIMAL if quoted else csv.QUOTE_NONE,
        strict=True,
    )
    header: list[str] | None = None
    rows: list[list[str]] = []
    row_lines: list[int] = []
    try:
        for row in reader:
            if not row:  # a blank line
                continue
            if header is None:
                header = [name.strip() for name in row]
                _check_header(path, header, reader.line_num, required)
                continue
            if len(row) != len(header):
                raise DataError(
                    f"expected {len(header)} fields (as in the header), got {len(row)}",
                    file=path,
                    line=reader.line_num,
                )
            rows.append(row)
            row_lines.append(reader.line_num)
    except csv.Error as err:
        raise DataError(
            f"malformed {delimiter!r}-separated row: {err}", file=path, line=reader.line_num
        ) from err
    if header is None:
        raise DataError("empty file, expected a header row", file=path)
    return _Table(header, rows, row_lines)


def _check_header(path: Path, header: list[str], line: int, required: Sequence[str]) -> None:
    """A required column missing from the header is an error that lists the header; so is
    one the header names twice (which of the two was meant cannot be known)."""
    for name in required:
        if name not in header:
            raise DataError(
                f"no such column; the header has: {', '.join(header)}",
                file=path,
                line=line,
                field=name,
            )
        if header.count(name) > 1:
            raise DataError(
                f"the header names this column {header.count(name)} times; rename all but one",
                file=path,
                line=line,
                field=name,
            )


def _check_names(name: str, value: Sequence[str]) -> list[str]:
    if isinstance(value, str) or not all(isinstance(item, str) for item in value) or not value:
        raise ConfigError(f"expected a non-empty sequence of column names, got {value!r}", key=name)
    return list(value)


def _guess_format(path: Path) -> str:
    suffix = Path(path.name.removesuffix(".gz")).suffix.lower()
    formats = {".jsonl": "jsonl", ".json": "jsonl", ".csv": "csv", ".tsv": "tsv", ".txt": "tsv"}
    if suffix not in formats:
        raise DataError(
            f"cannot tell the format from the suffix {suffix!r}; pass format='jsonl', 'csv' "
            "or 'tsv'",
            file=path,
        )
    return formats[suffix]


def _json_lines(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, parsed value) for each non-blank line of a JSON-lines file."""
    for lineno, text in _text_lines(path):
        if not text.strip():
            continue
        try:
            yield lineno, json.loads(text)
        except json.JSONDecodeError as err:
            raise DataError(
                f"invalid JSON: {err.msg} (column {err.colno})", file=path, line=lineno
            ) from None


def _read_jsonl(path: Path, columns: list[str]) -> list[dict[str, Any]]:
    records = []
    for lineno, obj in _json_lines(path):
        if not isinstance(obj, dict):
            raise DataError(
                f"expected a JSON object, got {type(obj).__name__}", file=path, line=lineno
            )
        for name in columns:
            if name not in obj:
                present = ", ".join(repr(key) for key in obj) or "none"
                raise DataError(
                    f"missing; the object has keys {present}", file=path, line=lineno, field=name
                )
        records.append({name: obj[name] for name in columns})
    return records


def read_records(
    path: PathLike,
    *,
    columns: Sequence[str],
    format: Literal["auto", "jsonl", "csv", "tsv"] = "auto",
) -> list[dict[str, Any]]:
    """Reads chosen columns of a JSON-lines, CSV or TSV file.

    JSONL: one object per line (blank lines skipped); values keep their JSON types. CSV/TSV:
    a header row, then rows with as many fields; values are strings. CSV fields may be quoted
    (``"a,b"``); TSV fields are taken literally (quotes are text, as in GLUE's files).

    Args:
        path: The file (``.gz`` transparently).
        columns: The keys or header names to keep, in the order wanted.
        format: ``"auto"`` chooses by suffix, ``.gz`` stripped first: ``.jsonl``/``.json``
            JSONL, ``.csv`` CSV, ``.tsv``/``.txt`` TSV.

    Returns:
        One dict per record, with exactly ``columns`` as keys.

    Raises:
        DataError: Unreadable file; bad JSON or a line that is not an object; a key missing
            from an object (naming the keys present) or a column missing from the header
            (listing the header); a row with the wrong number of fields.
        ConfigError: Bad ``columns`` or ``format``.

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "sst.tsv"
        >>> _ = path.write_text('sentence\\tlabel\\na "gem" \\t1\\n', encoding="utf-8")
        >>> read_records(path, columns=["label", "sentence"])
        [{'label': '1', 'sentence': 'a "gem" '}]
    """
    names = _check_names("columns", columns)
    validate_choice("format", format, ("auto", "jsonl", "csv", "tsv"))
    checked = _check_file(path)
    kind = _guess_format(checked) if format == "auto" else format
    if kind == "jsonl":
        return _read_jsonl(checked, names)
    delimiter = "," if kind == "csv" else "\t"
    table = _read_table(checked, delimiter, quoted=kind == "csv", required=names)
    index = {name: table.header.index(name) for name in names}
    return [{name: row[i] for name, i in index.items()} for row in table.rows]


# ---------------------------------------------------------------------------------------------
# Column files: CoNLL, pairs
# ---------------------------------------------------------------------------------------------


def _needed(name: str, col: int) -> int:
    """How many columns a line needs for column index ``col`` (negative counts from the end)."""
    if isinstance(col, bool) or not isinstance(col, int):
        raise ConfigError(f"expected an int column index, got {col!r}", key=name)
    return col + 1 if col >= 0 else -col


def read_conll(path: PathLike, *, token_col: int = 0, tag_col: int = -1) -> list[Sentence]:
    """Reads a CoNLL column file: one token per line, a blank line after each sentence.

    Columns are separated by whitespace. ``-DOCSTART-`` lines (document starts) are skipped
    and end the sentence before them.

    Args:
        path: The file (``.gz`` transparently).
        token_col: Column of the token (0-based; negative counts from the end).
        tag_col: Column of the tag; the default, the last column, is CoNLL-2003's NER tag.

    Returns:
        The sentences in file order; none is empty.

    Raises:
        DataError: Unreadable file, or a line with too few columns (its line number, the
            columns needed and the columns found).
        ConfigError: A column index that is not an int.

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "eng.tiny"
        >>> _ = path.write_text(
        ...     "-DOCSTART- -X- -X- O\\n\\nEU NNP I-NP I-ORG\\nrejects VBZ I-VP O\\n\\n"
        ...     "Peter NNP I-NP I-PER\\n", encoding="utf-8")
        >>> for sentence in read_conll(path):
        ...     print(sentence.tokens, sentence.tags)
        ['EU', 'rejects'] ['I-ORG', 'O']
        ['Peter'] ['I-PER']
    """
    need = max(_needed("token_col", token_col), _needed("tag_col", tag_col))
    checked = _check_file(path)
    sentences: list[Sentence] = []
    for block in column_blocks(checked):
        tokens, tags = [], []
        for lineno, text in block:
            fields = text.split()
            if len(fields) < need:
                raise DataError(
                    f"expected at least {need} columns (token_col={token_col}, "
                    f"tag_col={tag_col}), got {len(fields)}: {text!r}",
                    file=checked,
                    line=lineno,
                )
            tokens.append(fields[token_col])
            tags.append(fields[tag_col])
        sentences.append(Sentence(tokens, tags))
    return sentences


def column_blocks(path: Path) -> Iterator[list[tuple[int, str]]]:
    """The sentences of a column file as blocks of (line number, line without its end):
    blank lines separate them, ``-DOCSTART-`` lines (document starts) are skipped and end
    the block before them; no block is empty."""
    block: list[tuple[int, str]] = []
    for lineno, raw in _text_lines(path):
        text = _strip_eol(raw)
        if not text.strip() or text.split()[0] == "-DOCSTART-":
            if block:
                yield block
                block = []
            continue
        block.append((lineno, text))
    if block:
        yield block


def read_pairs(
    path: PathLike, *, source_col: int = 0, target_col: int = 1
) -> list[tuple[str, str]]:
    """Reads tab-separated parallel sentence pairs, one pair per line.

    Extra columns (an attribution, say) are ignored; blank lines are skipped.

    Args:
        path: The file (``.gz`` transparently).
        source_col: Column of the source sentence (0-based; negative counts from the end).
        target_col: Column of the target sentence.

    Returns:
        ``(source, target)`` per line, in file order.

    Raises:
        DataError: Unreadable file, or a line with too few tab-separated columns.
        ConfigError: A column index that is not an int.

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "fra.txt"
        >>> _ = path.write_text("Go.\\tVa !\\tCC-BY 2.0 (France)\\n", encoding="utf-8")
        >>> read_pairs(path, source_col=1, target_col=0)
        [('Va !', 'Go.')]
    """
    need = max(_needed("source_col", source_col), _needed("target_col", target_col))
    checked = _check_file(path)
    pairs = []
    for lineno, text in _text_lines(checked):
        line = _strip_eol(text)
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) < need:
            raise DataError(
                f"expected at least {need} tab-separated columns, got {len(fields)}: {line!r}",
                file=checked,
                line=lineno,
            )
        pairs.append((fields[source_col], fields[target_col]))
    return pairs


# ---------------------------------------------------------------------------------------------
# Time series
# ---------------------------------------------------------------------------------------------


def _numeric_column(
    path: Path, name: str, raw: list[str], lines: Any, na_values: Sequence[str]
) -> pd.Series:
    """``raw`` (stripped strings) as float64, NA markers as NaN; other non-numbers are errors."""
    import numpy as np
    import pandas as pd

    markers = set(na_values)
    is_na = np.fromiter((value in markers for value in raw), dtype=bool, count=len(raw))
    values = pd.to_numeric(pd.Series(raw, dtype=object).mask(is_na), errors="coerce")
    bad = values.isna().to_numpy() & ~is_na
    if bad.any():
        first = int(bad.argmax())
        shown = ", ".join(repr(v) for v in na_values) or "none"
        raise DataError(
            f"expected a number or a missing-value marker ({shown}), got {raw[first]!r}",
            file=path,
            line=int(lines[first]),
            field=name,
        )
    return values.astype("float64")


def _time_index(
    path: Path, time_col: str, parts: list[list[str]], lines: Any, dayfirst: bool
) -> pd.DatetimeIndex:
    """Timestamps from one or more columns joined with a space; present and non-decreasing."""
    import pandas as pd

    joined = pd.Series([" ".join(values) for values in zip(*parts, strict=True)], dtype=object)
    times = parse_timestamps(joined, dayfirst=dayfirst)
    bad = times.isna().to_numpy()
    if bad.any():
        first = int(bad.argmax())
        raise DataError(
            f"expected a date/time, got {joined.iloc[first]!r}",
            file=path,
            line=int(lines[first]),
            field=time_col,
        )
    stamps = times.to_numpy()
    back = stamps[1:] < stamps[:-1]
    if back.any():
        i = int(back.argmax()) + 1
        raise DataError(
            f"timestamps must not decrease: {times.iloc[i]} comes after {times.iloc[i - 1]} "
            f"(line {lines[i - 1]})",
            file=path,
            line=int(lines[i]),
            field=time_col,
        )
    return pd.DatetimeIndex(times, name=" ".join(time_col.split(",")))


def read_timeseries_csv(
    path: PathLike,
    *,
    time_col: str | None = None,
    sep: str = ",",
    na_values: Sequence[str] = ("",),
    columns: Sequence[str] | None = None,
    dayfirst: bool = False,
) -> pd.DataFrame:
    """Reads a delimited time-series file with a header into numeric columns.

    Values are stripped of surrounding spaces; a value in ``na_values`` becomes NaN, and any
    other value that is not a number is an error. Timestamps must be present and must not
    decrease (equal neighbours are allowed).

    Args:
        path: The file (``.gz`` transparently). Fields may be quoted (``"1949-01"``).
        time_col: Header name of the timestamp column, or several comma-joined names
            (``"Date,Time"``) whose values are joined with a space before parsing. None: no
            time index.
        sep: The one-character field separator (``";"`` for the UCI household power file).
        na_values: Exact strings that mark a missing value (``("?",)`` for UCI files).
        columns: The value columns to keep, in order; None keeps every non-time column.
        dayfirst: Parse ``16/12/2006`` as 16 December.

    Returns:
        A DataFrame of float64 columns, indexed by a DatetimeIndex named after the time
        columns (``"Date Time"``) when ``time_col`` is given, else by row number.

    Raises:
        DataError: Unreadable file; no data rows; a time or value column missing from the
            header; a row with the wrong number of fields; a value that is not a number or
            NA marker, or a time that does not parse (line and column named); timestamps
            that decrease (the first such line named).
        ConfigError: ``sep`` is not one character, or ``columns`` is not a list of names.

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "power.txt"
        >>> _ = path.write_text(
        ...     "Date;Time;Voltage\\n16/12/2006;17:24:00;234.84\\n16/12/2006;17:25:00;?\\n",
        ...     encoding="utf-8")
        >>> df = read_timeseries_csv(path, time_col="Date,Time", sep=";", na_values=("?",),
        ...                          dayfirst=True)
        >>> df  # doctest: +NORMALIZE_WHITESPACE
                             Voltage
        Date Time
        2006-12-16 17:24:00   234.84
        2006-12-16 17:25:00      NaN
    """
    import numpy as np
    import pandas as pd

    if not isinstance(sep, str) or len(sep) != 1:
        raise ConfigError(f"expected one character, got {sep!r}", key="sep")
    time_names = [name.strip() for name in time_col.split(",")] if time_col else []
    wanted = None if columns is None else _check_names("columns", columns)
    checked = _check_file(path)
    table = _read_table(checked, sep, quoted=True, required=[*time_names, *(wanted or [])])
    names = wanted or [name for name in table.header if name not in time_names]
    twice = sorted({name for name in names if table.header.count(name) > 1})
    if twice:  # every column is read: which of two same-named ones was meant is unknown
        raise DataError(
            f"the header names this column {table.header.count(twice[0])} times; rename all "
            "but one",
            file=checked,
            field=twice[0],
        )
    index = {name: table.header.index(name) for name in [*time_names, *names]}
    if not table.rows:
        raise DataError("no data rows after the header", file=checked)
    lines = np.asarray(table.lines)
    cells = [[value.strip() for value in column] for column in zip(*table.rows, strict=True)]
    data = {
        name: _numeric_column(checked, name, cells[index[name]], lines, na_values) for name in names
    }
    frame = pd.DataFrame(data, columns=names)
    if time_col:
        parts = [cells[index[name]] for name in time_names]
        frame.index = _time_index(checked, time_col, parts, lines, dayfirst)
    return frame
