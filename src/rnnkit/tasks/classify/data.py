"""Data of the classification task: which files, which labels, encoded how.

Splits come from a named dataset (``imdb``, ``sst2``) or from files (CSV, TSV, JSONL, a folder
per label; for numeric sequences JSONL, long-format CSV or NPZ). Without a validation file,
a seeded share of the training examples is held out. Text becomes token ids through the
saved preprocessing pipeline and vocabulary; numeric steps are standardised with a scaler
fitted on the training split only.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np

from rnnkit.config import (
    ConfigError,
    check_field_types,
    validate_choice,
    validate_fraction,
    validate_positive,
)
from rnnkit.data import DataError, Vocabulary
from rnnkit.data.batching import TRUNCATIONS, Truncation, truncate
from rnnkit.data.examples import read_numeric_examples, read_text_examples
from rnnkit.data.registry import locate
from rnnkit.data.scaler import Scaler
from rnnkit.data.text import TextConfig
from rnnkit.data.token_cache import tokenize_many
from rnnkit.data.vocab import require_tokens
from rnnkit.tasks.common.data_source import check_source, held_out

__all__ = [
    "DATASETS",
    "ClassifyDataConfig",
    "Examples",
    "Scaler",
    "encode_texts",
    "load_split",
    "load_splits",
]

PAD, UNK = "<pad>", "<unk>"
Format = Literal["auto", "jsonl", "csv", "tsv", "folder", "npz"]
FORMATS: tuple[str, ...] = ("auto", "jsonl", "csv", "tsv", "folder", "npz")


class DatasetLayout(NamedTuple):
    """Which registry splits a dataset uses, its columns, and what its labels mean.

    ``valid``: the split that picks the best epoch (None: held out from train);
    ``test``: the split whose figure is reported, read once at the end (None: none labelled).
    """

    valid: str | None
    test: str | None
    text_col: str
    label_col: str
    label_names: dict[str, str]


_SENTIMENT = {"0": "negative", "1": "positive"}
DATASETS: dict[str, DatasetLayout] = {
    # Official 25k/25k split; validation is carved from train, the test set is used once.
    "imdb": DatasetLayout(None, "test", "text", "label", _SENTIMENT),
    # GLUE's SST-2: dev is the reported set (test labels are not public), so it is kept out
    # of model selection too: validation is carved from the training phrases.
    "sst2": DatasetLayout(None, "valid", "sentence", "label", _SENTIMENT),
}


@dataclasses.dataclass(frozen=True, kw_only=True)
class ClassifyDataConfig:
    """Which examples, read how, cut and batched how.

    Attributes:
        dataset: A registry dataset (``imdb``, ``sst2``); its columns are known.
        data: Training file or folder instead (CSV, TSV, JSONL, a folder per label, or for
            numeric inputs JSONL, long-format CSV or NPZ).
        valid: Validation file (default: ``valid_fraction`` of the training examples).
        test: Test file, for ``classify eval``.
        inputs: ``text`` (token sequences) or ``numeric`` (a (T, F) array per example).
        format: File format; ``auto`` goes by suffix (a directory is ``folder``).
        text_col: Column or key of the text.
        label_col: Column or key of the label.
        sequence_col: Key of a numeric sequence in JSONL.
        id_col: Column that groups the rows of one numeric example in a long-format CSV.
        features: Comma-separated feature columns of a long-format CSV (default: all others).
        min_freq: Words seen fewer times in training become ``<unk>``.
        max_vocab: Keep at most this many words (specials included).
        max_len: Cut longer sequences to this many steps (None keeps everything).
        truncate: Which part of a long sequence to keep: ``head``, ``tail`` or ``head+tail``.
        batch_size: Examples per training batch.
        eval_batch_size: Examples per batch in validation, evaluation and prediction.
        bucket: Batch examples of similar length together (padding then costs nothing).
        valid_fraction: Share of training examples held out when there is no validation file.
        train_size: Train on a random subset of this many training examples, drawn with the
            run's seed before validation is held out of them (learning curves; checking a
            model as if only this much data were labelled).
        baseline: After training, fit a TF-IDF logistic regression on the same training split
            (text inputs; :mod:`rnnkit.tasks.classify.baseline`), which the run keeps and
            ``train`` and ``eval`` report beside the network.
    """

    dataset: str | None = None
    data: str | None = None
    valid: str | None = None
    test: str | None = None
    inputs: Literal["text", "numeric"] = "text"
    format: Format = "auto"
    text_col: str = "text"
    label_col: str = "label"
    sequence_col: str = "sequence"
    id_col: str = "id"
    features: str | None = None
    min_freq: int = 1
    max_vocab: int | None = None
    max_len: int | None = 400
    truncate: Truncation = "head"
    batch_size: int = 32
    eval_batch_size: int = 128
    bucket: bool = True
    valid_fraction: float = 0.1
    train_size: int | None = None
    baseline: bool = True

    def __post_init__(self) -> None:
        check_field_types(self)
        validate_choice("inputs", self.inputs, ("text", "numeric"))
        validate_choice("format", self.format, FORMATS)
        validate_choice("truncate", self.truncate, TRUNCATIONS)
        for name in ("min_freq", "batch_size", "eval_batch_size"):
            validate_positive(name, getattr(self, name))
        for name in ("max_vocab", "max_len", "train_size"):
            if getattr(self, name) is not None:
                validate_positive(name, getattr(self, name))
        validate_fraction("valid_fraction", self.valid_fraction)
        check_source(self, tuple(DATASETS))


class Examples(NamedTuple):
    """Raw examples of one split: texts or (T, F) arrays, and labels (None when unlabelled)."""

    inputs: list[Any]
    labels: list[str] | None
    source: str


def load_split(data: ClassifyDataConfig, path: str | Path, *, labelled: bool = True) -> Examples:
    """Reads one file (or folder) as the config's format and columns say.

    Dataset label ids are renamed (``0`` -> ``negative``) so predictions read naturally.
    """
    label_col = data.label_col if labelled else None
    text_col = data.text_col
    names: dict[str, str] = {}
    if data.dataset is not None:
        layout = DATASETS[data.dataset]
        text_col, names = layout.text_col, layout.label_names
        label_col = layout.label_col if labelled else None
    if data.inputs == "numeric":
        features = None if data.features is None else [f.strip() for f in data.features.split(",")]
        inputs, labels = read_numeric_examples(
            path,
            sequence_col=data.sequence_col,
            label_col=label_col,
            id_col=data.id_col,
            features=features,
            format=data.format,
        )
    else:
        inputs, labels = read_text_examples(
            path, text_col=text_col, label_col=label_col, format=data.format
        )
    if labels is not None:
        labels = [names.get(label, label) for label in labels]
    return Examples(list(inputs), labels, str(path))


def load_splits(data: ClassifyDataConfig, seed: int) -> tuple[Examples, Examples]:
    """Training and validation examples (validation carved from training when not given)."""
    if data.dataset is not None:
        train = load_split(data, locate(data.dataset, "train"))
        split = DATASETS[data.dataset].valid
        valid_path = locate(data.dataset, split) if split is not None else None
    elif data.data is not None:
        train = load_split(data, data.data)
        valid_path = data.valid
    else:
        raise ConfigError("give --dataset NAME or --data FILE", key="data")
    if data.train_size is not None:
        train = subset(train, data.train_size, seed)
    if valid_path is not None:
        return train, load_split(data, valid_path)
    return hold_out(train, data.valid_fraction, seed)


def official_test_file(data: ClassifyDataConfig) -> str | Path | None:
    """The file whose figure is reported (a dataset's test split; SST-2: dev), or --test."""
    if data.dataset is not None:
        split = DATASETS[data.dataset].test
        return locate(data.dataset, split) if split is not None else None
    return data.test


def subset(train: Examples, size: int, seed: int) -> Examples:
    """A seeded random ``size`` of ``train``'s examples, in their file order.

    Raises:
        ConfigError: ``train`` has fewer examples.
    """
    assert train.labels is not None
    if size > len(train.inputs):
        raise ConfigError(
            f"expected at most the {len(train.inputs):,} training examples of {train.source}, "
            f"got {size:,}",
            key="train_size",
        )
    picked = sorted(random.Random(seed).sample(range(len(train.inputs)), size))
    return Examples(
        [train.inputs[i] for i in picked],
        [train.labels[i] for i in picked],
        f"{train.source} ({size:,} drawn with seed {seed})",
    )


def hold_out(train: Examples, fraction: float, seed: int) -> tuple[Examples, Examples]:
    """Splits off a seeded random ``fraction`` of ``train`` for validation."""
    assert train.labels is not None
    kept, held = held_out(len(train.inputs), fraction, seed, "examples")

    def pick(indices: list[int], source: str) -> Examples:
        return Examples(
            [train.inputs[i] for i in indices], [train.labels[i] for i in indices], source
        )

    return pick(kept, train.source), pick(held, f"{train.source} (held out {fraction:g})")


def label_order(labels: Sequence[str]) -> list[str]:
    """Class names in a stable order: numerically when all are integers, else by name."""
    unique = set(labels)
    if all(label.lstrip("-").isdigit() for label in unique):
        return sorted(unique, key=int)
    return sorted(unique)


def encode_labels(labels: Sequence[str], classes: Sequence[str], source: str) -> list[int]:
    """Class ids of ``labels``; a label training never saw is an error naming it."""
    index = {name: i for i, name in enumerate(classes)}
    unknown = sorted(set(labels) - set(index))
    if unknown:
        raise DataError(
            f"labels {unknown[:5]} were not in the training data (classes: {', '.join(classes)})",
            file=source,
            field="label",
        )
    return [index[label] for label in labels]


def build_vocab(tokens: Sequence[Sequence[str]], data: ClassifyDataConfig) -> Vocabulary:
    """The training vocabulary: ``<pad>`` (id 0), ``<unk>``, then words by frequency.

    Raises:
        ConfigError: ``min_freq``/``max_vocab`` leave no word (only ``<pad>`` and ``<unk>``).
    """
    vocab = Vocabulary.build(
        (t for seq in tokens for t in seq),
        min_freq=data.min_freq,
        max_vocab=data.max_vocab,
        unk=UNK,
        eos=None,
        pad=PAD,
    )
    require_tokens(vocab, min_freq=data.min_freq, max_vocab=data.max_vocab, under="data")
    return vocab


def encode_texts(
    texts: Sequence[str], text: TextConfig, vocab: Vocabulary, data: ClassifyDataConfig
) -> list[list[int]]:
    """Token ids of each text, truncated; an empty text becomes one ``<unk>``."""
    tokens = tokenize_many(texts, text)
    return encode_tokens(tokens, vocab, data)


def encode_tokens(
    tokens: Sequence[Sequence[str]], vocab: Vocabulary, data: ClassifyDataConfig
) -> list[list[int]]:
    unk = [vocab.unk_id]
    return [truncate(vocab.encode(seq), data.max_len, data.truncate) or unk for seq in tokens]


def encode_numeric(
    sequences: Sequence[np.ndarray], scaler: Scaler, data: ClassifyDataConfig
) -> list[np.ndarray]:
    """Standardised sequences, truncated like text (rows of the (T, F) arrays)."""
    out = []
    for seq in sequences:
        keep = truncate(range(len(seq)), data.max_len, data.truncate)
        out.append(scaler.transform(np.asarray(seq)[keep]))
    return out
