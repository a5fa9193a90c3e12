"""Parallel text readers (rnnkit.data.parallel): the three forms, and every broken pair named
by file and line."""

from __future__ import annotations

import gzip

import pytest

from rnnkit.data.errors import DataError
from rnnkit.data.parallel import read_aligned, read_jsonl_pairs, read_tsv_pairs


def test_aligned_files_pair_line_by_line_gzip_included(tmp_path):
    src = tmp_path / "train.en.gz"
    with gzip.open(src, "wt", encoding="utf-8") as handle:
        handle.write("A man rides a bike.\r\nTwo dogs play.\n\n")
    tgt = tmp_path / "train.de"
    tgt.write_text("Ein Mann fährt Rad.\nZwei Hunde spielen.\n\n", encoding="utf-8")
    pairs = read_aligned(src, tgt)
    assert pairs.src == ["A man rides a bike.", "Two dogs play."]
    assert pairs.tgt == ["Ein Mann fährt Rad.", "Zwei Hunde spielen."]


@pytest.mark.parametrize(
    ("src_text", "tgt_text", "message"),
    [
        ("a\nb\nc\n", "x\ny\n", r"train\.de: 2 lines where train\.en has 3: line i of one"),
        ("a\n\nc\n", "x\ny\nz\n", r"train\.en:2: empty sentence: every pair needs text on both"),
        ("a\nb\n", "x\n  \n", r"train\.de:2: empty sentence"),
    ],
)
def test_aligned_files_name_the_broken_line(tmp_path, src_text, tgt_text, message):
    (tmp_path / "train.en").write_text(src_text, encoding="utf-8")
    (tmp_path / "train.de").write_text(tgt_text, encoding="utf-8")
    with pytest.raises(DataError, match=message):
        read_aligned(tmp_path / "train.en", tmp_path / "train.de")


def test_aligned_files_name_undecodable_bytes(tmp_path):
    (tmp_path / "train.en").write_text("a\nb\n", encoding="utf-8")
    (tmp_path / "train.de").write_bytes(b"x\n\xff\xfe\n")
    with pytest.raises(DataError, match=r"train\.de:2: .*UTF-8"):
        read_aligned(tmp_path / "train.en", tmp_path / "train.de")


def test_tab_separated_pairs_take_the_chosen_columns(tmp_path):
    path = tmp_path / "eng-fra.txt"
    path.write_text("Go.\tVa !\tCC-BY 2.0\n\nRun!\tCours !\tCC-BY 2.0\n", encoding="utf-8")
    assert read_tsv_pairs(path)[:2] == (["Go.", "Run!"], ["Va !", "Cours !"])
    assert read_tsv_pairs(path, src_col=1, tgt_col=0).src == ["Va !", "Cours !"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Go.\tVa !\nRun!\n", r"eng-fra\.txt:2: expected at least 2 tab-separated columns, got 1"),
        ("Go.\tVa !\n\t Cours !\n", r"eng-fra\.txt:2: column 0: empty sentence"),
    ],
)
def test_tab_separated_pairs_name_the_broken_line(tmp_path, text, message):
    path = tmp_path / "eng-fra.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=message):
        read_tsv_pairs(path)


def test_jsonl_pairs(tmp_path):
    path = tmp_path / "pairs.jsonl"
    path.write_text('{"src": "A dog.", "tgt": "Un chien.", "id": 7}\n\n', encoding="utf-8")
    assert read_jsonl_pairs(path)[:2] == (["A dog."], ["Un chien."])


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", r"pairs\.jsonl:2: invalid JSON"),
        ('["A dog.", "Un chien."]', r"pairs\.jsonl:2: expected a JSON object, got list"),
        ('{"src": "A dog."}', r"pairs\.jsonl:2: field 'tgt': missing; the object has keys 'src'"),
        ('{"src": 3, "tgt": "x"}', r"pairs\.jsonl:2: field 'src': expected a string, got int"),
        ('{"src": "x", "tgt": " "}', r"pairs\.jsonl:2: field 'tgt': empty sentence"),
    ],
)
def test_jsonl_pairs_name_the_broken_line(tmp_path, line, message):
    path = tmp_path / "pairs.jsonl"
    path.write_text('{"src": "a", "tgt": "b"}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=message):
        read_jsonl_pairs(path)
