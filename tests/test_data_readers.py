"""rnnkit.data.readers: every reader on hand-made files, each error's exact location, and the
real benchmark files (``real_data``, skipped without ``$RNNKIT_DATA``)."""

from __future__ import annotations

import gzip
import json
import math
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from rnnkit.config import ConfigError
from rnnkit.data import (
    DataError,
    Sentence,
    iter_lines,
    open_text,
    read_conll,
    read_pairs,
    read_records,
    read_text,
    read_timeseries_csv,
)


def _write(path: Path, text: str | bytes) -> Path:
    data = text.encode("utf-8") if isinstance(text, str) else text
    if path.suffix == ".gz":
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


# --- text --------------------------------------------------------------------------------------


def test_read_text_is_exact_and_opens_gz(tmp_path):
    text = "héllo\r\nwörld\n\nlast"
    assert read_text(_write(tmp_path / "a.txt", text)) == text
    assert read_text(_write(tmp_path / "a.txt.gz", text)) == text
    assert read_text(_write(tmp_path / "bom.txt", "\ufeffabc\n")) == "abc\n"
    with open_text(tmp_path / "a.txt.gz") as handle:
        assert handle.read() == "héllo\nwörld\n\nlast"  # text mode: universal newlines


def test_read_text_bad_utf8_names_line_offset_and_fix(tmp_path):
    path = _write(tmp_path / "latin.txt", "one\ntwo\nça va\n".encode("latin-1"))
    with pytest.raises(DataError) as info:
        read_text(path)
    err = info.value
    assert (err.file, err.line) == (str(path), 3)
    assert str(err) == (
        f"{path}:3: not valid UTF-8: byte 0xe7 at byte offset 8 (column 1); re-encode the "
        "file as UTF-8, e.g. `iconv -f latin1 -t utf-8 latin.txt > utf8-latin.txt`"
    )
    gz = _write(tmp_path / "latin.txt.gz", "ab\nxy\xe9z\n".encode("latin-1"))
    with pytest.raises(
        DataError,
        match=r":2: not valid UTF-8: byte 0xe9 at byte offset 5 of "
        r"the decompressed text \(column 3\)",
    ):
        read_text(gz)


def test_missing_file_directory_and_broken_gzip(tmp_path):
    with pytest.raises(DataError, match=r"nope\.txt: no such file$"):
        read_text(tmp_path / "nope.txt")
    with pytest.raises(DataError, match="is a directory, expected a file"):
        read_text(tmp_path)
    with pytest.raises(DataError, match="no such file"):
        iter_lines(tmp_path / "nope.txt")  # checked on the call, not on the first line
    bad = tmp_path / "bad.txt.gz"
    bad.write_bytes(b"this is not gzip data")
    with pytest.raises(DataError, match=r"bad\.txt\.gz: not a valid gzip file"):
        read_text(bad)
    with pytest.raises(DataError, match="not a valid gzip file"):
        list(iter_lines(bad))
    truncated = tmp_path / "cut.txt.gz"
    truncated.write_bytes(gzip.compress(b"x" * 10000)[:-12])
    with pytest.raises(DataError, match="not a valid gzip file"):
        read_pairs(truncated)


def test_iter_lines_strips_line_ends_and_locates_bad_bytes(tmp_path):
    path = _write(tmp_path / "a.txt", b"\xef\xbb\xbfone\r\ntwo\n\nthree")
    assert list(iter_lines(path)) == ["one", "two", "", "three"]
    assert list(iter_lines(_write(tmp_path / "a.txt.gz", "x\ny\n"))) == ["x", "y"]
    bad = _write(tmp_path / "bad.txt", b"fine\nbad \xff byte\n")
    lines = iter_lines(bad)
    assert next(lines) == "fine"
    with pytest.raises(DataError) as info:
        next(lines)
    assert info.value.line == 2
    assert "byte 0xff at byte offset 9 (column 5)" in str(info.value)


# --- records -----------------------------------------------------------------------------------


