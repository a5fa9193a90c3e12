"""rnnkit.data.embeddings: loaders on small files of every format (written here, binary ones
with NumPy and gensim), each error's location, save/load round trips, and the embedding matrix
with its coverage report and the init of missing rows."""

from __future__ import annotations

import gzip
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from rnnkit.config import ConfigError
from rnnkit.data import (
    CoverageReport,
    DataError,
    detect_format,
    embedding_matrix,
    load_vectors,
    save_vectors,
)

WORDS = ["the", "cat", "Paris", "well-known"]
VECTORS = np.array(
    [[0.1, -0.2, 0.3], [1.5, 2.25, -3.0], [0.0, 1e-3, 7.0], [-0.5, 0.5, 0.125]],
    dtype=np.float32,
)


def text_lines(words=WORDS, vectors=VECTORS, trailing: str = "") -> str:
    return "".join(
        f"{w} {' '.join(repr(float(v)) for v in row)}{trailing}\n"
        for w, row in zip(words, vectors, strict=True)
    )


def write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(gzip.compress(content) if path.suffix == ".gz" else content)
    return path


def binary_content(words=WORDS, vectors=VECTORS, *, newline: bool = True) -> bytes:
    """word2vec binary: 'N D\\n', then word, space, D little-endian float32 (C tool: + '\\n')."""
    parts = [f"{len(words)} {vectors.shape[1]}\n".encode()]
    for word, row in zip(words, vectors, strict=True):
        parts.append(word.encode("utf-8") + b" " + row.astype("<f4").tobytes())
        if newline:
            parts.append(b"\n")
    return b"".join(parts)


def assert_loaded(result, words=WORDS, vectors=VECTORS):
    got_words, got_vectors = result
    assert got_words == list(words)
    assert got_vectors.dtype == np.float32
    assert got_vectors.shape == vectors.shape
    np.testing.assert_array_equal(got_vectors, vectors)


# ---------------------------------------------------------------------------------------------
# Formats
# ---------------------------------------------------------------------------------------------


def test_glove_text(tmp_path):
    path = write(tmp_path / "glove.6B.3d.txt", text_lines())
    assert detect_format(path) == "glove"
    assert_loaded(load_vectors(path))
    assert_loaded(load_vectors(path, format="glove"))


def test_word2vec_text_with_header_and_trailing_spaces(tmp_path):
    # word2vec's C tool and fastText end every line with a space.
    path = write(tmp_path / "w2v.txt", "4 3\n" + text_lines(trailing=" "))
    assert detect_format(path) == "word2vec-text"
    assert_loaded(load_vectors(path))
    assert_loaded(load_vectors(path, format="word2vec-text"))


def test_fasttext_vec(tmp_path):
    path = write(tmp_path / "wiki.en.vec", "4 3\n" + text_lines(trailing=" "))
    assert detect_format(path) == "fasttext"
    assert_loaded(load_vectors(path))


@pytest.mark.parametrize("newline", [True, False], ids=["c-tool", "gensim-style"])
def test_word2vec_binary_written_with_numpy(tmp_path, newline):
    path = write(tmp_path / "vectors.bin", binary_content(newline=newline))
    assert detect_format(path) == "word2vec-binary"
    assert_loaded(load_vectors(path))


def test_word2vec_binary_detected_by_content(tmp_path):
    path = write(tmp_path / "vectors.w2v", binary_content())
    assert detect_format(path) == "word2vec-binary"
    assert_loaded(load_vectors(path))


def test_binary_word_with_non_ascii_characters(tmp_path):
    words = ["café", "naïve", "日本"]
    vectors = np.arange(6, dtype=np.float32).reshape(3, 2)
    path = write(tmp_path / "u.bin", binary_content(words, vectors))
    assert_loaded(load_vectors(path), words, vectors)


@pytest.mark.parametrize("name", ["glove.txt.gz", "w2v.bin.gz"])
def test_gzip_files(tmp_path, name):
    content = text_lines() if name.startswith("glove") else binary_content()
    path = write(tmp_path / name, content)
    assert_loaded(load_vectors(path))


def test_files_written_by_gensim(tmp_path):
    from gensim.models import KeyedVectors

    kv = KeyedVectors(vector_size=3)
    kv.add_vectors(WORDS, VECTORS)
    kv.save_word2vec_format(str(tmp_path / "g.bin"), binary=True)
    kv.save_word2vec_format(str(tmp_path / "g.txt"), binary=False)
    assert_loaded(load_vectors(tmp_path / "g.bin"))
    assert detect_format(tmp_path / "g.txt") == "word2vec-text"
    words, vectors = load_vectors(tmp_path / "g.txt")
    assert words == WORDS
    np.testing.assert_allclose(vectors, VECTORS, rtol=1e-6)


