"""A run directory is data: resuming a crafted or damaged one runs no code and ends in one line
naming the file (issue #26)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from rnnkit.cli import main


@pytest.fixture
def lm_run(tiny_lm_run) -> Path:
    return tiny_lm_run


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


def _copy(lm_run: Path, tmp_path: Path) -> Path:
    import shutil

    run = tmp_path / "copy"
    shutil.copytree(lm_run, run)
    return run


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
@pytest.mark.parametrize("name", ["vocab.json", "config.json", "model.safetensors"])
@pytest.mark.parametrize("kind", ["device", "fifo", "huge"])
def test_a_run_file_that_is_no_ordinary_file_is_refused_unread(lm_run, tmp_path, name, kind):
    run = _copy(lm_run, tmp_path)
    target = run / name
    target.unlink()
    if kind == "device":
        target.symlink_to("/dev/zero")  # read whole, it would fill the memory
    elif kind == "fifo":
        os.mkfifo(target)  # opened, it would block until someone writes
    else:
        with open(target, "wb") as sparse:  # 2 GiB that take no disk space
            sparse.truncate(2 << 30)
    result = CliRunner().invoke(main, ["lm", "eval", str(run)])
    assert result.exit_code == 1, result.output
    expected = {
        "device": "not a regular file",
        "fifo": "not a regular file",
        "huge": "larger than a run file may be" if name != "model.safetensors" else "safetensors",
    }[kind]
    assert result.output.startswith(f"error: {target}") and expected in result.output
    assert result.output.count("\n") == 1


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_a_device_or_a_pipe_as_data_is_named_as_such(tmp_path):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    for data in ("/dev/zero", str(fifo)):
        result = CliRunner().invoke(
            main, ["lm", "train", "--data", data, "--out", str(tmp_path / "r")]
        )
        assert result.exit_code == 1, result.output
        assert result.output == (
            f"error: {data}: not a regular file (a device, a pipe or a socket), expected a file\n"
        )


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda g: g.update(lr="fast"), "param_groups.0.lr: expected a value like"),
        (lambda g: g.update(betas=[0.9]), "param_groups.0.betas: expected a value like"),
        (lambda g: g.pop("lr"), "param_groups.0: missing 'lr'"),
    ],
    ids=["lr a word", "one beta", "no lr"],
)
def test_malformed_optimizer_values_are_one_line_naming_the_file(
    lm_run, tmp_path, change, fragment
):
    run = _copy(lm_run, tmp_path)
    path = _progress_file(run).with_name("optimizer.json")
    record = json.loads(path.read_text())
    change(record["state_dict"]["param_groups"][0])
    path.write_text(json.dumps(record))
    result = CliRunner().invoke(main, ["lm", "train", "--resume", str(run), "--epochs", "2"])
    assert result.exit_code == 1, result.output
    assert result.output.startswith(f"error: {path}: {fragment}"), result.output
    assert result.output.count("\n") == 1


def test_nan_weights_are_refused_not_answered(lm_run, tmp_path):
    from safetensors.torch import load_file, save_file

    run = _copy(lm_run, tmp_path)
    weights = load_file(run / "model.safetensors")
    first = sorted(weights)[0]
    weights[first] = torch.full_like(weights[first], float("nan"))
    save_file(weights, run / "model.safetensors", metadata={"format": "pt"})
    result = CliRunner().invoke(main, ["lm", "score", str(run), "the cat"])
    assert result.exit_code == 1, result.output
    message = f"error: {run / 'model.safetensors'}: parameter(s) '{first}' hold NaN"
    assert result.output.startswith(message) and "diverged" in result.output


def test_a_vocabulary_that_does_not_fit_the_weights_is_named(lm_run, tmp_path):
    run = _copy(lm_run, tmp_path)
    vocab = json.loads((run / "vocab.json").read_text())
    vocab["tokens"].pop()  # one word short: the embedding's shape no longer fits
    (run / "vocab.json").write_text(json.dumps(vocab))
    result = CliRunner().invoke(main, ["lm", "score", str(run), "the cat"])
    assert result.exit_code == 1, result.output
    assert "expected shape" in result.output and "config.json, vocab.json" in result.output
    assert result.output.count("\n") == 1


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ({"mean": [0.0]}, "expected the keys ['mean', 'std']"),
        ({"mean": [0.0, 1.0], "std": [1.0]}, "one mean and one std per feature, got 2 and 1"),
        ({"mean": [0.0], "std": [0.0]}, "expected every std > 0"),
        ({"mean": ["a"], "std": [1.0]}, "mean: expected a list of finite numbers"),
        ([1, 2], "expected the keys ['mean', 'std'], got list"),
    ],
)
def test_a_malformed_scaler_file_is_named(tmp_path, content, fragment):
    # The numeric classifier's and tagger's scaler.json: KeyError/TypeError tracebacks before.
    from rnnkit.data.scaler import Scaler
    from rnnkit.training.rundir import RunDir, RunDirError

    run = RunDir(tmp_path)
    run.write_extra("scaler", content)
    with pytest.raises(RunDirError) as caught:
        run.read_extra_as("scaler", Scaler.from_dict)
    assert str(caught.value).startswith(str(tmp_path / "scaler.json") + ": ")
    assert fragment in str(caught.value)
