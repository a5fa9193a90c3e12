"""Splitting a series: :func:`split_rows` cuts the rows chronologically into train,
validation and test parts, given as :class:`SplitBounds`, by ratios (with LTSF's rounding),
by dates, or by the LTSF/Informer ``ett`` protocol of 12/4/4 months of 30 days."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from rnnkit.config import ConfigError
from rnnkit.data.timeseries._common import _DAY
from rnnkit.data.timeseries.timing import _month_anchor, _typical, check_timing

__all__ = ["SplitBounds", "split_rows"]

_SPLIT_FORMS = (
    "ratios 'TRAIN,VALID,TEST' (e.g. '0.7,0.1,0.2'), dates 'TEST_START' or "
    "'VALID_START,TEST_START' (e.g. '2009-10-01,2010-01-03'), or 'ett'"
)


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
