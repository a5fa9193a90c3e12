"""Reading a time series: :func:`read_series` reads a delimited text file (via
:func:`rnnkit.data.readers.read_timeseries_csv`) or a Parquet file into float64 columns
indexed by time; the private helpers here read Parquet files (pyarrow, imported on use) with
the same columns, NA markers, time parsing and errors as the text reader."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from rnnkit.config import ConfigError
from rnnkit.data.errors import DataError
from rnnkit.data.readers import _check_file, _check_names, read_timeseries_csv
from rnnkit.data.timestamps import parse_timestamps, without_offset

__all__ = ["read_series"]

PathLike = str | os.PathLike[str]

_TEXT_SUFFIXES = (".csv", ".txt", ".tsv")
_PARQUET_SUFFIXES = (".parquet", ".pq")


def _format_of(path: Path) -> Literal["text", "parquet"]:
    """``"text"`` for .csv/.txt/.tsv (``.gz`` too), ``"parquet"`` for .parquet/.pq."""
    name = path.name.lower()
    gz = name.endswith(".gz")
    suffix = Path(name.removesuffix(".gz")).suffix
    if suffix in _TEXT_SUFFIXES:
        return "text"
    if suffix in _PARQUET_SUFFIXES and not gz:
        return "parquet"
    raise DataError(
        f"cannot tell the format from the suffix {path.name[len(path.stem) :]!r}; expected "
        ".csv, .txt or .tsv (optionally .gz), or .parquet/.pq",
        file=path,
    )


def read_series(
    path: PathLike,
    *,
    time_col: str | None = None,
    sep: str = ",",
    na_values: Sequence[str] = ("",),
    columns: Sequence[str] | None = None,
    dayfirst: bool = False,
) -> pd.DataFrame:
    """Reads a time series from a delimited text file or a Parquet file.

    Text files (``.csv``, ``.txt``, ``.tsv``, each optionally ``.gz``) are read by
    :func:`rnnkit.data.readers.read_timeseries_csv` with these arguments. Parquet files
    (``.parquet``, ``.pq``) give the same result: the time column (a datetime column, or
    text parsed as dates; two columns are joined with a space) becomes the index, and value
    columns become float64 (numeric columns as they are, with nulls as NaN; text columns
    parsed as numbers, with ``na_values`` as NaN). A stored pandas index counts as a column.

    Args:
        path: The file.
        time_col: The timestamp column, or two comma-joined (``"Date,Time"``). None: the
            rows are indexed by number.
        sep: The field separator of a text file (``";"`` for the UCI household power file).
            Parquet files have none: anything but the default is an error.
        na_values: Exact strings that mark a missing value (``("", "?")``).
        columns: The value columns to keep, in order; None keeps every non-time column.
        dayfirst: Parse ``16/12/2006`` as 16 December.

    Returns:
        float64 columns indexed by a DatetimeIndex named after the time columns
        (``"Date Time"``), or by a RangeIndex without ``time_col``.

    Raises:
        DataError: Missing or unreadable file, unknown suffix, no data rows, a missing
            column (the available ones listed), a value that is not a number or NA marker,
            a time that does not parse, timestamps that decrease (line or row named).
        ConfigError: Bad ``sep`` or ``columns``.

    Example:
        >>> import pathlib, tempfile
        >>> import pandas as pd
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "power.parquet"
        >>> pd.DataFrame({"Date": ["16/12/2006", "16/12/2006"], "Time": ["17:24", "17:25"],
        ...               "Voltage": ["234.84", "?"]}).to_parquet(path)
        >>> read_series(path, time_col="Date,Time", na_values=("?",), dayfirst=True)
        ... # doctest: +NORMALIZE_WHITESPACE
                             Voltage
        Date Time
        2006-12-16 17:24:00   234.84
        2006-12-16 17:25:00      NaN
    """
    checked = _check_file(path)
    if _format_of(checked) == "text":
        return read_timeseries_csv(
            checked,
            time_col=time_col,
            sep=sep,
            na_values=na_values,
            columns=columns,
            dayfirst=dayfirst,
        )
    if sep != ",":
        raise ConfigError(f"Parquet files have no separator; leave it out, got {sep!r}", key="sep")
    time_names = [name.strip() for name in time_col.split(",")] if time_col else []
    wanted = None if columns is None else _check_names("columns", columns)
    return _read_parquet(checked, time_names, wanted, tuple(na_values), dayfirst)


def _parquet_error(path: Path, err: Exception) -> DataError:
    return DataError(f"not a readable Parquet file: {err}", file=path)


def _parquet_columns(path: Path) -> list[str]:
    """The column names stored in a Parquet file, a stored pandas index included."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        names = pq.read_schema(path).names
    except (pa.ArrowException, OSError) as err:
        raise _parquet_error(path, err) from err
    return [name for name in names if not name.startswith("__index_level_")]