def test_read_records_jsonl(tmp_path):
    rows = [{"text": "great", "label": 1, "extra": [1]}, {"label": 0, "text": "bad"}]
    text = "\n".join(json.dumps(row) for row in rows) + "\n\n"
    expected = [{"label": 1, "text": "great"}, {"label": 0, "text": "bad"}]
    assert read_records(_write(tmp_path / "a.jsonl", text), columns=["label", "text"]) == expected
    assert read_records(_write(tmp_path / "a.jsonl.gz", text), columns=("label", "text")) == (
        expected
    )
    assert read_records(_write(tmp_path / "a.dat", text), columns=["text"], format="jsonl") == [
        {"text": "great"},
        {"text": "bad"},
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            '{"text": "a"}\n{"text": "b",}\n',
            ":2: invalid JSON: Expecting property name enclosed in double quotes (column 14)",
        ),
        ('{"text": "a"}\n\n[1, 2]\n', ":3: expected a JSON object, got list"),
        (
            '{"text": "a"}\n{"txt": "b", "label": 1}\n',
            ":2: field 'text': missing; the object has keys 'txt', 'label'",
        ),
    ],
)
def test_read_records_jsonl_errors(tmp_path, content, message):
    path = _write(tmp_path / "a.jsonl", content)
    with pytest.raises(DataError) as info:
        read_records(path, columns=["text"])
    assert str(info.value) == f"{path}{message}"


def test_read_records_csv_and_tsv(tmp_path):
    csv_text = 'id,text,label\n1,"hello, world",pos\n\n2,"say ""hi""",neg\n'
    path = _write(tmp_path / "a.csv.gz", csv_text)
    assert read_records(path, columns=["text", "label"]) == [
        {"text": "hello, world", "label": "pos"},
        {"text": 'say "hi"', "label": "neg"},
    ]
    # TSV fields are literal: quotes are text, as in GLUE's SST-2.
    tsv = _write(tmp_path / "a.txt", 'sentence\tlabel\n"quoted" gem \t1\r\n')
    assert read_records(tsv, columns=["sentence", "label"]) == [
        {"sentence": '"quoted" gem ', "label": "1"}
    ]


def test_read_records_csv_errors(tmp_path):
    path = _write(tmp_path / "a.csv", "id,text\n1,a\n\n2\n")
    with pytest.raises(DataError) as info:
        read_records(path, columns=["text"])
    assert str(info.value) == f"{path}:4: expected 2 fields (as in the header), got 1"
    with pytest.raises(DataError) as info:
        read_records(path, columns=["text", "label"])
    assert str(info.value) == f"{path}:1: field 'label': no such column; the header has: id, text"
    with pytest.raises(DataError, match=r"a\.csv:3: expected 2 fields .*, got 3"):
        read_records(_write(path, "id,text\n1,a\n2,b,c\n"), columns=["text"])
    with pytest.raises(DataError, match="empty file, expected a header row"):
        read_records(_write(path, "\n\n"), columns=["text"])
    with pytest.raises(DataError, match=r":2: malformed ','-separated row: "):
        read_records(_write(path, 'id,text\n1,"open\n'), columns=["text"])


def test_read_records_arguments(tmp_path):
    path = _write(tmp_path / "a.parquet", "x\n")
    with pytest.raises(DataError, match="cannot tell the format from the suffix '.parquet'"):
        read_records(path, columns=["x"])
    with pytest.raises(ConfigError, match="format: expected one of 'auto', 'jsonl', 'csv', "):
        read_records(path, columns=["x"], format="xml")
    with pytest.raises(ConfigError, match="columns: expected a non-empty sequence"):
        read_records(path, columns="x")


# --- CoNLL and pairs ---------------------------------------------------------------------------

CONLL = """-DOCSTART- -X- -X- O

EU NNP I-NP I-ORG
rejects VBZ I-VP O
German JJ I-NP I-MISC


Peter NNP I-NP I-PER
-DOCSTART- -X- O O

BRUSSELS NNP I-NP I-LOC
"""


