"""Forecasting PNGs: a forecast with its history, a backtest, and flagged anomalies.

Every plot is drawn on a bare :class:`matplotlib.figure.Figure` (no pyplot, rendered by Agg),
as :mod:`rnnkit.training.plots` does: no GUI backend, no global figure registry, so nothing is
left open and it works on headless machines. The PNG is written atomically (temporary file,
fsync, rename), so a crash never leaves a half-written file.

Times are the x axis: a :class:`pandas.DatetimeIndex` (or datetime64 array; a time zone is
dropped, the wall-clock times kept) or numbers such as integer positions. All times of one
plot must be of the same kind. Values may contain NaN (drawn as gaps).

Example:
    >>> import tempfile
    >>> import numpy as np
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = plot_forecast(
    ...         Path(d) / "forecast.png", np.arange(48), np.sin(np.arange(48) / 4),
    ...         np.arange(48, 60), np.sin(np.arange(48, 60) / 4),
    ...     )
    ...     path.read_bytes()[:4]
    b'\\x89PNG'
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rnnkit.atomic import atomic_write_bytes
from rnnkit.config import ConfigError

__all__ = ["plot_anomalies", "plot_backtest", "plot_forecast"]

_SIZE = (10, 4.5)  # inches: a series is wide
_DPI = 100
_BAND_ALPHA = 0.25


def plot_forecast(
    path: str | os.PathLike[str],
    history_time: Any,
    history: np.ndarray,
    forecast_time: Any,
    forecast: np.ndarray,
    *,
    actual: np.ndarray | None = None,
    interval: tuple[np.ndarray, np.ndarray] | None = None,
    baselines: Mapping[str, np.ndarray] | None = None,
    title: str = "",
    level: float | None = None,
) -> Path:
    """Draws the recent history, the forecast and what came true, as a PNG.

    Solid history line, forecast line, the actual future (if given) in black, the interval
    as a shaded band (labelled ``"90% interval"`` for ``level=0.9``, ``"interval"`` without a
    level), and each baseline as a dashed line. A dotted vertical line marks the forecast
    origin (the last history time).

    Args:
        path: The PNG file to create or replace. Its directory must exist.
        history_time: Times of ``history``.
        history: The observed values before the forecast.
        forecast_time: Times of the forecast steps.
        forecast: The forecast.
        actual: The true values at ``forecast_time``, or None.
        interval: ``(lo, hi)`` bounds of a prediction interval, or None.
        baselines: Name -> baseline forecast at ``forecast_time``, or None.
        title: The axes' title.
        level: The interval's coverage in (0, 1), only with ``interval``.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        ConfigError: A length disagrees with its times, times of different kinds, or a bad
            ``level``; the message names the argument.

    Shapes:
        history_time, history: (N,); forecast_time, forecast, actual, lo, hi, each
        baseline: (H,).

    Example:
        >>> import tempfile
        >>> import numpy as np
        >>> import pandas as pd
        >>> from pathlib import Path
        >>> hist_t = pd.date_range("2024-01-01", periods=48, freq="h")
        >>> fut_t = pd.date_range(hist_t[-1] + pd.Timedelta("1h"), periods=12, freq="h")
        >>> f = np.zeros(12)
        >>> with tempfile.TemporaryDirectory() as d:
        ...     path = plot_forecast(
        ...         Path(d) / "f.png", hist_t, np.zeros(48), fut_t, f,
        ...         interval=(f - 1, f + 1), level=0.9, baselines={"naive": f}, title="ETTh1",
        ...     )
        ...     path.stat().st_size > 0
        True
        >>> plot_forecast("f.png", [0, 1], [0.0], [2], [0.0])
        Traceback (most recent call last):
            ...
        rnnkit.config.ConfigError: history: expected length 2 (as history_time), got 1
    """
    hist_t = _as_time("history_time", history_time)
    fut_t = _as_time("forecast_time", forecast_time)
    _same_kind(("history_time", hist_t), ("forecast_time", fut_t))
    hist = _as_values("history", history, len(hist_t), "history_time")
    pred = _as_values("forecast", forecast, len(fut_t), "forecast_time")
    truth = None if actual is None else _as_values("actual", actual, len(fut_t), "forecast_time")
    band = None
    if interval is not None:
        band = _as_interval("interval", interval, len(fut_t), "forecast_time")
    if level is not None:
        if interval is None:
            raise ConfigError("expected no level without an interval, got one", key="level")
        if isinstance(level, bool) or not isinstance(level, int | float) or not 0 < level < 1:
            raise ConfigError(f"expected a float in (0, 1), got {level!r}", key="level")
    others: dict[str, np.ndarray] = {}
    for name, values in (baselines or {}).items():
        others[str(name)] = _as_values(f"baselines[{name!r}]", values, len(fut_t), "forecast_time")

    figure, axes = _figure()
    axes.plot(hist_t, hist, color="C0", linewidth=1.2, label="history")
    if len(hist_t):
        axes.axvline(hist_t[-1], color="gray", linestyle=":", linewidth=1)
    if band is not None:
        label = "interval" if level is None else f"{round(level * 100, 6):g}% interval"
        axes.fill_between(fut_t, band[0], band[1], color="C1", alpha=_BAND_ALPHA, label=label)
    if truth is not None:
        axes.plot(fut_t, truth, color="black", linewidth=1.2, label="actual")
    for i, (name, values) in enumerate(others.items()):
        axes.plot(fut_t, values, color=f"C{2 + i % 8}", linestyle="--", linewidth=1, label=name)
    axes.plot(fut_t, pred, color="C1", linewidth=1.8, label="forecast")
    return _finish(figure, axes, path, title, hist_t)


def plot_backtest(
    path: str | os.PathLike[str],
    time: Any,
    actual: np.ndarray,
    folds: Sequence[tuple[Any, np.ndarray, np.ndarray | None, np.ndarray | None]],
    title: str = "",
) -> Path:
    """Draws a series with each backtest fold's forecast (and interval) overlaid, as a PNG.

    Each fold gets its own colour; the series is black.

    Args:
        path: The PNG file to create or replace. Its directory must exist.
        time: Times of ``actual``.
        actual: The observed series.
        folds: Per fold, ``(times, forecast, lo, hi)``: the forecast at ``times`` and its
            interval bounds, or ``None, None`` for no interval.
        title: The axes' title.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        ConfigError: A length disagrees with its times, a fold is malformed (only one
            of ``lo``/``hi``), or times of different kinds.

    Shapes:
        time, actual: (N,); per fold: times, forecast, lo, hi: (H_k,).

    Example:
        >>> import tempfile
        >>> import numpy as np
        >>> from pathlib import Path
        >>> t = np.arange(100)
        >>> folds = [(t[60:70], np.zeros(10), None, None), (t[80:90], np.ones(10), -np.ones(10),
        ...          2 * np.ones(10))]
        >>> with tempfile.TemporaryDirectory() as d:
        ...     plot_backtest(Path(d) / "backtest.png", t, np.sin(t / 5), folds).read_bytes()[:4]
        b'\\x89PNG'
    """
    t = _as_time("time", time)
    truth = _as_values("actual", actual, len(t), "time")
    if isinstance(folds, str | bytes) or not isinstance(folds, Sequence):
        raise ConfigError(
            f"expected a sequence of (times, forecast, lo, hi), got {type(folds).__name__}",
            key="folds",
        )
    checked = []
    for k, fold in enumerate(folds):
        key = f"folds[{k}]"
        if not isinstance(fold, Sequence) or len(fold) != 4:
            raise ConfigError("expected a tuple (times, forecast, lo, hi)", key=key)
        fold_t = _as_time(f"{key}.times", fold[0])
        _same_kind(("time", t), (f"{key}.times", fold_t))
        pred = _as_values(f"{key}.forecast", fold[1], len(fold_t), f"{key}.times")
        lo, hi = fold[2], fold[3]
        band = None
        if (lo is None) != (hi is None):
            raise ConfigError("expected both lo and hi, or neither, got only one", key=key)
        if lo is not None:
            band = _as_interval(key, (lo, hi), len(fold_t), f"{key}.times")
        checked.append((fold_t, pred, band))

    figure, axes = _figure()
    axes.plot(t, truth, color="black", linewidth=1, label="actual")
    for k, (fold_t, pred, band) in enumerate(checked):
        color = f"C{k % 10}"
        first = k == 0  # one legend entry for all folds: their number can be large
        if band is not None:
            axes.fill_between(
                fold_t,
                band[0],
                band[1],
                color=color,
                alpha=_BAND_ALPHA,
                label="interval" if first else None,
            )
        axes.plot(fold_t, pred, color=color, linewidth=1.6, label="forecast" if first else None)
    return _finish(figure, axes, path, title, t)


def plot_anomalies(
    path: str | os.PathLike[str],
    time: Any,
    actual: np.ndarray,
    expected: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    flagged: np.ndarray,
    title: str = "",
) -> Path:
    """Draws a series, its expected values and band, and red markers at flagged points.

    Args:
        path: The PNG file to create or replace. Its directory must exist.
        time: Times of the points.
        actual: The observed series.
        expected: What the model expected at each point.
        lo: Lower bound of the normal band.
        hi: Upper bound of the normal band.
        flagged: Boolean, True at the points flagged as anomalies.
        title: The axes' title.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        ConfigError: A length disagrees with ``time``, or ``flagged`` is not boolean.

    Shapes:
        time, actual, expected, lo, hi, flagged: (N,).

    Example:
        >>> import tempfile
        >>> import numpy as np
        >>> from pathlib import Path
        >>> t = np.arange(50)
        >>> y = np.sin(t / 4)
        >>> y[30] = 3.0
        >>> with tempfile.TemporaryDirectory() as d:
        ...     plot_anomalies(Path(d) / "a.png", t, y, np.sin(t / 4), y * 0 - 1.2, y * 0 + 1.2,
        ...                    np.abs(y) > 1.2).read_bytes()[:4]
        b'\\x89PNG'
    """
    t = _as_time("time", time)
    truth = _as_values("actual", actual, len(t), "time")
    center = _as_values("expected", expected, len(t), "time")
    band = _as_interval("", (lo, hi), len(t), "time")
    marks = np.asarray(flagged)
    if marks.dtype != np.bool_:
        raise ConfigError(f"expected a boolean array, got dtype {marks.dtype}", key="flagged")
    if marks.ndim != 1 or len(marks) != len(t):
        raise ConfigError(
            f"expected length {len(t)} (as time), got shape {marks.shape}", key="flagged"
        )

    figure, axes = _figure()
    axes.fill_between(t, band[0], band[1], color="C0", alpha=_BAND_ALPHA, label="normal band")
    axes.plot(t, center, color="C0", linewidth=1, linestyle="--", label="expected")
    axes.plot(t, truth, color="black", linewidth=1, label="actual")
    count = int(marks.sum())
    if count:
        axes.scatter(
            t[marks], truth[marks], color="red", s=24, zorder=3, label=f"anomaly ({count})"
        )
    return _finish(figure, axes, path, title, t)


# ---------------------------------------------------------------------------------------------
# Internals
# ---------------------------------------------------------------------------------------------


def _figure() -> tuple[Any, Any]:
    # Imported here: matplotlib takes a noticeable fraction of a second to import.
    from matplotlib.figure import Figure

    figure = Figure(figsize=_SIZE, layout="constrained")
    return figure, figure.add_subplot()


def _finish(
    figure: Any, axes: Any, path: str | os.PathLike[str], title: str, time: np.ndarray
) -> Path:
    """Labels, legend and date ticks; renders the PNG and writes it atomically."""
    if time.dtype.kind == "M":
        from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

        locator = AutoDateLocator()
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    else:
        axes.set_xlabel("step")
    if title:
        axes.set_title(str(title))
    axes.grid(True, alpha=0.3)
    axes.legend(loc="best", fontsize="small")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=_DPI)
    return atomic_write_bytes(path, buffer.getvalue())


def _as_time(name: str, value: Any) -> np.ndarray:
    """Times as a 1-D datetime64 or float array (time zones dropped, wall-clock kept)."""
    import pandas as pd

    if isinstance(value, pd.DatetimeIndex | pd.Series) and isinstance(
        value.dtype, pd.DatetimeTZDtype
    ):
        value = value if isinstance(value, pd.DatetimeIndex) else pd.DatetimeIndex(value)
        value = value.tz_localize(None)
    array = np.asarray(value)
    if array.ndim != 1:
        raise ConfigError(f"expected 1-D times, got shape {array.shape}", key=name)
    if array.dtype.kind == "M":
        return array.astype("datetime64[ns]")
    if array.dtype.kind in "iuf":
        return array.astype(np.float64)
    # datetime / Timestamp objects (not strings: a date is never guessed from text).
    if array.dtype == object and pd.api.types.infer_dtype(array) in ("datetime", "datetime64"):
        try:
            return np.asarray(pd.DatetimeIndex(array).tz_localize(None), dtype="datetime64[ns]")
        except (TypeError, ValueError):
            pass  # e.g. mixed time zones
    raise ConfigError(
        f"expected a DatetimeIndex, datetime64 or numeric times, got dtype {array.dtype}", key=name
    )


def _same_kind(*named: tuple[str, np.ndarray]) -> None:
    kinds = {name: "datetime" if t.dtype.kind == "M" else "numeric" for name, t in named}
    if len(set(kinds.values())) > 1:
        detail = ", ".join(f"{name} {kind}" for name, kind in kinds.items())
        raise ConfigError(f"expected times of one kind, got {detail}", key=named[-1][0])


def _as_values(name: str, value: Any, length: int, time_name: str) -> np.ndarray:
    """Values as a 1-D float64 array of ``length`` points (NaN allowed: drawn as gaps)."""
    array = np.asarray(value)
    if array.ndim != 1:
        raise ConfigError(f"expected a 1-D array, got shape {array.shape}", key=name)
    if array.dtype.kind not in "iuf":
        raise ConfigError(f"expected real numbers, got dtype {array.dtype}", key=name)
    if len(array) != length:
        raise ConfigError(f"expected length {length} (as {time_name}), got {len(array)}", key=name)
    return array.astype(np.float64)


def _as_interval(
    name: str, value: Any, length: int, time_name: str
) -> tuple[np.ndarray, np.ndarray]:
    """``(lo, hi)`` as two 1-D float64 arrays of ``length`` points."""
    if not isinstance(value, Sequence) or len(value) != 2:
        raise ConfigError("expected a pair (lo, hi)", key=name or "interval")
    prefix = f"{name}." if name else ""
    lo = _as_values(f"{prefix}lo", value[0], length, time_name)
    hi = _as_values(f"{prefix}hi", value[1], length, time_name)
    return lo, hi
