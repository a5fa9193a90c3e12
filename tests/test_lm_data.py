"""Language-modeling data: Vocabulary, tokenize/detokenize, load_lm_corpus, batchify,
unigram_entropy, on hand-made text; plus the standard numbers of the real
corpora (``real_data``, skipped without ``$RNNKIT_DATA``)."""

from __future__ import annotations

import gzip
import json
import math
import re
from pathlib import Path

import pytest
import torch

from rnnkit.config import ConfigError
from rnnkit.data import (
    DataError,
    LMCorpus,
    Vocabulary,
    batchify,
    detokenize,
    lm_corpora,
    load_lm_corpus,
    tokenize,
    unigram_entropy,
)

POEM = "the cat sat\n\n  on the   mat\nthe end\n"


def _need(root: Path, name: str) -> None:
    if not (root / name).is_dir():
        pytest.skip(f"{name}/ is not under {root}")


@pytest.fixture
def fake_root(monkeypatch, tmp_path):
    """An empty data root as $RNNKIT_DATA (and cache) for hand-made registry datasets."""
    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.setenv("RNNKIT_DATA", str(root))
    monkeypatch.setenv("RNNKIT_CACHE", str(tmp_path / "cache"))
    return root


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8")
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


# --- Vocabulary.build --------------------------------------------------------------------------


def test_build_orders_specials_then_frequency_then_first_appearance():
    vocab = Vocabulary.build(["b", "a", "c", "a", "b", "d", "c", "e"])
    # counts: b 2, a 2, c 2, d 1, e 1; ties keep first appearance (b before a before c)
    assert vocab.tokens == ("<unk>", "<eos>", "b", "a", "c", "d", "e")
    padded = Vocabulary.build(["x", "y", "y"], pad="<pad>")
    assert padded.tokens == ("<pad>", "<unk>", "<eos>", "y", "x")
    assert (padded.pad_id, padded.unk_id, padded.eos_id) == (0, 1, 2)
    bare = Vocabulary.build(["x", "y", "y"], unk=None, eos=None)
    assert bare.tokens == ("y", "x")
    assert (bare.pad_id, bare.unk_id, bare.eos_id) == (None, None, None)


def test_build_min_freq_and_max_vocab():
    stream = list("aaaabbbccd")  # a 4, b 3, c 2, d 1
    assert Vocabulary.build(stream, min_freq=2).tokens == ("<unk>", "<eos>", "a", "b", "c")
    assert Vocabulary.build(stream, min_freq=4).tokens == ("<unk>", "<eos>", "a")
    assert Vocabulary.build(stream, max_vocab=4).tokens == ("<unk>", "<eos>", "a", "b")
    assert len(Vocabulary.build(stream, max_vocab=2)) == 2  # specials only
    assert len(Vocabulary.build(stream, max_vocab=100)) == 6
    capped = Vocabulary.build(stream, min_freq=3, max_vocab=10, eos=None)
    assert capped.tokens == ("<unk>", "a", "b")
    assert capped.encode(list("abcd")) == [1, 2, 0, 0]


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"min_freq": 0}, "min_freq"),
        ({"min_freq": 1.5}, "min_freq"),
        ({"max_vocab": 1}, "max_vocab"),  # two specials need two places
        ({"max_vocab": True}, "max_vocab"),
    ],
)
def test_build_rejects_bad_limits(kwargs, key):
    with pytest.raises(ConfigError) as info:
        Vocabulary.build(["a"], **kwargs)
    assert info.value.key == key


def test_corpus_with_literal_unk_keeps_it_as_the_special():
    # PTB: "<unk>" is in the text, here as the most frequent token, and so is "<eos>".
    stream = tokenize("<unk> a <unk>\nb <unk> a\n", "word")
    vocab = Vocabulary.build(stream)
    assert vocab.tokens == ("<unk>", "<eos>", "a", "b")
    assert vocab.tokens.count("<unk>") == 1
    assert vocab.encode(["<unk>", "zzz", "<eos>"]) == [0, 0, 1]
    assert vocab.coverage(stream) == 1.0  # the literal <unk> is in the vocabulary
    # Without an unk special it is an ordinary (here the most frequent) token.
    plain = Vocabulary.build(stream, unk=None)
    assert plain.tokens == ("<eos>", "<unk>", "a", "b")
    assert plain.unk_id is None