def test_gensim_reads_what_save_vectors_writes(tmp_path):
    from gensim.models import KeyedVectors

    path = save_vectors(tmp_path / "ours.txt", WORDS, VECTORS)
    kv = KeyedVectors.load_word2vec_format(str(path), binary=False)
    np.testing.assert_array_equal(kv["Paris"], VECTORS[2])


def test_utf8_bom_and_crlf_line_ends(tmp_path):
    path = write(tmp_path / "v.txt", "\ufeff" + text_lines().replace("\n", "\r\n"))
    assert_loaded(load_vectors(path))


# ---------------------------------------------------------------------------------------------
# Content rules: duplicates, vocab filter, words with spaces, blank lines
# ---------------------------------------------------------------------------------------------


def test_duplicate_words_keep_the_first(tmp_path):
    path = write(tmp_path / "v.txt", "a 1 2\nb 3 4\na 5 6\n")
    words, vectors = load_vectors(path)
    assert words == ["a", "b"]
    np.testing.assert_array_equal(vectors, [[1, 2], [3, 4]])


def test_duplicate_words_in_binary_keep_the_first(tmp_path):
    vectors = np.array([[1, 2], [3, 4], [5, 6]], dtype=np.float32)
    path = write(tmp_path / "v.bin", binary_content(["a", "b", "a"], vectors))
    words, loaded = load_vectors(path)
    assert words == ["a", "b"]
    np.testing.assert_array_equal(loaded, vectors[:2])


@pytest.mark.parametrize("suffix", [".txt", ".bin"])
def test_vocab_filter_keeps_only_needed_words(tmp_path, suffix):
    content = text_lines() if suffix == ".txt" else binary_content()
    path = write(tmp_path / f"v{suffix}", content)
    words, vectors = load_vectors(path, vocab={"cat", "well-known", "dog"})
    assert words == ["cat", "well-known"]
    np.testing.assert_array_equal(vectors, VECTORS[[1, 3]])
    words, vectors = load_vectors(path, vocab=set())
    assert words == [] and vectors.shape == (0, 3)


def test_filtered_out_lines_are_not_parsed(tmp_path):
    path = write(tmp_path / "v.txt", "a 1 2\nb x y\n")
    assert load_vectors(path, vocab={"a"})[0] == ["a"]


def test_glove_words_with_spaces(tmp_path):
    # glove.840B.300d has entries such as ". . ." and "at name@domain.com".
    path = write(tmp_path / "v.txt", "a 1 2\n. . . 3 4\nat name@domain.com 5 6\n")
    words, vectors = load_vectors(path)
    assert words == ["a", ". . .", "at name@domain.com"]
    np.testing.assert_array_equal(vectors[2], [5, 6])


def test_blank_lines_are_skipped(tmp_path):
    path = write(tmp_path / "v.txt", "2 2\na 1 2\n\nb 3 4\n\n")
    assert load_vectors(path)[0] == ["a", "b"]


# ---------------------------------------------------------------------------------------------
# Errors: file, line, expected vs got
# ---------------------------------------------------------------------------------------------


def test_malformed_value_names_the_line_and_value(tmp_path):
    path = write(tmp_path / "v.txt", "a 1 2 3\nb 4 5 6\nc 7 oops 9\n")
    with pytest.raises(DataError) as info:
        load_vectors(path)
    assert (info.value.file, info.value.line) == (str(path), 3)
    assert str(info.value) == f"{path}:3: value 2: expected a finite number, got 'oops'"


def test_malformed_line_in_word2vec_text_counts_the_header_line(tmp_path):
    path = write(tmp_path / "v.txt", "2 2\na 1 2\nb 3 x\n")
    with pytest.raises(DataError, match=r"v\.txt:3: value 2: expected a finite number, got 'x'"):
        load_vectors(path)


def test_non_finite_value_is_an_error(tmp_path):
    path = write(tmp_path / "v.txt", "a 1 2\nb nan 2\n")
    with pytest.raises(DataError, match=r":2: value 1: expected a finite number, got 'nan'"):
        load_vectors(path)


def test_dimension_mismatch_says_expected_and_got(tmp_path):
    path = write(tmp_path / "v.txt", "a 1 2 3\nb 4 5 6\nc 7 8\n")
    with pytest.raises(DataError) as info:
        load_vectors(path)
    assert info.value.line == 3
    assert "expected 3 values (the dimension of line 1), got 2" in str(info.value)


def test_too_many_values_is_a_mismatch_not_a_word_with_spaces(tmp_path):
    path = write(tmp_path / "v.txt", "a 1 2\nb 3 4 5\n")
    with pytest.raises(
        DataError, match=r":2: expected 2 values \(the dimension of line 1\), got 3"
    ):
        load_vectors(path)


