"""Data of the forecasting task: which file, which columns, cleaned, split and scaled how.

A series comes from a named dataset (``etth1``, ``household-power-daily``, ``airline``, ...)
or from any CSV/Parquet file. It is read (:func:`rnnkit.data.timeseries.read_series`),
optionally resampled to a regular frequency, its gaps filled, split chronologically, and
scaled with statistics of the training part only. Windows of ``lookback`` steps followed by
``horizon`` steps are cut from it (:func:`rnnkit.data.timeseries.window_starts`).

Channel order everywhere: the target columns first, then the covariates.
"""

from __future__ import annotations

import dataclasses
from typing import Literal, NamedTuple

import numpy as np
import pandas as pd

from rnnkit.config import ConfigError, check_field_types, validate_choice, validate_positive
from rnnkit.data.registry import locate
from rnnkit.data.timeseries import (
    FillReport,
    SeriesScaler,
    SplitBounds,
    TimingReport,
    check_timing,
    fill_missing,
    read_series,
    resample,
    split_rows,
)

__all__ = [
    "DATASETS",
    "ForecastDataConfig",
    "PreparedSeries",
    "SeriesLayout",
    "add_calendar",
    "clean_frame",
    "load_frame",
    "prepare",
    "untransform",
]

Agg = Literal["mean", "sum", "min", "max", "last"]
Fill = Literal["interpolate", "ffill", "seasonal", "none"]
Scale = Literal["standard", "minmax", "none"]
Transform = Literal["none", "log"]


class SeriesLayout(NamedTuple):
    """How a registry dataset is read and, by default, split and evaluated."""

    registry: str  # the registry dataset holding the file
    file: str
    time_col: str
    targets: str  # comma-separated
    split: str
    season: int
    eval_stride: int


_ETT_COLUMNS = "HUFL,HULL,MUFL,MULL,LUFL,LULL,OT"
DATASETS: dict[str, SeriesLayout] = {
    # LTSF "M" setting: every column is forecast; Informer's 12/4/4-month split.
    "etth1": SeriesLayout("ett", "ETTh1.csv", "date", _ETT_COLUMNS, "ett", 24, 1),
    "etth2": SeriesLayout("ett", "ETTh2.csv", "date", _ETT_COLUMNS, "ett", 24, 1),
    "ettm1": SeriesLayout("ett", "ETTm1.csv", "date", _ETT_COLUMNS, "ett", 96, 1),
    "ettm2": SeriesLayout("ett", "ETTm2.csv", "date", _ETT_COLUMNS, "ett", 96, 1),
    # Weekly forecasts from each Sunday, tested on the 46 weeks from 2010-01-03; the 26
    # weeks before it pick the epoch.
    "household-power-daily": SeriesLayout(
        "household_power",
        "household_power_consumption_days.csv",
        "datetime",
        "Global_active_power",
        "2009-07-05,2010-01-03",
        7,
        7,
    ),
    # The last 24 months are the test part; the 24 before them pick the epoch (13 windows
    # of 12 months: one window, as with 12 months, made the choice a coin toss).
    "airline": SeriesLayout(
        "airline", "airline-passengers.csv", "Month", "Passengers", "1957-01,1959-01", 12, 1
    ),
}


def _names(text: str | None) -> list[str]:
    return [] if not text else [name.strip() for name in text.split(",") if name.strip()]


