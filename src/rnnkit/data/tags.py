"""Tag schemes of sequence tagging: entities (typed spans of tokens) as one tag per token.

Three schemes write the same entities differently (``X`` a type, such as ``PER``):

- ``IOB1`` (CoNLL-2003's files): inside an entity ``I-X``; ``B-X`` only on the first token
  of an entity that directly follows another entity of the same type; outside ``O``.
- ``BIO`` (IOB2): every entity starts with ``B-X``, continues with ``I-X``.
- ``BIOES``: ``S-X`` a one-token entity; longer ones ``B-X``, ``I-X`` ..., ``E-X``.

Every scheme maps a sequence to its entities (:func:`spans`) and entities back to tags
(:func:`to_tags`), so a valid sequence converts losslessly between any two
(:func:`convert`). :func:`transition_allowed`, :func:`start_allowed` and :func:`end_allowed`
say which sequences are valid, one pair of neighbours at a time: the constraints a
linear-chain CRF decodes under ("no ``I-PER`` after ``O`` in BIO"). A sequence is valid
exactly when its first tag may start, its last may end, and every pair may follow each
other (tests/test_tags.py checks that against :func:`invalid_at` on every short sequence).

Example:
    >>> tags = ["I-PER", "I-PER", "O", "I-LOC", "B-LOC"]  # IOB1: two adjacent places
    >>> [(s.type, s.start, s.end) for s in spans(tags, "IOB1")]
    [('PER', 0, 2), ('LOC', 3, 4), ('LOC', 4, 5)]
    >>> convert(tags, "IOB1", "BIOES")
    ['B-PER', 'E-PER', 'O', 'S-LOC', 'S-LOC']
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal, NamedTuple

from rnnkit.config import ConfigError

__all__ = [
    "SCHEMES",
    "Scheme",
    "Span",
    "convert",
    "detect_scheme",
    "end_allowed",
    "invalid_at",
    "spans",
    "split_tag",
    "start_allowed",
    "to_tags",
    "transition_allowed",
]

Scheme = Literal["IOB1", "BIO", "BIOES"]
SCHEMES: tuple[str, ...] = ("IOB1", "BIO", "BIOES")
_PREFIXES = {"IOB1": "IB", "BIO": "IB", "BIOES": "BIES"}
OUTSIDE = "O"


class Span(NamedTuple):
    """An entity: its type and its tokens ``start .. end - 1``."""

    type: str
    start: int
    end: int


def split_tag(tag: str, scheme: Scheme) -> tuple[str, str | None]:
    """``(prefix, type)`` of a tag: ``("O", None)`` outside, else ``("B", "PER")`` and so on.

    Raises:
        ConfigError: The tag is not one of the scheme's (``I-`` in BIOES is fine, ``S-`` in
            BIO is not; a prefix needs a type).

    Example:
        >>> split_tag("B-PER", "BIO"), split_tag("O", "BIO")
        (('B', 'PER'), ('O', None))
    """
    _check_scheme(scheme)
    if tag == OUTSIDE:
        return OUTSIDE, None
    prefix, dash, kind = tag.partition("-")
    if dash and kind and len(prefix) == 1 and prefix in _PREFIXES[scheme]:
        return prefix, kind
    allowed = ", ".join(f"{p}-TYPE" for p in _PREFIXES[scheme])
    raise ConfigError(f"expected O, {allowed} in scheme {scheme}, got {tag!r}", key="tag")


def spans(tags: Sequence[str], scheme: Scheme) -> list[Span]:
    """The entities of a tag sequence, in order.

    An invalid sequence is read the way conlleval reads it: a tag whose type differs from
    the entity before it, or an ``I-``/``E-`` after ``O``, starts a new entity.

    Raises:
        ConfigError: A tag that is not one of the scheme's.
    """
    found: list[Span] = []
    kind: str | None = None  # type of the open entity
    start = 0
    for i, tag in enumerate(tags):
        prefix, tag_type = split_tag(tag, scheme)
        if kind is not None and _closes_before(prefix, tag_type, kind, scheme):
            found.append(Span(kind, start, i))
            kind = None
        if tag_type is not None and kind is None:
            kind, start = tag_type, i
        if kind is not None and prefix in ("E", "S"):
            found.append(Span(kind, start, i + 1))
            kind = None
    if kind is not None:
        found.append(Span(kind, start, len(tags)))
    return found


def _closes_before(prefix: str, tag_type: str | None, kind: str, scheme: Scheme) -> bool:
    """Whether the open entity of type ``kind`` ends before a token tagged (prefix, type)."""
    if tag_type != kind:
        return True
    if scheme == "IOB1":
        return prefix == "B"
    return prefix in ("B", "S")


def to_tags(entities: Iterable[Span], length: int, scheme: Scheme) -> list[str]:
    """The tags of ``length`` tokens holding ``entities`` (non-overlapping, in order).

    Raises:
        ConfigError: Entities overlap or fall outside the sequence.

    Example:
        >>> to_tags([Span("PER", 0, 2), Span("PER", 2, 3)], 4, "IOB1")
        ['I-PER', 'I-PER', 'B-PER', 'O']
    """
    _check_scheme(scheme)
    tags = [OUTSIDE] * length
    previous: Span | None = None
    for span in entities:
        if not 0 <= span.start < span.end <= length or (previous and span.start < previous.end):
            raise ConfigError(f"{span} overlaps another or is outside 0..{length}", key="spans")
        for i in range(span.start, span.end):
            tags[i] = f"I-{span.type}"
        touches = previous is not None and previous.end == span.start
        if scheme != "IOB1" or (touches and previous.type == span.type):  # IOB1: B rarely
            tags[span.start] = f"B-{span.type}"
        if scheme == "BIOES":
            if span.end - span.start == 1:
                tags[span.start] = f"S-{span.type}"
            else:
                tags[span.end - 1] = f"E-{span.type}"
        previous = span
    return tags


def convert(tags: Sequence[str], source: Scheme, target: Scheme) -> list[str]:
    """``tags`` written in scheme ``target``: the same entities (lossless for a valid
    sequence; an invalid one is first read as :func:`spans` reads it)."""
    return to_tags(spans(tags, source), len(tags), target)


def start_allowed(tag: str, scheme: Scheme) -> bool:
    """Whether a sequence may begin with ``tag`` (BIO and BIOES entities start with B or S;
    IOB1 reserves B for an entity right after one of its type)."""
    prefix, _ = split_tag(tag, scheme)
    return prefix in {"IOB1": ("O", "I"), "BIO": ("O", "B"), "BIOES": ("O", "B", "S")}[scheme]


def end_allowed(tag: str, scheme: Scheme) -> bool:
    """Whether a sequence may end with ``tag`` (BIOES entities end with E or S)."""
    prefix, _ = split_tag(tag, scheme)
    return scheme != "BIOES" or prefix in ("O", "E", "S")


def transition_allowed(previous: str, tag: str, scheme: Scheme) -> bool:
    """Whether ``tag`` may directly follow ``previous`` in a valid sequence.

    Example:
        >>> transition_allowed("O", "I-PER", "BIO"), transition_allowed("B-PER", "I-PER", "BIO")
        (False, True)
    """
    p, p_type = split_tag(previous, scheme)
    t, t_type = split_tag(tag, scheme)
    if scheme == "IOB1":  # B-X only right after an entity of type X
        return t != "B" or p_type == t_type
    if scheme == "BIO":  # I-X only inside an entity of type X
        return t != "I" or p_type == t_type
    inside = p in ("B", "I")  # BIOES: an open entity must go on (I, E) with its own type
    if inside:
        return t in ("I", "E") and t_type == p_type
    return t in ("O", "B", "S")


def invalid_at(tags: Sequence[str], scheme: Scheme) -> int | None:
    """The index of the first tag that breaks the scheme (``len(tags)`` when the last entity
    is left open in BIOES), or None for a valid sequence.

    Raises:
        ConfigError: A tag that is not one of the scheme's.
    """
    for i, tag in enumerate(tags):
        if i == 0 and not start_allowed(tag, scheme):
            return 0
        if i > 0 and not transition_allowed(tags[i - 1], tag, scheme):
            return i
    if tags and not end_allowed(tags[-1], scheme):
        return len(tags)
    return None


def detect_scheme(sequences: Iterable[Sequence[str]]) -> Scheme:
    """The scheme a tagged corpus is written in: BIOES if any ``S-``/``E-`` appears, else
    IOB1 if an entity starts with ``I-`` (after ``O``, another type, or at the start of a
    sentence), else BIO.

    Example:
        >>> detect_scheme([["I-ORG", "O", "I-MISC"], ["O"]])
        'IOB1'
        >>> detect_scheme([["B-ORG", "I-ORG", "O"]])
        'BIO'
    """
    iob1 = False
    for tags in sequences:
        previous = OUTSIDE
        for tag in tags:
            prefix = tag.partition("-")[0] if tag != OUTSIDE else OUTSIDE
            if prefix in ("S", "E"):
                return "BIOES"
            if prefix == "I" and (previous == OUTSIDE or previous[2:] != tag[2:]):
                iob1 = True
            previous = tag
    return "IOB1" if iob1 else "BIO"


def _check_scheme(scheme: str) -> None:
    if scheme not in _PREFIXES:
        raise ConfigError(f"expected one of {', '.join(SCHEMES)}, got {scheme!r}", key="scheme")
