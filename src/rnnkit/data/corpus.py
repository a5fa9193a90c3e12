"""Language-modeling data: corpora, tokens and contiguous stream batches.

The path from text to training windows::

    load_lm_corpus -> tokenize -> Vocabulary.build / encode -> batchify
        -> rnnkit.tasks.lm.stream_batches (truncated-BPTT windows, rnnkit.training.tbptt)

Levels: ``char`` (every character is a token, newlines included) and ``word`` (whitespace
tokens as the corpus gives them, plus ``<eos>`` at the end of every line, as in the PyTorch
word_language_model example and Zaremba et al. 2014).

Batching is "contiguous stream batching": the token stream is cut into ``B`` contiguous rows
and windows of ``bptt`` steps are taken left to right, so a recurrent state carried from one
window to the next continues the same text (truncated BPTT).

Example:
    >>> import torch
    >>> tokens = tokenize("a b\\nb a\\n", "word")
    >>> tokens
    ['a', 'b', '<eos>', 'b', 'a', '<eos>']
    >>> stream = batchify(torch.arange(7), batch_size=2)
    >>> stream.tolist()
    [[0, 1, 2], [3, 4, 5]]
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from rnnkit.config import ConfigError, validate_choice
from rnnkit.data.errors import DataError
from rnnkit.data.readers import read_text
from rnnkit.data.registry import REGISTRY, DatasetSpec, get_spec, locate

if TYPE_CHECKING:  # torch is imported on use: `rnnkit datasets list` need not pay for it
    import torch

__all__ = [
    "LMCorpus",
    "Level",
    "batchify",
    "detokenize",
    "iter_tokens",
    "lm_corpora",
    "load_lm_corpus",
    "tokenize",
    "unigram_entropy",
]

Level = Literal["char", "word"]
_LEVELS = ("char", "word")
_SPLITS = ("train", "valid", "test")


# ---------------------------------------------------------------------------------------------
# Tokens
# ---------------------------------------------------------------------------------------------


def tokenize(text: str, level: Level, *, eos: str = "<eos>") -> list[str]:
    """Splits text into tokens.

    ``char``: ``list(text)``; newlines stay as ``"\\n"`` characters and no ``eos`` is added.
    ``word``: for every line of ``text`` (``str.splitlines``, so a final newline adds no empty
    line), its whitespace-separated words followed by ``eos``; an empty line gives just
    ``eos``.

    Args:
        text: The text.
        level: ``"char"`` or ``"word"``.
        eos: The end-of-line token (word level).

    Returns:
        The tokens.

    Raises:
        ConfigError: ``level`` is not ``"char"`` or ``"word"``.

    Example:
        >>> tokenize("to be\\n\\nor not\\n", "word")
        ['to', 'be', '<eos>', '<eos>', 'or', 'not', '<eos>']
        >>> tokenize("hi\\n", "char")
        ['h', 'i', '\\n']
    """
    return list(iter_tokens(text, level, eos=eos))


def iter_tokens(text: str, level: Level, *, eos: str = "<eos>") -> Iterator[str]:
    """:func:`tokenize`'s tokens one at a time, so counting them holds no list of them.

    Example:
        >>> from collections import Counter
        >>> Counter(iter_tokens("a b a\\n", "word"))
        Counter({'a': 2, 'b': 1, '<eos>': 1})
    """
    validate_choice("level", level, _LEVELS)
    if level == "char":
        yield from text
        return
    for line in text.splitlines():
        yield from line.split()
        yield eos


def detokenize(tokens: Sequence[str], level: Level, *, eos: str = "<eos>") -> str:
    """Joins tokens back into text: the inverse of :func:`tokenize` up to whitespace.

    ``char``: ``"".join(tokens)``. ``word``: words joined by single spaces, each ``eos``
    becoming a newline with no space around it. ``tokenize(detokenize(t, "word"), "word")
    == t`` for any tokens without whitespace that end with ``eos``.

    Args:
        tokens: The tokens.
        level: ``"char"`` or ``"word"``.
        eos: The end-of-line token (word level).

    Returns:
        The text.

    Raises:
        ConfigError: ``level`` is not ``"char"`` or ``"word"``.

    Example:
        >>> detokenize(["to", "be", "<eos>", "<eos>", "or", "not"], "word")
        'to be\\n\\nor not'
    """
    validate_choice("level", level, _LEVELS)
    if level == "char":
        return "".join(tokens)
    lines: list[str] = []
    words: list[str] = []
    for token in tokens:
        if token == eos:
            lines.append(" ".join(words) + "\n")
            words = []
        else:
            words.append(token)
    return "".join(lines) + " ".join(words)


# ---------------------------------------------------------------------------------------------
# Corpora
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LMCorpus:
    """The texts of a language-modeling corpus.

    Attributes:
        train: Training text.
        valid: Validation text.
        test: Test text, or None where the corpus has no test split.
        source: Where the texts came from and how they were split, in words
            (``"tinyshakespeare (first 90% / last 10% of characters)"``).
    """

    train: str
    valid: str
    test: str | None
    source: str


def lm_corpora() -> list[str]:
    """The names of the registry datasets that are language-modeling corpora.

    Example:
        >>> lm_corpora()
        ['ptb', 'tinyshakespeare', 'wikitext-2']
    """
    return sorted(name for name, spec in REGISTRY.items() if _is_lm(spec))


def load_lm_corpus(
    *,
    dataset: str | None = None,
    data: Path | str | None = None,
    valid: Path | str | None = None,
    test: Path | str | None = None,
    valid_fraction: float = 0.1,
    split_at_line: bool = False,
) -> LMCorpus:
    """Loads the train/valid(/test) texts of a registry dataset or of user files.

    Give exactly one of ``dataset`` and ``data``.

    - A dataset that ships train/valid/test files (``ptb``, ``wikitext-2``): those files
      (found with :func:`~rnnkit.data.registry.locate`; ``.gz`` is read transparently).
    - A single-file dataset (``tinyshakespeare``): split as nanoGPT's ``shakespeare_char``
      does, the first ``int(n * (1 - valid_fraction))`` characters for train and the rest
      for valid (1,003,854 / 111,540 characters at 0.1); no test.
    - ``data=FILE`` with ``valid`` (and optionally ``test``): those files as they are.
    - ``data=FILE`` alone (or with ``test`` only): the file split like tinyshakespeare.

    ``split_at_line=True`` moves the cut of a single text forward to just after the first
    newline at or after the split point (to the last newline before it when no later one
    leaves text for valid), so no line is cut in two; use it for word-level data. The
    default, ``False``, keeps the exact character split, which is nanoGPT's for
    tinyshakespeare. ``valid_fraction`` and ``split_at_line`` matter only when a single text
    is split.

    Args:
        dataset: A registry dataset that is a language-modeling corpus (:func:`lm_corpora`).
        data: A UTF-8 text file (``.gz`` transparently): the training text, or the whole
            corpus when ``valid`` is not given.
        valid: The validation file (only with ``data``).
        test: The test file (only with ``data``).
        valid_fraction: Share of a single text that goes to valid, in (0, 1).
        split_at_line: Cut a single text at a line end rather than at an exact character.

    Returns:
        The corpus.

    Raises:
        ConfigError: Not exactly one of ``dataset`` and ``data``; ``valid`` or ``test`` with
            ``dataset``; ``valid_fraction`` outside (0, 1).
        DataError: The dataset is unknown or not a language-modeling corpus (the message lists
            those that are); a file is missing or not UTF-8; a train, valid or test text is
            empty (the message names the file).

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "text.txt"
        >>> _ = path.write_text("one two\\nthree four\\nfive six\\n")
        >>> corpus = load_lm_corpus(data=path, valid_fraction=0.5)
        >>> corpus.train, corpus.valid
        ('one two\\nthree ', 'four\\nfive six\\n')
        >>> corpus = load_lm_corpus(data=path, valid_fraction=0.5, split_at_line=True)
        >>> corpus.train, corpus.valid, corpus.test
        ('one two\\nthree four\\n', 'five six\\n', None)
    """
    if (dataset is None) == (data is None):
        got = "both" if dataset is not None else "neither"
        raise ConfigError(
            f"give exactly one of dataset= (a registry name) and data= (a file), got {got}"
        )
    if not (isinstance(valid_fraction, float | int) and 0 < valid_fraction < 1):
        raise ConfigError(
            f"expected a number in (0, 1), got {valid_fraction!r}", key="valid_fraction"
        )
    if dataset is not None:
        if valid is not None or test is not None:
            raise ConfigError(
                f"valid= and test= go with data=, not with dataset={dataset!r} "
                "(a registry dataset brings its own splits)"
            )
        return _load_dataset(dataset, valid_fraction, split_at_line)
    return _load_files(Path(data), valid, test, valid_fraction, split_at_line)


def _is_lm(spec: DatasetSpec) -> bool:
    return "language modeling" in spec.task


def _load_dataset(name: str, valid_fraction: float, split_at_line: bool) -> LMCorpus:
    spec = get_spec(name)
    if not _is_lm(spec):
        raise DataError(
            f"dataset {name!r} is for {spec.task}, not language modeling; the "
            f"language-modeling corpora are {', '.join(lm_corpora())}"
        )
    shipped = {f.split for f in spec.files if f.kind == "data" and f.split is not None}
    if "train" in shipped:
        texts = {s: _read(locate(name, s)) if s in shipped else None for s in _SPLITS}
        return LMCorpus(
            texts["train"],
            texts["valid"],
            texts["test"],
            f"{name} (train / valid / test as shipped)",
        )
    path = locate(name)
    train, valid = _split(_read(path), path, valid_fraction, split_at_line)
    return LMCorpus(train, valid, None, f"{name} ({_split_words(valid_fraction, split_at_line)})")


def _load_files(
    data: Path, valid: Path | str | None, test: Path | str | None, fraction: float, at_line: bool
) -> LMCorpus:
    test_text = None if test is None else _read(Path(test))
    test_note = "" if test is None else f", test {test}"
    if valid is not None:
        return LMCorpus(
            _read(data),
            _read(Path(valid)),
            test_text,
            f"{data} (train), {valid} (valid){test_note}",
        )
    train, valid_text = _split(_read(data), data, fraction, at_line)
    return LMCorpus(
        train, valid_text, test_text, f"{data} ({_split_words(fraction, at_line)}){test_note}"
    )


def _read(path: Path) -> str:
    """The text of ``path``; a DataError naming the file when it is empty."""
    text = read_text(path)
    if not text:
        raise DataError("empty file: expected text", file=path)
    return text


def _split(
    text: str, path: os.PathLike[str], valid_fraction: float, split_at_line: bool
) -> tuple[str, str]:
    """(train, valid) of one text, cut at ``int(n * (1 - valid_fraction))`` or the line end."""
    cut = int(len(text) * (1 - valid_fraction))  # nanoGPT: n = len(data); data[:int(n*0.9)]
    if split_at_line:
        cut = _line_end(text, cut)
    train, valid = text[:cut], text[cut:]
    for part, what in ((train, "train"), (valid, "valid")):
        if not part:
            raise DataError(
                f"the {what} part of the split is empty ({len(text)} characters, "
                f"{_split_words(valid_fraction, split_at_line)}); use a longer "
                "text or give valid= explicitly",
                file=path,
            )
    return train, valid


def _line_end(text: str, cut: int) -> int:
    """The first line end at or after ``cut`` that leaves text after it, else the last before.

    A line end is the position just after a newline. Without any newline, ``cut`` is kept.
    """
    after = text.find("\n", max(cut - 1, 0), len(text) - 1)
    if after != -1:
        return after + 1
    before = text.rfind("\n", 0, max(cut - 1, 0))
    return cut if before == -1 else before + 1


def _split_words(valid_fraction: float, split_at_line: bool) -> str:
    """``"first 90% / last 10% of characters"`` (and ``", cut at a line end"``)."""
    train_pct = f"{(1 - valid_fraction) * 100:g}%"
    valid_pct = f"{valid_fraction * 100:g}%"
    words = f"first {train_pct} / last {valid_pct} of characters"
    return words + (", cut at a line end" if split_at_line else "")


# ---------------------------------------------------------------------------------------------
# Batches and windows
# ---------------------------------------------------------------------------------------------


def batchify(
    ids: torch.Tensor, batch_size: int, *, field: str = "batch_size", what: str = "text"
) -> torch.Tensor:
    """Cuts a token stream into ``batch_size`` contiguous rows (a view; the remainder dropped).

    Row ``b`` is ``ids[b * L:(b + 1) * L]`` with ``L = N // batch_size``, so a state carried
    from one window of a row to the next continues the same text.

    Shapes:
        ids: (N,) integer ids.
        returns: (B, N // B) with B = ``batch_size``.

    Args:
        ids: The encoded corpus.
        batch_size: The number of rows B.
        field, what: The setting ``batch_size`` came from and what ``ids`` are, for the
            error message (``eval_batch_size``, ``validation text``).

    Returns:
        The batched stream, a view of ``ids``.

    Raises:
        ConfigError: ``ids`` is not a 1-D integer tensor; ``batch_size`` is not an int >= 1.
        DataError: ``N < 2 * batch_size``: rows shorter than 2 tokens have no target.

    Example:
        >>> import torch
        >>> batchify(torch.arange(10), 3).tolist()
        [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    """
    _check_ids("ids", ids, dim=1)
    _check_int("batch_size", batch_size)
    n = ids.numel()
    if n < 2 * batch_size:
        raise DataError(
            f"too little {what} for {field} {batch_size}: {n} tokens, expected "
            f"at least {2 * batch_size} (2 per row)",
            field=field,
        )
    length = n // batch_size
    return ids[: batch_size * length].view(batch_size, length)  # (B, L)


def unigram_entropy(ids: torch.Tensor | Sequence[int], vocab_size: int) -> float:
    """The entropy of the token frequencies of ``ids``, in nats per token.

    It is the lowest cross-entropy that a model which ignores context (one fixed distribution
    for every position) can reach on this text: a language model that learns anything from
    context goes below it.

    Shapes:
        ids: (N,) or any shape; all elements are counted.

    Args:
        ids: Token ids, each in ``0 .. vocab_size - 1``.
        vocab_size: The vocabulary size.

    Returns:
        ``-sum(p * log p)`` over the ids' empirical frequencies ``p`` (float64).

    Raises:
        ConfigError: ``vocab_size`` is not an int >= 1.
        DataError: ``ids`` is empty or has an id outside ``0 .. vocab_size - 1``.

    Example:
        >>> import math
        >>> math.isclose(unigram_entropy([0, 1, 2, 3], vocab_size=4), math.log(4))
        True
        >>> unigram_entropy([5, 5, 5], vocab_size=6)
        0.0
    """
    import torch

    _check_int("vocab_size", vocab_size)
    flat = torch.as_tensor(ids).reshape(-1)
    if flat.numel() == 0:
        raise DataError("unigram entropy of an empty stream is undefined", field="ids")
    if flat.dtype.is_floating_point or flat.dtype.is_complex or flat.dtype == torch.bool:
        raise ConfigError(f"expected integer ids, got dtype {flat.dtype}", key="ids")
    low, high = int(flat.min()), int(flat.max())
    if low < 0 or high >= vocab_size:
        bad = low if low < 0 else high
        raise DataError(
            f"id {bad} is outside the vocabulary (expected 0 .. {vocab_size - 1})", field="ids"
        )
    counts = torch.bincount(flat.long(), minlength=vocab_size).double()
    p = counts[counts > 0] / flat.numel()
    return float(-(p * p.log()).sum()) + 0.0  # + 0.0: -0.0 -> 0.0 for a one-token stream


def _check_ids(name: str, tensor: object, *, dim: int) -> None:
    import torch

    if not isinstance(tensor, torch.Tensor):
        raise ConfigError(f"expected a torch.Tensor, got {type(tensor).__name__}", key=name)
    integer = not (
        tensor.dtype.is_floating_point or tensor.dtype.is_complex or tensor.dtype == torch.bool
    )
    if tensor.dim() != dim or not integer:
        raise ConfigError(
            f"expected a {dim}-D integer tensor, got shape {tuple(tensor.shape)} "
            f"dtype {tensor.dtype}",
            key=name,
        )


def _check_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"expected an int >= 1, got {value!r} ({type(value).__name__})", key=name)
