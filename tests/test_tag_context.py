"""Contextual string embeddings: character language models' states at word edges as the
tagger's features (rnnkit.tasks.common.string_embeddings)."""

from __future__ import annotations

import dataclasses
import json
import random
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import rnnkit
from rnnkit.cli.app import main
from rnnkit.config import ConfigError
from rnnkit.tasks import tag
from rnnkit.tasks.common.runs import load
from rnnkit.tasks.common.string_embeddings import ContextEmbedder, boundary_positions
from tag_cases import sentence, tiny_config

SENTENCES = [
    ["EU", "rejects", "German", "call", "."],
    ["Peter", "Blackburn"],
    ["Zürich", "—", "São", "Paulo", "1,000.5", "km", "!"],
    ["x"],
]


def _char_lm(root: Path, name: str, *extra: str) -> Path:
    rng = random.Random(3)
    text = root / "text.txt"
    text.write_text("\n".join(" ".join(sentence(rng)[0]) for _ in range(200)) + "\n")
    args = ["lm", "train", "--data", str(text), "--level", "char", "--hidden-size", "12"]
    args += [
        "--embedding-size",
        "6",
        "--epochs",
        "1",
        "--max-steps",
        "5",
        "--out",
        str(root / name),
    ]
    result = CliRunner().invoke(main, [*args, *extra])
    assert result.exit_code == 0, result.output
    return root / name


@pytest.fixture(scope="module")
def lms(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("char-lms")
    return _char_lm(root, "fwd"), _char_lm(root, "bwd", "--reverse")


def _state_after(lm, text: str) -> torch.Tensor:
    """The model's output after reading ``\\n`` then ``text`` (in the order given)."""
    ids = torch.tensor([[lm.vocab.id("\n"), *lm.vocab.encode(list(text))]])
    with torch.no_grad():
        return lm.model.features(ids)[0][0, -1]


def test_each_word_gets_the_state_at_its_edge(lms):
    fwd, bwd = (load(p, kind="lm") for p in lms)
    features = ContextEmbedder([fwd, bwd]).embed(SENTENCES, batch_size=3)
    width = fwd.model.rnn.output_size
    for tokens, got in zip(SENTENCES, features, strict=True):
        assert got.shape == (len(tokens), 2 * width) and got.dtype == np.float16
        for i in range(len(tokens)):
            # forward: the words up to this one and the space after it
            before = " ".join(tokens[: i + 1]) + " "
            # backward: this word and those after it, read from the end, and the space before
            after = (" " + " ".join(tokens[i:]))[::-1]
            want = torch.cat([_state_after(fwd, before), _state_after(bwd, after)])
            np.testing.assert_allclose(got[i], want.numpy(), rtol=1e-2, atol=2e-3)


def test_padding_in_a_batch_changes_nothing(lms):
    embedder = ContextEmbedder.from_runs(lms)
    together = embedder.embed(SENTENCES, batch_size=len(SENTENCES))
    alone = [embedder.embed([s])[0] for s in SENTENCES]
    for a, b in zip(together, alone, strict=True):
        np.testing.assert_allclose(a.astype(np.float32), b.astype(np.float32), atol=2e-3)


def test_boundary_positions_of_one_word():
    assert boundary_positions(["word"], backward=False) == [5]
    assert boundary_positions(["word"], backward=True) == [5]


def test_a_word_level_model_is_refused_by_name(tiny_lm_run):
    with pytest.raises(ConfigError, match=r"run is a word-level language model; .*--level char"):
        ContextEmbedder.from_runs([tiny_lm_run])


def test_a_tagger_with_context_trains_saves_and_loads(lms, tmp_path, monkeypatch):
    copies = [shutil.copytree(lm, tmp_path / lm.name) for lm in lms]
    monkeypatch.chdir(tmp_path)
    config = dataclasses.replace(
        tiny_config(tmp_path, epochs=2), init=tag.TagInitConfig(context_lms=("fwd", "bwd"))
    )
    task, _ = tag.train(config, tmp_path / "run")
    assert task.model.context_size == 24
    saved = json.loads((tmp_path / "run" / "context.json").read_text())
    assert [m["config"]["data"]["reverse"] for m in saved["models"]] == [False, True]
    named = json.loads((tmp_path / "run" / "config.json").read_text())["init"]["context_lms"]
    assert named == [str(p) for p in copies]
    for copy in copies:  # the run is used alone: it keeps its own copies of the models
        shutil.rmtree(copy)
    again = rnnkit.load(tmp_path / "run")
    texts = ["Anna Smith visited Paris .", "Greta saw Hiro Tanaka ."]
    assert again.predict(texts) == task.predict(texts)


def test_numeric_inputs_refuse_context_models(lms, tmp_path):
    path = tmp_path / "steps.jsonl"
    path.write_text('{"sequence": [[1.0], [2.0]], "tags": ["a", "b"]}\n' * 4, encoding="utf-8")
    config = tag.TagConfig(
        data=tag.TagDataConfig(data=str(path), inputs="numeric", valid_fraction=0.25),
        init=tag.TagInitConfig(context_lms=(str(lms[0]),)),
    )
    with pytest.raises(ConfigError, match="contextual string embeddings read words"):
        tag.JOB.prepare(config, None)


def test_cli_names_a_word_level_model(tiny_lm_run, tmp_path):
    train = tmp_path / "train.tsv"
    train.write_text("Anna\tB-PER\nleft\tO\n\nBoris\tB-PER\nleft\tO\n" * 5, encoding="utf-8")
    args = ["tag", "train", "--data", str(train), "--context-lms", str(tiny_lm_run)]
    result = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "run")])
    assert result.exit_code == 2, result.output
    assert "word-level language model" in result.output
    assert "Traceback" not in result.output
