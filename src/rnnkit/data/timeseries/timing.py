"""Checking the timing of a series: :func:`check_timing` finds the typical step of a time
index as a pandas alias (``"h"``, ``"15min"``, ``"MS"``, with calendar months for month
starts and ends) and counts the gaps and duplicates that break it in a
:class:`TimingReport`."""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd

from rnnkit.config import ConfigError
from rnnkit.data.timeseries._common import _DAY

__all__ = ["TimingReport", "check_timing"]

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


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
