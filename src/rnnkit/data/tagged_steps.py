"""Numeric sequences with one label per step, for per-step labelling (the activity of each
frame of a sensor trace, the class of each base of a read).

JSON Lines, a sequence per line: ``{"sequence": [[f1, f2, ...], ...], "tags": [...]}``; a step
may be a single number (one feature). Every step of every sequence must have the same number
of features, and each sequence as many tags as steps.

Example:
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "trace.jsonl"
    >>> _ = path.write_text('{"sequence": [0.1, 0.9, 0.8], "tags": ["rest", "walk", "walk"]}\\n')
    >>> corpus = read_tagged_steps(path)
    >>> corpus.sequences[0].shape, corpus.tags
    ((3, 1), [['rest', 'walk', 'walk']])
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from rnnkit.data.errors import DataError
from rnnkit.data.readers import _check_file, _json_lines

__all__ = ["TaggedSteps", "read_tagged_steps"]


class TaggedSteps(NamedTuple):
    """The sequences of a file as (T, F) float32 arrays, and their per-step labels."""

    source: Path
    sequences: list[np.ndarray]
    tags: list[list[str]]


def read_tagged_steps(
    path: str | os.PathLike[str], *, key: str = "sequence", labelled: bool = True
) -> TaggedSteps:
    """Reads ``{key: steps, "tags": labels}`` records, one per line (without ``labelled``,
    ``tags`` may be left out and ``tags`` comes back empty).

    Raises:
        DataError: An unreadable file, invalid JSON, a missing key, a non-numeric or
            non-finite value, ragged features, a tag count that differs from the step count,
            or no sequence at all (file, line and what was expected).
    """
    checked = _check_file(path, "a JSON Lines file of tagged sequences")
    sequences, tags = [], []
    features: tuple[int, int] | None = None  # the first sequence's feature count, its line
    for lineno, record in _json_lines(checked):
        steps, labels = _fields(record, key, checked, lineno, labelled)
        if features is None:
            features = (steps.shape[1], lineno)
        elif steps.shape[1] != features[0]:
            raise DataError(
                f"expected {features[0]} features per step (as line {features[1]}), got "
                f"{steps.shape[1]}",
                file=checked,
                line=lineno,
                field=key,
            )
        sequences.append(steps)
        if labelled:
            tags.append(labels)
    if not sequences:
        raise DataError("no tagged sequence in the file", file=checked)
    return TaggedSteps(checked, sequences, tags)


def _fields(
    record: Any, key: str, path: Path, lineno: int, labelled: bool
) -> tuple[np.ndarray, list[str]]:
    needed = {key, "tags"} if labelled else {key}
    if not isinstance(record, dict) or not needed <= set(record):
        got = sorted(record) if isinstance(record, dict) else type(record).__name__
        want = f'{{"{key}": [...], "tags": [...]}}' if labelled else f'{{"{key}": [...]}}'
        raise DataError(f"expected {want}, got {got}", file=path, line=lineno)
    labels = record.get("tags", [])
    if not isinstance(labels, list) or not all(isinstance(t, str) and t for t in labels):
        raise DataError(
            "expected a list of non-empty strings", file=path, line=lineno, field="tags"
        )
    try:
        steps = np.asarray(record[key], dtype=np.float32)
    except (TypeError, ValueError):
        raise DataError(
            "expected a list of steps, each a number or a list of numbers of one length",
            file=path,
            line=lineno,
            field=key,
        ) from None
    if steps.ndim == 1:
        steps = steps[:, None]
    if steps.ndim != 2 or len(steps) == 0 or steps.shape[1] == 0:
        raise DataError(
            f"expected (steps, features) numbers with at least one step, got shape {steps.shape}",
            file=path,
            line=lineno,
            field=key,
        )
    if not np.isfinite(steps).all():
        raise DataError("non-finite value (NaN or infinity)", file=path, line=lineno, field=key)
    if labelled and len(labels) != len(steps):
        raise DataError(
            f"expected one tag per step ({len(steps)}), got {len(labels)}",
            file=path,
            line=lineno,
            field="tags",
        )
    return steps, labels