# --- Vocabulary lookups ------------------------------------------------------------------------


def test_lookups_and_container_protocol():
    vocab = Vocabulary(["<unk>", "<eos>", "a", "b"])
    assert len(vocab) == 4 and list(vocab) == ["<unk>", "<eos>", "a", "b"]
    assert "a" in vocab and "z" not in vocab and 3 not in vocab
    assert vocab[3] == "b" and vocab.id("b") == 3 and vocab.id("z") == 0
    assert (vocab.unk, vocab.eos, vocab.pad) == ("<unk>", "<eos>", None)
    for bad in (4, -1):
        with pytest.raises(IndexError, match=r"expected 0 \.\. 3"):
            vocab[bad]
    assert vocab == Vocabulary(["<unk>", "<eos>", "a", "b"])
    assert vocab != Vocabulary(["<unk>", "<eos>", "b", "a"])
    assert hash(vocab) == hash(Vocabulary(["<unk>", "<eos>", "a", "b"]))
    assert repr(vocab) == "Vocabulary(4 tokens, unk='<unk>', eos='<eos>', pad=None)"


def test_vocabulary_is_immutable():
    vocab = Vocabulary(["<unk>", "<eos>", "a"])
    with pytest.raises(AttributeError, match="immutable"):
        vocab._tokens = ("x",)
    with pytest.raises(AttributeError, match="immutable"):
        vocab.extra = 1
    with pytest.raises(AttributeError):
        vocab.tokens = ()
    source = ["<unk>", "<eos>", "a"]
    copy = Vocabulary(source)
    source.append("b")  # the vocabulary holds its own tuple
    assert copy.tokens == ("<unk>", "<eos>", "a")


def test_encode_decode_round_trip():
    stream = tokenize(POEM, "word")
    vocab = Vocabulary.build(stream)
    ids = vocab.encode(stream)
    assert ids == [2, 3, 4, 1, 1, 5, 2, 6, 1, 2, 7, 1]
    assert vocab.decode(ids) == stream
    assert vocab.decode(torch.tensor(ids)) == stream  # a tensor works too
    assert detokenize(vocab.decode(ids), "word") == "the cat sat\n\non the mat\nthe end\n"
    chars = Vocabulary.build(tokenize(POEM, "char"), unk=None, eos=None)
    assert "".join(chars.decode(chars.encode(list(POEM)))) == POEM


def test_unknown_tokens_without_unk_and_bad_ids_are_named():
    vocab = Vocabulary(["a", "b"], unk=None, eos=None)
    with pytest.raises(DataError, match="token 'zz' is not in the vocabulary"):
        vocab.id("zz")
    with pytest.raises(DataError, match="token 'zz' at position 2 is not in the vocabulary"):
        vocab.encode(["a", "b", "zz"])
    with pytest.raises(DataError, match=r"id 2 at position 1 is outside .*expected 0 \.\. 1"):
        vocab.decode([0, 2])
    with pytest.raises(DataError, match="id -1 at position 0"):
        vocab.decode([-1])
    with pytest.raises(DataError, match="id 1.0 at position 0"):
        vocab.decode(torch.tensor([1.0]))


def test_coverage():
    vocab = Vocabulary(["<unk>", "<eos>", "a", "b"])
    assert vocab.coverage(["a", "b", "c", "d"]) == 0.5
    assert vocab.coverage(iter(["a", "<eos>", "a"])) == 1.0
    with pytest.raises(DataError, match="empty"):
        vocab.coverage([])


