"""Raw text -> tokens with their character offsets, cut the way CoNLL-2003's text was cut.

Each token keeps ``start`` and ``end`` such that ``text[start:end]`` is the token exactly,
so an entity found over tokens i..j is the slice ``text[tokens[i].start:tokens[j].end]``,
whatever spaces, punctuation or non-ASCII letters the input had. The rules, in order:

- abbreviations of single letters with dots (``U.S.``, ``U.N.``);
- numbers with inner separators (``1,000``, ``3.5``, ``1996-08-22``, ``10:30``);
- words, with inner hyphens, dots of initials or apostrophes that are not a clitic
  (``Sao-Paulo``, ``O'Neill``); ``'s``, ``'S`` and ``n't`` are tokens of their own, as in
  the Reuters text CoNLL-2003 was cut from (``Germany 's``);
- any other character that is not a space, alone (punctuation, symbols).
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["Token", "tokenize"]

_TOKEN = re.compile(
    r"""
    (?:[^\W\d_]\.){2,}                    # U.S.  U.N.
    | \d+(?:[.,:/-]\d+)*                  # 1,000  3.5  1996-08-22
    | (?:[^\W\d_]|\d)+?(?=n't\b)          # do|n't: the stem of a negation
    | n't\b
    | '[sS]\b                             # 's  'S
    | \w+(?:[-'’]\w+)*(?<!'s)(?<!'S)      # words, Sao-Paulo, O'Neill
    | \S                                  # punctuation, symbols
    """,
    re.VERBOSE,
)


class Token(NamedTuple):
    """A token and where it is: ``text[start:end] == token.text``."""

    text: str
    start: int
    end: int


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text`` with their offsets.

    Example:
        >>> [t.text for t in tokenize("Angela Merkel met Emmanuel Macron's team in Paris.")]
        ['Angela', 'Merkel', 'met', 'Emmanuel', 'Macron', "'s", 'team', 'in', 'Paris', '.']
        >>> [t.text for t in tokenize("The U.S. didn't pay $1,000.50 on 1996-08-22!")]
        ['The', 'U.S.', 'did', "n't", 'pay', '$', '1,000.50', 'on', '1996-08-22', '!']
    """
    return [Token(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]
