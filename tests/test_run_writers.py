"""One writer per run directory, and no start that fails leaves anything behind (issue #26):
runs are set up in a staging directory and moved into place; the writer holds a lock."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from rnnkit.cli import main
from rnnkit.training.rundir import RunDir, RunDirError
from rnnkit.training.runlock import RunLock, RunLockedError
from rnnkit.training.staging import StagedRun

WORDS = ["the", "cat", "sat", "on", "a", "mat", "and", "dog", "ran", "far", "away"]
SMALL = ["--level", "word", "--hidden-size", "8", "--embedding-size", "8", "--epochs", "1"]


@pytest.fixture
def text(tmp_path) -> Path:
    path = tmp_path / "text.txt"
    lines = (" ".join(WORDS[(i * 5 + j) % len(WORDS)] for j in range(12)) for i in range(120))
    path.write_text("\n".join(lines) + "\n")
    return path


def _train(text: Path, out: Path, *extra: str):
    args = ["lm", "train", "--data", str(text), *SMALL, "--max-steps", "3", "--out", str(out)]
    return CliRunner().invoke(main, [*args, *extra])


def _contents(directory: Path) -> dict[str, str]:
    """Every file under ``directory`` (the lock file aside) with a digest of its bytes."""
    return {
        str(path.relative_to(directory)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.rglob("*"))
        if path.is_file() and path.name != ".lock"
    }


@pytest.fixture
def finished(text, tmp_path) -> Path:
    run = tmp_path / "runs" / "lm"
    result = _train(text, run)
    assert result.exit_code == 0, result.output
    return run


@pytest.mark.parametrize(
    ("flags", "code", "fragment"),
    [
        (["--adaptive-cutoffs", "100,200"], 2, "cutoffs must be below the vocabulary size"),
        (["--batch-size", "100000"], 1, "too little training text for batch_size 100000"),
    ],
    ids=["model", "batches"],
)
def test_overwrite_keeps_the_old_run_when_the_new_one_cannot_start(
    finished, text, flags, code, fragment
):
    before = _contents(finished)
    result = _train(text, finished, "--overwrite", *flags)
    assert result.exit_code == code and fragment in result.output
    assert _contents(finished) == before
    assert sorted(p.name for p in finished.parent.iterdir()) == ["lm"]  # no staging left


def test_a_failed_start_leaves_nothing_not_even_the_parents_it_made(text, tmp_path):
    out = tmp_path / "new" / "deeper" / "run"
    result = _train(text, out, "--adaptive-cutoffs", "100,200")
    assert result.exit_code == 2
    assert not (tmp_path / "new").exists()
    assert _train(text, out).exit_code == 0  # the corrected command just works
    assert (out / "model.safetensors").is_file()


def test_the_stub_an_older_failed_start_left_does_not_block_the_rerun(finished, text):
    for name in ("model.safetensors", "checkpoint/latest"):
        (finished / name).unlink()
    result = _train(text, finished)
    assert result.exit_code == 0, result.output


def test_a_live_run_is_neither_resumed_nor_overwritten(finished, text):
    before = _contents(finished)
    with RunLock.acquire(finished):  # as a training process holds it
        result = _train(text, finished, "--overwrite")
        assert result.exit_code == 1, result.output
        assert f"another process (pid {os.getpid()}) is writing this run" in result.output
        args = ["lm", "train", "--resume", str(finished), "--epochs", "2"]
        resumed = CliRunner().invoke(main, args)
        assert resumed.exit_code == 1 and "is writing this run" in resumed.output
        assert resumed.output.count("\n") == 1
    assert _contents(finished) == before
    assert CliRunner().invoke(main, args).exit_code == 0  # once it is free


def test_two_new_runs_racing_for_one_directory(tmp_path):
    out = tmp_path / "run"
    first = StagedRun.begin(out, config={"n": 1})
    second = StagedRun.begin(out, config={"n": 2})
    with first:
        pass
    with pytest.raises(RunDirError, match="another process created a run directory here"), second:
        pass
    assert RunDir.open(out).read_config() == {"n": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    first.committed[1].release()


def test_the_lock_goes_with_a_killed_process(tmp_path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom rnnkit.training.runlock import RunLock\n"
            f"RunLock.acquire({str(tmp_path)!r}); print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RunLockedError, match=f"pid {holder.pid}"):
            RunLock.acquire(tmp_path)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    RunLock.acquire(tmp_path).release()


def test_resume_removes_what_a_killed_write_left(finished):
    leftover = finished / ".model.safetensors.0badf00d.tmp"
    leftover.write_bytes(b"half a file")
    args = ["lm", "train", "--resume", str(finished), "--epochs", "2"]
    assert CliRunner().invoke(main, args).exit_code == 0
    assert not leftover.exists()


def test_a_run_keeps_absolute_paths_and_resumes_from_anywhere(text, tmp_path, monkeypatch):
    monkeypatch.chdir(text.parent)
    typed = ["lm", "train", "--data", "text.txt", *SMALL, "--max-steps", "3", "--out", "runs/rel"]
    assert CliRunner().invoke(main, typed).exit_code == 0
    run = text.parent / "runs" / "rel"
    assert RunDir.open(run).read_config()["data"]["data"] == str(text)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    args = ["lm", "train", "--resume", str(run), "--epochs", "2"]
    assert CliRunner().invoke(main, args).exit_code == 0
    text.rename(tmp_path / "moved.txt")
    moved = CliRunner().invoke(main, ["lm", "train", "--resume", str(run), "--epochs", "3"])
    assert moved.exit_code == 1 and str(text) in moved.output, moved.output
    assert moved.output.count("\n") == 1


@pytest.fixture
def small_disk(tmp_path):
    """A 256 KiB tmpfs (root, where the platform allows mounting; skipped elsewhere)."""
    mount = tmp_path / "small"
    mount.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True
    )
    if made.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.parametrize("filler", [0, 160], ids=["weights", "early"])
def test_a_full_disk_is_one_line_naming_the_file(small_disk, text, filler):
    (small_disk / "filler").write_bytes(b"\0" * filler * 1024)
    out = small_disk / "run"
    args = ["lm", "train", "--data", str(text), "--level", "word", "--hidden-size", "64"]
    args += ["--embedding-size", "64", "--epochs", "1", "--max-steps", "2", "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    last = result.output.splitlines()[-1]
    assert last.startswith(f"error: {small_disk}") and last.endswith("No space left on device")
    assert result.output.count("error:") == 1


@pytest.mark.parametrize(
    ("where", "error"),
    [
        ("notes.txt/out.csv", "Not a directory"),
        ("missing/dir/out.csv", "No such file or directory"),
        ("a-directory", "Is a directory"),
    ],
)
def test_a_write_to_an_impossible_path_names_that_path(tmp_path, where, error):
    # --output, --plot and every run file go through replace_atomically: the error names the
    # file asked for, not the temporary file beside it.
    from rnnkit.atomic import atomic_write_bytes

    (tmp_path / "notes.txt").write_text("keep me")
    (tmp_path / "a-directory").mkdir()
    target = tmp_path / where
    with pytest.raises(OSError) as caught:
        atomic_write_bytes(target, b"data")
    assert caught.value.filename == str(target) and caught.value.strerror == error
    assert (tmp_path / "notes.txt").read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-directory", "notes.txt"]


def test_a_run_inside_a_file_is_one_line_naming_both(tmp_path):
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(RunDirError) as caught:
        StagedRun.begin(tmp_path / "notes.txt" / "sub" / "run", config={})
    assert str(caught.value) == (
        f"{tmp_path}/notes.txt/sub/run: cannot create it: {tmp_path}/notes.txt is not a directory"
    )
