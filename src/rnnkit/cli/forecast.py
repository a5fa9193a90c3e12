"""``rnnkit forecast``: train, evaluate and use time-series forecasters (``tasks.forecast``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import numpy as np

from rnnkit.atomic import atomic_write_text
from rnnkit.cli.runs import device_option
from rnnkit.cli.train import train_command
from rnnkit.tasks import common
from rnnkit.tasks import forecast as fc_task
from rnnkit.tasks.forecast import figures
from rnnkit.tasks.forecast.metrics import format_per_step, format_table

_LEVEL = click.option(
    "--level",
    type=click.FloatRange(0.5, 0.999),
    default=None,
    help="Prediction-interval coverage (point models: one of "
    + ", ".join(str(v) for v in fc_task.CALIBRATION_LEVELS)
    + ").",
)


@click.group("forecast")
def forecast() -> None:
    """Time-series forecasters (metrics, sensors, demand): train, eval, predict, detect."""


forecast.add_command(train_command(fc_task.JOB))


@forecast.command("eval")
@click.argument("run", type=click.Path(path_type=Path))
@click.option(
    "--data",
    "data_file",
    type=click.Path(path_type=Path),
    help="Series file read like the run's (default: the run's data); its test part is used.",
)
@click.option("--part", type=click.Choice(["test", "valid"]), default="test", show_default=True)
@_LEVEL
@click.option("--backtest", type=int, help="Also forecast from the last N rolling origins.")
@click.option("--plot", type=click.Path(path_type=Path), help="Forecast-vs-actual PNG to write.")
@device_option
@click.option("--json", "as_json", is_flag=True)
def eval_command(
    run: Path,
    data_file: Path | None,
    part: str,
    level: float | None,
    backtest: int | None,
    plot: Path | None,
    device: str,
    as_json: bool,
) -> None:
    """MSE, MAE, RMSE, MAPE and sMAPE of the model next to naive, seasonal-naive and linear
    forecasts on the same windows, overall and per horizon step."""
    task = _load_forecaster(run, device)
    level = task.interval_level(level)
    prep = task.prepared(None if data_file is None else str(data_file))
    evaluation = task.evaluate(prep, part, level)  # type: ignore[arg-type]
    plot_path = plot if plot is not None else run / "forecast.png"
    figures.plot_last_window(task, prep, part, level, plot_path)
    folds = task.backtest(prep, backtest, level) if backtest else []
    backtest_plot = run / "backtest.png" if folds else None
    if folds:
        figures.plot_backtest(task, prep, folds, backtest_plot)
    if as_json:
        out = {"type": "summary", **evaluation.to_dict(), "plot": str(plot_path)}
        if folds:
            out["backtest"] = [
                {"start": f["start"], "scores": {k: s.to_dict() for k, s in f["scores"].items()}}
                for f in folds
            ]
        click.echo(json.dumps(out))
        return
    click.echo(
        f"{evaluation.source}: {evaluation.windows:,} windows of "
        f"{task.config.data.horizon} steps, targets {', '.join(task.targets)}"
    )
    click.echo("\nin the data's units:")
    click.echo(format_table(evaluation.original))
    click.echo("\non the scaled series (LTSF convention):")
    click.echo(format_table(evaluation.scaled, metrics=("mse", "mae")))
    click.echo("\nRMSE per horizon step (data's units):")
    click.echo(format_per_step(evaluation.original, metric="rmse"))
    if evaluation.coverage is not None:
        click.echo(
            f"\n{evaluation.level:.0%} prediction interval covered "
            f"{evaluation.coverage:.1%} of the actual values"
        )
    click.echo(f"forecast plot: {plot_path}")
    for fold in folds:
        model = fold["scores"]["model"].overall["rmse"]
        shown = "  ".join(
            f"{k} {s.overall['rmse']:.4g}" for k, s in fold["scores"].items() if k != "model"
        )
        click.echo(f"backtest origin row {fold['start']}: RMSE model {model:.4g}  {shown}")
    if backtest_plot is not None:
        click.echo(f"backtest plot: {backtest_plot}")


@forecast.command("predict")
@click.argument("run", type=click.Path(path_type=Path))
@click.option(
    "--data",
    "data_file",
    type=click.Path(path_type=Path),
    required=True,
    help="Recent rows of the series (at least the look-back), read like the training file.",
)
@_LEVEL
@click.option("--output", type=click.Path(path_type=Path), help="CSV to write (default: stdout).")
@click.option("--plot", type=click.Path(path_type=Path), help="PNG of history and forecast.")
@device_option
def predict_command(
    run: Path,
    data_file: Path,
    level: float | None,
    output: Path | None,
    plot: Path | None,
    device: str,
) -> None:
    """Forecast the next horizon steps after the end of --data: a CSV of future timestamps,
    forecasts and interval bounds."""
    task = _load_forecaster(run, device)
    level = task.interval_level(level)
    cleaned = fc_task.fdata.load_frame(task.config.data, str(data_file))
    table = task.forecast(cleaned, level)
    text = table.to_csv(index_label=cleaned.frame.index.name or "step")
    if output is None:
        click.echo(text, nl=False)
    else:
        atomic_write_text(output, text)
        click.echo(f"forecast of {len(table)} steps: {output}", err=True)
    if plot is not None:
        figures.plot_prediction(task, cleaned, table, level, plot)
        click.echo(f"plot: {plot}", err=True)


@forecast.command("detect")
@click.argument("run", type=click.Path(path_type=Path))
@click.option(
    "--data",
    "data_file",
    type=click.Path(path_type=Path),
    required=True,
    help="The stretch of the series to check, read like the training file.",
)
@_LEVEL
@click.option("--output", type=click.Path(path_type=Path), help="CSV of every checked point.")
@click.option("--plot", type=click.Path(path_type=Path), help="PNG with flagged points marked.")
@device_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per flagged point.")
def detect_command(
    run: Path,
    data_file: Path,
    level: float | None,
    output: Path | None,
    plot: Path | None,
    device: str,
    as_json: bool,
) -> None:
    """Flag points outside the one-step-ahead prediction interval, with a score (distance
    from the forecast in half-widths of the interval; above 1 is flagged)."""
    task = _load_forecaster(run, device)
    level = task.interval_level(level, default=0.99)
    cleaned = fc_task.fdata.load_frame(task.config.data, str(data_file))
    table = task.detect(cleaned, level)
    flagged = table[table["anomaly"]].sort_values("score", ascending=False)
    if output is not None:
        atomic_write_text(output, table.to_csv(index=False))
    if plot is not None:
        figures.plot_anomalies(task, table, level, plot)
    if as_json:
        for row in flagged.itertuples(index=False):
            click.echo(
                json.dumps(
                    {**row._asdict(), "time": str(row.time), "anomaly": bool(row.anomaly)},
                    default=_plain,
                )
            )
        return
    click.echo(f"{len(table):,} points checked at {level:.0%}: {len(flagged):,} flagged")
    if len(flagged):
        click.echo(flagged.head(20).to_string(index=False))
    for path, what in ((output, "table"), (plot, "plot")):
        if path is not None:
            click.echo(f"{what}: {path}")


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else str(value)


def _load_forecaster(run: Path, device: str) -> fc_task.ForecasterTask:
    return common.load(run, device, kind=fc_task.JOB.name)
