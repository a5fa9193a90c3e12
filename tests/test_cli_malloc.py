"""The rnnkit command keeps freed memory in its process unless told not to."""

from __future__ import annotations

import sys

import pytest
from click.testing import CliRunner

from rnnkit.cli import app, malloc
from rnnkit.cli import main as cli_main


def test_every_command_asks_once(monkeypatch):
    calls = []
    monkeypatch.setattr(app, "keep_freed_memory_unless_disabled", lambda: calls.append(1))
    result = CliRunner().invoke(cli_main, ["cells"])
    assert result.exit_code == 0, result.output
    assert calls == [1]


@pytest.mark.parametrize(("value", "asked"), [(None, True), ("1", True), ("0", False)])
def test_the_environment_variable_turns_it_off(monkeypatch, value, asked):
    calls = []
    monkeypatch.setattr(malloc, "keep_freed_memory", lambda: calls.append(1) or True)
    if value is None:
        monkeypatch.delenv(malloc.ENV, raising=False)
    else:
        monkeypatch.setenv(malloc.ENV, value)
    assert malloc.keep_freed_memory_unless_disabled() is asked
    assert calls == ([1] if asked else [])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_glibc_accepts_the_settings():
    assert malloc.keep_freed_memory() is True
