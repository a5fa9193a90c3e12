"""A run directory is data: resuming a crafted or damaged one runs no code and ends in one line
naming the file (issue #26)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from rnnkit.cli import main

WORDS = ["the", "cat", "sat", "on", "a", "mat", "and", "dog", "ran", "far", "away"]


@pytest.fixture(scope="module")
def lm_run(tmp_path_factory) -> Path:
    """A finished one-epoch word language model with one checkpoint."""
    root = tmp_path_factory.mktemp("untrusted")
    text = root / "text.txt"
    lines = (" ".join(WORDS[(i * 7 + j) % len(WORDS)] for j in range(12)) for i in range(120))
    text.write_text("\n".join(lines) + "\n")
    run = root / "run"
    args = ["lm", "train", "--data", str(text), "--level", "word", "--hidden-size", "8"]
    args += ["--embedding-size", "8", "--epochs", "1", "--max-steps", "3", "--out", str(run)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return run


def _progress_file(run: Path) -> Path:
    latest = (run / "checkpoint" / "latest").read_text().strip()
    return run / "checkpoint" / latest / "progress.json"


def _damaged_copy(lm_run: Path, tmp_path: Path, change) -> Path:
    import shutil

    run = tmp_path / "run"
    shutil.copytree(lm_run, run)
    path = _progress_file(run)
    record = json.loads(path.read_text())
    change(record["progress"]["trainer"])
    path.write_text(json.dumps(record))
    return run


def _resume(run: Path, cwd: Path) -> subprocess.CompletedProcess:
    """``python -m rnnkit lm train --resume RUN`` from ``cwd`` (which Python puts first on its
    module path, as it does for a user who runs rnnkit beside a downloaded run)."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    command = [sys.executable, "-m", "rnnkit", "lm", "train", "--resume", str(run)]
    return subprocess.run(
        [*command, "--epochs", "2"], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_a_checkpoint_naming_a_planted_module_runs_nothing(lm_run, tmp_path):
    mark = tmp_path / "it-ran"
    (tmp_path / "planted.py").write_text(
        f"open({str(mark)!r}, 'w').close()\nfrom rnnkit.state import LSTMState as State\n"
    )

    def plant(trainer: dict) -> None:
        trainer["carry"] = {"__namedtuple__": ["planted:State", [None, None]]}

    run = _damaged_copy(lm_run, tmp_path, plant)
    result = _resume(run, cwd=tmp_path)
    assert result.returncode == 1
    assert not mark.exists()
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"error: {_progress_file(run)}: malformed trainer state")
    assert "trainer.carry: names 'planted:State', which is not a state type" in result.stderr


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda t: t.pop("sums"), "missing key 'sums'"),
        (lambda t: t.update(step="twenty"), "trainer.step: expected an int >= 0, got 'twenty'"),
        (lambda t: t.update(train_time=None), "trainer.train_time: expected seconds"),
        (lambda t: t["sums"].update(extra=1), "unexpected keyword argument 'extra'"),
    ],
    ids=["no sums", "step a word", "no time", "extra sum"],
)
def test_a_malformed_trainer_state_is_one_line_naming_the_file(lm_run, tmp_path, change, fragment):
    run = _damaged_copy(lm_run, tmp_path, change)
    result = CliRunner().invoke(main, ["lm", "train", "--resume", str(run), "--epochs", "2"])
    assert result.exit_code == 1, result.output
    assert result.output.startswith(f"error: {_progress_file(run)}: malformed trainer state")
    assert fragment in result.output and result.output.count("\n") == 1
