"""Where a translation run's pairs come from: Multi30k's files, eng-fra's seeded split, or the
user's files in any of the three forms of :mod:`rnnkit.data.parallel`."""

from __future__ import annotations

import dataclasses
import random
import unicodedata
from pathlib import Path

from rnnkit.config import ConfigError, validate_choice
from rnnkit.data.parallel import Parallel, read_aligned, read_jsonl_pairs, read_tsv_pairs
from rnnkit.data.registry import locate
from rnnkit.tasks.common.data_source import held_out
from rnnkit.tasks.translate.config import TranslateDataConfig

__all__ = [
    "MULTI30K_TESTS",
    "eng_fra_split",
    "load_splits",
    "load_test",
    "read_files",
    "tokenised_references",
]

MULTI30K_TESTS = ("test_2016_flickr", "test_2017_flickr", "test_2017_mscoco", "test_2018_flickr")
# The eng-fra split is the same for every run and every training seed: the test set is fixed.
_ENG_FRA_SPLIT_SEED = 20_261_207
_ENG_FRA_COLUMNS = {"en": 0, "fr": 1}


def load_splits(data: TranslateDataConfig, seed: int) -> tuple[Parallel, Parallel]:
    """The training and validation pairs: a dataset's, or the files' (validation a seeded
    ``valid_fraction`` of training when no validation file is given).

    Raises:
        ConfigError: No training data given, or a held-out split would be empty.
        DataError: A file is missing or malformed (named with its line).
    """
    if data.dataset == "multi30k":
        return multi30k(data, "train"), multi30k(data, "val")
    if data.dataset == "eng-fra":
        train, valid, _ = eng_fra_split(data)
        return train, valid
    train = read_files(data, data.data, data.src_file, data.tgt_file)
    if train is None:
        raise ConfigError(
            "no training data: give --dataset NAME, --data PAIRS, or --src-file and --tgt-file",
            key="data",
        )
    valid = read_files(data, data.valid, data.valid_src_file, data.valid_tgt_file)
    if valid is not None:
        return train, valid
    keep, out = held_out(len(train.src), data.valid_fraction, seed, "pairs")
    return _pick(train, keep, "training share"), _pick(train, out, "validation share")


def load_test(data: TranslateDataConfig, split: str | None = None) -> Parallel:
    """A test set: Multi30k's ``split`` (default ``test_2016_flickr``), eng-fra's held-out
    pairs, or the run's test files.

    Raises:
        ConfigError: The run has no test split, or ``split`` is not one of the dataset's.
    """
    if data.dataset == "multi30k":
        chosen = split or MULTI30K_TESTS[0]
        validate_choice("split", chosen, (*MULTI30K_TESTS, "val"))
        return multi30k(data, chosen)
    if split is not None:
        raise ConfigError(
            f"--split names a Multi30k test set; this run's data is {data.dataset or 'files'}",
            key="split",
        )
    if data.dataset == "eng-fra":
        return eng_fra_split(data)[2]
    test = read_files(data, data.test, data.test_src_file, data.test_tgt_file)
    if test is None:
        raise ConfigError(
            "the run has no test set: give --src-file and --tgt-file (or --data PAIRS)",
            key="data",
        )
    return test


def tokenised_references(data: TranslateDataConfig, split: str | None = None) -> list[str] | None:
    """The organisers' lower-cased tokenised references of a Multi30k split (default
    ``test_2016_flickr``) for a run trained on the raw sentences, which
    :func:`rnnkit.tasks.translate.moses.tokenised_bleu` scores against; None for other data
    (a ``tok`` run's own references are already in that form)."""
    if data.dataset != "multi30k" or data.form != "raw":
        return None
    return multi30k(dataclasses.replace(data, form="tok"), split or MULTI30K_TESTS[0]).tgt


def read_files(
    data: TranslateDataConfig, pairs: str | None, src: str | None, tgt: str | None
) -> Parallel | None:
    """Pairs from one file (tab-separated or JSONL, as ``data.format`` says) or from two
    aligned files; None when neither is given."""
    if src is not None and tgt is not None:
        return read_aligned(src, tgt)
    if pairs is None:
        return None
    if _is_jsonl(pairs, data.format):
        return read_jsonl_pairs(pairs, src_key=data.src_key, tgt_key=data.tgt_key)
    return read_tsv_pairs(pairs, src_col=data.src_col, tgt_col=data.tgt_col)


def multi30k(data: TranslateDataConfig, split: str) -> Parallel:
    """One Multi30k split in the configured form (``raw`` or the organisers' ``tok``)."""

    def path(lang: str) -> Path:
        name = f"{split}.{lang}" if data.form == "raw" else f"{split}.lc.norm.tok.{lang}"
        return locate("multi30k", file=name)

    return read_aligned(path(data.src), path(data.tgt))


def eng_fra_split(data: TranslateDataConfig) -> tuple[Parallel, Parallel, Parallel]:
    """Tatoeba's English-French pairs, split once for every run: the test set
    (``test_size`` pairs), validation (``valid_size``) and training (the rest).

    A pair is kept once when the file repeats it, compared after Unicode NFKC and with runs
    of spaces (French typography's no-break spaces among them) read as one space: 132 of the
    file's pairs are such repeats. All pairs of one source sentence go to the same split
    (27,458 English sentences have several translations), so no test sentence is one the
    model was trained on. Source sentences are shuffled with a fixed seed, and whole groups
    fill the test set, then validation; pairs of the group that would overfill a split are
    left out of every split.
    """
    file = locate("eng-fra")
    read = read_tsv_pairs(
        file, src_col=_ENG_FRA_COLUMNS[data.src], tgt_col=_ENG_FRA_COLUMNS[data.tgt]
    )
    groups: dict[str, dict[str, tuple[str, str]]] = {}
    for src, tgt in zip(read.src, read.tgt, strict=True):
        groups.setdefault(_key(src), {}).setdefault(_key(tgt), (src, tgt))
    order = sorted(groups)
    random.Random(_ENG_FRA_SPLIT_SEED).shuffle(order)
    pairs = [pair for key in order for pair in groups[key].values()]
    held = data.test_size + data.valid_size
    if held >= len(pairs):
        raise ConfigError(
            f"test_size + valid_size ({held:,}) leave none of the {len(pairs):,} distinct pairs "
            "for training",
            key="test_size",
        )
    splits: list[list[tuple[str, str]]] = [[], [], []]  # test, valid, train
    sizes = (data.test_size, data.valid_size)
    at = 0
    for key in order:
        while at < 2 and len(splits[at]) >= sizes[at]:
            at += 1
        group = list(groups[key].values())
        room = sizes[at] - len(splits[at]) if at < 2 else len(group)
        splits[at].extend(group[:room])

    def part(chunk: list[tuple[str, str]], name: str) -> Parallel:
        return Parallel([s for s, _ in chunk], [t for _, t in chunk], f"{file} ({name})")

    test, valid, train = splits
    return part(train, "training split"), part(valid, "validation split"), part(test, "test split")


def _key(text: str) -> str:
    """What two spellings of one sentence share: NFKC, spaces of any kind as one."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def _pick(pairs: Parallel, indices: list[int], what: str) -> Parallel:
    return Parallel(
        [pairs.src[i] for i in indices], [pairs.tgt[i] for i in indices], f"{pairs.source} ({what})"
    )


def _is_jsonl(path: str, format: str) -> bool:
    if format != "auto":
        return format == "jsonl"
    suffixes = Path(path.removesuffix(".gz")).suffix
    return suffixes in (".jsonl", ".json")
