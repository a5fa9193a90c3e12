"""The subword level: the sentencepiece tokenizer, and a subword language model end to end."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

import rnnkit
from rnnkit.cli import main
from rnnkit.config import ConfigError, StackConfig
from rnnkit.data import DataError
from rnnkit.data.corpus import tokenize, unigram_entropy
from rnnkit.data.subword import SubwordTokenizer
from rnnkit.models import LMModelConfig
from rnnkit.tasks import lm
from rnnkit.training.config import StreamTrainConfig
from rnnkit.training.rundir import RunDir, RunDirError

ROOT = Path(__file__).resolve().parents[1]

SUBJECTS = ["the cat", "a dog", "my neighbour", "the old teacher", "every student", "the network"]
VERBS = ["reads", "writes", "remembers", "forgets", "predicts", "likes", "watches"]
OBJECTS = ["the book", "a long sentence", "the next word", "<unk>", "the garden", "a story"]
ENDINGS = ["", " today", " again", " slowly", " in the evening", " with <unk>"]


def _sentences(n: int, seed: int = 0) -> str:
    """``n`` lines of a small English grammar, with PTB's literal ``<unk>`` among the words."""
    rng = random.Random(seed)
    lines = [
        f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}{rng.choice(ENDINGS)}"
        for _ in range(n)
    ]
    return "\n".join(lines) + "\n"


def _normalised(text: str) -> str:
    return "".join(" ".join(line.split()) + "\n" for line in text.splitlines())


