"""The classification task end to end: files -> run directory -> predictions, and the CLI."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import rnnkit
from review_cases import FILLER, review_files, small_config, write_csv
from rnnkit.cli import main
from rnnkit.config import ConfigError, StackConfig
from rnnkit.data import DataError
from rnnkit.data.embeddings import save_vectors
from rnnkit.data.text import TextConfig
from rnnkit.data.token_cache import cache_key, tokenize_many
from rnnkit.models.classifier import ClassifierModelConfig
from rnnkit.tasks import classify as clf
from rnnkit.tasks.classify.data import ClassifyDataConfig, Scaler
from rnnkit.training.config import TrainConfig


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    return review_files(tmp_path_factory.mktemp("reviews"))


@pytest.fixture(scope="module")
def trained(files, tmp_path_factory) -> clf.ClassifierTask:
    out = tmp_path_factory.mktemp("runs") / "sentiment"
    task, result = clf.train(small_config(files), out)
    assert result.stop_reason == "completed"
    return task


def test_learns_far_above_the_majority_baseline(trained, files):
    report, loss = trained.evaluate(trained.load_examples())  # the --test file
    majority = max(s.support for s in report.per_class) / report.count
    assert report.count == 120 and trained.classes == ["neg", "pos"]
    assert report.accuracy >= 0.9 > majority + 0.2
    assert loss < 0.4


def test_predictions_from_the_saved_run_equal_the_in_process_ones(trained):
    texts = ["A wonderful and superb film.", "Boring and awful.", "", "zzz unseen words"]
    loaded = rnnkit.load(trained.run.path)
    assert isinstance(loaded, clf.ClassifierTask)
    loaded.model.to(next(trained.model.parameters()).device)  # trained on a GPU, if there is one
    np.testing.assert_allclose(loaded.predict_proba(texts), trained.predict_proba(texts), 1e-6)
    labels = [p.label for p in loaded.predict(texts[:2])]
    assert labels == ["pos", "neg"]
    probs = loaded.predict(texts[:1])[0].probabilities
    assert set(probs) == {"neg", "pos"} and abs(sum(probs.values()) - 1) < 1e-6


def test_the_run_directory_holds_config_vocab_labels_and_metrics(trained):
    run = trained.run.path
    for name in ("config.json", "model.safetensors", "vocab.json", "labels.json", "metrics.jsonl"):
        assert (run / name).exists(), name
    assert json.loads((run / "labels.json").read_text())["labels"] == ["neg", "pos"]
    config = json.loads((run / "config.json").read_text())
    assert config["task"] == "classify" and config["text"]["lowercase"] is True


def test_an_unknown_label_in_evaluation_is_named(trained, tmp_path):
    path = write_csv(tmp_path / "odd.csv", [("fine", "pos"), ("meh", "neutral")])
    with pytest.raises(DataError, match=r"odd.csv: field 'label': labels \['neutral'\] were not"):
        trained.evaluate(trained.load_examples(path))


def test_one_class_only_is_a_clear_error(tmp_path):
    path = write_csv(tmp_path / "one.csv", [("good", "pos")] * 20)
    config = clf.ClassifyConfig(
        data=ClassifyDataConfig(data=str(path), text_col="review", label_col="sentiment")
    )
    with pytest.raises(DataError, match="field 'label': every example has label 'pos'"):
        clf.train(config, tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_pretrained_vectors_fill_the_embedding(files, tmp_path):
    words = ["wonderful", "awful", "the", "Movie"]
    vectors = np.arange(len(words) * 16, dtype=np.float32).reshape(len(words), 16) / 100
    path = save_vectors(tmp_path / "vectors.txt", words, vectors)
    config = small_config(files, freeze_embeddings=True)
    config = clf.ClassifyConfig(
        data=config.data,
        model=config.model,
        init=clf.TextInitConfig(embeddings=str(path)),
        train=TrainConfig(epochs=1, log_every=1000),
    )
    reports = []
    task, _ = clf.train(config, tmp_path / "run", on_coverage=reports.append)
    weight = task.model.embedding.weight.detach().cpu().numpy()
    for word, vector in zip(words, vectors, strict=True):
        np.testing.assert_array_equal(weight[task.vocab.id(word.lower())], vector)
    assert reports[0].vocab_found == 4  # "Movie" found through its lower-case form
    saved = json.loads((tmp_path / "run" / "embeddings.json").read_text())
    assert saved["vocab_found"] == 4 and saved["vocab_total"] == len(task.vocab) - 1


def test_vectors_of_the_wrong_width_are_a_clear_error(files, tmp_path):
    path = save_vectors(tmp_path / "v.txt", ["good"], np.ones((1, 5)))
    config = small_config(files)
    config = clf.ClassifyConfig(
        data=config.data, model=config.model, init=clf.TextInitConfig(embeddings=str(path))
    )
    with pytest.raises(ConfigError, match="5-dimensional vectors but the model's embedding size"):
        clf.train(config, tmp_path / "run")


# --- numeric sequences ------------------------------------------------------------------------


def _trend_examples(count: int, seed: int) -> tuple[list[np.ndarray], list[str]]:
    """Noisy rising or falling traces of 2 features and variable length."""
    rng = np.random.default_rng(seed)
    sequences, labels = [], []
    for _ in range(count):
        label = rng.choice(["rising", "falling"])
        T = int(rng.integers(5, 30))
        slope = 1.0 if label == "rising" else -1.0
        trend = slope * np.linspace(0, 3, T) + rng.normal(0, 0.5, T)
        sequences.append(np.stack([trend, rng.normal(0, 1, T)], axis=1) * 10 + 100)
        labels.append(str(label))
    return sequences, labels


def test_numeric_sequences_from_npz_and_jsonl(tmp_path):
    sequences, labels = _trend_examples(300, seed=0)
    T = max(len(s) for s in sequences)
    padded = np.zeros((len(sequences), T, 2), dtype=np.float32)
    for i, s in enumerate(sequences):
        padded[i, : len(s)] = s
    lengths = np.array([len(s) for s in sequences])
    np.savez(tmp_path / "train.npz", sequences=padded, lengths=lengths, labels=np.array(labels))
    test_x, test_y = _trend_examples(60, seed=1)
    with (tmp_path / "test.jsonl").open("w") as f:
        for x, y in zip(test_x, test_y, strict=True):
            f.write(json.dumps({"sequence": x.tolist(), "label": y}) + "\n")
    config = clf.ClassifyConfig(
        data=ClassifyDataConfig(
            data=str(tmp_path / "train.npz"), inputs="numeric", batch_size=16, max_len=None
        ),
        model=ClassifierModelConfig(
            embedding_size=8,
            pooling="last",
            rnn=StackConfig(cell="lstm", hidden_size=16),
        ),
        train=TrainConfig(epochs=8, lr=1e-2, monitor="val_acc", mode="max", log_every=1000),
    )
    task, _ = clf.train(config, tmp_path / "run")
    assert task.baseline is None  # a TF-IDF baseline reads text
    assert not (tmp_path / "run" / "baseline.json").exists()
    test = task.load_examples(tmp_path / "test.jsonl")  # JSONL, read as the run reads files
    report, _ = task.evaluate(test)
    assert report.count == 60 and report.accuracy >= 0.85
    scaler = json.loads((tmp_path / "run" / "scaler.json").read_text())
    assert len(scaler["mean"]) == 2 and 90 < scaler["mean"][0] < 130
    loaded = rnnkit.load(tmp_path / "run")
    loaded.model.to(next(task.model.parameters()).device)
    np.testing.assert_allclose(loaded.predict_proba(test_x), task.predict_proba(test_x), 1e-6)


def test_scaler_is_fitted_on_training_steps_and_keeps_constant_features():
    scaler = Scaler.fit([np.array([[1.0, 5.0], [3.0, 5.0]]), np.array([[2.0, 5.0]])])
    assert scaler.mean == (2.0, 5.0) and scaler.std[1] == 1.0
    with pytest.raises(ConfigError, match="expected 2 features per step"):
        scaler.transform(np.ones((3, 4)))


# --- preprocessing cache -----------------------------------------------------------------------


def test_token_cache_key_follows_texts_and_settings():
    texts = ["a b", "c"]
    assert cache_key(texts, TextConfig()) == cache_key(list(texts), TextConfig())
    assert cache_key(texts, TextConfig()) != cache_key(texts, TextConfig(lowercase=False))
    assert cache_key(["a", "b c"], TextConfig()) != cache_key(["a b", "c"], TextConfig())


def test_token_cache_round_trip_and_damaged_entries(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNKIT_CACHE", str(tmp_path))
    monkeypatch.setattr("rnnkit.data.token_cache.CACHE_FROM", 2)
    texts = ["It's <b>GOOD</b>.", "Not bad at all!"]
    first = tokenize_many(texts, TextConfig(), workers=1)
    (entry,) = (tmp_path / "tokens").iterdir()
    assert tokenize_many(texts, TextConfig(), workers=1) == first
    entry.write_bytes(b"not gzip")  # damaged: recomputed and rewritten
    assert tokenize_many(texts, TextConfig(), workers=1) == first
    assert first[0] == ["it", "'s", "good", "."]


def test_token_cache_evicts_the_least_recently_used_entries(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNKIT_CACHE", str(tmp_path))
    monkeypatch.setattr("rnnkit.data.token_cache.CACHE_FROM", 1)
    corpora = [[f"text number {i}"] for i in range(4)]
    tokenize_many(corpora[0], TextConfig(), workers=1)
    entry_size = next((tmp_path / "tokens").iterdir()).stat().st_size
    # Room for three entries of this size: the fourth write evicts the oldest unused one.
    monkeypatch.setattr("rnnkit.data.token_cache.CACHE_LIMIT_BYTES", 3.5 * entry_size)
    paths = {}
    for age, texts in enumerate(corpora):
        tokenize_many(texts, TextConfig(), workers=1)
        path = tmp_path / "tokens" / f"{cache_key(texts, TextConfig())}.json.gz"
        paths[age] = path
        os.utime(path, (1_000 + age, 1_000 + age))  # distinct ages, whatever the clock says
    assert not paths[0].exists() and all(paths[age].exists() for age in (1, 2, 3))
    tokenize_many(corpora[1], TextConfig(), workers=1)  # a hit: now the most recent
    tokenize_many(corpora[0], TextConfig(), workers=1)  # rewritten; evicts 2, not 1
    assert paths[0].exists() and paths[1].exists() and not paths[2].exists()


# --- command line ---------------------------------------------------------------------------


def _cli(*args: str, input: str | bytes | None = None):
    return CliRunner().invoke(main, list(args), input=input)


def test_cli_train_eval_predict(files, tmp_path):
    out = tmp_path / "run"
    common = ["--text-col", "review", "--label-col", "sentiment", "--embedding-size", "16"]
    result = _cli(
        "classify", "train", "--data", str(files["train"]), "--test", str(files["test"]),
        *common, "--hidden-size", "16", "--cell", "gru", "--epochs", "5", "--lr", "0.01",
        "--out", str(out), "--progress", "none", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["details"]["classes"] == ["neg", "pos"] and summary["validation"]["acc"] > 0.8

    result = _cli("classify", "eval", str(out), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["count"] == 120 and report["accuracy"] > 0.8
    assert report["accuracy_ci95"][0] < report["accuracy"] <= report["accuracy_ci95"][1]
    assert (out / "confusion.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    result = _cli("classify", "eval", str(out))
    assert "macro-F1" in result.output and "confusion matrix" in result.output

    result = _cli("classify", "predict", str(out), "superb and lovely", "dull, weak plot")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("pos\t") and lines[1].startswith("neg\t")

    result = _cli("classify", "predict", str(out), "--input", "-", "--json", input="awful\ngreat\n")
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["label"] for r in rows] == ["neg", "pos"] and rows[0]["input"] == "awful"

    binary = _cli("classify", "predict", str(out), "--input", "-", input=b"\x89PNG\r\n\x1a\n\x00")
    assert binary.exit_code == 1 and binary.output.count("\n") == 1
    assert "<stdin>:3: binary data (a NUL byte at byte offset 8)" in binary.output


def test_cli_errors_name_the_problem(files, tmp_path):
    result = _cli("classify", "train", "--data", str(files["train"]), "--out", str(tmp_path / "r"))
    assert result.exit_code == 1
    assert "train.csv" in result.output and "text" in result.output  # no column 'text'

    result = _cli("classify", "train", "--out", str(tmp_path / "r"))
    assert result.exit_code == 2 and "give --dataset NAME or --data FILE" in result.output

    result = _cli("classify", "train", "--dataset", "imdbb", "--out", str(tmp_path / "r"))
    assert result.exit_code == 2 and "imdbb" in result.output

    result = _cli("classify", "predict", str(tmp_path / "nowhere"), "text")
    assert result.exit_code != 0 and "nowhere" in result.output


def test_cli_predict_without_inputs_is_a_usage_error(trained):
    result = _cli("classify", "predict", str(trained.run.path))
    assert result.exit_code == 2 and "give TEXT arguments" in result.output


def test_sst2_subset_learns_above_the_majority_baseline(real_data, tmp_path):
    """Real sentences: 3,000 SST-2 training phrases, scored on the official dev set."""
    from rnnkit.data.registry import locate

    lines = locate("sst2", "train").read_text(encoding="utf-8").splitlines()
    (tmp_path / "small.tsv").write_text("\n".join(lines[:1] + lines[1:3001]) + "\n")
    config = clf.ClassifyConfig(
        data=ClassifyDataConfig(
            data=str(tmp_path / "small.tsv"),
            valid=str(locate("sst2", "valid")),
            text_col="sentence",
            batch_size=32,
        ),
        model=ClassifierModelConfig(
            embedding_size=32,
            rnn=StackConfig(cell="gru", hidden_size=32, bidirectional=True),
        ),
        train=TrainConfig(epochs=4, lr=5e-3, monitor="val_acc", mode="max", log_every=1000),
    )
    torch.manual_seed(0)
    task, result = clf.train(config, tmp_path / "run")
    best = max(r["val_acc"] for r in result.history if "val_acc" in r)
    assert best > 0.6  # dev is 50/50 balanced (444 positive of 872)


def test_resume_continues_a_run_to_the_same_weights_as_one_that_never_stopped(files, tmp_path):
    config = small_config(files)
    short = clf.ClassifyConfig(
        data=config.data,
        model=config.model,
        train=TrainConfig(epochs=2, lr=1e-2, monitor="val_acc", mode="max", log_every=1000),
    )
    clf.train(short, tmp_path / "resumed")
    from rnnkit.training.rundir import RunDir

    more = clf.resume_config(RunDir.open(tmp_path / "resumed"), ["train.epochs=3"])
    resumed, result = clf.train(more, tmp_path / "resumed", resume=True)
    assert result.epochs == 3
    straight, _ = clf.train(
        clf.ClassifyConfig(
            data=config.data,
            model=config.model,
            train=TrainConfig(epochs=3, lr=1e-2, monitor="val_acc", mode="max", log_every=1000),
        ),
        tmp_path / "straight",
    )
    texts = ["great plot", "dull and weak", "the actors"]
    np.testing.assert_allclose(resumed.predict_proba(texts), straight.predict_proba(texts), 1e-6)
    with pytest.raises(ConfigError, match="a resumed run keeps its config"):
        clf.resume_config(RunDir.open(tmp_path / "resumed"), ["train.lr=0.5"])


def test_three_classes_from_a_folder_per_label(tmp_path):
    """Multi-class: the topic of a short text, read from corpus/<label>/*.txt."""
    words = {
        "sport": ["goal", "match", "team", "score", "coach"],
        "weather": ["rain", "sunny", "storm", "cloud", "wind"],
        "food": ["bread", "cheese", "soup", "salad", "cake"],
    }
    rng = random.Random(0)
    for label, cues in words.items():
        (tmp_path / "corpus" / label).mkdir(parents=True)
        for i in range(60):
            text = " ".join(rng.choice(FILLER) for _ in range(rng.randint(2, 8)))
            text += " " + " ".join(rng.choice(cues) for _ in range(2))
            (tmp_path / "corpus" / label / f"{i:03d}.txt").write_text(text)
    config = clf.ClassifyConfig(
        data=ClassifyDataConfig(data=str(tmp_path / "corpus"), batch_size=16),
        model=ClassifierModelConfig(
            embedding_size=16,
            pooling="attention",
            rnn=StackConfig(cell="lstm", hidden_size=16),
        ),
        train=TrainConfig(epochs=8, lr=1e-2, monitor="val_acc", mode="max", log_every=1000),
    )
    task, result = clf.train(config, tmp_path / "run")
    assert task.classes == ["food", "sport", "weather"]
    assert result.best_metric >= 0.8  # chance is 1/3
    predicted = [p.label for p in task.predict(["a storm and rain", "the team scored a goal"])]
    assert predicted == ["weather", "sport"]


@pytest.mark.parametrize(
    ("labels", "problem"),
    [
        (["neg", "neg"], "class 'neg' is named more than once"),
        (["neg", "pos", ""], 'expected {"labels": [class names]}'),
        (3, 'expected {"labels": [class names]}, got 3'),
    ],
    ids=["twice", "empty name", "not a list"],
)
def test_a_damaged_labels_file_is_named(trained, tmp_path, labels, problem):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(trained.run.path, run)
    body = labels if isinstance(labels, int) else {"labels": labels}
    (run / "labels.json").write_text(json.dumps(body))
    result = CliRunner().invoke(main, ["classify", "predict", str(run), "good"])
    assert result.exit_code == 1, result.output
    assert result.output.startswith(f"error: {run / 'labels.json'}: {problem}")
