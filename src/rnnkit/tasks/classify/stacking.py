"""The network on top of the TF-IDF baseline: it learns what the n-gram model misses.

A stacked classifier's scores are the baseline's log-probabilities plus the network's:

    s(x) = log p_tfidf(y | x) + f_θ(x)          p(y | x) = softmax(s(x))

``f_θ``'s head starts at zero, so training starts from the baseline's predictions, and the
network only has to learn a correction: on a few hundred examples a recurrent network alone
memorises its training set and loses to the n-gram model; on top of it, what it adds is
what the n-grams cannot say (word order, negation's reach, words the training set lacks but
pretrained vectors know).

The training examples' offsets are out of fold (Wolpert's stacking): each fifth of the
training split is scored by a regression fitted on the other four fifths, with the ``C`` and
n-gram vocabularies of the baseline fitted on all of it. Scored in sample, the training texts
would look almost perfectly classified already and the network would learn nothing there.
Validation and prediction use the baseline fitted on the whole training split, the one the
run keeps (``baseline.json``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from scipy import sparse

from rnnkit.tasks.classify.baseline import TfidfBaseline, fit_vectorizers

__all__ = [
    "FOLDS",
    "LOG_FLOOR",
    "StackedStart",
    "fit_stacked_start",
    "log_offsets",
    "out_of_fold_offsets",
]

FOLDS = 5
LOG_FLOOR = float(np.log(1e-6))  # no class is ever more than 13.8 nats out of the network's reach


class StackedStart(NamedTuple):
    """The baseline fitted on the training split, and the offsets (N, C) float32 of the
    training examples (out of fold) and of the validation examples (from the baseline)."""

    baseline: TfidfBaseline
    train_offsets: np.ndarray
    valid_offsets: np.ndarray


def log_offsets(probs: np.ndarray) -> np.ndarray:
    """The offsets of class probabilities (N, C): ``max(log p, LOG_FLOOR)``, float32."""
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(probs), LOG_FLOOR).astype(np.float32)


def fit_stacked_start(
    texts: Sequence[str],
    labels: Sequence[int],
    valid_texts: Sequence[str],
    valid_labels: Sequence[int],
    num_classes: int,
    seed: int,
) -> StackedStart:
    """Fits the baseline and scores both splits for a stacked network.

    Raises:
        DataError: The texts have no n-grams to fit on.
    """
    vectorizers, x = fit_vectorizers(texts)
    baseline = TfidfBaseline.fit_features(
        vectorizers, x, labels, valid_texts, valid_labels, num_classes
    )
    train = out_of_fold_offsets(baseline, x, labels, seed)
    valid = log_offsets(baseline.predict_proba(valid_texts))
    return StackedStart(baseline, train, valid)


def out_of_fold_offsets(
    baseline: TfidfBaseline, x: sparse.csr_matrix, labels: Sequence[int], seed: int
) -> np.ndarray:
    """Each training row's offsets from a regression (the baseline's ``C``) that did not see
    it: :data:`FOLDS` stratified folds, fewer when a class has fewer examples; in sample
    (the baseline itself) when a class has a single example and no fold can hold it out.

    Shapes:
        x (N, F) TF-IDF rows of the training texts; labels (N,) -> (N, C) float32.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(labels)
    folds = min(FOLDS, int(np.unique(y, return_counts=True)[1].min()))
    if folds < 2:
        return log_offsets(baseline.proba_of_features(x))
    probs = np.zeros((len(y), baseline.num_classes))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for fitted_on, scored in splitter.split(np.zeros(len(y)), y):
        model = LogisticRegression(C=baseline.c, max_iter=2000).fit(x[fitted_on], y[fitted_on])
        probs[np.ix_(scored, model.classes_)] = model.predict_proba(x[scored])
    return log_offsets(probs)
