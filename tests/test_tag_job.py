"""The tagging job end to end: data, tokenisation with offsets, training, saved runs,
prediction, numeric per-step labels, and the command line."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import rnnkit
from rnnkit.cli.app import main
from rnnkit.config import ConfigError, StackConfig
from rnnkit.data.errors import DataError
from rnnkit.data.scaler import Scaler
from rnnkit.data.tagged import auto_scheme, read_tagged
from rnnkit.data.tagged_steps import read_tagged_steps
from rnnkit.data.tags import convert, invalid_at
from rnnkit.models.tagger import TaggerModelConfig
from rnnkit.tasks import tag
from rnnkit.tasks.tag import data as tdata
from rnnkit.tasks.tag.config import TagConfig, TagDataConfig
from rnnkit.tasks.tag.job import build_model, constraints
from rnnkit.tasks.tag.tokens import tokenize
from rnnkit.training.config import TrainConfig
from tag_cases import tiny_config, write_conll


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[tag.TaggerTask, Path]:
    root = tmp_path_factory.mktemp("tag")
    task, _ = tag.train(tiny_config(root), root / "run")
    return task, root / "run"


# --- tokenisation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Angela Merkel met Emmanuel Macron in Paris.",
        "  Zürich   liegt\tam  Zürichsee;  São-Paulo — 1,000.5 km! ",
        "The U.S. didn't sign; O'Neill's team (ÆON) won 3-1 on 1996-08-22...",
        "日本 の 東京 は 大きい 。",
    ],
)
def test_tokens_slice_the_input_exactly(text):
    tokens = tokenize(text)
    assert all(text[t.start : t.end] == t.text for t in tokens)
    assert "".join(t.text for t in tokens) == "".join(text.split())
    assert all(a.end <= b.start for a, b in zip(tokens, tokens[1:], strict=False))


def test_tokens_follow_conll_conventions():
    words = [t.text for t in tokenize("Germany's U.N. envoy didn't say $3.5 million.")]
    assert words == [
        "Germany",
        "'s",
        "U.N.",
        "envoy",
        "did",
        "n't",
        "say",
        "$",
        "3.5",
        "million",
        ".",
    ]


# --- data -----------------------------------------------------------------------------------


def test_plain_labels_are_their_own_scheme(tmp_path):
    path = tmp_path / "pos.tsv"
    path.write_text("The\tDT\ndog\tNN\n\nI\tPRP\n", encoding="utf-8")
    corpus = read_tagged(path)
    assert corpus.scheme == "none" and corpus.sentences[0].tags == ["DT", "NN"]
    assert auto_scheme([["B-PER", "I-PER", "O"]]) == "BIO"
    assert tdata.tag_names([s.tags for s in corpus.sentences], "none") == ["DT", "NN", "PRP"]


def test_iob1_reads_a_b_tag_after_outside(tmp_path):
    path = tmp_path / "iob1.conll"
    path.write_text("the O\nAtlanta B-MISC\nGames I-MISC\nand O\nEU I-ORG\n", encoding="utf-8")
    corpus = read_tagged(path, scheme="IOB1")
    assert corpus.sentences[0].tags[1] == "B-MISC"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", r"x\.jsonl:1: invalid JSON"),
        ('{"sequence": [1, 2]}', r"x\.jsonl:1: expected \{\"sequence\""),
        (
            '{"sequence": [1, 2], "tags": ["a"]}',
            r"x\.jsonl:1: field 'tags': expected one tag per step \(2\)",
        ),
        (
            '{"sequence": [[1, 2], [3]], "tags": ["a", "b"]}',
            r"x\.jsonl:1: field 'sequence': expected a list of steps",
        ),
        ('{"sequence": [1, NaN], "tags": ["a", "b"]}', r"x\.jsonl:1: field 'sequence': non-finite"),
        (
            '{"sequence": [], "tags": []}',
            r"x\.jsonl:1: field 'sequence': expected \(steps, features\)",
        ),
    ],
)
def test_tagged_steps_errors_name_file_and_line(tmp_path, line, message):
    path = tmp_path / "x.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=message):
        read_tagged_steps(path)


def test_tagged_steps_features_must_agree(tmp_path):
    path = tmp_path / "x.jsonl"
    rows = ['{"sequence": [[1, 2]], "tags": ["a"]}', '{"sequence": [[1, 2, 3]], "tags": ["a"]}']
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(
        DataError,
        match=r"x\.jsonl:2: field 'sequence': expected 2 features per step \(as line 1\), got 3",
    ):
        read_tagged_steps(path)


def test_words_are_normalised_and_vector_words_join():
    data = TagDataConfig(lowercase=True, digits="zero")
    vocab = tdata.build_words([["Paris", "1996"], ["paris"]], data, extra=["paris", "oslo", "1997"])
    assert vocab.tokens == ("<pad>", "<unk>", "paris", "0000", "oslo")


def test_a_validation_tag_unseen_in_training_is_named(tmp_path):
    train = write_conll(tmp_path / "train.tsv", 30, 0)
    dev = tmp_path / "dev.tsv"
    dev.write_text("Acme\tB-ORG\n", encoding="utf-8")
    config = TagConfig(data=TagDataConfig(data=str(train), valid=str(dev)))
    with pytest.raises(DataError, match=r"dev\.tsv: sentence 1: tag 'S-ORG' never occurs"):
        tag.JOB.prepare(config, None)


# --- model and constraints ------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["IOB1", "BIO", "BIOES"])
def test_constrained_decoding_never_breaks_the_scheme(scheme):
    names = tdata.tag_names([["B-PER", "O", "B-LOC"]], "BIO")
    names = tdata.tag_names([convert(names, "BIO", scheme)], scheme) if scheme != "BIO" else names
    artifacts = tag.TagArtifacts(names, scheme, scheme, None, None, Scaler((0.0,), (1.0,)))
    model = build_model(TagConfig(data=TagDataConfig(inputs="numeric")), artifacts)
    assert set(constraints(names, scheme)) == {"allowed", "allowed_start", "allowed_end"}
    torch.manual_seed(0)
    emissions = torch.randn(64, 9, len(names)) * 5
    lengths = torch.randint(1, 10, (64,))
    for best in model.decode(emissions, lengths):
        assert invalid_at([names[i] for i in best], scheme) is None


# --- training, saved runs, prediction -------------------------------------------------------


def test_a_small_run_finds_the_entities(trained):
    task, run = trained
    sentences = task.load_sentences(run.parent / "dev.tsv")
    report, predicted = task.evaluate(sentences)
    assert report.overall.f1 > 0.9  # the all-O baseline finds nothing (F1 0)
    assert task.artifacts.scheme == "BIO" and task.artifacts.learned == "BIOES"
    assert all(invalid_at(tags, "BIO") is None for tags in predicted)


def test_predictions_from_the_saved_run_equal_in_process_ones(trained):
    task, run = trained
    texts = [
        "Anna Smith visited Oslo .",
        "Greta  Novak met  Hiro in Lima!",
        ["Boris", "saw", "Riga"],
    ]
    loaded = rnnkit.load(run)
    assert loaded.predict(texts) == task.predict(texts)


def test_entities_carry_offsets_type_and_confidence(trained):
    task, _ = trained
    text = "  Elena   Berg  praised\tQuito ."
    (result,) = task.predict([text])
    found = [(e["type"], e["text"]) for e in result["entities"]]
    assert found == [("PER", "Elena   Berg"), ("LOC", "Quito")]
    for entity in result["entities"]:
        assert text[entity["start"] : entity["end"]] == entity["text"]
        assert 0.5 < entity["confidence"] <= 1.0
    assert result["tags"] == ["B-PER", "I-PER", "O", "B-LOC", "O"]


def test_empty_text_has_no_entities_and_bad_input_is_named(trained):
    task, _ = trained
    assert task.predict(["   "]) == [{"tokens": [], "tags": [], "entities": []}]
    with pytest.raises(ConfigError, match=r"\[1\]: expected a text or a list of non-empty tokens"):
        task.predict(["fine", 3])


def test_softmax_output_trains_too(tmp_path):
    config = tiny_config(tmp_path, epochs=6)
    config = TagConfig(
        data=config.data,
        model=dataclasses.replace(config.model, output="softmax"),
        train=config.train,
    )
    task, result = tag.train(config, tmp_path / "run")
    assert task.model.crf is None and result.best_metric > 0.5


# --- numeric per-step labels ----------------------------------------------------------------


def _steps_file(path: Path, count: int, seed: int) -> Path:
    """Each step's label says whether the value rose from the step before: it needs the
    left context, one step of it."""
    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(count):
        values = rng.normal(size=int(rng.integers(5, 20)))
        labels = ["start"] + [
            "up" if b > a else "down" for a, b in zip(values, values[1:], strict=False)
        ]
        lines.append(json.dumps({"sequence": values.round(4).tolist(), "tags": labels}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_numeric_per_step_labels_are_learned(tmp_path):
    data = TagDataConfig(
        inputs="numeric",
        data=str(_steps_file(tmp_path / "train.jsonl", 400, 0)),
        valid=str(_steps_file(tmp_path / "dev.jsonl", 100, 1)),
    )
    model = TaggerModelConfig(
        embedding_size=16, rnn=StackConfig(cell="gru", hidden_size=24, bidirectional=True)
    )
    train = TrainConfig(epochs=15, lr=0.01, monitor="val_acc", mode="max")
    task, _ = tag.train(TagConfig(data=data, model=model, train=train), tmp_path / "run")
    report, _ = task.evaluate(task.load_sentences(tmp_path / "dev.jsonl"))
    assert report.token_accuracy > 0.9 and set(report.per_type) == {"down", "start", "up"}
    (result,) = rnnkit.load(tmp_path / "run").predict([[0.0, 1.0, -1.0]])
    assert result["tags"] == ["start", "up", "down"] and len(result["confidence"]) == 3
    steps = tmp_path / "steps.jsonl"
    steps.write_text('{"sequence": [0.0, 1.0, -1.0]}\n', encoding="utf-8")
    shown = _cli("tag", "predict", str(tmp_path / "run"), "--input", str(steps), "--json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["tags"] == ["start", "up", "down"]
    columns = _cli("tag", "predict", str(tmp_path / "run"), "--input", str(steps))
    assert columns.output.split("\n")[:3] == ["0\tstart", "1\tup", "2\tdown"]


# --- command line ---------------------------------------------------------------------------


def _cli(*args: str, input: str | bytes | None = None):
    return CliRunner().invoke(main, list(args), input=input)


def test_cli_eval_writes_scores_and_errors(trained, tmp_path):
    _, run = trained
    result = _cli(
        "tag",
        "eval",
        str(run),
        "--data",
        str(run.parent / "dev.tsv"),
        "--json",
        "--errors",
        str(tmp_path / "errors.txt"),
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["f1"] > 0.9 and set(summary["per_type"]) == {"LOC", "PER"}
    assert (tmp_path / "errors.txt").exists()
    text = _cli("tag", "eval", str(run), "--data", str(run.parent / "dev.tsv"))
    assert "entities: precision" in text.output and "PER" in text.output


def test_cli_predict_formats(trained):
    _, run = trained
    inline = _cli("tag", "predict", str(run), "Anna Smith visited Oslo.")
    assert inline.exit_code == 0 and inline.output.strip() == "[PER Anna Smith] visited [LOC Oslo]."
    conll = _cli("tag", "predict", str(run), "--format", "conll", "Oslo")
    assert conll.output.splitlines()[0] == "Oslo\tB-LOC"
    lines = _cli(
        "tag", "predict", str(run), "--json", "--input", "-", input="Hiro saw Lima\n\nAnna left .\n"
    )
    records = [json.loads(line) for line in lines.output.splitlines()]
    assert [r["input"] for r in records] == ["Hiro saw Lima", "Anna left ."]
    latin1 = _cli("tag", "predict", str(run), "--input", "-", input="Zoë left\n".encode("latin-1"))
    assert latin1.exit_code == 1
    assert "<stdin>:1: not valid UTF-8: byte 0xeb at byte offset 2" in latin1.output
    tokenized = _cli("tag", "predict", str(run), "--tokenized", "--json", "Hiro saw Lima")
    assert json.loads(tokenized.output)["tokens"] == ["Hiro", "saw", "Lima"]


def test_cli_errors_are_one_line(trained, tmp_path):
    _, run = trained
    missing = _cli("tag", "eval", str(run), "--data", str(tmp_path / "nope.conll"))
    assert missing.exit_code == 1 and "nope.conll" in missing.output
    assert len(missing.output.strip().splitlines()) == 1
    none = _cli("tag", "predict", str(run))
    assert none.exit_code == 2
    wrong = _cli("classify", "predict", str(run), "text")
    assert wrong.exit_code != 0 and "tag" in wrong.output


@pytest.mark.real_data
def test_a_small_real_text_run_beats_the_all_outside_baseline(real_data, tmp_path):
    """2,000 sentences of eng.train, a few epochs: the entities of eng.testa are found (an
    all-O tagger finds none: F1 0), and the IOB1 data is reported in IOB1."""
    lines = (real_data / "conll2003" / "eng.train").read_text(encoding="utf-8").splitlines()
    breaks = [i for i, line in enumerate(lines) if not line.strip()]
    (tmp_path / "train.conll").write_text("\n".join(lines[: breaks[2000]]) + "\n", encoding="utf-8")
    config = TagConfig(
        data=TagDataConfig(
            data=str(tmp_path / "train.conll"),
            valid=str(real_data / "conll2003" / "eng.testa"),
            digits="zero",
        ),
        model=TaggerModelConfig(
            embedding_size=50,
            char_size=16,
            rnn=StackConfig(cell="lstm", hidden_size=64, bidirectional=True, dropout=0.3),
        ),
        train=TrainConfig(epochs=4, lr=5e-3, clip_norm=5.0, monitor="val_f1", mode="max"),
    )
    task, result = tag.train(config, tmp_path / "run")
    assert task.artifacts.scheme == "IOB1" and result.best_metric > 0.5
    (prediction,) = task.predict(["Germany beat England in London on Sunday ."])
    assert all(p.startswith(("I-", "B-", "O")) for p in prediction["tags"])


def test_without_a_validation_file_a_seeded_share_is_held_out(tmp_path):
    train = write_conll(tmp_path / "train.tsv", 40, 0)
    config = TagConfig(data=TagDataConfig(data=str(train), valid_fraction=0.25))
    first, second = tdata.load_splits(config.data, 3), tdata.load_splits(config.data, 3)
    assert len(first[0].inputs) == 30 and len(first[1].inputs) == 10
    assert first[1].inputs == second[1].inputs and "held out 0.25" in first[1].source
    with pytest.raises(ConfigError, match="holding out 0.001 of 40 sentences leaves an empty"):
        tdata.load_splits(TagDataConfig(data=str(train), valid_fraction=0.001), 0)


def test_a_dataset_brings_its_own_splits():
    with pytest.raises(ConfigError, match="dataset 'conll2003' brings its own splits"):
        TagDataConfig(dataset="conll2003", valid="dev.conll")
    with pytest.raises(ConfigError, match="dataset 'conll2003' holds text"):
        TagDataConfig(dataset="conll2003", inputs="numeric")


def test_words_seen_once_are_read_as_unk_at_the_given_rate():
    from rnnkit.tasks.tag.batches import replace_singletons, singletons

    encoded = tdata.Encoded([[2, 3, 3, 5], [4, 2, 6]], None, None, None)
    once = singletons(encoded, 8)
    assert once.tolist() == [False, False, False, False, True, True, True, False]
    many = tdata.Encoded([[4, 5, 6, 2, 3]] * 2000, None, None, None)
    replaced = replace_singletons(many, once, 1, 0.5, seed=7)
    ids = np.array(replaced.inputs)
    assert (ids[:, 3:] == [2, 3]).all()  # words seen more than once are never replaced
    share = (ids[:, :3] == 1).mean()
    assert 0.47 < share < 0.53
    again = replace_singletons(many, once, 1, 0.5, seed=7)
    assert again.inputs == replaced.inputs  # a pure function of the seed: resumes see the same
    with pytest.raises(ConfigError, match="unk_replace: expected a probability in"):
        tag.TagConfig(data=tag.TagDataConfig(dataset="conll2003", unk_replace=1.0))
