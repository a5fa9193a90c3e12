"""A trained forecaster with its data settings, scaler and interval calibration: forecast,
evaluate against baselines, backtest, flag anomalies, and plot each of them.

Prediction intervals: a Gaussian or quantile model gives its own. A point model gets them
by split-conformal calibration (Vovk et al. 2005; Lei et al. 2018): after training, the
absolute errors on the validation windows give, per horizon step and target, the quantile
that covers a chosen share of them; ``forecast ± that width`` is the interval. (Time series
are not exchangeable, so the coverage is approximate; ``eval`` reports the coverage reached
on the test windows.)
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd
import torch

from rnnkit.config import ConfigError
from rnnkit.data.timeseries import SeriesScaler, TimingReport, make_windows, window_starts
from rnnkit.data.timestamps import parse_timestamps
from rnnkit.models.forecaster import Forecaster, ForecastOutput, prediction_interval
from rnnkit.tasks.forecast import data as fdata
from rnnkit.tasks.forecast.baselines import LinearBaseline, naive, seasonal_naive
from rnnkit.tasks.forecast.batches import WindowBatches
from rnnkit.tasks.forecast.config import ForecastConfig
from rnnkit.tasks.forecast.data import Cleaned, ForecastDataConfig, PreparedSeries
from rnnkit.tasks.forecast.metrics import ForecastScores, forecast_scores
from rnnkit.training.rundir import RunDir

__all__ = [
    "CALIBRATION_LEVELS",
    "Evaluation",
    "ForecasterTask",
    "Forecasts",
    "calibrate",
    "future_index",
]

# Coverage levels whose conformal widths are saved for point models.
CALIBRATION_LEVELS: tuple[float, ...] = (0.5, 0.8, 0.9, 0.95, 0.98, 0.99)


class Forecasts(NamedTuple):
    """Forecasts of some windows, scaled like the series: point and interval (W, H, T)."""

    mean: np.ndarray
    lower: np.ndarray | None
    upper: np.ndarray | None


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """Model and baselines on the same windows.

    Attributes:
        source: What was evaluated (file and part).
        windows: Number of windows.
        scaled: Scores on the scaled series (the LTSF convention), model first.
        original: Scores in the data's own units, model first.
        coverage: Share of actual values inside the prediction interval (None without one).
        level: The interval's nominal coverage.
    """

    source: str
    windows: int
    scaled: dict[str, ForecastScores]
    original: dict[str, ForecastScores]
    coverage: float | None
    level: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "windows": self.windows,
            "scaled": {name: s.to_dict() for name, s in self.scaled.items()},
            "original": {name: s.to_dict() for name, s in self.original.items()},
            "coverage": self.coverage,
            "level": self.level,
        }


class ForecasterTask:
    """A trained forecaster with its data settings, scaler and interval calibration.

    Use :func:`train` to make one and :func:`rnnkit.load` to get one back from a run.
    """

    def __init__(
        self,
        config: ForecastConfig,
        model: Forecaster,
        scaler: SeriesScaler,
        *,
        calibration: dict[str, Any] | None = None,
        run: RunDir | None = None,
    ) -> None:
        self.config, self.model, self.scaler = config, model.eval(), scaler
        self.calibration, self.run = calibration, run
        self._linear: tuple[np.ndarray, LinearBaseline | None] | None = None

    @property
    def targets(self) -> list[str]:
        return self.config.data.targets

    # -- forecasting windows (scaled) --

    @torch.no_grad()
    def forecast_windows(
        self, values: np.ndarray, starts: np.ndarray, level: float | None = 0.9
    ) -> Forecasts:
        """Forecasts of the windows starting at ``starts`` of the scaled series ``values``.

        Shapes:
            values (N, C) scaled -> mean, lower, upper (W, H, T) scaled.
        """
        data = self.config.data
        device = next(self.model.parameters()).device
        means, lows, highs = [], [], []
        batches = WindowBatches(values, starts, data, data.eval_batch_size)
        for batch in batches:
            out = self.model(batch.inputs.to(device))
            means.append(out.mean.float().cpu().numpy())
            bounds = self._interval(out, level)
            if bounds is not None:
                lows.append(bounds[0])
                highs.append(bounds[1])
        mean = _stack(means, data, len(self.targets))
        if level is None or not lows:
            return Forecasts(mean, None, None)
        return Forecasts(mean, np.concatenate(lows), np.concatenate(highs))

    def _interval(
        self, out: ForecastOutput, level: float | None
    ) -> tuple[np.ndarray, np.ndarray] | None:
        if level is None:
            return None
        if self.config.model.output != "point":
            bounds = prediction_interval(out, level)
            assert bounds is not None
            return bounds[0].float().cpu().numpy(), bounds[1].float().cpu().numpy()
        width = self.conformal_width(level)
        if width is None:
            return None
        mean = out.mean.float().cpu().numpy()
        return mean - width, mean + width

    def conformal_width(self, level: float) -> np.ndarray | None:
        """The calibrated half-width (H, T) of a point model's ``level`` interval (scaled)."""
        if self.calibration is None:
            return None
        levels = self.calibration["levels"]
        if level not in levels:
            shown = ", ".join(str(v) for v in levels)
            raise ConfigError(
                f"expected one of the calibrated levels {shown}, got {level}", key="level"
            )
        return np.asarray(self.calibration["width"][levels.index(level)], dtype=np.float32)

    def to_original(self, scaled: np.ndarray) -> np.ndarray:
        """Target values (..., T) from the scaled series back in the data's units."""
        return fdata.untransform(
            self.scaler.inverse(scaled, columns=self.targets), self.config.data
        )

    # -- prediction --

    def clean(self, frame: pd.DataFrame) -> Cleaned:
        """A recent stretch of the series, cleaned as the training data was."""
        return fdata.clean_frame(frame, self.config.data)

    def forecast(self, frame: pd.DataFrame | Cleaned, level: float | None = 0.9) -> pd.DataFrame:
        """Forecasts the ``horizon`` steps after the end of ``frame``.

        Args:
            frame: At least ``lookback`` recent rows with the run's target and covariate
                columns (a DatetimeIndex gives the forecasts timestamps).
            level: Coverage of the prediction interval (None: point forecasts only).

        Returns:
            One row per future step, indexed by timestamp (or position): each target's
            forecast, and ``<target>_lower`` / ``<target>_upper`` when there is an interval.

        Example (``fc = rnnkit.load("runs/sine")``)::

            >>> fc.forecast(recent).head(2)  # doctest: +SKIP
                      value  value_lower  value_upper
            time
            200    0.481152     0.301027     0.661277
        """
        cleaned = frame if isinstance(frame, Cleaned) else self.clean(frame)
        data = self.config.data
        n = len(cleaned.frame)
        if n < data.lookback:
            raise ConfigError(
                f"the model reads {data.lookback} steps; the data has {n} rows", key="data"
            )
        values = self.scaler.transform(cleaned.frame.to_numpy(dtype=np.float64))
        padded = np.concatenate([values, np.zeros((data.horizon, values.shape[1]), np.float32)])
        got = self.forecast_windows(padded, np.array([n - data.lookback]), level)
        index = future_index(cleaned.frame.index, data.horizon, cleaned.timing)
        out = pd.DataFrame(self.to_original(got.mean[0]), index=index, columns=self.targets)
        if got.lower is not None and got.upper is not None:
            lower, upper = self.to_original(got.lower[0]), self.to_original(got.upper[0])
            for j, name in enumerate(self.targets):
                out[f"{name}_lower"], out[f"{name}_upper"] = lower[:, j], upper[:, j]
        return out

    def predict(self, inputs: Sequence[Any], *, level: float | None = None) -> list[dict]:
        """The predictor interface: a forecast of the ``horizon`` steps after each input.

        Each input is a recent stretch of the series, ``{"rows": [{column: value, ...}, ...]}``
        with the run's target and covariate columns (and its time column, when it has one, as
        ISO timestamps), oldest first, at least ``lookback`` rows. Each output is
        ``{"forecast": [{"time": ..., target: ..., target_lower: ..., ...}, ...]}`` (``time``
        is a timestamp, or the position after the last row); ``level`` is the interval's
        coverage (default :meth:`interval_level`'s).

        Raises:
            ConfigError: An input that is not such a series (which one and why).
        """
        if isinstance(inputs, pd.DataFrame):
            raise ConfigError(
                'predict takes JSON-able inputs ([{"rows": [...]}, ...]); forecast(frame) '
                "takes a DataFrame",
                key="inputs",
            )
        level = self.interval_level(level)
        outputs = []
        for i, item in enumerate(inputs):
            table = self.forecast(self.clean(_frame_of(item, self.config.data, i)), level)
            index = [str(t) if isinstance(t, pd.Timestamp) else int(t) for t in table.index]
            records = table.to_dict(orient="records")
            outputs.append(
                {"forecast": [{"time": t, **r} for t, r in zip(index, records, strict=True)]}
            )
        return outputs

    def interval_level(self, level: float | None, default: float = 0.9) -> float | None:
        """The prediction interval's coverage to use: ``level`` if given, else ``default``;
        a quantile model's outer quantiles span at most their own level (and that is its
        default); a point model without calibration has none (None).

        Raises:
            ConfigError: ``level`` is wider than a quantile model's quantiles span.
        """
        model = self.config.model
        if model.output == "quantile":
            spanned = round(model.quantiles[-1] - model.quantiles[0], 6)
            if level is not None and level > spanned + 1e-9:
                raise ConfigError(
                    f"the model's quantiles {model.quantiles} span a {spanned:.0%} interval; "
                    f"got --level {level}",
                    key="level",
                )
            return spanned if level is None else level
        if model.output == "point" and self.calibration is None:
            return None
        return default if level is None else level

    # -- evaluation --

    def prepared(self, path: str | None = None) -> PreparedSeries:
        """The run's series (or the file ``path`` read the same way), split and scaled with
        the run's scaler."""
        return fdata.prepare(self.config.data, self.scaler, path)

    def evaluate(
        self, prep: PreparedSeries, part: Literal["valid", "test"] = "test", level: float = 0.9
    ) -> Evaluation:
        """Model, naive, seasonal-naive and linear forecasts scored on the same windows."""
        data = self.config.data
        bounds = getattr(prep.bounds, part)
        starts = window_starts(bounds, data.lookback, data.horizon, data.eval_step)
        if len(starts) == 0:
            raise ConfigError(
                f"the {part} part (rows {bounds[0]}-{bounds[1]}) is too short for one window of "
                f"{data.lookback} + {data.horizon} steps",
                key="split",
            )
        x, y = make_windows(prep.values, starts, data.lookback, data.horizon)
        t = len(self.targets)
        got = self.forecast_windows(prep.values, starts, level)
        preds = {"model": got.mean, **self.baselines(prep, x)}
        actual = y[..., :t]
        scaled = {name: forecast_scores(pred, actual) for name, pred in preds.items()}
        actual_raw = self.to_original(actual)
        original = {
            name: forecast_scores(self.to_original(pred), actual_raw)
            for name, pred in preds.items()
        }
        coverage = None
        if got.lower is not None and got.upper is not None:
            inside = (actual >= got.lower) & (actual <= got.upper)
            coverage = float(inside.mean())
        source = f"{fdata.data_path(data)} ({part}: rows {bounds[0]}-{bounds[1]})"
        return Evaluation(
            source, len(starts), scaled, original, coverage, level if coverage is not None else None
        )

    def baselines(self, prep: PreparedSeries, x: np.ndarray) -> dict[str, np.ndarray]:
        """Naive, seasonal-naive (when the season fits in the look-back) and linear forecasts
        of the target channels of windows ``x`` (W, L, C), scaled."""
        data = self.config.data
        t = len(self.targets)
        out = {"naive": naive(x, data.horizon)[..., :t]}
        season = data.season_steps
        if season is not None and season <= data.lookback:
            out["seasonal_naive"] = seasonal_naive(x, data.horizon, season)[..., :t]
        linear = self._linear_baseline(prep)
        if linear is not None:
            out["linear"] = linear.predict(x[..., :t])
        return out

    def _linear_baseline(self, prep: PreparedSeries) -> LinearBaseline | None:
        """The linear baseline fitted on ``prep``'s training windows (kept for the last
        series asked about, so evaluation, plots and backtests fit it once)."""
        if self._linear is None or self._linear[0] is not prep.values:
            data, t = self.config.data, len(self.targets)
            starts = window_starts(prep.bounds.train, data.lookback, data.horizon, data.stride)
            fitted = None
            if len(starts):
                x, y = make_windows(prep.values, starts, data.lookback, data.horizon)
                fitted = LinearBaseline().fit(x[..., :t], y[..., :t])
            self._linear = (prep.values, fitted)
        return self._linear[1]

    def backtest(
        self, prep: PreparedSeries, folds: int, level: float = 0.9
    ) -> list[dict[str, Any]]:
        """Rolling-origin evaluation: the last ``folds`` non-overlapping horizons of the
        series, each forecast from the ``lookback`` steps before it (the model is not
        refitted between origins).

        Returns:
            One record per fold (oldest first): ``start`` (first forecast row), ``scores``
            (model and baselines, original units), and the arrays for plotting.
        """
        data = self.config.data
        n = len(prep.values)
        most = (n - data.lookback) // data.horizon
        if not 1 <= folds <= most:
            raise ConfigError(
                f"expected 1 to {most} folds for {n} rows, got {folds}", key="backtest"
            )
        starts = np.array(
            [n - data.lookback - data.horizon * k for k in range(folds, 0, -1)], dtype=np.int64
        )
        x, y = make_windows(prep.values, starts, data.lookback, data.horizon)
        t = len(self.targets)
        got = self.forecast_windows(prep.values, starts, level)
        base = self.baselines(prep, x)
        records = []
        for i, start in enumerate(starts):
            actual = self.to_original(y[i : i + 1, :, :t])
            preds = {"model": got.mean[i : i + 1], **{k: v[i : i + 1] for k, v in base.items()}}
            scores = {k: forecast_scores(self.to_original(v), actual) for k, v in preds.items()}
            records.append(
                {
                    "start": int(start + data.lookback),
                    "scores": scores,
                    "forecast": self.to_original(got.mean[i]),
                    "lower": None if got.lower is None else self.to_original(got.lower[i]),
                    "upper": None if got.upper is None else self.to_original(got.upper[i]),
                }
            )
        return records

    # -- anomaly flags --

    def detect(self, frame: pd.DataFrame | Cleaned, level: float = 0.99) -> pd.DataFrame:
        """Flags points outside the one-step-ahead prediction interval.

        Every point after the first ``lookback`` rows is forecast from the ``lookback`` rows
        before it; the score is the distance from the forecast in units of the interval's
        half-width (above 1: outside the interval, flagged).

        Returns:
            One row per (time, target): ``actual``, ``expected``, ``lower``, ``upper``,
            ``score``, ``anomaly`` (bool), in the data's units.
        """
        cleaned = frame if isinstance(frame, Cleaned) else self.clean(frame)
        data = self.config.data
        n = len(cleaned.frame)
        if n <= data.lookback:
            raise ConfigError(
                f"detection needs more than {data.lookback} rows (the look-back); got {n}",
                key="data",
            )
        values = self.scaler.transform(cleaned.frame.to_numpy(dtype=np.float64))
        padded = np.concatenate([values, np.zeros((data.horizon, values.shape[1]), np.float32)])
        starts = np.arange(0, n - data.lookback, dtype=np.int64)
        got = self.forecast_windows(padded, starts, level)
        if got.lower is None or got.upper is None:
            raise ConfigError("this run has no prediction interval to detect with", key="level")
        t = len(self.targets)
        actual = values[data.lookback :, :t]
        expected, lower, upper = got.mean[:, 0], got.lower[:, 0], got.upper[:, 0]
        half = np.maximum((upper - lower) / 2, 1e-12)
        score = np.abs(actual - expected) / half
        times = cleaned.frame.index[data.lookback :]
        rows = []
        for j, name in enumerate(self.targets):
            rows.append(
                pd.DataFrame(
                    {
                        "time": times,
                        "target": name,
                        "actual": self.to_original(actual)[:, j],
                        "expected": self.to_original(expected)[:, j],
                        "lower": self.to_original(lower)[:, j],
                        "upper": self.to_original(upper)[:, j],
                        "score": score[:, j],
                        "anomaly": score[:, j] > 1.0,
                    }
                )
            )
        return pd.concat(rows, ignore_index=True)


