"""Distributed data parallel: 2 CPU processes (gloo, launched by torchrun) == 1 process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.torch import load_file

from review_cases import review_files
from rnnkit.config import ConfigError
from rnnkit.training.distributed import DistributedContext, local_cuda_device

WORKER = Path(__file__).parent / "workers" / "ddp_sign.py"


def _env() -> dict[str, str]:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    env.pop("WORLD_SIZE", None)
    return env


def _run(command: list[str]) -> None:
    done = subprocess.run(command, env=_env(), timeout=300, capture_output=True, text=True)
    # On failure, show what the workers said (a torchrun failure is otherwise opaque).
    assert done.returncode == 0, f"{command} exited {done.returncode}:\n{done.stderr[-4000:]}"


def test_two_processes_match_one_process_on_the_same_global_batch(tmp_path):
    single, double = tmp_path / "single.safetensors", tmp_path / "double.safetensors"
    _run([sys.executable, str(WORKER), str(single), "32"])
    launch = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    _run([*launch, str(WORKER), str(double), "32"])
    one, two = load_file(single), load_file(double)
    assert one.keys() == two.keys()
    for key in one:
        torch.testing.assert_close(two[key], one[key], rtol=1e-4, atol=1e-5)
    # And the training moved the weights (so the comparison means something).
    fresh_seed_model = load_file(single)
    assert any(v.abs().sum() > 0 for v in fresh_seed_model.values())


def test_each_process_takes_the_gpu_of_its_local_rank(monkeypatch):
    chosen = []
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "set_device", chosen.append)
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert local_cuda_device() == torch.device("cuda", 1)
    assert chosen == [1]  # so that "cuda" means this process's GPU from then on


def test_more_processes_than_gpus_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setenv("LOCAL_RANK", "1")
    with pytest.raises(ConfigError, match="LOCAL_RANK=1 has no GPU of its own: this node has 1"):
        local_cuda_device()


RNNKIT = str(Path(sys.executable).parent / "rnnkit")
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]


def _one_and_two_processes(tmp_path: Path, args: list[str]) -> tuple[dict, dict]:
    """``rnnkit ARGS`` alone and under torchrun with 2 CPU processes: each one's summary."""
    common = [*args, "--device", "cpu", "--progress", "none", "--json"]
    one = subprocess.run(
        [RNNKIT, *common, "--out", str(tmp_path / "one")],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert one.returncode == 0, one.stderr[-4000:]
    two = subprocess.run(
        [*TORCHRUN, "--no-python", RNNKIT, *common, "--out", str(tmp_path / "two")],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert two.returncode == 0, two.stderr[-4000:]
    summaries = [line for line in two.stdout.splitlines() if '"type": "summary"' in line]
    assert len(summaries) == 1  # rank 0 reports; rank 1 prints nothing
    single = load_file(tmp_path / "one" / "model.safetensors")
    double = load_file(tmp_path / "two" / "model.safetensors")
    assert single.keys() == double.keys()
    for key in single:
        torch.testing.assert_close(double[key], single[key], rtol=1e-4, atol=1e-5, msg=key)
    return json.loads(one.stdout.splitlines()[-1]), json.loads(summaries[0])


def test_lm_train_under_torchrun_equals_one_process(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("the quick brown fox jumps over the lazy dog.\n" * 40)
    args = ["lm", "train", "--data", str(corpus), "--level", "char", "--hidden-size", "16"]
    args += ["--embedding-size", "8", "--batch-size", "8", "--bptt", "10", "--epochs", "2"]
    one, two = _one_and_two_processes(tmp_path, args)
    assert one["steps"] == two["steps"] > 0


def test_classify_train_under_torchrun_equals_one_process(tmp_path):
    files = review_files(tmp_path)
    # 360 training reviews in batches of 359: the last batch has one row, so the second
    # process gets none of it and must still join the gradient average.
    args = ["classify", "train", "--data", str(files["train"]), "--text-col", "review"]
    args += ["--label-col", "sentiment", "--embedding-size", "8", "--hidden-size", "8"]
    args += ["--batch-size", "359", "--epochs", "3", "--lr", "0.01", "--dropout", "0"]
    one, two = _one_and_two_processes(tmp_path, args)
    assert one["steps"] == two["steps"] == 6
    assert (tmp_path / "two" / "vocab.json").read_text() == (
        tmp_path / "one" / "vocab.json"
    ).read_text()


def test_forecast_train_under_torchrun_equals_one_process(tmp_path):
    t = np.arange(400)
    frame = pd.DataFrame(
        {"value": 10 + 3 * np.sin(2 * np.pi * t / 24)},
        index=pd.date_range("2024-01-01", periods=len(t), freq="h", name="time"),
    )
    frame.to_csv(tmp_path / "sine.csv", index_label="time")
    args = ["forecast", "train", "--data", str(tmp_path / "sine.csv"), "--target", "value"]
    args += ["--time-col", "time", "--lookback", "24", "--horizon", "6", "--kind", "direct"]
    args += ["--hidden-size", "8", "--epochs", "2", "--batch-size", "16"]
    one, two = _one_and_two_processes(tmp_path, args)
    assert one["steps"] == two["steps"] > 0


def test_lm_train_needs_a_stream_per_process(monkeypatch, tmp_path):
    from rnnkit.tasks import lm
    from rnnkit.tasks.common import trainer

    corpus = tmp_path / "corpus.txt"
    corpus.write_text("a b c d e f g\n" * 50)
    monkeypatch.setattr(trainer, "init_distributed", lambda device: DistributedContext(0, 4))
    config = lm.LMConfig(data=lm.LMDataConfig(data=str(corpus), level="word", batch_size=2))
    with pytest.raises(ConfigError, match="batch_size is 2 but torchrun started 4 processes"):
        lm.train(config, tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_a_stopped_torchrun_run_resumes_exactly(tmp_path):
    """Each rank's carried state and dropout stream come back, not only rank 0's."""
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("the quick brown fox jumps over the lazy dog.\n" * 40)
    args = ["lm", "train", "--data", str(corpus), "--level", "char", "--hidden-size", "16"]
    args += ["--embedding-size", "8", "--batch-size", "8", "--bptt", "10", "--epochs", "2"]
    args += ["--dropout", "0.3", "--device", "cpu", "--progress", "none", "--json"]

    def torchrun(*more: str) -> None:
        done = _torchrun(*more)
        assert done.returncode == 0, done.stderr[-4000:]

    torchrun(*args, "--out", str(tmp_path / "straight"))
    torchrun(*args, "--max-steps", "7", "--out", str(tmp_path / "stopped"))  # mid-epoch 1
    torchrun("lm", "train", "--resume", str(tmp_path / "stopped"), "--max-steps", "1000")
    straight = load_file(tmp_path / "straight" / "model.safetensors")
    resumed = load_file(tmp_path / "stopped" / "model.safetensors")
    for key, value in straight.items():
        assert torch.equal(resumed[key], value), key


def test_when_rank_0_cannot_start_the_run_no_rank_waits_for_it(tmp_path):
    # Rank 0 alone sets the run up; when that fails (here: --out inside a file), the other
    # rank used to wait at a barrier for ever.
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("the cat sat on the mat\n" * 200)
    (tmp_path / "notes.txt").write_text("keep me")
    args = ["lm", "train", "--data", str(corpus), "--level", "word", "--hidden-size", "8"]
    args += ["--device", "cpu", "--progress", "none", "--out", str(tmp_path / "notes.txt" / "r")]
    done = _torchrun(*args, timeout=120)
    assert done.returncode != 0
    assert "notes.txt is not a directory" in done.stderr
    assert "rank 0 could not start the run" in done.stderr
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def _torchrun(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    """``rnnkit ARGS`` under torchrun with 2 CPU processes."""
    command = [*TORCHRUN, "--no-python", RNNKIT, *args]
    return subprocess.run(command, env=_env(), capture_output=True, text=True, timeout=timeout)
