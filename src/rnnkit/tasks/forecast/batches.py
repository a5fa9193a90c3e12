"""Forecasting batches: look-back windows and the horizon after them, and the objective."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any, NamedTuple

import numpy as np
import torch

from rnnkit.data.timeseries import make_windows
from rnnkit.models.forecaster import Forecaster, forecast_loss
from rnnkit.tasks.forecast.data import ForecastDataConfig
from rnnkit.training.loop import StepOutput

__all__ = ["ForecastBatch", "ForecastObjective", "WindowBatches"]


class ForecastBatch(NamedTuple):
    """Look-back windows and the target values after them (scaled)."""

    inputs: torch.Tensor  # (B, L, C)
    targets: torch.Tensor  # (B, H, T)


class WindowBatches:
    """Batches of the windows starting at ``starts`` (re-iterable; shuffled by ``seed``).

    Windows are cut from the series one batch at a time, so memory holds one batch, not
    every window (ETTm1 has 34k windows of 336 x 7 steps).
    """

    def __init__(
        self,
        values: np.ndarray,
        starts: np.ndarray,
        config: ForecastDataConfig,
        batch_size: int,
        *,
        seed: int | None = None,
    ) -> None:
        self.values, self.starts, self.config = values, starts, config
        self.batch_size, self.seed = batch_size, seed

    def __len__(self) -> int:
        return math.ceil(len(self.starts) / self.batch_size)

    def __iter__(self) -> Iterator[ForecastBatch]:
        order = self.starts
        if self.seed is not None:
            order = np.random.default_rng(self.seed).permutation(self.starts)
        targets = len(self.config.targets)
        for i in range(0, len(order), self.batch_size):
            x, y = make_windows(
                self.values,
                order[i : i + self.batch_size],
                self.config.lookback,
                self.config.horizon,
            )
            yield ForecastBatch(torch.from_numpy(x), torch.from_numpy(y[..., :targets]))


class ForecastObjective:
    """The model's own loss (MSE, Gaussian NLL or pinball); validation also reports MSE and
    MAE of the point forecast on the scaled series."""

    def loss(self, model: Forecaster, batch: ForecastBatch, state: Any) -> StepOutput:
        out = model(batch.inputs)
        return StepOutput(forecast_loss(out, batch.targets), len(batch.inputs), None)

    def evaluate(self, model: Forecaster, batches: Any) -> dict[str, float]:
        loss = se = ae = 0.0
        windows = points = 0
        for batch in batches:
            out = model(batch.inputs)
            error = out.mean.float() - batch.targets
            loss += float(forecast_loss(out, batch.targets)) * len(batch.inputs)
            se += float(error.square().sum())
            ae += float(error.abs().sum())
            windows += len(batch.inputs)
            points += error.numel()
        return {
            "loss": loss / max(windows, 1),
            "mse": se / max(points, 1),
            "mae": ae / max(points, 1),
        }
