"""What a translation run is configured with: parallel data and its tokens, the
encoder-decoder, training (the run's ``config.json``)."""

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
from rnnkit.data.subword import MODEL_TYPES, ModelType
from rnnkit.models.seq2seq import Seq2SeqModelConfig
from rnnkit.training.config import TrainConfig

__all__ = ["DATASETS", "TranslateConfig", "TranslateDataConfig"]

# dataset -> the languages it pairs
DATASETS: dict[str, tuple[str, ...]] = {"multi30k": ("en", "de", "fr"), "eng-fra": ("en", "fr")}
Format = Literal["auto", "tsv", "jsonl"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class TranslateDataConfig:
    """Which sentence pairs, cut into which tokens, batched how.

    Attributes:
        dataset: ``multi30k`` (the organisers' train, val and test sets) or ``eng-fra``
            (Tatoeba pairs, deduplicated, then a seeded split: ``test_size`` for the test,
            ``valid_size`` for validation, the rest for training).
        src: The source language (``en``, ``de``, ``fr``; a dataset's file or column).
        tgt: The target language.
        form: Multi30k's ``raw`` sentences (cased, untokenised) or its ``tok`` ones (the
            organisers' lower-cased tokenised text, what published RNN baselines used).
        data: Training pairs in one file: tab-separated (``src_col``, ``tgt_col``) or JSONL
            (``src_key``, ``tgt_key``); or give ``src_file`` and ``tgt_file``.
        src_file: Training source sentences, one per line (with ``tgt_file``).
        tgt_file: Their translations, line by line.
        valid: Validation pairs in one file (or ``valid_src_file`` and ``valid_tgt_file``);
            default: ``valid_fraction`` of the training pairs.
        valid_src_file: Validation source sentences.
        valid_tgt_file: Their translations.
        test: Test pairs in one file, for ``translate eval`` without files.
        test_src_file: Test source sentences.
        test_tgt_file: Their translations.
        format: ``tsv``, ``jsonl`` or ``auto`` (by suffix: ``.jsonl``/``.json`` JSONL, else
            tab-separated).
        src_col: Column of the source in tab-separated pairs (0-based; negative from the end).
        tgt_col: Column of the target.
        src_key: Key of the source in JSONL.
        tgt_key: Key of the target in JSONL.
        tokens: ``subword`` (sentencepiece pieces, detokenised on output) or ``word``
            (whitespace tokens).
        subword_vocab: Pieces of each side's subword model (of the shared one with
            ``joint_vocab``).
        subword_model: ``unigram`` or ``bpe``.
        joint_vocab: One subword model and vocabulary for both sides (languages that share
            an alphabet share names, numbers and cognates).
        min_freq: Word level: words seen fewer times become ``<unk>``.
        max_vocab: Word level: keep at most this many words per side.
        max_len: Training pairs with more tokens than this on either side are left out.
        test_size: ``eng-fra``: pairs held out for the test.
        valid_size: ``eng-fra``: pairs held out for validation.
        batch_size: Pairs per training batch.
        eval_batch_size: Pairs per batch in validation, evaluation and translation.
        bucket: Batch pairs of similar source length together.
        valid_fraction: Share of training pairs held out when there is no validation file.
    """

    dataset: str | None = None
    src: str = "en"
    tgt: str = "de"
    form: Literal["raw", "tok"] = "raw"
    data: str | None = None
    src_file: str | None = None
    tgt_file: str | None = None
    valid: str | None = None
    valid_src_file: str | None = None
    valid_tgt_file: str | None = None
    test: str | None = None
    test_src_file: str | None = None
    test_tgt_file: str | None = None
    format: Format = "auto"
    src_col: int = 0
    tgt_col: int = 1
    src_key: str = "src"
    tgt_key: str = "tgt"
    tokens: Literal["subword", "word"] = "subword"
    subword_vocab: int = 5000
    subword_model: ModelType = "unigram"
    joint_vocab: bool = False
    min_freq: int = 1
    max_vocab: int | None = None
    max_len: int = 80
    test_size: int = 5000
    valid_size: int = 2000
    batch_size: int = 64
    eval_batch_size: int = 128
    bucket: bool = True
    valid_fraction: float = 0.05

    def __post_init__(self) -> None:
        check_field_types(self)
        validate_choice("form", self.form, ("raw", "tok"))
        validate_choice("format", self.format, ("auto", "tsv", "jsonl"))
        validate_choice("tokens", self.tokens, ("subword", "word"))
        validate_choice("subword_model", self.subword_model, MODEL_TYPES)
        for name in ("subword_vocab", "min_freq", "max_len", "test_size", "valid_size"):
            validate_positive(name, getattr(self, name))
        for name in ("batch_size", "eval_batch_size"):
            validate_positive(name, getattr(self, name))
        if self.max_vocab is not None:
            validate_positive("max_vocab", self.max_vocab)
        validate_fraction("valid_fraction", self.valid_fraction)
        self._check_source()

    def _check_source(self) -> None:
        """A dataset, one pairs file, or two aligned files: exactly one, with what goes with it."""
        for prefix in ("", "valid_", "test_"):
            one = getattr(self, prefix.rstrip("_") or "data")
            two = getattr(self, f"{prefix}src_file"), getattr(self, f"{prefix}tgt_file")
            if (two[0] is None) != (two[1] is None):
                raise ConfigError(
                    f"--{prefix.replace('_', '-')}src-file and --{prefix.replace('_', '-')}"
                    "tgt-file go together; give both",
                    key=f"{prefix}src_file",
                )
            if one is not None and two[0] is not None:
                name = prefix.rstrip("_") or "data"
                raise ConfigError(
                    f"give --{name} FILE or --{prefix.replace('_', '-')}src-file and "
                    f"--{prefix.replace('_', '-')}tgt-file, not both",
                    key=name,
                )
        has_files = self.data is not None or self.src_file is not None
        if self.dataset is None:
            return  # files, or none yet: reading the data says what is missing
        validate_choice("dataset", self.dataset, tuple(DATASETS))
        if has_files or any(
            getattr(self, f) is not None
            for f in ("valid", "valid_src_file", "test", "test_src_file")
        ):
            raise ConfigError(
                f"dataset {self.dataset!r} brings its own splits; files go without --dataset",
                key="dataset",
            )
        langs = DATASETS[self.dataset]
        for side in ("src", "tgt"):
            validate_choice(side, getattr(self, side), langs)
        if self.src == self.tgt:
            raise ConfigError(f"--src and --tgt are both {self.src!r}", key="tgt")
        if self.dataset == "multi30k" and "en" not in (self.src, self.tgt):
            raise ConfigError(
                "Multi30k pairs English with German or French; one side must be en", key="src"
            )


def _train_defaults() -> TrainConfig:
    # Validation loss picks the epoch; `--monitor val_bleu --mode max` picks it (and stops
    # early) by the BLEU of greedy translations of the validation set, a decoding per epoch.
    return TrainConfig(
        epochs=30,
        lr=1e-3,
        clip_norm=1.0,
        schedule="plateau",
        lr_decay=0.5,
        plateau_patience=1,
        patience=4,
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class TranslateConfig:
    """A translation run (the run's ``config.json``).

    Attributes:
        task: Always ``"translate"``.
        data: Pairs, tokens and batching.
        model: Encoder, decoder, attention.
        train: Optimiser, schedule, stopping.
        label_smoothing: Share of each target's probability spread over the vocabulary
            (Szegedy et al. 2016); 0 for plain cross-entropy.
    """

    task: Literal["translate"] = "translate"
    data: TranslateDataConfig = dataclasses.field(default_factory=TranslateDataConfig)
    model: Seq2SeqModelConfig = dataclasses.field(default_factory=Seq2SeqModelConfig)
    train: TrainConfig = dataclasses.field(default_factory=_train_defaults)
    label_smoothing: float = 0.1

    def __post_init__(self) -> None:
        check_field_types(self)
        validate_fraction("label_smoothing", self.label_smoothing)
        if self.train.monitor == "val_bleu" and self.train.mode != "max":
            raise ConfigError(
                "--monitor val_bleu needs --mode max (higher BLEU is better)", key="mode"
            )