def _load_parquet(path: Path, names: list[str]) -> pd.DataFrame:
    """The ``names`` columns of a Parquet file as a frame; a stored named index is a column."""
    import pyarrow as pa

    try:
        frame = pd.read_parquet(path, columns=names)
    except (pa.ArrowException, OSError) as err:
        raise _parquet_error(path, err) from err
    named_index = any(name is not None for name in frame.index.names)
    return frame.reset_index(drop=not named_index)


def _read_parquet(
    path: Path,
    time_names: list[str],
    wanted: list[str] | None,
    na_values: tuple[str, ...],
    dayfirst: bool,
) -> pd.DataFrame:
    available = _parquet_columns(path)
    for name in [*time_names, *(wanted or [])]:
        if name not in available:
            raise DataError(
                f"no such column; the file has: {', '.join(available)}", file=path, field=name
            )
    names = wanted or [name for name in available if name not in time_names]
    if not names:
        raise DataError("no value columns besides the time column", file=path)
    table = _load_parquet(path, [*time_names, *names])
    if len(table) == 0:
        raise DataError("no data rows", file=path)
    data = {name: _numeric_values(path, name, table[name], na_values) for name in names}
    frame = pd.DataFrame(data, columns=names)
    if time_names:
        frame.index = _parquet_times(path, time_names, table, dayfirst)
    return frame


def _numeric_values(
    path: Path, name: str, column: pd.Series, na_values: tuple[str, ...]
) -> np.ndarray:
    """A Parquet column as float64: numbers as they are, text parsed, nulls and NA markers NaN.

    Shapes:
        column: (N,) -> (N,)
    """
    if pd.api.types.is_numeric_dtype(column.dtype):  # bools too: 0.0 / 1.0
        return column.to_numpy(dtype=np.float64, na_value=np.nan)
    if not (column.dtype == object or pd.api.types.is_string_dtype(column.dtype)):
        raise DataError(
            f"expected numbers (or text holding numbers), got a column of type {column.dtype}",
            file=path,
            field=name,
        )
    texts = column.astype("string").str.strip()
    missing = (texts.isna() | texts.isin(list(na_values))).to_numpy(dtype=bool)
    values = pd.to_numeric(texts.mask(missing), errors="coerce")
    result = values.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = np.isnan(result) & ~missing
    if bad.any():
        row = int(bad.argmax())
        shown = ", ".join(repr(v) for v in na_values) or "none"
        raise DataError(
            f"row {row + 1}: expected a number or a missing-value marker ({shown}), "
            f"got {texts.iloc[row]!r}",
            file=path,
            field=name,
        )
    return result


def _as_text(column: pd.Series) -> pd.Series:
    """A time column part as strings (dates of a datetime column without their midnight)."""
    if (
        pd.api.types.is_datetime64_any_dtype(column.dtype)
        and (column.dropna() == column.dropna().dt.normalize()).all()
    ):
        return column.dt.strftime("%Y-%m-%d").astype("string")
    return column.astype("string")


def _parquet_times(
    path: Path, time_names: list[str], table: pd.DataFrame, dayfirst: bool
) -> pd.DatetimeIndex:
    """The time index from one datetime column, or text columns joined with a space."""
    field = ",".join(time_names)
    first = table[time_names[0]]
    if len(time_names) == 1 and pd.api.types.is_datetime64_any_dtype(first.dtype):
        times, shown = without_offset(first.reset_index(drop=True)), first.astype("string")
    else:
        parts = [_as_text(table[name]) for name in time_names]
        shown = parts[0].str.cat(parts[1:], sep=" ") if len(parts) > 1 else parts[0]
        shown = shown.reset_index(drop=True)
        times = parse_timestamps(shown, dayfirst=dayfirst)
    bad = times.isna().to_numpy()
    if bad.any():
        row = int(bad.argmax())
        got = shown.iloc[row]
        raise DataError(
            f"row {row + 1}: expected a date/time, got {'nothing' if pd.isna(got) else repr(got)}",
            file=path,
            field=field,
        )
    stamps = times.to_numpy()
    back = stamps[1:] < stamps[:-1]
    if back.any():
        row = int(back.argmax()) + 1
        raise DataError(
            f"timestamps must not decrease: row {row + 1} ({times.iloc[row]}) comes after "
            f"row {row} ({times.iloc[row - 1]})",
            file=path,
            field=field,
        )
    return pd.DatetimeIndex(times, name=" ".join(time_names))
