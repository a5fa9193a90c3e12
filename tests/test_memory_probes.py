"""Long-memory probes (issue #8): task generators, baselines, probe runs, `diagnose memory`."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from rnnkit.cli.diagnose_memory import memory
from rnnkit.config import ConfigError
from rnnkit.diagnostics import memory as mem


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """The probes here are tiny: a second thread only adds synchronisation (and on a busy
    2-core machine it made a step 10x slower)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# --- generators ------------------------------------------------------------------------------


def test_adding_problem_hand_checked_example():
    data = mem.adding_problem(2, 4, np.random.default_rng(0))
    values, markers = data.inputs[..., 0], data.inputs[..., 1]
    np.testing.assert_allclose(
        values,
        [
            [0.8506242, 0.6369616, 0.5111365, 0.2697867],
            [0.3078294, 0.0409735, 0.0752401, 0.0165276],
        ],
        atol=1e-6,
    )
    # One marker in the first half (steps 0-1), one in the second (steps 2-3).
    assert markers.tolist() == [[1, 0, 0, 1], [0, 1, 0, 1]]
    # 0.8506242 + 0.2697867 and 0.0409735 + 0.0165276
    np.testing.assert_allclose(data.targets, [1.1204109, 0.0575011], atol=1e-6)
    assert data.inputs.dtype == data.targets.dtype == np.float32


@pytest.mark.parametrize("length", [2, 7, 50])
def test_adding_problem_rules_hold_on_many_sequences(length):
    data = mem.adding_problem(500, length, np.random.default_rng(length))
    values, markers = data.inputs[..., 0], data.inputs[..., 1]
    assert data.inputs.shape == (500, length, 2) and data.targets.shape == (500,)
    assert set(np.unique(markers)) <= {0.0, 1.0}
    half = length // 2
    assert (markers[:, :half].sum(axis=1) == 1).all()
    assert (markers[:, half:].sum(axis=1) == 1).all()
    assert ((values >= 0) & (values < 1)).all()
    np.testing.assert_allclose((values * markers).sum(axis=1), data.targets, rtol=1e-6)
    # Both halves' positions are all used (odd length: the middle step is in the second half).
    positions = np.argwhere(markers)[:, 1]
    assert set(positions) == set(range(length))


def test_copy_task_hand_checked_example():
    data = mem.copy_task(1, 2, np.random.default_rng(1))
    sequence = data.inputs[0].argmax(-1).tolist()
    symbols = [4, 5, 7, 8, 1, 2, 7, 8, 2, 3]
    # 10 symbols, T - 1 = 1 blank, the delimiter 9, 10 blanks: T + 20 = 22 steps.
    assert sequence == [*symbols, 0, 9, *[0] * 10]
    # Blanks for T + 10 = 12 steps, then the symbols.
    assert data.targets[0].tolist() == [*[0] * 12, *symbols]
    assert data.inputs.shape == (1, 22, 10) and data.inputs.dtype == np.float32
    assert (data.inputs.sum(-1) == 1).all()  # one-hot
    assert data.targets.dtype == np.int64


@pytest.mark.parametrize("length", [1, 30])
def test_copy_task_layout(length):
    data = mem.copy_task(200, length, np.random.default_rng(5))
    seq = data.inputs.argmax(-1)
    steps = length + 20
    assert seq.shape == data.targets.shape == (200, steps)
    assert ((seq[:, :10] >= 1) & (seq[:, :10] <= 8)).all()
    assert (seq[:, 10 : length + 9] == 0).all()
    assert (seq[:, length + 9] == 9).all()
    assert (seq[:, length + 10 :] == 0).all()
    assert (data.targets[:, : length + 10] == 0).all()
    np.testing.assert_array_equal(data.targets[:, length + 10 :], seq[:, :10])
    assert set(np.unique(seq[:, :10])) == set(range(1, 9))


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: mem.adding_problem(3, 1, np.random.default_rng()), "length: expected an int >= 2"),
        (lambda: mem.copy_task(3, 0, np.random.default_rng()), "length: expected an int >= 1"),
        (lambda: mem.copy_task(0, 5, np.random.default_rng()), "n: expected a positive int"),
        (lambda: mem.baseline("adds", 5), "task: .*did you mean 'adding'"),
    ],
)
def test_generators_reject_bad_arguments(call, match):
    with pytest.raises(ConfigError, match=match):
        call()


