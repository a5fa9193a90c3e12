"""word2vec training (``rnnkit.data.word2vec``) and ``rnnkit embed train``."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from rnnkit.cli import main
from rnnkit.config import ConfigError
from rnnkit.data.embeddings import load_vectors, save_vectors
from rnnkit.data.errors import DataError
from rnnkit.data.text import TextConfig
from rnnkit.data.word2vec import Word2VecConfig, read_corpus, train_word2vec

# "cat"/"dog" share every context, and so do "car"/"truck"; the two pairs share none.
TEMPLATES = ("the {} sat on the mat", "my {} drove down the road")
PAIRS = (("cat", "dog"), ("car", "truck"))
SMALL = Word2VecConfig(dim=16, window=2, min_count=1, epochs=10, seed=0)


def corpus_lines(n: int = 300, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    lines = []
    for _ in range(n):
        kind = rng.randrange(2)
        lines.append(TEMPLATES[kind].format(rng.choice(PAIRS[kind])))
    return lines


def corpus_tokens(n: int = 300) -> list[list[str]]:
    return [line.split() for line in corpus_lines(n)]


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.mark.parametrize("method", ["skipgram", "cbow"])
def test_words_sharing_contexts_get_similar_vectors(method):
    # About 0.99 vs 0.1-0.3 for seeds 0-2 and both methods; the margins below leave room.
    config = Word2VecConfig(dim=16, window=2, min_count=1, epochs=20, method=method)
    words, vectors = train_word2vec(corpus_tokens(1000), config)
    v = dict(zip(words, vectors, strict=True))
    related = cosine(v["cat"], v["dog"])
    assert related > 0.9
    assert related > cosine(v["cat"], v["car"]) + 0.4
    assert related > cosine(v["cat"], v["truck"]) + 0.4
    assert cosine(v["car"], v["truck"]) > cosine(v["dog"], v["truck"]) + 0.4


def test_words_sorted_by_frequency_and_min_count_applies():
    sentences = [["a", "b", "a", "c"], ["a", "b"]] * 5  # a: 15, b: 10, c: 5
    words, vectors = train_word2vec(sentences, Word2VecConfig(dim=4, min_count=6))
    assert words == ["a", "b"]
    assert vectors.shape == (2, 4) and vectors.dtype == np.float32
    assert np.isfinite(vectors).all()


def test_same_seed_same_vectors_other_seed_differs():
    first = train_word2vec(corpus_tokens(100), SMALL)
    second = train_word2vec(corpus_tokens(100), SMALL)
    other = train_word2vec(corpus_tokens(100), Word2VecConfig(dim=16, min_count=1, seed=1))
    assert first[0] == second[0]
    np.testing.assert_array_equal(first[1], second[1])
    assert not np.allclose(first[1], other[1])


@pytest.mark.parametrize("fmt", ["word2vec-text", "glove"])
def test_round_trip_through_load_vectors(tmp_path, fmt):
    words, vectors = train_word2vec(corpus_tokens(100), SMALL)
    path = save_vectors(tmp_path / "v.txt", words, vectors, format=fmt)
    loaded_words, loaded = load_vectors(path, format=fmt)
    assert loaded_words == words
    assert loaded.dtype == np.float32
    np.testing.assert_array_equal(loaded, vectors)  # 9 digits: float32 exactly
    assert load_vectors(path)[0] == words  # the format is also detected


def test_long_lines_are_cut_not_truncated():
    # gensim's compiled loop keeps only the first 10,000 tokens of a sentence.
    line = ["x"] * 10_000 + ["rare"] * 3
    words, _ = train_word2vec([line], Word2VecConfig(dim=4, min_count=1, epochs=1))
    assert words == ["x", "rare"]


def test_min_count_too_high_names_the_counts():
    with pytest.raises(ConfigError, match="min_count") as info:
        train_word2vec(corpus_tokens(10), Word2VecConfig(min_count=1000))
    message = str(info.value)
    assert "no word occurs 1000 times" in message and "lower --min-count" in message
    assert "'the'" in message and "distinct words" in message


def test_bad_inputs_are_config_errors():
    with pytest.raises(ConfigError, match="one-shot iterator"):
        train_word2vec((s for s in corpus_tokens(5)), SMALL)
    with pytest.raises(ConfigError, match=r"sentences\[0\]: expected a list of tokens"):
        train_word2vec(["the cat sat"], SMALL)
    with pytest.raises(DataError, match="no tokens"):
        train_word2vec([[], []], SMALL)
    with pytest.raises(ConfigError, match="expected a Word2VecConfig"):
        train_word2vec(corpus_tokens(5), {"dim": 4})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("dim", 0, "dim: expected a positive number"),
        ("method", "sg", "method: expected one of 'skipgram', 'cbow'"),
        ("window", "5", "window: expected int"),
        ("seed", -1, "seed: expected an int >= 0"),
        ("workers", 0, "workers: expected a positive number"),
    ],
)
def test_config_validation(field, value, expected):
    with pytest.raises(ConfigError, match=expected):
        Word2VecConfig(**{field: value})


def test_read_corpus_text_gzip_and_tables(tmp_path):
    text = "The cat sat.\n\n<b>Dog</b> ran!\n"
    plain = tmp_path / "c.txt"
    plain.write_text(text, encoding="utf-8")
    with gzip.open(tmp_path / "c.txt.gz", "wt", encoding="utf-8") as f:
        f.write(text)
    expected = [["the", "cat", "sat", "."], ["dog", "ran", "!"]]
    assert read_corpus(plain) == expected
    assert read_corpus(tmp_path / "c.txt.gz") == expected
    assert read_corpus(plain, TextConfig(lowercase=False))[0][0] == "The"
    (tmp_path / "c.csv").write_text('id,body\n1,"Cats, dogs"\n2,\n', encoding="utf-8")
    assert read_corpus(tmp_path / "c.csv", text_col="body") == [["cats", ",", "dogs"]]
    (tmp_path / "c.jsonl").write_text('{"text": "A b"}\n{"text": 3}\n', encoding="utf-8")
    with pytest.raises(DataError, match="record 2: expected a string, got int"):
        read_corpus(tmp_path / "c.jsonl")
    with pytest.raises(DataError, match="no such column"):
        read_corpus(tmp_path / "c.csv")
    with pytest.raises(ConfigError, match="text_col: applies only to"):
        read_corpus(plain, text_col="body")


def write_corpus(path: Path, n: int = 300) -> Path:
    path.write_text("\n".join(corpus_lines(n)) + "\n", encoding="utf-8")
    return path


def test_cli_trains_and_writes_vectors(tmp_path):
    data = write_corpus(tmp_path / "corpus.txt")
    out = tmp_path / "vectors" / "w2v.txt"
    args = ["embed", "train", "--data", str(data), "--out", str(out), "--dim", "8"]
    result = CliRunner().invoke(main, [*args, "--min-count", "1", "--epochs", "2"])
    assert result.exit_code == 0, result.output
    words, vectors = load_vectors(out)
    assert vectors.shape == (len(words), 8) and "cat" in words
    assert "vocabulary  " in result.output and str(out) in result.output


def test_cli_json_summary_glove_and_table(tmp_path):
    data = tmp_path / "corpus.tsv"
    data.write_text("label\tbody\n" + "".join(f"0\t{s}\n" for s in corpus_lines(100)))
    out = tmp_path / "w2v.glove"
    args = ["embed", "train", "--data", str(data), "--out", str(out), "--text-col", "body"]
    args += ["--format", "glove", "--dim", "4", "--epochs", "1", "--json"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    words, vectors = load_vectors(out, format="glove")
    assert summary["type"] == "summary" and summary["out"] == str(out)
    assert summary["vocab_size"] == len(words) and summary["dim"] == 4 == vectors.shape[1]
    assert summary["tokens"] == sum(len(s.split()) for s in corpus_lines(100))
    assert summary["sentences"] == 100 and summary["format"] == "glove"


def test_cli_missing_file(tmp_path):
    missing = tmp_path / "nope.txt"
    args = ["embed", "train", "--data", str(missing), "--out", str(tmp_path / "v.txt")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert "error:" in result.output and "nope.txt" in result.output
    assert not (tmp_path / "v.txt").exists()


def test_cli_min_count_too_high(tmp_path):
    data = write_corpus(tmp_path / "corpus.txt", n=20)
    out = tmp_path / "v.txt"
    result = CliRunner().invoke(
        main, ["embed", "train", "--data", str(data), "--out", str(out), "--min-count", "500"]
    )
    assert result.exit_code != 0
    assert "error: min_count: no word occurs 500 times" in result.output
    assert "lower --min-count" in result.output
    assert not out.exists()


def test_cli_empty_corpus_and_bad_flag(tmp_path):
    data = tmp_path / "empty.txt"
    data.write_text("\n\n", encoding="utf-8")
    base = ["embed", "train", "--data", str(data), "--out", str(tmp_path / "v.txt")]
    empty = CliRunner().invoke(main, base)
    assert empty.exit_code == 1 and "empty.txt: no tokens found" in empty.output
    bad = CliRunner().invoke(main, [*base, "--dim", "0"])
    assert bad.exit_code == 2 and "error: word2vec.dim: expected a positive number" in bad.output