def test_read_conll(tmp_path):
    path = _write(tmp_path / "eng.tiny", CONLL)
    assert read_conll(path) == [
        Sentence(["EU", "rejects", "German"], ["I-ORG", "O", "I-MISC"]),
        Sentence(["Peter"], ["I-PER"]),
        Sentence(["BRUSSELS"], ["I-LOC"]),
    ]
    pos = read_conll(_write(tmp_path / "eng.tiny.gz", CONLL), token_col=0, tag_col=1)
    assert [s.tags for s in pos] == [["NNP", "VBZ", "JJ"], ["NNP"], ["NNP"]]


def test_read_conll_too_few_columns(tmp_path):
    path = _write(tmp_path / "eng.bad", CONLL.replace("rejects VBZ I-VP O", "rejects VBZ"))
    assert [s.tags for s in read_conll(path, tag_col=1)][0] == ["NNP", "VBZ", "JJ"]
    with pytest.raises(DataError) as info:
        read_conll(path, tag_col=3)
    assert str(info.value) == (
        f"{path}:4: expected at least 4 columns (token_col=0, tag_col=3), got 2: 'rejects VBZ'"
    )
    with pytest.raises(DataError, match=":4: expected at least 3 columns"):
        read_conll(path, tag_col=-3)
    with pytest.raises(ConfigError, match="tag_col: expected an int column index, got '3'"):
        read_conll(path, tag_col="3")


def test_read_pairs(tmp_path):
    path = _write(tmp_path / "fra.txt", "Go.\tVa !\tCC-BY 2.0 (France)\n\nRun!\tCours !\n")
    assert read_pairs(path) == [("Go.", "Va !"), ("Run!", "Cours !")]
    assert read_pairs(path, source_col=1, target_col=0) == [("Va !", "Go."), ("Cours !", "Run!")]
    assert read_pairs(_write(tmp_path / "p.tsv.gz", "a b\tc d\r\n")) == [("a b", "c d")]
    bad = _write(tmp_path / "bad.txt", "Go.\tVa !\nno tab here\n")
    with pytest.raises(DataError) as info:
        read_pairs(bad)
    assert str(info.value) == (
        f"{bad}:2: expected at least 2 tab-separated columns, got 1: 'no tab here'"
    )
    with pytest.raises(DataError, match=":1: expected at least 3 tab-separated columns, got 2"):
        read_pairs(bad, target_col=2)


# --- time series -------------------------------------------------------------------------------

POWER_HEADER = (
    "Date;Time;Global_active_power;Global_reactive_power;Voltage;Global_intensity;"
    "Sub_metering_1;Sub_metering_2;Sub_metering_3\n"
)
POWER_ROWS = [
    "16/12/2006;17:24:00;4.216;0.418;234.840;18.400;0.000;1.000;17.000",
    "16/12/2006;17:25:00;5.360;0.436;233.630;23.000;0.000;1.000;16.000",
    "21/12/2006;11:23:00;?;?;?;?;?;?;",
    "21/12/2006;11:24:00;?;?;?;?;?;?;",
    "1/1/2007;00:00:00;2.580;0.136;241.970;10.600;0.000;0.000;0.000",
]
POWER_OPTIONS = {"time_col": "Date,Time", "sep": ";", "na_values": ("?", ""), "dayfirst": True}


def _power(tmp_path: Path, rows: list[str] = POWER_ROWS, name: str = "power.txt") -> Path:
    return _write(tmp_path / name, POWER_HEADER + "\n".join(rows) + "\n")