# --- baselines -------------------------------------------------------------------------------


def test_adding_baseline_is_the_mse_of_predicting_one():
    data = mem.adding_problem(100_000, 2, np.random.default_rng(3))
    mse = float(np.mean((data.targets - 1.0) ** 2))
    assert mem.ADDING_BASELINE == 1 / 6
    assert mse == pytest.approx(mem.ADDING_BASELINE, abs=0.003)


@pytest.mark.parametrize("length", [1, 10, 100])
def test_copy_baseline_is_the_loss_of_the_memoryless_predictor(length):
    data = mem.copy_task(16, length, np.random.default_rng(4))
    steps = length + 20
    # Blank for sure until the delimiter has been read, then uniform over the 8 symbols.
    logits = torch.full((16, steps, 10), -math.inf)
    logits[:, : length + 10, 0] = 0.0
    logits[:, length + 10 :, 1:9] = 0.0
    loss = mem.probe_loss("copy", logits, torch.from_numpy(data.targets))
    assert float(loss) == pytest.approx(mem.copy_baseline(length), rel=1e-6)
    assert mem.copy_baseline(length) == pytest.approx(10 * math.log(8) / (length + 20))
    assert mem.baseline("copy", length) == mem.copy_baseline(length)


def test_verdicts():
    # Solved means MSE <= 0.01 on the adding problem (issue #8's goal).
    assert mem.verdict(0.0099 / mem.ADDING_BASELINE) == "solved"
    assert mem.verdict(0.0101 / mem.ADDING_BASELINE) == "learning"
    assert mem.verdict(0.5) == "learning"
    assert mem.verdict(0.9) == "at baseline"
    assert mem.verdict(1.3) == "at baseline"
    assert mem.verdict(None, diverged=True) == mem.verdict(float("nan")) == "diverged"


# --- probes ----------------------------------------------------------------------------------

TINY = {"hidden_size": 16, "batch_size": 32, "val_size": 200, "test_size": 500}


def test_lstm_learns_the_adding_problem_at_length_10():
    result = mem.probe("adding", 10, "lstm", max_time=None, max_steps=400, **TINY)
    assert not result.diverged and result.stop_reason == "max_steps" and result.steps == 400
    assert result.baseline == pytest.approx(1 / 6)
    assert result.ratio == pytest.approx(result.test_loss / result.baseline)
    assert result.ratio < 0.3, result  # a well-trained run reaches ~0.005
    assert result.verdict in ("solved", "learning")
    assert (result.optimizer, result.lr, result.clip_norm) == ("adam", 1e-2, 1.0)
    assert json.loads(json.dumps(result.to_dict()))["cell"] == "lstm"


def test_relu_net_without_clipping_diverges_and_is_reported():
    result = mem.probe(
        "adding", 10, "elman-relu", optimizer="sgd", lr=1e3, clip=False, max_time=None,
        max_steps=50, **TINY,
    )  # fmt: skip
    assert result.diverged and result.verdict == "diverged"
    assert result.test_loss is None and result.ratio is None and result.clip_norm is None
    assert result.stop_reason == "diverged" and "diverged at step" in result.message
    assert result.steps < 50 and result.optimizer == "sgd"


def test_probe_is_deterministic_and_runs_the_copy_task():
    settings = {**TINY, "max_time": None, "max_steps": 4, "steps_per_epoch": 2}
    first = mem.probe("copy", 3, "gru", seed=7, **settings)
    second = mem.probe("copy", 3, "gru", seed=7, **settings)
    assert first.test_loss == second.test_loss and first.steps == 4
    assert first.baseline == pytest.approx(10 * math.log(8) / 23)


