"""Train word2vec vectors on a user's corpus (gensim), tokenized as the classifier will see it.

:func:`read_corpus` turns a plain text file (one document or sentence per line) or a
CSV/TSV/JSONL file's text column into token lists with a :class:`~rnnkit.data.text.TextPipeline`,
so the trained vectors' words are exactly the tokens a model built with the same
:class:`~rnnkit.data.text.TextConfig` looks up. :func:`train_word2vec` trains skip-gram or
CBOW with negative sampling (Mikolov et al. 2013) and returns ``(words, vectors)`` in the form
:func:`rnnkit.data.embeddings.save_vectors` writes and
:func:`rnnkit.data.embeddings.load_vectors` reads.

Memory: gensim passes over the corpus ``epochs + 1`` times (one pass builds the vocabulary).
Tokenizing is the slow part (about 70k tokens/s, against about 300k tokens/s for one
skip-gram epoch at dim 100, measured on PTB), so re-reading and re-tokenizing the file on
every pass would cost six tokenizations with the defaults. :func:`read_corpus` therefore
tokenizes once, streaming the file line by line (the raw text of a plain text file is never
held whole), and keeps one list of tokens per line; equal tokens share one string object.
That measured 16 bytes per token on PTB (20 tokens per line): about 300 MB for a 100 MB text
file. Bigger corpora should be split, or passed to :func:`train_word2vec` as a restartable
iterable of their own (an object whose ``__iter__`` re-reads a pre-tokenized file).

Example:
    >>> corpus = [["the", "cat", "sat"], ["the", "dog", "sat"], ["the", "end"]] * 10
    >>> words, vectors = train_word2vec(corpus, Word2VecConfig(dim=8, min_count=1, epochs=2))
    >>> words[:2], vectors.shape, vectors.dtype
    (['the', 'sat'], (5, 8), dtype('float32'))
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from rnnkit.config import (
    ConfigError,
    RnnkitError,
    check_field_types,
    validate_choice,
    validate_positive,
)
from rnnkit.data.errors import DataError
from rnnkit.data.readers import iter_lines, read_records
from rnnkit.data.text import TextConfig, TextPipeline

__all__ = ["TABLE_SUFFIXES", "Word2VecConfig", "read_corpus", "train_word2vec"]

PathLike = str | os.PathLike[str]
# File suffixes (after any ``.gz``) read as tables with a text column; anything else is plain
# text, one document per line (so ``.txt`` is plain text here, unlike ``read_records``).
TABLE_SUFFIXES = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".json": "jsonl"}
_DEFAULT_TEXT_COL = "text"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Word2VecConfig:
    """How :func:`train_word2vec` trains (frozen, strict JSON round trip).

    Attributes:
        dim: Size of each word vector.
        method: ``"skipgram"`` (predict the context from the word; better for rare words
            and small corpora) or ``"cbow"`` (predict the word from its context; faster).
        window: Largest distance between the word and a context word (each pass samples a
            window size in [1, window] per word, as word2vec does).
        min_count: Words seen fewer times than this are dropped before training.
        epochs: Passes over the corpus.
        negative: Negative samples per positive pair (negative sampling).
        seed: Seed of the initial vectors and of the sampling.
        workers: Training threads. Only ``workers=1`` gives the same vectors on every run
            with the same seed; more threads are faster but interleave their updates
            differently on each run.

    Raises:
        ConfigError: A field has the wrong type, a size or count is not positive, or
            ``seed`` is negative.

    Example:
        >>> from rnnkit.config import from_json, to_json
        >>> cfg = Word2VecConfig(dim=50, method="cbow")
        >>> from_json(Word2VecConfig, to_json(cfg)) == cfg
        True
        >>> try:
        ...     Word2VecConfig(method="sg")
        ... except ConfigError as err:
        ...     print(err)
        method: expected one of 'skipgram', 'cbow', got 'sg' (str)
    """

    dim: int = 100
    method: Literal["skipgram", "cbow"] = "skipgram"
    window: int = 5
    min_count: int = 5
    epochs: int = 5
    negative: int = 5
    seed: int = 0
    workers: int = 1

    def __post_init__(self) -> None:
        check_field_types(self)
        validate_choice("method", self.method, ("skipgram", "cbow"))
        for name in ("dim", "window", "min_count", "epochs", "negative", "workers"):
            validate_positive(name, getattr(self, name))
        if self.seed < 0:
            raise ConfigError(f"expected an int >= 0, got {self.seed}", key="seed")


def read_corpus(
    path: PathLike, text_config: TextConfig | None = None, *, text_col: str | None = None
) -> list[list[str]]:
    """Reads and tokenizes a corpus file: one token list per line or record with any tokens.

    The format follows the suffix (after any ``.gz``): ``.csv``, ``.tsv``, ``.jsonl`` and
    ``.json`` (JSON lines) are tables whose ``text_col`` holds the text; any other file is
    plain UTF-8 text with one document or sentence per line. Lines and records whose text
    has no tokens are left out. See the module docstring for the memory this takes.

    Args:
        path: The corpus file; ``.gz`` is decompressed on the fly.
        text_config: The preprocessing to apply; None means ``TextConfig()``.
        text_col: The column or key holding the text, for tables only; None means
            ``"text"``.

    Returns:
        The token lists, in file order.

    Raises:
        DataError: No such file; invalid UTF-8 or gzip data; a table without ``text_col``
            (naming the columns it has) or a record whose text is not a string.
        ConfigError: ``text_col`` is given for a plain text file.

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "corpus.txt"
        >>> _ = path.write_text("The cat sat.\\n\\nA <b>dog</b> ran!\\n", encoding="utf-8")
        >>> read_corpus(path)
        [['the', 'cat', 'sat', '.'], ['a', 'dog', 'ran', '!']]
    """
    pipeline = TextPipeline(text_config)
    path = Path(path)
    kind = TABLE_SUFFIXES.get(Path(path.name.removesuffix(".gz")).suffix.lower())
    if kind is None:
        if text_col is not None:
            message = (
                f"applies only to {', '.join(TABLE_SUFFIXES)} files, got the plain text file "
                f"{str(path)!r}"
            )
            raise ConfigError(message, key="text_col")
        return _tokenize_all(iter_lines(path), pipeline)
    column = _DEFAULT_TEXT_COL if text_col is None else text_col
    records = read_records(path, columns=[column], format=kind)  # type: ignore[arg-type]
    return _tokenize_all(_record_texts(records, column, path), pipeline)


def _record_texts(records: list[dict[str, object]], column: str, path: Path) -> Iterator[str]:
    """Each record's text, dropping the record once read (the raw text is not kept twice)."""
    for i in range(len(records)):
        text = records[i][column]
        records[i] = {}  # free the raw text while its tokens are being built
        if not isinstance(text, str):
            message = f"record {i + 1}: expected a string, got {type(text).__name__}"
            raise DataError(message, file=path, field=column)
        yield text


