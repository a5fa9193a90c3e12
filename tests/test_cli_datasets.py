"""``rnnkit datasets list|info|verify|download``, run in-process under the rnnkit root group.

No test touches the network (downloads use ``file://`` URLs); ``real_data`` tests skip
without ``$RNNKIT_DATA``.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from rnnkit.cli.app import RnnkitGroup
from rnnkit.cli.datasets import datasets
from rnnkit.data import REGISTRY, DatasetFile, DatasetSpec, get_spec
from rnnkit.data.registry import BUNDLED


@click.group(cls=RnnkitGroup)
@click.option("--debug", is_flag=True)
def root(debug: bool) -> None:
    """Stands in for ``rnnkit``: the same error policy (RnnkitGroup)."""


root.add_command(datasets)


pytestmark = pytest.mark.usefixtures("isolated_data_env")


def run(*args: str):
    return CliRunner().invoke(root, ["datasets", *args])


def records(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines()]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def toy(tmp_path, monkeypatch):
    """A registered dataset 'toy' under RNNKIT_DATA: one good file, one tampered, one missing;
    and an upstream copy of the missing one at a file:// URL."""
    data = tmp_path / "data"
    (data / "toy").mkdir(parents=True)
    (data / "toy" / "good.txt").write_bytes(b"good\n")
    (data / "toy" / "bad.txt").write_bytes(b"tampered\n")
    upstream = tmp_path / "upstream.txt"
    upstream.write_bytes(b"gone\n")
    monkeypatch.setenv("RNNKIT_DATA", str(data))
    files = (
        DatasetFile("toy/good.txt", _sha(b"good\n"), "train", None),
        DatasetFile("toy/bad.txt", _sha(b"bad\n"), "valid", None),
        DatasetFile("toy/gone.txt", _sha(b"gone\n"), "test", upstream.as_uri()),
    )
    spec = DatasetSpec("toy", "testing", "a toy", "nowhere", files, "text", "none", "none")
    monkeypatch.setitem(REGISTRY, "toy", spec)
    return data


def test_list_json_when_nothing_is_local(tmp_path):
    result = run("list", "--json")
    assert result.exit_code == 0, result.output
    *rows, summary = records(result.output)
    assert [row["name"] for row in rows] == list(REGISTRY)
    ptb = rows[1]
    assert ptb == {
        "type": "dataset",
        "name": "ptb",
        "task": "word-level language modeling",
        "metric": get_spec("ptb").metric,
        "format": "ptb-text",
        "status": "missing",
        "files": 3,
        "found": 0,
        "location": [],
    }
    assert summary == {
        "type": "summary",
        "datasets": 11,
        "found": 1,  # the demo's corpus ships inside the package
        "partial": 0,
        "missing": 10,
        "roots": [str(tmp_path / "cache")],
    }
    (shakespeare,) = [row for row in rows if row["name"] == "tinyshakespeare"]
    assert shakespeare["location"] == [str(BUNDLED / "tinyshakespeare")]


def test_list_human_shows_missing_and_partial(tmp_path, monkeypatch):
    (tmp_path / "cache" / "ptb").mkdir(parents=True)
    (tmp_path / "cache" / "ptb" / "ptb.test.txt").write_text(" a\n")
    result = run("list")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[3] == "ptb              word-level language modeling"
    assert lines[5] == f"{'':16s} partial: 1 of 3 files, under {tmp_path / 'cache' / 'ptb'}"
    assert f"{'':16s} missing (set RNNKIT_DATA or run `rnnkit datasets download airline`)" in lines
    assert lines[-1] == f"11 datasets: 1 found, 1 partial, 9 missing; searched {tmp_path / 'cache'}"


def test_info_json_has_the_spec_and_every_file(toy):
    result = run("info", "toy", "--json")
    assert result.exit_code == 0, result.output
    spec, *files, summary = records(result.output)
    assert spec == {
        "type": "dataset",
        "name": "toy",
        "task": "testing",
        "description": "a toy",
        "source": "nowhere",
        "format": "text",
        "metric": "none",
        "split": "none",
    }
    assert [(f["file"], f["split"], f["status"]) for f in files] == [
        ("toy/good.txt", "train", "ok"),
        ("toy/bad.txt", "valid", "mismatch"),
        ("toy/gone.txt", "test", "missing"),
    ]
    assert files[0]["path"] == str(toy / "toy" / "good.txt")
    assert files[1]["expected"] == _sha(b"bad\n") and files[1]["got"] == _sha(b"tampered\n")
    assert files[2]["path"] is None and files[2]["url"].startswith("file://")
    assert summary == {
        "type": "summary",
        "dataset": "toy",
        "files": 3,
        "verified": 1,
        "missing": 1,
        "mismatch": 1,
        "ok": False,
    }