def test_read_timeseries_csv_uci_household_power_format(tmp_path):
    df = read_timeseries_csv(_power(tmp_path, name="power.txt.gz"), **POWER_OPTIONS)
    assert df.shape == (5, 7)
    assert df.index.name == "Date Time"
    assert isinstance(df.index, pd.DatetimeIndex)
    assert df.index[0] == pd.Timestamp("2006-12-16 17:24:00")
    assert df.index[2] == pd.Timestamp("2006-12-21 11:23:00")  # dayfirst: 21 December
    assert df.index[-1] == pd.Timestamp("2007-01-01 00:00:00")
    assert list(df.columns) == POWER_HEADER.strip().split(";")[2:]
    assert set(df.dtypes) == {pd.api.types.pandas_dtype("float64")}
    assert df["Voltage"].tolist()[:2] == [234.84, 233.63]
    assert df["Sub_metering_3"].tolist()[-1] == 0.0
    assert df.isna().sum().tolist() == [2, 2, 2, 2, 2, 2, 2]
    subset = read_timeseries_csv(_power(tmp_path), **POWER_OPTIONS, columns=["Voltage"])
    assert list(subset.columns) == ["Voltage"] and subset.shape == (5, 1)


@pytest.mark.parametrize(
    ("row", "line", "field", "message"),
    [
        (
            "1/1/2007;00:01:00;2.5;abc;241.9;10.6;0;0;0",
            7,
            "Global_reactive_power",
            "expected a number or a missing-value marker ('?', ''), got 'abc'",
        ),
        ("1/1/2007;00:01:00;2.5;0.1;241.9", 7, None, "expected 9 fields (as in the header), got 5"),
        (
            "13/13/2007;00:01:00;1;1;1;1;1;1;1",
            7,
            "Date,Time",
            "expected a date/time, got '13/13/2007 00:01:00'",
        ),
        (
            "16/12/2006;17:26:00;1;1;1;1;1;1;1",
            7,
            "Date,Time",
            "timestamps must not decrease: 2006-12-16 17:26:00 comes after 2007-01-01 00:00:00 "
            "(line 6)",
        ),
    ],
    ids=["not-a-number", "short-row", "bad-date", "decreasing"],
)
def test_read_timeseries_csv_errors_name_line_and_field(tmp_path, row, line, field, message):
    path = _power(tmp_path, [*POWER_ROWS, row])
    with pytest.raises(DataError) as info:
        read_timeseries_csv(path, **POWER_OPTIONS)
    err = info.value
    assert (err.file, err.line, err.field, err.message) == (str(path), line, field, message)


def test_read_timeseries_csv_header_and_arguments(tmp_path):
    path = _power(tmp_path)
    with pytest.raises(DataError) as info:
        read_timeseries_csv(path, sep=";", time_col="Datetime")
    assert str(info.value) == (
        f"{path}:1: field 'Datetime': no such column; the header has: "
        + ", ".join(POWER_HEADER.strip().split(";"))
    )
    with pytest.raises(ConfigError, match="sep: expected one character, got ';;'"):
        read_timeseries_csv(path, sep=";;")
    with pytest.raises(DataError, match="no data rows after the header"):
        read_timeseries_csv(_write(tmp_path / "h.csv", "a,b\n"))
    # Default NA marker is only the empty string: '?' is then not a number.
    with pytest.raises(DataError, match=r":4: field 'Global_active_power': .* got '\?'"):
        read_timeseries_csv(path, sep=";", time_col="Date,Time", dayfirst=True)
    # No time column: row-numbered, every column must be numeric ('Date' is not).
    numbers = read_timeseries_csv(_write(tmp_path / "n.csv", "x,y\n1, 2\n3,\n"))
    assert isinstance(numbers.index, pd.RangeIndex)
    assert numbers["x"].tolist() == [1.0, 3.0] and numbers["y"].tolist()[0] == 2.0
    assert math.isnan(numbers["y"].tolist()[1])


# --- the real benchmark files ------------------------------------------------------------------


def _entities(tags: list[str]) -> list[str]:
    """Entity types of the spans in IOB1 tags (I-X continues a span, B-X starts a new one)."""
    found, previous = [], "O"
    for tag in tags:
        if tag != "O" and (tag.startswith("B-") or previous[2:] != tag[2:]):
            found.append(tag[2:])
        previous = tag
    return found


