"""Timestamps as the forecaster reads them: text to naive ``datetime64``, offsets settled.

A file may write its times with a UTC offset (``2026-03-28T01:00:00+01:00``). With one
offset throughout, the times are kept as written (the offset dropped): hour-of-day features
stay local. With several (a region's change to or from summer time), pandas refuses to
parse them; here they are converted to UTC, where an hourly series stays one hour a step
with no repeated or missing hour, and the offset is then dropped.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["parse_timestamps", "without_offset"]


def parse_timestamps(values: pd.Series, *, dayfirst: bool = False) -> pd.Series:
    """``values`` (text) as naive timestamps; NaT where a value is not a date/time.

    Example:
        >>> summer_time = ["2026-03-29 01:00+01:00", "2026-03-29 03:00+02:00"]
        >>> [str(t) for t in parse_timestamps(pd.Series(summer_time))]  # in UTC
        ['2026-03-29 00:00:00', '2026-03-29 01:00:00']
        >>> parse_timestamps(pd.Series(["2026-01-01 09:00+01:00", "soon"])).tolist()
        [Timestamp('2026-01-01 09:00:00'), NaT]
    """
    try:
        times = pd.to_datetime(values, dayfirst=dayfirst, errors="coerce")
    except ValueError:  # mixed offsets: pandas asks for utc=True
        times = pd.to_datetime(values, dayfirst=dayfirst, errors="coerce", utc=True)
    return without_offset(times)


def without_offset(times: pd.Series) -> pd.Series:
    """Aware timestamps as naive ones in their own zone's wall time; naive ones as they are."""
    if isinstance(times.dtype, pd.DatetimeTZDtype):
        return times.dt.tz_localize(None)
    return times
