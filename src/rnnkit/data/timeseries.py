"""Time series for forecasting: read, check the timing, resample, fill, split, scale, window.

The steps in the order a forecasting run uses them:

1. :func:`read_series` reads a delimited text file (via
   :func:`rnnkit.data.readers.read_timeseries_csv`) or a Parquet file into float64 columns
   indexed by time.
2. :func:`check_timing` finds the regular step (``"h"``, ``"15min"``, ``"MS"``) and counts
   the gaps and duplicates that break it; :func:`resample` makes a series regular.
3. :func:`fill_missing` fills missing values (interpolation, forward fill, or the value one
   season earlier) and reports how many it filled.
4. :func:`split_rows` cuts the rows chronologically into train, validation and test parts
   (ratios, dates, or the LTSF/Informer ``ett`` protocol).
5. :class:`SeriesScaler` is fitted on the training rows only and scales every part.
6. :func:`window_starts` and :func:`make_windows` cut (look-back, horizon) windows whose
   targets lie in one part; the look-back may reach back into the part before (the LTSF
   convention).

Problems in a file are :class:`DataError` naming the file, the line or row and the column;
bad arguments are :class:`rnnkit.config.ConfigError` naming the option (``freq``, ``split``,
``lookback``, ...).

Example:
    >>> import numpy as np, pandas as pd
    >>> index = pd.date_range("2024-01-01", periods=10, freq="h")
    >>> frame = pd.DataFrame({"load": [1.0, 2, np.nan, 4, 5, 6, 7, 8, 9, 10]}, index=index)
    >>> check_timing(frame.index).freq
    'h'
    >>> frame, report = fill_missing(frame, "interpolate")
    >>> report.total_filled
    1
    >>> bounds = split_rows(frame.index, "0.6,0.2,0.2")
    >>> bounds
    SplitBounds(train=(0, 6), valid=(6, 8), test=(8, 10))
    >>> scaler = SeriesScaler.fit(frame.to_numpy()[: bounds.train[1]], ["load"], "minmax")
    >>> values = scaler.transform(frame.to_numpy())
    >>> starts = window_starts(bounds.test, lookback=3, horizon=1)
    >>> starts
    array([5, 6])
    >>> x, y = make_windows(values, starts, lookback=3, horizon=1)
    >>> x.shape, y.shape, scaler.inverse(y).ravel().round(4).tolist()
    ((2, 3, 1), (2, 1, 1), [9.0, 10.0])
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from rnnkit.config import ConfigError, validate_choice
from rnnkit.data.errors import DataError
from rnnkit.data.readers import _check_file, _check_names, read_timeseries_csv

__all__ = [
    "FillReport",
    "SeriesScaler",
    "SplitBounds",
    "TimingReport",
    "check_timing",
    "fill_missing",
    "make_windows",
    "read_series",
    "resample",
    "split_rows",
    "window_starts",
]

PathLike = str | os.PathLike[str]
Agg = Literal["mean", "sum", "min", "max", "last"]
FillMethod = Literal["interpolate", "ffill", "seasonal", "none"]
ScaleKind = Literal["standard", "minmax", "none"]

_TEXT_SUFFIXES = (".csv", ".txt", ".tsv")
_PARQUET_SUFFIXES = (".parquet", ".pq")
_AGGS = ("mean", "sum", "min", "max", "last")
_FILLS = ("interpolate", "ffill", "seasonal", "none")
_SCALES = ("standard", "minmax", "none")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAY = pd.Timedelta(days=1)
_SPLIT_FORMS = (
    "ratios 'TRAIN,VALID,TEST' (e.g. '0.7,0.1,0.2'), dates 'TEST_START' or "
    "'VALID_START,TEST_START' (e.g. '2009-10-01,2010-01-03'), or 'ett'"
)


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


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
        times, shown = first.reset_index(drop=True), first.astype("string")
    else:
        parts = [_as_text(table[name]) for name in time_names]
        shown = parts[0].str.cat(parts[1:], sep=" ") if len(parts) > 1 else parts[0]
        shown = shown.reset_index(drop=True)
        times = pd.to_datetime(shown, dayfirst=dayfirst, errors="coerce")
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


# ---------------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------------


class TimingReport(NamedTuple):
    """How regular a time index is.

    Attributes:
        freq: The typical step as a pandas offset alias (``"h"``, ``"15min"``, ``"D"``,
            ``"MS"``), or None with fewer than two distinct timestamps.
        steps: Rows.
        irregular: Gaps between consecutive timestamps that differ from the typical step,
            duplicates (a gap of zero) included.
        duplicates: Rows whose timestamp an earlier row already has.
        examples: Up to three irregular gaps, e.g.
            ``"2016-07-01 05:00 -> 2016-07-01 07:00 (2h, expected 1h)"``.
    """

    freq: str | None
    steps: int
    irregular: int
    duplicates: int
    examples: list[str]


def check_timing(index: pd.DatetimeIndex) -> TimingReport:
    """Finds the typical step of a time index and the gaps that break it.

    The typical step is the most common positive difference between consecutive
    timestamps (the smallest on a tie). Timestamps that are all month starts (or all month
    ends) at midnight are measured in calendar months, so monthly, quarterly and yearly
    data are regular (``"MS"``, ``"QS-JAN"``, ``"YS-JAN"``) although months differ in days.

    Args:
        index: The timestamps, in order.

    Returns:
        The step, the row count, the irregular gaps and duplicates, and a few examples.

    Raises:
        ConfigError: ``index`` is not a DatetimeIndex.

    Shapes:
        index: (N,)

    Example:
        >>> import pandas as pd
        >>> hours = pd.to_datetime(["2016-07-01 04:00", "2016-07-01 05:00",
        ...                         "2016-07-01 07:00", "2016-07-01 08:00"])
        >>> report = check_timing(hours)
        >>> report.freq, report.steps, report.irregular, report.duplicates
        ('h', 4, 1, 0)
        >>> report.examples
        ['2016-07-01 05:00 -> 2016-07-01 07:00 (2h, expected 1h)']
        >>> check_timing(pd.to_datetime(["1949-01", "1949-02", "1949-03"])).freq
        'MS'
    """
    if not isinstance(index, pd.DatetimeIndex):
        raise ConfigError(f"expected a DatetimeIndex, got {type(index).__name__}", key="index")
    steps = len(index)
    duplicates = int(index.duplicated().sum())
    if steps < 2:
        return TimingReport(None, steps, 0, duplicates, [])
    anchor = _month_anchor(index)
    gaps = _month_gaps(index) if anchor else np.diff(index.to_numpy())
    step = _typical(gaps)
    if step is None:  # every gap is a duplicate
        return TimingReport(None, steps, steps - 1, duplicates, [])
    bad = np.flatnonzero(gaps != step)
    if anchor:
        freq = _month_alias(int(step), anchor, int(index[0].month))
        spans = [_months(int(gap)) for gap in (step, *gaps[bad[:3]])]
    else:
        freq = _tick_alias(pd.Timedelta(step))
        spans = [_span(pd.Timedelta(gap)) for gap in (step, *gaps[bad[:3]])]
    fmt = _stamp_format(index)
    examples = [
        f"{index[i].strftime(fmt)} -> {index[i + 1].strftime(fmt)} ({span}, expected {spans[0]})"
        for i, span in zip(bad[:3], spans[1:], strict=True)
    ]
    return TimingReport(freq, steps, int(bad.size), duplicates, examples)


def _typical(gaps: np.ndarray) -> Any:
    """The most common positive gap (the smallest on a tie), or None if there is none.

    Shapes:
        gaps: (N - 1,)
    """
    positive = gaps[gaps > gaps.dtype.type(0)]
    if positive.size == 0:
        return None
    values, counts = np.unique(positive, return_counts=True)
    return values[counts.argmax()]


def _month_anchor(index: pd.DatetimeIndex) -> Literal["S", "E", ""]:
    """``"S"`` if every timestamp is a month start at midnight, ``"E"`` for month ends."""
    if not (index == index.normalize()).all():
        return ""
    if index.is_month_start.all():
        return "S"
    return "E" if index.is_month_end.all() else ""


def _month_gaps(index: pd.DatetimeIndex) -> np.ndarray:
    """Calendar months between consecutive timestamps. Shapes: (N,) -> (N - 1,)."""
    months = index.year.to_numpy(dtype=np.int64) * 12 + index.month.to_numpy(dtype=np.int64)
    return np.diff(months)


def _month_alias(months: int, anchor: str, first_month: int) -> str:
    """The pandas alias of a step of ``months`` anchored at month starts or ends."""
    if months == 12:
        return f"Y{anchor}-{_MONTHS[first_month - 1]}"
    if months == 3:  # QS-JAN: quarters start Jan/Apr/Jul/Oct; QE-DEC: they end Mar/.../Dec
        month = (first_month - 1) % 3 + (1 if anchor == "S" else 10)
        return f"Q{anchor}-{_MONTHS[month - 1]}"
    return f"M{anchor}" if months == 1 else f"{months}M{anchor}"


def _months(n: int) -> str:
    if n == 0:
        return "duplicate"
    return f"{n} month" if n == 1 else f"{n} months"


def _tick_alias(step: pd.Timedelta) -> str:
    """A fixed step as a pandas alias: whole days as ``"D"``/``"7D"``, else ``"h"``, ..."""
    if step % _DAY == pd.Timedelta(0):
        days = step // _DAY
        return "D" if days == 1 else f"{days}D"
    from pandas.tseries.frequencies import to_offset

    return to_offset(step).freqstr


def _span(gap: pd.Timedelta) -> str:
    """A gap for people: ``"2h"``, ``"1D"``, ``"duplicate"``, ``"-1h"``."""
    if gap == pd.Timedelta(0):
        return "duplicate"
    if gap < pd.Timedelta(0):
        return "-" + _span(-gap)
    alias = _tick_alias(gap)
    return alias if alias[0].isdigit() else "1" + alias


def _stamp_format(index: pd.DatetimeIndex) -> str:
    if (index == index.normalize()).all():
        return "%Y-%m-%d"
    return "%Y-%m-%d %H:%M" if (index.second == 0).all() else "%Y-%m-%d %H:%M:%S"


# ---------------------------------------------------------------------------------------------
# Resampling and filling
# ---------------------------------------------------------------------------------------------


def _offset(freq: str) -> Any:
    """``freq`` as a pandas offset; a ConfigError (key ``freq``) if it is not one."""
    from pandas.tseries.frequencies import to_offset

    hint = "expected a pandas frequency such as '15min', '1h', 'D', 'W' or 'MS'"
    if not isinstance(freq, str) or not freq.strip():
        raise ConfigError(f"{hint}, got {freq!r}", key="freq")
    try:
        offset = to_offset(freq.strip())
    except ValueError as err:
        short = str(err).split(". Failed to parse", 1)[0]
        raise ConfigError(f"{short}; {hint}", key="freq") from None
    if offset.n <= 0:
        raise ConfigError(f"expected a positive frequency, got {freq!r}", key="freq")
    return offset


def resample(frame: pd.DataFrame, freq: str, agg: Agg) -> pd.DataFrame:
    """Resamples a time-indexed frame to a regular frequency.

    Bins are closed on the left and labelled by their start (pandas' default for minutes,
    hours and days). A bin without any value, because it has no rows or only missing ones,
    is NaN for every ``agg``, ``sum`` included (``min_count=1``), so :func:`fill_missing`
    sees it as missing rather than as zero.

    Args:
        frame: Numeric columns indexed by a DatetimeIndex.
        freq: A pandas frequency (``"15min"``, ``"1h"``, ``"D"``, ``"W"``, ``"MS"``).
        agg: How the values of one bin are combined: ``mean``, ``sum``, ``min``, ``max``
            or ``last`` (the last non-missing value).

    Returns:
        One row per bin from the first to the last timestamp, the same columns.

    Raises:
        ConfigError: ``frame`` has no DatetimeIndex, ``freq`` is not a frequency (key
            ``freq``), or ``agg`` is unknown (key ``agg``).

    Shapes:
        frame: (N, C) -> (bins, C)

    Example:
        >>> import numpy as np, pandas as pd
        >>> index = pd.date_range("2024-01-01 00:00", periods=6, freq="30min")
        >>> frame = pd.DataFrame({"kw": [1.0, 2, np.nan, np.nan, 5, 6]}, index=index)
        >>> resample(frame, "1h", "sum")  # doctest: +NORMALIZE_WHITESPACE
                               kw
        2024-01-01 00:00:00   3.0
        2024-01-01 01:00:00   NaN
        2024-01-01 02:00:00  11.0
    """
    validate_choice("agg", agg, _AGGS)
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise ConfigError(
            f"resampling needs a time index, got a {type(frame.index).__name__}; give the "
            "timestamp column with --time-col",
            key="freq",
        )
    bins = frame.resample(_offset(freq))
    if agg == "sum":
        return bins.sum(min_count=1)
    return getattr(bins, agg)()


class FillReport(NamedTuple):
    """What :func:`fill_missing` did.

    Attributes:
        method: The fill method.
        filled: Values filled, per column.
        remaining: Values still missing after filling, per column.
    """

    method: str
    filled: dict[str, int]
    remaining: dict[str, int]

    @property
    def total_filled(self) -> int:
        """Values filled in all columns."""
        return sum(self.filled.values())


def fill_missing(
    frame: pd.DataFrame, method: FillMethod, *, season: int | None = None
) -> tuple[pd.DataFrame, FillReport]:
    """Fills the missing values of a series; the input frame is left as it is.

    Methods:
        - ``interpolate``: linear in row position; leading and trailing gaps take the
          nearest value.
        - ``ffill``: the last earlier value; a leading gap takes the first value.
        - ``seasonal``: the value ``season`` rows earlier, repeatedly (a gap of several
          seasons takes the last seasonal value there is); what is still missing (in the
          first season) is interpolated.
        - ``none``: nothing is filled; the report counts what is missing.

    A column with no value at all stays missing (see ``FillReport.remaining``).

    Args:
        frame: Numeric columns in time order.
        method: One of the methods above.
        season: Rows in one season (24 for hourly data with a daily cycle); needed by
            ``seasonal`` only, and checked whenever it is given.

    Returns:
        The filled copy and a :class:`FillReport`.

    Raises:
        ConfigError: Unknown ``method`` (key ``fill``); ``season`` missing for
            ``seasonal`` or not a positive int (key ``season``).

    Shapes:
        frame: (N, C) -> (N, C)

    Example:
        >>> import numpy as np, pandas as pd
        >>> frame = pd.DataFrame({"y": [1.0, 2, 3, np.nan, np.nan, 6]})
        >>> filled, report = fill_missing(frame, "seasonal", season=3)
        >>> filled["y"].tolist(), report.filled, report.remaining
        ([1.0, 2.0, 3.0, 1.0, 2.0, 6.0], {'y': 2}, {'y': 0})
    """
    validate_choice("fill", method, _FILLS)
    if season is not None:
        _check_positive_int("season", season)
    before = frame.isna().sum()
    if method == "interpolate":
        result = _interpolate(frame)
    elif method == "ffill":
        result = frame.ffill().bfill()
    elif method == "seasonal":
        if season is None:
            raise ConfigError("the seasonal fill needs the season length in rows", key="season")
        # Within each position of the season (row i % season), carry the last value forward.
        result = _interpolate(frame.groupby(np.arange(len(frame)) % season).ffill())
    else:
        result = frame.copy()
    after = result.isna().sum()
    report = FillReport(
        method,
        {str(name): int(before[name] - after[name]) for name in frame.columns},
        {str(name): int(after[name]) for name in frame.columns},
    )
    return result, report


def _interpolate(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.interpolate(method="linear", limit_direction="both")


# ---------------------------------------------------------------------------------------------
# Splitting
# ---------------------------------------------------------------------------------------------


class SplitBounds(NamedTuple):
    """Half-open row ranges ``(start, stop)`` of the forecast targets of each part.

    The parts are contiguous and chronological: ``train[1] == valid[0]`` and
    ``valid[1] == test[0]``; ``valid`` may be empty (``(a, a)``).
    """

    train: tuple[int, int]
    valid: tuple[int, int]
    test: tuple[int, int]


def split_rows(index: pd.Index, spec: str) -> SplitBounds:
    """Splits rows chronologically into train, validation and test parts.

    Forms of ``spec``:
        - ratios ``"0.7,0.1,0.2"``: each in [0, 1], summing to 1; as LTSF does,
          ``train = int(n * 0.7)`` and ``test = int(n * 0.2)`` rows, and validation is what
          lies between (the rounding remainder goes there).
        - dates ``"2010-01-03"`` (the test part starts at the first row at or after it; no
          validation part) or ``"2009-10-01,2010-01-03"`` (validation starts at the first,
          test at the second). Needs a DatetimeIndex.
        - ``"ett"``: the LTSF/Informer protocol for the ETT data sets: 12, 4 and 4 months of
          30 days, the rows per day taken from the index's step (24 hourly, 96 every 15
          minutes); rows after the 20 months are not used.

    Args:
        index: The rows' index (a DatetimeIndex for dates and ``ett``).
        spec: One of the forms above.

    Returns:
        The row ranges of the three parts.

    Raises:
        ConfigError: (key ``split``) an unknown form; bad ratios; a date that does not parse
            or lies outside the data (its first and last timestamps named); a part that would
            be empty (train, test); data shorter than 20 months for ``ett``.

    Shapes:
        index: (N,)

    Example:
        >>> import pandas as pd
        >>> split_rows(pd.RangeIndex(10), "0.7,0.1,0.2")
        SplitBounds(train=(0, 7), valid=(7, 8), test=(8, 10))
        >>> days = pd.date_range("2024-01-01", periods=10, freq="D")
        >>> split_rows(days, "2024-01-06,2024-01-09")
        SplitBounds(train=(0, 5), valid=(5, 8), test=(8, 10))
        >>> split_rows(pd.date_range("2016-07-01", periods=17420, freq="h"), "ett")
        SplitBounds(train=(0, 8640), valid=(8640, 11520), test=(11520, 14400))
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ConfigError(f"expected {_SPLIT_FORMS}, got {spec!r}", key="split")
    n = len(index)
    if n == 0:
        raise ConfigError("cannot split a series with no rows", key="split")
    if spec.strip().lower() == "ett":
        return _split_ett(index)
    parts = [part.strip() for part in spec.split(",")]
    if len(parts) == 3:
        return _split_ratios(n, parts, spec)
    if len(parts) in (1, 2):
        return _split_dates(index, parts, spec)
    raise ConfigError(f"expected {_SPLIT_FORMS}, got {spec!r}", key="split")


