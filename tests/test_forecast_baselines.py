"""rnnkit.tasks.forecast.baselines: hand-computed naive forecasts, exact linear rules, lstsq."""

from __future__ import annotations

import numpy as np
import pytest

from rnnkit.config import ConfigError
from rnnkit.tasks.forecast.baselines import LinearBaseline, naive, seasonal_naive


def _windows(series: np.ndarray, length: int, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """All (look-back, future) windows of a (T, C) series: (W, L, C) and (W, H, C)."""
    count = len(series) - length - horizon + 1
    x = np.stack([series[i : i + length] for i in range(count)])
    y = np.stack([series[i + length : i + length + horizon] for i in range(count)])
    return x, y


def _lines(rng: np.random.Generator, windows: int, steps: int, channels: int) -> np.ndarray:
    """Noiseless lines of random slope and offset per window and channel: (W, steps, C)."""
    slope = rng.uniform(-3, 3, (windows, 1, channels))
    offset = rng.uniform(-50, 50, (windows, 1, channels))
    return offset + slope * np.arange(steps, dtype=np.float64)[None, :, None]


# --- naive and seasonal naive ----------------------------------------------------------------


def test_naive_repeats_the_last_value_per_window_and_channel():
    x = np.array(
        [
            [[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]],
            [[4.0, -1.0], [5.0, -2.0], [6.0, -3.0]],
        ]
    )  # (W=2, L=3, C=2)
    out = naive(x, 2)
    assert out.shape == (2, 2, 2)
    np.testing.assert_array_equal(out, [[[3, 30], [3, 30]], [[6, -3], [6, -3]]])
    out[0, 0, 0] = 99.0  # a new array, not a view of x
    assert x[0, 2, 0] == 3.0


def test_naive_keeps_float32_and_converts_ints():
    assert naive(np.zeros((1, 2, 1), dtype=np.float32), 3).dtype == np.float32
    ints = naive(np.array([[[1], [2]]]), 2)
    assert ints.dtype == np.float64
    np.testing.assert_array_equal(ints[0, :, 0], [2.0, 2.0])


def test_seasonal_naive_hand_computed():
    x = np.array([[1.0, 2, 3, 4, 5, 6]]).reshape(1, 6, 1)
    np.testing.assert_array_equal(seasonal_naive(x, 5, season=3)[0, :, 0], [4, 5, 6, 4, 5])
    # Longer than two seasons: keeps cycling through the last one.
    np.testing.assert_array_equal(seasonal_naive(x, 7, season=2)[0, :, 0], [5, 6, 5, 6, 5, 6, 5])
    # season = L repeats the whole window.
    np.testing.assert_array_equal(seasonal_naive(x, 8, season=6)[0, :, 0], [1, 2, 3, 4, 5, 6, 1, 2])


def test_seasonal_naive_matches_its_formula_and_naive():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4, 10, 3))
    horizon, season = 9, 4
    out = seasonal_naive(x, horizon, season)
    t = x.shape[1] - 1
    for h in range(1, horizon + 1):
        k = -(-h // season)  # ceil(h / season)
        np.testing.assert_array_equal(out[:, h - 1], x[:, t + h - season * k])
    np.testing.assert_array_equal(seasonal_naive(x, 5, season=1), naive(x, 5))


@pytest.mark.parametrize("season", [0, -1, 7, 2.0, True, None])
def test_seasonal_naive_rejects_bad_seasons(season):
    with pytest.raises(ConfigError) as info:
        seasonal_naive(np.zeros((2, 6, 1)), 3, season=season)
    assert info.value.key == "season"


@pytest.mark.parametrize("horizon", [0, -2, 1.5, True])
def test_bad_horizon(horizon):
    for call in (lambda: naive(np.zeros((1, 3, 1)), horizon),
                 lambda: seasonal_naive(np.zeros((1, 3, 1)), horizon, 1)):  # fmt: skip
        with pytest.raises(ConfigError) as info:
            call()
        assert info.value.key == "horizon"


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        (np.zeros((4, 3)), "expected a 3-D array (W, L, C), got shape (4, 3)"),
        (np.zeros((0, 3, 1)), "expected a non-empty array"),
        (np.zeros((2, 3, 1), dtype=bool), "expected real numbers, got dtype bool"),
    ],
)
def test_window_shape_errors_name_the_argument(x, expected):
    with pytest.raises(ConfigError, match=r"^x: ") as info:
        naive(x, 1)
    assert expected in str(info.value)


# --- LinearBaseline ----------------------------------------------------------------------------


@pytest.mark.parametrize("normalize", [True, False])
@pytest.mark.parametrize("ridge", [0.0, 1e-9])
def test_linear_recovers_the_continuation_of_lines(normalize, ridge):
    rng = np.random.default_rng(0)
    length, horizon = 24, 12
    train = _lines(rng, 200, length + horizon, 3)
    model = LinearBaseline(normalize=normalize).fit(
        train[:, :length], train[:, length:], ridge=ridge
    )
    test = _lines(rng, 50, length + horizon, 2)  # other lines, another channel count
    pred = model.predict(test[:, :length])
    assert pred.shape == (50, horizon, 2)
    np.testing.assert_allclose(pred, test[:, length:], atol=1e-4, rtol=0)