def test_dimension_mismatch_against_the_header(tmp_path):
    path = write(tmp_path / "v.txt", "2 3\na 1 2 3\nb 4 5\n")
    with pytest.raises(DataError, match=r":3: expected 3 values \(the dimension of the header"):
        load_vectors(path)


def test_header_count_must_match(tmp_path):
    path = write(tmp_path / "v.txt", "3 2\na 1 2\nb 3 4\n")
    with pytest.raises(DataError, match=r":1: the header says 3 vectors, the file has 2"):
        load_vectors(path)


def test_bad_header_for_an_explicit_format(tmp_path):
    path = write(tmp_path / "v.txt", "a 1 2\n")
    with pytest.raises(DataError, match=r":1: expected a header 'N D'"):
        load_vectors(path, format="word2vec-text")


def test_invalid_utf8_names_the_line(tmp_path):
    path = write(tmp_path / "v.txt", b"a 1 2\n\xff\xfe 3 4\n")
    with pytest.raises(DataError, match=r":2: invalid UTF-8"):
        load_vectors(path)


def test_empty_word_is_an_error(tmp_path):
    path = write(tmp_path / "v.txt", "a 1 2\n 3 4\n")
    with pytest.raises(DataError, match=r":2: "):
        load_vectors(path)


@pytest.mark.parametrize("content", ["", "\n\n", "0 5\n"])
def test_no_vectors_is_an_error(tmp_path, content):
    path = write(tmp_path / "v.txt", content)
    with pytest.raises(DataError, match="no vectors found"):
        load_vectors(path)


def test_truncated_binary_file(tmp_path):
    path = write(tmp_path / "v.bin", binary_content()[:-7])
    with pytest.raises(DataError, match="the header says 4 vectors, the file ends inside vector 4"):
        load_vectors(path)


def test_binary_with_extra_data(tmp_path):
    path = write(tmp_path / "v.bin", binary_content() + b"junk 1234")
    with pytest.raises(DataError, match="more data follows the last one"):
        load_vectors(path)


def test_binary_nan_names_the_vector(tmp_path):
    vectors = np.array([[1, 2], [np.nan, 0]], dtype=np.float32)
    path = write(tmp_path / "v.bin", binary_content(["a", "b"], vectors))
    with pytest.raises(DataError, match=r"vector 2 \('b'\): expected finite values"):
        load_vectors(path)


def test_missing_file_and_bad_format_name(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        load_vectors(tmp_path / "nope.txt")
    path = write(tmp_path / "v.txt", text_lines())
    with pytest.raises(ConfigError, match="format: expected one of 'auto'"):
        load_vectors(path, format="word2vec")


# ---------------------------------------------------------------------------------------------
# Saving
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["word2vec-text", "glove"])
def test_save_load_round_trip_is_exact(tmp_path, fmt):
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(50, 7)).astype(np.float32)
    words = [f"w{i}" for i in range(50)]
    path = save_vectors(tmp_path / "v.txt", words, vectors, format=fmt)
    assert detect_format(path) == fmt
    assert_loaded(load_vectors(path), words, vectors)


def test_save_replaces_atomically_and_leaves_no_temporary_file(tmp_path):
    path = write(tmp_path / "v.txt", "old content\n")
    save_vectors(path, ["a"], np.array([[1.0]]))
    assert path.read_text() == "1 1\na 1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["v.txt"]


@pytest.mark.parametrize(
    ("words", "vectors", "match"),
    [
        (["a b"], [[1.0]], r"words\[0\]: expected a non-empty string without whitespace"),
        (["a", "a"], [[1.0], [2.0]], r"words\[1\]: duplicate word 'a'"),
        (["a"], [[1.0], [2.0]], r"vectors: expected one row per word \(1\), got 2 rows"),
        (["a"], [[np.inf]], "vectors: expected finite values"),
        (["a"], [1.0], r"vectors: expected a 2-D array"),
    ],
)
def test_save_rejects_bad_input_and_writes_nothing(tmp_path, words, vectors, match):
    with pytest.raises(ConfigError, match=match):
        save_vectors(tmp_path / "v.txt", words, np.array(vectors))
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------------------------
# Embedding matrix and coverage
# ---------------------------------------------------------------------------------------------


def test_matrix_rows_coverage_and_token_share():
    vocab = ["<pad>", "<unk>", "the", "cat", "dog", "PARIS", "Well-Known"]
    counts = Counter({"the": 50, "cat": 10, "dog": 20, "PARIS": 5, "Well-Known": 5, "rare": 10})
    matrix, report = embedding_matrix(vocab, WORDS, VECTORS, pad_index=0, token_counts=counts)
    assert matrix.shape == (7, 3) and matrix.dtype == np.float32
    np.testing.assert_array_equal(matrix[0], 0.0)
    np.testing.assert_array_equal(matrix[[2, 3]], VECTORS[[0, 1]])
    # "PARIS" has no vector and neither has "paris": the file's word is "Paris".
    assert report == CoverageReport(vocab_found=3, vocab_total=6, token_found=65, token_total=100)
    assert report.vocab_share == 0.5 and report.token_share == 0.65
    assert str(report) == (
        "vectors for 3 of 6 vocabulary entries (50.0%), covering 65 of 100 tokens (65.0%)"
    )