@pytest.mark.real_data
def test_conll2003_test_split_counts(real_data):
    sentences = read_conll(real_data / "conll2003" / "eng.testb")
    assert len(sentences) == 3453  # the paper's 3,684 minus its 231 -DOCSTART- "sentences"
    assert sum(len(s.tokens) for s in sentences) == 46435
    assert sentences[0] == Sentence(
        [
            "SOCCER",
            "-",
            "JAPAN",
            "GET",
            "LUCKY",
            "WIN",
            ",",
            "CHINA",
            "IN",
            "SURPRISE",
            "DEFEAT",
            ".",
        ],
        ["O", "O", "I-LOC", "O", "O", "O", "O", "I-PER", "O", "O", "O", "O"],
    )
    counts = Counter(kind for s in sentences for kind in _entities(s.tags))
    assert counts == {"LOC": 1668, "MISC": 702, "ORG": 1661, "PER": 1617}


@pytest.mark.real_data
def test_real_time_series(real_data):
    etth1 = read_timeseries_csv(real_data / "ett" / "ETTh1.csv", time_col="date")
    assert etth1.shape == (17420, 7)
    assert list(etth1.columns) == ["HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL", "OT"]
    assert etth1.index[0] == pd.Timestamp("2016-07-01 00:00:00")
    assert etth1.index[-1] == pd.Timestamp("2018-06-26 19:00:00")
    assert etth1["OT"].iloc[0] == pytest.approx(30.5310001373291)
    assert not etth1.isna().any().any()
    airline = read_timeseries_csv(
        real_data / "airline" / "airline-passengers.csv", time_col="Month"
    )
    passengers = airline["Passengers"]
    assert len(passengers) == 144 and passengers.sum() == 40363
    assert (passengers.iloc[0], passengers.iloc[-1]) == (112, 432)
    assert (passengers.min(), passengers.max()) == (104, 622)
    assert airline.index[0] == pd.Timestamp("1949-01-01")
    assert airline.index[-1] == pd.Timestamp("1960-12-01")


@pytest.mark.real_data
def test_real_pairs_records_and_text(real_data):
    pairs = read_pairs(real_data / "eng-fra" / "eng-fra.txt.gz")
    assert len(pairs) == 135842
    assert pairs[:2] == [("Go.", "Va !"), ("Run!", "Cours\u202f!")]  # a narrow no-break space
    dev = read_records(real_data / "sst2" / "dev.tsv", columns=["sentence", "label"])
    assert len(dev) == 872
    assert Counter(row["label"] for row in dev) == {"1": 444, "0": 428}
    assert all(row["sentence"].endswith(" ") for row in dev)  # GLUE's space before the tab
    text = read_text(real_data / "tinyshakespeare" / "input.txt")
    assert len(text) == 1115394 and len(set(text)) == 65
    assert text.startswith("First Citizen:\nBefore we proceed any further, hear me speak.")


def test_a_text_bigger_than_the_memory_left_is_refused_before_reading(tmp_path, monkeypatch):
    from rnnkit.data import memory, readers

    path = tmp_path / "corpus.txt"
    path.write_text("x" * 3000, encoding="utf-8")
    monkeypatch.setattr(memory, "available_memory", lambda: 5000)
    with pytest.raises(DataError) as caught:
        readers.read_text(path)
    message = str(caught.value)
    assert "corpus.txt" in message and "3,000 bytes" in message
    assert "needs at least 6,000 bytes of memory; 5,000 bytes is available" in message
    monkeypatch.setattr(memory, "available_memory", lambda: None)  # unknown: no check
    assert readers.read_text(path) == "x" * 3000


def test_available_memory_reads_meminfo(tmp_path, monkeypatch):
    from rnnkit.data import memory

    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:  100 kB\nMemAvailable:   2048 kB\n")
    monkeypatch.setattr(memory, "_MEMINFO", meminfo)
    assert memory.available_memory() == 2048 * 1024
    monkeypatch.setattr(memory, "_MEMINFO", tmp_path / "missing")
    assert memory.available_memory() is None
