"""Text as a language model's tokens: characters, words or subword pieces, and back."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Literal

from rnnkit.config import ConfigError
from rnnkit.data.corpus import tokenize
from rnnkit.data.subword import SubwordTokenizer

__all__ = [
    "EOS",
    "UNK",
    "Level",
    "check_tokenizer",
    "line_end",
    "open_line",
    "reverse_lines",
    "text_tokens",
    "word_text",
]

Level = Literal["char", "word", "subword"]
EOS = "<eos>"
UNK = "<unk>"


def text_tokens(
    text: str, level: Level, tokenizer: SubwordTokenizer | None = None, *, reverse: bool = False
) -> list[str]:
    """The tokens of ``text`` at ``level``: characters, words or subword pieces.

    Word and subword lines end with ``<eos>``. The subword level needs the run's
    ``tokenizer``; the others take none. ``reverse`` turns each line's tokens around (the
    order a backward model reads them; see :func:`reverse_lines`).

    Raises:
        ConfigError: ``tokenizer`` is missing for the subword level or given for another.

    Example:
        >>> text_tokens("to be\\n", "word")
        ['to', 'be', '<eos>']
        >>> text_tokens("to be\\n", "word", reverse=True)
        ['be', 'to', '<eos>']
    """
    check_tokenizer(level, tokenizer)
    tokens = tokenizer.pieces(text) if tokenizer is not None else tokenize(text, level, eos=EOS)
    return reverse_lines(tokens, line_end(level)) if reverse else tokens


def line_end(level: Level) -> str:
    return "\n" if level == "char" else EOS


def reverse_lines(tokens: Sequence[str], end: str) -> list[str]:
    """Each line's tokens in reverse order; every ``end`` token stays where it was.

    A backward model reads each line from its last token to its first, then the line's end
    (so ``end`` still means "a line begins here" for what follows it).

    Example:
        >>> reverse_lines(["a", "b", "<eos>", "c", "d", "<eos>", "e"], "<eos>")
        ['b', 'a', '<eos>', 'd', 'c', '<eos>', 'e']
    """
    result: list[str] = []
    line: list[str] = []
    for token in tokens:
        if token == end:
            result.extend(reversed(line))
            result.append(end)
            line = []
        else:
            line.append(token)
    result.extend(reversed(line))
    return result


def check_tokenizer(level: Level, tokenizer: SubwordTokenizer | None) -> None:
    if (level == "subword") != (tokenizer is not None):
        need = "needs a" if tokenizer is None else "takes no"
        raise ConfigError(f"level {level!r} {need} subword tokenizer", key="tokenizer")


def open_line(tokens: list[str]) -> list[str]:
    """The tokens after the last ``<eos>``: the line generated text continues."""
    ends = [i for i, token in enumerate(tokens) if token == EOS]
    return tokens[ends[-1] + 1 :] if ends else tokens


def word_text(tokens: Iterable[str], *, first: bool) -> Iterator[str]:
    """Words with a space before each but a line's first; ``<eos>`` as a newline."""
    for token in tokens:
        if token == EOS:
            first = True
            yield "\n"
        else:
            yield token if first else " " + token
            first = False
