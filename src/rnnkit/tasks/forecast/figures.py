"""What each forecasting verb plots, in the data's units: the last window of a part with the
baselines, a backtest's folds, a forecast after recent history, flagged anomalies.

Choosing and un-scaling what is plotted is the task's business, so that any front end (the
command line, a notebook, a server) draws the same pictures; :mod:`.plots` draws them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from rnnkit.data.timeseries import make_windows, window_starts
from rnnkit.tasks.forecast import data as fdata
from rnnkit.tasks.forecast import plots
from rnnkit.tasks.forecast.data import Cleaned, PreparedSeries
from rnnkit.tasks.forecast.task import ForecasterTask

__all__ = ["plot_anomalies", "plot_backtest", "plot_last_window", "plot_prediction"]


def plot_last_window(
    task: ForecasterTask, prep: PreparedSeries, part: str, level: float | None, path: Path
) -> None:
    """The last window of ``part``: history, actual values, forecast, interval, baselines
    (the first target)."""
    data = task.config.data
    starts = window_starts(getattr(prep.bounds, part), data.lookback, data.horizon, 1)
    start = starts[-1:]
    got = task.forecast_windows(prep.values, start, level)
    x, y = make_windows(prep.values, start, data.lookback, data.horizon)
    t = len(task.targets)
    index = prep.cleaned.frame.index
    s = int(start[0])
    history = index[s : s + data.lookback]
    future = index[s + data.lookback : s + data.lookback + data.horizon]
    baselines = {k: task.to_original(v[0])[:, 0] for k, v in task.baselines(prep, x).items()}
    interval = None
    if got.lower is not None and got.upper is not None:
        interval = (task.to_original(got.lower[0])[:, 0], task.to_original(got.upper[0])[:, 0])
    plots.plot_forecast(
        path,
        history,
        task.to_original(x[0, :, :t])[:, 0],
        future,
        task.to_original(got.mean[0])[:, 0],
        actual=task.to_original(y[0, :, :t])[:, 0],
        interval=interval,
        baselines=baselines,
        title=f"{task.targets[0]}: last {part} window",
        level=level if interval is not None else None,
    )


def plot_backtest(
    task: ForecasterTask, prep: PreparedSeries, folds: list[dict[str, Any]], path: Path
) -> None:
    """The series since the first fold's look-back, and each fold's forecast and interval."""
    data = task.config.data
    index = prep.cleaned.frame.index
    first = max(folds[0]["start"] - data.lookback, 0)
    actual = task.to_original(prep.values[first:, : len(task.targets)])[:, 0]
    shown = [
        (
            index[f["start"] : f["start"] + data.horizon],
            f["forecast"][:, 0],
            None if f["lower"] is None else f["lower"][:, 0],
            None if f["upper"] is None else f["upper"][:, 0],
        )
        for f in folds
    ]
    plots.plot_backtest(path, index[first:], actual, shown, title=f"{task.targets[0]}: backtest")


def plot_prediction(
    task: ForecasterTask,
    cleaned: Cleaned,
    table: pd.DataFrame,
    level: float | None,
    path: Path,
) -> None:
    """The last three horizons of history and the forecast ``table`` after them."""
    name = task.targets[0]
    recent = cleaned.frame[name].iloc[-3 * task.config.data.horizon :]
    interval = None
    if f"{name}_lower" in table:
        interval = (table[f"{name}_lower"].to_numpy(), table[f"{name}_upper"].to_numpy())
    plots.plot_forecast(
        path,
        recent.index,
        fdata.untransform(recent.to_numpy(), task.config.data),
        table.index,
        table[name].to_numpy(),
        interval=interval,
        title=f"{name}: forecast",
        level=level if interval is not None else None,
    )


def plot_anomalies(task: ForecasterTask, table: pd.DataFrame, level: float, path: Path) -> None:
    """``detect``'s table for the first target, flagged points marked."""
    first = table[table["target"] == task.targets[0]]
    plots.plot_anomalies(
        path,
        first["time"].to_numpy(),
        first["actual"].to_numpy(),
        first["expected"].to_numpy(),
        first["lower"].to_numpy(),
        first["upper"].to_numpy(),
        first["anomaly"].to_numpy(),
        title=f"{task.targets[0]}: points outside the {level:.0%} interval",
    )