def test_normalized_linear_is_level_equivariant_and_its_weights_sum_to_one():
    rng = np.random.default_rng(2)
    series = rng.normal(size=(400, 2)).cumsum(axis=0)  # random walks
    x, y = _windows(series, 16, 4)
    model = LinearBaseline().fit(x, y)
    assert model.weight.shape == (16, 4) and model.intercept.shape == (4,)
    np.testing.assert_allclose(model.weight.sum(axis=0), 1.0, atol=1e-12)
    probe = x[:5]
    np.testing.assert_allclose(model.predict(probe + 1000.0), model.predict(probe) + 1000.0)
    # The documented equivalent raw map gives the same forecasts.
    raw = np.einsum("wlc,lh->whc", probe, model.weight) + model.intercept[None, :, None]
    np.testing.assert_allclose(model.predict(probe), raw, atol=1e-9)


def test_linear_beats_naive_on_a_noisy_sine():
    rng = np.random.default_rng(3)
    t = np.arange(3000)
    series = (np.sin(2 * np.pi * t / 24) + 0.3 * rng.normal(size=t.size))[:, None]  # (T, 1)
    length, horizon = 48, 24
    x_train, y_train = _windows(series[:2000], length, horizon)
    x_test, y_test = _windows(series[2000:], length, horizon)
    model = LinearBaseline().fit(x_train, y_train)
    mse_linear = np.mean((model.predict(x_test) - y_test) ** 2)
    mse_naive = np.mean((naive(x_test, horizon) - y_test) ** 2)
    assert mse_linear < 0.5 * mse_naive
    assert mse_linear < 0.2  # noise variance 0.09 plus the error of the fitted sine


def _reference_fit(x, y, ridge, normalize):
    """One-shot least squares on the full design, ridge as extra rows: (weight (F, H), b (H,))."""
    inputs = x.transpose(0, 2, 1).reshape(-1, x.shape[1])
    targets = y.transpose(0, 2, 1).reshape(-1, y.shape[1])
    if normalize:
        targets = targets - inputs[:, -1:]
        inputs = (inputs - inputs[:, -1:])[:, :-1]
    features = inputs.shape[1]
    design = np.hstack([inputs, np.ones((len(inputs), 1))])
    if ridge:
        lam = ridge * np.trace(inputs.T @ inputs) / features
        penalty = np.hstack([np.sqrt(lam) * np.eye(features), np.zeros((features, 1))])
        design = np.vstack([design, penalty])
        targets = np.vstack([targets, np.zeros((features, targets.shape[1]))])
    solution = np.linalg.lstsq(design, targets, rcond=None)[0]
    return solution[:features], solution[features]


@pytest.mark.parametrize("normalize", [True, False])
@pytest.mark.parametrize("ridge", [0.0, 0.05])
def test_chunked_accumulation_equals_one_shot_lstsq(normalize, ridge):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(37, 8, 3))
    y = rng.normal(size=(37, 5, 3)) + x[:, -2:-1] * 0.5
    weight, intercept = _reference_fit(x, y, ridge, normalize)
    for chunk_size in (1, 4, 37, None):
        model = LinearBaseline(normalize=normalize).fit(x, y, ridge=ridge, chunk_size=chunk_size)
        features = weight.shape[0]
        np.testing.assert_allclose(model.weight[:features], weight, atol=1e-10)
        np.testing.assert_allclose(model.intercept, intercept, atol=1e-10)


def test_constant_windows_fit_without_error():
    x = np.full((10, 6, 2), 3.0)
    y = np.full((10, 2, 2), 5.0)
    for ridge in (0.0, 1e-3):
        pred = LinearBaseline().fit(x, y, ridge=ridge).predict(np.full((1, 6, 1), -1.0))
        np.testing.assert_allclose(pred, 1.0)  # the learnt step up of 2


def test_single_step_lookback_is_naive_plus_mean_drift():
    x = np.array([[[1.0]], [[5.0]]])  # (W=2, L=1, C=1)
    y = np.array([[[2.0, 4.0]], [[7.0, 8.0]]]).transpose(0, 2, 1)  # (2, H=2, 1)
    model = LinearBaseline().fit(x, y)
    np.testing.assert_allclose(model.intercept, [1.5, 3.0])
    np.testing.assert_allclose(model.predict(np.array([[[10.0]]]))[0, :, 0], [11.5, 13.0])


def test_linear_errors():
    x, y = np.zeros((4, 6, 2)), np.zeros((4, 3, 2))
    with pytest.raises(RuntimeError, match="call fit"):
        LinearBaseline().predict(x)
    with pytest.raises(ConfigError, match=r"^y_train: .*\(W=4, H, C=2\).*got \(4, 3, 1\)"):
        LinearBaseline().fit(x, np.zeros((4, 3, 1)))
    with pytest.raises(ConfigError, match=r"^y_train: .*got \(5, 3, 2\)"):
        LinearBaseline().fit(x, np.zeros((5, 3, 2)))
    with pytest.raises(ConfigError, match=r"^x_train: expected a 3-D array"):
        LinearBaseline().fit(np.zeros((4, 6)), y)
    bad = x.copy()
    bad[1, 2, 0] = np.nan
    with pytest.raises(ConfigError, match=r"^x_train: expected finite values"):
        LinearBaseline().fit(bad, y)
    for ridge in (-1.0, float("nan"), "1e-3"):
        with pytest.raises(ConfigError, match=r"^ridge: "):
            LinearBaseline().fit(x, y, ridge=ridge)
    with pytest.raises(ConfigError, match=r"^chunk_size: "):
        LinearBaseline().fit(x, y, chunk_size=0)
    with pytest.raises(ConfigError, match=r"^normalize: "):
        LinearBaseline(normalize=1)
    model = LinearBaseline().fit(x, y)
    with pytest.raises(ConfigError, match=r"^x: expected shape \(W, L=6, C\).*got \(4, 5, 2\)"):
        model.predict(np.zeros((4, 5, 2)))