@pytest.mark.parametrize(
    ("tokens", "kwargs", "pattern"),
    [
        (["a", "b", "a"], {"unk": None, "eos": None}, "duplicate token 'a' at ids 0 and 2"),
        (["a", "<eos>"], {}, "field 'unk': special token '<unk>' is not in tokens"),
        (["<unk>", "a"], {}, "field 'eos': special token '<eos>' is not in tokens"),
        (["<x>"], {"unk": "<x>", "eos": "<x>"}, "field 'eos': '<x>' is already the unk token"),
        (["a", 3], {"unk": None, "eos": None}, r"expected a string at id 1, got 3 \(int\)"),
        ("ab", {"unk": None, "eos": None}, r"expected a list of strings, got 'ab' \(str\)"),
    ],
)
def test_constructor_rejects_bad_tokens(tokens, kwargs, pattern):
    with pytest.raises(DataError, match=pattern):
        Vocabulary(tokens, **kwargs)


# --- to_dict / from_dict -----------------------------------------------------------------------


def test_to_dict_from_dict_round_trip_through_json():
    vocab = Vocabulary.build(tokenize(POEM, "word"), pad="<pad>")
    data = json.loads(json.dumps(vocab.to_dict()))
    assert data == {
        "tokens": ["<pad>", "<unk>", "<eos>", "the", "cat", "sat", "on", "mat", "end"],
        "unk": "<unk>",
        "eos": "<eos>",
        "pad": "<pad>",
    }
    again = Vocabulary.from_dict(data)
    assert again == vocab and again.tokens == vocab.tokens and again.pad_id == 0
    bare = Vocabulary(["x"], unk=None, eos=None)
    assert Vocabulary.from_dict(json.loads(json.dumps(bare.to_dict()))) == bare


_GOOD = {"tokens": ["<unk>", "<eos>", "a"], "unk": "<unk>", "eos": "<eos>", "pad": None}


@pytest.mark.parametrize(
    ("data", "pattern"),
    [
        (["<unk>"], r"vocab.json: expected a JSON object .*got \['<unk>'\] \(list\)"),
        ({"tokens": ["a"]}, r"missing \['unk', 'eos', 'pad'\], unknown \[\]"),
        ({**_GOOD, "size": 3}, r"missing \[\], unknown \['size'\]"),
        ({**_GOOD, "tokens": "abc"}, r"field 'tokens': expected a list of strings"),
        ({**_GOOD, "tokens": ["<unk>", "<eos>", 7]}, r"field 'tokens': .*at id 2, got 7"),
        ({**_GOOD, "unk": 0}, r"field 'unk': expected a string or null, got 0 \(int\)"),
        ({**_GOOD, "pad": "<pad>"}, r"field 'pad': special token '<pad>' is not in tokens"),
        ({**_GOOD, "tokens": ["<unk>", "<eos>", "<eos>"]}, "duplicate token '<eos>'"),
    ],
)
def test_from_dict_rejects_malformed_dicts(data, pattern):
    with pytest.raises(DataError, match=pattern) as info:
        Vocabulary.from_dict(data, file="run/vocab.json")
    assert info.value.file == "run/vocab.json"


# --- tokenize / detokenize ---------------------------------------------------------------------


def test_tokenize_word_level_adds_eos_per_line():
    assert tokenize(POEM, "word") == [
        *["the", "cat", "sat", "<eos>"],
        "<eos>",  # the empty line
        *["on", "the", "mat", "<eos>"],
        *["the", "end", "<eos>"],
    ]
    assert tokenize("a b", "word") == ["a", "b", "<eos>"]  # no final newline: same
    assert tokenize("a\r\nb\r\n", "word", eos="</s>") == ["a", "</s>", "b", "</s>"]
    assert tokenize("", "word") == []


def test_tokenize_char_level_keeps_newlines_and_adds_no_eos():
    assert tokenize("ab\n\nc", "char") == ["a", "b", "\n", "\n", "c"]
    assert detokenize(tokenize(POEM, "char"), "char") == POEM


def test_word_level_round_trips_on_multi_line_text():
    tokens = tokenize(POEM, "word")
    text = detokenize(tokens, "word")
    assert text == "the cat sat\n\non the mat\nthe end\n"  # whitespace normalised
    assert tokenize(text, "word") == tokens
    assert detokenize(tokenize(text, "word"), "word") == text
    assert detokenize(["a", "b", "<eos>", "c"], "word") == "a b\nc"  # unfinished last line


