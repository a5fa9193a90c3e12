"""The TF-IDF baseline beside every text classifier: fitted on the training split alone, kept
in the run, scored on exactly the examples the network is scored on, and a verdict that
says which is better."""

from __future__ import annotations

import dataclasses
import json
import random

import numpy as np
import pytest
from click.testing import CliRunner
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

import rnnkit
from review_cases import review_files, small_config
from rnnkit.cli import main
from rnnkit.tasks import classify as clf
from rnnkit.tasks.classify.baseline import TfidfBaseline
from rnnkit.tasks.classify.comparison import Comparison
from rnnkit.training.rundir import RunDir

TOPICS = {
    "sport": ["match", "goal", "team", "coach", "league"],
    "money": ["bank", "price", "market", "shares", "profit"],
    "weather": ["rain", "storm", "sunny", "wind", "forecast"],
}


def topic_texts(count: int, seed: int) -> tuple[list[str], list[int]]:
    rng = random.Random(seed)
    texts, labels = [], []
    for _ in range(count):
        label = rng.randrange(3)
        words = [rng.choice(["the", "a", "today", "news", "of"]) for _ in range(6)]
        words.insert(rng.randrange(7), rng.choice(list(TOPICS.values())[label]))
        texts.append(" ".join(words))
        labels.append(label)
    return texts, labels


@pytest.mark.parametrize("classes", [2, 3])
def test_probabilities_are_those_of_the_fitted_regression(classes, tmp_path):
    """W x + b on the stored arrays equals scikit-learn's own pipeline at the chosen C, for
    two classes (one score) and more (softmax), and the saved baseline reads back equal."""
    texts, labels = topic_texts(300, 0)
    keep = [i for i, y in enumerate(labels) if y < classes]
    texts, labels = [texts[i] for i in keep], [labels[i] for i in keep]
    valid, valid_labels = texts[:60], labels[:60]
    baseline = TfidfBaseline.fit(texts[60:], labels[60:], valid, valid_labels, classes)
    words = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=2, max_features=100_000)
    chars = TfidfVectorizer(
        sublinear_tf=True, analyzer="char_wb", ngram_range=(2, 5), min_df=2, max_features=100_000
    )
    x = sparse.hstack([words.fit_transform(texts[60:]), chars.fit_transform(texts[60:])])
    model = LogisticRegression(C=baseline.c, max_iter=2000).fit(x, labels[60:])
    x_valid = sparse.hstack([words.transform(valid), chars.transform(valid)])
    expected = model.predict_proba(x_valid)
    np.testing.assert_allclose(baseline.predict_proba(valid), expected, atol=1e-5)
    assert baseline.valid_accuracy == pytest.approx((model.predict(x_valid) == valid_labels).mean())
    run = RunDir.create(tmp_path / "run", config={"task": "classify"})
    baseline.save(run)
    again = TfidfBaseline.read(RunDir.open(tmp_path / "run"))
    np.testing.assert_array_equal(again.predict_proba(valid), baseline.predict_proba(valid))


def test_the_baseline_sees_the_training_split_only():
    texts, labels = topic_texts(200, 1)
    valid = ["zebra quagga " + t for t in texts[:40]]  # words only the validation texts have
    baseline = TfidfBaseline.fit(texts[40:], labels[40:], valid, labels[:40], 3)
    assert "zebra" not in baseline.vectorizers["words"].vocabulary_
    assert " zeb" not in baseline.vectorizers["chars"].vocabulary_
    assert "goal" in baseline.vectorizers["words"].vocabulary_


def test_a_class_missing_from_training_gets_probability_zero():
    texts, labels = topic_texts(200, 2)
    keep = [i for i, y in enumerate(labels) if y != 1]
    texts, labels = [texts[i] for i in keep], [labels[i] for i in keep]
    baseline = TfidfBaseline.fit(texts, labels, texts[:20], labels[:20], 3)
    probs = baseline.predict_proba(["the match of the league"])
    assert probs.shape == (1, 3) and probs[0, 1] == 0 and probs[0].sum() == pytest.approx(1)


def test_the_verdict_and_mcnemar_on_hand_made_predictions():
    truth = [0] * 20
    worse = Comparison.of(truth, [1] * 10 + [0] * 10, [0] * 20, ["a", "b"])
    assert (worse.model_only, worse.baseline_only) == (0, 10)
    assert worse.p_value == pytest.approx(2 * 0.5**10)  # exact two-sided binomial
    assert worse.verdict().startswith("the baseline is better than this model by 50.00 points")
    better = Comparison.of(truth, [0] * 20, [0] * 19 + [1], ["a", "b"])
    assert better.verdict() == (
        "the model beats the baseline by 5.00 points of accuracy (McNemar p = 1, within chance)"
    )
    lopsided = Comparison.of([0] * 3000, [1] * 3000, [0] * 3000, ["a", "b"])
    assert lopsided.p_value == 0 and "(McNemar p < 1e-300)" in lopsided.verdict()
    tie = Comparison.of(truth, [0] * 20, [0] * 20, ["a", "b"])
    assert tie.verdict().startswith("the model and the baseline are equally accurate")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return review_files(tmp_path_factory.mktemp("reviews"))


