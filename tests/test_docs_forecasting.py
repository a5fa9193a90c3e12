"""docs/forecasting.md's sine-wave exercise runs as written (fewer epochs)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from click.testing import CliRunner

from rnnkit.cli import main

DOC = Path(__file__).resolve().parents[1] / "docs" / "forecasting.md"


def _commands(text: str) -> list[list[str]]:
    """The ``$ rnnkit ...`` commands of the text blocks, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", text)
    return [
        shlex.split(line[len("$ rnnkit ") :])
        for line in joined.splitlines()
        if line.startswith("$ rnnkit ")
    ]


def test_the_sine_wave_exercise_runs_as_documented(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = DOC.read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) == 2
    namespace: dict = {"__name__": "doc"}
    exec(compile(blocks[0], str(DOC), "exec"), namespace)
    commands = [c for c in _commands(text) if "sine" in " ".join(c)]
    assert [c[:2] for c in commands] == [
        ["forecast", "train"],
        ["forecast", "eval"],
        ["forecast", "predict"],
    ]
    for command in commands:
        extra = ["--epochs", "2", "--progress", "none"] if command[1] == "train" else []
        result = CliRunner().invoke(main, command + extra)
        assert result.exit_code == 0, result.output
    assert Path("runs/sine/forecast.png").is_file() and Path("sine.png").is_file()
    exec(compile(blocks[1], str(DOC), "exec"), namespace)
    forecast = namespace["forecast"]
    assert list(forecast.columns) == ["value", "value_lower", "value_upper"]
    assert list(forecast.index) == list(range(1000, 1025))
