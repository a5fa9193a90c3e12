"""Run directories under fire: SIGKILL and resume, Ctrl-C, corrupted checkpoints, info."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load_file

from rnnkit.cli import main
from rnnkit.training.checkpoint import CheckpointError

WORKER = Path(__file__).parent / "workers" / "resumable.py"


def _train(run: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run(
        [sys.executable, str(WORKER), str(run), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("runs") / "straight"
    done = _train(run)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[0] == "completed"
    return run


def _assert_same_weights(a: Path, b: Path) -> None:
    wa, wb = load_file(a / "model.safetensors"), load_file(b / "model.safetensors")
    assert wa.keys() == wb.keys()
    for key in wa:
        assert torch.equal(wa[key], wb[key]), key


def _records(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("kill_at", [7, 15])  # mid-epoch, and in the next epoch
def test_sigkill_then_resume_ends_with_the_same_parameters(tmp_path, uninterrupted, kill_at):
    run = tmp_path / "killed"
    killed = _train(run, "--kill-at", str(kill_at))
    assert killed.returncode == -9  # really killed, no clean-up ran
    resumed = _train(run, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    _assert_same_weights(run, uninterrupted)
    # The metrics log has no duplicated or missing steps after the resume.
    steps = [r["step"] for r in _records(run) if r["kind"] == "step"]
    assert steps == [r["step"] for r in _records(uninterrupted) if r["kind"] == "step"]
    epochs = [r for r in _records(run) if r["kind"] == "epoch"]
    reference = [r for r in _records(uninterrupted) if r["kind"] == "epoch"]
    assert [r["val_loss"] for r in epochs] == [r["val_loss"] for r in reference]


def test_sigint_saves_a_checkpoint_and_stops_cleanly(tmp_path, uninterrupted):
    run = tmp_path / "interrupted"
    stopped = _train(run, "--sigint-at", "10")
    assert stopped.returncode == 0, stopped.stderr
    assert stopped.stdout.split() == ["interrupted", "10"]
    latest = (run / "checkpoint" / "latest").read_text().strip()
    assert latest.endswith("00000010")
    resumed = _train(run, "--resume")
    assert resumed.stdout.split()[0] == "completed"
    _assert_same_weights(run, uninterrupted)


def test_resuming_a_completed_run_changes_nothing(tmp_path, uninterrupted):
    before = load_file(uninterrupted / "model.safetensors")
    again = _train(uninterrupted, "--resume")
    assert again.returncode == 0 and again.stdout.split()[0] == "completed"
    after = load_file(uninterrupted / "model.safetensors")
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_corrupted_checkpoint_is_a_clear_error(tmp_path, uninterrupted):
    import shutil

    run = tmp_path / "corrupt"
    shutil.copytree(uninterrupted, run)
    generation = run / "checkpoint" / (run / "checkpoint" / "latest").read_text().strip()
    weights = generation / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    broken = _train(run, "--resume")
    assert broken.returncode != 0
    assert "model.safetensors" in broken.stderr and "CheckpointError" in broken.stderr
    assert CheckpointError.__name__ == "CheckpointError"


def test_info_summarises_the_run(uninterrupted):
    result = CliRunner().invoke(main, ["info", str(uninterrupted), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["epochs"] == 3 and summary["complete"] is True
    assert summary["stop_reason"] == "completed"
    assert summary["parameters"] == sum(
        v.numel() for v in load_file(uninterrupted / "model.safetensors").values()
    )
    assert summary["best"]["val_loss"] == min(
        r["val_loss"] for r in _records(uninterrupted) if r["kind"] == "epoch"
    )
    assert summary["grad_norm"]["max"] >= summary["grad_norm"]["median"] > 0
    human = CliRunner().invoke(main, ["info", str(uninterrupted)])
    assert "grad norm  median" in human.output and "3 epochs" in human.output
    assert (uninterrupted / "loss.png").stat().st_size > 1000


def test_info_on_a_missing_run_is_one_clean_error(tmp_path):
    result = CliRunner().invoke(main, ["info", str(tmp_path / "nope")])
    assert result.exit_code == 1
    assert result.output.startswith("error: ") and "Traceback" not in result.output
