"""The classifier a practitioner would fit in a minute, beside every text classifier run: TF-IDF
word and character n-grams and a logistic regression (scikit-learn).

    x = [tfidf_words(text) ; tfidf_chars(text)]       word 1-2-grams, character 2-5-grams
    p(y | x) = softmax(W x + b)                         (sigmoid of one score for two classes)

Each vectorizer lower-cases, keeps n-grams seen in at least two training texts (the 100,000
most frequent of each kind) and scales term counts sublinearly (``1 + log tf``) before the
inverse document frequency: the usual strong settings for short and long texts alike. The
regularisation ``C`` is the one of :data:`C_GRID` with the best validation accuracy, the same
validation split the network's epoch was chosen on; the regression is fitted on the training
split alone, as the network was.

A run keeps it as ``baseline.json`` (settings, the n-gram vocabularies, the chosen ``C``,
validation accuracy) and ``baseline.safetensors`` (inverse document frequencies, weights), so
``classify eval`` scores it on exactly the examples it scores the network on, without
refitting. Prediction is ``W x + b`` on the stored arrays; scikit-learn only cuts the n-grams.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from safetensors.numpy import load as load_arrays
from safetensors.numpy import save as save_arrays
from scipy import sparse

from rnnkit.config import ConfigError
from rnnkit.data import DataError
from rnnkit.training.rundir import RunDir

if TYPE_CHECKING:
    from sklearn.feature_extraction.text import TfidfVectorizer

__all__ = ["C_GRID", "NAME", "TfidfBaseline", "features", "fit_vectorizers"]

NAME = "TF-IDF word and character n-grams + logistic regression"
C_GRID = (1.0, 10.0, 100.0)
MAX_FEATURES = 100_000
_KINDS = {
    "words": {"analyzer": "word", "ngram_range": (1, 2)},
    "chars": {"analyzer": "char_wb", "ngram_range": (2, 5)},
}
_FILE = "baseline"


def _vectorizer(
    kind: str, vocabulary: Sequence[str] | None = None, min_df: int = 2
) -> TfidfVectorizer:
    from sklearn.feature_extraction.text import TfidfVectorizer  # slow to import; rarely used

    settings = {"lowercase": True, "sublinear_tf": True, "dtype": np.float32, **_KINDS[kind]}
    if vocabulary is not None:
        return TfidfVectorizer(**settings, vocabulary={t: i for i, t in enumerate(vocabulary)})
    return TfidfVectorizer(**settings, min_df=min_df, max_features=MAX_FEATURES)


def fit_vectorizers(
    texts: Sequence[str],
) -> tuple[dict[str, TfidfVectorizer], sparse.csr_matrix]:
    """The vectorizers fitted on ``texts``, and ``texts``' rows (as :func:`features`, in one
    pass: cutting IMDB's reviews into n-grams takes a minute): n-grams seen twice, or once
    when no n-gram of a kind is seen twice (a handful of texts); a kind with no n-gram at all
    (texts of single characters have no words of two) is left out.

    Raises:
        DataError: The texts have no n-gram of either kind.
    """
    fitted, parts = {}, []
    for kind in _KINDS:
        for min_df in (2, 1):
            vectorizer = _vectorizer(kind, min_df=min_df)
            try:
                parts.append(vectorizer.fit_transform(texts))
            except ValueError:  # scikit-learn: "empty vocabulary" / "no terms remain"
                continue
            fitted[kind] = vectorizer
            break
    if not fitted:
        raise DataError("the training texts have no word or character n-grams to fit on")
    return fitted, sparse.hstack(parts, format="csr")


@dataclasses.dataclass
class TfidfBaseline:
    """A fitted TF-IDF logistic regression over ``num_classes`` classes (ids ``0 .. C-1``).

    Attributes:
        vectorizers: ``words`` and ``chars``, scikit-learn ``TfidfVectorizer`` objects.
        weight: (C, F) float32, or (1, F) for two classes (the score of class 1).
        bias: (C,) or (1,).
        classes: Class ids the regression saw, in its column order (a class missing from the
            training split gets probability 0).
        num_classes: ``C``.
        c: The chosen inverse regularisation strength.
        valid_accuracy: Accuracy on the validation split at ``c``.
    """

    vectorizers: dict[str, TfidfVectorizer]
    weight: np.ndarray
    bias: np.ndarray
    classes: list[int]
    num_classes: int
    c: float
    valid_accuracy: float

    @classmethod
    def fit(
        cls,
        texts: Sequence[str],
        labels: Sequence[int],
        valid_texts: Sequence[str],
        valid_labels: Sequence[int],
        num_classes: int,
    ) -> TfidfBaseline:
        """Fits the vectorizers and one regression per ``C`` on the training texts; keeps the
        one with the best validation accuracy (the smallest ``C`` among ties)."""
        vectorizers, x = fit_vectorizers(texts)
        return cls.fit_features(vectorizers, x, labels, valid_texts, valid_labels, num_classes)

    @classmethod
    def fit_features(
        cls,
        vectorizers: dict[str, TfidfVectorizer],
        x: sparse.csr_matrix,
        labels: Sequence[int],
        valid_texts: Sequence[str],
        valid_labels: Sequence[int],
        num_classes: int,
    ) -> TfidfBaseline:
        """:meth:`fit` on the training texts' rows ``x`` (N, F), already cut by ``vectorizers``
        (:func:`fit_vectorizers`)."""
        from sklearn.linear_model import LogisticRegression

        x_valid = features(vectorizers, valid_texts)
        best: tuple[float, Any] | None = None
        for c in C_GRID:
            model = LogisticRegression(C=c, max_iter=2000).fit(x, labels)
            accuracy = float((model.predict(x_valid) == np.asarray(valid_labels)).mean())
            if best is None or accuracy > best[0]:
                best = accuracy, model
        assert best is not None
        accuracy, model = best
        return cls(
            vectorizers,
            model.coef_.astype(np.float32),
            model.intercept_.astype(np.float32),
            [int(c) for c in model.classes_],
            num_classes,
            float(model.C),
            accuracy,
        )

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities (N, C), columns in class-id order."""
        return self.proba_of_features(features(self.vectorizers, texts))

    def proba_of_features(self, x: sparse.csr_matrix) -> np.ndarray:
        """:meth:`predict_proba` of TF-IDF rows ``x`` (N, F) cut by :attr:`vectorizers`."""
        scores = x @ self.weight.T + self.bias
        if self.weight.shape[0] == 1:  # two classes: one score, for the second
            seen = 1.0 / (1.0 + np.exp(-scores))
            seen = np.concatenate([1.0 - seen, seen], axis=1)
        else:
            shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
            seen = shifted / shifted.sum(axis=1, keepdims=True)
        probs = np.zeros((x.shape[0], self.num_classes))
        probs[:, self.classes] = seen
        return probs

    def save(self, run: RunDir) -> None:
        """Writes ``baseline.json`` and ``baseline.safetensors`` into ``run``."""
        # safetensors writes an array's buffer as it lies: a Fortran-ordered one (scikit-learn's
        # multinomial coef_) would come back transposed in memory.
        arrays = {"weight": np.ascontiguousarray(self.weight), "bias": self.bias}
        vocabularies = {}
        for kind, vectorizer in self.vectorizers.items():
            arrays[f"idf_{kind}"] = np.ascontiguousarray(vectorizer.idf_, dtype=np.float32)
            vocabulary = vectorizer.vocabulary_
            vocabularies[kind] = sorted(vocabulary, key=vocabulary.__getitem__)
        run.write_binary_extra(f"{_FILE}.safetensors", save_arrays(arrays))
        run.write_extra(_FILE, {"name": NAME, **self.summary(), "vocabularies": vocabularies})

    def summary(self) -> dict[str, Any]:
        """What the train summary says about it."""
        return {
            "c": self.c,
            "valid_accuracy": self.valid_accuracy,
            "classes": self.classes,
            "num_classes": self.num_classes,
        }

    @classmethod
    def read(cls, run: RunDir) -> TfidfBaseline | None:
        """The run's baseline, or None when it has none (numeric inputs, ``--no-baseline``,
        a run from before baselines).

        Raises:
            ConfigError: The files are there but do not fit together.
        """
        if not (run.path / f"{_FILE}.json").exists():
            return None
        stored = run.read_extra(_FILE)
        arrays = load_arrays(run.read_binary_extra(f"{_FILE}.safetensors"))
        vectorizers = {}
        try:
            for kind in stored["vocabularies"]:
                vectorizer = _vectorizer(kind, stored["vocabularies"][kind])
                vectorizer.idf_ = arrays[f"idf_{kind}"]
                vectorizers[kind] = vectorizer
            return cls(
                vectorizers,
                arrays["weight"],
                arrays["bias"],
                list(stored["classes"]),
                int(stored["num_classes"]),
                float(stored["c"]),
                float(stored["valid_accuracy"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(
                f"{run.path / _FILE}.json and .safetensors do not fit together: {exc}"
            ) from None


def features(vectorizers: dict[str, TfidfVectorizer], texts: Sequence[str]) -> sparse.csr_matrix:
    """(N, F) TF-IDF rows: the word n-grams' columns, then the characters'."""
    parts = [v.transform(texts) for v in vectorizers.values()]
    return sparse.hstack(parts, format="csr")