def test_info_human(toy):
    result = run("info", "toy")
    assert result.exit_code == 0
    out = result.output
    assert out.startswith("toy: testing\n  description: a toy\n  source:      nowhere\n")
    assert "    toy/bad.txt (split valid)\n" in out
    assert f"      local  mismatch, {toy / 'toy' / 'bad.txt'}\n" in out
    assert "      url    none (a repack made for the benchmark copy)\n" in out
    assert out.endswith("      local  missing\n")


def test_verify_exits_1_and_reports_each_problem(toy):
    result = run("verify", "toy")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[:2] == ["toy", f"  ok       toy/good.txt  {toy / 'toy' / 'good.txt'}"]
    assert lines[2] == f"  MISMATCH toy/bad.txt   {toy / 'toy' / 'bad.txt'}"
    expected, got = _sha(b"bad\n"), _sha(b"tampered\n")
    assert lines[3] == f"           expected sha256 {expected}"
    assert lines[4] == f"           got      sha256 {got}"
    assert lines[5] == "  MISSING  toy/gone.txt"
    assert lines[6] == "verify: 3 files in 1 dataset: 1 ok, 1 missing, 1 mismatched"
    assert lines[7] == "  to fix toy: set RNNKIT_DATA or run `rnnkit datasets download toy`"

    result = run("verify", "toy", "--json")
    assert result.exit_code == 1
    *files, summary = records(result.output)
    assert [f["status"] for f in files] == ["ok", "mismatch", "missing"]
    assert summary == {
        "type": "summary",
        "datasets": 1,
        "files": 3,
        "verified": 1,
        "missing": 1,
        "mismatch": 1,
        "ok": False,
    }


def test_unknown_dataset_is_a_clean_error():
    result = run("verify", "ptb", "conll")
    assert result.exit_code == 1
    assert result.stdout == ""  # names are checked before anything is hashed or printed
    assert result.stderr.startswith(
        "error: unknown dataset 'conll' (did you mean 'conll2003'?); known: airline, "
    )
    result = run("info", "nope")
    assert result.exit_code == 1 and result.stderr.startswith("error: unknown dataset 'nope'")


def test_download_fetches_only_what_is_absent(toy):
    (toy / "toy" / "bad.txt").write_bytes(b"bad\n")  # repair it: only gone.txt is absent
    result = run("download", "toy", "--json")
    assert result.exit_code == 0, result.output
    *files, summary = records(result.output)
    gone = Path(os.environ["RNNKIT_CACHE"]) / "toy" / "gone.txt"
    assert [(f["file"], f["status"]) for f in files] == [
        ("toy/good.txt", "present"),
        ("toy/bad.txt", "present"),
        ("toy/gone.txt", "downloaded"),
    ]
    assert files[2]["path"] == str(gone) and gone.read_bytes() == b"gone\n"
    assert summary == {
        "type": "summary",
        "dataset": "toy",
        "downloaded": 1,
        "present": 2,
        "ok": True,
    }
    assert run("verify", "toy").exit_code == 0
    result = run("download", "toy")
    assert result.output.splitlines()[-1] == "download toy: 0 downloaded, 3 already present"


def test_download_into_root_and_offline_refusal(toy, tmp_path, monkeypatch):
    result = run("download", "toy", "--root", str(tmp_path / "mine"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "mine" / "toy" / "gone.txt").read_bytes() == b"gone\n"
    (tmp_path / "mine" / "toy" / "gone.txt").unlink()
    monkeypatch.setenv("RNNKIT_OFFLINE", "1")
    result = run("download", "toy")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: RNNKIT_OFFLINE=1: not downloading 1 file of dataset 'toy' (toy/gone.txt); "
        "unset RNNKIT_OFFLINE, or set RNNKIT_DATA to a directory that holds toy/\n"
    )


@pytest.mark.real_data
def test_real_data_list_and_verify(real_data):
    *rows, summary = records(run("list", "--json").output)
    assert summary["found"] == 11 and summary["roots"][0] == str(real_data)
    conll = next(row for row in rows if row["name"] == "conll2003")
    assert conll["status"] == "found" and conll["location"] == [str(real_data / "conll2003")]
    result = run("verify", "conll2003", "ett")
    assert result.exit_code == 0
    assert result.output.splitlines()[-1] == (
        "verify: 7 files in 2 datasets: 7 ok, 0 missing, 0 mismatched"
    )
