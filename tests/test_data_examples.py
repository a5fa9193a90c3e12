"""rnnkit.data.examples: text and numeric classification examples in every format, on
hand-written files, and each error's message and location (file, line, field)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from rnnkit.config import ConfigError
from rnnkit.data import DataError, read_numeric_examples, read_text_examples


def _write(path: Path, text: str) -> Path:
    data = text.encode("utf-8")
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


def _jsonl(path: Path, *objects: object) -> Path:
    return _write(path, "".join(json.dumps(obj) + "\n" for obj in objects))


def _error(func, *args, **kwargs) -> DataError:
    with pytest.raises(DataError) as info:
        func(*args, **kwargs)
    return info.value


# --- texts: JSONL ------------------------------------------------------------------------------


def test_text_jsonl_labels_become_strings_and_empty_text_is_kept(tmp_path):
    path = _jsonl(
        tmp_path / "a.jsonl",
        {"text": "good film", "label": 1, "extra": [1]},
        {"text": "", "label": 0},
        {"text": "héllo", "label": "neutral"},
    )
    assert read_text_examples(path) == (["good film", "", "héllo"], ["1", "0", "neutral"])
    assert read_text_examples(path, label_col=None) == (["good film", "", "héllo"], None)


def test_text_jsonl_gzip_custom_columns_and_blank_lines(tmp_path):
    text = '{"review": "ok", "y": "pos"}\n\n{"review": "bad", "y": "neg"}\n'
    path = _write(tmp_path / "r.jsonl.gz", text)
    assert read_text_examples(path, text_col="review", label_col="y") == (
        ["ok", "bad"],
        ["pos", "neg"],
    )
    # an explicit format overrides the suffix
    plain = _write(tmp_path / "r.data", text)
    assert read_text_examples(plain, text_col="review", label_col="y", format="jsonl")[1] == [
        "pos",
        "neg",
    ]


@pytest.mark.parametrize(
    ("label", "shown"),
    [
        (0.5, "0.5 (a JSON number)"),
        (True, "true (a JSON boolean)"),
        ([1], "[1] (a JSON array)"),
        ({"a": 1}, '{"a": 1} (a JSON object)'),
        (None, "null (a JSON null)"),
    ],
)
def test_text_jsonl_bad_label_names_file_line_field(tmp_path, label, shown):
    path = _jsonl(tmp_path / "a.jsonl", {"text": "x", "label": 1}, {"text": "y", "label": label})
    err = _error(read_text_examples, path)
    assert (err.file, err.line, err.field) == (str(path), 2, "label")
    assert str(err) == f"{path}:2: field 'label': expected a string or integer label, got {shown}"


def test_text_jsonl_missing_or_null_text(tmp_path):
    path = _jsonl(tmp_path / "a.jsonl", {"text": "x", "label": 1}, {"body": "y", "label": 0})
    err = _error(read_text_examples, path)
    assert (err.line, err.field) == (2, "text")
    assert "missing; the object has keys 'body', 'label'" in str(err)
    path = _jsonl(tmp_path / "b.jsonl", {"text": None, "label": 1})
    assert str(_error(read_text_examples, path)) == (
        f"{path}:1: field 'text': expected a string, got null (a JSON null)"
    )
    path = _jsonl(tmp_path / "c.jsonl", {"text": "x"})
    assert _error(read_text_examples, path).field == "label"
    assert read_text_examples(path, label_col=None) == (["x"], None)


def test_text_jsonl_bad_json_and_non_object(tmp_path):
    path = _write(tmp_path / "a.jsonl", '{"text": "x", "label": 1}\n{"text": \n')
    err = _error(read_text_examples, path)
    assert (err.file, err.line) == (str(path), 2)
    assert "invalid JSON" in str(err)
    path = _write(tmp_path / "b.jsonl", '["x", 1]\n')
    assert str(_error(read_text_examples, path)) == (
        f'{path}:1: expected a JSON object, got ["x", 1] (a JSON array)'
    )


def test_text_empty_file_is_an_error(tmp_path):
    path = _write(tmp_path / "a.jsonl", "\n")
    assert str(_error(read_text_examples, path)) == f"{path}: no examples in the file"
    path = _write(tmp_path / "a.csv", "text,label\n")
    assert str(_error(read_text_examples, path)) == f"{path}: no examples in the file"


# --- texts: CSV / TSV --------------------------------------------------------------------------


def test_text_csv_quoted_commas_and_newlines(tmp_path):
    path = _write(
        tmp_path / "a.csv",
        'label,text\npos,"fun, and ""smart"""\nneg,"two\nlines"\npos,\n',
    )
    texts, labels = read_text_examples(path)
    assert texts == ['fun, and "smart"', "two\nlines", ""]
    assert labels == ["pos", "neg", "pos"]