def test_bad_level_is_a_config_error():
    with pytest.raises(ConfigError, match="level: expected one of 'char', 'word', got 'words'"):
        tokenize("a", "words")
    with pytest.raises(ConfigError, match="level"):
        detokenize(["a"], "bpe")


# --- load_lm_corpus ----------------------------------------------------------------------------


def test_lm_corpora_are_the_language_modeling_datasets():
    assert lm_corpora() == ["ptb", "tinyshakespeare", "wikitext-2"]


def test_load_split_registry_dataset(fake_root):
    for split in ("train", "valid", "test"):
        _write(fake_root / "ptb" / f"ptb.{split}.txt", f" {split} words <unk>\n")
    corpus = load_lm_corpus(dataset="ptb")
    assert corpus == LMCorpus(
        " train words <unk>\n",
        " valid words <unk>\n",
        " test words <unk>\n",
        "ptb (train / valid / test as shipped)",
    )


def test_load_registry_dataset_reads_gz(fake_root):
    _write(fake_root / "wikitext-2" / "wiki.train.tokens.gz", " = A = \n x y \n")
    _write(fake_root / "wikitext-2" / "wiki.valid.tokens", "v\n")
    _write(fake_root / "wikitext-2" / "wiki.test.tokens", "t\n")
    corpus = load_lm_corpus(dataset="wikitext-2")
    assert (corpus.train, corpus.valid, corpus.test) == (" = A = \n x y \n", "v\n", "t\n")


def test_single_file_dataset_is_split_exactly_like_nanogpt(fake_root):
    text = "".join(f"line {i}\n" for i in range(100))  # 790 characters
    _write(fake_root / "tinyshakespeare" / "input.txt", text)
    corpus = load_lm_corpus(dataset="tinyshakespeare")
    n = len(text)
    assert corpus.train == text[: int(n * 0.9)] and corpus.valid == text[int(n * 0.9) :]
    assert len(corpus.train) == 711 and corpus.test is None
    assert corpus.source == "tinyshakespeare (first 90% / last 10% of characters)"
    five = load_lm_corpus(dataset="tinyshakespeare", valid_fraction=0.05)
    assert len(five.train) == int(n * 0.95)
    assert five.source == "tinyshakespeare (first 95% / last 5% of characters)"


def test_data_file_split_by_characters_or_at_a_line_end(tmp_path):
    path = _write(tmp_path / "corpus.txt", "aaaa\nbbbb\ncccc\ndddd\n")  # 20 characters
    exact = load_lm_corpus(data=path, valid_fraction=0.3)
    assert (exact.train, exact.valid, exact.test) == ("aaaa\nbbbb\ncccc", "\ndddd\n", None)
    lined = load_lm_corpus(data=path, valid_fraction=0.3, split_at_line=True)
    assert (lined.train, lined.valid) == ("aaaa\nbbbb\ncccc\n", "dddd\n")
    assert lined.source == f"{path} (first 70% / last 30% of characters, cut at a line end)"
    # The split point already at a line end stays there.
    assert load_lm_corpus(data=path, valid_fraction=0.5, split_at_line=True).train == (
        "aaaa\nbbbb\n"
    )


def test_line_split_falls_back_when_no_later_line_end(tmp_path):
    # The only later newline is the last character: cut at the last line end before instead.
    path = _write(tmp_path / "a.txt", "ab\ncdefghijklmnopqrstuvwxyz\n")
    corpus = load_lm_corpus(data=path, split_at_line=True)
    assert (corpus.train, corpus.valid) == ("ab\n", "cdefghijklmnopqrstuvwxyz\n")
    # No newline at all: the exact character cut.
    path = _write(tmp_path / "b.txt", "0123456789")
    assert load_lm_corpus(data=path, split_at_line=True).valid == "9"
    # Its only newline ends the text: no line end leaves text for valid, so the exact cut.
    path = _write(tmp_path / "c.txt", "abcdefghij\n")
    assert load_lm_corpus(data=path, split_at_line=True).valid == "j\n"


