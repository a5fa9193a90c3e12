"""Text as one compact stream of token ids: what a language model trains and is scored on.

A Python list of tokens costs 8 bytes per token for the pointer alone, plus an object per
word; a corpus of 50 MB held that way needs gigabytes. Here the ids go straight into the
narrowest integer type that holds the vocabulary (1 byte per token up to 256 tokens, the
usual character vocabulary; 2 up to 32,768; else 4), and the text is read in pieces, so
encoding needs little more than the text and its ids. The model gets ``int64`` windows
(:class:`~rnnkit.tasks.lm.batches.LMBatch` ``.long()``), one window at a time.
"""

from __future__ import annotations

import numpy as np
import torch

from rnnkit.data.errors import DataError
from rnnkit.data.subword import SubwordTokenizer
from rnnkit.data.vocab import Vocabulary
from rnnkit.tasks.lm.tokens import Level, text_tokens

__all__ = ["id_dtype", "reverse_char_lines", "stream_ids"]

_CHARS_PER_PIECE = 1 << 20  # characters encoded at once: bounds the temporary arrays
_LINES_PER_PIECE = 10_000  # lines tokenised at once (word and subword levels)


def stream_ids(
    text: str,
    level: Level,
    vocab: Vocabulary,
    tokenizer: SubwordTokenizer | None = None,
    *,
    reverse: bool = False,
) -> torch.Tensor:
    """The ids of ``text``'s tokens, in the order the model reads them: equal to
    ``vocab.encode(text_tokens(text, level, tokenizer, reverse=reverse))``.

    Shapes:
        returns (N,), dtype :func:`id_dtype` of ``len(vocab)``.

    Raises:
        DataError: A token is outside a vocabulary that has no unk (names it and its
            position).

    Example:
        >>> vocab = Vocabulary(["<unk>", "\\n", "a", "b"], eos=None)
        >>> stream_ids("ab\\nba", "char", vocab).tolist()
        [2, 3, 1, 3, 2]
        >>> stream_ids("ab\\nbc", "char", vocab, reverse=True).tolist()
        [3, 2, 1, 0, 3]
    """
    if level == "char":
        return torch.from_numpy(_char_ids(reverse_char_lines(text) if reverse else text, vocab))
    dtype = id_dtype(len(vocab))
    lines = text.splitlines()
    pieces = [np.zeros(0, dtype=dtype)]
    for start in range(0, len(lines), _LINES_PER_PIECE):
        # Each piece ends with a whole line, so its tokens (reversed or not) are the same as
        # that stretch of the whole text's.
        block = "\n".join(lines[start : start + _LINES_PER_PIECE])
        tokens = text_tokens(block, level, tokenizer, reverse=reverse)
        pieces.append(np.asarray(vocab.encode(tokens), dtype=dtype))
    return torch.from_numpy(np.concatenate(pieces))


def id_dtype(vocab_size: int) -> np.dtype:
    """The narrowest integer type torch and numpy share that holds ids below ``vocab_size``.

    Example:
        >>> [str(id_dtype(n)) for n in (256, 257, 32769)]
        ['uint8', 'int16', 'int32']
    """
    if vocab_size <= 1 << 8:
        return np.dtype(np.uint8)
    if vocab_size <= 1 << 15:
        return np.dtype(np.int16)
    return np.dtype(np.int32)


def reverse_char_lines(text: str) -> str:
    """Each line's characters in reverse order, every newline where it was (the order a
    backward character model reads them; :func:`~rnnkit.tasks.lm.tokens.reverse_lines` on
    characters).

    Example:
        >>> reverse_char_lines("abc\\nde\\n")
        'cba\\ned\\n'
    """
    return "\n".join(line[::-1] for line in text.split("\n"))


def _char_ids(text: str, vocab: Vocabulary) -> np.ndarray:
    """Each character's id through a table indexed by code point, a piece at a time."""
    table = _code_point_table(text, vocab)
    ids = np.empty(len(text), dtype=id_dtype(len(vocab)))
    for start in range(0, len(text), _CHARS_PER_PIECE):
        piece = text[start : start + _CHARS_PER_PIECE]
        # surrogatepass: a lone surrogate (possible in a str, never in UTF-8 input) is still
        # one code point, as it is one token in vocab.encode.
        codes = np.frombuffer(piece.encode("utf-32-le", "surrogatepass"), dtype="<u4")
        found = table[codes]
        if vocab.unk is None and (missing := np.flatnonzero(found < 0)).size:
            position = start + int(missing[0])
            raise DataError(
                f"token {text[position]!r} at position {position} is not in the "
                "vocabulary, which has no unk token"
            )
        ids[start : start + len(piece)] = found
    return ids


def _code_point_table(text: str, vocab: Vocabulary) -> np.ndarray:
    """``table[ord(c)]`` = the id of character ``c``: its own, else unk's, else -1."""
    singles = {token: i for i, token in enumerate(vocab.tokens) if len(token) == 1}
    top = max([ord(max(text)) if text else 0, *(ord(c) for c in singles)])
    table = np.full(top + 1, -1 if vocab.unk is None else vocab.unk_id, dtype=np.int32)
    for char, index in singles.items():
        table[ord(char)] = index
    return table
