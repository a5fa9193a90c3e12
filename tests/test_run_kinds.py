"""What every job shares through the skeleton: the run-kind check of every verb that loads a
run, and one train summary (the same keys, the best epoch numbered the same way, the
monitored metric as ``fit`` kept it)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from rnnkit.cli import main
from rnnkit.tasks.common import SUMMARY_KEYS

OLD_RUNS = Path(__file__).parent / "fixtures" / "runs-1838b87"


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """A copy of the fixture runs (lm, classify, forecast) and their data."""
    root = tmp_path_factory.mktemp("kinds")
    shutil.copytree(OLD_RUNS, root, dirs_exist_ok=True)
    return root


def invoke(*args: str, cwd: Path):
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(cwd)
        return CliRunner().invoke(main, [str(a) for a in args])


@pytest.mark.parametrize(
    ("verb", "given", "found", "wanted"),
    [
        (["lm", "score", "{run}", "a text"], "classify", "classifier", "language model"),
        (["lm", "sample", "{run}"], "forecast", "forecaster", "language model"),
        (["lm", "next", "{run}", "the"], "classify", "classifier", "language model"),
        (["lm", "eval", "{run}", "--split", "valid"], "forecast", "forecaster", "language model"),
        (["classify", "predict", "{run}", "a text"], "lm", "language model", "classifier"),
        (["classify", "eval", "{run}"], "forecast", "forecaster", "classifier"),
        (["forecast", "eval", "{run}"], "lm", "language model", "forecaster"),
        (
            ["forecast", "predict", "{run}", "--data", "x.csv"],
            "classify",
            "classifier",
            "forecaster",
        ),
        (["forecast", "detect", "{run}", "--data", "x.csv"], "lm", "language model", "forecaster"),
        (["classify", "train", "--resume", "{run}"], "lm", "language model", "classifier"),
    ],
)
def test_a_run_of_another_kind_is_one_line_and_exit_1(runs, verb, given, found, wanted):
    args = [a.replace("{run}", given) for a in verb]
    result = invoke(*args, cwd=runs)
    assert result.exit_code == 1, result.output
    assert result.output == (
        f"error: {given} is a {found} run (kind {given!r}); this needs a {wanted} run "
        f"(kind {args[0]!r})\n"
    )
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_the_three_train_summaries_share_their_keys_and_numbering(runs, tmp_path):
    common = ["--epochs", "3", "--json", "--progress", "none"]
    commands = {
        "lm": ["lm", "train", "--data", "data/corpus.txt", "--level", "word",
               "--hidden-size", "8", "--embedding-size", "8", "--bptt", "10"],
        "classify": ["classify", "train", "--data", "data/reviews.csv", "--text-col", "review",
                     "--label-col", "sentiment", "--hidden-size", "8", "--embedding-size", "8"],
        "forecast": ["forecast", "train", "--data", "data/series.csv", "--time-col", "time",
                     "--target", "value", "--lookback", "24", "--horizon", "6",
                     "--hidden-size", "8", "--segment-length", "6"],
    }  # fmt: skip
    summaries = {}
    for kind, args in commands.items():
        result = invoke(*args, *common, "--out", tmp_path / kind, cwd=runs)
        assert result.exit_code == 0, result.output
        summaries[kind] = json.loads(result.output.splitlines()[-1])
    for kind, summary in summaries.items():
        assert tuple(summary) == SUMMARY_KEYS, kind
        assert summary["task"] == kind and summary["epochs"] == 3
        history = [
            json.loads(line)
            for line in (tmp_path / kind / "metrics.jsonl").read_text().splitlines()
            if '"kind": "epoch"' in line
        ]
        monitor = summary["monitor"]
        values = [record[monitor] for record in history]
        best = max(values) if monitor == "val_acc" else min(values)
        # Epochs count from 1, and "best" is the monitored metric of the kept weights.
        assert summary["best"] == best
        assert summary["best_epoch"] == values.index(best) + 1
        assert summary["validation"][monitor.removeprefix("val_")] == best
    assert summaries["classify"]["monitor"] == "val_acc"
    assert {summaries["lm"]["monitor"], summaries["forecast"]["monitor"]} == {"val_loss"}


def test_flags_of_other_jobs_do_not_exist(runs):
    for job, extra in (("classify", ["--text-col", "review"]), ("forecast", ["--target", "value"])):
        result = invoke(job, "train", "--data", "x", "--out", "y", *extra, "--bptt", "10", cwd=runs)
        assert result.exit_code == 2 and "No such option '--bptt'" in result.output


def test_sizes_with_init_from_are_refused(runs, tmp_path):
    for flag, value in (("--hidden-size", "64"), ("--embedding-size", "16"), ("--cell", "gru")):
        result = invoke(
            "classify", "train", "--data", "data/reviews.csv", "--text-col", "review",
            "--label-col", "sentiment", "--init-from", "lm", flag, value,
            "--out", tmp_path / "clf", cwd=runs,
        )  # fmt: skip
        assert result.exit_code == 2, result.output
        assert f"{flag} cannot be honoured with --init-from" in result.output
        assert not (tmp_path / "clf").exists()


def test_a_config_that_does_not_fit_is_one_line(runs, tmp_path):
    run = tmp_path / "bad"
    shutil.copytree(runs / "lm", run)
    config = json.loads((run / "config.json").read_text())
    config["model"]["rnn"]["hiden_size"] = config["model"]["rnn"].pop("hidden_size")
    (run / "config.json").write_text(json.dumps(config))
    result = invoke("lm", "score", run, "the cat", cwd=runs)
    assert result.exit_code == 1
    assert result.output.startswith(f"error: {run / 'config.json'}: does not read as a language")
    assert "model.rnn.hiden_size: unknown key (did you mean 'hidden_size'?)" in result.output
    assert len(result.output.splitlines()) == 1


def test_a_run_started_from_a_language_model_repeats_from_its_config(runs, tmp_path):
    """--config RUN/config.json holds the sizes the language model gave: not a conflict."""
    first = tmp_path / "first"
    args = ["--data", "data/reviews.csv", "--text-col", "review", "--label-col", "sentiment"]
    result = invoke(
        "classify", "train", *args, "--init-from", "lm", "--epochs", "1", "--out", first,
        "--progress", "none", cwd=runs,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    config = json.loads((first / "config.json").read_text())
    assert config["model"]["embedding_size"] == 8 and config["model"]["rnn"]["hidden_size"] == 12
    again = invoke(
        "classify", "train", "--config", first / "config.json", "--out", tmp_path / "again",
        "--progress", "none", cwd=runs,
    )  # fmt: skip
    assert again.exit_code == 0, again.output