@dataclasses.dataclass(frozen=True, kw_only=True)
class ForecastDataConfig:
    """Which series, read, cleaned, split, scaled and windowed how.

    Attributes:
        dataset: A registry series (``etth1``, ``etth2``, ``ettm1``, ``ettm2``,
            ``household-power-daily``, ``airline``); its columns, split and season are known.
        data: A CSV (any separator, ``.gz`` too) or Parquet file instead.
        target: Comma-separated columns to forecast (default for a dataset: its usual ones).
        covariates: Comma-separated extra input columns (read, never forecast).
        time_col: The timestamp column, or two joined with a comma (``Date,Time``).
        sep: The field separator of a CSV file (``;`` for the UCI household power file).
        na_values: Comma-separated markers of a missing value (``?``); an empty field is
            always missing.
        dayfirst: Dates are day first (``16/12/2006``).
        freq: Resample to this frequency (``1h``, ``15min``, ``D``) before anything else.
        agg: How resampling combines the values of one bin.
        fill: How missing values are filled: ``interpolate``, ``ffill``, ``seasonal`` (the
            value one ``season`` earlier) or ``none`` (an error if any remain).
        season: Steps in one season (24 for hourly data with a daily cycle); used by the
            seasonal fill and the seasonal-naive baseline.
        transform: ``log`` models log(1 + y) (multiplicative seasonality, growth); forecasts
            and metrics are back in the original units.
        calendar: Add the position in the day, week or year (sine and cosine, chosen by the
            series' step: hour of day and day of week below a day, day of week for daily
            data, month of year for monthly) as covariates computed from the timestamps.
            A channel-independent model reads only its own channel; use them with
            ``--no-channel-independent``.
        split: Chronological parts: ratios ``0.7,0.1,0.2``; dates ``VALID,TEST`` or ``TEST``
            (where each part starts); or ``ett`` (12/4/4 months of 30 days).
        scale: ``standard`` or ``minmax`` scaling fitted on the training part only, or none.
        lookback: Steps the model reads (L).
        horizon: Steps it forecasts (H).
        stride: Steps between the starts of consecutive training windows.
        eval_stride: Steps between validation and test windows (7 with daily data and
            weekly forecasts; default 1 or the dataset's).
        batch_size: Windows per training batch.
        eval_batch_size: Windows per batch in validation, evaluation and prediction.
    """

    dataset: str | None = None
    data: str | None = None
    target: str | None = None
    covariates: str | None = None
    time_col: str | None = None
    sep: str = ","
    na_values: str = ""
    dayfirst: bool = False
    freq: str | None = None
    agg: Agg = "mean"
    fill: Fill = "interpolate"
    season: int | None = None
    transform: Transform = "none"
    calendar: bool = False
    split: str | None = None
    scale: Scale = "standard"
    lookback: int = 96
    horizon: int = 24
    stride: int = 1
    eval_stride: int | None = None
    batch_size: int = 64
    eval_batch_size: int = 256

    def __post_init__(self) -> None:
        check_field_types(self)
        if self.dataset is not None:
            validate_choice("dataset", self.dataset, tuple(DATASETS))
            if self.data is not None:
                raise ConfigError("give --dataset or --data, not both", key="data")
        for name in ("lookback", "horizon", "stride", "batch_size", "eval_batch_size"):
            validate_positive(name, getattr(self, name))
        for name in ("season", "eval_stride"):
            if getattr(self, name) is not None:
                validate_positive(name, getattr(self, name))
        if self.data is not None and not _names(self.target):
            raise ConfigError("name the column(s) to forecast with --target", key="target")
        overlap = set(self.targets) & set(self.covariate_names)
        if overlap:
            raise ConfigError(
                f"{', '.join(sorted(overlap))} is both a target and a covariate", key="covariates"
            )

    @property
    def layout(self) -> SeriesLayout | None:
        return DATASETS[self.dataset] if self.dataset is not None else None

    @property
    def targets(self) -> list[str]:
        """The target columns, in order."""
        if _names(self.target) or self.layout is None:
            return _names(self.target)
        return _names(self.layout.targets)

    @property
    def covariate_names(self) -> list[str]:
        return _names(self.covariates)

    @property
    def columns(self) -> list[str]:
        """Every channel the model reads: the targets, then the covariates."""
        return [*self.targets, *self.covariate_names]

    @property
    def season_steps(self) -> int | None:
        if self.season is not None or self.layout is None:
            return self.season
        return self.layout.season

    @property
    def split_spec(self) -> str:
        if self.split is not None:
            return self.split
        return self.layout.split if self.layout is not None else "0.7,0.1,0.2"

    @property
    def eval_step(self) -> int:
        if self.eval_stride is not None:
            return self.eval_stride
        return self.layout.eval_stride if self.layout is not None else 1

    @property
    def time_column(self) -> str | None:
        if self.time_col is not None or self.layout is None:
            return self.time_col
        return self.layout.time_col


class Cleaned(NamedTuple):
    """A series as the model sees it before scaling, with what was done to it."""

    frame: pd.DataFrame  # float64 columns in channel order, indexed by time (or row)
    timing: TimingReport | None
    filled: FillReport


def data_path(config: ForecastDataConfig) -> str:
    """The file to read: ``--data`` or the dataset's file under ``$RNNKIT_DATA``."""
    if config.data is not None:
        return config.data
    layout = config.layout
    if layout is None:
        raise ConfigError("give --dataset NAME or --data FILE", key="data")
    return str(locate(layout.registry, file=layout.file))


