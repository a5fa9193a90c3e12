"""A classifier that starts from a language model (ULMFiT-style; Howard & Ruder 2018).

A word-level language model trained with ``rnnkit lm train`` on the same kind of text has
learned what the words mean (its embedding) and how sentences go (its recurrent stack). The
classifier takes both, with the model's vocabulary (plus a ``<pad>`` token), and puts a new
pooling and head on top. Training then unfreezes the model gradually, top down, one group
per epoch, so the new head does not wreck the pretrained layers while it is still random:

    epoch 1: head (and attention pooling)        epoch 2: + the top recurrent layer
    ...                                            last:    + the embedding

With discriminative fine-tuning (``discriminative_lr`` = f > 1), the same groups train at
falling rates, the head at the configured rate η and group k below it at η / f^k: the
lower layers hold the most general features and should move least.

The language model must have been trained on text that went through the same preprocessing
as the classifier reads: ``rnnkit text preprocess --input FILE --output corpus.txt`` writes
such a corpus, one document per line.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import torch
from torch import nn

from rnnkit.config import ConfigError
from rnnkit.data import Vocabulary
from rnnkit.models.classifier import SequenceClassifier
from rnnkit.tasks import language_modeling
from rnnkit.training.rundir import RunDir

if TYPE_CHECKING:
    from rnnkit.tasks.classification import ClassifyConfig

__all__ = [
    "adopt_lm",
    "copy_lm_weights",
    "discriminative_groups",
    "load_lm",
    "lm_vocabulary",
    "unfreeze_for_epoch",
]

PAD = "<pad>"


def load_lm(path: str) -> language_modeling.LanguageModelTask:
    """The word-level language model of run directory ``path``.

    Raises:
        ConfigError: The run is not a word-level language model.
    """
    run = RunDir.open(path)
    if run.read_config().get("task") != "lm":
        raise ConfigError(f"{path} is not a language-model run (rnnkit lm train)", key="init_from")
    lm = language_modeling.load(run)
    if lm.level != "word":
        raise ConfigError(
            f"{path} is a {lm.level}-level language model; --init-from needs a word-level one",
            key="init_from",
        )
    return lm


def lm_vocabulary(lm: language_modeling.LanguageModelTask) -> Vocabulary:
    """The language model's vocabulary with ``<pad>`` appended (same ids for every word)."""
    vocab = lm.vocab
    if vocab.pad is not None:
        return vocab
    return Vocabulary([*vocab.tokens, PAD], unk=vocab.unk, eos=vocab.eos, pad=PAD)


def adopt_lm(config: ClassifyConfig, lm: language_modeling.LanguageModelTask) -> ClassifyConfig:
    """``config`` with the language model's embedding size and recurrent stack (its weights
    fit no other shape); the stack's dropout is the classifier's own."""
    rnn = dataclasses.replace(lm.config.model.rnn, dropout=config.model.rnn.dropout)
    model = dataclasses.replace(
        config.model, embedding_size=lm.config.model.embedding_size, rnn=rnn
    )
    return dataclasses.replace(config, model=model)


@torch.no_grad()
def copy_lm_weights(model: SequenceClassifier, lm: language_modeling.LanguageModelTask) -> None:
    """Embedding rows and every recurrent weight from the language model."""
    assert model.embedding is not None
    rows = lm.model.embedding.weight
    model.embedding.weight[: rows.shape[0]] = rows
    model.embedding.weight[rows.shape[0] :] = 0.0  # <pad>
    model.rnn.load_state_dict(lm.model.rnn.state_dict())


def unfreezing_groups(model: SequenceClassifier) -> list[list[nn.Parameter]]:
    """Parameter groups from the top down: head (+ attention), each recurrent layer from
    the last, then the embedding."""
    top = [*model.head.parameters()]
    if model.attention is not None:
        top += [*model.attention.parameters()]
    D = model.rnn.num_directions
    cells = list(model.rnn.cells)
    layers = [
        [p for cell in cells[i * D : (i + 1) * D] for p in cell.parameters()]
        for i in reversed(range(model.rnn.num_layers))
    ]
    assert model.embedding is not None
    return [top, *layers, [model.embedding.weight]]


def discriminative_groups(
    model: SequenceClassifier, factor: float
) -> list[tuple[list[nn.Parameter], float]]:
    """:func:`unfreezing_groups` with their learning-rate factors ``1, 1/f, 1/f², ...``."""
    return [(group, factor**-depth) for depth, group in enumerate(unfreezing_groups(model))]


def unfreeze_for_epoch(model: SequenceClassifier, epoch: int, *, freeze_embeddings: bool) -> None:
    """Trains groups ``0 .. epoch`` of :func:`unfreezing_groups` (0-based ``epoch``) only."""
    groups = unfreezing_groups(model)
    for index, group in enumerate(groups):
        trainable = index <= epoch
        if index == len(groups) - 1 and freeze_embeddings:
            trainable = False
        for parameter in group:
            parameter.requires_grad_(trainable)