def _tokenize_all(texts: Iterable[str], pipeline: TextPipeline) -> list[list[str]]:
    shared: dict[str, str] = {}  # one string object per distinct token
    corpus = []
    for text in texts:
        tokens = [shared.setdefault(token, token) for token in pipeline(text)]
        if tokens:
            corpus.append(tokens)
    return corpus


class _Sentences:
    """A restartable view of the caller's sentences that gensim can train on.

    gensim's compiled training loop silently truncates a sentence to its first
    ``max_tokens`` tokens (10,000); a long line (a whole document) is cut into pieces
    instead, so none of its tokens is lost.
    """

    def __init__(self, sentences: Iterable[Sequence[str]], max_tokens: int) -> None:
        self._sentences = sentences
        self._max_tokens = max_tokens

    def __iter__(self) -> Iterator[Sequence[str]]:
        step = self._max_tokens
        for i, sentence in enumerate(self._sentences):
            if isinstance(sentence, str):
                # A string is iterable too: gensim would train on its characters.
                message = f"expected a list of tokens, got a str {sentence[:40]!r}; tokenize it"
                raise ConfigError(message, key=f"sentences[{i}]")
            if len(sentence) <= step:
                yield sentence
            else:
                for start in range(0, len(sentence), step):
                    yield sentence[start : start + step]