def test_lowercase_fallback():
    words, vectors = ["paris", "cat"], VECTORS[:2]
    matrix, report = embedding_matrix(["Paris", "CAT", "cat"], words, vectors)
    np.testing.assert_array_equal(matrix, VECTORS[[0, 1, 1]])
    assert (report.vocab_found, report.vocab_total) == (3, 3)
    assert report.token_found is None and report.token_share is None
    matrix, report = embedding_matrix(
        ["Paris", "CAT", "cat"], words, vectors, lowercase_fallback=False
    )
    assert report.vocab_found == 1
    np.testing.assert_array_equal(matrix[2], VECTORS[1])


def test_exact_form_wins_over_the_lowercase_form():
    matrix, _ = embedding_matrix(["Paris"], ["paris", "Paris"], VECTORS[:2])
    np.testing.assert_array_equal(matrix[0], VECTORS[1])


def test_pad_row_is_zero_even_when_the_file_has_the_pad_word():
    matrix, report = embedding_matrix(["<pad>", "the"], ["<pad>", "the"], VECTORS[:2], pad_index=0)
    np.testing.assert_array_equal(matrix[0], 0.0)
    assert (report.vocab_found, report.vocab_total) == (1, 1)


def test_missing_rows_follow_the_loaded_vectors_mean_and_std(tmp_path):
    rng = np.random.default_rng(0)
    dim = 16
    mean = np.linspace(-1.0, 1.0, dim)
    std = np.linspace(0.1, 0.8, dim)
    vectors = (mean + std * rng.standard_normal((3000, dim))).astype(np.float32)
    path = save_vectors(tmp_path / "big.txt", [f"w{i}" for i in range(3000)], vectors)
    words, loaded = load_vectors(path)
    vocab = ["w0", "w1"] + [f"missing{i}" for i in range(4000)]
    matrix, report = embedding_matrix(vocab, words, loaded, seed=3)
    assert report.vocab_found == 2
    new_rows = matrix[2:]
    # 4000 draws: the sample mean is within 4 standard errors, the sample std within 5%.
    np.testing.assert_allclose(new_rows.mean(axis=0), loaded.mean(axis=0), atol=4 * 0.8 / 63)
    np.testing.assert_allclose(new_rows.std(axis=0), loaded.std(axis=0), rtol=0.05)
    np.testing.assert_allclose(loaded.std(axis=0), std, rtol=0.1)


def test_random_rows_depend_only_on_the_seed():
    vocab = ["x", "y", "the"]
    a, _ = embedding_matrix(vocab, WORDS, VECTORS, seed=5)
    b, _ = embedding_matrix(vocab, WORDS, VECTORS, seed=5)
    c, _ = embedding_matrix(vocab, WORDS, VECTORS, seed=6)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a[:2], c[:2])
    np.testing.assert_array_equal(a[2], c[2])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"words": ["a"]}, r"vectors: expected one row per word \(1\), got 4 rows"),
        ({"pad_index": 5}, r"pad_index: expected an index in \[0, 2\)"),
        ({"pad_index": True}, "pad_index: expected int or None, got bool"),
        ({"token_counts": {"a": -1}}, "token_counts: expected a count >= 0, got -1"),
        ({"words": [], "vectors": np.zeros((0, 3))}, "vectors: expected at least one vector"),
    ],
)
def test_embedding_matrix_argument_errors(kwargs, match):
    arguments = {"words": WORDS, "vectors": VECTORS} | kwargs
    words, vectors = arguments.pop("words"), arguments.pop("vectors")
    with pytest.raises(ConfigError, match=match):
        embedding_matrix(["a", "b"], words, vectors, **arguments)


@pytest.mark.parametrize("header_dim", [2, 4])
def test_a_header_that_lies_about_the_dimension_is_named(tmp_path, header_dim):
    # word2vec binary vectors have no separator: a wrong dimension in the header shifts every
    # vector after the first, which used to surface as an empty word or a UTF-8 error.
    vectors = np.arange(12, dtype=np.float32).reshape(4, 3) + 0.5
    content = binary_content(vectors=vectors, newline=False)
    content = content.replace(b"4 3\n", f"4 {header_dim}\n".encode(), 1)
    path = write(tmp_path / "v.bin", content)
    with pytest.raises(DataError, match=f"header's dimension {header_dim}"):
        load_vectors(path, format="word2vec-binary")