def _split_ratios(n: int, parts: list[str], spec: str) -> SplitBounds:
    try:
        ratios = [float(part) for part in parts]
    except ValueError:
        raise ConfigError(f"expected {_SPLIT_FORMS}, got {spec!r}", key="split") from None
    if not all(0.0 <= r <= 1.0 for r in ratios) or abs(sum(ratios) - 1.0) > 1e-6:
        raise ConfigError(
            f"expected three ratios in [0, 1] summing to 1, got {spec!r} (sum {sum(ratios):g})",
            key="split",
        )
    train, test = int(n * ratios[0]), int(n * ratios[2])  # LTSF's rounding
    if train < 1 or test < 1:
        empty = "train" if train < 1 else "test"
        raise ConfigError(f"{spec!r} leaves the {empty} part of {n} rows empty", key="split")
    return SplitBounds((0, train), (train, n - test), (n - test, n))


def _split_dates(index: pd.Index, parts: list[str], spec: str) -> SplitBounds:
    stamps = [_parse_date(part, spec) for part in parts]
    if not isinstance(index, pd.DatetimeIndex):
        raise ConfigError(
            f"a split by dates ({spec!r}) needs a time index; give the timestamp column with "
            "--time-col, or split by ratios ('0.7,0.1,0.2')",
            key="split",
        )
    rows = [_date_row(index, stamp, part) for stamp, part in zip(stamps, parts, strict=True)]
    if rows[0] == 0:
        raise ConfigError(
            f"{parts[0]!r} is at or before the first timestamp {index[0]}, which leaves "
            "the train part empty",
            key="split",
        )
    if len(rows) == 2 and rows[0] >= rows[1]:
        raise ConfigError(
            f"the validation start {parts[0]!r} must come before the test start {parts[1]!r}",
            key="split",
        )
    valid, test = rows if len(rows) == 2 else (rows[0], rows[0])
    return SplitBounds((0, valid), (valid, test), (test, len(index)))


