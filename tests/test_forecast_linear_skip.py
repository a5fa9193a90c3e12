"""The forecaster's linear skip path: it starts as the closed-form linear baseline (the
recurrent head at zero), it is refused where decoders feed forecasts back, and a run with it
stays near where it started on a series that a linear map already forecasts well."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from rnnkit.config import ConfigError, StackConfig
from rnnkit.models.forecaster import Forecaster, ForecasterModelConfig
from rnnkit.tasks import forecast as fc
from rnnkit.tasks.forecast.baselines import LinearBaseline
from rnnkit.tasks.forecast.linear_start import fit_linear_skip
from rnnkit.training.rundir import RunDir
from test_forecast_task import _config, sine_csv  # noqa: F401 (a fixture)


def skip_config(kind: str = "segment", output: str = "point", normalize: str = "last"):
    return ForecasterModelConfig(
        kind=kind,
        segment_length=4,
        output=output,
        normalize=normalize,
        linear_skip=True,
        rnn=StackConfig(cell="gru", hidden_size=8),
    )


def random_walks(windows: int, length: int, channels: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((windows, length, channels)).cumsum(axis=1)


@pytest.mark.parametrize("kind", ["segment", "direct"])
@pytest.mark.parametrize("output", ["point", "gaussian", "quantile"])
def test_the_model_starts_as_the_linear_baseline(kind, output):
    """With the head at zero the point forecast is exactly the ridge fit: the same forecasts
    as LinearBaseline (last-value normalisation, plain least squares) on unseen windows."""
    torch.manual_seed(0)
    series = random_walks(300, 16 + 6, 2, seed=1)
    x, y = series[:, :16], series[:, 16:]
    model = Forecaster(2, 2, 16, 6, skip_config(kind, output)).eval()
    fit_linear_skip(model, x, y, ridge=0.0)
    baseline = LinearBaseline().fit(x, y, ridge=0.0)
    unseen = random_walks(20, 16, 2, seed=2)
    with torch.no_grad():
        forecast = model(torch.from_numpy(unseen).float()).mean.double().numpy()
    np.testing.assert_allclose(forecast, baseline.predict(unseen), atol=1e-3)


def test_mean_normalisation_fits_in_its_own_terms():
    """The skip path reads the window minus its mean, and forecasts the future minus it."""
    series = random_walks(200, 12 + 3, 1, seed=3)
    x, y = series[:, :12], series[:, 12:]
    model = Forecaster(1, 1, 12, 3, skip_config("direct", normalize="mean")).eval()
    fit_linear_skip(model, x, y, ridge=0.0)
    mean = x.mean(axis=1, keepdims=True)
    expected = LinearBaseline(normalize=False).fit(x - mean, y - mean, ridge=0.0).predict(x - mean)
    with torch.no_grad():
        forecast = model(torch.from_numpy(x).float()).mean.double().numpy()
    np.testing.assert_allclose(forecast, expected + mean, atol=1e-3)


@pytest.mark.parametrize("kind", ["seq2seq", "autoregressive"])
def test_decoders_that_feed_back_refuse_it(kind):
    with pytest.raises(ConfigError, match="linear_skip needs kind 'direct' or 'segment'"):
        ForecasterModelConfig(kind=kind, linear_skip=True)


def test_a_run_starts_from_the_linear_fit_and_stays_near_it(sine_csv, tmp_path):  # noqa: F811
    """A noisy sine wave is what a linear map of the window forecasts almost perfectly: the
    run starts there, the linear map stays as fitted, and six epochs of training keep the
    forecast within 10% of the linear baseline."""
    config = _config(sine_csv)
    config = dataclasses.replace(config, model=dataclasses.replace(config.model, linear_skip=True))
    prepared = fc.JOB.prepare(config, None)
    model = fc.JOB.build_model(config, prepared.artifacts)
    run = RunDir.create(tmp_path / "start", config={"task": "forecast"})
    fc.JOB.plan(config, prepared, model, run, fresh=True)
    assert model.skip is not None and model.skip.weight.abs().sum() > 0
    task, _ = fc.train(config, tmp_path / "run")
    # The linear map is kept as fitted; only the recurrent model trains.
    torch.testing.assert_close(task.model.skip.weight, model.skip.weight)
    prep = task.prepared()
    scores = task.evaluate(prep, "test", 0.9).scaled
    assert scores["model"].overall["mse"] < 1.1 * scores["linear"].overall["mse"]
