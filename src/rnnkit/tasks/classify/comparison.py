"""The network against its TF-IDF baseline (:mod:`rnnkit.tasks.classify.baseline`): on the
validation split after training, on the same test examples at evaluation, with McNemar's
exact test of the examples where they disagree and a one-line verdict."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.stats import binomtest

from rnnkit.tasks.classify.baseline import NAME
from rnnkit.tasks.classify.metrics import ClassificationReport, classification_report

__all__ = ["Comparison", "describe_baseline"]


def describe_baseline(
    baseline: dict[str, Any], model_accuracy: float | None, *, stacked: bool = False
) -> str:
    """The train summary's line about the baseline: its validation accuracy against the
    network's (both chosen on that split: the network's epoch, the baseline's ``C``), and
    whether the network is stacked on it."""
    line = f"baseline ({NAME}, C={baseline['c']:g}): validation accuracy "
    line += f"{baseline['valid_accuracy']:.4f}"
    if model_accuracy is not None and baseline["valid_accuracy"] > model_accuracy:
        line = f"{line}, better than this model's {model_accuracy:.4f}"
    elif model_accuracy is not None:
        line = f"{line}, against this model's {model_accuracy:.4f}"
    return f"{line} (the network is stacked on it)" if stacked else line


@dataclasses.dataclass(frozen=True)
class Comparison:
    """The network and the baseline on the same test examples.

    Attributes:
        baseline: The baseline's scores.
        model_accuracy: The network's accuracy.
        model_only: Examples the network gets right and the baseline wrong.
        baseline_only: Examples the baseline gets right and the network wrong.
        p_value: McNemar's exact test of ``model_only`` against ``baseline_only`` (two-sided:
            how often a difference at least this large comes from two equally good models).
    """

    baseline: ClassificationReport
    model_accuracy: float
    model_only: int
    baseline_only: int
    p_value: float

    @classmethod
    def of(
        cls,
        truth: Sequence[int],
        model_pred: Sequence[int],
        baseline_pred: Sequence[int],
        classes: Sequence[str],
    ) -> Comparison:
        """Scores both predictions of the same examples against ``truth``."""
        truth_a = np.asarray(truth)
        model_right = np.asarray(model_pred) == truth_a
        baseline_right = np.asarray(baseline_pred) == truth_a
        model_only = int((model_right & ~baseline_right).sum())
        baseline_only = int((baseline_right & ~model_right).sum())
        differ = model_only + baseline_only
        p = 1.0 if differ == 0 else binomtest(model_only, differ, 0.5).pvalue
        report = classification_report(list(truth), list(baseline_pred), list(classes))
        return cls(report, float(model_right.mean()), model_only, baseline_only, float(p))

    def verdict(self) -> str:
        """One line: which is better, by how much, and whether the difference is more than
        chance (McNemar, 5%)."""
        gap = 100 * (self.model_accuracy - self.baseline.accuracy)
        noise = "" if self.p_value < 0.05 else ", within chance"
        # The exact binomial tail underflows to 0 past ~1e-308 (thousands of disagreements).
        p = f"= {self.p_value:.2g}" if self.p_value > 0 else "< 1e-300"
        tail = f"(McNemar p {p}{noise})"
        if gap > 0:
            return f"the model beats the baseline by {gap:.2f} points of accuracy {tail}"
        if gap < 0:
            return (
                f"the baseline is better than this model by {-gap:.2f} points of accuracy "
                f"{tail}: use the baseline, or see docs/classification.md"
            )
        return f"the model and the baseline are equally accurate {tail}"

    def to_dict(self) -> dict[str, Any]:
        """For ``eval --json``."""
        return {
            "name": NAME,
            "accuracy": self.baseline.accuracy,
            "macro_f1": self.baseline.macro_f1,
            "model_only": self.model_only,
            "baseline_only": self.baseline_only,
            "p_value": self.p_value,
            "verdict": self.verdict(),
        }
