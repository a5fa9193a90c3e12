"""``rnnkit forecast``: train, evaluate and use time-series forecasters (``tasks.forecasting``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
import numpy as np

from rnnkit.cli.options import config_options
from rnnkit.cli.runs import device_option, run_options, train_config
from rnnkit.config import ConfigError
from rnnkit.tasks import forecasting as fc_task
from rnnkit.tasks import load
from rnnkit.tasks.forecast_metrics import format_per_step, format_table
from rnnkit.training.atomic import atomic_write_text
from rnnkit.training.distributed import is_main_process
from rnnkit.training.progress import make_progress

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


@forecast.command("train")
@run_options(fc_task.PRESETS)
@config_options(fc_task.ForecastConfig, exclude=("task", "input_size"))
def train_command(
    preset: str | None,
    out: Path | None,
    resume_run: Path | None,
    overwrite: bool,
    progress: str,
    as_json: bool,
    **params: Any,
) -> None:
    """Train a forecaster on a CSV/Parquet series (or a --dataset) into a run directory."""
    config, out = train_config(
        fc_task.ForecastConfig,
        params,
        preset=preset,
        out=out,
        resume_run=resume_run,
        preset_config=fc_task.preset_config,
        resume_config=fc_task.resume_config,
    )
    task, result, prep = fc_task.train(
        config,
        out,
        overwrite=overwrite,
        resume=resume_run is not None,
        progress=make_progress(progress, sys.stderr),
    )
    if not is_main_process():  # under torchrun, rank 0 reports for all
        return
    report = fc_task.series_report(prep)
    best = min(
        (r for r in result.validations() if "val_loss" in r),
        key=lambda r: r["val_loss"],
        default=None,
    )
    summary = {
        "run": str(out),
        "stop_reason": result.stop_reason,
        "epochs": result.epochs,
        "steps": result.steps,
        "train_time": result.train_time,
        "parameters": sum(p.numel() for p in task.model.parameters()),
        "device": str(next(task.model.parameters()).device),
        "series": report,
        "best_epoch": None if best is None else best["epoch"] + 1,
        "val_loss": None if best is None else best["val_loss"],
        "val_mse": None if best is None else best.get("val_mse"),
        "val_mae": None if best is None else best.get("val_mae"),
    }
    if as_json:
        click.echo(json.dumps({"type": "summary", **summary}))
    else:
        click.echo(_describe_series(report))
        click.echo(
            f"trained {summary['parameters']:,} parameters for {summary['steps']} steps in "
            f"{summary['train_time']:.0f}s on {summary['device']} ({summary['stop_reason']})"
        )
        if best is not None:
            click.echo(
                f"best validation loss {best['val_loss']:.4f} (scaled MSE {best['val_mse']:.4f},"
                f" MAE {best['val_mae']:.4f}) at epoch {best['epoch'] + 1}"
            )
        click.echo(f"run directory: {out}; next: rnnkit forecast eval {out}")
    if result.stop_reason == "interrupted":
        sys.exit(130)


def _describe_series(report: dict[str, Any]) -> str:
    split = report["split"]
    parts = ", ".join(f"{k} {v[1] - v[0]}" for k, v in split.items())
    text = f"series: {report['rows']:,} rows, {report['first']} to {report['last']}"
    if report["freq"]:
        text += f", frequency {report['freq']}"
    if report["irregular"]:
        text += f"; {report['irregular']} irregular gaps ({report['duplicates']} duplicates)"
    filled = sum(report["filled"].values())
    if filled:
        text += f"; {filled} missing values filled ({report['fill']})"
    return text + f"; rows per part: {parts}"


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
    level = _level(task, level, 0.9)
    prep = task.prepared(None if data_file is None else str(data_file))
    evaluation = task.evaluate(prep, part, level)  # type: ignore[arg-type]
    plot_path = plot if plot is not None else run / "forecast.png"
    _plot_last_window(task, prep, part, level, plot_path)
    folds = task.backtest(prep, backtest, level) if backtest else []
    backtest_plot = run / "backtest.png" if folds else None
    if folds:
        _plot_backtest(task, prep, folds, backtest_plot)
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


def _plot_last_window(
    task: fc_task.ForecasterTask, prep: Any, part: str, level: float | None, path: Path
) -> None:
    from rnnkit.data.timeseries import make_windows, window_starts
    from rnnkit.tasks.forecast_plots import plot_forecast

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
    plot_forecast(
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


def _plot_backtest(task: fc_task.ForecasterTask, prep: Any, folds: list, path: Path) -> None:
    from rnnkit.tasks.forecast_plots import plot_backtest

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
    plot_backtest(path, index[first:], actual, shown, title=f"{task.targets[0]}: backtest")


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
    from rnnkit.tasks.forecast_plots import plot_forecast
    from rnnkit.tasks.forecasting_data import load_frame

    task = _load_forecaster(run, device)
    level = _level(task, level, 0.9)
    cleaned = load_frame(task.config.data, str(data_file))
    table = task.predict(cleaned, level)
    text = table.to_csv(index_label=cleaned.frame.index.name or "step")
    if output is None:
        click.echo(text, nl=False)
    else:
        atomic_write_text(output, text)
        click.echo(f"forecast of {len(table)} steps: {output}", err=True)
    if plot is not None:
        name = task.targets[0]
        recent = cleaned.frame[name].iloc[-3 * task.config.data.horizon :]
        interval = None
        if f"{name}_lower" in table:
            interval = (table[f"{name}_lower"].to_numpy(), table[f"{name}_upper"].to_numpy())
        plot_forecast(
            plot,
            recent.index,
            fc_task.fdata.untransform(recent.to_numpy(), task.config.data),
            table.index,
            table[name].to_numpy(),
            interval=interval,
            title=f"{name}: forecast",
            level=level if interval is not None else None,
        )
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
    from rnnkit.tasks.forecast_plots import plot_anomalies
    from rnnkit.tasks.forecasting_data import load_frame

    task = _load_forecaster(run, device)
    level = _level(task, level, 0.99)
    cleaned = load_frame(task.config.data, str(data_file))
    table = task.detect(cleaned, level)
    flagged = table[table["anomaly"]].sort_values("score", ascending=False)
    if output is not None:
        atomic_write_text(output, table.to_csv(index=False))
    if plot is not None:
        first = table[table["target"] == task.targets[0]]
        plot_anomalies(
            plot,
            first["time"].to_numpy(),
            first["actual"].to_numpy(),
            first["expected"].to_numpy(),
            first["lower"].to_numpy(),
            first["upper"].to_numpy(),
            first["anomaly"].to_numpy(),
            title=f"{task.targets[0]}: points outside the {level:.0%} interval",
        )
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


def _level(task: fc_task.ForecasterTask, level: float | None, default: float) -> float | None:
    """The interval level to use: the one given, else ``default`` (or, for a quantile model,
    the level its outer quantiles span)."""
    if task.config.model.output == "quantile":
        q = task.config.model.quantiles
        spanned = round(q[-1] - q[0], 6)
        if level is not None and level > spanned + 1e-9:
            raise ConfigError(
                f"the model's quantiles {q} span a {spanned:.0%} interval; got --level {level}",
                key="level",
            )
        return spanned if level is None else level
    if task.config.model.output == "point" and task.calibration is None:
        return None
    return default if level is None else level


def _load_forecaster(run: Path, device: str) -> fc_task.ForecasterTask:
    task = load(run, device)
    if not isinstance(task, fc_task.ForecasterTask):
        raise ConfigError(f"{run} is not a forecasting run", key="run")
    return task
