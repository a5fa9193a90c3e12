"""Time series for forecasting: read, check the timing, resample, fill, split, scale, window.

The steps in the order a forecasting run uses them, each in its own module:

1. :mod:`~rnnkit.data.timeseries.read`: :func:`read_series` reads a delimited text file or a
   Parquet file into float64 columns indexed by time.
2. :mod:`~rnnkit.data.timeseries.timing`: :func:`check_timing` finds the regular step and
   counts the gaps and duplicates that break it (a :class:`TimingReport`).
3. :mod:`~rnnkit.data.timeseries.clean`: :func:`resample` makes a series regular;
   :func:`fill_missing` fills missing values and reports them (a :class:`FillReport`).
4. :mod:`~rnnkit.data.timeseries.split`: :func:`split_rows` cuts the rows chronologically
   into train, validation and test parts (:class:`SplitBounds`).
5. :mod:`~rnnkit.data.timeseries.scale`: :class:`SeriesScaler` is fitted on the training
   rows only and scales every part.
6. :mod:`~rnnkit.data.timeseries.windows`: :func:`window_starts` and :func:`make_windows`
   cut (look-back, horizon) windows whose targets lie in one part.

Problems in a file are :class:`~rnnkit.data.errors.DataError` naming the file, the line or
row and the column; bad arguments are :class:`rnnkit.config.ConfigError` naming the option
(``freq``, ``split``, ``lookback``, ...).

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

from rnnkit.data.timeseries.clean import FillReport, fill_missing, resample
from rnnkit.data.timeseries.read import read_series
from rnnkit.data.timeseries.scale import SeriesScaler
from rnnkit.data.timeseries.split import SplitBounds, split_rows
from rnnkit.data.timeseries.timing import TimingReport, check_timing
from rnnkit.data.timeseries.windows import make_windows, window_starts

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
