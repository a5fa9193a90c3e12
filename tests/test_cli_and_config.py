"""The layer built from a config, and the command line entry point."""

from __future__ import annotations

from click.testing import CliRunner

import rnnkit
from rnnkit.cells import gemm, native
from rnnkit.cli import main


def test_recurrent_from_config_round_trips():
    config = rnnkit.RecurrentConfig(
        cell="jordan", input_size=3, hidden_size=5, num_layers=2, feedback="both", output_size=2
    )
    layer = rnnkit.Recurrent.from_config(config)
    assert layer.config == config
    assert layer.output_size == 2 and layer.cells[1].input_size == 2
    assert layer.cells[0].feedback == "both"


def test_cli_version_and_cells():
    runner = CliRunner()
    result = runner.invoke(main, ["--version"])
    assert result.exit_code == 0 and rnnkit.__version__ in result.output
    result = runner.invoke(main, ["cells"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert [line.split()[0] for line in lines[:4]] == ["elman", "jordan", "lstm", "gru"]
    assert "hand-written BPTT" in lines[1] and "LSTM" in lines[2]
    assert lines[4] == "" and lines[5].startswith("In the hand-written loop, the native C")
    assert lines[5].endswith(native.status()) and len(lines) == 7
    backend = "MKL" if gemm.BACKEND == "mkl" else "oneDNN"
    assert lines[6].startswith(f"Its float32 CPU products run on {backend}")


def test_cli_unknown_command_is_a_usage_error():
    result = CliRunner().invoke(main, ["nope"])
    assert result.exit_code == 2