def test_every_cell_spec_builds_and_trains_a_step():
    for name in mem.CELL_SPECS:
        result = mem.probe(
            "adding", 4, name, hidden_size=4, batch_size=4, max_time=None, max_steps=1,
            val_size=8, test_size=8,
        )  # fmt: skip
        assert result.cell == name and result.steps == 1 and not result.diverged


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"cell": "lstn"}, "cell: .*did you mean 'lstm'"),
        ({"length": 0}, "length: expected an int >= 2"),
        ({"clip": False, "clip_norm": 1.0}, "clip: clipping is off"),
        ({"max_time": None}, "max_time: give max_time or max_steps"),
        ({"max_time": "soon"}, "max_time: expected a duration"),
        ({"batch_size": 0}, "batch_size: expected a positive"),
        ({"optimizer": "rmsprop"}, "optimizer: expected one of 'adam', 'sgd'"),
        ({"seed": -1}, "seed: expected an int >= 0"),
    ],
)
def test_probe_rejects_bad_settings(kwargs, match):
    args = {"task": "adding", "length": 5, "cell": "lstm", **kwargs}
    with pytest.raises(ConfigError, match=match):
        mem.probe(**args)


# --- command line ----------------------------------------------------------------------------

CLI_TINY = ["--max-time", "1s", "--hidden-size", "8", "--batch-size", "8", "--progress", "none"]


def test_cli_prints_a_table():
    result = CliRunner().invoke(
        memory, ["--task", "adding", "--length", "5", "--cell", "lstm,irnn", *CLI_TINY]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("adding problem, T=5") and lines[0].endswith("= 0.1667")
    assert lines[1].split() == [
        "cell", "test", "loss", "baseline", "ratio", "verdict", "steps", "seconds"
    ]  # fmt: skip
    assert [line.split()[0] for line in lines[2:]] == ["lstm", "irnn"]
    assert all(line.split()[2] == "0.1667" for line in lines[2:])


def test_cli_json_parses():
    result = CliRunner().invoke(
        memory, ["--task", "copy", "--length", "3", "--cell", "gru", "--json", *CLI_TINY]
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 1
    row = rows[0]
    assert (row["cell"], row["task"], row["length"]) == ("gru", "copy", 3)
    assert row["baseline"] == pytest.approx(10 * math.log(8) / 23)
    assert row["verdict"] in ("solved", "learning", "at baseline", "diverged")
    assert row["steps"] >= 1 and row["clip_norm"] == 1.0


def test_cli_no_clip_turns_clipping_off():
    result = CliRunner().invoke(
        memory, ["--task", "adding", "--length", "4", "--cell", "gru", "--no-clip", "--json",
                 *CLI_TINY],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["clip_norm"] is None


def test_cli_reports_a_divergence_in_the_table():
    result = CliRunner().invoke(
        memory, ["--task", "adding", "--length", "6", "--cell", "irnn", "--optimizer", "sgd",
                 "--lr", "1000", "--no-clip", *CLI_TINY],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    row = result.stdout.splitlines()[2].split()
    assert row[:2] == ["irnn", "-"] and row[3:5] == ["-", "diverged"]


def test_cli_bad_task_is_a_usage_error():
    result = CliRunner().invoke(memory, ["--task", "add", "--length", "5"])
    assert result.exit_code == 2
    assert "Invalid value for '--task'" in result.output


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["--length", "0"], "length: expected an int >= 2 .*got 0"),
        (["--length", "5", "--cell", "lstm,gr"], "cell: .*did you mean 'gru'"),
        (["--length", "5", "--max-time", "soon"], "max_time: expected a duration"),
    ],
)
def test_cli_bad_settings_raise_config_errors(args, match):
    # The top-level `rnnkit` group turns a ConfigError into a one-line error (exit 2); the
    # bare command lets it through, before training anything.
    result = CliRunner().invoke(memory, ["--task", "adding", *args])
    assert isinstance(result.exception, ConfigError), result.output
    assert result.exception.exit_code == 2
    with pytest.raises(ConfigError, match=match):
        raise result.exception
    assert result.stdout == ""
