"""SIGKILL at a random moment of every job's training, then ``--resume``: the run ends with
the same weights, bit for bit, as one that was never interrupted (issue #26, "make it
permanent"). The kill lands anywhere after the first checkpoint: inside a training step, in
validation, or in the middle of writing a checkpoint.

Each command runs in its own process with one thread, as a user's would, so the three
processes (uninterrupted, killed, resumed) compute the same floating-point sums.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from safetensors.numpy import load_file

from bad_inputs import CONLL, FIXTURE_RUNS

DATA = FIXTURE_RUNS / "data"
SMALL = ["--progress", "none", "--set", "train.checkpoint_every=3"]
HIDDEN = ["--hidden-size", "8"]
PAIRS = "".join(f"{a} {b}\t{b} {a} .\n" for a in ("a", "dog", "cat") for b in ("runs", "sits"))

JOBS = {
    "lm": ["lm", "train", "--data", str(DATA / "corpus.txt"), "--level", "word", "--epochs", "6"],
    "classify": [
        "classify", "train", "--data", str(DATA / "reviews.csv"), "--text-col", "review",
        "--label-col", "sentiment", "--epochs", "8",
    ],
    "forecast": [
        "forecast", "train", "--data", str(DATA / "series.csv"), "--target", "value",
        "--time-col", "time", "--epochs", "8",
    ],
    "tag": ["tag", "train", "--data", "{conll}", "--char-size", "4", "--epochs", "4", *HIDDEN],
    "translate": [
        "translate", "train", "--data", "{pairs}", "--tokens", "word", "--epochs", "6",
        "--embedding-size", "8", "--encoder-hidden-size", "8", "--decoder-hidden-size", "8",
        "--batch-size", "4",
    ],
}  # fmt: skip
for _job in ("lm", "classify", "forecast"):
    JOBS[_job] += HIDDEN


def _command(job: str, out: Path, data: Path) -> list[str]:
    files = {"{conll}": str(data / "ner.conll"), "{pairs}": str(data / "pairs.tsv")}
    args = [files.get(a, a) for a in JOBS[job]]
    return [sys.executable, "-m", "rnnkit", *args, *SMALL, "--out", str(out)]


def _env() -> dict[str, str]:
    return os.environ | {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _run(args: list[str]) -> None:
    result = subprocess.run(args, env=_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def _killed_at_random(args: list[str], run: Path, rng: random.Random) -> bool:
    """Starts training, kills it (SIGKILL) at a random moment after its first checkpoint;
    False when it finished first."""
    process = subprocess.Popen(args, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    while not (run / "checkpoint" / "latest").exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            out, err = process.communicate()
            pytest.fail(f"no checkpoint appeared: {out.decode()} {err.decode()}")
        time.sleep(0.01)
    time.sleep(rng.uniform(0.0, 1.5))
    finished = process.poll() is not None
    if not finished:
        process.send_signal(signal.SIGKILL)
    process.communicate()
    return not finished


@pytest.mark.parametrize("job", sorted(JOBS))
def test_sigkill_then_resume_gives_the_same_weights(job, tmp_path):
    (tmp_path / "ner.conll").write_text(CONLL * 20, encoding="utf-8")
    (tmp_path / "pairs.tsv").write_text(PAIRS * 10, encoding="utf-8")
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    _run(_command(job, whole, tmp_path))
    rng = random.Random(f"{job}-{os.getpid()}-{time.time_ns()}")
    interrupted = _killed_at_random(_command(job, killed, tmp_path), killed, rng)
    _run([sys.executable, "-m", "rnnkit", job, "train", "--resume", str(killed)])
    expected, got = load_file(whole / "model.safetensors"), load_file(killed / "model.safetensors")
    assert expected.keys() == got.keys()
    for name in expected:
        assert (expected[name] == got[name]).all(), f"{job}: {name} differs (killed: {interrupted})"
    assert not list(killed.glob("**/.*.tmp")), "a killed write left a temporary file behind"
