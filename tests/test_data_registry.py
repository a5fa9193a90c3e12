"""rnnkit.data.registry: the benchmark dataset registry, lookup, verification and download.

No test touches the network: downloads use ``file://`` URLs to temporary files. Tests marked
``real_data`` run against the benchmark files under ``$RNNKIT_DATA`` and skip without them.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
from pathlib import Path

import pytest

from rnnkit.config import RnnkitError
from rnnkit.data import (
    REGISTRY,
    DataError,
    DatasetFile,
    DatasetSpec,
    cache_dir,
    data_roots,
    download,
    get_spec,
    local_files,
    locate,
    sha256_file,
    verify,
)
from rnnkit.data.registry import BUNDLED

FORMATS = {"text", "ptb-text", "jsonl", "tsv", "conll", "pairs", "parallel-text", "timeseries-csv"}
HEX64 = re.compile(r"[0-9a-f]{64}")


pytestmark = pytest.mark.usefixtures("isolated_data_env")


def _toy(monkeypatch, *files: DatasetFile, name: str = "toy") -> DatasetSpec:
    """Registers a dataset made of ``files`` for one test."""
    spec = DatasetSpec(name, "testing", "a toy", "nowhere", tuple(files), "text", "none", "none")
    monkeypatch.setitem(REGISTRY, name, spec)
    return spec


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- the registry itself -----------------------------------------------------------------------


def test_registry_holds_the_eleven_readme_datasets():
    assert sorted(REGISTRY) == [
        "airline",
        "conll2003",
        "eng-fra",
        "ett",
        "household_power",
        "imdb",
        "multi30k",
        "ptb",
        "sst2",
        "tinyshakespeare",
        "wikitext-2",
    ]
    assert sum(len(spec.files) for spec in REGISTRY.values()) == 60
    for name, spec in REGISTRY.items():
        assert spec.name == name
        assert spec.format in FORMATS, name
        assert all([spec.task, spec.description, spec.source, spec.metric, spec.split]), name
        assert re.search(r" @ [0-9a-f]{40}", spec.source), name
        for file in spec.files:
            assert file.path.startswith(f"{name}/"), file
            assert HEX64.fullmatch(file.sha256), file
            assert file.split in (None, "train", "valid", "test"), file
            # Every .gz entry records its decompressed sha256, and only those do.
            assert (file.raw_sha256 is not None) == file.path.endswith(".gz"), file
            if file.url is not None:
                assert re.fullmatch(
                    r"https://raw\.githubusercontent\.com/[\w.-]+/[\w.-]+/[0-9a-f]{40}/\S+",
                    file.url,
                ), file.url


def test_registry_values_from_the_readme():
    assert [f.split for f in get_spec("conll2003").files] == ["train", "valid", "test"]
    assert get_spec("conll2003").files[2].path == "conll2003/eng.testb"
    assert get_spec("sst2").files[0].url.endswith("/glue_data/SST-2/train_full.tsv")
    train = get_spec("wikitext-2").files[0]
    assert train.download_path == "wikitext-2/wiki.train.tokens"
    assert train.raw_sha256.startswith("9e9fa1ad55b1c2c9")
    assert train.url.endswith("/word_language_model/data/wikitext-2/train.txt")
    # The IMDB JSONL files are the benchmark copy's own repack: no upstream file to fetch.
    assert [f.url is None for f in get_spec("imdb").files] == [True, True, False]
    assert (
        get_spec("household_power")
        .files[0]
        .url.endswith("/07%20Time%20Series%20Forecasting/household_power_consumption_days.csv")
    )
    assert get_spec("ptb").metric.startswith("word-level perplexity on test")
    assert get_spec("imdb").metric.endswith("(Maas et al. 2011 report 88.89%)")


def test_get_spec_unknown_name_suggests_and_lists():
    with pytest.raises(DataError) as info:
        get_spec("wikitext2")
    message = str(info.value)
    assert message.startswith("unknown dataset 'wikitext2' (did you mean 'wikitext-2'?); known: ")
    assert message.endswith(
        "airline, conll2003, eng-fra, ett, household_power, imdb, multi30k, ptb, "
        "sst2, tinyshakespeare, wikitext-2"
    )
    assert isinstance(info.value, RnnkitError) and info.value.exit_code == 1


def test_data_error_formats_location_parts():
    full = DataError("expected a number, got 'abc'", file="data/x.csv", line=12, field="price")
    assert str(full) == "data/x.csv:12: field 'price': expected a number, got 'abc'"
    assert (full.file, full.line, full.field) == ("data/x.csv", 12, "price")
    assert full.message == "expected a number, got 'abc'"
    assert str(DataError("bad", file=Path("a/b.txt"))) == "a/b.txt: bad"
    assert str(DataError("bad", field="text")) == "field 'text': bad"
    assert str(DataError("bad", line=3)) == "line 3: bad"
    assert str(DataError("bad")) == "bad"


# --- where files are looked up -----------------------------------------------------------------


def test_the_demo_corpus_ships_inside_the_package(tmp_path, monkeypatch):
    """`make demo` needs no data directory and no network: tinyshakespeare is bundled, byte
    for byte the registry's file, and found after every root."""
    monkeypatch.setenv("RNNKIT_DATA", "")
    monkeypatch.setenv("RNNKIT_CACHE", str(tmp_path / "empty"))
    [result] = verify("tinyshakespeare")
    assert result.status == "ok" and result.path == BUNDLED / "tinyshakespeare" / "input.txt"
    assert locate("tinyshakespeare") == result.path
    mine = tmp_path / "mine"
    (mine / "tinyshakespeare").mkdir(parents=True)
    (mine / "tinyshakespeare" / "input.txt").write_text("First Citizen:\n")
    monkeypatch.setenv("RNNKIT_DATA", str(mine))
    assert locate("tinyshakespeare") == mine / "tinyshakespeare" / "input.txt"  # a root wins


