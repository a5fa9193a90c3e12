"""How well a tagger finds entities: entity-level precision, recall and F1, overall and per
type, as conlleval counts them (with seqeval), token accuracy, and where entities went.

An entity counts as found only when its type and both its ends are right. Tags are compared
in BIO (each scheme converts losslessly, :mod:`rnnkit.data.tags`), so IOB1, BIO and BIOES
corpora are scored the same way; an invalid predicted sequence is read as conlleval reads it.
"""

from __future__ import annotations

import collections
from collections.abc import Sequence
from typing import NamedTuple

from rnnkit.config import ConfigError
from rnnkit.data.tagged import CorpusScheme
from rnnkit.data.tags import Scheme, Span, convert, spans

__all__ = ["EntityScores", "TaggingReport", "label_report", "report", "tagging_report"]

MISSED = "(missed)"
SPURIOUS = "(none)"


class EntityScores(NamedTuple):
    """Precision, recall and F1 of entities, the true ones (support) and the predicted."""

    precision: float
    recall: float
    f1: float
    support: int
    predicted: int


class TaggingReport(NamedTuple):
    """Entity scores overall (micro-averaged) and per type, token accuracy, and a confusion
    table of entity types: ``confusion[true][predicted]`` counts true entities by what the
    prediction had over exactly their tokens (:data:`MISSED` when no predicted entity has
    their span) and ``confusion[SPURIOUS][type]`` predicted entities with no true one there.
    """

    overall: EntityScores
    per_type: dict[str, EntityScores]
    token_accuracy: float
    sentences: int
    tokens: int
    confusion: dict[str, dict[str, int]]


def report(
    true: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]], scheme: CorpusScheme
) -> TaggingReport:
    """:func:`tagging_report` for an entity scheme, :func:`label_report` for plain labels."""
    if scheme == "none":
        return label_report(true, predicted)
    return tagging_report(true, predicted, scheme)


def label_report(
    true: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]
) -> TaggingReport:
    """Scores plain per-step labels (parts of speech, activities): each step is an item;
    ``overall`` is the macro-average over labels (``support``: steps), ``per_type`` each
    label's scores, ``confusion[true][predicted]`` counts the wrong steps.

    Example:
        >>> r = label_report([["a", "a", "b"]], [["a", "b", "b"]])
        >>> r.token_accuracy, round(r.overall.f1, 3), r.confusion
        (0.6666666666666666, 0.667, {'a': {'b': 1}})
    """
    from sklearn.metrics import precision_recall_fscore_support

    _check_aligned(true, predicted)
    flat_true = [tag for tags in true for tag in tags]
    flat_pred = [tag for tags in predicted for tag in tags]
    labels = sorted({*flat_true, *flat_pred})
    ps, rs, fs, supports = precision_recall_fscore_support(
        flat_true, flat_pred, labels=labels, average=None, zero_division=0
    )
    predicted_counts = collections.Counter(flat_pred)
    per_type = {
        label: EntityScores(
            float(ps[i]), float(rs[i]), float(fs[i]), int(supports[i]), predicted_counts[label]
        )
        for i, label in enumerate(labels)
    }
    n = len(flat_true)
    overall = EntityScores(float(ps.mean()), float(rs.mean()), float(fs.mean()), n, n)
    table: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for a, b in zip(flat_true, flat_pred, strict=True):
        if a != b:
            table[a][b] += 1
    accuracy = sum(a == b for a, b in zip(flat_true, flat_pred, strict=True)) / max(n, 1)
    confusion = {label: dict(counts) for label, counts in sorted(table.items())}
    return TaggingReport(overall, per_type, accuracy, len(true), n, confusion)


def tagging_report(
    true: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]], scheme: Scheme
) -> TaggingReport:
    """Scores ``predicted`` tag sequences against ``true`` ones (both in ``scheme``).

    Raises:
        ConfigError: The two differ in the number of sentences or of tokens in one.

    Example:
        >>> true = [["I-PER", "I-PER", "O", "I-LOC"], ["I-ORG"]]
        >>> pred = [["I-PER", "I-PER", "O", "I-ORG"], ["O"]]
        >>> report = tagging_report(true, pred, "IOB1")
        >>> round(report.overall.precision, 3), round(report.overall.recall, 3)
        (0.5, 0.333)
        >>> report.confusion["LOC"], report.confusion["ORG"]
        ({'ORG': 1}, {'(missed)': 1})
    """
    from seqeval.metrics.sequence_labeling import precision_recall_fscore_support

    _check_aligned(true, predicted)
    true_bio = [convert(tags, scheme, "BIO") for tags in true]
    pred_bio = [convert(tags, scheme, "BIO") for tags in predicted]
    p, r, f, support = precision_recall_fscore_support(
        true_bio, pred_bio, average="micro", zero_division=0
    )
    true_spans = [spans(tags, "BIO") for tags in true_bio]
    pred_spans = [spans(tags, "BIO") for tags in pred_bio]
    overall = EntityScores(
        float(p), float(r), float(f), sum(map(len, true_spans)), sum(map(len, pred_spans))
    )
    types = sorted({s.type for found in (*true_spans, *pred_spans) for s in found})
    per_type = {}
    if types:
        ps, rs, fs, supports = precision_recall_fscore_support(
            true_bio, pred_bio, average=None, zero_division=0
        )
        predicted_counts = collections.Counter(s.type for found in pred_spans for s in found)
        for i, kind in enumerate(types):
            per_type[kind] = EntityScores(
                float(ps[i]), float(rs[i]), float(fs[i]), int(supports[i]), predicted_counts[kind]
            )
    pairs = [
        (a, b) for t, q in zip(true, predicted, strict=True) for a, b in zip(t, q, strict=True)
    ]
    accuracy = sum(a == b for a, b in pairs) / max(len(pairs), 1)
    confusion = _confusion(true_spans, pred_spans)
    return TaggingReport(overall, per_type, accuracy, len(true), len(pairs), confusion)


def _confusion(
    true_spans: list[list[Span]], pred_spans: list[list[Span]]
) -> dict[str, dict[str, int]]:
    table: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for truth, guess in zip(true_spans, pred_spans, strict=True):
        by_place = {(s.start, s.end): s.type for s in guess}
        for span in truth:
            table[span.type][by_place.get((span.start, span.end), MISSED)] += 1
        places = {(s.start, s.end) for s in truth}
        for span in guess:
            if (span.start, span.end) not in places:
                table[SPURIOUS][span.type] += 1
    return {kind: dict(counts) for kind, counts in sorted(table.items())}


def _check_aligned(true: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> None:
    if len(true) != len(predicted):
        raise ConfigError(
            f"expected as many predicted sentences as true ones ({len(true)}), got "
            f"{len(predicted)}",
            key="predicted",
        )
    for i, (t, q) in enumerate(zip(true, predicted, strict=True)):
        if len(t) != len(q):
            raise ConfigError(
                f"sentence {i}: expected {len(t)} predicted tags, got {len(q)}", key="predicted"
            )
