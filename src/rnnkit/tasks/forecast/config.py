"""What a forecasting run is configured with: the series, the model, training."""

from __future__ import annotations

import dataclasses
from typing import Literal

from rnnkit.models.forecaster import ForecasterModelConfig
from rnnkit.tasks.forecast.data import ForecastDataConfig
from rnnkit.training.config import TrainConfig

__all__ = ["ForecastConfig"]


def _train_defaults() -> TrainConfig:
    return TrainConfig(epochs=30, lr=1e-3, patience=5, monitor="val_loss", mode="min")


@dataclasses.dataclass(frozen=True, kw_only=True)
class ForecastConfig:
    """A forecasting run: data, model, training (the run's ``config.json``).

    Attributes:
        task: Always ``"forecast"``.
        data: The series, its cleaning, split, scaling and windows.
        model: Forecaster kind, recurrent stack, normalisation, output distribution.
        train: Optimiser, schedule, stopping.
    """

    task: Literal["forecast"] = "forecast"
    data: ForecastDataConfig = dataclasses.field(default_factory=ForecastDataConfig)
    model: ForecasterModelConfig = dataclasses.field(default_factory=ForecasterModelConfig)
    train: TrainConfig = dataclasses.field(default_factory=_train_defaults)
