"""What a tagging run is configured with: data and word features, model, word vectors,
training (the run's ``config.json``)."""

from __future__ import annotations

import dataclasses
from typing import Literal

from rnnkit.config import (
    ConfigError,
    check_field_types,
    validate_choice,
    validate_fraction,
    validate_positive,
)
from rnnkit.models.tagger import TaggerModelConfig
from rnnkit.tasks.common.data_source import check_source
from rnnkit.tasks.common.text_init import TextInitConfig
from rnnkit.training.config import TrainConfig

__all__ = ["DATASETS", "TagConfig", "TagDataConfig", "TagInitConfig"]

# dataset -> (validation split, test split) in the registry
DATASETS: dict[str, tuple[str, str]] = {"conll2003": ("valid", "test")}
DATA_SCHEMES = ("auto", "IOB1", "BIO", "BIOES", "none")
TRAIN_SCHEMES = ("BIOES", "BIO", "IOB1", "same")


@dataclasses.dataclass(frozen=True, kw_only=True)
class TagDataConfig:
    """Which sentences, read how, and what of each word the model sees.

    Attributes:
        dataset: A registry dataset (``conll2003``: eng.train, eng.testa for validation,
            eng.testb for the test).
        data: Training file instead: CoNLL columns, ``token<TAB>tag``, or JSONL
            ``{"tokens": [...], "tags": [...]}`` (numeric inputs: ``{"sequence": [...],
            "tags": [...]}``).
        valid: Validation file (default: ``valid_fraction`` of the training sentences).
        test: Test file, for ``tag eval`` without ``--data``.
        inputs: ``text`` (words) or ``numeric`` (a vector of features per step).
        format: ``columns``, ``jsonl`` or ``auto`` (by suffix).
        scheme: The data's tag scheme, ``IOB1``, ``BIO``, ``BIOES``, ``none`` (plain labels
            such as parts of speech), or ``auto`` (detected). Evaluation reports in it.
        train_scheme: The scheme the model learns (``BIOES`` marks where entities end,
            which helps; ``same`` keeps the data's). Ignored for plain labels.
        sequence_col: Key of the steps in numeric JSONL.
        lowercase: Look words up lower-cased (case still reaches the model through the casing
            feature and the characters). Set it with lower-cased vectors such as GloVe 6B.
        digits: ``zero`` looks every digit up as 0 (1996 and 1997 share a vector); ``keep``.
        min_freq: Training words seen fewer times have no vector of their own (``<unk>``).
        unk_replace: Probability that a word seen once in training is read as ``<unk>``,
            drawn anew each epoch (Lample et al. 2016 used 0.5): the ``<unk>`` vector is then
            learned, and rare words are read from their characters, as unseen ones must be.
        max_vocab: Keep at most this many training words (specials included).
        vector_words: With pretrained vectors, this many of their words (the first in the
            file: the most frequent, in GloVe's, word2vec's and fastText's order) join the
            vocabulary, so words never seen in training keep their vectors; 0 adds none.
            Each costs ``embedding_size`` parameters the optimiser updates every step.
        max_word_len: Characters of a word the character encoder reads (the rest is cut).
        batch_size: Sentences per training batch.
        eval_batch_size: Sentences per batch in validation, evaluation and prediction.
        bucket: Batch sentences of similar length together.
        valid_fraction: Share of training sentences held out when there is no validation file.
    """

    dataset: str | None = None
    data: str | None = None
    valid: str | None = None
    test: str | None = None
    inputs: Literal["text", "numeric"] = "text"
    format: Literal["auto", "columns", "jsonl"] = "auto"
    scheme: Literal["auto", "IOB1", "BIO", "BIOES", "none"] = "auto"
    train_scheme: Literal["BIOES", "BIO", "IOB1", "same"] = "BIOES"
    sequence_col: str = "sequence"
    lowercase: bool = False
    digits: Literal["keep", "zero"] = "keep"
    min_freq: int = 1
    unk_replace: float = 0.0
    max_vocab: int | None = None
    vector_words: int = 100_000
    max_word_len: int = 30
    batch_size: int = 16
    eval_batch_size: int = 256
    bucket: bool = True
    valid_fraction: float = 0.1

    def __post_init__(self) -> None:
        check_field_types(self)
        validate_choice("inputs", self.inputs, ("text", "numeric"))
        validate_choice("format", self.format, ("auto", "columns", "jsonl"))
        validate_choice("scheme", self.scheme, DATA_SCHEMES)
        validate_choice("train_scheme", self.train_scheme, TRAIN_SCHEMES)
        validate_choice("digits", self.digits, ("keep", "zero"))
        for name in ("min_freq", "max_word_len", "batch_size", "eval_batch_size"):
            validate_positive(name, getattr(self, name))
        if self.max_vocab is not None:
            validate_positive("max_vocab", self.max_vocab)
        if self.vector_words < 0:
            raise ConfigError(f"expected >= 0, got {self.vector_words}", key="vector_words")
        validate_fraction("valid_fraction", self.valid_fraction)
        if not 0.0 <= self.unk_replace < 1.0:
            raise ConfigError(
                f"expected a probability in [0, 1), got {self.unk_replace!r}", key="unk_replace"
            )
        check_source(self, tuple(DATASETS))


@dataclasses.dataclass(frozen=True, kw_only=True)
class TagInitConfig(TextInitConfig):
    """Where the word features start: pretrained word vectors or a language model's layers
    (every field of :class:`~rnnkit.tasks.common.text_init.TextInitConfig`), and contextual
    string embeddings.

    With ``init_from`` the first recurrent layer reads more than the language model did (the
    word vector, then casing, characters and context): the language model's input weights
    take the word vector's columns and the others start at zero, so the tagger starts as the
    language model reading its words. Give a backward model too (``init_from_backward``):
    with a forward one alone the stack is one-directional, as the language model was, and a
    tagger without right context is much weaker.

    Attributes:
        context_lms: Character language model runs (``rnnkit lm train --level char``, a
            forward one and one trained with ``--reverse``) whose states at each word's
            edges join the word's features: contextual string embeddings (Akbik et al.
            2018; :mod:`rnnkit.tasks.common.string_embeddings`). The models stay fixed and
            are copied into the run. Text inputs only.
    """

    context_lms: tuple[str, ...] = ()


def _train_defaults() -> TrainConfig:
    # Entity F1 on the validation set decides which epoch's weights are kept: it is what is
    # reported, and the loss keeps falling on the many O tags after F1 stops rising. Dev F1
    # jumps by a point from epoch to epoch at a constant rate (CoNLL-2003, 0.878-0.893 from
    # epoch 16 on): halving the rate when it stalls lets it settle.
    return TrainConfig(
        epochs=30,
        lr=1e-3,
        clip_norm=5.0,
        monitor="val_f1",
        mode="max",
        schedule="plateau",
        lr_decay=0.5,
        plateau_patience=2,
        patience=10,
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class TagConfig:
    """A tagging run (the run's ``config.json``).

    Attributes:
        task: Always ``"tag"``.
        data: Sentences, schemes, word normalisation and batching.
        model: Word, casing and character features, recurrent stack, output layer.
        init: Pretrained word vectors, a language model's layers, string embeddings.
        train: Optimiser, schedule, stopping.
    """

    task: Literal["tag"] = "tag"
    data: TagDataConfig = dataclasses.field(default_factory=TagDataConfig)
    model: TaggerModelConfig = dataclasses.field(default_factory=TaggerModelConfig)
    init: TagInitConfig = dataclasses.field(default_factory=TagInitConfig)
    train: TrainConfig = dataclasses.field(default_factory=_train_defaults)
