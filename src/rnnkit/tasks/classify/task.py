"""A trained classifier with its preprocessing: predict and evaluate."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnnkit.config import ConfigError
from rnnkit.data import DataError, Vocabulary
from rnnkit.data.batching import batch_indices
from rnnkit.data.scaler import Scaler, as_steps
from rnnkit.models.classifier import SequenceClassifier
from rnnkit.tasks.classify import data as cdata
from rnnkit.tasks.classify.baseline import TfidfBaseline
from rnnkit.tasks.classify.batches import Encoded, collate
from rnnkit.tasks.classify.comparison import Comparison
from rnnkit.tasks.classify.config import ClassifyConfig
from rnnkit.tasks.classify.data import Examples
from rnnkit.tasks.classify.metrics import ClassificationReport, classification_report
from rnnkit.tasks.classify.stacking import log_offsets
from rnnkit.training.rundir import RunDir

__all__ = [
    "ClassifierTask",
    "Prediction",
    "accuracy_interval",
    "as_steps",
    "evaluate_against_baseline",
    "label_ids",
    "predictions",
    "score_probabilities",
]


class Prediction(dict):
    """``{"label": str, "probabilities": {class: p, ...}}`` (in the run's class order): a
    plain dict, so it is JSON as it is (the predictor interface), and readable as
    ``prediction.label`` and ``prediction.probabilities``."""

    @property
    def label(self) -> str:
        return self["label"]

    @property
    def probabilities(self) -> dict[str, float]:
        return self["probabilities"]


class ClassifierTask:
    """A trained classifier with its preprocessing: predict and evaluate.

    Use :func:`train` to make one and :func:`rnnkit.load` to get one back from a run.
    """

    def __init__(
        self,
        config: ClassifyConfig,
        classes: Sequence[str],
        model: SequenceClassifier,
        *,
        vocab: Vocabulary | None = None,
        scaler: Scaler | None = None,
        run: RunDir | None = None,
        stacked_on: TfidfBaseline | None = None,
    ) -> None:
        self.config, self.classes, self.model = config, list(classes), model.eval()
        self.vocab, self.scaler, self.run = vocab, scaler, run
        self.stacked_on = stacked_on  # the baseline whose log-probabilities the network adds to
        self.baseline_skipped: str | None = None  # why training fitted no baseline

    @property
    def inputs(self) -> str:
        return self.config.data.inputs

    @functools.cached_property
    def baseline(self) -> TfidfBaseline | None:
        """The TF-IDF baseline fitted beside the network (read from the run on first use), or
        None (numeric inputs, ``--no-baseline``, a run from before baselines, no run)."""
        return None if self.run is None else TfidfBaseline.read(self.run)

    def encode(self, inputs: Sequence[Any]) -> list[Any]:
        """Texts -> truncated token ids, or numeric (T, F) arrays -> scaled, truncated."""
        data = self.config.data
        if self.inputs == "numeric":
            assert self.scaler is not None
            return cdata.encode_numeric(
                [as_steps(x, i) for i, x in enumerate(inputs)], self.scaler, data
            )
        assert self.vocab is not None
        for i, text in enumerate(inputs):
            if not isinstance(text, str):
                raise ConfigError(f"expected a string, got {type(text).__name__}", key=f"[{i}]")
        return cdata.encode_texts(list(inputs), self.config.text, self.vocab, data)

    @torch.no_grad()
    def predict_proba(
        self, inputs: Sequence[Any], *, baseline_probs: np.ndarray | None = None
    ) -> np.ndarray:
        """Class probabilities (N, C) of each input, in the run's class order.

        ``baseline_probs``: a stacked classifier's baseline's probabilities (N, C) of the same
        inputs, when the caller has them already (scoring IMDB's test set takes a minute).
        """
        encoded = self.encode(inputs)  # checks the inputs before the baseline reads them
        offsets = None
        if self.stacked_on is not None:
            if baseline_probs is None:
                baseline_probs = self.stacked_on.predict_proba(list(inputs))
            offsets = log_offsets(baseline_probs)
        return self._probabilities(Encoded(encoded, None, offsets))

    def _probabilities(self, encoded: Encoded) -> np.ndarray:
        device = next(self.model.parameters()).device
        out = np.zeros((len(encoded.inputs), len(self.classes)), dtype=np.float32)
        groups = batch_indices(
            [len(x) for x in encoded.inputs],
            self.config.data.eval_batch_size,
            bucket=True,
            shuffle=False,
        )
        pad_id = self.vocab.pad_id if self.vocab is not None else None
        for group in groups:
            batch = collate(encoded, group, pad_id)
            offsets = None if batch.offsets is None else batch.offsets.to(device)
            logits = self.model(batch.inputs.to(device), batch.lengths, offsets)
            out[group] = torch.softmax(logits.float(), dim=-1).cpu().numpy()
        return out

    def predict(self, inputs: Sequence[Any]) -> list[Prediction]:
        """The predictor interface: the most likely label of each input (a text, or a numeric
        sequence as a list of steps, each a number or a list of features), with every class's
        probability.

        Example (``clf = rnnkit.load("runs/imdb")``)::

            >>> clf.predict(["What a wonderful film"])  # doctest: +SKIP
            [{'label': 'positive', 'probabilities': {'negative': 0.04, 'positive': 0.96}}]
        """
        return predictions(self.predict_proba(inputs), self.classes)

    @torch.no_grad()
    def evaluate(self, examples: Examples) -> tuple[ClassificationReport, float]:
        """Accuracy, macro-F1, per-class scores and confusion matrix, and the mean loss."""
        labels = label_ids(examples, self.classes)
        return score_probabilities(self.predict_proba(examples.inputs), labels, self.classes)

    @torch.no_grad()
    def evaluate_against_baseline(
        self, examples: Examples
    ) -> tuple[ClassificationReport, float, Comparison | None]:
        """:meth:`evaluate`, and the baseline scored on the same examples beside it (None
        without a baseline)."""
        return evaluate_against_baseline(self, self.baseline, examples)

    def load_examples(self, path: str | Path | None = None, *, labelled: bool = True) -> Examples:
        """Examples from ``path`` read as the run's data config says; None: its test split."""
        data = self.config.data
        if path is None:
            path = cdata.official_test_file(data)
            if path is None:
                raise ConfigError("the run's data has no test split; give --data FILE", key="data")
        # A dataset run reads any file with the dataset's columns and label names.
        return cdata.load_split(data, path, labelled=labelled)


def predictions(probs: np.ndarray, classes: Sequence[str]) -> list[Prediction]:
    """Each row of ``probs`` (N, C) as its most likely label and every class's probability."""
    return [
        Prediction(
            label=classes[int(row.argmax())],
            probabilities={name: float(p) for name, p in zip(classes, row, strict=True)},
        )
        for row in probs
    ]


def label_ids(examples: Examples, classes: Sequence[str]) -> list[int]:
    """The class ids of labelled ``examples``.

    Raises:
        DataError: No labelled examples, or a label is not one of ``classes`` (named with its
            line).
    """
    if examples.labels is None or not examples.inputs:
        raise DataError("no labelled examples to evaluate", file=examples.source)
    return cdata.encode_labels(examples.labels, list(classes), examples.source)


def score_probabilities(
    probs: np.ndarray, labels: Sequence[int], classes: Sequence[str]
) -> tuple[ClassificationReport, float]:
    """The report of predicting ``argmax`` of ``probs`` (N, C), and the mean cross-entropy
    ``-(1/N) Σ_n log p_n(y_n)``."""
    picked = probs[np.arange(len(labels)), labels]
    loss = float(-np.log(np.clip(picked, 1e-12, None)).mean())
    return classification_report(list(labels), probs.argmax(1).tolist(), list(classes)), loss


def evaluate_against_baseline(
    task: Any, baseline: TfidfBaseline | None, examples: Examples
) -> tuple[ClassificationReport, float, Comparison | None]:
    """``task``'s (a classifier or an ensemble) report and mean loss on ``examples``, and its
    comparison with ``baseline`` on the same examples (None without one)."""
    labels = label_ids(examples, task.classes)
    if baseline is None:
        probs = task.predict_proba(examples.inputs)
        return (*score_probabilities(probs, labels, task.classes), None)
    baseline_probs = baseline.predict_proba(examples.inputs)
    if getattr(task, "stacked_on", None) is baseline:
        probs = task.predict_proba(examples.inputs, baseline_probs=baseline_probs)
    else:
        probs = task.predict_proba(examples.inputs)
    report, loss = score_probabilities(probs, labels, task.classes)
    theirs = baseline_probs.argmax(1)
    return report, loss, Comparison.of(labels, probs.argmax(1), theirs, task.classes)


def accuracy_interval(accuracy: float, count: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval (95% for ``z=1.96``) of an accuracy measured on ``count`` items.

    Unlike the normal approximation it stays inside [0, 1] and is not empty at 100%.

    Example:
        >>> [round(x, 4) for x in accuracy_interval(0.9, 100)]
        [0.8256, 0.9448]
    """
    n = max(count, 1)
    centre = (accuracy + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(accuracy * (1 - accuracy) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)
