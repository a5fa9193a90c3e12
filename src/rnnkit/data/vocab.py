"""``Vocabulary``: an immutable map between tokens and integer ids, with special tokens.

A vocabulary is built from a training corpus (:meth:`Vocabulary.build`), saved as JSON in the
run directory (:meth:`Vocabulary.to_dict`) and read back (:meth:`Vocabulary.from_dict`). The
special tokens are optional: ``pad`` (id 0 from :meth:`Vocabulary.build`), ``unk`` (what a
token outside the vocabulary maps to) and ``eos`` (the end of a line or sentence). A corpus
that already holds the literal unk token (Penn Treebank's ``<unk>``) keeps it as that special
token.

Example:
    >>> vocab = Vocabulary.build("the cat sat on the mat".split())
    >>> vocab.tokens
    ('<unk>', '<eos>', 'the', 'cat', 'sat', 'on', 'mat')
    >>> vocab.encode(["the", "dog", "<eos>"])
    [2, 0, 1]
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from rnnkit.config import ConfigError
from rnnkit.config.errors import join
from rnnkit.data.errors import DataError

__all__ = ["Vocabulary", "require_tokens"]

_KEYS = ("tokens", "unk", "eos", "pad")
_SPECIALS = ("pad", "unk", "eos")  # the order build() gives them ids in


class Vocabulary:
    """An immutable token <-> id map; ids are positions in ``tokens``.

    Args:
        tokens: Every token, in id order; no duplicates.
        unk: The token that tokens outside the vocabulary map to, or None for none (then
            encoding an unknown token is an error). Must be in ``tokens``.
        eos: The end-of-line/sentence token, or None. Must be in ``tokens``.
        pad: The padding token, or None. Must be in ``tokens``.

    Raises:
        DataError: A token is not a string or appears twice (the message names it and both
            ids); a special token given is not in ``tokens``; two specials are the same token.

    Example:
        >>> vocab = Vocabulary(["<unk>", "<eos>", "a", "b"])
        >>> len(vocab), vocab[2], vocab.id("b"), vocab.id("zzz")
        (4, 'a', 3, 0)
        >>> "a" in vocab, vocab.unk_id, vocab.eos_id, vocab.pad_id
        (True, 0, 1, None)
        >>> try:
        ...     Vocabulary(["a", "b", "a"], unk=None, eos=None)
        ... except DataError as err:
        ...     print(err)
        field 'tokens': duplicate token 'a' at ids 0 and 2
    """

    __slots__ = ("_tokens", "_index", "_unk", "_eos", "_pad")

    def __init__(
        self,
        tokens: Sequence[str],
        *,
        unk: str | None = "<unk>",
        eos: str | None = "<eos>",
        pad: str | None = None,
    ) -> None:
        token_tuple = _check_tokens(tokens)
        index: dict[str, int] = {}
        for i, token in enumerate(token_tuple):
            if token in index:
                message = f"duplicate token {token!r} at ids {index[token]} and {i}"
                raise DataError(message, field="tokens")
            index[token] = i
        specials = {"pad": pad, "unk": unk, "eos": eos}
        _check_specials(specials, index)
        object.__setattr__(self, "_tokens", token_tuple)
        object.__setattr__(self, "_index", index)
        object.__setattr__(self, "_unk", unk)
        object.__setattr__(self, "_eos", eos)
        object.__setattr__(self, "_pad", pad)

    # --- construction ----------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        tokens: Iterable[str],
        *,
        min_freq: int = 1,
        max_vocab: int | None = None,
        unk: str | None = "<unk>",
        eos: str | None = "<eos>",
        pad: str | None = None,
    ) -> Vocabulary:
        """Builds the vocabulary of a token stream: specials first, then by frequency.

        Ids: the specials that are not None, in the order ``pad``, ``unk``, ``eos``; then the
        other tokens by descending count, ties broken by first appearance (so the result is
        deterministic). Occurrences of a special token in the stream (PTB's literal
        ``<unk>``, ``<eos>`` from :func:`rnnkit.data.corpus.tokenize`) are not counted as
        ordinary tokens: the special keeps its one id.

        Args:
            tokens: The training tokens.
            min_freq: Tokens seen fewer times are left out (they will encode as ``unk``).
            max_vocab: The most tokens in all, specials included; the rarest are left out.
            unk: The unknown-token special, or None.
            eos: The end-of-line special, or None.
            pad: The padding special, or None.

        Returns:
            The vocabulary.

        Raises:
            ConfigError: ``min_freq`` is not an int >= 1; ``max_vocab`` is not an int that
                leaves room for the specials.
            DataError: ``tokens`` holds a non-string; two specials are the same token.

        Example:
            >>> vocab = Vocabulary.build(list("abracadabra"), min_freq=2, eos=None, pad="<pad>")
            >>> vocab.tokens
            ('<pad>', '<unk>', 'a', 'b', 'r')
            >>> Vocabulary.build(list("abracadabra"), max_vocab=4).tokens
            ('<unk>', '<eos>', 'a', 'b')
        """
        specials = [s for s in (pad, unk, eos) if s is not None]
        _check_int("min_freq", min_freq, 1)
        if max_vocab is not None:
            _check_int("max_vocab", max_vocab, len(specials))
        counts = Counter(tokens)  # insertion order is first appearance
        reserved = set(specials)
        # sorted() is stable, so equal counts keep first-appearance order.
        ranked = sorted(
            (t for t, n in counts.items() if n >= min_freq and t not in reserved),
            key=lambda t: -counts[t],
        )
        room = len(ranked) if max_vocab is None else max_vocab - len(specials)
        return cls([*specials, *ranked[:room]], unk=unk, eos=eos, pad=pad)

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, file: str | os.PathLike[str] | None = None
    ) -> Vocabulary:
        """Reads a vocabulary back from :meth:`to_dict`'s form (e.g. loaded from JSON).

        Args:
            data: ``{"tokens": [...], "unk": ..., "eos": ..., "pad": ...}``; every key is
                required and no other is allowed.
            file: The file ``data`` came from, named in errors.

        Returns:
            The vocabulary.

        Raises:
            DataError: ``data`` is not a mapping, misses a key or has an unknown one, a value
                has the wrong type, or the tokens are invalid (see :class:`Vocabulary`).

        Example:
            >>> Vocabulary.from_dict({"tokens": ["<eos>", "a"], "unk": None, "eos": "<eos>",
            ...                       "pad": None}).encode(["a"])
            [1]
            >>> try:
            ...     Vocabulary.from_dict({"tokens": "ab", "unk": None, "eos": None, "pad": None},
            ...                          file="run/vocab.json")
            ... except DataError as err:
            ...     print(err)
            run/vocab.json: field 'tokens': expected a list of strings, got 'ab' (str)
        """
        if not isinstance(data, Mapping):
            raise DataError(
                f"expected a JSON object with keys {list(_KEYS)}, got {_got(data)}", file=file
            )
        missing = [k for k in _KEYS if k not in data]
        unknown = sorted(str(k) for k in data if k not in _KEYS)
        if missing or unknown:
            message = f"expected keys {list(_KEYS)}; missing {missing}, unknown {unknown}"
            raise DataError(message, file=file)
        tokens = data["tokens"]
        if not isinstance(tokens, list):
            raise DataError(
                f"expected a list of strings, got {_got(tokens)}", file=file, field="tokens"
            )
        for key in _SPECIALS:
            if data[key] is not None and not isinstance(data[key], str):
                raise DataError(
                    f"expected a string or null, got {_got(data[key])}", file=file, field=key
                )
        try:
            return cls(tokens, unk=data["unk"], eos=data["eos"], pad=data["pad"])
        except DataError as err:
            raise DataError(err.message, file=file, field=err.field) from None

    def to_dict(self) -> dict[str, Any]:
        """The vocabulary as a JSON-ready dict: ``{"tokens", "unk", "eos", "pad"}``.

        Example:
            >>> Vocabulary(["<unk>", "x"], eos=None).to_dict()
            {'tokens': ['<unk>', 'x'], 'unk': '<unk>', 'eos': None, 'pad': None}
        """
        return {"tokens": list(self._tokens), "unk": self._unk, "eos": self._eos, "pad": self._pad}

    # --- lookups ---------------------------------------------------------------------------

    def id(self, token: str) -> int:
        """The id of ``token``; a token outside the vocabulary gets :attr:`unk_id`.

        Raises:
            DataError: ``token`` is outside the vocabulary and there is no unk token.

        Example:
            >>> Vocabulary(["<unk>", "a"], eos=None).id("b")
            0
        """
        found = self._index.get(token)
        if found is not None:
            return found
        if self._unk is None:
            raise DataError(f"token {token!r} is not in the vocabulary, which has no unk token")
        return self._index[self._unk]

    def encode(self, tokens: Iterable[str]) -> list[int]:
        """The ids of ``tokens``; tokens outside the vocabulary get :attr:`unk_id`.

        Raises:
            DataError: A token is outside a vocabulary without unk (names it and its position).

        Example:
            >>> Vocabulary(["<unk>", "<eos>", "a"]).encode(["a", "b", "<eos>"])
            [2, 0, 1]
        """
        index = self._index
        if self._unk is not None:
            unk_id = index[self._unk]
            return [index.get(t, unk_id) for t in tokens]
        ids = []
        for position, token in enumerate(tokens):
            found = index.get(token)
            if found is None:
                raise DataError(
                    f"token {token!r} at position {position} is not in the "
                    "vocabulary, which has no unk token"
                )
            ids.append(found)
        return ids

    def decode(self, ids: Iterable[int]) -> list[str]:
        """The tokens of ``ids`` (a list of ints or an integer tensor).

        Raises:
            DataError: An id is not an int or is outside ``0 .. len(self) - 1`` (names it
                and its position).

        Example:
            >>> Vocabulary(["<unk>", "<eos>", "a"]).decode([2, 0, 1])
            ['a', '<unk>', '<eos>']
        """
        values = ids.tolist() if hasattr(ids, "tolist") else ids
        size = len(self._tokens)
        out = []
        for position, i in enumerate(values):
            if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < size:
                raise DataError(
                    f"id {i!r} at position {position} is outside the vocabulary "
                    f"(expected 0 .. {size - 1})"
                )
            out.append(self._tokens[i])
        return out

    def coverage(self, tokens: Iterable[str]) -> float:
        """The share of ``tokens`` that are in the vocabulary (a literal unk token counts).

        Raises:
            DataError: ``tokens`` is empty.

        Example:
            >>> Vocabulary(["<unk>", "<eos>", "a"]).coverage(["a", "a", "b", "<eos>"])
            0.75
        """
        total = known = 0
        for token in tokens:
            total += 1
            known += token in self._index
        if total == 0:
            raise DataError("coverage of an empty token sequence is undefined")
        return known / total

    # --- properties ------------------------------------------------------------------------

    @property
    def tokens(self) -> tuple[str, ...]:
        """Every token, in id order."""
        return self._tokens

    @property
    def unk(self) -> str | None:
        """The unknown-token special, or None."""
        return self._unk

    @property
    def eos(self) -> str | None:
        """The end-of-line special, or None."""
        return self._eos

    @property
    def pad(self) -> str | None:
        """The padding special, or None."""
        return self._pad

    @property
    def unk_id(self) -> int | None:
        """The id of the unk token, or None without one."""
        return None if self._unk is None else self._index[self._unk]

    @property
    def eos_id(self) -> int | None:
        """The id of the eos token, or None without one."""
        return None if self._eos is None else self._index[self._eos]

    @property
    def pad_id(self) -> int | None:
        """The id of the pad token, or None without one."""
        return None if self._pad is None else self._index[self._pad]

    # --- container protocol ----------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._tokens)

    def __contains__(self, token: object) -> bool:
        return token in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._tokens)

    def __getitem__(self, id_: int) -> str:
        """The token with id ``id_`` (no negative indexing: ids are not positions from the end).

        Raises:
            IndexError: ``id_`` is outside ``0 .. len(self) - 1``.
        """
        if not 0 <= id_ < len(self._tokens):
            raise IndexError(
                f"id {id_!r} is outside the vocabulary (expected 0 .. {len(self._tokens) - 1})"
            )
        return self._tokens[id_]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Vocabulary):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash((self._tokens, self._unk, self._eos, self._pad))

    def __repr__(self) -> str:
        return (
            f"Vocabulary({len(self)} tokens, unk={self._unk!r}, eos={self._eos!r}, "
            f"pad={self._pad!r})"
        )

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Vocabulary is immutable: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Vocabulary is immutable: cannot delete {name!r}")


def _check_tokens(tokens: Sequence[str]) -> tuple[str, ...]:
    """``tokens`` as a tuple; a DataError unless it is a non-string sequence of strings."""
    if isinstance(tokens, str | bytes) or not isinstance(tokens, Sequence):
        raise DataError(f"expected a list of strings, got {_got(tokens)}", field="tokens")
    for i, token in enumerate(tokens):
        if not isinstance(token, str):
            raise DataError(f"expected a string at id {i}, got {_got(token)}", field="tokens")
    return tuple(tokens)


def _check_specials(specials: dict[str, str | None], index: Mapping[str, int]) -> None:
    """Each special given is in ``index`` and differs from the others."""
    seen: dict[str, str] = {}
    for role, token in specials.items():
        if token is None:
            continue
        if token not in index:
            raise DataError(f"special token {token!r} is not in tokens", field=role)
        if token in seen:
            raise DataError(f"{token!r} is already the {seen[token]} token", field=role)
        seen[token] = role


def _check_int(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"expected an int >= {minimum}, got {_got(value)}", key=name)


def _got(value: object) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def require_tokens(
    vocab: Vocabulary, *, min_freq: int, max_vocab: int | None, under: str = ""
) -> None:
    """Refuses a training vocabulary of special tokens only: every text would read as
    ``<unk>``, and a model over it has nothing to learn.

    Raises:
        ConfigError: ``min_freq``/``max_vocab`` left no ordinary token (keyed by the one to
            change: ``max_vocab`` when it is set, else ``min_freq``; below ``under``, the
            config section they are in).

    Example:
        >>> require_tokens(Vocabulary.build(["a"], max_vocab=3), min_freq=1, max_vocab=3)
        >>> try:
        ...     require_tokens(Vocabulary.build(["a"], max_vocab=2), min_freq=1, max_vocab=2)
        ... except ConfigError as err:
        ...     print(err)
        max_vocab: min_freq 1 and max_vocab 2 leave no token but <unk>, <eos>
    """
    specials = {vocab.pad, vocab.unk, vocab.eos} - {None}
    if all(token in specials for token in vocab.tokens):
        raise ConfigError(
            f"min_freq {min_freq} and max_vocab {max_vocab} leave no token but "
            f"{', '.join(vocab.tokens)}",
            key=join(under, "max_vocab" if max_vocab is not None else "min_freq"),
        )
