"""Cutting windows: :func:`window_starts` gives the start rows of the (look-back, horizon)
windows whose targets lie in one part (the look-back may reach into the part before, the
LTSF convention), and :func:`make_windows` copies those windows out of a series."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from rnnkit.config import ConfigError
from rnnkit.data.timeseries._common import _check_positive_int

__all__ = ["make_windows", "window_starts"]


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
