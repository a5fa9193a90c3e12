"""Data of the tagging job: which files, which tags, and each sentence as model inputs.

Splits come from a named dataset (``conll2003``) or from files; without a validation file a
seeded share of the training sentences is held out. Tags are read in the data's scheme and
learned in ``train_scheme`` (BIOES by default; conversion is lossless both ways,
:mod:`rnnkit.data.tags`). A word reaches the model three ways: its (normalised) vocabulary
id, its casing class, and its characters.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from rnnkit.config import ConfigError
from rnnkit.data import Vocabulary
from rnnkit.data.casing import casing_ids
from rnnkit.data.errors import DataError
from rnnkit.data.registry import locate
from rnnkit.data.scaler import Scaler
from rnnkit.data.tagged import CorpusScheme, read_tagged
from rnnkit.data.tagged_steps import read_tagged_steps
from rnnkit.data.tags import OUTSIDE, convert, split_tag
from rnnkit.tasks.common.data_source import held_out
from rnnkit.tasks.tag.config import DATASETS, TagDataConfig

if TYPE_CHECKING:
    from rnnkit.tasks.common.string_embeddings import ContextEmbedder

__all__ = [
    "Encoded",
    "Sentences",
    "build_chars",
    "build_words",
    "encode",
    "learned_scheme",
    "load_split",
    "load_splits",
    "official_test_file",
    "tag_names",
    "word_key",
]

PAD, UNK = "<pad>", "<unk>"
_PREFIXES = {"IOB1": "BI", "BIO": "BI", "BIOES": "BIES"}


class Sentences(NamedTuple):
    """One split as read: token lists (text) or (T, F) arrays (numeric), their tags in the
    data's scheme (None when unlabelled), where they came from, and the scheme."""

    inputs: list[Any]
    tags: list[list[str]] | None
    source: str
    scheme: CorpusScheme


class Encoded(NamedTuple):
    """Model-ready sentences: word ids or scaled arrays; casing ids and a (T, W) matrix of
    character ids per sentence, 0-padded (text only, else None); tag ids in the learned
    scheme (None when unlabelled); (T, D) float16 contextual string embeddings per sentence
    (a run with context language models, else None)."""

    inputs: list[Any]
    casing: list[list[int]] | None
    chars: list[np.ndarray] | None
    tags: list[list[int]] | None
    context: list[np.ndarray] | None = None


def load_split(
    data: TagDataConfig, path: str | Path, *, scheme: CorpusScheme | None = None
) -> Sentences:
    """Reads one file in the config's format (numeric JSONL for numeric inputs); ``scheme``
    (else the config's, else detected) is the scheme its tags are checked against."""
    if data.inputs == "numeric":
        steps = read_tagged_steps(path, key=data.sequence_col)
        return Sentences(steps.sequences, steps.tags, str(path), "none")
    given = scheme or (None if data.scheme == "auto" else data.scheme)
    corpus = read_tagged(path, format=data.format, scheme=given)
    tokens = [s.tokens for s in corpus.sentences]
    return Sentences(tokens, [s.tags for s in corpus.sentences], str(path), corpus.scheme)


def load_splits(data: TagDataConfig, seed: int) -> tuple[Sentences, Sentences]:
    """Training and validation sentences (validation carved from training when not given);
    the validation file is read in the training file's scheme."""
    if data.dataset is not None:
        train = load_split(data, locate(data.dataset, "train"))
        valid_path: str | Path | None = locate(data.dataset, DATASETS[data.dataset][0])
    elif data.data is not None:
        train = load_split(data, data.data)
        valid_path = data.valid
    else:
        raise ConfigError("give --dataset NAME or --data FILE", key="data")
    if valid_path is not None:
        return train, load_split(data, valid_path, scheme=train.scheme)
    return hold_out(train, data.valid_fraction, seed)


def official_test_file(data: TagDataConfig) -> str | Path | None:
    """The file whose figure is reported: a dataset's test split, or --test."""
    if data.dataset is not None:
        return locate(data.dataset, DATASETS[data.dataset][1])
    return data.test


def hold_out(train: Sentences, fraction: float, seed: int) -> tuple[Sentences, Sentences]:
    """Splits off a seeded random ``fraction`` of the training sentences for validation."""
    assert train.tags is not None
    kept, held = held_out(len(train.inputs), fraction, seed, "sentences")

    def pick(indices: list[int], source: str) -> Sentences:
        tags = [train.tags[i] for i in indices]
        return Sentences([train.inputs[i] for i in indices], tags, source, train.scheme)

    return pick(kept, train.source), pick(held, f"{train.source} (held out {fraction:g})")


def learned_scheme(data: TagDataConfig, scheme: CorpusScheme) -> CorpusScheme:
    """The scheme the model learns for data written in ``scheme``."""
    if scheme == "none" or data.train_scheme == "same":
        return scheme
    return data.train_scheme


