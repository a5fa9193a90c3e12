"""The forecasting task end to end: files -> run directory -> forecasts, evaluation, flags."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import rnnkit
from rnnkit.cli import main
from rnnkit.config import ConfigError, StackConfig
from rnnkit.data.timeseries.windows import make_windows
from rnnkit.models.forecaster import ForecasterModelConfig
from rnnkit.tasks import forecast as fc
from rnnkit.tasks.forecast.data import ForecastDataConfig
from rnnkit.training.config import TrainConfig
from rnnkit.training.rundir import RunDir

PERIOD, LOOKBACK, HORIZON = 24, 48, 12


def _sine_frame(rows: int = 900, seed: int = 0) -> pd.DataFrame:
    """An hourly noisy sine wave (period 24) with a slowly varying covariate."""
    rng = np.random.default_rng(seed)
    t = np.arange(rows)
    index = pd.date_range("2024-01-01", periods=rows, freq="h", name="time")
    value = np.sin(2 * np.pi * t / PERIOD) + 0.1 * rng.standard_normal(rows)
    load = np.cos(2 * np.pi * t / (PERIOD * 7)) + 0.05 * rng.standard_normal(rows)
    return pd.DataFrame({"value": 10 + 3 * value, "load": load}, index=index)


def _write(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index_label="time")
    return path


@pytest.fixture(scope="module")
def sine_csv(tmp_path_factory) -> Path:
    return _write(_sine_frame(), tmp_path_factory.mktemp("sine") / "sine.csv")


def _config(path: Path, kind: str = "segment", output: str = "point", **data) -> fc.ForecastConfig:
    return fc.ForecastConfig(
        data=ForecastDataConfig(
            data=str(path),
            target="value",
            time_col="time",
            lookback=LOOKBACK,
            horizon=HORIZON,
            season=PERIOD,
            **data,
        ),
        model=ForecasterModelConfig(
            kind=kind,
            segment_length=12,
            output=output,
            rnn=StackConfig(cell="gru", hidden_size=32),
        ),
        train=TrainConfig(epochs=6, lr=3e-3, device="cpu", log_every=1000),
    )


@pytest.fixture(scope="module")
def trained(sine_csv, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "sine"
    task, result = fc.train(_config(sine_csv), out)
    prep = task.prepared()
    return task, result, prep, out


def test_learns_the_sine_wave_far_better_than_naive(trained):
    task, _, prep, _ = trained
    evaluation = task.evaluate(prep, "test", 0.9)
    mse = {name: s.overall["mse"] for name, s in evaluation.original.items()}
    assert mse["model"] < 0.5 * mse["naive"], mse
    assert set(mse) == {"model", "naive", "seasonal_naive", "linear"}
    # The conformal interval covers roughly its level on unseen windows.
    assert evaluation.coverage is not None and 0.75 <= evaluation.coverage <= 1.0


def test_scores_in_data_units_are_the_scaled_ones_times_the_scale(trained):
    task, _, prep, _ = trained
    evaluation = task.evaluate(prep, "test", 0.9)
    std = task.scaler.scale[0]
    for name in evaluation.scaled:
        scaled, raw = evaluation.scaled[name].overall, evaluation.original[name].overall
        assert raw["mae"] == pytest.approx(scaled["mae"] * std, rel=1e-4)


def test_every_test_window_is_scored_the_last_partial_batch_too(trained):
    """The corrected LTSF protocol: a test loader that dropped its last partial batch left
    windows out (and changed published figures); ours scores every window, whatever the
    evaluation batch size, and the MSE is the mean over all of them."""
    task, _, prep, _ = trained
    data = task.config.data
    a, b = prep.bounds.test
    every = b - a - data.horizon + 1  # targets inside the test part, look-back reaching back
    for batch_size in (every - 1, every // 2 + 1, every + 5):  # partial last batches; one
        config = dataclasses.replace(data, eval_batch_size=batch_size)
        task.config = dataclasses.replace(task.config, data=config)
        evaluation = task.evaluate(prep, "test")
        assert evaluation.windows == every
        starts = np.arange(a - data.lookback, b - data.lookback - data.horizon + 1)
        _, y = make_windows(prep.values, starts, data.lookback, data.horizon)
        mean = task.forecast_windows(prep.values, starts, None).mean
        assert mean.shape[0] == every
        mse = float(((mean - y[..., :1]) ** 2).mean())
        assert evaluation.scaled["model"].overall["mse"] == pytest.approx(mse, rel=1e-5)
    task.config = dataclasses.replace(task.config, data=data)


def test_the_scaler_is_fitted_on_the_training_rows_only(trained, sine_csv):
    task, _, prep, _ = trained
    frame = pd.read_csv(sine_csv)
    train_rows = frame["value"].to_numpy()[: prep.bounds.train[1]]
    assert task.scaler.center[0] == pytest.approx(train_rows.mean(), rel=1e-6)
    assert task.scaler.center[0] != pytest.approx(frame["value"].mean(), rel=1e-6)


def test_predict_continues_the_timestamps_and_matches_the_saved_run(trained, sine_csv):
    task, _, _, out = trained
    recent = _sine_frame().iloc[-100:]
    table = task.forecast(recent, level=0.9)
    expected = pd.date_range(recent.index[-1], periods=HORIZON + 1, freq="h")[1:]
    assert list(table.index) == list(expected)
    assert list(table.columns) == ["value", "value_lower", "value_upper"]
    assert (table["value_lower"] <= table["value"]).all()
    assert (table["value"] <= table["value_upper"]).all()
    loaded = rnnkit.load(out)
    np.testing.assert_allclose(loaded.forecast(recent, level=0.9), table, rtol=1e-5)


def test_the_predictor_takes_rows_as_json_and_answers_the_forecast(trained):
    task = trained[0]
    recent = _sine_frame().iloc[-100:]
    rows = [
        {"time": str(t), "value": v, "load": w}
        for t, v, w in zip(recent.index, recent["value"], recent["load"], strict=True)
    ]
    (answer,) = json.loads(json.dumps(task.predict([{"rows": rows}], level=0.9)))
    table = task.forecast(recent, level=0.9)
    assert [step["time"] for step in answer["forecast"]] == [str(t) for t in table.index]
    for column in table:
        got = [step[column] for step in answer["forecast"]]
        np.testing.assert_allclose(got, table[column].to_numpy(), rtol=1e-6)
    with pytest.raises(ConfigError, match=r'\[0\]: expected \{"rows"'):
        task.predict(["value"])
    with pytest.raises(ConfigError, match="forecast\\(frame\\) takes a DataFrame"):
        task.predict(recent)
    with pytest.raises(ConfigError, match="row 1: 'time' is not a timestamp"):
        task.predict([{"rows": [rows[0], {**rows[1], "time": "soon"}, *rows[2:]]}])


def test_predict_needs_a_full_lookback(trained):
    task = trained[0]
    with pytest.raises(ConfigError, match="reads 48 steps; the data has 10 rows"):
        task.forecast(_sine_frame().iloc[:10])


def test_detect_flags_an_injected_spike(trained):
    task = trained[0]
    recent = _sine_frame(seed=5).iloc[-200:].copy()
    spike = recent.index[150]
    recent.loc[spike, "value"] += 6.0
    table = task.detect(recent, level=0.99)
    flagged = table[table["anomaly"]]
    assert spike in set(flagged["time"])
    assert table.loc[table["time"] == spike, "score"].iloc[0] > 3
    assert len(flagged) <= 8  # a handful of false alarms at most, out of 152 points


def test_backtest_folds_are_the_last_horizons(trained):
    task, _, prep, _ = trained
    folds = task.backtest(prep, 3)
    n = len(prep.values)
    assert [f["start"] for f in folds] == [n - 3 * HORIZON, n - 2 * HORIZON, n - HORIZON]
    with pytest.raises(ConfigError, match="folds"):
        task.backtest(prep, 10_000)


@pytest.mark.parametrize("kind", ["direct", "seq2seq", "autoregressive"])
def test_every_kind_trains_and_beats_naive(sine_csv, tmp_path, kind):
    task, _ = fc.train(_config(sine_csv, kind=kind), tmp_path / kind)
    prep = task.prepared()
    scores = task.evaluate(prep).original
    assert scores["model"].overall["mse"] < 0.7 * scores["naive"].overall["mse"]


def test_gaussian_output_gives_its_own_interval(sine_csv, tmp_path):
    task, _ = fc.train(_config(sine_csv, output="gaussian"), tmp_path / "g")
    prep = task.prepared()
    assert task.calibration is None
    table = task.forecast(_sine_frame().iloc[-60:], level=0.8)
    assert (table["value_upper"] > table["value_lower"]).all()
    assert task.evaluate(prep, level=0.8).coverage is not None


def test_covariates_come_after_the_targets(sine_csv, tmp_path):
    config = _config(sine_csv, covariates="load")
    assert config.data.columns == ["value", "load"]
    task, _ = fc.train(config, tmp_path / "cov")
    assert task.forecast(_sine_frame().iloc[-60:], level=None).columns.tolist() == ["value"]


def test_resume_finishes_with_the_weights_of_an_uninterrupted_run(sine_csv, tmp_path):
    config = _config(sine_csv, kind="direct")
    full, _ = fc.train(config, tmp_path / "full")
    short = fc.ForecastConfig(
        data=config.data,
        model=config.model,
        train=TrainConfig(**{**_train_dict(config), "epochs": 3}),
    )
    fc.train(short, tmp_path / "part")
    resumed_config = fc.resume_config(RunDir.open(tmp_path / "part"), ["train.epochs=6"])
    resumed, _ = fc.train(resumed_config, tmp_path / "part", resume=True)
    for a, b in zip(full.model.parameters(), resumed.model.parameters(), strict=True):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=1e-6)


def _train_dict(config: fc.ForecastConfig) -> dict:
    from rnnkit.config import to_dict

    return to_dict(config.train)


# --- reading variants through the task ------------------------------------------------------


def _uci_minutes(path: Path, days: int = 3) -> Path:
    """The raw UCI household power format: Date;Time;... with '?' for missing values."""
    rng = np.random.default_rng(0)
    times = pd.date_range("2006-12-16 17:24", periods=days * 1440, freq="min")
    lines = [
        "Date;Time;Global_active_power;Global_reactive_power;Voltage;Global_intensity;"
        "Sub_metering_1;Sub_metering_2;Sub_metering_3"
    ]
    for i, t in enumerate(times):
        power = 1.5 + np.sin(2 * np.pi * i / 1440) + 0.1 * rng.standard_normal()
        value = "?" if i % 97 == 5 else f"{power:.3f}"
        voltage = "?" if i % 97 == 5 else f"{240 + rng.standard_normal():.2f}"
        lines.append(
            f"{t.day}/{t.month}/{t.year};{t:%H:%M:%S};{value};0.1;{voltage};4.6;0.0;1.0;17.0"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def test_cli_reads_the_raw_uci_format_with_flags_alone(tmp_path):
    raw = _uci_minutes(tmp_path / "household_power_consumption.txt")
    out = tmp_path / "power"
    result = _invoke(
        "forecast",
        "train",
        "--data",
        str(raw),
        "--target",
        "Global_active_power",
        "--covariates",
        "Voltage",
        "--time-col",
        "Date,Time",
        "--sep",
        ";",
        "--na-values",
        "?",
        "--dayfirst",
        "--freq",
        "1h",
        "--agg",
        "mean",
        "--lookback",
        "12",
        "--horizon",
        "6",
        "--kind",
        "direct",
        "--hidden-size",
        "8",
        "--epochs",
        "1",
        "--split",
        "0.6,0.2,0.2",
        "--out",
        str(out),
        "--progress",
        "none",
        "--json",
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    series = summary["details"]["series"]
    assert series["freq"] == "h" and series["rows"] == 73  # 17:00 on day 1 to 17:00 on day 4
    assert series["first"] == "2006-12-16 17:00:00"
    # Hourly means skip the '?' minutes, so no hour is missing after resampling.
    assert sum(series["filled"].values()) == 0


def test_cli_train_eval_predict_detect(sine_csv, tmp_path):
    out = tmp_path / "run"
    common = ["--lookback", str(LOOKBACK), "--horizon", str(HORIZON), "--season", str(PERIOD)]
    result = _invoke(
        "forecast",
        "train",
        "--data",
        str(sine_csv),
        "--target",
        "value",
        "--time-col",
        "time",
        *common,
        "--segment-length",
        "12",
        "--hidden-size",
        "16",
        "--epochs",
        "3",
        "--out",
        str(out),
        "--progress",
        "none",
    )
    assert result.exit_code == 0, result.output
    assert "run directory" in result.output
    result = _invoke("forecast", "eval", str(out), "--backtest", "2", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert set(summary["original"]) == {"model", "naive", "seasonal_naive", "linear"}
    assert len(summary["backtest"]) == 2
    assert (out / "forecast.png").stat().st_size > 1000 and (out / "backtest.png").is_file()
    text = _invoke("forecast", "eval", str(out))
    assert "seasonal_naive" in text.output and "per horizon step" in text.output

    recent = _write(_sine_frame().iloc[-80:], tmp_path / "recent.csv")
    result = _invoke(
        "forecast", "predict", str(out), "--data", str(recent), "--plot", str(tmp_path / "p.png")
    )
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0] == "time,value,value_lower,value_upper"
    assert len([line for line in lines if line.startswith("20")]) == HORIZON
    assert (tmp_path / "p.png").is_file()

    spiky = _sine_frame().iloc[-120:].copy()
    spiky.iloc[100, 0] += 8.0
    result = _invoke(
        "forecast",
        "detect",
        str(out),
        "--data",
        str(_write(spiky, tmp_path / "spiky.csv")),
        "--output",
        str(tmp_path / "flags.csv"),
        "--plot",
        str(tmp_path / "flags.png"),
    )
    assert result.exit_code == 0, result.output
    flags = pd.read_csv(tmp_path / "flags.csv")
    assert bool(flags.loc[flags["time"] == str(spiky.index[100]), "anomaly"].iloc[0])


def test_cli_errors_name_the_problem(sine_csv, tmp_path):
    result = _invoke(
        "forecast",
        "train",
        "--data",
        str(sine_csv),
        "--target",
        "nope",
        "--time-col",
        "time",
        "--out",
        str(tmp_path / "x"),
        "--progress",
        "none",
    )
    assert result.exit_code != 0
    assert "nope" in result.output and "Traceback" not in result.output
    result = _invoke(
        "forecast",
        "train",
        "--data",
        str(sine_csv),
        "--target",
        "value",
        "--time-col",
        "time",
        "--lookback",
        "5000",
        "--out",
        str(tmp_path / "y"),
        "--progress",
        "none",
    )
    assert result.exit_code != 0 and "too short" in result.output
    assert not (tmp_path / "y").exists()


def test_parquet_input(tmp_path):
    path = tmp_path / "sine.parquet"
    _sine_frame(400).reset_index().to_parquet(path)
    config = _config(path, kind="direct")
    config = fc.ForecastConfig(
        data=config.data, model=config.model, train=TrainConfig(epochs=1, device="cpu")
    )
    task, _ = fc.train(config, tmp_path / "pq")
    prep = task.prepared()
    assert prep.cleaned.timing.freq == "h" and len(prep.values) == 400


# --- real data (skipped without $RNNKIT_DATA) -----------------------------------------------


def test_etth1_uses_the_ltsf_split(real_data):
    from rnnkit.tasks.forecast.data import prepare

    prep = prepare(ForecastDataConfig(dataset="etth1"))
    assert prep.bounds.train == (0, 8640)
    assert prep.bounds.valid == (8640, 11520) and prep.bounds.test == (11520, 14400)
    assert prep.values.shape == (17420, 7)
    # Standardised with training statistics: the training rows have mean 0, std 1.
    np.testing.assert_allclose(prep.values[:8640].mean(0), 0, atol=1e-4)


def test_household_power_test_part_is_46_weeks_of_sundays(real_data):
    from rnnkit.data.timeseries import window_starts
    from rnnkit.tasks.forecast.data import prepare

    data = ForecastDataConfig(dataset="household-power-daily", lookback=14, horizon=7)
    prep = prepare(data)
    starts = window_starts(prep.bounds.test, 14, 7, data.eval_step)
    first = prep.cleaned.frame.index[starts + 14]
    assert len(starts) == 46
    assert str(first[0].date()) == "2010-01-03" and set(first.day_of_week) == {6}


def test_airline_is_monthly(real_data):
    from rnnkit.tasks.forecast.data import load_frame

    cleaned = load_frame(ForecastDataConfig(dataset="airline"))
    assert cleaned.timing.freq == "MS" and cleaned.frame["Passengers"].sum() == 40363


def test_a_malformed_scaler_file_is_named_when_the_run_loads(trained, tmp_path):
    import shutil

    from click.testing import CliRunner

    from rnnkit.cli.app import main

    copy = tmp_path / "run"
    shutil.copytree(trained[3], copy)
    (copy / "scaler.json").write_text('{"kind": "standard", "columns": "value"}')
    result = CliRunner().invoke(main, ["forecast", "eval", str(copy)])
    assert result.exit_code == 1, result.output
    assert result.output.startswith(f"error: {copy / 'scaler.json'}: scaler: expected the keys")