@pytest.fixture(scope="module")
def docs_text() -> str:
    """Real English: the README (a few hundred lines)."""
    return _normalised((ROOT / "README.md").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("corpus") / "sentences.txt"
    path.write_text(_sentences(400))
    return path


def _config(corpus: Path, **data) -> lm.LMConfig:
    return lm.LMConfig(
        data=lm.LMDataConfig(
            data=str(corpus),
            level="subword",
            **{"subword_vocab": 50, "batch_size": 8, "eval_batch_size": 4, **data},
        ),
        model=LMModelConfig(embedding_size=24, rnn=StackConfig(hidden_size=48, num_layers=1)),
        train=StreamTrainConfig(epochs=3, lr=2e-2, bptt=30, device="cpu"),
    )


@pytest.fixture(scope="module")
def subword_run(corpus, tmp_path_factory):
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("runs") / "subword"
    task, result = lm.train(_config(corpus), out)
    return out, task, result


# --- the tokenizer ----------------------------------------------------------------------------


def test_pieces_decode_back_to_the_text(docs_text):
    tokenizer = SubwordTokenizer.train(docs_text, vocab_size=200)
    pieces = tokenizer.pieces(docs_text)
    assert tokenizer.decode(pieces) == docs_text
    assert pieces.count("<eos>") == len(docs_text.splitlines())
    assert len(pieces) < 0.7 * len(docs_text)  # pieces, not characters
    # Whitespace is the word level's: runs of it are one space, a line's ends are trimmed.
    assert tokenizer.pieces("  to   be\tor\n") == tokenizer.pieces("to be or\n")
    # Every piece is in the vocabulary, which has the rnnkit specials.
    vocab = tokenizer.vocabulary()
    assert vocab.coverage(pieces) == 1.0
    assert (vocab.unk, vocab.eos) == ("<unk>", "<eos>") and len(vocab) == 200


def test_word_starts_carry_the_marker(docs_text):
    tokenizer = SubwordTokenizer.train(docs_text, vocab_size=200)
    pieces = tokenizer.pieces("the recurrent network\n")
    words = "".join(pieces[:-1]).split("▁")[1:]
    assert words == ["the", "recurrent", "network"]


@pytest.mark.parametrize("model_type", ["unigram", "bpe"])
def test_training_is_deterministic(docs_text, model_type):
    a = SubwordTokenizer.train(docs_text, 150, model_type)
    b = SubwordTokenizer.train(docs_text, 150, model_type)
    assert a.to_bytes() == b.to_bytes()
    assert a.pieces(docs_text) == b.pieces(docs_text)
    again = SubwordTokenizer.from_bytes(a.to_bytes())
    assert again.pieces(docs_text) == a.pieces(docs_text)
    assert again.vocabulary() == a.vocabulary()


def test_bpe_and_unigram_are_different_models(docs_text):
    unigram = SubwordTokenizer.train(docs_text, 150, "unigram")
    bpe = SubwordTokenizer.train(docs_text, 150, "bpe")
    assert unigram.vocabulary() != bpe.vocabulary()
    assert bpe.decode(bpe.pieces(docs_text)) == docs_text


def test_a_literal_unk_is_one_piece_and_so_is_an_unseen_character():
    tokenizer = SubwordTokenizer.train(_sentences(300), vocab_size=50)
    pieces = tokenizer.pieces("the cat reads <unk> today\n")
    assert pieces.count("<unk>") == 1
    assert "<" not in "".join(p for p in pieces if p not in ("<unk>", "<eos>"))
    assert tokenizer.decode(pieces) == "the cat reads <unk> today\n"
    assert tokenizer.pieces("Ω")[-2:] == ["<unk>", "<eos>"]  # never seen in training
    vocab = tokenizer.vocabulary()
    assert vocab.encode(["<unk>"]) == [vocab.unk_id]


def test_stream_gives_the_decoded_text_piece_by_piece(docs_text):
    tokenizer = SubwordTokenizer.train(docs_text, vocab_size=200)
    pieces = tokenizer.pieces("every cell trains\nand samples\n")
    chunks = list(tokenizer.stream(pieces))
    assert len(chunks) == len(pieces)
    assert "".join(chunks) == "every cell trains\nand samples\n"
    prompt = tokenizer.pieces("every")[:-1]
    assert "".join(tokenizer.stream(tokenizer.pieces("cell")[:-1], line=prompt)) == " cell"


def test_tokenizer_errors_name_the_problem():
    text = _sentences(50)
    with pytest.raises(ConfigError, match=r"subword_vocab: expected at most \d+ pieces"):
        SubwordTokenizer.train(text, vocab_size=5000)
    with pytest.raises(ConfigError, match=r"subword_vocab: expected at least \d+ pieces"):
        SubwordTokenizer.train(text, vocab_size=5)
    with pytest.raises(ConfigError, match="subword_model"):
        SubwordTokenizer.train(text, vocab_size=40, model_type="wordpiece")
    with pytest.raises(DataError, match="no words|got none"):
        SubwordTokenizer.train(" \n\n", vocab_size=40)
    with pytest.raises(DataError, match="tokenizer.model: .*not a sentencepiece model"):
        SubwordTokenizer.from_bytes(b"not a model", file="run/tokenizer.model")


# --- config -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields, flag",
    [
        ({"level": "word", "subword_vocab": 4000}, "--subword-vocab"),
        ({"level": "char", "subword_model": "bpe"}, "--subword-model"),
        ({"level": "subword", "max_vocab": 100}, "--max-vocab"),
        ({"level": "subword", "min_freq": 2}, "--min-freq"),
    ],
)
def test_options_of_another_level_are_errors(fields, flag):
    with pytest.raises(ConfigError, match=flag):
        lm.LMDataConfig(data="x.txt", **fields)


def test_subword_options_are_validated():
    with pytest.raises(ConfigError, match="subword_vocab"):
        lm.LMDataConfig(data="x.txt", level="subword", subword_vocab=0)
    with pytest.raises(ConfigError, match="subword_model"):
        lm.LMDataConfig(data="x.txt", level="subword", subword_model="wordpiece")
    config = lm.LMDataConfig(data="x.txt", level="subword", subword_vocab=4000)
    assert (config.subword_vocab, config.subword_model) == (4000, "unigram")


# --- the language model -----------------------------------------------------------------------


def test_a_subword_model_beats_the_unigram_entropy_of_its_pieces(subword_run):
    _, task, result = subword_run
    ids = task.encode(lm.split_text(task.config, "valid"))
    entropy = unigram_entropy(torch.tensor(ids), len(task.vocab))
    assert result.best_metric < entropy - 1.0, (result.best_metric, entropy)