def _stack(parts: list[np.ndarray], data: ForecastDataConfig, targets: int) -> np.ndarray:
    if parts:
        return np.concatenate(parts)
    return np.zeros((0, data.horizon, targets), dtype=np.float32)


def future_index(index: pd.Index, horizon: int, timing: TimingReport | None) -> pd.Index:
    """The ``horizon`` timestamps (or positions) after the end of ``index``.

    Timestamps continue at the series' regular frequency (``timing.freq``: calendar months
    stay month starts), else at its last step. Positions continue an integer index, else
    count on from its length.
    """
    if not isinstance(index, pd.DatetimeIndex):
        last = int(index[-1]) if pd.api.types.is_integer_dtype(index) else len(index) - 1
        return pd.RangeIndex(last + 1, last + 1 + horizon, name=index.name)
    if timing is not None and timing.freq is not None:
        return pd.date_range(index[-1], periods=horizon + 1, freq=timing.freq, name=index.name)[1:]
    if len(index) < 2:
        raise ConfigError("one timestamp does not tell the series' step", key="data")
    step = index[-1] - index[-2]
    return pd.DatetimeIndex([index[-1] + step * (h + 1) for h in range(horizon)], name=index.name)


def calibrate(task: ForecasterTask, prep: PreparedSeries) -> dict[str, Any] | None:
    """Split-conformal half-widths (levels x H x T, scaled) from the validation windows (or,
    without any, the last fifth of the training windows)."""
    data = task.config.data
    starts = window_starts(prep.bounds.valid, data.lookback, data.horizon, 1)
    if len(starts) == 0:
        train = window_starts(prep.bounds.train, data.lookback, data.horizon, 1)
        starts = train[-max(len(train) // 5, 1) :]
    if len(starts) == 0:
        return None
    _, y = make_windows(prep.values, starts, data.lookback, data.horizon)
    got = task.forecast_windows(prep.values, starts, level=None)
    errors = np.abs(got.mean - y[..., : len(task.targets)])  # (W, H, T)
    n = len(errors)
    widths = []
    for level in CALIBRATION_LEVELS:
        # The ceil((n+1) level)-th smallest error: the finite-sample conformal quantile.
        q = min(math.ceil((n + 1) * level) / n, 1.0)
        widths.append(np.quantile(errors, q, axis=0, method="higher").tolist())
    return {"levels": list(CALIBRATION_LEVELS), "width": widths, "windows": n}


def _frame_of(item: Any, data: ForecastDataConfig, index: int) -> pd.DataFrame:
    """A predictor input (``{"rows": [...]}``) as the frame :meth:`ForecasterTask.clean` reads."""
    rows = item.get("rows") if isinstance(item, dict) else None
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        raise ConfigError(
            'expected {"rows": [{column: value, ...}, ...]} with at least one row, got '
            f"{type(item).__name__}",
            key=f"[{index}]",
        )
    frame = pd.DataFrame.from_records(rows)
    time = data.time_column
    if time is not None and time in frame.columns:
        stamps = parse_timestamps(frame.pop(time))
        if stamps.isna().any():
            bad = int(stamps.isna().to_numpy().argmax())
            raise ConfigError(f"row {bad}: {time!r} is not a timestamp", key=f"[{index}]")
        frame.index = pd.DatetimeIndex(stamps, name=time)
    return frame
