"""The network stacked on the TF-IDF baseline: out-of-fold offsets for training, the
baseline's own for validation and prediction, a start at exactly the baseline, and a run
that keeps what it trained on."""

from __future__ import annotations

import csv
import dataclasses
import random
from pathlib import Path

import numpy as np
import pytest
import torch

import rnnkit
from review_cases import review_files, small_config
from rnnkit.config import StackConfig
from rnnkit.models.classifier import ClassifierModelConfig, SequenceClassifier
from rnnkit.tasks import classify as clf
from rnnkit.tasks.classify.baseline import TfidfBaseline, fit_vectorizers
from rnnkit.tasks.classify.stacking import LOG_FLOOR, log_offsets, out_of_fold_offsets
from rnnkit.training.rundir import RunDir


def stacked(config: clf.ClassifyConfig, **data) -> clf.ClassifyConfig:
    return dataclasses.replace(
        config,
        model=dataclasses.replace(config.model, stacked=True),
        data=dataclasses.replace(config.data, **data),
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return review_files(tmp_path_factory.mktemp("reviews"))


def test_out_of_fold_offsets_come_from_regressions_that_never_saw_the_row():
    """Random labels on distinct texts: in sample the baseline knows most labels (each text
    has its own mix of character n-grams), out of fold it can only guess."""
    rng = random.Random(0)
    texts = [f"w{i}a w{i}b w{i}c common" for i in range(200)]
    labels = [rng.randrange(2) for _ in texts]
    vectorizers, x = fit_vectorizers(texts)
    baseline = TfidfBaseline.fit_features(vectorizers, x, labels, texts[:20], labels[:20], 2)
    baseline.c = 100.0  # little regularisation: memorise the training rows
    in_sample = log_offsets(baseline.proba_of_features(x)).argmax(1)
    folded = out_of_fold_offsets(baseline, x, labels, seed=0)
    assert (in_sample == labels).mean() > 0.8
    assert 0.3 < (folded.argmax(1) == labels).mean() < 0.7
    assert folded.dtype == np.float32 and folded.shape == (200, 2)
    assert np.all(folded <= 0) and np.all(folded >= LOG_FLOOR)


def test_a_single_example_of_a_class_is_scored_in_sample():
    texts, labels = ["good film", "bad film", "good plot", "good story"], [0, 1, 0, 0]
    vectorizers, x = fit_vectorizers(texts)
    baseline = TfidfBaseline.fit_features(vectorizers, x, labels, texts, labels, 2)
    np.testing.assert_array_equal(
        out_of_fold_offsets(baseline, x, labels, seed=0),
        log_offsets(baseline.proba_of_features(x)),
    )


def test_a_stacked_network_starts_at_exactly_the_offsets():
    config = ClassifierModelConfig(
        embedding_size=8, stacked=True, rnn=StackConfig(cell="gru", hidden_size=6)
    )
    model = SequenceClassifier(3, config, vocab_size=20).eval()
    offsets = torch.log_softmax(torch.randn(4, 3), dim=-1)
    scores = model(torch.randint(1, 20, (4, 7)), torch.tensor([7, 5, 2, 1]), offsets)
    torch.testing.assert_close(scores, offsets)
    unstacked = dataclasses.replace(config, stacked=False)
    assert SequenceClassifier(3, unstacked, vocab_size=20).head.weight.abs().sum() > 0


def test_a_stacked_run_keeps_its_baseline_and_offsets_and_predicts_the_same_loaded(files, tmp_path):
    task, _ = clf.train(stacked(small_config(files)), tmp_path / "run")
    assert task.stacked_on is not None and task.baseline is task.stacked_on
    run = RunDir.open(tmp_path / "run")
    assert (run.path / "baseline.json").exists() and (run.path / "stacking.safetensors").exists()
    loaded = rnnkit.load(tmp_path / "run")
    texts = loaded.load_examples().inputs
    np.testing.assert_allclose(loaded.predict_proba(texts), task.predict_proba(texts), atol=1e-6)
    artifacts = clf.JOB.read_artifacts(run, loaded.config)
    assert artifacts.stack is not None and artifacts.stack.train_offsets.shape == (360, 2)
    # The network's share: what the predictions would be without the baseline's offsets.
    loaded.stacked_on = None
    assert not np.allclose(loaded.predict_proba(texts), task.predict_proba(texts), atol=1e-3)


def test_no_baseline_means_no_stacking(files, tmp_path):
    task, _ = clf.train(stacked(small_config(files), baseline=False), tmp_path / "run")
    assert task.stacked_on is None and task.baseline is None
    assert not (tmp_path / "run" / "stacking.safetensors").exists()


def test_texts_without_n_grams_train_the_network_alone(files, tmp_path, monkeypatch):
    """The readers refuse empty texts, so a fit that finds no n-grams is stubbed."""
    from rnnkit.data import DataError
    from rnnkit.tasks.classify import baseline, stacking

    def no_n_grams(texts):
        raise DataError("the training texts have no word or character n-grams to fit on")

    monkeypatch.setattr(stacking, "fit_vectorizers", no_n_grams)
    monkeypatch.setattr(baseline, "fit_vectorizers", no_n_grams)
    task, result = clf.train(stacked(small_config(files)), tmp_path / "run")
    assert task.stacked_on is None and task.baseline is None
    assert "no word or character n-grams" in task.baseline_skipped
    assert result.best_metric is not None and result.best_metric > 0.8


def order_rows(count: int, seed: int) -> list[tuple[str, str]]:
    """The label is which of two words comes first, with filler between: no n-gram says it
    (only where in the text the words fall hints at it)."""
    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        filler = [rng.choice(["the", "a", "of", "and", "to", "in"]) for _ in range(8)]
        first, second = sorted(rng.sample(range(9), 2))
        first_word = rng.choice(["alpha", "omega"])
        other = "omega" if first_word == "alpha" else "alpha"
        filler.insert(first, first_word)
        filler.insert(second + 1, other)
        rows.append((" ".join(filler), "ao" if first_word == "alpha" else "oa"))
    return rows


def write(path: Path, rows: list[tuple[str, str]]) -> str:
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([("review", "sentiment"), *rows])
    return str(path)


def test_the_stacked_network_learns_what_the_n_grams_cannot(tmp_path):
    paths = {
        "train": write(tmp_path / "train.csv", order_rows(600, 1)),
        "test": write(tmp_path / "test.csv", order_rows(200, 2)),
    }
    config = stacked(small_config(paths))
    config = dataclasses.replace(config, train=dataclasses.replace(config.train, epochs=12))
    task, _ = clf.train(config, tmp_path / "run")
    report, _, comparison = task.evaluate_against_baseline(task.load_examples())
    # Where the pair falls in the text leaks a little (a word at the start is more often
    # the first one): the baseline gets to 0.75 on these test rows, the network to 1.0.
    assert comparison is not None and comparison.baseline.accuracy < 0.8
    assert report.accuracy > 0.95
