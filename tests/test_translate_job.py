"""The translation job end to end: training on a small generated language pair, saved runs,
greedy and beam decoding, evaluation with sacreBLEU, subword vocabularies, and the command
line with its errors."""

from __future__ import annotations

import dataclasses
import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

import rnnkit
from rnnkit.cli.app import main
from rnnkit.config import ConfigError, StackConfig
from rnnkit.data.parallel import Parallel
from rnnkit.models.seq2seq import Seq2SeqModelConfig
from rnnkit.tasks import translate
from rnnkit.tasks.translate import TranslateConfig, TranslateDataConfig
from rnnkit.training.config import TrainConfig

WORDS = {
    "dog": "hund", "cat": "katze", "man": "mann", "woman": "frau", "red": "rot",
    "big": "gross", "small": "klein", "runs": "rennt", "sits": "sitzt", "eats": "isst",
    "the": "der", "a": "ein", "ball": "ball", "house": "haus",
}  # fmt: skip


def _pair(rng: random.Random) -> tuple[str, str]:
    """A source sentence and its "translation": each word mapped, in reverse order (so the
    decoder must look back at the right source word, not the one at its own position)."""
    words = [rng.choice(list(WORDS)) for _ in range(rng.randint(2, 6))]
    return " ".join(words), " ".join(WORDS[w] for w in reversed(words))


def _write_pairs(path: Path, count: int, seed: int) -> Path:
    rng = random.Random(seed)
    path.write_text("".join("\t".join(_pair(rng)) + "\n" for _ in range(count)), encoding="utf-8")
    return path


