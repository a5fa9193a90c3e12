"""`rnnkit gradcheck` and its library side, rnnkit.diagnostics.gradcheck."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import rnnkit
from rnnkit.cli import main
from rnnkit.diagnostics import gradcheck
from rnnkit.reference import stack


@pytest.mark.parametrize(
    "cell,options,shape",
    [
        ("elman", {"nonlinearity": "relu"}, {"num_layers": 2, "bidirectional": True}),
        ("jordan", {"feedback": "both", "output_activation": "softmax", "output_size": 2}, {}),
        ("lstm", {"peephole": True, "layer_norm": True}, {"bidirectional": True}),
        ("gru", {}, {"num_layers": 2}),
    ],
    ids=["elman", "jordan", "lstm", "gru"],
)
def test_check_passes(cell, options, shape):
    report = gradcheck.check(cell, **shape, **options)
    assert report.passed and report.max_error <= gradcheck.TOLERANCE
    layer = rnnkit.Recurrent(cell, input_size=3, hidden_size=4, **shape, **options)
    state_rows = [f"{field}0" for field in layer.init_state(1)._fields]
    assert [row.name for row in report.rows] == [*layer.state_dict(), "x", *state_rows]
    has_torch = layer.cells[0].fused_mode is not None
    assert all((row.rnnkit_vs_torch is not None) == has_torch for row in report.rows)
    # The checks are not vacuous: finite differences are noisy, engines agree to rounding.
    assert all(row.ref_vs_fd > 0 for row in report.rows)
    assert report.to_dict()["rows"][0]["parameter"] == report.rows[0].name


def test_check_is_deterministic_and_validates_options():
    assert gradcheck.check("gru", seed=3) == gradcheck.check("gru", seed=3)
    with pytest.raises(rnnkit.ConfigError, match="peephole: applies only to cell='lstm'"):
        gradcheck.check("gru", peephole=True)
    with pytest.raises(rnnkit.ConfigError, match="hiden_size: not a cell option"):
        gradcheck.check("gru", hiden_size=3)
    with pytest.raises(rnnkit.ConfigError, match="recurrent_dropout"):
        gradcheck.check("lstm", recurrent_dropout=0.5)


def test_all_configurations_cover_every_option():
    configs = gradcheck.all_configurations()
    assert len(configs) == 19
    assert {cell for cell, _ in configs} == {"elman", "jordan", "lstm", "gru"}


@pytest.fixture
def broken_reference(monkeypatch):
    """The reference stack's backward with dW_hh of the first cell off by 1e-5 relative."""
    backward = stack.backward

    def perturbed(cache, doutputs, dfinal=None):
        grads_list, dx, dstate0 = backward(cache, doutputs, dfinal)
        grads_list[0]["weight_hh"] = grads_list[0]["weight_hh"] * (1 + 1e-5)
        return grads_list, dx, dstate0

    monkeypatch.setattr(stack, "backward", perturbed)


def test_a_wrong_gradient_fails(broken_reference):
    report = gradcheck.check("elman")
    assert not report.passed
    failed = {row.name: row for row in report.rows if not row.passed}
    assert list(failed) == ["weight_hh_l0"]
    row = failed["weight_hh_l0"]
    assert row.ref_vs_fd > gradcheck.TOLERANCE and row.ref_vs_rnnkit > gradcheck.TOLERANCE
    assert row.rnnkit_vs_torch is not None and row.rnnkit_vs_torch < 1e-12  # torch side is fine
    result = CliRunner().invoke(main, ["gradcheck", "--cell", "elman"])
    assert result.exit_code == 1, result.output
    assert "FAIL" in result.output and "1 FAILED" in result.output


def test_cli_table():
    result = CliRunner().invoke(main, ["gradcheck", "--cell", "lstm", "--num-layers", "2"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "lstm num_layers=2 bidirectional=False"
    assert lines[1].split() == [
        "parameter",
        "ref-vs-FD",
        "ref-vs-rnnkit",
        "rnnkit-vs-torch.nn",
        "ok",
    ]
    rows = {line.split()[0]: line.split() for line in lines[2:] if line.startswith("  w")}
    assert set(rows) == {"weight_ih_l0", "weight_hh_l0", "weight_ih_l1", "weight_hh_l1"}
    assert all(row[-1] == "ok" and float(row[1]) < 1e-6 for row in rows.values())
    assert lines[-1].startswith("gradcheck: 1 check, all passed")


def test_cli_json_lines():
    args = ["gradcheck", "--cell", "jordan", "--feedback", "output", "--json", "--bidirectional"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
    check, summary = records
    assert check["type"] == "check" and check["cell"] == "jordan" and check["passed"]
    assert check["options"] == {"feedback": "output"} and check["bidirectional"] is True
    assert {row["parameter"] for row in check["rows"]} >= {"weight_oo_l0_reverse", "x", "y0"}
    assert all(row["rnnkit_vs_torch"] is None for row in check["rows"])
    assert summary == {
        "type": "summary",
        "checks": 1,
        "passed": 1,
        "failed": 0,
        "max_error": check["max_error"],
        "tolerance": 1e-6,
        "ok": True,
    }


def test_cli_all(monkeypatch):
    # The 76 checks of --all take ~20 s (run by hand: all pass); the CLI path is what is
    # tested here, so each configuration runs once (single layer, unidirectional).
    def one_shape(seed=0):
        for cell, options in gradcheck.all_configurations():
            yield gradcheck.check(cell, seed=seed, **options)

    monkeypatch.setattr(gradcheck, "iter_all", one_shape)
    result = CliRunner().invoke(main, ["gradcheck", "--all", "--json"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
    assert len(records) == 20 and records[-1]["ok"] and records[-1]["checks"] == 19
    assert {r["cell"] for r in records[:-1]} == {"elman", "jordan", "lstm", "gru"}


@pytest.mark.parametrize(
    "args,message",
    [
        (["--cell", "gru", "--peephole"], "--peephole: applies only to cell='lstm'"),
        (["--cell", "lstm", "--feedback", "both"], "--feedback: applies only to cell='jordan'"),
        (["--cell", "elman", "--layer-norm"], "--layer-norm: applies only to"),
        (["--cell", "lstm", "--nonlinearity", "relu"], "--nonlinearity: applies only to"),
        (["--cell", "rnn"], "Invalid value for '--cell'"),
        (["--cell", "gru", "--num-layers", "0"], "Invalid value for '--num-layers'"),
        ([], "Missing option '--cell'"),
        (["--all", "--cell", "gru"], "--all runs every cell and option; drop --cell"),
    ],
)
def test_cli_usage_errors(args, message):
    result = CliRunner().invoke(main, ["gradcheck", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output


def test_cli_keeps_cells_and_version():
    runner = CliRunner()
    assert runner.invoke(main, ["--version"]).output.strip().endswith(rnnkit.__version__)
    assert "gru" in runner.invoke(main, ["cells"]).output