def test_data_file_with_valid_and_test_files(tmp_path):
    train = _write(tmp_path / "train.txt", "t r a i n\n")
    valid = _write(tmp_path / "valid.txt.gz", "v a l i d\n")
    test = _write(tmp_path / "test.txt", "t e s t\n")
    both = load_lm_corpus(data=train, valid=valid, test=test)
    assert (both.train, both.valid, both.test) == ("t r a i n\n", "v a l i d\n", "t e s t\n")
    assert both.source == f"{train} (train), {valid} (valid), test {test}"
    no_test = load_lm_corpus(data=str(train), valid=str(valid))
    assert no_test.test is None
    test_only = load_lm_corpus(data=train, test=test, valid_fraction=0.5)
    assert (test_only.train, test_only.valid, test_only.test) == ("t r a", " i n\n", "t e s t\n")


def test_exactly_one_of_dataset_and_data(tmp_path):
    path = _write(tmp_path / "a.txt", "text\n")
    for kwargs in ({}, {"dataset": "ptb", "data": path}):
        with pytest.raises(ConfigError, match="exactly one of dataset= .* and data="):
            load_lm_corpus(**kwargs)
    with pytest.raises(ConfigError, match="valid= and test= go with data="):
        load_lm_corpus(dataset="ptb", valid=path)
    for fraction in (0, 1, 1.5, -0.1):
        with pytest.raises(ConfigError, match="valid_fraction"):
            load_lm_corpus(data=path, valid_fraction=fraction)


def test_only_language_modeling_datasets(fake_root):
    message = "'airline' is for .*; the language-modeling corpora are ptb, tinyshakespeare, "
    with pytest.raises(DataError, match=message + "wikitext-2"):
        load_lm_corpus(dataset="airline")
    with pytest.raises(DataError, match="unknown dataset 'ptbb'"):
        load_lm_corpus(dataset="ptbb")
    with pytest.raises(DataError, match="ptb/ptb.train.txt not found"):
        load_lm_corpus(dataset="ptb")


def test_empty_texts_name_the_file(tmp_path, fake_root):
    empty = _write(tmp_path / "empty.txt", "")
    text = _write(tmp_path / "text.txt", "abc\n")
    with pytest.raises(DataError, match=f"^{re.escape(str(empty))}: empty file"):
        load_lm_corpus(data=empty)
    with pytest.raises(DataError, match=f"^{re.escape(str(empty))}: empty file"):
        load_lm_corpus(data=text, valid=empty)
    with pytest.raises(DataError, match=f"^{re.escape(str(empty))}: empty file"):
        load_lm_corpus(data=text, valid=text, test=empty)
    tiny = _write(tmp_path / "tiny.txt", "a")  # int(1 * 0.9) == 0: no train text
    with pytest.raises(
        DataError, match=f"^{re.escape(str(tiny))}: the train part of the split is empty"
    ):
        load_lm_corpus(data=tiny)
    valid = _write(fake_root / "ptb" / "ptb.valid.txt", "")
    _write(fake_root / "ptb" / "ptb.train.txt", "a\n")
    with pytest.raises(DataError, match=f"^{re.escape(str(valid))}: empty file"):
        load_lm_corpus(dataset="ptb")


# --- batchify ---------------------------------------------------------------------------------


def test_batchify_rows_are_contiguous_slices():
    ids = torch.arange(100, 123)  # N = 23
    stream = batchify(ids, 4)
    assert stream.shape == (4, 5)
    for b in range(4):
        assert stream[b].tolist() == ids[b * 5 : (b + 1) * 5].tolist()
    assert stream.data_ptr() == ids.data_ptr()  # a view, not a copy
    assert batchify(ids, 1).tolist() == [ids.tolist()]
    assert batchify(torch.arange(4, dtype=torch.int32), 2).dtype == torch.int32