def train_word2vec(
    sentences: Iterable[Sequence[str]], config: Word2VecConfig
) -> tuple[list[str], np.ndarray]:
    """Trains word2vec (gensim) on token lists and returns each kept word's vector.

    Negative sampling only (no hierarchical softmax); frequent words are down-sampled with
    gensim's default threshold (1e-3, Mikolov et al. 2013). With ``config.workers == 1``
    the result depends only on the corpus and ``config``: gensim 4 seeds its generators
    from ``config.seed`` and does not use Python's salted ``hash`` for the initial vectors,
    so ``PYTHONHASHSEED`` does not matter.

    Shapes:
        vectors: (N, dim) float32, row ``i`` is the vector of ``words[i]``.

    Args:
        sentences: Token lists, e.g. from :func:`read_corpus`. gensim passes over them
            ``config.epochs + 1`` times, so this must be restartable (a list, or an object
            whose ``__iter__`` starts over), not a generator.
        config: The training settings.

    Returns:
        ``(words, vectors)``: the words seen at least ``config.min_count`` times, most
        frequent first (ties in gensim's order).

    Raises:
        ConfigError: ``config`` is not a :class:`Word2VecConfig`; ``sentences`` is a
            one-shot iterator or holds a string instead of a token list; no word occurs
            ``config.min_count`` times (the message gives the counts and the largest
            ``min_count`` that keeps some words).
        DataError: The corpus has no tokens.

    Example:
        >>> corpus = [["a", "b", "a"], ["b", "a", "c"]] * 10
        >>> words, vectors = train_word2vec(corpus, Word2VecConfig(dim=4, min_count=15))
        >>> words, vectors.shape
        (['a', 'b'], (2, 4))
        >>> try:
        ...     train_word2vec(corpus, Word2VecConfig(dim=4, min_count=50))
        ... except ConfigError as err:
        ...     print(err)  # doctest: +NORMALIZE_WHITESPACE
        min_count: no word occurs 50 times or more (the corpus has 3 distinct words in 60
        tokens; the most frequent, 'a', occurs 30 times); lower --min-count to 30 or less
    """
    if not isinstance(config, Word2VecConfig):
        raise ConfigError(f"expected a Word2VecConfig, got {type(config).__name__}", key="config")
    if iter(sentences) is sentences:
        raise ConfigError(
            "expected a restartable iterable (a list, or an object whose __iter__ starts "
            "over), got a one-shot iterator; gensim reads the corpus once per epoch",
            key="sentences",
        )
    # Imported here: gensim (with scipy) takes about a second to import.
    from gensim.models import Word2Vec
    from gensim.models.word2vec_inner import MAX_WORDS_IN_BATCH

    corpus = _Sentences(sentences, MAX_WORDS_IN_BATCH)
    model = Word2Vec(
        vector_size=config.dim,
        sg=1 if config.method == "skipgram" else 0,
        hs=0,
        window=config.window,
        min_count=config.min_count,
        negative=config.negative,
        seed=config.seed,
        workers=config.workers,
        epochs=config.epochs,
    )
    model.build_vocab(corpus, keep_raw_vocab=True)
    if len(model.wv) == 0:
        raise _empty_vocabulary(dict(model.raw_vocab), config.min_count)
    model.raw_vocab = {}  # the counts were kept for the message above; free them
    model.train(corpus, total_examples=model.corpus_count, epochs=config.epochs)
    words = list(model.wv.index_to_key)
    vectors = np.ascontiguousarray(model.wv.vectors, dtype=np.float32)
    assert vectors.shape == (len(words), config.dim), vectors.shape
    return words, vectors


def _empty_vocabulary(counts: dict[str, int], min_count: int) -> RnnkitError:
    if not counts:
        return DataError("the corpus has no tokens (an empty file, or every line blank?)")
    top = max(counts, key=counts.__getitem__)
    message = (
        f"no word occurs {min_count} times or more (the corpus has {len(counts)} distinct "
        f"words in {sum(counts.values())} tokens; the most frequent, {top!r}, occurs "
        f"{counts[top]} times); lower --min-count to {counts[top]} or less"
    )
    return ConfigError(message, key="min_count")
