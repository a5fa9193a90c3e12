"""rnnkit.tasks.forecast.plots: PNGs written atomically, validation, no figures left open."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # before pyplot: the test machine has no display

import matplotlib.pyplot as plt  # noqa: E402  (only to check that nothing is left open)
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from rnnkit.config import ConfigError  # noqa: E402
from rnnkit.tasks.forecast.plots import plot_anomalies, plot_backtest, plot_forecast  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _assert_png(path, directory):
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and len(data) > 1000
    assert sorted(p.name for p in directory.iterdir()) == [path.name]  # no temporary file left
    assert plt.get_fignums() == []


def _hourly(n: int, start: str = "2024-03-01", tz: str | None = None) -> pd.DatetimeIndex:
    return pd.date_range(start, periods=n, freq="h", tz=tz)


@pytest.mark.parametrize("times", ["datetime", "integer", "tz-aware"])
@pytest.mark.parametrize("full", [False, True])
def test_plot_forecast_writes_a_png(tmp_path, times, full):
    n, h = 96, 24
    if times == "integer":
        hist_t, fut_t = np.arange(n), np.arange(n, n + h)
    else:
        tz = "Europe/Paris" if times == "tz-aware" else None
        every = _hourly(n + h, tz=tz)
        hist_t, fut_t = every[:n], every[n:]
    history = np.sin(np.arange(n) / 4)
    forecast = np.sin(np.arange(n, n + h) / 4)
    extras = {}
    if full:
        extras = dict(
            actual=forecast + 0.1,
            interval=(forecast - 0.5, forecast + 0.5),
            level=0.9,
            baselines={"naive": np.full(h, history[-1]), "seasonal naive": history[-h:]},
            title="ETTh1 OT",
        )
    path = plot_forecast(tmp_path / "forecast.png", hist_t, history, fut_t, forecast, **extras)
    assert path == tmp_path / "forecast.png"
    _assert_png(path, tmp_path)


def test_plot_forecast_interval_without_level_and_nan_gaps(tmp_path):
    history = np.arange(10.0)
    history[3] = np.nan
    path = plot_forecast(
        str(tmp_path / "f.png"),
        list(range(10)),
        history,
        [10, 11],
        [10.0, 11.0],
        interval=(np.array([9.0, 9.0]), np.array([12.0, 13.0])),
    )
    _assert_png(path, tmp_path)


def test_plot_forecast_replaces_an_existing_file(tmp_path):
    target = tmp_path / "f.png"
    target.write_bytes(b"old")
    plot_forecast(target, [0, 1], [0.0, 1.0], [2], [2.0])
    _assert_png(target, tmp_path)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(history=np.zeros(9)), r"^history: expected length 10 \(as history_time\), got 9"),
        (dict(forecast=np.zeros(3)), r"^forecast: expected length 4 \(as forecast_time\), got 3"),
        (dict(actual=np.zeros(5)), r"^actual: expected length 4"),
        (dict(interval=(np.zeros(4), np.zeros(2))), r"^interval.hi: expected length 4"),
        (dict(interval=np.zeros(4)), r"^interval: expected a pair"),
        (dict(baselines={"naive": np.zeros(3)}), r"^baselines\['naive'\]: expected length 4"),
        (dict(level=0.9), r"^level: expected no level without an interval"),
        (dict(interval=(np.zeros(4), np.ones(4)), level=90), r"^level: expected a float in"),
        (dict(forecast_time=_hourly(4)), r"^forecast_time: expected times of one kind"),
        (dict(history=np.zeros((10, 1))), r"^history: expected a 1-D array"),
        (dict(history_time=["a"] * 10), r"^history_time: expected a DatetimeIndex"),
    ],
)
def test_plot_forecast_errors(tmp_path, kwargs, match):
    args = dict(
        history_time=np.arange(10),
        history=np.zeros(10),
        forecast_time=np.arange(10, 14),
        forecast=np.zeros(4),
    )
    args.update(kwargs)
    with pytest.raises(ConfigError, match=match):
        plot_forecast(tmp_path / "f.png", **args)
    assert list(tmp_path.iterdir()) == []
    assert plt.get_fignums() == []


@pytest.mark.parametrize("datetimes", [False, True])
def test_plot_backtest_writes_a_png(tmp_path, datetimes):
    n = 200
    time = _hourly(n) if datetimes else np.arange(n)
    actual = np.sin(np.arange(n) / 6)
    folds = []
    for k, start in enumerate(range(100, 200, 25)):
        forecast = actual[start : start + 25] + 0.1
        if k % 2:
            folds.append((time[start : start + 25], forecast, forecast - 0.3, forecast + 0.3))
        else:
            folds.append((time[start : start + 25], forecast, None, None))
    path = plot_backtest(tmp_path / "backtest.png", time, actual, folds, title="backtest")
    _assert_png(path, tmp_path)
    # No folds at all is still a plot of the series.
    (tmp_path / "backtest.png").unlink()
    _assert_png(plot_backtest(tmp_path / "backtest.png", time, actual, []), tmp_path)


@pytest.mark.parametrize(
    ("folds", "match"),
    [
        ([(np.arange(5), np.zeros(4), None, None)], r"^folds\[0\].forecast: expected length 5"),
        ([(np.arange(5), np.zeros(5), np.zeros(5), None)], r"^folds\[0\]: expected both lo and hi"),
        (
            [
                (np.arange(2), np.zeros(2), None, None),
                (np.arange(3), np.zeros(3), np.zeros(3), np.zeros(2)),
            ],
            r"^folds\[1\].hi: expected length 3",
        ),
        ([(np.arange(2), np.zeros(2))], r"^folds\[0\]: expected a tuple"),
        ([(_hourly(2), np.zeros(2), None, None)], r"^folds\[0\].times: expected times of one kind"),
        ("abc", r"^folds: expected a sequence"),
    ],
)
def test_plot_backtest_errors(tmp_path, folds, match):
    with pytest.raises(ConfigError, match=match):
        plot_backtest(tmp_path / "b.png", np.arange(10), np.zeros(10), folds)
    with pytest.raises(ConfigError, match=r"^actual: expected length 10 \(as time\), got 9"):
        plot_backtest(tmp_path / "b.png", np.arange(10), np.zeros(9), [])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("datetimes", [False, True])
@pytest.mark.parametrize("any_flagged", [False, True])
def test_plot_anomalies_writes_a_png(tmp_path, datetimes, any_flagged):
    n = 120
    time = _hourly(n) if datetimes else np.arange(n)
    expected = np.sin(np.arange(n) / 5)
    actual = expected + 0.05
    if any_flagged:
        actual[[30, 77]] = [3.0, -3.0]
    lo, hi = expected - 1, expected + 1
    flagged = (actual < lo) | (actual > hi)
    assert flagged.any() == any_flagged
    path = plot_anomalies(tmp_path / "anomalies.png", time, actual, expected, lo, hi, flagged)
    _assert_png(path, tmp_path)


def test_plot_anomalies_errors(tmp_path):
    t, z = np.arange(6), np.zeros(6)
    flags = np.zeros(6, dtype=bool)
    with pytest.raises(ConfigError, match=r"^expected: expected length 6 \(as time\), got 5"):
        plot_anomalies(tmp_path / "a.png", t, z, np.zeros(5), z, z, flags)
    with pytest.raises(ConfigError, match=r"^lo: expected length 6"):
        plot_anomalies(tmp_path / "a.png", t, z, z, np.zeros(7), z, flags)
    with pytest.raises(ConfigError, match=r"^hi: expected length 6"):
        plot_anomalies(tmp_path / "a.png", t, z, z, z, np.zeros(2), flags)
    with pytest.raises(ConfigError, match=r"^flagged: expected length 6"):
        plot_anomalies(tmp_path / "a.png", t, z, z, z, z, np.zeros(5, dtype=bool))
    with pytest.raises(ConfigError, match=r"^flagged: expected a boolean array, got dtype int64"):
        plot_anomalies(tmp_path / "a.png", t, z, z, z, z, np.zeros(6, dtype=np.int64))
    assert list(tmp_path.iterdir()) == []
    assert plt.get_fignums() == []


def test_datetime_objects_are_times_but_strings_are_not(tmp_path):
    stamps = list(_hourly(3))
    path = plot_forecast(tmp_path / "f.png", stamps[:2], [0.0, 1.0], stamps[2:], [2.0])
    _assert_png(path, tmp_path)
    with pytest.raises(ConfigError, match=r"^history_time: expected a DatetimeIndex"):
        plot_forecast(tmp_path / "g.png", ["2024-01-01", "2024-01-02"], [0.0, 1.0], [2], [2.0])