def test_the_run_keeps_its_tokenizer_and_loads_back_the_same(subword_run):
    out, task, result = subword_run
    assert (out / "tokenizer.model").read_bytes() == task.tokenizer.to_bytes()
    assert json.loads((out / "vocab.json").read_text())["tokens"][:2] == ["<unk>", "<eos>"]
    loaded = rnnkit.load(out)
    assert loaded.level == "subword" and loaded.vocab == task.vocab
    texts = ["the cat reads the book", "book the reads cat the"]
    assert loaded.score(texts) == task.score(texts)
    assert loaded.score(texts)[0].text == texts[0]
    valid = lm.split_text(loaded.config, "valid")
    assert loaded.evaluate(valid)["loss"] == pytest.approx(result.best_metric, rel=1e-5)


def test_eval_reports_a_word_level_perplexity_from_the_same_nll(subword_run):
    out, task, _ = subword_run
    valid = lm.split_text(task.config, "valid")
    metrics = task.evaluate(valid)
    pieces, words = len(task.encode(valid)), len(tokenize(valid, "word"))
    assert metrics["words"] == words == len(valid.split()) + valid.count("\n")
    # NLL of the text = mean per piece * pieces; per word = that / words.
    assert math.log(metrics["word_ppl"]) == pytest.approx(metrics["loss"] * pieces / words)
    assert metrics["word_ppl"] > metrics["ppl"]  # more than one piece per word
    runner = CliRunner()
    cli = runner.invoke(main, ["lm", "eval", str(out), "--split", "valid", "--json"])
    assert cli.exit_code == 0, cli.output
    reported = json.loads(cli.output)
    assert reported["word_ppl"] == pytest.approx(metrics["word_ppl"])
    assert reported["words"] == words
    text = runner.invoke(main, ["lm", "eval", str(out), "--split", "valid"])
    assert "nats/piece" in text.output and "word-level perplexity" in text.output


def test_sampling_is_reproducible_and_reads_as_words(subword_run):
    _, task, _ = subword_run
    a = "".join(task.sample("the cat", length=40, seed=3))
    assert a == "".join(task.sample("the cat", length=40, seed=3))
    assert a != "".join(task.sample("the cat", length=40, seed=4))
    known = set(_sentences(400).split())
    samples = ["".join(task.sample("", length=40, seed=s)) for s in range(10)]
    for text in samples:
        assert "▁" not in text and not text.startswith(" ") and "  " not in text
        assert text.count("\n") <= 1  # <eos> ends generation
    words = " ".join(samples).split()
    assert len(words) >= 20 and sum(w in known for w in words) / len(words) > 0.7
    # a continuation of a prompt starts a new word or continues the last one
    greedy = "".join(task.sample("the cat", length=20, greedy=True))
    assert greedy.startswith(" ") and greedy.split()[0] in known
    beam = "".join(task.sample("", length=40, beam=3))
    assert beam.endswith("\n") and not beam.startswith(" ")
    assert all(word in known for word in beam.split())


def test_no_unk_keeps_unk_out(subword_run):
    _, task, _ = subword_run
    runs = [(s, "".join(task.sample("", length=30, temperature=1.5, seed=s))) for s in range(15)]
    assert any("<unk>" in text for _, text in runs)  # so the check below means something
    for seed, _ in runs:
        text = "".join(task.sample("", length=30, temperature=1.5, seed=seed, no_unk=True))
        assert "<unk>" not in text


def test_next_tokens_are_pieces(subword_run):
    _, task, _ = subword_run
    top = task.next_tokens("the old", top=len(task.vocab))
    assert sum(p for _, p in top) == pytest.approx(1.0, abs=1e-5)
    # "old" is a whole word in this corpus: what follows starts a new word.
    assert sum(p for piece, p in top if piece.startswith("▁")) > 0.9


def test_a_task_needs_its_tokenizer_exactly_at_the_subword_level(subword_run):
    _, task, _ = subword_run
    with pytest.raises(ConfigError, match="tokenizer"):
        lm.LanguageModelTask(task.config, task.vocab, task.model, None)
    with pytest.raises(ConfigError, match="tokenizer"):
        lm.text_tokens("a b", "word", task.tokenizer)