def _parse_date(text: str, spec: str) -> pd.Timestamp:
    if "." in text and text.replace(".", "", 1).isdigit():
        raise ConfigError(
            f"ratios need three parts TRAIN,VALID,TEST (e.g. '0.7,0.1,0.2'), got {spec!r}",
            key="split",
        )
    try:
        return pd.Timestamp(text)
    except ValueError:
        raise ConfigError(f"{text!r} is not a date; expected {_SPLIT_FORMS}", key="split") from None


def _date_row(index: pd.DatetimeIndex, stamp: pd.Timestamp, text: str) -> int:
    """The first row at or after ``stamp`` (given as ``text``)."""
    if index.tz is not None and stamp.tz is None:
        stamp = stamp.tz_localize(index.tz)
    if stamp < index[0] or stamp > index[-1]:
        raise ConfigError(
            f"{text!r} is outside the data, which runs from {index[0]} to {index[-1]}",
            key="split",
        )
    return int(index.searchsorted(stamp, side="left"))


def _split_ett(index: pd.Index) -> SplitBounds:
    """LTSF/Informer ETT borders: 12/4/4 months of 30 days (Zhou et al. 2021)."""
    if not isinstance(index, pd.DatetimeIndex):
        raise ConfigError("the 'ett' split needs a time index; give --time-col", key="split")
    fixed = len(index) > 1 and not _month_anchor(index)
    step = _typical(np.diff(index.to_numpy())) if fixed else None
    if step is None or _DAY % pd.Timedelta(step) != pd.Timedelta(0):
        raise ConfigError(
            "the 'ett' split needs a regular step that divides a day (1h, 15min), got "
            f"{check_timing(index).freq}",
            key="split",
        )
    step = pd.Timedelta(step)
    per_day = int(_DAY // step)
    month = 30 * per_day
    if len(index) < 20 * month:
        raise ConfigError(
            f"the 'ett' split needs 20 months of 30 days = {20 * month} rows at "
            f"{per_day} rows per day, got {len(index)}",
            key="split",
        )
    return SplitBounds((0, 12 * month), (12 * month, 16 * month), (16 * month, 20 * month))


# ---------------------------------------------------------------------------------------------
# Scaling
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False)
class SeriesScaler:
    """Per-column affine scaling: ``(x - center) / scale``, and back.

    ``standard`` centres on the mean and divides by the (population) standard deviation,
    as LTSF's ``StandardScaler``; ``minmax`` maps the fitted range to [0, 1]; ``none`` is the
    identity. Fit it on the training rows only, so no statistic of the validation or test
    parts leaks into training.

    Attributes:
        kind: ``standard``, ``minmax`` or ``none``.
        center: Subtracted from each column. Shape (C,).
        scale: Then divided by; positive. Shape (C,).
        columns: The column names, in order.

    Example:
        >>> import numpy as np
        >>> scaler = SeriesScaler.fit(np.array([[1.0, 5], [3, 5]]), ["a", "b"], "standard")
        >>> scaler.center.tolist(), scaler.scale.tolist()
        ([2.0, 5.0], [1.0, 1.0])
        >>> scaler.transform(np.array([[3.0, 6]])).tolist()
        [[1.0, 1.0]]
        >>> scaler.inverse(np.array([[1.0]]), columns=["b"]).tolist()
        [[6.0]]
    """

    kind: ScaleKind
    center: np.ndarray
    scale: np.ndarray
    columns: list[str]

    def __post_init__(self) -> None:
        validate_choice("scale", self.kind, _SCALES)
        columns = _check_names("columns", self.columns)
        for name in ("center", "scale"):
            array = np.array(getattr(self, name), dtype=np.float64)  # a copy
            if array.shape != (len(columns),) or not np.isfinite(array).all():
                raise ConfigError(
                    f"expected {len(columns)} finite numbers (one per column), got "
                    f"{array.tolist()!r}",
                    key=name,
                )
            array.flags.writeable = False
            object.__setattr__(self, name, array)
        if (self.scale <= 0).any():
            raise ConfigError(f"expected positive numbers, got {self.scale.tolist()}", key="scale")
        object.__setattr__(self, "columns", columns)

    @classmethod
    def fit(cls, values: np.ndarray, columns: Sequence[str], kind: ScaleKind) -> SeriesScaler:
        """Fits the statistics of each column of ``values``, ignoring NaN.

        A constant column gets scale 1 (it is only shifted), so nothing is divided by zero.

        Args:
            values: The rows to fit on (the training part).
            columns: A name per column.
            kind: ``standard``, ``minmax`` or ``none``.

        Raises:
            ConfigError: Unknown ``kind`` (key ``scale``); ``values`` not 2-D with a column
                per name.
            DataError: A column with no value in ``values`` (named).

        Shapes:
            values: (N, C)
        """
        validate_choice("scale", kind, _SCALES)
        names = _check_names("columns", columns)
        data = np.asarray(values, dtype=np.float64)
        if data.ndim != 2 or data.shape[1] != len(names) or data.shape[0] == 0:
            raise ConfigError(
                f"expected values of shape (N >= 1, {len(names)}), got {data.shape}",
                key="values",
            )
        if kind == "none":
            return cls(kind, np.zeros(len(names)), np.ones(len(names)), names)
        empty = np.isnan(data).all(axis=0)
        if empty.any():
            name = names[int(empty.argmax())]
            raise DataError("no value in the rows the scaler is fitted on", field=name)
        low, high = np.nanmin(data, axis=0), np.nanmax(data, axis=0)
        if kind == "minmax":
            center, scale = low, high - low
        else:
            center, scale = np.nanmean(data, axis=0), np.nanstd(data, axis=0)
        constant = high == low
        center = np.where(constant, low, center)  # exactly the value: it maps to 0
        return cls(kind, center, np.where(constant, 1.0, scale), names)

    def _indices(self, columns: Sequence[str] | None) -> np.ndarray | slice:
        if columns is None:
            return slice(None)
        names = _check_names("columns", columns)
        unknown = [name for name in names if name not in self.columns]
        if unknown:
            raise ConfigError(
                f"{', '.join(unknown)} not scaled by this scaler; it has {', '.join(self.columns)}",
                key="columns",
            )
        return np.array([self.columns.index(name) for name in names])

    def _check_last(self, values: np.ndarray, width: int) -> None:
        if values.ndim == 0 or values.shape[-1] != width:
            raise ConfigError(
                f"expected a last dimension of {width} (columns), got shape {values.shape}",
                key="values",
            )

    def transform(self, values: np.ndarray) -> np.ndarray:
        """Scales values; NaN stays NaN.

        Shapes:
            values: (..., C) -> (..., C) float32
        """
        data = np.asarray(values, dtype=np.float64)
        self._check_last(data, len(self.columns))
        return ((data - self.center) / self.scale).astype(np.float32)

    def inverse(self, values: np.ndarray, columns: Sequence[str] | None = None) -> np.ndarray:
        """Undoes :meth:`transform`, for every column or for the named ones only.

        Args:
            values: Scaled values.
            columns: The columns the last dimension holds, in order (e.g. the forecast
                targets); None: all of them.

        Raises:
            ConfigError: A column this scaler does not know; a last dimension that does not
                match.

        Shapes:
            values: (..., C) or (..., len(columns)) -> the same, float64
        """
        index = self._indices(columns)
        center, scale = self.center[index], self.scale[index]
        data = np.asarray(values, dtype=np.float64)
        self._check_last(data, center.shape[0])
        return data * scale + center

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: ``{"kind", "columns", "center", "scale"}`` with lists of floats."""
        return {
            "kind": self.kind,
            "columns": list(self.columns),
            "center": [float(v) for v in self.center],
            "scale": [float(v) for v in self.scale],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SeriesScaler:
        """The scaler :meth:`to_dict` gave.

        Raises:
            ConfigError: A key missing or unknown; lists of the wrong length; a
                non-positive or non-finite scale.
        """
        keys = {"kind", "columns", "center", "scale"}
        if not isinstance(data, Mapping) or set(data) != keys:
            got = sorted(data) if isinstance(data, Mapping) else type(data).__name__
            raise ConfigError(f"expected the keys {sorted(keys)}, got {got}", key="scaler")
        for name in ("center", "scale"):
            items = data[name]
            if not isinstance(items, list) or not all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in items
            ):
                raise ConfigError(f"expected a list of numbers, got {items!r}", key=name)
        return cls(data["kind"], np.array(data["center"]), np.array(data["scale"]), data["columns"])


# ---------------------------------------------------------------------------------------------
# Windows
# ---------------------------------------------------------------------------------------------


def _check_positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ConfigError(f"expected a positive int, got {value!r}", key=name)
    return int(value)


def window_starts(
    bounds: tuple[int, int], lookback: int, horizon: int, stride: int = 1
) -> np.ndarray:
    """The start rows of the windows whose forecast targets all lie in ``bounds``.

    A window starting at row ``s`` reads rows ``[s, s + lookback)`` and forecasts rows
    ``[s + lookback, s + lookback + horizon)``. With ``bounds = (a, b)`` it is kept when
    ``s + lookback >= a``, ``s + lookback + horizon <= b`` and ``s >= 0``: the look-back may
    reach before ``a`` into the previous part, as in LTSF, whose validation and test windows
    start ``lookback`` rows early. ``stride`` steps from the first such start.

    Args:
        bounds: The half-open row range ``(a, b)`` of the targets (a part of
            :class:`SplitBounds`).
        lookback: Rows read (L), positive.
        horizon: Rows forecast (H), positive.
        stride: Rows between consecutive starts, positive.

    Returns:
        int64 start rows, ascending; empty when no window fits.

    Raises:
        ConfigError: ``lookback``, ``horizon`` or ``stride`` not a positive int (keyed by
            that name); ``bounds`` not ``0 <= a <= b``.

    Shapes:
        -> (W,)

    Example:
        >>> window_starts((0, 8), lookback=3, horizon=2)
        array([0, 1, 2, 3])
        >>> window_starts((8, 12), lookback=3, horizon=2, stride=2)  # reads rows from 5
        array([5, 7])
    """
    lookback = _check_positive_int("lookback", lookback)
    horizon = _check_positive_int("horizon", horizon)
    stride = _check_positive_int("stride", stride)
    a, b = _check_bounds(bounds)
    first = max(0, a - lookback)
    last = b - lookback - horizon
    return np.arange(first, last + 1, stride, dtype=np.int64)


def _check_bounds(bounds: tuple[int, int]) -> tuple[int, int]:
    ok = (
        isinstance(bounds, tuple | list)
        and len(bounds) == 2
        and all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in bounds)
        and 0 <= bounds[0] <= bounds[1]
    )
    if not ok:
        raise ConfigError(
            f"expected a row range (a, b) with 0 <= a <= b, got {bounds!r}", key="bounds"
        )
    return int(bounds[0]), int(bounds[1])


def make_windows(
    values: np.ndarray, starts: np.ndarray, lookback: int, horizon: int
) -> tuple[np.ndarray, np.ndarray]:
    """Cuts the (look-back, target) windows starting at ``starts`` out of a series.

    Window ``w`` is ``x[w] = values[s : s + lookback]`` and
    ``y[w] = values[s + lookback : s + lookback + horizon]`` with ``s = starts[w]``. Only the
    selected windows are copied (strided views, then one gather each).

    Args:
        values: The series, rows in time order.
        starts: Start rows, e.g. from :func:`window_starts`.
        lookback: Rows read (L).
        horizon: Rows forecast (H).

    Returns:
        ``(x, y)``, C-contiguous, of the dtype of ``values``.

    Raises:
        ConfigError: ``values`` not 2-D; ``starts`` not 1-D integers, or a window that
            does not fit in the series; ``lookback``/``horizon`` not positive ints.

    Shapes:
        values: (N, C), starts: (W,) -> x: (W, L, C), y: (W, H, C)

    Example:
        >>> import numpy as np
        >>> values = np.arange(12.0).reshape(6, 2)
        >>> x, y = make_windows(values, np.array([0, 3]), lookback=2, horizon=1)
        >>> x[1].tolist(), y[1].tolist()
        ([[6.0, 7.0], [8.0, 9.0]], [[10.0, 11.0]])
    """
    lookback = _check_positive_int("lookback", lookback)
    horizon = _check_positive_int("horizon", horizon)
    values = np.asarray(values)
    if values.ndim != 2:
        raise ConfigError(f"expected values of shape (N, C), got {values.shape}", key="values")
    index = np.asarray(starts)
    if index.ndim != 1 or not (index.size == 0 or np.issubdtype(index.dtype, np.integer)):
        raise ConfigError(f"expected 1-D integer start rows, got shape {index.shape}", key="starts")
    n, channels = values.shape
    if index.size == 0:
        x_shape, y_shape = (0, lookback, channels), (0, horizon, channels)
        return np.empty(x_shape, values.dtype), np.empty(y_shape, values.dtype)
    if index.min() < 0 or index.max() + lookback + horizon > n:
        raise ConfigError(
            f"windows of {lookback} + {horizon} rows from starts {index.min()}..{index.max()} "
            f"do not fit in {n} rows",
            key="starts",
        )
    # (N - L + 1, C, L) views -> gather the chosen starts -> (W, L, C), a fresh array.
    x = sliding_window_view(values, lookback, axis=0).transpose(0, 2, 1)[index]
    y = sliding_window_view(values[lookback:], horizon, axis=0).transpose(0, 2, 1)[index]
    return x, y