def test_text_tsv_glue_style_keeps_quotes(tmp_path):
    path = _write(
        tmp_path / "train.tsv",
        'sentence\tlabel\nit \'s a "gem" \t1\n"unquoted start\t0\n',
    )
    assert read_text_examples(path, text_col="sentence") == (
        ['it \'s a "gem" ', '"unquoted start'],
        ["1", "0"],
    )
    gz = _write(tmp_path / "dev.tsv.gz", "sentence\tlabel\nfine\t1\n")
    assert read_text_examples(gz, text_col="sentence", label_col=None) == (["fine"], None)


def test_text_csv_missing_column_and_ragged_row(tmp_path):
    path = _write(tmp_path / "a.csv", "sentence,label\nx,1\n")
    err = _error(read_text_examples, path)
    assert (err.line, err.field) == (1, "text")
    assert "the header has: sentence, label" in str(err)
    path = _write(tmp_path / "b.csv", "text,label\nx,1\ny\n")
    err = _error(read_text_examples, path)
    assert (err.file, err.line) == (str(path), 3)
    assert "expected 2 fields" in str(err)


# --- texts: folder per label -------------------------------------------------------------------


def _folder(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def test_text_folder_per_label_sorted_hidden_ignored(tmp_path):
    root = _folder(
        tmp_path / "imdb",
        {
            "pos/2.txt": "great\n",
            "pos/10.txt": "superb",
            "neg/1.txt": "line one\nline two\r\n",
            "neg/.hidden.txt": "skip",
            "neg/notes.md": "skip",
            ".cache/x.txt": "skip",
            "README.txt": "skip: not in a label folder",
            "empty/0.txt": "",
        },
    )
    texts, labels = read_text_examples(root)
    assert labels == ["empty", "neg", "pos", "pos"]
    assert texts == ["", "line one\nline two", "superb", "great"]  # "10.txt" < "2.txt"
    assert read_text_examples(root, format="folder", label_col=None) == (texts, None)


def test_text_folder_errors_name_the_root(tmp_path):
    root = _folder(tmp_path / "flat", {"a.txt": "x"})
    err = _error(read_text_examples, root)
    assert str(err) == (
        f"{root}: expected one subfolder per label (root/<label>/*.txt), found none"
    )
    root = _folder(tmp_path / "notxt", {"pos/a.md": "x", "neg/b.csv": "y"})
    assert str(_error(read_text_examples, root)) == (
        f"{root}: expected .txt files in the label subfolders (neg, pos), found none"
    )
    file = _write(tmp_path / "a.csv", "text,label\nx,1\n")
    assert "expected a directory" in str(_error(read_text_examples, file, format="folder"))


def test_text_folder_bad_utf8_names_the_file(tmp_path):
    root = _folder(tmp_path / "d", {"pos/a.txt": "ok"})
    (root / "pos" / "b.txt").write_bytes("café".encode("latin-1"))
    err = _error(read_text_examples, root)
    assert (err.file, err.line) == (str(root / "pos" / "b.txt"), 1)
    assert "not valid UTF-8" in str(err)


def test_text_bad_arguments_are_config_errors(tmp_path):
    path = _write(tmp_path / "a.csv", "text,label\nx,1\n")
    with pytest.raises(ConfigError, match="format: expected one of"):
        read_text_examples(path, format="xml")
    with pytest.raises(ConfigError, match="text_col: expected a column name"):
        read_text_examples(path, text_col="")
    with pytest.raises(ConfigError, match="label_col: expected a column name"):
        read_text_examples(path, label_col=3)
    assert "no such file" in str(_error(read_text_examples, tmp_path / "missing.csv"))
    assert "cannot tell the format" in str(_error(read_text_examples, _write(tmp_path / "a.x", "")))


# --- numeric: JSONL ----------------------------------------------------------------------------


def test_numeric_jsonl_variable_length_and_widths(tmp_path):
    path = _jsonl(
        tmp_path / "s.jsonl.gz",
        {"sequence": [[1, 2], [3.5, -4]], "label": 1},
        {"sequence": [[0.25, 1e-3]], "label": "b"},
    )
    seqs, labels = read_numeric_examples(path)
    assert labels == ["1", "b"]
    assert [s.dtype for s in seqs] == [np.float32, np.float32]
    np.testing.assert_array_equal(seqs[0], np.array([[1, 2], [3.5, -4]], np.float32))
    np.testing.assert_array_equal(seqs[1], np.array([[0.25, 1e-3]], np.float32))
    flat = _jsonl(tmp_path / "f.jsonl", {"x": [1, 2, 3]}, {"x": [4]})
    seqs, labels = read_numeric_examples(flat, sequence_col="x", label_col=None)
    assert labels is None
    assert [s.tolist() for s in seqs] == [[[1.0], [2.0], [3.0]], [[4.0]]]


@pytest.mark.parametrize(
    ("sequence", "message"),
    [
        ([1, "2"], 'step 1: expected a finite float32 number, got "2" (a JSON string)'),
        ([1, True], "step 1: expected a finite float32 number, got true (a JSON boolean)"),
        ([[1, 2], [3, float("nan")]], "step 1: expected a finite float32 number, got NaN"),
        ([1, 1e39], "step 1: expected a finite float32 number, got 1e+39"),
        ([[1, 2], [3]], "step 1: expected a list of 2 numbers (as step 0), got [3]"),
        ([[1], 2], "step 1: expected a list of 1 numbers (as step 0), got 2"),
        ([[]], "step 0: expected a non-empty list, got []"),
        ([], "expected a non-empty list of numbers or of equal-length lists of numbers"),
        ("1 2", "expected a non-empty list of numbers"),
    ],
)
def test_numeric_jsonl_bad_values_name_line_and_field(tmp_path, sequence, message):
    path = _jsonl(tmp_path / "s.jsonl", {"seq": [1], "label": 0}, {"seq": sequence, "label": 1})
    err = _error(read_numeric_examples, path, sequence_col="seq")
    assert (err.file, err.line, err.field) == (str(path), 2, "seq")
    assert message in str(err)


def test_numeric_jsonl_width_mismatch_names_both(tmp_path):
    path = _jsonl(
        tmp_path / "s.jsonl",
        {"sequence": [[1, 2, 3]], "label": 0},
        {"sequence": [[1, 2, 3]], "label": 0},
        {"sequence": [[1, 2]], "label": 1},
    )
    err = _error(read_numeric_examples, path)
    assert (err.line, err.field) == (3, "sequence")
    assert str(err) == (
        f"{path}:3: field 'sequence': example 2 has 2 features per step, but example 0 "
        "(line 1) has 3; every example needs the same number"
    )


def test_numeric_jsonl_bad_label_and_missing_key(tmp_path):
    path = _jsonl(tmp_path / "s.jsonl", {"sequence": [1], "label": 0.0})
    err = _error(read_numeric_examples, path)
    assert (err.line, err.field) == (1, "label")
    assert "expected a string or integer label, got 0.0 (a JSON number)" in str(err)
    path = _jsonl(tmp_path / "t.jsonl", {"values": [1], "label": 0})
    assert str(_error(read_numeric_examples, path)) == (
        f"{path}:1: field 'sequence': missing; the object has keys 'values', 'label'"
    )


# --- numeric: long CSV -------------------------------------------------------------------------


def test_numeric_csv_long_format_groups_ids_in_order(tmp_path):
    path = _write(
        tmp_path / "walks.csv",
        "id,t,x,label\n7,0,1.5,up\n7,1, -2 ,up\n7,2,3e2,up\n3,0,4,down\n10,0,5,up\n10,1,6,up\n",
    )
    seqs, labels = read_numeric_examples(path, features=["x"])
    assert labels == ["up", "down", "up"]
    assert [s.tolist() for s in seqs] == [[[1.5], [-2.0], [300.0]], [[4.0]], [[5.0], [6.0]]]
    seqs, labels = read_numeric_examples(path)  # default: every column but id and label
    assert seqs[0].dtype == np.float32
    np.testing.assert_array_equal(seqs[0], [[0, 1.5], [1, -2], [2, 300]])
    seqs, labels = read_numeric_examples(path, features=["x", "t"], label_col=None)
    assert labels is None
    np.testing.assert_array_equal(seqs[2], [[5, 0], [6, 1]])


def test_numeric_tsv_and_quoted_csv(tmp_path):
    tsv = _write(tmp_path / "s.tsv.gz", "id\ta\tb\tlabel\ns1\t1\t2\tyes\ns1\t3\t4\tyes\n")
    seqs, labels = read_numeric_examples(tsv)
    assert labels == ["yes"]
    np.testing.assert_array_equal(seqs[0], [[1, 2], [3, 4]])
    csv = _write(tmp_path / "q.csv", 'id,v,label\n"a,1","1.0","x, y"\n"a,1",2,"x, y"\n')
    seqs, labels = read_numeric_examples(csv)
    assert labels == ["x, y"]
    np.testing.assert_array_equal(seqs[0], [[1], [2]])


@pytest.mark.parametrize("bad", ["abc", "", "nan", "inf", "1e39"])
def test_numeric_csv_bad_value_names_file_line_field_got(tmp_path, bad):
    path = _write(tmp_path / "s.csv", f"id,x,y,label\na,1,2,0\na,3,{bad},0\n")
    err = _error(read_numeric_examples, path)
    assert (err.file, err.line, err.field) == (str(path), 3, "y")
    assert str(err) == f"{path}:3: field 'y': expected a finite float32 number, got {bad!r}"


def test_numeric_csv_ids_must_be_contiguous(tmp_path):
    path = _write(tmp_path / "s.csv", "id,x,label\na,1,0\nb,2,1\na,3,0\n")
    err = _error(read_numeric_examples, path)
    assert (err.line, err.field) == (4, "id")
    assert str(err) == (
        f"{path}:4: field 'id': rows of id 'a' must be contiguous: it starts at line 2, "
        "then other ids come between"
    )


def test_numeric_csv_label_must_be_constant_within_an_id(tmp_path):
    path = _write(tmp_path / "s.csv", "id,x,cls\na,1,0\na,2,0\na,3,1\n")
    err = _error(read_numeric_examples, path, label_col="cls")
    assert (err.line, err.field) == (4, "cls")
    assert str(err) == (
        f"{path}:4: field 'cls': id 'a' has label '0' at line 2 and '1' here; every row of "
        "an id needs the same label"
    )
    # without labels the same file reads
    seqs, labels = read_numeric_examples(path, label_col=None, features=["x"])
    assert labels is None and seqs[0].ravel().tolist() == [1, 2, 3]


def test_numeric_csv_missing_columns(tmp_path):
    path = _write(tmp_path / "s.csv", "seq,x,label\na,1,0\n")
    err = _error(read_numeric_examples, path)
    assert (err.line, err.field) == (1, "id")
    assert "the header has: seq, x, label" in str(err)
    err = _error(read_numeric_examples, path, id_col="seq", features=["x", "z"])
    assert err.field == "z"
    only_keys = _write(tmp_path / "k.csv", "id,label\na,0\n")
    assert str(_error(read_numeric_examples, only_keys)) == (
        f"{only_keys}: no feature columns: the header has only id, label"
    )


# --- numeric: NPZ ------------------------------------------------------------------------------


def test_numeric_npz_fixed_and_variable_length(tmp_path):
    data = np.arange(2 * 3 * 2, dtype=np.float64).reshape(2, 3, 2)
    path = tmp_path / "d.npz"
    np.savez(path, sequences=data, labels=np.array([0, 1]))
    seqs, labels = read_numeric_examples(path)
    assert labels == ["0", "1"]
    assert [s.dtype for s in seqs] == [np.float32, np.float32]
    np.testing.assert_array_equal(seqs[1], data[1])
    data[1, 2] = np.nan  # padding past a length is never read
    np.savez(path, sequences=data, lengths=np.array([3, 2]), labels=np.array(["a", "bb"]))
    seqs, labels = read_numeric_examples(path)
    assert labels == ["a", "bb"]
    assert [s.shape for s in seqs] == [(3, 2), (2, 2)]
    np.testing.assert_array_equal(seqs[1], [[6, 7], [8, 9]])


def test_numeric_npz_two_dimensional_and_unlabelled(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, sequences=np.array([[1, 2, 3], [4, 5, 6]], np.int32), lengths=[1, 3])
    seqs, labels = read_numeric_examples(path, label_col=None)
    assert labels is None
    assert [s.tolist() for s in seqs] == [[[1.0]], [[4.0], [5.0], [6.0]]]


def test_numeric_npz_errors(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, X=np.zeros((2, 3)), labels=np.array([0, 1]))
    assert str(_error(read_numeric_examples, path)) == (
        f"{path}: field 'sequences': missing; the archive has arrays: X, labels"
    )
    np.savez(path, sequences=np.zeros((2, 3)))
    assert "field 'labels': missing; the archive has arrays: sequences" in str(
        _error(read_numeric_examples, path)
    )
    np.savez(path, sequences=np.zeros((2, 3)), lengths=np.array([3, 4]), labels=[0, 1])
    assert str(_error(read_numeric_examples, path)) == (
        f"{path}: field 'lengths': example 1: expected a length in [1, 3], got 4"
    )
    np.savez(path, sequences=np.zeros((2, 3)), lengths=np.array([0, 1]), labels=[0, 1])
    assert "example 0: expected a length in [1, 3], got 0" in str(
        _error(read_numeric_examples, path)
    )
    np.savez(path, sequences=np.zeros((2, 3)), labels=np.array([0.0, 1.0]))
    assert "field 'labels': expected 2 integers or strings" in str(
        _error(read_numeric_examples, path)
    )
    bad = np.zeros((2, 3, 1))
    bad[1, 2, 0] = np.inf
    np.savez(path, sequences=bad, labels=[0, 1])
    assert str(_error(read_numeric_examples, path)) == (
        f"{path}: field 'sequences': example 1, step 2, feature 0: expected a finite float32 "
        "number, got inf"
    )
    np.savez(path, sequences=np.array([["a"]]), labels=[0])
    assert "field 'sequences': expected numbers of shape" in str(
        _error(read_numeric_examples, path)
    )


def test_numeric_npz_never_unpickles(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, sequences=np.zeros((1, 2)), labels=np.array([{"a": 1}], dtype=object))
    assert "without pickles" in str(_error(read_numeric_examples, path))
    not_zip = _write(tmp_path / "e.npz", "not a zip")
    assert "cannot read as an .npz archive" in str(_error(read_numeric_examples, not_zip))
    single = tmp_path / "s.npy"
    np.save(single, np.zeros(3))
    err = _error(read_numeric_examples, single, format="npz")
    assert "got a single array" in str(err)


def test_numeric_bad_arguments_are_config_errors(tmp_path):
    path = _jsonl(tmp_path / "s.jsonl", {"sequence": [1], "label": 0})
    with pytest.raises(ConfigError, match="format: expected one of"):
        read_numeric_examples(path, format="folder")
    with pytest.raises(ConfigError, match="features: applies to long-format CSV/TSV"):
        read_numeric_examples(path, features=["x"])
    with pytest.raises(ConfigError, match="features: expected a non-empty sequence"):
        read_numeric_examples(path, features="x")
    with pytest.raises(ConfigError, match="id_col: expected a column name"):
        read_numeric_examples(path, id_col=None)