def test_resume_reads_the_tokenizer_from_the_run(corpus, tmp_path, monkeypatch):
    torch.set_num_threads(1)
    out = tmp_path / "resumed"
    config = _config(corpus, subword_model="bpe")
    short = lm.LMConfig(
        data=config.data,
        model=config.model,
        train=StreamTrainConfig(epochs=2, max_steps=3, bptt=30, device="cpu"),
    )
    lm.train(short, out)
    saved = (out / "tokenizer.model").read_bytes()

    def no_training(*args, **kwargs):
        raise AssertionError("a resumed run must not train a new tokenizer")

    monkeypatch.setattr(SubwordTokenizer, "train", no_training)
    resumed = lm.resume_config(RunDir.open(out), ["train.max_steps=6"])
    task, result = lm.train(resumed, out, resume=True)
    assert result.steps == 6 and task.tokenizer.to_bytes() == saved
    (out / "tokenizer.model").write_bytes(b"garbage")
    with pytest.raises(DataError, match="tokenizer.model"):
        rnnkit.load(out)
    (out / "tokenizer.model").unlink()
    with pytest.raises(RunDirError, match="missing file"):
        rnnkit.load(out)


def test_binary_extras_are_plain_files_with_checked_names(tmp_path):
    run = RunDir.create(tmp_path / "run", config={})
    assert run.write_binary_extra("tokenizer.model", b"\x00\x01").read_bytes() == b"\x00\x01"
    assert sorted(p.name for p in run.path.iterdir()) == ["config.json", "tokenizer.model"]
    for bad in ("model.safetensors", "vocab.json", "../x.model", "noext"):
        with pytest.raises(ValueError, match="filename"):
            run.write_binary_extra(bad, b"")


# --- the command line -------------------------------------------------------------------------


def _train_args(corpus: Path, out: Path, *extra: str) -> list[str]:
    return [
        "lm",
        "train",
        "--data",
        str(corpus),
        "--out",
        str(out),
        "--hidden-size",
        "16",
        "--embedding-size",
        "8",
        "--epochs",
        "1",
        "--max-steps",
        "3",
        "--progress",
        "none",
        *extra,
    ]


def test_cli_trains_and_uses_a_bpe_subword_model(corpus, tmp_path):
    runner = CliRunner()
    out = tmp_path / "cli"
    args = _train_args(corpus, out, "--level", "subword", "--subword-vocab", "50")
    result = runner.invoke(main, [*args, "--subword-model", "bpe", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.splitlines()[-1])
    assert summary["details"]["level"] == "subword" and summary["details"]["vocab_size"] == 50
    # Stopped by --max-steps inside the first epoch: the validation taken then is reported.
    assert summary["stop_reason"] == "max_steps" and summary["epochs"] == 0
    assert summary["validation"]["loss"] > 0
    saved = json.loads((out / "config.json").read_text())["data"]
    assert (saved["subword_vocab"], saved["subword_model"]) == (50, "bpe")
    sample = runner.invoke(main, ["lm", "sample", str(out), "--prompt", "the", "--seed", "1"])
    assert sample.exit_code == 0 and sample.output.startswith("the")
    assert "▁" not in sample.output
    score = runner.invoke(main, ["lm", "score", str(out), "the cat", "cat the", "--json"])
    assert [json.loads(line)["type"] for line in score.output.splitlines()][-1] == "summary"
    nxt = runner.invoke(main, ["lm", "next", str(out), "the", "--top", "3"])
    assert nxt.exit_code == 0 and len(nxt.output.splitlines()) == 3


@pytest.mark.parametrize(
    "extra, flag",
    [
        (["--level", "word", "--subword-vocab", "4000"], "--subword-vocab"),
        (["--level", "char", "--subword-model", "bpe"], "--subword-model"),
        (["--level", "subword", "--max-vocab", "100"], "--max-vocab"),
        (["--level", "subword", "--min-freq", "2"], "--min-freq"),
        (["--level", "subword", "--subword-vocab", "100000"], "subword_vocab"),
        (["--level", "subword", "--subword-model", "wordpiece"], "--subword-model"),
    ],
)
def test_cli_rejects_bad_combinations(corpus, tmp_path, extra, flag):
    out = tmp_path / "bad"
    result = CliRunner().invoke(main, _train_args(corpus, out, *extra))
    assert result.exit_code == 2, result.output
    assert flag in result.output and "Traceback" not in result.output
    assert not out.exists()  # nothing is created for a run that cannot start
