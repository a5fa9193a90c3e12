"""Classification metrics: accuracy, per-class precision/recall/F1, macro-F1, confusion matrix.

Shared by the sequence classifier and the tagger. The numbers come from
:mod:`sklearn.metrics` (imported lazily: it takes over a second to import, and most users of
``rnnkit.tasks`` never evaluate a classifier). A :class:`ClassificationReport` is a plain
frozen value that turns into JSON (:meth:`~ClassificationReport.to_dict`), a text table
(:meth:`~ClassificationReport.format`) or a PNG (:func:`plot_confusion`).

Example:
    >>> report = classification_report([0, 0, 1, 1], [0, 1, 1, 1], ["neg", "pos"])
    >>> report.accuracy, round(report.macro_f1, 4)
    (0.75, 0.7333)
    >>> report.confusion
    ((1, 1), (0, 2))
"""

from __future__ import annotations

import dataclasses
import io
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from rnnkit.atomic import atomic_write_bytes
from rnnkit.config import ConfigError
from rnnkit.tasks.common.text_table import table_lines

__all__ = ["ClassScore", "ClassificationReport", "classification_report", "plot_confusion"]

# Cells whose row-normalised shade is darker than this get white text (readable on "Blues").
_DARK_CELL = 0.5


class ClassScore(NamedTuple):
    """The scores of one class: ``precision``, ``recall`` and ``f1`` in [0, 1], ``support``
    the number of examples whose true label is this class."""

    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclasses.dataclass(frozen=True)
