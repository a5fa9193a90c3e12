"""Classifiers averaged: the ensemble's numbers, its errors, and ``classify eval RUN RUN``."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from review_cases import review_files, small_config
from rnnkit.cli import main
from rnnkit.config import ConfigError, StackConfig
from rnnkit.tasks import classify as clf
from rnnkit.tasks.classify.ensemble import ClassifierEnsemble

ROOT = Path(__file__).resolve().parents[1]
TEXTS = ["a great and moving film", "dull plot , weak actors", "the story"]


@pytest.fixture(scope="module")
def members(tmp_path_factory) -> list[clf.ClassifierTask]:
    """Two small classifiers of the same reviews: a BiGRU and an LSTM with another seed."""
    root = tmp_path_factory.mktemp("ensemble")
    files = review_files(root)
    base = small_config(files)
    lstm = dataclasses.replace(base.model, rnn=StackConfig(cell="lstm", hidden_size=16))
    other = dataclasses.replace(
        base, model=lstm, train=dataclasses.replace(base.train, seed=1, epochs=3)
    )
    return [clf.train(base, root / "gru")[0], clf.train(other, root / "lstm")[0]]


def test_the_ensemble_averages_its_members_probabilities(members):
    ensemble = ClassifierEnsemble(members)
    mean = (members[0].predict_proba(TEXTS) + members[1].predict_proba(TEXTS)) / 2
    np.testing.assert_allclose(ensemble.predict_proba(TEXTS), mean, rtol=1e-6)
    predicted = ensemble.predict(TEXTS)
    assert [p.label for p in predicted] == [ensemble.classes[i] for i in mean.argmax(1)]
    first = dict(zip(ensemble.classes, mean[0].tolist(), strict=True))
    assert predicted[0].probabilities == pytest.approx(first)

    examples = members[0].load_examples()  # the run's test split
    report, loss = ensemble.evaluate(examples)
    labels = [ensemble.classes.index(label) for label in examples.labels]
    probs = ensemble.predict_proba(examples.inputs)
    assert report.accuracy == pytest.approx(np.mean(probs.argmax(1) == labels))
    assert loss == pytest.approx(-np.mean(np.log(probs[np.arange(len(labels)), labels])))


def test_members_must_share_their_classes_in_order(members):
    first = members[0]
    flipped = clf.ClassifierTask(
        first.config, first.classes[::-1], first.model, vocab=first.vocab, run=first.run
    )
    with pytest.raises(ConfigError, match="must share both"):
        ClassifierEnsemble([first, flipped])
    with pytest.raises(ConfigError, match="at least one"):
        ClassifierEnsemble([])


def test_cli_eval_of_several_runs_is_the_ensemble(members, tmp_path):
    runs = [str(member.run.path) for member in members]
    plot = tmp_path / "confusion.png"
    result = CliRunner().invoke(main, ["classify", "eval", *runs, "--json", "--plot", str(plot)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    report, _ = ClassifierEnsemble(members).evaluate(members[0].load_examples())
    assert summary["runs"] == runs and summary["accuracy"] == pytest.approx(report.accuracy)
    assert plot.exists()
    text = CliRunner().invoke(main, ["classify", "eval", *runs, "--plot", str(plot)])
    assert text.exit_code == 0 and "ensemble of 2 runs (mean probabilities)" in text.output
    missing = CliRunner().invoke(main, ["classify", "eval", runs[0], str(tmp_path / "nothing")])
    assert missing.exit_code != 0 and "nothing" in missing.output
    assert "Traceback" not in missing.output


def test_the_ensembles_benchmark_scores_every_subset(members, tmp_path):
    runs = [str(member.run.path) for member in members]
    out = tmp_path / "ensembles.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_ensembles", *runs, "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(out.read_text())
    assert [len(row["runs"]) for row in summary["subsets"]] == [1, 1, 2]
    report, _ = ClassifierEnsemble(members).evaluate(members[0].load_examples())
    assert summary["subsets"][2]["accuracy"] == pytest.approx(report.accuracy)
    alone, _ = members[1].evaluate(members[0].load_examples())
    assert summary["subsets"][1]["accuracy"] == pytest.approx(alone.accuracy)
    assert summary["examples"] == report.count
