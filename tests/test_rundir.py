"""Tests for rnnkit.training.rundir and rnnkit.training.plots."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from torch import nn

from rnnkit.config import RnnkitError
from rnnkit.training import plots
from rnnkit.training.checkpoint import CheckpointError
from rnnkit.training.rundir import RunDir, RunDirError


def names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


class TiedLM(nn.Module):
    def __init__(self, hidden: int = 6) -> None:
        super().__init__()
        self.embedding = nn.Embedding(9, hidden)
        self.rnn = nn.LSTM(hidden, hidden, batch_first=True)
        self.output = nn.Linear(hidden, 9)
        self.output.weight = self.embedding.weight


@pytest.fixture
def run(tmp_path) -> RunDir:
    return RunDir.create(tmp_path / "run", config={"model": {"hidden_size": 6}, "lr": 0.1})


# --- create / open --------------------------------------------------------------------------


def test_create_writes_config_and_paths(tmp_path):
    run = RunDir.create(tmp_path / "a" / "run", config={"lr": 0.1, "betas": [0.9, 0.99]})
    assert run.path == tmp_path / "a" / "run"
    assert names(run.path) == ["config.json"]
    assert json.loads(run.config_path.read_text()) == {"lr": 0.1, "betas": [0.9, 0.99]}
    assert run.read_config() == {"lr": 0.1, "betas": [0.9, 0.99]}
    assert (run.model_path.name, run.metrics_path.name) == ("model.safetensors", "metrics.jsonl")
    assert (run.checkpoint_dir.name, run.plot_path.name) == ("checkpoint", "loss.png")
    assert RunDir.open(run.path).read_config() == run.read_config()


def test_create_into_an_empty_existing_directory(tmp_path):
    RunDir.create(tmp_path, config={})
    assert names(tmp_path) == ["config.json"]


def test_existing_run_needs_resume_or_overwrite(run):
    run.write_extra("vocab", ["a"])
    run.checkpoint_dir.mkdir()
    (run.checkpoint_dir / "latest").write_text("step-00000001\n")
    with pytest.raises(RunDirError) as info:
        RunDir.create(run.path, config={"lr": 1.0})
    message = str(info.value)
    assert message.startswith(str(run.path))
    assert "--resume" in message and "--overwrite" in message and "--out" in message
    assert run.read_config()["lr"] == 0.1  # untouched


def test_overwrite_replaces_the_run(run):
    run.write_extra("vocab", ["a"])
    run.checkpoint_dir.mkdir()
    (run.checkpoint_dir / "latest").write_text("step-00000001\n")
    run.log_metrics({"kind": "step", "step": 1, "loss": 1.0})
    new = RunDir.create(run.path, config={"lr": 1.0}, overwrite=True)
    assert names(new.path) == ["config.json"]
    assert new.read_config() == {"lr": 1.0}


def test_the_stub_of_a_failed_start_is_replaced_without_overwrite(run):
    # What a start that failed after writing its config left before runs were staged: it
    # cannot be resumed (no checkpoint), so it must not block the corrected command.
    run.write_extra("vocab", ["a"])
    new = RunDir.create(run.path, config={"lr": 1.0})
    assert names(new.path) == ["config.json"] and new.read_config() == {"lr": 1.0}
    assert RunDir.check_new(run.path, overwrite=False) is True


def test_overwrite_refuses_a_directory_that_is_not_a_run(tmp_path):
    (tmp_path / "thesis.tex").write_text("years of work")
    with pytest.raises(RunDirError, match=r"not a run directory \(no config.json\); refusing"):
        RunDir.create(tmp_path, config={}, overwrite=True)
    assert names(tmp_path) == ["thesis.tex"]


def test_create_on_a_file(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(RunDirError, match="exists and is not a directory"):
        RunDir.create(tmp_path / "f", config={})


def test_create_with_unserializable_config_changes_nothing(run):
    with pytest.raises(TypeError, match="config: not JSON-able"):
        RunDir.create(run.path, config={"f": object()}, overwrite=True)
    assert run.read_config()["lr"] == 0.1


def test_open_errors(tmp_path):
    with pytest.raises(RunDirError, match="no such run directory"):
        RunDir.open(tmp_path / "missing")
    (tmp_path / "file").write_text("")
    with pytest.raises(RunDirError, match="not a directory"):
        RunDir.open(tmp_path / "file")
    with pytest.raises(RunDirError, match="not a run directory: config.json is missing"):
        RunDir.open(tmp_path)


def test_run_dir_error_is_an_rnnkit_error():
    assert issubclass(RunDirError, RnnkitError)
    assert RunDirError("x").exit_code == 1


# --- JSON files -----------------------------------------------------------------------------


def test_bad_config_json_names_line_and_column(run):
    run.config_path.write_text('{\n  "lr": 0.1,\n  "epochs": ,\n}\n')
    with pytest.raises(RunDirError) as info:
        run.read_config()
    assert str(info.value).startswith(f"{run.config_path}: invalid JSON at line 3, column 13")


def test_config_must_be_an_object(run):
    run.config_path.write_text("[1, 2]")
    with pytest.raises(RunDirError, match="config.json: expected a JSON object, got a list"):
        run.read_config()


def test_extras_round_trip(run):
    vocab = {"tokens": ["<unk>", "ü"], "counts": [3, 1]}
    path = run.write_extra("vocab", vocab)
    assert path == run.path / "vocab.json"
    assert run.read_extra("vocab") == vocab
    run.write_extra("scaler", {"mean": 1.5, "std": math.inf})
    assert run.read_extra("scaler")["std"] == math.inf


@pytest.mark.parametrize("name", ["", "../x", "a/b", "vocab.json", ".hidden", "config", 3])
def test_extra_names_are_validated(run, name):
    with pytest.raises(ValueError, match="name: "):
        run.write_extra(name, {})
    assert names(run.path) == ["config.json"]


def test_read_missing_or_broken_extra(run):
    with pytest.raises(RunDirError, match="vocab.json: missing file"):
        run.read_extra("vocab")
    (run.path / "vocab.json").write_text('{"a": [1, 2')
    with pytest.raises(RunDirError, match="vocab.json: invalid JSON at line 1"):
        run.read_extra("vocab")


# --- weights --------------------------------------------------------------------------------


def test_model_round_trip_keeps_ties(run):
    torch.manual_seed(0)
    model = TiedLM()
    run.save_model(model)
    torch.manual_seed(1)
    fresh = TiedLM()
    run.load_model(fresh)
    assert fresh.output.weight is fresh.embedding.weight
    for name, value in model.state_dict().items():
        assert torch.equal(fresh.state_dict()[name], value), name


def test_model_shape_mismatch_and_missing_file(run):
    with pytest.raises(CheckpointError, match="model.safetensors: missing file"):
        run.load_model(TiedLM())
    run.save_model(TiedLM(hidden=6))
    with pytest.raises(
        CheckpointError,
        match=r"model.safetensors: parameter 'embedding.weight': expected shape \(9, 4\) "
        r"\(the model\), got \(9, 6\) \(the file\)",
    ):
        run.load_model(TiedLM(hidden=4))


# --- metrics --------------------------------------------------------------------------------


def test_metrics_round_trip(run):
    assert run.read_metrics() == []
    records = [
        {"kind": "step", "step": 1, "loss": 2.5, "grad_norm": 1.25},
        {"kind": "step", "step": 2, "loss": math.inf, "note": "line\nbreak ü"},
        {"kind": "epoch", "step": 2, "epoch": 1, "val_loss": 2.0},
    ]
    for record in records:
        run.log_metrics(record)
    assert run.read_metrics() == records
    assert run.metrics_path.read_text(encoding="utf-8").count("\n") == 3  # one line each


def test_nan_is_logged(run):
    run.log_metrics({"kind": "step", "step": 1, "loss": math.nan})
    assert math.isnan(run.read_metrics()[0]["loss"])


def test_unserializable_record(run):
    with pytest.raises(TypeError, match="record: not JSON-able"):
        run.log_metrics({"step": 1, "tensor": torch.ones(1)})
    assert not run.metrics_path.exists()


def test_torn_last_line_is_ignored_and_repaired(run):
    for step in (1, 2, 3):
        run.log_metrics({"kind": "step", "step": step, "loss": 1.0 / step})
    with open(run.metrics_path, "ab") as f:
        f.write(b'{"kind": "step", "step": 4, "lo')  # killed mid-write
    assert [r["step"] for r in run.read_metrics()] == [1, 2, 3]

    resumed = RunDir.open(run.path)  # a new process appends after the torn line
    resumed.log_metrics({"kind": "step", "step": 4, "loss": 0.25})
    assert [r["step"] for r in resumed.read_metrics()] == [1, 2, 3, 4]
    assert resumed.metrics_path.read_bytes().endswith(b'"loss": 0.25}\n')


def test_whole_record_without_newline_is_kept(run):
    run.metrics_path.write_bytes(b'{"step": 1}\n{"step": 2}')
    assert run.read_metrics() == [{"step": 1}, {"step": 2}]
    RunDir.open(run.path).log_metrics({"step": 3})
    assert run.read_metrics() == [{"step": 1}, {"step": 2}, {"step": 3}]


def test_trailing_zero_bytes_after_a_crash_are_ignored(run):
    run.metrics_path.write_bytes(b'{"step": 1}\n' + b"\x00" * 64)
    assert run.read_metrics() == [{"step": 1}]


@pytest.mark.parametrize(
    ("middle", "problem"),
    [
        (b'{"step": 2,', "invalid JSON at column 12"),
        (b"[1, 2]", "expected a JSON object, got a list"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_malformed_middle_line_names_the_line(run, middle, problem):
    run.metrics_path.write_bytes(b'{"step": 1}\n' + middle + b'\n{"step": 3}\n')
    with pytest.raises(RunDirError) as info:
        run.read_metrics()
    message = str(info.value)
    assert message.startswith(f"{run.metrics_path}: line 2: {problem}"), message


def test_truncate_metrics_keeps_records_up_to_the_step(run):
    records = [
        {"kind": "start", "seed": 1},
        {"kind": "step", "step": 1, "loss": 3.0},
        {"kind": "step", "step": 2, "loss": 2.0},
        {"kind": "epoch", "step": 2, "epoch": 1, "val_loss": 2.5},
        {"kind": "step", "step": 3, "loss": 1.0},
        {"kind": "note", "text": "after the checkpoint"},
        {"kind": "step", "step": 4, "loss": 0.5},
    ]
    for record in records:
        run.log_metrics(record)
    with open(run.metrics_path, "ab") as f:
        f.write(b'{"kind": "st')  # and a torn line
    run.truncate_metrics(after_step=2)
    assert run.read_metrics() == records[:4]
    assert names(run.path) == ["config.json", "metrics.jsonl"]  # no temp file left
    run.log_metrics({"kind": "step", "step": 3, "loss": 1.5})  # resumed: step 3 again, once
    assert [r.get("step") for r in run.read_metrics()] == [None, 1, 2, 2, 3]
    run.truncate_metrics(after_step=0)
    assert run.read_metrics() == records[:1]


def test_truncate_metrics_edge_cases(run):
    run.truncate_metrics(after_step=5)  # no log yet: nothing to do
    assert not run.metrics_path.exists()
    run.log_metrics({"kind": "step", "step": "three"})
    with pytest.raises(RunDirError, match="line 1: 'step' must be a number, got 'three'"):
        run.truncate_metrics(after_step=5)
    with pytest.raises(TypeError, match="after_step: expected int"):
        run.truncate_metrics(after_step=1.5)


# --- plots ----------------------------------------------------------------------------------


def test_plot_loss_curve(run):
    for step in range(1, 41):
        run.log_metrics({"kind": "step", "step": step, "loss": 3.0 / step})
        if step % 10 == 0:
            run.log_metrics({"kind": "epoch", "step": step, "val_loss": 3.5 / step})
    path = run.plot_loss_curve()
    assert path == run.plot_path
    import matplotlib.image

    image = matplotlib.image.imread(path)
    assert image.shape[:2] == (450, 700)  # 7 x 4.5 inches at 100 dpi
    assert image[..., :3].std() > 0.05  # something is drawn
    assert names(run.path) == ["config.json", "loss.png", "metrics.jsonl"]


def test_plot_with_nothing_to_plot(run):
    assert run.plot_loss_curve() is None
    run.log_metrics({"kind": "epoch", "step": 1, "accuracy": 0.5})
    run.log_metrics({"kind": "step", "step": 2, "loss": math.nan})
    assert run.plot_loss_curve() is None
    assert not run.plot_path.exists()


def test_plot_points_and_scale():
    records = [
        {"kind": "step", "step": 1, "loss": 2.0},
        {"kind": "step", "step": 2, "loss": math.inf},
        {"kind": "step", "step": 3, "val_loss": 1.0},
        {"kind": "epoch", "step": 3, "val_loss": 1.5, "loss": 9.0},
        {"kind": "step", "loss": 1.0},  # no step: cannot be placed
        {"kind": "step", "step": True, "loss": 1.0},
    ]
    assert plots._points(records, "step", "loss") == [(1.0, 2.0)]
    assert plots._points(records, "epoch", "val_loss") == [(3.0, 1.5)]
    assert plots._wants_log_scale([10.0, 0.1])  # two decades
    assert not plots._wants_log_scale([1.0, 0.05])  # 1.3 decades
    assert not plots._wants_log_scale([10.0, 0.0, 0.001])  # zero: no log axis


def test_leftovers_of_killed_writes_are_removed_from_the_run_and_its_checkpoints(run):
    # A SIGKILL during an atomic write leaves its hidden temporary file: in the run (the
    # weights) or in checkpoint/ (the `latest` pointer, written after each generation).
    run.checkpoint_dir.mkdir(exist_ok=True)
    leftovers = [
        run.path / ".model.safetensors.1f2e3d4c.tmp",
        run.checkpoint_dir / ".latest.e2deff26.tmp",
    ]
    kept = [run.path / "notes.tmp", run.checkpoint_dir / "latest"]
    for path in leftovers + kept:
        path.write_text("x", encoding="utf-8")
    assert sorted(run.remove_leftovers()) == sorted(leftovers)
    assert all(p.exists() for p in kept) and not any(p.exists() for p in leftovers)