class ClassificationReport:
    """How well predicted class indices match the true ones.

    Attributes:
        labels: The class names; index ``i`` in ``y_true``/``y_pred`` means ``labels[i]``.
        accuracy: Fraction of examples predicted correctly.
        macro_f1: Unweighted mean F1 over the classes that occur in the true or the predicted
            labels. A class that is neither (F1 undefined) does not count, so listing extra
            labels never changes it; a class predicted but never true counts with F1 0. This
            is ``sklearn.metrics.f1_score(y_true, y_pred, average="macro")``.
        per_class: One :class:`ClassScore` per label, in ``labels`` order. Undefined precision
            or recall (no prediction of, or no example of, the class) is 0.
        confusion: ``confusion[t][p]`` = number of examples of true class ``t`` predicted as
            ``p`` (rows true, columns predicted, in ``labels`` order).
        count: Number of examples.

    Shapes:
        confusion: (C, C) with C = ``len(labels)``; per_class: (C,).
    """

    labels: tuple[str, ...]
    accuracy: float
    macro_f1: float
    per_class: tuple[ClassScore, ...]
    confusion: tuple[tuple[int, ...], ...]
    count: int

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready plain types (dicts, lists, str, float, int).

        Example:
            >>> import json
            >>> d = classification_report([0, 1], [0, 0], ["a", "b"]).to_dict()
            >>> json.dumps(d["per_class"][1])
            '{"label": "b", "precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}'
        """
        return {
            "count": self.count,
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "labels": list(self.labels),
            "per_class": [score._asdict() for score in self.per_class],
            "confusion": [list(row) for row in self.confusion],
        }

    def format(self) -> str:
        """A multi-line text table: accuracy and macro-F1, per-class scores, confusion matrix.

        Example:
            >>> print(classification_report([0, 0, 1], [0, 1, 1], ["neg", "pos"]).format())
            accuracy  0.6667  (2 of 3 correct)
            macro-F1  0.6667
            <BLANKLINE>
            label  precision  recall      f1  support
            neg       1.0000  0.5000  0.6667        2
            pos       0.5000  1.0000  0.6667        1
            <BLANKLINE>
            confusion matrix (rows: true, columns: predicted)
            true \\ predicted  neg  pos
            neg                 1    1
            pos                 0    1
        """
        correct = sum(row[i] for i, row in enumerate(self.confusion))
        lines = [
            f"accuracy  {self.accuracy:.4f}  ({correct} of {self.count} correct)",
            f"macro-F1  {self.macro_f1:.4f}",
            "",
        ]
        scores = [
            [s.label, f"{s.precision:.4f}", f"{s.recall:.4f}", f"{s.f1:.4f}", str(s.support)]
            for s in self.per_class
        ]
        lines += table_lines(["label", "precision", "recall", "f1", "support"], scores)
        lines += ["", "confusion matrix (rows: true, columns: predicted)"]
        counts = [
            [label, *map(str, row)] for label, row in zip(self.labels, self.confusion, strict=True)
        ]
        lines += table_lines(["true \\ predicted", *self.labels], counts)
        return "\n".join(lines)


def classification_report(
    y_true: Sequence[int], y_pred: Sequence[int], labels: Sequence[str]
) -> ClassificationReport:
    """Scores predicted class indices against the true ones.

    Every label gets a row, including classes that never occur (support 0, precision and
    recall 0, no warning).

    Args:
        y_true: True class indices into ``labels`` (a list, NumPy array or CPU tensor).
        y_pred: Predicted class indices, same length as ``y_true``.
        labels: The class names, at least one, all distinct.

    Returns:
        The :class:`ClassificationReport`.

    Raises:
        ConfigError: Empty or differently long ``y_true``/``y_pred``, a non-integer or
            out-of-range index, or bad ``labels``; the message names the argument.

    Shapes:
        y_true: (N,); y_pred: (N,); the report's confusion: (C, C) with C = ``len(labels)``.

    Example:
        >>> r = classification_report([0, 0, 1, 2], [0, 1, 1, 2], ["cat", "dog", "bird"])
        >>> r.accuracy, [round(s.f1, 4) for s in r.per_class]
        (0.75, [0.6667, 0.6667, 1.0])
        >>> classification_report([0, 3], [0, 1], ["cat", "dog", "bird"])
        Traceback (most recent call last):
            ...
        rnnkit.config.ConfigError: y_true[1]: expected a class index in [0, 3), got 3
    """
    names = _check_labels(labels)
    true = _check_indices("y_true", y_true, len(names))
    pred = _check_indices("y_pred", y_pred, len(names))
    if len(true) != len(pred):
        raise ConfigError(
            f"expected the same length as y_true ({len(true)}), got {len(pred)}", key="y_pred"
        )
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    classes = list(range(len(names)))
    precision, recall, f1, support = precision_recall_fscore_support(
        true, pred, labels=classes, average=None, zero_division=0
    )
    with warnings.catch_warnings():
        # sklearn warns about any 1x1 matrix, even one asked for with `labels`: here a single
        # label is the caller's whole label set, so the shape is right.
        warnings.filterwarnings("ignore", "A single label was found", UserWarning)
        confusion = confusion_matrix(true, pred, labels=classes)  # (C, C)
    # Classes absent from both y_true and y_pred have no defined F1: leave them out of the mean.
    seen = (confusion.sum(axis=0) + confusion.sum(axis=1)) > 0  # (C,)
    per_class = tuple(
        ClassScore(name, float(p), float(r), float(f), int(s))
        for name, p, r, f, s in zip(names, precision, recall, f1, support, strict=True)
    )
    return ClassificationReport(
        labels=names,
        accuracy=float(accuracy_score(true, pred)),
        macro_f1=float(f1[seen].mean()),
        per_class=per_class,
        confusion=tuple(tuple(int(c) for c in row) for row in confusion),
        count=len(true),
    )


def plot_confusion(report: ClassificationReport, path: str | os.PathLike[str]) -> Path:
    """Draws the confusion matrix of ``report`` as a PNG.

    Each cell shows its count; its shade is the count divided by its row total (the fraction
    of that true class predicted as each class), so rare classes are as visible as common
    ones. Drawn on a bare :class:`matplotlib.figure.Figure` (no pyplot, rendered by Agg), as
    :mod:`rnnkit.training.plots` does, and written atomically: a crash never leaves a
    half-written file.

    Args:
        report: The report to draw.
        path: The PNG file to create or replace. Its directory must exist.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Shapes:
        report.confusion: (C, C), drawn with true classes down and predicted across.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> report = classification_report([0, 1, 1], [0, 1, 0], ["a", "b"])
        >>> with tempfile.TemporaryDirectory() as d:
        ...     plot_confusion(report, Path(d) / "confusion.png").read_bytes()[:4]
        b'\\x89PNG'
    """
    if not isinstance(report, ClassificationReport):
        raise TypeError(f"report: expected a ClassificationReport, got {type(report).__name__}")
    # Imported here: matplotlib takes a noticeable fraction of a second to import.
    from matplotlib.figure import Figure

    counts = np.array(report.confusion, dtype=np.int64)  # (C, C)
    totals = counts.sum(axis=1, keepdims=True)  # (C, 1)
    shares = counts / np.maximum(totals, 1)  # (C, C); a class with no examples stays 0
    n = len(report.labels)
    side = min(3.0 + 0.6 * n, 20.0)  # inches: grows with the classes, within reason
    font = max(5.0, min(10.0, 140.0 / max(n, 1)))
    figure = Figure(figsize=(side + 1.5, side), layout="constrained")
    axes = figure.add_subplot()
    image = axes.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    figure.colorbar(image, ax=axes, label="fraction of the true class")
    for t in range(n):
        for p in range(n):
            color = "white" if shares[t, p] > _DARK_CELL else "black"
            axes.text(p, t, str(counts[t, p]), ha="center", va="center", color=color, size=font)
    ticks = list(range(n))
    slanted = n > 4 or max(map(len, report.labels)) > 6  # many or long names would overlap
    axes.set_xticks(
        ticks,
        report.labels,
        rotation=45 if slanted else 0,
        ha="right" if slanted else "center",
        rotation_mode="anchor",
    )
    axes.set_yticks(ticks, report.labels)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(
        f"accuracy {report.accuracy:.2%}, macro-F1 {report.macro_f1:.3f} (n={report.count})"
    )
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return atomic_write_bytes(path, buffer.getvalue())


# ---------------------------------------------------------------------------------------------
# Internals
# ---------------------------------------------------------------------------------------------


def _check_labels(labels: Sequence[str]) -> tuple[str, ...]:
    if isinstance(labels, str) or not isinstance(labels, Sequence):
        raise ConfigError(f"expected a sequence of str, got {type(labels).__name__}", key="labels")
    names = tuple(labels)
    if not names:
        raise ConfigError("expected at least 1 label, got none", key="labels")
    for i, name in enumerate(names):
        if not isinstance(name, str):
            raise ConfigError(
                f"expected str, got {name!r} ({type(name).__name__})", key=f"labels[{i}]"
            )
    if len(set(names)) != len(names):
        twice = next(name for i, name in enumerate(names) if name in names[:i])
        raise ConfigError(f"expected distinct labels, got {twice!r} more than once", key="labels")
    return names


def _check_indices(name: str, values: Sequence[int], num_classes: int) -> np.ndarray:
    """``values`` as a 1-D int64 array, checked to be non-empty indices in [0, num_classes)."""
    array = np.asarray(values)
    if array.ndim != 1:
        raise ConfigError(
            f"expected a 1-D sequence of class indices, got shape {array.shape}", key=name
        )
    if array.size == 0:
        raise ConfigError("expected at least 1 class index, got none", key=name)
    if array.dtype.kind not in "iu":  # bools and floats are mistakes, not class indices
        raise ConfigError(f"expected integer class indices, got dtype {array.dtype}", key=name)
    bad = np.flatnonzero((array < 0) | (array >= num_classes))
    if bad.size:
        i = int(bad[0])
        raise ConfigError(
            f"expected a class index in [0, {num_classes}), got {array[i]}", key=f"{name}[{i}]"
        )
    return array.astype(np.int64, copy=False)