def _config(root: Path, **data: object) -> TranslateConfig:
    return TranslateConfig(
        data=TranslateDataConfig(
            data=str(_write_pairs(root / "train.tsv", 800, 0)),
            valid=str(_write_pairs(root / "dev.tsv", 60, 1)),
            batch_size=32,
            **{"tokens": "word", **data},
        ),
        model=Seq2SeqModelConfig(
            embedding_size=24,
            encoder=StackConfig(cell="lstm", hidden_size=24, bidirectional=True),
            decoder=StackConfig(cell="lstm", hidden_size=48),
            attention_size=24,
            dropout=0.0,
        ),
        train=TrainConfig(epochs=7, lr=1e-2, clip_norm=1.0),
        label_smoothing=0.0,
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[translate.TranslatorTask, Path]:
    root = tmp_path_factory.mktemp("translate")
    task, _ = translate.train(_config(root), root / "run")
    return task, root


def _test_pairs(count: int = 40) -> Parallel:
    rng = random.Random(2)
    pairs = [_pair(rng) for _ in range(count)]
    return Parallel([s for s, _ in pairs], [t for _, t in pairs], "generated")


def test_it_learns_to_translate_and_beam_search_agrees(trained):
    task, _ = trained
    greedy, hypotheses = task.evaluate(_test_pairs())
    assert greedy["bleu"] > 60, greedy
    assert greedy["bleu_tokenize"] == "13a" and 0.8 < greedy["length_ratio"] < 1.2
    beam, _ = task.evaluate(_test_pairs(), beam=4)
    assert beam["bleu"] >= greedy["bleu"] - 5
    assert len(hypotheses) == 40


def test_a_saved_run_translates_as_the_trained_one(trained):
    task, root = trained
    again = rnnkit.load(root / "run")
    texts = ["the big dog eats a ball", "a cat sits"]
    assert again.predict(texts) == task.predict(texts)
    assert again.predict(texts, beam=3, n_best=2) == task.predict(texts, beam=3, n_best=2)


def test_n_best_lists_come_best_first(trained):
    task, _ = trained
    best = task.translate(["the small woman runs"], beam=4, n_best=3)[0]
    assert len(best) == 3
    assert [h.score for h in best] == sorted((h.score for h in best), reverse=True)
    assert best[0].text == "rennt frau klein der"


@pytest.mark.parametrize("beam", [1, 3])
def test_a_batch_translates_the_same_whatever_its_order_and_padding(trained, beam):
    task, _ = trained
    texts = _test_pairs(24).src
    alone = [task.translate([t], beam=beam)[0][0].text for t in texts]
    batched = [best[0].text for best in task.translate(texts, beam=beam)]
    order = list(reversed(range(len(texts))))
    shuffled = task.translate([texts[i] for i in order], beam=beam)
    assert batched == alone
    assert [shuffled[order.index(i)][0].text for i in range(len(texts))] == alone


def test_the_attention_of_a_translation_reads_the_reversed_source(trained):
    task, _ = trained
    text = "the small woman runs"
    best = task.translate([text])[0][0]
    alignment = task.alignment(text, best)
    assert alignment.source == text.split() and alignment.target == [*best.tokens, "</s>"]
    assert alignment.weights.shape == (len(best.tokens) + 1, 4)
    assert alignment.weights.sum(1) == pytest.approx([1.0] * (len(best.tokens) + 1), abs=1e-5)
    # the pair reverses the words: target word t is written while looking at source word 3 - t
    peaks = alignment.weights[: len(best.tokens)].argmax(1).tolist()
    assert best.text == "rennt frau klein der"
    assert sum(p == 3 - t for t, p in enumerate(peaks)) >= 3, peaks


def test_validation_bleu_picks_the_epoch(tmp_path):
    config = _config(tmp_path)
    train = TrainConfig(epochs=3, lr=1e-2, clip_norm=1.0, monitor="val_bleu", mode="max")
    config = dataclasses.replace(config, train=train)
    task, result = translate.train(config, tmp_path / "run")
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").open()]
    bleus = {r["epoch"]: r["val_bleu"] for r in records if r.get("kind") == "epoch"}
    assert len(bleus) == 3 and all(0 <= b <= 100 for b in bleus.values())
    assert result.best_metric == max(bleus.values()) == bleus[result.best_epoch]
    with pytest.raises(ConfigError, match="--monitor val_bleu needs --mode max"):
        dataclasses.replace(config, train=dataclasses.replace(train, mode="min"))


def test_subword_sides_with_a_joint_vocabulary_are_kept_in_the_run(tmp_path):
    config = _config(tmp_path, tokens="subword", subword_vocab=40, joint_vocab=True)
    config = TranslateConfig(
        data=config.data, model=config.model, train=TrainConfig(epochs=1, lr=1e-2)
    )
    task, _ = translate.train(config, tmp_path / "run")
    assert task.sides.src.vocab == task.sides.tgt.vocab
    files = sorted(p.name for p in (tmp_path / "run").iterdir())
    assert {"src_tokenizer.model", "tgt_tokenizer.model", "src_vocab.json"} <= set(files)
    again = rnnkit.load(tmp_path / "run")
    assert again.predict(["the red house"]) == task.predict(["the red house"])


def test_the_command_line_trains_evaluates_and_translates(tmp_path):
    runner = CliRunner()
    pairs = _write_pairs(tmp_path / "train.tsv", 300, 0).read_text(encoding="utf-8").splitlines()
    for side, name in ((0, "train.en"), (1, "train.de")):  # two aligned files this time
        lines = "".join(line.split("\t")[side] + "\n" for line in pairs)
        (tmp_path / name).write_text(lines, encoding="utf-8")
    (tmp_path / "test.en").write_text("a dog runs\nthe cat\n", encoding="utf-8")
    (tmp_path / "test.de").write_text("rennt hund ein\nkatze der\n", encoding="utf-8")
    args = ["translate", "train", "--src-file", str(tmp_path / "train.en"), "--tgt-file"]
    args += [str(tmp_path / "train.de"), "--tokens", "word", "--epochs", "2"]
    args += ["--embedding-size", "8", "--encoder-hidden-size", "8", "--decoder-hidden-size", "16"]
    result = runner.invoke(main, [*args, "--out", str(tmp_path / "run"), "--progress", "none"])
    assert result.exit_code == 0, result.output
    assert "en -> de, word vocabularies" in result.output
    run = str(tmp_path / "run")
    files = ["--src-file", str(tmp_path / "test.en"), "--tgt-file", str(tmp_path / "test.de")]
    out = tmp_path / "hyp.txt"
    result = runner.invoke(main, ["translate", "eval", run, *files, "--output", str(out), "--json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    assert {"bleu", "chrf", "length_ratio", "ppl"} <= set(scores)
    assert len(out.read_text(encoding="utf-8").splitlines()) == 2
    result = runner.invoke(
        main, ["translate", "predict", run, "--input", "-", "--json"], input="a dog\n\nthe cat\n"
    )
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["input"] for line in result.output.splitlines()] == [
        "a dog",
        "the cat",
    ]
    plot = tmp_path / "attention.png"
    result = runner.invoke(main, ["translate", "predict", run, "a big dog", "--plot", str(plot)])
    assert result.exit_code == 0, result.output
    assert plot.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["eval", "RUN"], 2, "the run has no test set"),
        (["eval", "RUN", "--src-file", "x.en"], 2, "--src-file and --tgt-file go together"),
        (["predict", "RUN"], 2, "give TEXT arguments, --input FILE"),
        (["predict", "RUN", "a dog", "--n-best", "2"], 2, "--n-best 2 needs --beam of at least 2"),
        (
            ["eval", "RUN", "--src-file", "short.en", "--tgt-file", "long.de"],
            1,
            "long.de: 3 lines where short.en has 2",
        ),
    ],
)
def test_command_line_errors_are_one_line(trained, args, code, message):
    _, root = trained
    (root / "short.en").write_text("a\nb\n", encoding="utf-8")
    (root / "long.de").write_text("x\ny\nz\n", encoding="utf-8")
    args = [a.replace("RUN", str(root / "run")) for a in args]
    args = [str(root / a) if a.endswith((".en", ".de")) else a for a in args]
    result = CliRunner().invoke(main, ["translate", *args])
    assert result.exit_code == code, result.output
    assert message in result.output and "Traceback" not in result.output
