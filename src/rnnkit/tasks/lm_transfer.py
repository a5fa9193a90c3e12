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

A forward model sees only each word's left context. With a backward model of the same text
(``rnnkit lm train --reverse``, same vocabulary and sizes) the classifier becomes
bidirectional and starts as exactly the two models side by side: its embedding is the two
embeddings concatenated, ``[E_fwd ; E_bwd]`` (width 2E), the forward direction of each layer
takes the forward model's weights and the backward direction the backward model's, and each
direction's input weights are zero over the other's half of the input:

    W_ih (forward direction)  = [W_ih_fwd, 0]      W_ih (backward direction) = [0, W_ih_bwd]

so the two halves of the network only start to mix as fine-tuning moves those zeros.
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
    "check_pair",
    "copy_lm_weights",
    "discriminative_groups",
    "load_lm",
    "lm_vocabulary",
    "unfreeze_for_epoch",
]

PAD = "<pad>"
_FORWARD = ("init_from", "--init-from")  # the config key and flag of the forward model


def load_lm(path: str, *, backward: bool = False) -> language_modeling.LanguageModelTask:
    """The word-level language model of run directory ``path``: a forward one, or with
    ``backward`` one trained with ``--reverse``.

    Raises:
        ConfigError: The run is not a word-level language model of that direction.
    """
    key, flag = ("init_from_backward", "--init-from-backward") if backward else _FORWARD
    run = RunDir.open(path)
    if run.read_config().get("task") != "lm":
        raise ConfigError(f"{path} is not a language-model run (rnnkit lm train)", key=key)
    lm = language_modeling.load(run)
    if lm.level != "word":
        raise ConfigError(
            f"{path} is a {lm.level}-level language model; {flag} needs a word-level one",
            key=key,
        )
    if lm.backward != backward:
        hint = (
            "a forward model (trained without --reverse); give it as --init-from"
            if backward
            else "a backward model (trained with --reverse); give it as --init-from-backward "
            "beside a forward model as --init-from"
        )
        raise ConfigError(f"{path} is {hint}", key=key)
    return lm


def check_pair(
    forward: language_modeling.LanguageModelTask, backward: language_modeling.LanguageModelTask
) -> None:
    """The two models of a bidirectional start must share vocabulary, sizes and cell.

    Raises:
        ConfigError: They differ (the message says in what).
    """
    if forward.vocab.tokens != backward.vocab.tokens:
        raise ConfigError(
            "the forward and backward language models have different vocabularies "
            f"({len(forward.vocab)} and {len(backward.vocab)} tokens); train both on the same "
            "corpus with the same --max-vocab and --min-freq",
            key="init_from_backward",
        )
    shapes = [  # dropout is training-time only (the classifier sets its own)
        (
            lm.config.model.embedding_size,
            dataclasses.replace(lm.config.model.rnn, dropout=0.0, recurrent_dropout=0.0),
        )
        for lm in (forward, backward)
    ]
    if shapes[0] != shapes[1]:
        raise ConfigError(
            "the forward and backward language models differ in embedding size or recurrent "
            f"stack: {shapes[0]} against {shapes[1]}",
            key="init_from_backward",
        )


def lm_vocabulary(lm: language_modeling.LanguageModelTask) -> Vocabulary:
    """The language model's vocabulary with ``<pad>`` appended (same ids for every word)."""
    vocab = lm.vocab
    if vocab.pad is not None:
        return vocab
    return Vocabulary([*vocab.tokens, PAD], unk=vocab.unk, eos=vocab.eos, pad=PAD)


def adopt_lm(
    config: ClassifyConfig,
    lm: language_modeling.LanguageModelTask,
    backward: language_modeling.LanguageModelTask | None = None,
) -> ClassifyConfig:
    """``config`` with the language model's embedding size and recurrent stack (its weights
    fit no other shape); the stack's dropout is the classifier's own. With a ``backward``
    model, the stack is bidirectional and the embedding twice as wide."""
    rnn = dataclasses.replace(
        lm.config.model.rnn, dropout=config.model.rnn.dropout, bidirectional=backward is not None
    )
    width = lm.config.model.embedding_size * (2 if backward is not None else 1)
    model = dataclasses.replace(config.model, embedding_size=width, rnn=rnn)
    return dataclasses.replace(config, model=model)


@torch.no_grad()
def copy_lm_weights(
    model: SequenceClassifier,
    lm: language_modeling.LanguageModelTask,
    backward: language_modeling.LanguageModelTask | None = None,
) -> None:
    """Embedding rows and every recurrent weight from the language model, or from the
    forward and ``backward`` models side by side (see the module docstring)."""
    assert model.embedding is not None
    models = [lm.model] if backward is None else [lm.model, backward.model]
    width = lm.model.embedding.weight.shape[1]
    for half, source in enumerate(models):
        rows = source.embedding.weight
        model.embedding.weight[: rows.shape[0], half * width : (half + 1) * width] = rows
    model.embedding.weight[len(lm.vocab) :] = 0.0  # <pad>
    if backward is None:
        model.rnn.load_state_dict(lm.model.rnn.state_dict())
        return
    D = len(models)
    for index, target in enumerate(model.rnn.cells):
        layer, direction = divmod(index, D)
        _copy_cell_half(target, models[direction].rnn.cells[layer], half=direction)


def _copy_cell_half(target: nn.Module, source: nn.Module, *, half: int) -> None:
    """``source``'s weights into ``target``, whose input weights are twice as wide: the
    source's columns go to input half ``half``, zeros to the other."""
    wanted = target.state_dict()
    for name, value in source.state_dict().items():
        if wanted[name].shape == value.shape:
            wanted[name] = value
            continue
        assert name.startswith("weight_ih"), f"{name}: {value.shape} -> {wanted[name].shape}"
        width = value.shape[1]
        wide = torch.zeros_like(wanted[name])
        wide[:, half * width : (half + 1) * width] = value
        wanted[name] = wide
    target.load_state_dict(wanted)


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