def test_batchify_needs_two_tokens_per_row():
    assert batchify(torch.arange(8), 4).shape == (4, 2)
    with pytest.raises(DataError, match="batch_size 4: 7 tokens, expected at least 8"):
        batchify(torch.arange(7), 4)
    with pytest.raises(ConfigError, match="batch_size: expected an int >= 1, got 0"):
        batchify(torch.arange(7), 0)
    with pytest.raises(
        ConfigError, match=r"ids: expected a 1-D integer tensor, got shape \(2, 2\)"
    ):
        batchify(torch.zeros(2, 2, dtype=torch.long), 1)
    with pytest.raises(ConfigError, match="dtype torch.float32"):
        batchify(torch.zeros(8), 1)
    with pytest.raises(ConfigError, match="expected a torch.Tensor, got list"):
        batchify([1, 2, 3], 1)


# --- unigram_entropy ---------------------------------------------------------------------------


def test_unigram_entropy_values():
    assert unigram_entropy(torch.arange(50) % 10, 10) == pytest.approx(math.log(10), abs=1e-12)
    assert unigram_entropy([0, 0, 0, 1], 5) == pytest.approx(
        -(0.75 * math.log(0.75) + 0.25 * math.log(0.25)), abs=1e-12
    )
    assert unigram_entropy(torch.full((3, 4), 2), 3) == 0.0
    # The best context-free model: the empirical distribution's cross-entropy is the entropy.
    ids = torch.tensor([0, 1, 1, 2, 2, 2, 2, 3])
    p = torch.bincount(ids).double() / len(ids)
    cross_entropy = torch.nn.functional.nll_loss(p.log().expand(len(ids), -1), ids).item()
    assert unigram_entropy(ids, 4) == pytest.approx(cross_entropy, abs=1e-12)


def test_unigram_entropy_rejects_bad_ids():
    with pytest.raises(DataError, match=r"id 4 is outside the vocabulary \(expected 0 \.\. 3\)"):
        unigram_entropy([0, 4], 4)
    with pytest.raises(DataError, match="id -1"):
        unigram_entropy([-1, 0], 4)
    with pytest.raises(DataError, match="empty"):
        unigram_entropy([], 4)
    with pytest.raises(ConfigError, match="vocab_size"):
        unigram_entropy([0], 0)
    with pytest.raises(ConfigError, match="integer ids"):
        unigram_entropy(torch.tensor([0.0, 1.0]), 2)


# --- real corpora ------------------------------------------------------------------------------


@pytest.mark.real_data
def test_ptb_standard_numbers(real_data):
    _need(real_data, "ptb")
    corpus = load_lm_corpus(dataset="ptb")
    train = tokenize(corpus.train, "word")
    vocab = Vocabulary.build(train)
    assert len(vocab) == 10000  # <unk> and <eos> included: the literal <unk> is not doubled
    assert vocab.tokens[:4] == ("<unk>", "<eos>", "the", "N")
    assert len(train) == 929589
    valid, test = tokenize(corpus.valid, "word"), tokenize(corpus.test, "word")
    assert (len(valid), len(test)) == (73760, 82430)
    assert vocab.coverage(valid) == 1.0 and vocab.coverage(test) == 1.0  # closed vocabulary


@pytest.mark.real_data
def test_tinyshakespeare_nanogpt_split(real_data):
    _need(real_data, "tinyshakespeare")
    corpus = load_lm_corpus(dataset="tinyshakespeare")
    assert (len(corpus.train), len(corpus.valid), corpus.test) == (1003854, 111540, None)
    assert corpus.train.startswith("First Citizen:\nBefore we proceed any further")
    chars = Vocabulary.build(tokenize(corpus.train + corpus.valid, "char"), unk=None, eos=None)
    assert len(chars) == 65
    assert len(set(corpus.train)) == 65 and len(set(corpus.valid)) == 61


@pytest.mark.real_data
def test_wikitext2_standard_numbers(real_data):
    _need(real_data, "wikitext-2")
    corpus = load_lm_corpus(dataset="wikitext-2")
    train = tokenize(corpus.train, "word")
    assert len(train) == 2088628
    assert len(Vocabulary.build(train)) == 33278  # 33,277 types (with <unk>) plus <eos>
    valid = tokenize(corpus.valid, "word")
    test = tokenize(corpus.test, "word")
    assert (len(valid), len(test)) == (217646, 245569)
