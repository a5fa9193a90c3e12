"""Cleaning a series: :func:`resample` makes a time-indexed frame regular (empty bins are
NaN for every aggregation), and :func:`fill_missing` fills missing values by interpolation,
forward fill or the value one season earlier, reporting the counts in a :class:`FillReport`."""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd

from rnnkit.config import ConfigError, validate_choice
from rnnkit.data.timeseries._common import _check_positive_int

__all__ = ["FillReport", "fill_missing", "resample"]

Agg = Literal["mean", "sum", "min", "max", "last"]
FillMethod = Literal["interpolate", "ffill", "seasonal", "none"]

_AGGS = ("mean", "sum", "min", "max", "last")
_FILLS = ("interpolate", "ffill", "seasonal", "none")


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
