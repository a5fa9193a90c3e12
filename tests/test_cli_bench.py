"""``rnnkit bench``: a throughput report (numbers are machine-dependent; checked for sense)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from rnnkit.cli import main

TINY = [
    "--input-size",
    "4",
    "--hidden-size",
    "8",
    "--batch-size",
    "2",
    "--length",
    "5",
    "--steps",
    "1",
    "--rounds",
    "2",
    "--json",
]


def test_bench_compares_with_torch_when_torch_has_the_cell():
    result = CliRunner().invoke(main, ["bench", "--cell", "gru", *TINY])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["path"] == "fused" and set(report["variants"]) == {"rnnkit", "torch.nn"}
    assert report["ratio"] > 0 and all(v > 0 for v in report["variants"].values())
    assert report["settings"]["hidden_size"] == 8


def test_bench_of_a_loop_only_cell_has_no_torch_twin():
    result = CliRunner().invoke(main, ["bench", "--cell", "lstm", "--peephole", *TINY])
    report = json.loads(result.output)
    assert report["path"] == "loop" and report["ratio"] is None
    human = CliRunner().invoke(main, ["bench", "--cell", "jordan", *TINY[:-1]])
    assert "jordan via the loop path" in human.output and "tokens/s" in human.output
