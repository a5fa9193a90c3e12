"""Tagged corpora for sequence tagging: one tag per token, in the forms people have.

- Column files (CoNLL-2003's ``word POS chunk NER``, or ``token<TAB>tag``): one token per
  line, the tag in the last column, a blank line after each sentence, ``-DOCSTART-`` lines
  skipped. Tab-separated when the first token line has a tab (tokens may then hold spaces),
  else whitespace-separated; every token line must have as many columns as the first.
- JSON Lines: ``{"tokens": [...], "tags": [...]}`` a sentence per line.

Every tag is checked against the corpus's scheme (given, or detected by
:func:`rnnkit.data.tags.detect_scheme`): a malformed line, an empty token, a tag outside the
scheme, or a tag that breaks it (``I-PER`` after ``O`` in BIO; in IOB1 every sequence reads one
way, so a ``B-`` where ``I-`` would do is accepted) is a :class:`DataError`
naming the file, the line and what was expected.

Example:
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "eng.tiny"
    >>> _ = path.write_text("-DOCSTART- -X- O O\\n\\nEU NNP I-NP I-ORG\\nrejects VBZ I-VP O\\n"
    ...                     "\\nPeter NNP I-NP I-PER\\n", encoding="utf-8")
    >>> corpus = read_tagged(path)
    >>> corpus.scheme, [s.tags for s in corpus.sentences]
    ('IOB1', [['I-ORG', 'O'], ['I-PER']])
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal, NamedTuple

from rnnkit.config import ConfigError
from rnnkit.data.errors import DataError
from rnnkit.data.readers import _check_file, _json_lines, column_blocks
from rnnkit.data.tags import OUTSIDE, Scheme, detect_scheme, invalid_at, split_tag

__all__ = ["CorpusScheme", "TaggedCorpus", "TaggedSentence", "auto_scheme", "read_tagged"]

PathLike = str | os.PathLike[str]
Format = Literal["auto", "columns", "jsonl"]
# "none": plain labels, one class per step with no entity structure (parts of speech, the
# activity of each frame); nothing is checked but that each step has one.
CorpusScheme = Scheme | Literal["none"]


class TaggedSentence(NamedTuple):
    """A sentence's tokens, their tags, and the line of each token (for error messages; the
    JSONL line repeated for a JSONL sentence)."""

    tokens: list[str]
    tags: list[str]
    lines: list[int]


class TaggedCorpus(NamedTuple):
    """The sentences of a file and the tag scheme they are written in."""

    source: Path
    sentences: list[TaggedSentence]
    scheme: CorpusScheme


def read_tagged(
    path: PathLike, *, format: Format = "auto", scheme: CorpusScheme | None = None
) -> TaggedCorpus:
    """Reads a tagged corpus and checks it against its scheme.

    Args:
        path: A column file or a ``.jsonl`` file (``.gz`` transparently).
        format: ``columns``, ``jsonl``, or ``auto`` (``.jsonl``/``.jsonl.gz`` are JSON Lines).
        scheme: ``IOB1``, ``BIO``, ``BIOES``, or ``none`` (plain labels); None detects it
            from the tags (``none`` when a tag is neither ``O`` nor ``X-TYPE`` with a scheme
            prefix X, as parts of speech are).

    Raises:
        DataError: An unreadable file, a malformed line, an empty token, a tag that is not
            the scheme's or breaks it (file, line, expected and got), or no sentence at all.
    """
    checked = _check_file(path, "a tagged corpus")
    jsonl = format == "jsonl" or (format == "auto" and ".jsonl" in checked.suffixes)
    sentences = list(_jsonl_sentences(checked) if jsonl else _column_sentences(checked))
    if not sentences:
        raise DataError("no tagged sentence in the file", file=checked)
    found = scheme or auto_scheme([s.tags for s in sentences])
    if found != "none":
        for sentence in sentences:
            _check_scheme(sentence, found, checked)
    return TaggedCorpus(checked, sentences, found)


def auto_scheme(sequences: Sequence[Sequence[str]]) -> CorpusScheme:
    """The entity scheme of tag sequences (:func:`~rnnkit.data.tags.detect_scheme`), or
    ``none`` when some tag is not an entity tag (``O``, ``B-X``, ``I-X``, ``E-X``, ``S-X``).

    Example:
        >>> auto_scheme([["B-PER", "O"]]), auto_scheme([["DT", "NN"]])
        ('BIO', 'none')
    """
    for tags in sequences:
        for tag in tags:
            if tag != OUTSIDE and (tag[:2] not in ("B-", "I-", "E-", "S-") or len(tag) < 3):
                return "none"
    return detect_scheme(sequences)


def _column_sentences(path: Path) -> Iterator[TaggedSentence]:
    layout: tuple[str | None, int, int] | None = None  # separator, columns, their first line
    for block in column_blocks(path):
        tokens, tags, lines = [], [], []
        for lineno, text in block:
            if layout is None:
                separator = "\t" if "\t" in text else None
                layout = (separator, len(text.split(separator)), lineno)
            fields = text.split(layout[0])
            _check_columns(fields, layout, path, lineno, text)
            tokens.append(fields[0].strip())
            tags.append(fields[-1].strip())
            lines.append(lineno)
        yield TaggedSentence(tokens, tags, lines)


def _check_columns(
    fields: list[str], layout: tuple[str | None, int, int], path: Path, lineno: int, text: str
) -> None:
    separator, columns, first = layout
    if len(fields) != columns or columns < 2:
        sep = "tab" if separator else "whitespace"
        raise DataError(
            f"expected {max(columns, 2)} {sep}-separated columns (as line {first}: token, "
            f"..., tag), got {len(fields)}: {text!r}",
            file=path,
            line=lineno,
        )
    if not fields[0].strip():
        raise DataError(f"empty token: {text!r}", file=path, line=lineno)


def _jsonl_sentences(path: Path) -> Iterator[TaggedSentence]:
    for lineno, record in _json_lines(path):
        tokens, tags = _record_fields(record, path, lineno)
        yield TaggedSentence(tokens, tags, [lineno] * len(tokens))


def _record_fields(record: Any, path: Path, lineno: int) -> tuple[list[str], list[str]]:
    if not isinstance(record, dict) or not {"tokens", "tags"} <= set(record):
        got = sorted(record) if isinstance(record, dict) else type(record).__name__
        raise DataError(
            f'expected {{"tokens": [...], "tags": [...]}}, got {got}', file=path, line=lineno
        )
    tokens, tags = record["tokens"], record["tags"]
    for name, values in (("tokens", tokens), ("tags", tags)):
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise DataError("expected a list of strings", file=path, line=lineno, field=name)
    if len(tokens) != len(tags) or not tokens:
        raise DataError(
            f"expected as many tags as tokens (at least one), got {len(tokens)} tokens and "
            f"{len(tags)} tags",
            file=path,
            line=lineno,
        )
    if any(not token.strip() for token in tokens):
        raise DataError("empty token", file=path, line=lineno, field="tokens")
    return tokens, tags


def _check_scheme(sentence: TaggedSentence, scheme: Scheme, path: Path) -> None:
    for tag, lineno in zip(sentence.tags, sentence.lines, strict=True):
        try:
            split_tag(tag, scheme)
        except ConfigError as err:
            raise DataError(err.message, file=path, line=lineno, field="tag") from None
    if scheme == "IOB1":
        # Every IOB1 sequence reads one way (B-X after O starts an entity, as I-X would), and
        # the CoNLL-2003 files have a few such B- tags (eng.train line 152428): accept them.
        return
    bad = invalid_at(sentence.tags, scheme)
    if bad is not None:
        lineno = sentence.lines[min(bad, len(sentence.lines) - 1)]
        raise DataError(_break_message(sentence.tags, bad, scheme), file=path, line=lineno)


def _break_message(tags: Sequence[str], bad: int, scheme: Scheme) -> str:
    if bad == len(tags):
        return f"the sentence ends inside an entity ({tags[-1]!r}) in scheme {scheme}"
    before = "the start of the sentence" if bad == 0 else repr(tags[bad - 1])
    return f"{tags[bad]!r} cannot follow {before} in scheme {scheme}"