def test_data_roots_order_and_cache_fallbacks(tmp_path, monkeypatch):
    a, b = tmp_path / "a", tmp_path / "b"
    monkeypatch.setenv("RNNKIT_DATA", f"{a}{os.pathsep}{b}")
    assert data_roots() == [a, b, tmp_path / "cache"]
    monkeypatch.delenv("RNNKIT_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "rnnkit"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "rnnkit"
    monkeypatch.delenv("RNNKIT_DATA")
    assert data_roots() == [tmp_path / "home" / ".cache" / "rnnkit"]


def test_locate_first_root_wins_and_cache_is_searched(tmp_path, monkeypatch):
    first, second = tmp_path / "first", tmp_path / "second"
    for root in (first, second, tmp_path / "cache"):
        (root / "ptb").mkdir(parents=True)
    (second / "ptb" / "ptb.valid.txt").write_text("second\n")
    (first / "ptb" / "ptb.valid.txt").write_text("first\n")
    (tmp_path / "cache" / "ptb" / "ptb.test.txt").write_text("cached\n")
    monkeypatch.setenv("RNNKIT_DATA", f"{first}{os.pathsep}{second}")
    assert locate("ptb", "valid") == first / "ptb" / "ptb.valid.txt"
    assert locate("ptb", "test") == tmp_path / "cache" / "ptb" / "ptb.test.txt"
    found = {file.split: path for file, path in local_files("ptb")}
    assert found == {
        "train": None,
        "valid": first / "ptb" / "ptb.valid.txt",
        "test": tmp_path / "cache" / "ptb" / "ptb.test.txt",
    }


def test_locate_missing_names_dataset_file_dirs_and_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNKIT_DATA", str(tmp_path / "data"))
    with pytest.raises(DataError) as info:
        locate("ptb", "train")
    assert str(info.value) == (
        f"dataset 'ptb': file ptb/ptb.train.txt not found; searched {tmp_path / 'data'}, "
        f"{tmp_path / 'cache'}; to fix: set RNNKIT_DATA to the directory that holds ptb/, "
        "or run `rnnkit datasets download ptb`"
    )
    with pytest.raises(
        DataError,
        match=r"file wikitext-2/wiki\.train\.tokens\.gz or "
        r"wikitext-2/wiki\.train\.tokens not found",
    ):
        locate("wikitext-2", "train")
    with pytest.raises(DataError, match="no download URL: the file is a repack"):
        locate("imdb", "test")


def test_locate_selects_by_split_or_file():
    with pytest.raises(
        DataError, match="dataset 'ptb' has no split 'dev'; splits: test, train, valid"
    ):
        locate("ptb", "dev")
    with pytest.raises(
        DataError,
        match=r"dataset 'ett' has 4 data files \(ETTh1\.csv, "
        r"ETTh2\.csv, ETTm1\.csv\.gz, ETTm2\.csv\.gz\); pass file=",
    ):
        locate("ett")
    with pytest.raises(DataError, match="has no file 'ETTh3.csv'; files: ETTh1.csv"):
        locate("ett", file="ETTh3.csv")
    with pytest.raises(DataError, match="give split or file, not both"):
        locate("ptb", "test", file="ptb.test.txt")
    with pytest.raises(DataError, match="has 3 data files .*; pass split= one of test, train"):
        locate("ptb")
    # One data file (the .names file is documentation): no choice needed; .gz optional.
    with pytest.raises(DataError, match="file airline/airline-passengers.csv not found"):
        locate("airline")
    with pytest.raises(DataError, match="file ett/ETTm1.csv.gz or ett/ETTm1.csv not found"):
        locate("ett", file="ETTm1.csv")


def test_decompressed_copy_of_a_gz_file_is_found_and_checked(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNKIT_DATA", str(tmp_path / "data"))
    plain = tmp_path / "data" / "eng-fra" / "eng-fra.txt"
    plain.parent.mkdir(parents=True)
    plain.write_text("Go.\tVa !\n", encoding="utf-8")
    assert locate("eng-fra") == plain
    [result] = verify("eng-fra")
    assert result.path == plain and result.status == "mismatch"
    assert result.expected == get_spec("eng-fra").files[0].raw_sha256
    assert result.got == _sha(b"Go.\tVa !\n")


# --- verify ------------------------------------------------------------------------------------


def test_verify_reports_ok_mismatch_and_missing(tmp_path, monkeypatch):
    root = tmp_path / "data"
    (root / "toy").mkdir(parents=True)
    (root / "toy" / "good.txt").write_bytes(b"good\n")
    (root / "toy" / "bad.txt").write_bytes(b"tampered\n")
    monkeypatch.setenv("RNNKIT_DATA", str(root))
    _toy(
        monkeypatch,
        DatasetFile("toy/good.txt", _sha(b"good\n"), "train", None),
        DatasetFile("toy/bad.txt", _sha(b"bad\n"), "valid", None),
        DatasetFile("toy/gone.txt", _sha(b"gone\n"), "test", None),
    )
    results = verify("toy")
    assert [(r.file.name, r.status) for r in results] == [
        ("good.txt", "ok"),
        ("bad.txt", "mismatch"),
        ("gone.txt", "missing"),
    ]
    assert results[0].path == root / "toy" / "good.txt"
    assert results[1].expected == _sha(b"bad\n") and results[1].got == _sha(b"tampered\n")
    assert results[2].path is None and results[2].got is None
    assert results[2].expected == _sha(b"gone\n")


def test_sha256_file_reads_in_chunks(tmp_path):
    path = tmp_path / "big.bin"
    data = os.urandom(3 * (1 << 20) + 17)  # more than one 1 MiB chunk, not a multiple
    path.write_bytes(data)
    assert sha256_file(path) == _sha(data)
    path.write_bytes(b"abc")
    assert sha256_file(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


# --- download (file:// URLs only) --------------------------------------------------------------


@pytest.fixture
def upstream(tmp_path):
    """A file standing in for the upstream copy, and its file:// URL."""
    path = tmp_path / "upstream" / "a.txt"
    path.parent.mkdir()
    path.write_bytes(b"line one\nline two\n" * 1000)
    return path, path.as_uri()


def test_download_fetches_verifies_and_renames(tmp_path, monkeypatch, upstream, capsys):
    src, url = upstream
    _toy(monkeypatch, DatasetFile("toy/a.txt", sha256_file(src), None, url))
    results = download("toy", progress=True)
    dest = tmp_path / "cache" / "toy" / "a.txt"
    assert [(r.path, r.status) for r in results] == [(dest, "downloaded")]
    assert dest.read_bytes() == src.read_bytes()
    assert os.listdir(dest.parent) == ["a.txt"]  # no temporary file left behind
    captured = capsys.readouterr()
    assert captured.out == ""  # library code never prints; the bar is on stderr
    assert "a.txt" in captured.err and "100%" in captured.err
    # Present now: not fetched again, and verify agrees.
    src.write_bytes(b"changed upstream")
    assert [r.status for r in download("toy", progress=False)] == ["present"]
    assert [r.status for r in verify("toy")] == ["ok"]
    assert capsys.readouterr().err == ""


def test_download_into_root_skips_files_under_rnnkit_data(tmp_path, monkeypatch, upstream):
    src, url = upstream
    data = tmp_path / "data"
    (data / "toy").mkdir(parents=True)
    (data / "toy" / "have.txt").write_bytes(b"x")
    monkeypatch.setenv("RNNKIT_DATA", str(data))
    _toy(
        monkeypatch,
        DatasetFile("toy/have.txt", _sha(b"x"), "train", url),
        DatasetFile("toy/a.txt", sha256_file(src), "test", url),
    )
    results = download("toy", root=tmp_path / "elsewhere", progress=False)
    assert [(r.path, r.status) for r in results] == [
        (data / "toy" / "have.txt", "present"),
        (tmp_path / "elsewhere" / "toy" / "a.txt", "downloaded"),
    ]


def test_download_gz_entry_is_saved_decompressed(tmp_path, monkeypatch, upstream):
    src, url = upstream
    gz = gzip.compress(src.read_bytes())
    _toy(monkeypatch, DatasetFile("toy/a.txt.gz", _sha(gz), None, url, sha256_file(src)))
    [result] = download("toy", progress=False)
    assert result.path == tmp_path / "cache" / "toy" / "a.txt"
    assert locate("toy") == result.path
    assert [(r.status, r.expected) for r in verify("toy")] == [("ok", sha256_file(src))]


def test_download_of_a_file_served_compressed_keeps_it_compressed(tmp_path, monkeypatch):
    gz_path = tmp_path / "upstream" / "b.txt.gz"
    gz_path.parent.mkdir(exist_ok=True)
    gz_path.write_bytes(gzip.compress(b"ein Satz\n" * 100))
    raw = _sha(gzip.decompress(gz_path.read_bytes()))
    entry = DatasetFile(
        "toy/b.txt.gz", sha256_file(gz_path), None, gz_path.as_uri(), raw, served_compressed=True
    )
    _toy(monkeypatch, entry)
    [result] = download("toy", progress=False)
    assert result.path == tmp_path / "cache" / "toy" / "b.txt.gz"
    assert result.path.read_bytes() == gz_path.read_bytes()
    assert [r.status for r in verify("toy")] == ["ok"]


def test_download_mismatch_keeps_nothing(tmp_path, monkeypatch, upstream):
    src, url = upstream
    _toy(monkeypatch, DatasetFile("toy/a.txt", "0" * 64, None, url))
    with pytest.raises(DataError) as info:
        download("toy", progress=False)
    assert str(info.value) == (
        f"download of {url} does not match the registry: expected sha256 {'0' * 64}, "
        f"got {sha256_file(src)}; nothing was kept"
    )
    assert os.listdir(tmp_path / "cache" / "toy") == []


def test_download_refused_offline_and_without_url(tmp_path, monkeypatch, upstream):
    src, url = upstream
    _toy(monkeypatch, DatasetFile("toy/a.txt", sha256_file(src), None, url))
    monkeypatch.setenv("RNNKIT_OFFLINE", "1")
    with pytest.raises(DataError) as info:
        download("toy")
    assert str(info.value) == (
        "RNNKIT_OFFLINE=1: not downloading 1 file of dataset 'toy' (toy/a.txt); unset "
        "RNNKIT_OFFLINE, or set RNNKIT_DATA to a directory that holds toy/"
    )
    assert not (tmp_path / "cache").exists()
    with pytest.raises(
        DataError,
        match=r"imdb/train\.jsonl\.gz, imdb/test\.jsonl\.gz cannot "
        r"be downloaded \(no upstream file",
    ):
        download("imdb")


def test_download_offline_is_fine_when_nothing_is_absent(tmp_path, monkeypatch, upstream):
    src, url = upstream
    _toy(monkeypatch, DatasetFile("toy/a.txt", sha256_file(src), None, url))
    download("toy", progress=False)
    monkeypatch.setenv("RNNKIT_OFFLINE", "1")
    assert [r.status for r in download("toy", progress=False)] == ["present"]


def test_download_failure_is_a_data_error(tmp_path, monkeypatch):
    url = (tmp_path / "nowhere.txt").as_uri()
    _toy(monkeypatch, DatasetFile("toy/a.txt", "0" * 64, None, url))
    with pytest.raises(DataError, match=f"download of {re.escape(url)} failed: "):
        download("toy", progress=False)
    assert os.listdir(tmp_path / "cache" / "toy") == []


# --- the real benchmark files ------------------------------------------------------------------


def _sha256sums(root: Path) -> dict[str, str]:
    lines = (root / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    return {path: sha for sha, path in (line.split(maxsplit=1) for line in lines if line)}


@pytest.mark.real_data
def test_registry_matches_sha256sums(real_data):
    registered = {f.path: f.sha256 for spec in REGISTRY.values() for f in spec.files}
    assert registered == _sha256sums(real_data)


@pytest.mark.real_data
def test_every_real_file_verifies_and_gz_contents_match(real_data):
    results = [result for name in REGISTRY for result in verify(name)]
    assert len(results) == 60
    assert [r.file.path for r in results if r.status != "ok"] == []
    assert all(r.path.is_relative_to(real_data) for r in results)
    # The decompressed sha256 recorded for each .gz file (what a download fetches) is right.
    for result in results:
        if result.file.raw_sha256:
            digest = hashlib.sha256()
            with gzip.open(result.path, "rb") as handle:
                while chunk := handle.read(1 << 20):
                    digest.update(chunk)
            assert digest.hexdigest() == result.file.raw_sha256, result.file.path


@pytest.mark.real_data
def test_locate_real_files(real_data):
    assert locate("conll2003", "test") == real_data / "conll2003" / "eng.testb"
    assert locate("ett", file="ETTm1.csv") == real_data / "ett" / "ETTm1.csv.gz"
    assert locate("airline") == real_data / "airline" / "airline-passengers.csv"
    assert locate("sst2", "valid").name == "dev.tsv"
