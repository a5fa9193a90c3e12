"""A tagger that starts from word language models (``--init-from``, ``--init-from-backward``):
the language models' vocabulary, embedding and recurrent stack, with zero input weights over
the features a tagger reads beside the word vector (casing, characters)."""

from __future__ import annotations

import dataclasses
import random
import shutil
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

import rnnkit
from lm_cases import train_word_lm
from rnnkit.cli import main
from rnnkit.config import ConfigError
from rnnkit.tasks import tag
from tag_cases import sentence, tiny_config


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """Generated sentences of the tagging cases' kind, one per line, tokens space-separated."""
    rng = random.Random(7)
    path = tmp_path_factory.mktemp("corpus") / "sentences.txt"
    path.write_text("\n".join(" ".join(sentence(rng)[0]) for _ in range(400)) + "\n")
    return path


@pytest.fixture(scope="module")
def lms(corpus, tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("lms")
    return train_word_lm(corpus, root / "fwd"), train_word_lm(corpus, root / "bwd", reverse=True)


def _config(tmp_path: Path, forward: Path, backward: Path | None, **train) -> tag.TagConfig:
    base = tiny_config(tmp_path, **train)
    init = tag.TagInitConfig(
        init_from=str(forward), init_from_backward=None if backward is None else str(backward)
    )
    return dataclasses.replace(base, init=init)


def test_a_bidirectional_start_reads_words_as_the_two_language_models_did(lms, tmp_path):
    """After epoch 1 (only the new layers train) the stack's outputs are exactly the forward
    model's beside the backward model's, whatever the casing and character columns hold."""
    config = _config(tmp_path, *lms, epochs=1)
    task, _ = tag.train(config, tmp_path / "run")
    rnn = task.config.model.rnn
    assert rnn.bidirectional and rnn.num_layers == 2 and rnn.hidden_size == 20
    assert task.config.model.embedding_size == 32  # [E_fwd ; E_bwd]
    forward, backward = rnnkit.load(lms[0]), rnnkit.load(lms[1])
    words = task.artifacts.words
    assert words.tokens[:-1] == forward.vocab.tokens and words.pad == "<pad>"
    ids = torch.tensor([words.encode(["Anna", "Smith", "visited", "Paris", "."])])
    model = task.model.eval().cpu()  # trained on a GPU if there is one
    with torch.no_grad():
        vectors = model.embedding(ids)
        width = model.rnn.cells[0].weight_ih.shape[1]  # word vector, casing, characters
        others = torch.randn(1, ids.shape[1], width - vectors.shape[-1])
        both, _ = model.rnn(torch.cat([vectors, others], dim=-1))
        ahead, _ = forward.model.rnn(forward.model.embedding(ids))
        behind, _ = backward.model.rnn(backward.model.embedding(ids.flip(1)))
    torch.testing.assert_close(both, torch.cat([ahead, behind.flip(1)], dim=-1))
    assert model.embedding.weight[-1].eq(0).all()  # <pad>


def test_a_tagger_started_from_language_models_learns_saves_and_loads(lms, tmp_path):
    copies = [shutil.copytree(lm, tmp_path / lm.name) for lm in lms]
    task, result = tag.train(_config(tmp_path, *copies, epochs=6), tmp_path / "run")
    assert result.best_metric > 0.9  # validation entity F1
    for copy in copies:  # the run holds what it took from the language models
        shutil.rmtree(copy)
    texts = ["Anna Smith visited Paris .", "Greta saw Hiro Tanaka ."]
    assert rnnkit.load(tmp_path / "run").predict(texts) == task.predict(texts)


def test_a_forward_model_alone_gives_a_one_directional_stack(lms, tmp_path):
    task, _ = tag.train(_config(tmp_path, lms[0], None, epochs=1), tmp_path / "run")
    assert not task.config.model.rnn.bidirectional
    assert task.config.model.embedding_size == 16


def test_numeric_inputs_and_size_flags_are_refused(lms, tmp_path):
    path = tmp_path / "steps.jsonl"
    path.write_text('{"sequence": [[1.0], [2.0]], "tags": ["a", "b"]}\n' * 4, encoding="utf-8")
    config = tag.TagConfig(
        data=tag.TagDataConfig(data=str(path), inputs="numeric", valid_fraction=0.25),
        init=tag.TagInitConfig(init_from=str(lms[0])),
    )
    with pytest.raises(ConfigError, match="--init-from needs text inputs"):
        tag.train(config, tmp_path / "numeric")
    train = tiny_config(tmp_path).data.data
    args = ["tag", "train", "--data", train, "--init-from", str(lms[0]), "--hidden-size", "64"]
    result = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "run")])
    assert result.exit_code == 2, result.output
    assert "--hidden-size cannot be honoured with --init-from" in result.output
    assert not (tmp_path / "run").exists()
