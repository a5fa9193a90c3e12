"""A classifier that starts from language models (ULMFiT-style): vocabulary, weights,
gradual unfreezing, discriminative rates, and a bidirectional start from a forward and a
backward model."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import rnnkit
from lm_cases import train_word_lm
from review_cases import review_files, small_config
from rnnkit.cli import main
from rnnkit.config import ConfigError
from rnnkit.tasks import classify as clf
from rnnkit.training.config import TrainConfig


def cli(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    return review_files(tmp_path_factory.mktemp("reviews"))


@pytest.fixture(scope="module")
def trained(files, tmp_path_factory) -> clf.ClassifierTask:
    task, _ = clf.train(small_config(files), tmp_path_factory.mktemp("runs") / "sentiment")
    return task


@pytest.fixture(scope="module")
def review_corpus(files, tmp_path_factory) -> Path:
    """The training reviews preprocessed as the classifier reads them, one per line."""
    corpus = tmp_path_factory.mktemp("corpus") / "reviews.txt"
    result = cli(
        "text", "preprocess", "--input", str(files["train"]), "--text-col", "review",
        "--output", str(corpus),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert corpus.read_text().splitlines()[0].endswith(" .")  # tokens, space-separated
    return corpus


@pytest.fixture(scope="module")
def review_lm(review_corpus, tmp_path_factory) -> Path:
    """A forward LM of the training reviews."""
    return train_word_lm(review_corpus, tmp_path_factory.mktemp("lm") / "forward")


@pytest.fixture(scope="module")
def backward_review_lm(review_corpus, tmp_path_factory) -> Path:
    """A backward LM of the training reviews (``--reverse``), same vocabulary and sizes."""
    return train_word_lm(review_corpus, tmp_path_factory.mktemp("lm") / "backward", reverse=True)


def test_init_from_a_language_model_unfreezes_top_down(files, review_lm, tmp_path):
    base = small_config(files)
    lm_task = rnnkit.load(review_lm)

    def train(epochs: int) -> clf.ClassifierTask:
        config = clf.ClassifyConfig(
            data=base.data,
            model=base.model,
            init=clf.TextInitConfig(init_from=str(review_lm)),
            train=TrainConfig(epochs=epochs, lr=1e-2, log_every=1000),
        )
        task, _ = clf.train(config, tmp_path / f"run{epochs}")
        return task

    def same(a: torch.Tensor, b: torch.Tensor) -> bool:
        return torch.equal(a.detach().cpu(), b.detach().cpu())  # trained on a GPU if there is one

    one = train(1)  # epoch 1: only the head trains
    lm_rnn = lm_task.model.rnn.state_dict()
    assert one.config.model.rnn.num_layers == 2 and not one.config.model.rnn.bidirectional
    assert one.vocab.tokens[:-1] == lm_task.vocab.tokens and one.vocab.pad == "<pad>"
    assert all(same(v, lm_rnn[k]) for k, v in one.model.rnn.state_dict().items())
    emb = one.model.embedding.weight
    assert same(emb[:-1], lm_task.model.embedding.weight) and emb[-1].eq(0).all()

    two = train(2)  # epoch 2: + the top recurrent layer; the bottom one and embedding stay
    rnn = two.model.rnn.state_dict()
    assert not same(rnn["weight_hh_l1"], lm_rnn["weight_hh_l1"])
    assert same(rnn["weight_hh_l0"], lm_rnn["weight_hh_l0"])
    assert same(two.model.embedding.weight[:-1], lm_task.model.embedding.weight)
    loaded = rnnkit.load(tmp_path / "run2")  # the adopted sizes and vocabulary come back
    loaded.model.to(next(two.model.parameters()).device)
    texts = ["great film", "boring plot"]
    np.testing.assert_allclose(loaded.predict_proba(texts), two.predict_proba(texts), 1e-6)


def test_discriminative_lr_moves_each_group_less_the_deeper_it_is(files, review_lm, tmp_path):
    """Plain SGD, everything unfrozen, factor 10: the head moves at lr, the top LSTM layer at
    lr/10, the bottom one at lr/100, the embedding at lr/1000; the factor is saved."""
    base = small_config(files)
    lm_weights = rnnkit.load(review_lm).model.state_dict()

    def step_sizes(factor: float) -> dict[str, float]:
        init = clf.TextInitConfig(
            init_from=str(review_lm), gradual_unfreeze=False, discriminative_lr=factor
        )
        config = clf.ClassifyConfig(
            data=base.data,
            model=base.model,
            init=init,
            train=TrainConfig(optimizer="sgd", lr=0.5, epochs=1, max_steps=1, log_every=1000),
        )
        task, _ = clf.train(config, tmp_path / f"run{factor}")
        assert task.config.init.discriminative_lr == factor
        task.model.cpu()  # trained on a GPU if there is one
        rnn = task.model.rnn.state_dict()
        embedding = task.model.embedding.weight.detach()
        return {
            "top": float((rnn["weight_hh_l1"] - lm_weights["rnn.weight_hh_l1"]).norm()),
            "bottom": float((rnn["weight_hh_l0"] - lm_weights["rnn.weight_hh_l0"]).norm()),
            "embedding": float((embedding[:-1] - lm_weights["embedding.weight"]).norm()),
        }

    same, falling = step_sizes(1.0), step_sizes(10.0)
    # One SGD step from the same weights on the same batch: the update scales with the rate
    # (to float32 rounding: the embedding's step is ~1e-7 of its weights).
    for name, depth in (("top", 1), ("bottom", 2), ("embedding", 3)):
        assert same[name] > 0
        assert falling[name] == pytest.approx(same[name] / 10**depth, rel=0.02), name


def test_resume_with_discriminative_lr_and_unfreezing_matches_a_straight_run(
    files, review_lm, tmp_path
):
    """The per-group rates and the unfrozen groups survive a resume inside an epoch. (Constant
    rate: ``max_steps``, which stops the first run, is also the cosine schedule's horizon.)"""
    base = small_config(files)

    def config(max_steps: int | None) -> clf.ClassifyConfig:
        train = TrainConfig(epochs=4, max_steps=max_steps, lr=1e-2, log_every=1000)
        return clf.ClassifyConfig(
            data=base.data,
            model=dataclasses.replace(base.model, pooling="concat"),
            init=clf.TextInitConfig(init_from=str(review_lm), discriminative_lr=2.6),
            train=train,
        )

    from rnnkit.training.rundir import RunDir

    straight, whole = clf.train(config(None), tmp_path / "straight")
    stop = 2 * (whole.steps // 4) + 3  # inside the third epoch, after two unfreezings
    _, first = clf.train(config(stop), tmp_path / "resumed")
    assert first.stop_reason == "max_steps" and first.epochs == 2
    more = clf.resume_config(RunDir.open(tmp_path / "resumed"), ["train.max_steps=null"])
    resumed, _ = clf.train(more, tmp_path / "resumed", resume=True)
    texts = ["great plot", "dull and weak", "the actors"]
    np.testing.assert_allclose(resumed.predict_proba(texts), straight.predict_proba(texts), 1e-6)


def test_discriminative_lr_needs_a_language_model_and_a_factor_of_at_least_one():
    with pytest.raises(ConfigError, match="needs --init-from"):
        clf.TextInitConfig(discriminative_lr=2.6)
    with pytest.raises(ConfigError, match="expected a factor >= 1, got 0.5"):
        clf.TextInitConfig(init_from="lm", discriminative_lr=0.5)


def test_init_from_needs_a_word_level_language_model(files, trained, tmp_path):
    config = clf.ClassifyConfig(
        data=small_config(files).data, init=clf.TextInitConfig(init_from=str(trained.run.path))
    )
    with pytest.raises(ConfigError, match="is not a language-model run"):
        clf.train(config, tmp_path / "run")
    with pytest.raises(ConfigError, match="choose one"):
        clf.TextInitConfig(init_from="a", embeddings="b")


def _bidirectional(files, forward: Path, backward: Path, **train) -> clf.ClassifyConfig:
    base = small_config(files)
    return clf.ClassifyConfig(
        data=base.data,
        model=base.model,
        init=clf.TextInitConfig(init_from=str(forward), init_from_backward=str(backward)),
        train=TrainConfig(**{"epochs": 1, "lr": 1e-2, "log_every": 1000, **train}),
    )


def test_a_forward_and_a_backward_model_start_a_bidirectional_classifier(
    files, review_lm, backward_review_lm, tmp_path
):
    """Before fine-tuning moves the encoder (epoch 1 trains only the head), its outputs are
    exactly the forward model's beside the backward model's (read right to left), in both
    layers; the run saves and loads back with the adopted sizes."""
    config = _bidirectional(files, review_lm, backward_review_lm)
    task, _ = clf.train(config, tmp_path / "run")
    assert task.config.model.rnn.bidirectional and task.config.model.embedding_size == 32
    forward, backward = rnnkit.load(review_lm), rnnkit.load(backward_review_lm)
    assert task.vocab.tokens[:-1] == forward.vocab.tokens
    words = ["the", "plot", "was", "really", "great", "and", "moving", "."]
    ids = torch.tensor([task.vocab.encode(words)])
    model = task.model.eval().cpu()  # trained on a GPU if there is one
    with torch.no_grad():
        both, _ = model.rnn(model.embedding(ids))
        ahead, _ = forward.model.rnn(forward.model.embedding(ids))
        behind, _ = backward.model.rnn(backward.model.embedding(ids.flip(1)))
    torch.testing.assert_close(both, torch.cat([ahead, behind.flip(1)], dim=-1))
    assert model.embedding.weight[-1].eq(0).all()  # <pad>
    texts = ["great film", "boring plot"]
    loaded = rnnkit.load(tmp_path / "run")
    np.testing.assert_allclose(loaded.predict_proba(texts), task.predict_proba(texts), 1e-6)


def test_a_bidirectional_start_needs_a_forward_and_a_backward_model_that_match(
    files, review_corpus, review_lm, backward_review_lm, tmp_path
):
    with pytest.raises(ConfigError, match="give the forward one as --init-from"):
        clf.TextInitConfig(init_from_backward=str(backward_review_lm))
    with pytest.raises(ConfigError, match="is a forward model"):
        clf.train(_bidirectional(files, review_lm, review_lm), tmp_path / "a")
    with pytest.raises(ConfigError, match="is a backward model"):
        clf.train(_bidirectional(files, backward_review_lm, backward_review_lm), tmp_path / "b")
    smaller = train_word_lm(review_corpus, tmp_path / "small", reverse=True, max_vocab=20)
    with pytest.raises(ConfigError, match="different vocabularies"):
        clf.train(_bidirectional(files, review_lm, smaller), tmp_path / "c")
    result = cli(
        "classify", "train", "--data", str(files["train"]), "--text-col", "review",
        "--label-col", "sentiment", "--init-from", str(backward_review_lm),
        "--out", str(tmp_path / "d"), "--progress", "none",
    )  # fmt: skip
    assert result.exit_code != 0 and "give it as --init-from-backward" in result.output
    assert not (tmp_path / "d").exists()
