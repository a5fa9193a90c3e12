"""Run directories written before the job skeleton (rnnkit at 1838b87, in
tests/fixtures/runs-1838b87) load, answer exactly as they did, and resume."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

import rnnkit
from rnnkit.tasks import classify, forecast, lm
from rnnkit.tasks.common import read_config
from rnnkit.training import RunDir

OLD_RUNS = Path(__file__).parent / "fixtures" / "runs-1838b87"
EXPECTED = json.loads((OLD_RUNS / "expected.json").read_text())


@pytest.fixture
def old(tmp_path, monkeypatch) -> Path:
    """A copy of the old runs, as the working directory (their configs name data/...)."""
    shutil.copytree(OLD_RUNS, tmp_path, dirs_exist_ok=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_old_runs_answer_as_they_did(old):
    model = rnnkit.load("lm")
    scored = {s.text: s.logprob for s in model.score(list(EXPECTED["lm_score"]))}
    assert scored == pytest.approx(EXPECTED["lm_score"], abs=1e-5)
    nexts = model.next_tokens("the cat", top=3)
    assert [t for t, _ in nexts] == [t for t, _ in EXPECTED["lm_next"]]
    assert [p for _, p in nexts] == pytest.approx([p for _, p in EXPECTED["lm_next"]], abs=1e-6)

    clf = rnnkit.load("classify")
    texts = list(EXPECTED["classify_probabilities"])
    got = {t: p["probabilities"] for t, p in zip(texts, clf.predict(texts), strict=True)}
    for text, probs in EXPECTED["classify_probabilities"].items():
        assert got[text] == pytest.approx(probs, abs=1e-6)

    fc = rnnkit.load("forecast")
    recent = pd.read_csv("data/series.csv", parse_dates=["time"], index_col="time").iloc[-40:]
    table = fc.forecast(recent, level=0.9)
    assert [str(i.date()) for i in table.index] == EXPECTED["forecast"]["index"]
    for column in table:
        assert table[column].tolist() == pytest.approx(EXPECTED["forecast"][column], abs=1e-5)


def test_old_configs_read_without_their_derived_and_ignored_fields(old):
    raw = json.loads(Path("classify/config.json").read_text())
    assert raw["model"]["rnn"]["input_size"] == 8 and raw["train"]["bptt"] == 35
    config = read_config(classify.JOB, RunDir.open("classify"))
    assert config.model.rnn.hidden_size == 8 and not hasattr(config.train, "bptt")
    assert read_config(lm.JOB, RunDir.open("lm")).train.bptt == 10  # a language model's own


@pytest.mark.parametrize("job", [lm, classify, forecast], ids=["lm", "classify", "forecast"])
def test_old_runs_resume(old, job):
    name = job.JOB.name
    config = job.resume_config(RunDir.open(name), ["train.epochs=3"])
    task, result = job.train(config, name, resume=True)
    assert result.epochs == 3 and result.stop_reason == "completed"
    assert [r["epoch"] for r in result.history] == [0, 1, 2]
    assert rnnkit.load(name).config.model == task.config.model
