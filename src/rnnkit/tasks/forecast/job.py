"""Time-series forecasting declared on the job skeleton: ``rnnkit forecast train``.

Config -> series (read, resampled, filled, split, scaled on the training part) -> windows of
``lookback`` steps and the ``horizon`` steps after them ->
:class:`~rnnkit.models.forecaster.Forecaster` -> ``fit`` -> a run directory, which loads back
as a :class:`~rnnkit.tasks.forecast.task.ForecasterTask`.

The run directory holds, beside the weights and ``config.json``: ``scaler.json`` (fitted on
the training rows), ``calibration.json`` (the conformal widths of a point model) and
``series.json`` (what cleaning did: gaps filled, irregular timestamps; how it was split).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rnnkit.config import ConfigError
from rnnkit.data.timeseries import SeriesScaler, window_starts
from rnnkit.models.forecaster import Forecaster
from rnnkit.tasks import common
from rnnkit.tasks.common import FitPlan, Job, Prepared
from rnnkit.tasks.common.onnx_export import ExportPlan
from rnnkit.tasks.forecast import data as fdata
from rnnkit.tasks.forecast import export
from rnnkit.tasks.forecast.batches import ForecastObjective, WindowBatches
from rnnkit.tasks.forecast.config import ForecastConfig
from rnnkit.tasks.forecast.data import PreparedSeries
from rnnkit.tasks.forecast.linear_start import start_linear_skip
from rnnkit.tasks.forecast.presets import PRESETS
from rnnkit.tasks.forecast.task import ForecasterTask, calibrate
from rnnkit.training.loop import FitResult
from rnnkit.training.progress import Progress
from rnnkit.training.rundir import RunDir

__all__ = [
    "JOB",
    "Forecasting",
    "build_model",
    "describe_series",
    "preset_config",
    "resume_config",
    "series_report",
    "train",
]


class Forecasting(Job):
    """The ``forecast`` job: the artifact is the scaler, the data the prepared series."""

    name = "forecast"
    title = "forecaster"
    config = ForecastConfig
    presets = PRESETS

    def prepare(self, config: ForecastConfig, artifacts: SeriesScaler | None) -> Prepared:
        series = fdata.prepare(config.data, artifacts)
        data = config.data
        if len(window_starts(series.bounds.train, data.lookback, data.horizon, data.stride)) == 0:
            train = series.bounds.train
            raise ConfigError(
                f"the training part ({train[1] - train[0]} rows) is too short for one window "
                f"of {data.lookback} + {data.horizon} steps",
                key="lookback",
            )
        return Prepared(series.scaler, series)

    def save_artifacts(self, run: RunDir, artifacts: SeriesScaler) -> None:
        run.write_extra("scaler", artifacts.to_dict())

    def read_artifacts(self, run: RunDir, config: ForecastConfig) -> SeriesScaler:
        return run.read_extra_as("scaler", SeriesScaler.from_dict)

    def build_model(self, config: ForecastConfig, artifacts: SeriesScaler) -> Forecaster:
        return build_model(config, len(artifacts.columns))

    def plan(
        self,
        config: ForecastConfig,
        prepared: Prepared,
        model: Any,
        run: RunDir,
        *,
        fresh: bool,
        **_: Any,
    ) -> FitPlan:
        series: PreparedSeries = prepared.data
        data, seed = config.data, config.train.seed
        if fresh:
            run.write_extra("series", series_report(series))
            if model.skip is not None:
                start_linear_skip(model, series, config)
        train_starts = window_starts(series.bounds.train, data.lookback, data.horizon, data.stride)
        valid_starts = window_starts(
            series.bounds.valid, data.lookback, data.horizon, data.eval_step
        )

        def train_batches(epoch: int) -> WindowBatches:
            return WindowBatches(
                series.values, train_starts, data, data.batch_size, seed=seed * 100_003 + epoch
            )

        valid = None
        if len(valid_starts):
            valid = WindowBatches(series.values, valid_starts, data, data.eval_batch_size)
        return FitPlan(train_batches, valid, ForecastObjective())

    def export(self, task: ForecasterTask, run: RunDir) -> ExportPlan:
        return export.export_plan(task, run)

    def task(
        self, config: ForecastConfig, artifacts: SeriesScaler, model: Any, run: RunDir | None
    ) -> ForecasterTask:
        calibration = None
        if run is not None and (run.path / "calibration.json").is_file():
            calibration = run.read_extra("calibration")
        return ForecasterTask(config, model, artifacts, calibration=calibration, run=run)

    def finish(self, task: ForecasterTask, prepared: Prepared, run: RunDir) -> None:
        if task.config.model.output == "point":
            task.calibration = calibrate(task, prepared.data)
            if task.calibration is not None:
                run.write_extra("calibration", task.calibration)

    def details(self, task: ForecasterTask, result: FitResult) -> dict[str, Any]:
        assert task.run is not None
        return {"series": task.run.read_extra("series")}

    def describe(self, summary: Mapping[str, Any]) -> list[str]:
        return [describe_series(summary["details"]["series"])]


JOB = Forecasting()


def build_model(config: ForecastConfig, num_inputs: int) -> Forecaster:
    """The forecaster of ``config`` reading ``num_inputs`` channels."""
    data = config.data
    return Forecaster(num_inputs, len(data.targets), data.lookback, data.horizon, config.model)


def series_report(prep: PreparedSeries) -> dict[str, Any]:
    """What cleaning did and how the series was split (the run's ``series.json``)."""
    timing = prep.cleaned.timing
    index = prep.cleaned.frame.index
    return {
        "rows": len(index),
        "first": str(index[0]),
        "last": str(index[-1]),
        "freq": None if timing is None else timing.freq,
        "irregular": None if timing is None else timing.irregular,
        "duplicates": None if timing is None else timing.duplicates,
        "filled": prep.cleaned.filled.filled,
        "fill": prep.cleaned.filled.method,
        "split": {name: list(getattr(prep.bounds, name)) for name in ("train", "valid", "test")},
    }


def describe_series(report: Mapping[str, Any]) -> str:
    """One line on a ``series.json`` report: rows, span, frequency, repairs, the split."""
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


def train(
    config: ForecastConfig,
    out: Path | str,
    *,
    overwrite: bool = False,
    resume: bool = False,
    progress: Progress | None = None,
) -> tuple[ForecasterTask, FitResult]:
    """Trains a forecaster into the run directory ``out`` (see
    :func:`rnnkit.tasks.common.train`); the best weights by validation loss, and a point
    model's conformal calibration."""
    return common.train(JOB, config, out, overwrite=overwrite, resume=resume, progress=progress)


def preset_config(name: str | None) -> dict[str, Any]:
    """The defaults with preset ``name`` merged in, as a nested dict."""
    return common.preset_config(JOB, name)


def resume_config(run: RunDir, overrides: Sequence[str] = ()) -> ForecastConfig:
    """The run's saved config with resumable ``train.<field>=value`` overrides."""
    return common.resume_config(JOB, run, overrides)
