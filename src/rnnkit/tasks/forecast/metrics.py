"""Forecast accuracy: MSE, MAE, RMSE, MAPE and sMAPE, overall and per horizon step.

:func:`forecast_scores` scores forecasts against the truth, both (W, H, C): W windows, H
horizon steps, C channels. A :class:`ForecastScores` is a plain frozen value that turns into
JSON (:meth:`~ForecastScores.to_dict`); several of them (the model and its baselines, on the
same windows) compare as rows of ratios (:func:`compare`) or text tables (:func:`format_table`,
:func:`format_per_step`). Nothing here prints.

Definitions, with ``e = actual - pred`` over the points that count:

- ``mse`` = mean(e^2); ``rmse`` = sqrt(mse) of the same points (not a mean of per-window
  RMSEs); ``mae`` = mean(|e|).
- ``mape`` (percent) = 100 * mean(|e| / |actual|) over the points with ``actual != 0`` (a zero
  has no relative error); NaN when there is none.
- ``smape`` (percent, 0 to 200) = 100 * mean(2|e| / (|actual| + |pred|)), a point with
  ``actual == pred == 0`` counting as 0 (a perfect forecast).

Missing truth: points where ``actual`` is NaN are left out of every metric (their count
differs per step then). NaN in ``pred`` is *not* left out: a model that forecasts NaN scores
NaN. A metric with no point to average is NaN.

Example:
    >>> import numpy as np
    >>> actual = np.array([1.0, 2.0, 4.0]).reshape(1, 3, 1)  # (W=1, H=3, C=1)
    >>> pred = np.array([1.0, 3.0, 2.0]).reshape(1, 3, 1)
    >>> s = forecast_scores(pred, actual)
    >>> s.overall["mse"], s.overall["mae"], s.per_step["mae"]
    (1.6666666666666667, 1.0, [0.0, 1.0, 2.0])
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from rnnkit.config import ConfigError
from rnnkit.tasks.common.text_table import table_lines

__all__ = [
    "METRICS",
    "ForecastScores",
    "check_windows",
    "compare",
    "forecast_scores",
    "format_per_step",
    "format_table",
]

METRICS: tuple[str, ...] = ("mse", "mae", "rmse", "mape", "smape")

# Most per-step columns format_per_step shows by default (evenly spaced, always 1 and H).
_DEFAULT_STEP_COLUMNS = 8


@dataclasses.dataclass(frozen=True)
class ForecastScores:
    """The accuracy of forecasts of W windows, H steps and C channels.

    Attributes:
        overall: Each metric of :data:`METRICS` over all windows, steps and channels.
        per_step: Each metric per horizon step: ``per_step[m][h - 1]`` is metric ``m`` at
            step ``h`` (1..H), over all windows and channels.
        count: Number of windows W.

    Shapes:
        per_step[m]: (H,).
    """

    overall: dict[str, float]
    per_step: dict[str, list[float]]
    count: int

    @property
    def horizon(self) -> int:
        """The number of horizon steps H."""
        return len(self.per_step[METRICS[0]])

    def to_dict(self) -> dict[str, Any]:
        """The scores as JSON-ready plain types; NaN stays a float NaN.

        Example:
            >>> import numpy as np
            >>> d = forecast_scores(np.zeros((2, 1, 1)), np.ones((2, 1, 1))).to_dict()
            >>> d["count"], d["overall"]["mse"], d["per_step"]["mape"]
            (2, 1.0, [100.0])
        """
        return {
            "count": self.count,
            "overall": dict(self.overall),
            "per_step": {name: list(values) for name, values in self.per_step.items()},
        }


def forecast_scores(pred: np.ndarray, actual: np.ndarray) -> ForecastScores:
    """Scores forecasts against the truth (definitions in the module docstring).

    Args:
        pred: The forecasts.
        actual: The true values, same shape; NaN marks a missing point, left out.

    Returns:
        The :class:`ForecastScores`.

    Raises:
        ConfigError: Not non-empty 3-D real arrays, or the shapes differ; the message names
            the argument.

    Shapes:
        pred: (W, H, C); actual: (W, H, C); per-step lists: (H,).

    Example:
        >>> import numpy as np
        >>> actual = np.array([[[0.0], [2.0]], [[4.0], [np.nan]]])  # (W=2, H=2, C=1)
        >>> pred = np.array([[[0.0], [1.0]], [[5.0], [9.0]]])
        >>> s = forecast_scores(pred, actual)
        >>> s.overall["mae"], s.overall["mape"], s.per_step["mape"]
        (0.6666666666666666, 37.5, [25.0, 50.0])
        >>> forecast_scores(np.zeros((2, 3, 1)), np.zeros((2, 4, 1)))
        Traceback (most recent call last):
            ...
        rnnkit.config.ConfigError: pred: expected the shape of actual (2, 4, 1), got (2, 3, 1)
    """
    p = check_windows("pred", pred).astype(np.float64, copy=False)
    a = check_windows("actual", actual).astype(np.float64, copy=False)
    if p.shape != a.shape:
        raise ConfigError(f"expected the shape of actual {a.shape}, got {p.shape}", key="pred")
    present = ~np.isnan(a)  # (W, H, C)
    a = np.where(present, a, 0.0)  # the zeros never count: every sum below is masked
    abs_error = np.abs(a - p)  # (W, H, C)
    nonzero = present & (a != 0)  # (W, H, C)
    denominator = np.abs(a) + np.abs(p)  # (W, H, C)
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(nonzero, abs_error / np.where(nonzero, np.abs(a), 1.0), 0.0)
        # 0/0 (actual == pred == 0) is a perfect forecast: 0. NaN in pred stays NaN.
        symmetric = np.where(denominator == 0, 0.0, 2.0 * abs_error / denominator)
    squared = np.where(present, abs_error**2, 0.0)
    absolute = np.where(present, abs_error, 0.0)
    symmetric = np.where(present, symmetric, 0.0)

    def per_axis(axis: tuple[int, ...] | None) -> dict[str, Any]:
        n = present.sum(axis=axis)
        n_nonzero = nonzero.sum(axis=axis)
        mse = _mean(squared.sum(axis=axis), n)
        return {
            "mse": mse,
            "mae": _mean(absolute.sum(axis=axis), n),
            "rmse": np.sqrt(mse),
            "mape": 100.0 * _mean(relative.sum(axis=axis), n_nonzero),
            "smape": 100.0 * _mean(symmetric.sum(axis=axis), n),
        }

    overall = per_axis(None)
    per_step = per_axis((0, 2))  # (H,) each
    return ForecastScores(
        overall={name: float(overall[name]) for name in METRICS},
        per_step={name: [float(v) for v in per_step[name]] for name in METRICS},
        count=int(p.shape[0]),
    )


def compare(
    scores: Mapping[str, ForecastScores], metric: str = "mse", relative_to: str | None = None
) -> list[tuple[str, float, float]]:
    """One metric of several forecasters, each with its ratio to a reference forecaster.

    Args:
        scores: Name -> scores, in display order (e.g. the model, then its baselines), all
            on the same windows.
        metric: One of :data:`METRICS`.
        relative_to: The name of the reference (e.g. ``"naive"``); None means the first
            entry. A ratio below 1 is better than the reference.

    Returns:
        ``(name, value, value / reference value)`` per entry, in ``scores`` order. The ratio
        is NaN when it is undefined (a NaN value, or both 0), infinity for x / 0 with x > 0.

    Raises:
        ConfigError: No entry, an unknown ``metric``, or ``relative_to`` not in ``scores``.

    Example:
        >>> import numpy as np
        >>> truth = np.ones((1, 2, 1))
        >>> scores = {
        ...     "lstm": forecast_scores(np.full((1, 2, 1), 1.5), truth),
        ...     "naive": forecast_scores(np.full((1, 2, 1), 2.0), truth),
        ... }
        >>> compare(scores, "mae", relative_to="naive")
        [('lstm', 0.5, 0.5), ('naive', 1.0, 1.0)]
    """
    _check_scores(scores)
    _check_metric(metric)
    if relative_to is None:
        relative_to = next(iter(scores))
    elif relative_to not in scores:
        raise ConfigError(
            f"expected one of {sorted(scores)}, got {relative_to!r}", key="relative_to"
        )
    reference = scores[relative_to].overall[metric]
    return [
        (name, s.overall[metric], _ratio(s.overall[metric], reference))
        for name, s in scores.items()
    ]


def format_table(scores: Mapping[str, ForecastScores], metrics: Sequence[str] = METRICS) -> str:
    """A text table of overall scores: one row per forecaster, one column per metric.

    Args:
        scores: Name -> scores, in row order.
        metrics: The columns, each one of :data:`METRICS`.

    Returns:
        The table, lines joined by newlines (no trailing newline); names left-aligned,
        numbers right-aligned (4 decimals; scientific notation outside [1e-3, 1e6)).

    Raises:
        ConfigError: No entry, or an unknown or no metric.

    Example:
        >>> import numpy as np
        >>> truth = np.array([1.0, 2.0]).reshape(1, 2, 1)
        >>> scores = {
        ...     "gru": forecast_scores(truth + 0.5, truth),
        ...     "naive": forecast_scores(np.ones((1, 2, 1)), truth),
        ... }
        >>> print(format_table(scores, metrics=("mse", "mae", "smape")))
        forecaster     mse     mae    smape
        gru         0.2500  0.5000  31.1111
        naive       0.5000  0.5000  33.3333
    """
    _check_scores(scores)
    columns = _check_metrics(metrics)
    rows = [[name, *(_number(s.overall[m]) for m in columns)] for name, s in scores.items()]
    return "\n".join(table_lines(["forecaster", *columns], rows))


def format_per_step(
    scores: Mapping[str, ForecastScores],
    metric: str = "mse",
    steps: Sequence[int] | None = None,
) -> str:
    """A text table of one metric per horizon step: one row per forecaster.

    Args:
        scores: Name -> scores, in row order, all with the same horizon H.
        metric: One of :data:`METRICS`.
        steps: The horizon steps (1-based) to show as columns; None shows all of them when
            H <= 8, else 8 evenly spaced ones including 1 and H.

    Returns:
        The table, lines joined by newlines, columns headed ``h=<step>``.

    Raises:
        ConfigError: No entry, different horizons, an unknown ``metric``, or a step outside
            [1, H].

    Example:
        >>> import numpy as np
        >>> truth = np.zeros((1, 96, 1))
        >>> pred = np.arange(1.0, 97.0).reshape(1, 96, 1)  # error h at step h
        >>> print(format_per_step({"naive": forecast_scores(pred, truth)}, "mae"))
        forecaster     h=1     h=15     h=28     h=42     h=55     h=69     h=82     h=96
        naive       1.0000  15.0000  28.0000  42.0000  55.0000  69.0000  82.0000  96.0000
        >>> print(format_per_step({"naive": forecast_scores(pred, truth)}, "mae", steps=[1, 24]))
        forecaster     h=1     h=24
        naive       1.0000  24.0000
    """
    _check_scores(scores)
    _check_metric(metric)
    horizons = {name: s.horizon for name, s in scores.items()}
    horizon = next(iter(horizons.values()))
    if len(set(horizons.values())) > 1:
        raise ConfigError(
            f"expected the same horizon for every entry, got {horizons}", key="scores"
        )
    if steps is None:
        count = min(horizon, _DEFAULT_STEP_COLUMNS)
        columns = sorted({int(round(s)) for s in np.linspace(1, horizon, count)})
    else:
        columns = list(steps)
        for i, step in enumerate(columns):
            if isinstance(step, bool) or not isinstance(step, int | np.integer):
                raise ConfigError(f"expected an int, got {step!r}", key=f"steps[{i}]")
            if not 1 <= step <= horizon:
                raise ConfigError(
                    f"expected a step in [1, H={horizon}], got {step}", key=f"steps[{i}]"
                )
        if not columns:
            raise ConfigError("expected at least 1 step, got none", key="steps")
    rows = [
        [name, *(_number(s.per_step[metric][step - 1]) for step in columns)]
        for name, s in scores.items()
    ]
    return "\n".join(table_lines(["forecaster", *(f"h={step}" for step in columns)], rows))


# ---------------------------------------------------------------------------------------------
# Internals
# ---------------------------------------------------------------------------------------------


def check_windows(name: str, value: np.ndarray, axes: str = "W, H, C") -> np.ndarray:
    """``value`` as a non-empty 3-D real array with axes ``axes`` (for messages); floats keep
    their dtype, ints become float64.

    Raises:
        ConfigError: Another rank, an empty axis, or bools, complex numbers or objects.
    """
    array = np.asarray(value)
    if array.ndim != 3:
        raise ConfigError(f"expected a 3-D array ({axes}), got shape {array.shape}", key=name)
    if 0 in array.shape:
        raise ConfigError(f"expected a non-empty array ({axes}), got shape {array.shape}", key=name)
    if array.dtype.kind not in "iuf":  # bools, complex and objects are mistakes
        raise ConfigError(f"expected real numbers, got dtype {array.dtype}", key=name)
    return array if array.dtype.kind == "f" else array.astype(np.float64)


def _mean(total: np.ndarray, count: np.ndarray) -> np.ndarray:
    """total / count, NaN where count is 0 (without a warning)."""
    total = np.asarray(total, dtype=np.float64)
    count = np.asarray(count)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _ratio(value: float, reference: float) -> float:
    if math.isnan(value) or math.isnan(reference):
        return math.nan
    if reference == 0:
        return math.nan if value == 0 else math.inf
    return value / reference


def _check_scores(scores: Mapping[str, ForecastScores]) -> None:
    if not isinstance(scores, Mapping):
        raise ConfigError(
            f"expected a mapping of name to ForecastScores, got {type(scores).__name__}",
            key="scores",
        )
    if not scores:
        raise ConfigError("expected at least 1 entry, got none", key="scores")
    for name, value in scores.items():
        if not isinstance(value, ForecastScores):
            raise ConfigError(
                f"expected ForecastScores, got {type(value).__name__}", key=f"scores[{name!r}]"
            )


def _check_metric(metric: str, key: str = "metric") -> str:
    if metric not in METRICS:
        raise ConfigError(f"expected one of {', '.join(METRICS)}, got {metric!r}", key=key)
    return metric


def _check_metrics(metrics: Sequence[str]) -> list[str]:
    if isinstance(metrics, str) or not isinstance(metrics, Sequence):
        raise ConfigError(
            f"expected a sequence of metric names, got {type(metrics).__name__}", key="metrics"
        )
    if not metrics:
        raise ConfigError("expected at least 1 metric, got none", key="metrics")
    return [_check_metric(m, key=f"metrics[{i}]") for i, m in enumerate(metrics)]


def _number(value: float) -> str:
    """4 decimals for everyday magnitudes, scientific notation for tiny or huge ones."""
    if math.isnan(value) or math.isinf(value):
        return str(value)
    if value == 0 or 1e-3 <= abs(value) < 1e6:
        return f"{value:.4f}"
    return f"{value:.4e}"
