"""Values no run can use are refused in one line before anything starts (issue #26, item 13):
what used to end in a traceback, or in a run that "diverges" at step 2."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from rnnkit.cli import main

TRAIN = ["lm", "train", "--level", "word", "--hidden-size", "8", "--embedding-size", "8"]


@pytest.mark.parametrize(
    ("flags", "fragment"),
    [
        (["--seed", str(2**70)], "seed: expected an int in [0, 2**32), got 1180591620717411303424"),
        (["--seed", "-1"], "seed: expected an int in [0, 2**32), got -1"),
        (["--lr", "inf"], "lr: expected a finite positive number, got inf"),
        (["--clip-norm", "inf"], "clip_norm: expected a finite positive number, got inf"),
        (["--hidden-size", str(10**9)], "model: the model does not fit in memory"),
    ],
    ids=["seed too big", "seed negative", "lr inf", "clip inf", "hidden 1e9"],
)
def test_train_refuses_values_no_run_can_use(tiny_lm_run, tmp_path, flags, fragment):
    text = tiny_lm_run.parent / "text.txt"
    args = [*TRAIN, "--data", str(text), "--epochs", "1", "--out", str(tmp_path / "r"), *flags]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ") and fragment in result.output
    assert result.output.count("\n") == 1
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["score", "RUN", "the cat", ""], "texts: text 2 is empty: nothing to score"),
        (["score", "RUN", "  "], "texts: text 1 is blank ('  '): nothing to score"),
        (["sample", "RUN", "--temperature", "inf"], "inf is not in the range 0<x<=100"),
        (["sample", "RUN", "--temperature", "nan"], "expected a number, got nan"),
    ],
    ids=["empty text", "blank text", "temperature inf", "temperature nan"],
)
def test_language_model_verbs_refuse_what_they_cannot_answer(tiny_lm_run, args, fragment):
    args = [str(tiny_lm_run) if a == "RUN" else a for a in args]
    result = CliRunner().invoke(main, ["lm", *args])
    assert result.exit_code == 2, result.output
    assert fragment in result.output and "Traceback" not in result.output


def test_too_little_validation_text_names_the_eval_batch_size(tmp_path):
    text = tmp_path / "one.txt"
    text.write_text("the cat sat on the mat " * 40 + "\n")  # one line: 10% of it is 24 words
    args = [*TRAIN, "--data", str(text), "--eval-batch-size", "64", "--out", str(tmp_path / "r")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    assert result.output.startswith(
        "error: field 'eval_batch_size': too little validation text (the last 10% of --data) "
        "for eval_batch_size 64"
    )


def _read_examples(path):
    from rnnkit.data.examples import read_text_examples

    return read_text_examples(path)


def _read_series(path):
    from rnnkit.data.readers import read_timeseries_csv

    return read_timeseries_csv(path, time_col="date")


@pytest.mark.parametrize(
    ("name", "content", "read", "expected"),
    [
        ("twice.csv", "text,label,label\ngood,pos,neg\n", _read_examples,
         r"twice.csv:1: field 'label': the header names this col"),
        ("empty.csv", "text,label\ngood,pos\nbad, \n", _read_examples,
         r"empty.csv:3: field 'label': empty label"),
        ("empty.jsonl", '{"text": "good", "label": "pos"}\n{"text": "bad", "label": ""}\n',
         _read_examples, r"empty.jsonl:2: field 'label': empty label"),
        ("series.csv", "date,value,value\n2020-01-01,1,2\n2020-01-02,3,4\n", _read_series,
         r"series.csv: field 'value': the header names this col"),
    ],
    ids=["duplicate label", "empty csv label", "empty jsonl label", "duplicate value"],
)  # fmt: skip
def test_duplicate_columns_and_empty_labels_are_named(tmp_path, name, content, read, expected):
    from rnnkit.data import DataError

    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(DataError, match=expected):
        read(path)


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("bad.json", b'\xff\xfe{"model": {}}', "not UTF-8 text (byte 0)"),
        ("deep.json", b"[" * 100_000 + b"]" * 100_000, "nested too deeply to be a config"),
        ("deep.toml", b"a = " + b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        ("big.json", b" " * (2 << 20) + b"{}", "too large for a config file"),
    ],
    ids=["not utf-8", "deep json", "deep toml", "megabytes"],
)
def test_a_config_file_no_config_is_made_of_is_one_line(tmp_path, name, content, fragment):
    path = tmp_path / name
    path.write_bytes(content)
    args = [*TRAIN, "--config", str(path), "--data", str(path), "--out", str(tmp_path / "r")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert result.output == f"error: {path}: {fragment}\n" or fragment in result.output
    assert result.output.count("\n") == 1