def tag_names(tags: Sequence[Sequence[str]], scheme: CorpusScheme) -> list[str]:
    """The tag set in id order: plain labels sorted; for an entity scheme ``O`` and every
    prefix of the scheme for each entity type seen, so the CRF can reach each tag.

    Example:
        >>> tag_names([["B-PER", "O", "S-LOC"]], "BIOES")
        ['O', 'B-LOC', 'I-LOC', 'E-LOC', 'S-LOC', 'B-PER', 'I-PER', 'E-PER', 'S-PER']
    """
    seen = {tag for sentence in tags for tag in sentence}
    if scheme == "none":
        return sorted(seen)
    types = sorted({t for tag in seen if (t := split_tag(tag, scheme)[1]) is not None})
    return [OUTSIDE, *(f"{p}-{t}" for t in types for p in _PREFIXES[scheme])]


def word_key(token: str, data: TagDataConfig) -> str:
    """How a word is looked up in the vocabulary (digits zeroed, lower-cased, as configured).

    Example:
        >>> word_key("Sept.1996", TagDataConfig(lowercase=True, digits="zero"))
        'sept.0000'
    """
    if data.digits == "zero":
        token = "".join("0" if c.isdigit() else c for c in token)
    return token.lower() if data.lowercase else token


def build_words(
    tokens: Sequence[Sequence[str]], data: TagDataConfig, extra: Sequence[str] = ()
) -> Vocabulary:
    """The word vocabulary of the training sentences, then the ``extra`` words (a pretrained
    set's) that are not in it yet."""
    keys = [word_key(t, data) for sentence in tokens for t in sentence]
    vocab = Vocabulary.build(
        keys, min_freq=data.min_freq, max_vocab=data.max_vocab, unk=UNK, eos=None, pad=PAD
    )
    if not extra:
        return vocab
    known = set(vocab.tokens)
    added = [w for w in dict.fromkeys(word_key(w, data) for w in extra) if w not in known]
    return Vocabulary([*vocab.tokens, *added], unk=UNK, eos=None, pad=PAD)


def build_chars(tokens: Sequence[Sequence[str]]) -> Vocabulary:
    """The characters of the training words (``<pad>`` is 0, ``<unk>`` 1)."""
    chars = (c for sentence in tokens for token in sentence for c in token)
    return Vocabulary.build(chars, unk=UNK, eos=None, pad=PAD)


def encode(
    sentences: Sentences,
    data: TagDataConfig,
    *,
    words: Vocabulary | None,
    chars: Vocabulary | None,
    scaler: Scaler | None,
    tags: Sequence[str] | None,
    scheme: CorpusScheme,
    context: ContextEmbedder | None = None,
) -> Encoded:
    """``sentences`` as ids (text) or scaled arrays (numeric), tags converted to ``scheme``
    and numbered by ``tags`` (left out when None or unlabelled), and with ``context`` the
    words' contextual string embeddings.

    Raises:
        DataError: A tag the training data never had (validation sentences).
    """
    if scaler is not None:
        inputs: list[Any] = [scaler.transform(np.asarray(x)) for x in sentences.inputs]
        casing = char_ids = None
    else:
        assert words is not None
        inputs = [words.encode(word_key(t, data) for t in s) for s in sentences.inputs]
        casing = [casing_ids(s) for s in sentences.inputs]
        char_ids = None
        if chars is not None:
            char_ids = [_char_matrix(s, chars, data.max_word_len) for s in sentences.inputs]
    tag_ids = None
    if tags is not None and sentences.tags is not None:
        tag_ids = _tag_ids(sentences, tags, scheme)
    features = None if context is None else context.embed(sentences.inputs)
    return Encoded(inputs, casing, char_ids, tag_ids, features)


def _char_matrix(tokens: Sequence[str], chars: Vocabulary, limit: int) -> np.ndarray:
    """(T, W) character ids of a sentence's words, each cut to ``limit``, 0-padded."""
    ids = [chars.encode(token[:limit]) for token in tokens]
    out = np.zeros((len(ids), max(map(len, ids))), dtype=np.int64)
    for t, word in enumerate(ids):
        out[t, : len(word)] = word
    return out


def _tag_ids(sentences: Sentences, tags: Sequence[str], scheme: CorpusScheme) -> list[list[int]]:
    assert sentences.tags is not None
    index = {tag: i for i, tag in enumerate(tags)}
    out = []
    for n, sentence in enumerate(sentences.tags):
        if scheme != sentences.scheme:
            sentence = convert(sentence, sentences.scheme, scheme)
        try:
            out.append([index[tag] for tag in sentence])
        except KeyError as err:
            raise DataError(
                f"sentence {n + 1}: tag {err.args[0]!r} never occurs in the training data "
                f"(known: {', '.join(tags)})",
                file=sentences.source,
            ) from None
    return out