def test_a_run_keeps_its_baseline_and_eval_scores_it_on_the_same_examples(files, tmp_path):
    task, _ = clf.train(small_config(files), tmp_path / "run")
    assert (tmp_path / "run" / "baseline.json").exists()
    loaded = rnnkit.load(tmp_path / "run")
    examples = loaded.load_examples()
    report, _, comparison = loaded.evaluate_against_baseline(examples)
    assert comparison is not None and comparison.baseline.count == report.count == 120
    inputs = examples.inputs
    mine = task.baseline.predict_proba(inputs)
    np.testing.assert_array_equal(loaded.baseline.predict_proba(inputs), mine)
    result = CliRunner().invoke(main, ["classify", "eval", str(tmp_path / "run"), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["baseline"]["accuracy"] == comparison.baseline.accuracy
    assert summary["baseline"]["verdict"] == comparison.verdict()


def test_when_the_baseline_wins_train_and_eval_say_so(files, tmp_path):
    """One step of training leaves a network of its own (not stacked on the baseline) near
    chance; the baseline reads the cue words."""
    args = ["classify", "train", "--data", str(files["train"]), "--text-col", "review"]
    args += ["--label-col", "sentiment", "--test", str(files["test"]), "--max-steps", "1"]
    args += ["--embedding-size", "8", "--hidden-size", "8", "--progress", "none", "--no-stacked"]
    result = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert "validation accuracy 1.0000, better than this model's" in result.output
    result = CliRunner().invoke(main, ["classify", "eval", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert "the baseline is better than this model by" in result.output.splitlines()[-1]


def test_no_baseline_when_asked(files, tmp_path):
    config = small_config(files)
    config = dataclasses.replace(config, data=dataclasses.replace(config.data, baseline=False))
    task, _ = clf.train(config, tmp_path / "run")
    assert task.baseline is None and not (tmp_path / "run" / "baseline.json").exists()
    result = CliRunner().invoke(main, ["classify", "eval", str(tmp_path / "run")])
    assert result.exit_code == 0 and "TF-IDF" not in result.output


def test_train_size_draws_a_seeded_subset_before_validation_is_held_out(files):
    from rnnkit.config import ConfigError
    from rnnkit.tasks.classify import data as cdata

    data = dataclasses.replace(small_config(files).data, train_size=100)
    train, valid = cdata.load_splits(data, seed=3)
    assert len(train.inputs) + len(valid.inputs) == 100 and len(valid.inputs) == 10
    again, _ = cdata.load_splits(data, seed=3)
    other, _ = cdata.load_splits(data, seed=4)
    assert again.inputs == train.inputs and other.inputs != train.inputs
    every = cdata.load_split(data, files["train"]).inputs
    assert set(train.inputs) <= set(every)
    with pytest.raises(ConfigError, match="expected at most the 400 training examples"):
        cdata.load_splits(dataclasses.replace(data, train_size=401), seed=0)


def test_tiny_data_fits_what_n_grams_it_has_or_skips_the_baseline(tmp_path):
    texts, labels = ["a b", "c d", "e f", "g h"], [0, 1, 0, 1]  # no word of two letters
    baseline = TfidfBaseline.fit(texts, labels, texts, labels, 2)
    assert set(baseline.vectorizers) == {"chars"}  # each n-gram seen once: min_df 1
    run = RunDir.create(tmp_path / "run", config={"task": "classify"})
    baseline.save(run)
    again = TfidfBaseline.read(RunDir.open(tmp_path / "run"))
    np.testing.assert_array_equal(again.predict_proba(texts), baseline.predict_proba(texts))
    from rnnkit.data import DataError

    with pytest.raises(DataError, match="no word or character n-grams"):
        TfidfBaseline.fit(["", " "], [0, 1], [""], [0], 2)


def test_training_says_why_it_fitted_no_baseline(files, tmp_path, monkeypatch):
    """An unstacked network is trained and kept whatever the baseline's fit after it finds
    (texts of nothing but spaces have no n-grams: the readers refuse empty texts, so this is
    stubbed; tests/test_classify_stacking.py has the stacked case)."""
    from rnnkit.data import DataError
    from rnnkit.tasks.classify import job

    def no_n_grams(*args, **kwargs):
        raise DataError("the training texts have no word or character n-grams to fit on")

    monkeypatch.setattr(job.TfidfBaseline, "fit", no_n_grams)
    args = ["classify", "train", "--data", str(files["train"]), "--text-col", "review"]
    args += ["--label-col", "sentiment", "--epochs", "1", "--progress", "none", "--no-stacked"]
    result = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert "no TF-IDF baseline: the training texts have no word or character" in result.output
    assert rnnkit.load(tmp_path / "run").baseline is None
