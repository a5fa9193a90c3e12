"""A forecaster's linear skip path starts as the linear baseline, fitted in closed form.

With ``model.linear_skip`` the forecast is ``z W_skip + b_skip + model(z)`` on the
normalised window ``z`` (:mod:`rnnkit.models.forecaster`), and the recurrent head starts at
zero. Before the first step the job fits ``W_skip`` and ``b_skip`` by ridge least squares on
the training windows, in the model's own normalisation and scaled units:

    min_{W, b}  Σ_windows Σ_channels || (y - s) - ((x - s) W + b) ||²  +  λ ||W||²

(``s`` the window's shift: its last value, its mean or 0), the same fit as
:class:`~rnnkit.tasks.forecast.baselines.LinearBaseline`, so a run starts where the linear
baseline ends; the map is then kept fixed and training only has to improve on it. The
fit reads at most
:data:`MAX_ROWS` (window, channel) rows, evenly spaced over the training windows: the
(L + 1) x (L + 1) system is well determined long before that (ETTh1 at look-back 336 has
8,000 windows of 7 channels, all of them read).
"""

from __future__ import annotations

import numpy as np
import torch

from rnnkit.data.timeseries import make_windows, window_starts
from rnnkit.models.forecaster import Forecaster, window_shift
from rnnkit.tasks.forecast.baselines import LinearBaseline
from rnnkit.tasks.forecast.config import ForecastConfig
from rnnkit.tasks.forecast.data import PreparedSeries

__all__ = ["MAX_ROWS", "fit_linear_skip", "start_linear_skip"]

MAX_ROWS = 200_000


def start_linear_skip(model: Forecaster, series: PreparedSeries, config: ForecastConfig) -> None:
    """Fits ``model``'s skip path on ``series``' training windows (see the module docstring)."""
    data = config.data
    starts = window_starts(series.bounds.train, data.lookback, data.horizon, data.stride)
    most = max(1, MAX_ROWS // model.num_targets)
    if len(starts) > most:
        starts = starts[np.linspace(0, len(starts) - 1, most).round().astype(int)]
    x, y = make_windows(series.values, starts, data.lookback, data.horizon)
    fit_linear_skip(model, x, y)


def fit_linear_skip(model: Forecaster, x: np.ndarray, y: np.ndarray, ridge: float = 1e-3) -> None:
    """Sets ``model.skip`` to the ridge fit of the target channels' futures on their windows.

    Shapes:
        x (W, L, C_in) and y (W, H, C >= num_targets), scaled as the model reads them.
    """
    assert model.skip is not None, "the model has no linear skip path"
    targets = model.num_targets
    windows = torch.from_numpy(np.ascontiguousarray(x[..., :targets], dtype=np.float64))
    shift = window_shift(windows, model.config.normalize).numpy()  # (W, 1, T)
    future = np.asarray(y[..., :targets], dtype=np.float64) - shift
    fitted = LinearBaseline(normalize=False).fit(windows.numpy() - shift, future, ridge)
    assert fitted.weight is not None and fitted.intercept is not None
    with torch.no_grad():
        model.skip.weight.copy_(torch.from_numpy(fitted.weight.T))  # (H, L)
        model.skip.bias.copy_(torch.from_numpy(fitted.intercept))
