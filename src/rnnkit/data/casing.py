"""The casing of a word as a small feature, for models whose word vectors are lower-cased
(GloVe 6B): "Apple" and "apple" then look the same to the embedding but not to the model
(Huang et al. 2015; Reimers & Gurevych 2017 compare such features for NER)."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["CASINGS", "casing_id", "casing_ids"]

# Id 0 is padding, so a padded batch's casing row is zero where its tokens are.
CASINGS: tuple[str, ...] = (
    "<pad>",
    "lower",  # apple
    "title",  # Apple
    "upper",  # APPLE
    "mixed",  # iPhone, McDonald
    "number",  # 1996, 3.5, 1,000, 1996-08-22
    "has_digit",  # A380, 3rd
    "other",  # punctuation and symbols: . , ( -
)


def casing_id(token: str) -> int:
    """The :data:`CASINGS` id of ``token``.

    Example:
        >>> [CASINGS[casing_id(t)] for t in ["the", "EU", "Peter", "iPhone", "1,000", "A380", "."]]
        ['lower', 'upper', 'title', 'mixed', 'number', 'has_digit', 'other']
    """
    digits = sum(c.isdigit() for c in token)
    if digits and all(c.isdigit() or c in ".,-/" for c in token):
        return CASINGS.index("number")
    if digits:
        return CASINGS.index("has_digit")
    letters = [c for c in token if c.isalpha()]
    if not letters:
        return CASINGS.index("other")
    if all(c.islower() for c in letters):
        return CASINGS.index("lower")
    if all(c.isupper() for c in letters):
        return CASINGS.index("upper")
    if letters[0].isupper() and all(c.islower() for c in letters[1:]):
        return CASINGS.index("title")
    return CASINGS.index("mixed")


def casing_ids(tokens: Sequence[str]) -> list[int]:
    """:func:`casing_id` of each token."""
    return [casing_id(token) for token in tokens]
