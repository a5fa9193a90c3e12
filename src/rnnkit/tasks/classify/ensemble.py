"""Several trained classifiers voting with their probabilities.

An ensemble of K classifiers of the same classes predicts

    p(c | x) = (1/K) Σ_k p_k(c | x),

each member reading the input with its own preprocessing and vocabulary, so members may
differ in anything but their classes: a forward and a bidirectional classifier started from
language models, a model trained from scratch, several seeds. Averaging probabilities (not
votes) lets a confident member outweigh an unsure one; ULMFiT's reported IMDB figure averages
a forward and a backward classifier this way (Howard & Ruder 2018).

``rnnkit classify eval RUN RUN ...`` evaluates one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from rnnkit.config import ConfigError
from rnnkit.tasks.classify.comparison import Comparison
from rnnkit.tasks.classify.data import Examples
from rnnkit.tasks.classify.metrics import ClassificationReport
from rnnkit.tasks.classify.task import (
    ClassifierTask,
    Prediction,
    evaluate_against_baseline,
    label_ids,
    predictions,
    score_probabilities,
)

__all__ = ["ClassifierEnsemble"]


class ClassifierEnsemble:
    """Classifiers of the same classes whose probabilities are averaged.

    Args:
        members: Trained classifiers (``rnnkit.load(run)`` of classification runs).

    Raises:
        ConfigError: No members, or members whose classes (names or order) or input kinds
            differ (the message names the runs).

    Example (runs from ``rnnkit classify train``)::

        >>> members = [rnnkit.load("runs/a"), rnnkit.load("runs/b")]  # doctest: +SKIP
        >>> ClassifierEnsemble(members).predict(["What a wonderful film"])  # doctest: +SKIP
    """

    def __init__(self, members: Sequence[ClassifierTask]) -> None:
        if not members:
            raise ConfigError("an ensemble needs at least one classifier", key="runs")
        first = members[0]
        for member in members[1:]:
            if member.classes != first.classes or member.inputs != first.inputs:
                raise ConfigError(
                    f"{_name(member)} has {member.inputs} inputs and classes {member.classes}, "
                    f"{_name(first)} {first.inputs} inputs and {first.classes}: an ensemble's "
                    "members must share both",
                    key="runs",
                )
        self.members = list(members)
        self.classes = list(first.classes)

    def predict_proba(self, inputs: Sequence[Any]) -> np.ndarray:
        """The members' mean class probabilities (N, C), in the classes' order."""
        return np.mean([member.predict_proba(inputs) for member in self.members], axis=0)

    def predict(self, inputs: Sequence[Any]) -> list[Prediction]:
        """The most likely label of each input under the mean probabilities."""
        return predictions(self.predict_proba(inputs), self.classes)

    def evaluate(self, examples: Examples) -> tuple[ClassificationReport, float]:
        """Accuracy, macro-F1, per-class scores and confusion matrix of the mean
        probabilities, and their mean cross-entropy."""
        labels = label_ids(examples, self.classes)
        return score_probabilities(self.predict_proba(examples.inputs), labels, self.classes)

    def evaluate_against_baseline(
        self, examples: Examples
    ) -> tuple[ClassificationReport, float, Comparison | None]:
        """:meth:`evaluate`, and the first member's baseline on the same examples."""
        return evaluate_against_baseline(self, self.members[0].baseline, examples)

    def load_examples(self, path: Any = None, *, labelled: bool = True) -> Examples:
        """Examples read as the first member's data config says (None: its test split)."""
        return self.members[0].load_examples(path, labelled=labelled)


def _name(member: ClassifierTask) -> str:
    return str(member.run.path) if member.run is not None else "a classifier"
