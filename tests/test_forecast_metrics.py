"""rnnkit.tasks.forecast.metrics: hand-computed scores, missing points, tables."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from rnnkit.config import ConfigError
from rnnkit.tasks.forecast.metrics import (
    METRICS,
    ForecastScores,
    compare,
    forecast_scores,
    format_per_step,
    format_table,
)

# W=2 windows, H=2 steps, C=1 channel.     errors e = a - p:
#   window 0: actual [1, 2], pred [2, 2]   -> [-1, 0]
#   window 1: actual [4, -2], pred [1, 0]  -> [3, -2]
# |e|/|a|: 1, 0, 3/4, 1.   2|e|/(|a|+|p|): 2/3, 0, 6/5, 2.
ACTUAL = np.array([[1.0, 2.0], [4.0, -2.0]])[:, :, None]
PRED = np.array([[2.0, 2.0], [1.0, 0.0]])[:, :, None]


def test_overall_hand_computed():
    s = forecast_scores(PRED, ACTUAL)
    assert s.count == 2
    assert s.overall["mse"] == pytest.approx((1 + 0 + 9 + 4) / 4)
    assert s.overall["mae"] == pytest.approx((1 + 0 + 3 + 2) / 4)
    assert s.overall["rmse"] == pytest.approx(math.sqrt(3.5))
    assert s.overall["mape"] == pytest.approx(100 * (1 + 0 + 0.75 + 1) / 4)
    assert s.overall["smape"] == pytest.approx(100 * (2 / 3 + 0 + 6 / 5 + 2) / 4)
    assert list(s.overall) == list(METRICS)


def test_per_step_hand_computed():
    s = forecast_scores(PRED, ACTUAL)
    assert s.horizon == 2
    np.testing.assert_allclose(s.per_step["mse"], [(1 + 9) / 2, (0 + 4) / 2])
    np.testing.assert_allclose(s.per_step["mae"], [2.0, 1.0])
    np.testing.assert_allclose(s.per_step["rmse"], [math.sqrt(5), math.sqrt(2)])
    np.testing.assert_allclose(s.per_step["mape"], [100 * 1.75 / 2, 100 * 1 / 2])
    np.testing.assert_allclose(s.per_step["smape"], [100 * (2 / 3 + 6 / 5) / 2, 100 * 2 / 2])
    assert all(isinstance(v, float) for v in s.per_step["mse"])


def test_per_step_pools_windows_and_channels():
    rng = np.random.default_rng(0)
    pred, actual = rng.normal(size=(5, 3, 4)), rng.normal(size=(5, 3, 4))
    s = forecast_scores(pred, actual)
    for h in range(3):
        np.testing.assert_allclose(s.per_step["mse"][h], np.mean((pred[:, h] - actual[:, h]) ** 2))
        np.testing.assert_allclose(
            s.per_step["mape"][h],
            100 * np.mean(np.abs(pred[:, h] - actual[:, h]) / np.abs(actual[:, h])),
        )
    np.testing.assert_allclose(s.overall["mae"], np.mean(np.abs(pred - actual)))


def test_mape_skips_zero_actuals_and_is_nan_without_any():
    actual = np.array([0.0, 2.0, 0.0, 4.0]).reshape(1, 4, 1)
    pred = np.array([5.0, 1.0, 0.0, 5.0]).reshape(1, 4, 1)
    s = forecast_scores(pred, actual)
    assert s.overall["mape"] == pytest.approx(100 * (0.5 + 0.25) / 2)
    assert math.isnan(s.per_step["mape"][0]) and math.isnan(s.per_step["mape"][2])
    assert s.per_step["mape"][1] == pytest.approx(50.0)
    assert s.overall["mae"] == pytest.approx((5 + 1 + 0 + 1) / 4)  # zeros count elsewhere
    assert math.isnan(forecast_scores(np.ones((2, 2, 1)), np.zeros((2, 2, 1))).overall["mape"])


def test_smape_counts_zero_over_zero_as_perfect():
    actual = np.array([0.0, 0.0, 1.0]).reshape(1, 3, 1)
    pred = np.array([0.0, 1.0, 3.0]).reshape(1, 3, 1)
    s = forecast_scores(pred, actual)
    np.testing.assert_allclose(s.per_step["smape"], [0.0, 200.0, 100.0])
    assert s.overall["smape"] == pytest.approx(100.0)


def test_nan_actuals_are_excluded_from_every_metric():
    rng = np.random.default_rng(1)
    pred, actual = rng.normal(size=(6, 3, 2)), rng.normal(size=(6, 3, 2))
    holes = actual.copy()
    holes[1, 0, 0] = holes[4, 2, 1] = np.nan
    keep = ~np.isnan(holes)
    s = forecast_scores(pred, holes)
    e = (pred - actual)[keep]
    a, p = actual[keep], pred[keep]
    assert s.overall["mse"] == pytest.approx(np.mean(e**2))
    assert s.overall["mae"] == pytest.approx(np.mean(np.abs(e)))
    assert s.overall["rmse"] == pytest.approx(np.sqrt(np.mean(e**2)))
    assert s.overall["mape"] == pytest.approx(100 * np.mean(np.abs(e) / np.abs(a)))
    assert s.overall["smape"] == pytest.approx(
        100 * np.mean(2 * np.abs(e) / (np.abs(a) + np.abs(p)))
    )
    step0 = keep[:, 0]
    assert s.per_step["mae"][0] == pytest.approx(np.mean(np.abs(pred[:, 0] - actual[:, 0])[step0]))
    assert s.count == 6


def test_a_step_with_no_actual_scores_nan_without_warnings():
    actual = np.array([[1.0, np.nan], [2.0, np.nan]])[:, :, None]
    with np.errstate(all="raise"):
        s = forecast_scores(np.zeros_like(actual), actual)
    assert all(math.isnan(s.per_step[m][1]) for m in METRICS)
    assert s.per_step["mae"][0] == pytest.approx(1.5)
    everything_missing = forecast_scores(np.zeros((1, 2, 1)), np.full((1, 2, 1), np.nan))
    assert all(math.isnan(everything_missing.overall[m]) for m in METRICS)


def test_nan_forecasts_are_not_hidden():
    pred = PRED.copy()
    pred[0, 0, 0] = np.nan
    s = forecast_scores(pred, ACTUAL)
    assert all(math.isnan(s.overall[m]) for m in METRICS)
    assert not math.isnan(s.per_step["mse"][1])


@pytest.mark.parametrize(
    ("pred", "actual", "match"),
    [
        (
            np.zeros((2, 3, 1)),
            np.zeros((2, 3, 2)),
            r"^pred: expected the shape of actual \(2, 3, 2\)",
        ),
        (np.zeros((2, 3)), np.zeros((2, 3)), r"^pred: expected a 3-D array"),
        (np.zeros((2, 3, 1)), np.zeros((6,)), r"^actual: expected a 3-D array"),
        (np.zeros((0, 3, 1)), np.zeros((0, 3, 1)), r"^pred: expected a non-empty"),
        (np.zeros((1, 1, 1)), np.array([[["a"]]]), r"^actual: expected real numbers"),
    ],
)
def test_shape_errors(pred, actual, match):
    with pytest.raises(ConfigError, match=match):
        forecast_scores(pred, actual)


def test_to_dict_is_json_ready():
    s = forecast_scores(PRED, ACTUAL)
    d = json.loads(json.dumps(s.to_dict()))
    assert d["count"] == 2
    assert d["overall"]["mse"] == pytest.approx(3.5)
    assert d["per_step"]["mae"] == [2.0, 1.0]
    assert isinstance(s, ForecastScores)


# --- comparisons and tables -------------------------------------------------------------------


def _scores() -> dict[str, ForecastScores]:
    actual = np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 4, 1)
    return {
        "lstm": forecast_scores(actual + 0.5, actual),  # mse 0.25
        "naive": forecast_scores(actual + 1.0, actual),  # mse 1
        "seasonal": forecast_scores(actual + 2.0, actual),  # mse 4
    }


def test_compare_ratios_to_first_or_named():
    scores = _scores()
    assert compare(scores) == [("lstm", 0.25, 1.0), ("naive", 1.0, 4.0), ("seasonal", 4.0, 16.0)]
    assert compare(scores, "mae", relative_to="naive") == [
        ("lstm", 0.5, 0.5),
        ("naive", 1.0, 1.0),
        ("seasonal", 2.0, 2.0),
    ]


def test_compare_errors_and_zero_reference():
    with pytest.raises(ConfigError, match=r"^relative_to: .*'drift'"):
        compare(_scores(), relative_to="drift")
    with pytest.raises(ConfigError, match=r"^metric: expected one of mse, mae"):
        compare(_scores(), metric="r2")
    with pytest.raises(ConfigError, match=r"^scores: expected at least 1"):
        compare({})
    perfect = forecast_scores(np.ones((1, 2, 1)), np.ones((1, 2, 1)))
    rows = compare({"perfect": perfect, "naive": _scores()["naive"], "again": perfect})
    assert math.isnan(rows[0][2]) and rows[1][2] == math.inf and math.isnan(rows[2][2])


def test_format_table_has_names_and_numbers():
    text = format_table(_scores())
    lines = text.splitlines()
    assert lines[0].split() == ["forecaster", *METRICS]
    assert lines[1].split()[:4] == ["lstm", "0.2500", "0.5000", "0.5000"]
    assert lines[2].split()[:4] == ["naive", "1.0000", "1.0000", "1.0000"]
    assert lines[3].split()[0] == "seasonal"
    # lstm's MAPE: 100 * mean(0.5 / [1, 2, 3, 4]) = 26.0417.
    assert lines[1].split()[4] == "26.0417"
    assert len({len(line) for line in lines}) == 1  # aligned
    assert not text.endswith("\n")


def test_format_table_metric_subset_and_scientific_numbers():
    actual = np.zeros((1, 2, 1))
    tiny = {"tiny": forecast_scores(np.full((1, 2, 1), 1e-4), actual)}
    assert format_table(tiny, metrics=["mse"]).splitlines() == [
        "forecaster         mse",
        "tiny        1.0000e-08",
    ]
    huge = {"huge": forecast_scores(np.full((1, 2, 1), 1e4), actual)}
    assert "1.0000e+08" in format_table(huge, metrics=("mse",))
    assert "nan" in format_table(tiny, metrics=("mape",))
    with pytest.raises(ConfigError, match=r"^metrics\[1\]: expected one of"):
        format_table(tiny, metrics=("mse", "wape"))
    with pytest.raises(ConfigError, match=r"^metrics: expected at least 1"):
        format_table(tiny, metrics=())


def test_format_per_step_default_and_chosen_steps():
    text = format_per_step(_scores(), "mae")
    lines = text.splitlines()
    assert lines[0].split() == ["forecaster", "h=1", "h=2", "h=3", "h=4"]  # H <= 8: every step
    assert lines[2].split() == ["naive", "1.0000", "1.0000", "1.0000", "1.0000"]
    actual = np.zeros((2, 720, 1))
    pred = np.broadcast_to(np.arange(1.0, 721.0)[None, :, None], (2, 720, 1))
    long = {"model": forecast_scores(pred, actual)}
    header = format_per_step(long, "mae").splitlines()[0].split()
    assert len(header) == 9 and header[1] == "h=1" and header[-1] == "h=720"
    row = format_per_step(long, "mse", steps=[1, 96, 720]).splitlines()[1].split()
    assert row == ["model", "1.0000", "9216.0000", "518400.0000"]


def test_format_per_step_errors():
    with pytest.raises(ConfigError, match=r"^steps\[1\]: expected a step in \[1, H=4\], got 5"):
        format_per_step(_scores(), steps=[1, 5])
    with pytest.raises(ConfigError, match=r"^steps: expected at least 1"):
        format_per_step(_scores(), steps=[])
    mixed = {**_scores(), "short": forecast_scores(np.zeros((1, 2, 1)), np.ones((1, 2, 1)))}
    with pytest.raises(ConfigError, match=r"^scores: expected the same horizon"):
        format_per_step(mixed)
    with pytest.raises(ConfigError, match=r"^metric: "):
        format_per_step(_scores(), metric="MSE")