def load_frame(config: ForecastDataConfig, path: str | None = None) -> Cleaned:
    """Reads, resamples, fills and transforms the series in ``path`` (default: the config's).

    Raises:
        DataError: Unreadable file, bad values, missing columns (file, line, column named).
        ConfigError: Values still missing after filling, or a log transform of values <= -1.
    """
    na = tuple(dict.fromkeys(["", *_names(config.na_values)]))
    frame = read_series(
        path or data_path(config),
        time_col=config.time_column,
        sep=config.sep,
        na_values=na,
        columns=config.columns,
        dayfirst=config.dayfirst,
    )
    return clean_frame(frame, config)


def clean_frame(frame: pd.DataFrame, config: ForecastDataConfig) -> Cleaned:
    """Resamples, fills and transforms a series already read (the config's columns).

    Raises:
        ConfigError: A column is missing, values still missing after filling, or a log
            transform of values <= -1.
    """
    absent = [name for name in config.columns if name not in frame.columns]
    if absent:
        raise ConfigError(
            f"the series has no column {', '.join(map(repr, absent))} "
            f"(it has: {', '.join(map(str, frame.columns))})",
            key="target",
        )
    frame = frame[config.columns].astype("float64")
    timed = isinstance(frame.index, pd.DatetimeIndex)
    timing = check_timing(frame.index) if timed else None
    if config.freq is not None:
        frame = resample(frame, config.freq, config.agg)
        timing = check_timing(frame.index)
    frame, filled = fill_missing(frame, config.fill, season=config.season_steps)
    left = {name: n for name, n in filled.remaining.items() if n}
    if left:
        shown = ", ".join(f"{name}: {n}" for name, n in left.items())
        raise ConfigError(
            f"missing values remain ({shown}); choose --fill interpolate, ffill or seasonal",
            key="fill",
        )
    if config.transform == "log":
        low = frame.min().min()
        if low <= -1:
            raise ConfigError(f"--transform log needs values > -1, got {low}", key="transform")
        frame = np.log1p(frame)
    if config.calendar:
        frame = add_calendar(frame)
    return Cleaned(frame, timing, filled)


def add_calendar(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with sine/cosine columns of the timestamps' place in the day, week or year.

    Example:
        >>> idx = pd.date_range("2024-01-01", periods=3, freq="D")  # a Monday
        >>> add_calendar(pd.DataFrame({"y": [1.0, 2.0, 3.0]}, index=idx)).round(3).columns.tolist()
        ['y', 'day_of_week_sin', 'day_of_week_cos']
    """
    index = frame.index
    if not isinstance(index, pd.DatetimeIndex) or len(index) < 2:
        raise ConfigError("--calendar needs timestamps: give --time-col", key="calendar")
    step = pd.Series(index).diff().median()
    day = pd.Timedelta(1, "D")
    cycles: dict[str, tuple[np.ndarray, float]] = {}
    if step < day:
        cycles["hour_of_day"] = (index.hour.to_numpy() + index.minute.to_numpy() / 60, 24.0)
    if step < 7 * day:
        cycles["day_of_week"] = (index.day_of_week.to_numpy().astype(float), 7.0)
    if step >= 28 * day:
        cycles["month_of_year"] = (index.month.to_numpy() - 1.0, 12.0)
    out = frame.copy()
    for name, (position, period) in cycles.items():
        angle = 2 * np.pi * position / period
        out[f"{name}_sin"], out[f"{name}_cos"] = np.sin(angle), np.cos(angle)
    return out


def untransform(values: np.ndarray, config: ForecastDataConfig) -> np.ndarray:
    """Forecasts back in the data's units (undoes ``transform``)."""
    return np.expm1(values) if config.transform == "log" else values


class PreparedSeries(NamedTuple):
    """A cleaned series split and scaled: what training and evaluation windows come from."""

    cleaned: Cleaned
    bounds: SplitBounds
    scaler: SeriesScaler
    values: np.ndarray  # (N, C) float32, scaled


def prepare(
    config: ForecastDataConfig, scaler: SeriesScaler | None = None, path: str | None = None
) -> PreparedSeries:
    """Loads the series, splits it and scales it (fitting ``scaler`` on the training rows
    unless one is given, as when a saved run is evaluated)."""
    cleaned = load_frame(config, path)
    bounds = split_rows(cleaned.frame.index, config.split_spec)
    raw = cleaned.frame.to_numpy(dtype=np.float64)
    if scaler is None:
        scaler = SeriesScaler.fit(raw[: bounds.train[1]], list(cleaned.frame.columns), config.scale)
    return PreparedSeries(cleaned, bounds, scaler, scaler.transform(raw))
