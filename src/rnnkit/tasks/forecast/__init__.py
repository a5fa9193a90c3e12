"""Time-series forecasting: ``rnnkit forecast train|eval|predict|detect``.

The job's declaration is :data:`JOB` (:mod:`rnnkit.tasks.forecast.job`); a trained run is a
:class:`ForecasterTask`, which forecasts the steps after any recent stretch of the series,
evaluates against baselines on the same windows, backtests from rolling origins and flags
points outside its prediction interval.
"""

from rnnkit.tasks.forecast import data as fdata
from rnnkit.tasks.forecast.batches import ForecastBatch, ForecastObjective, WindowBatches
from rnnkit.tasks.forecast.config import ForecastConfig
from rnnkit.tasks.forecast.job import (
    JOB,
    Forecasting,
    build_model,
    describe_series,
    preset_config,
    resume_config,
    series_report,
    train,
)
from rnnkit.tasks.forecast.presets import PRESETS
from rnnkit.tasks.forecast.task import (
    CALIBRATION_LEVELS,
    Evaluation,
    ForecasterTask,
    Forecasts,
    calibrate,
    future_index,
)

__all__ = [
    "CALIBRATION_LEVELS",
    "JOB",
    "PRESETS",
    "Evaluation",
    "ForecastBatch",
    "ForecastConfig",
    "ForecastObjective",
    "ForecasterTask",
    "Forecasting",
    "Forecasts",
    "WindowBatches",
    "build_model",
    "calibrate",
    "describe_series",
    "fdata",
    "future_index",
    "preset_config",
    "resume_config",
    "series_report",
    "train",
]
