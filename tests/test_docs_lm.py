"""docs/language-modeling.md: every `rnnkit lm` command it shows parses with today's CLI.

The outputs in the guide come from runs too large for the test suite; what can rot without
anyone noticing is a flag renamed or removed, so each shown command line is parsed by the
real click command (nothing runs).
"""

from __future__ import annotations

import shlex
from pathlib import Path

import click
import pytest

from rnnkit.cli.app import main

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "language-modeling.md"


def shown_commands() -> list[list[str]]:
    """``rnnkit lm ...`` lines after a ``$`` prompt, backslash continuations joined."""
    commands, pending = [], ""
    for raw in GUIDE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if pending:
            line, pending = pending + " " + line, ""
        elif not line.startswith("$ rnnkit lm "):
            continue
        if line.endswith("\\"):
            pending = line[:-1].strip()
            continue
        commands.append(shlex.split(line.removeprefix("$ ")))
    return commands


def test_the_guide_shows_every_lm_verb():
    verbs = {command[2] for command in shown_commands()}
    assert verbs == {"train", "eval", "score", "next", "sample"}


@pytest.mark.parametrize("command", shown_commands(), ids=" ".join)
def test_each_shown_command_parses(command):
    group = main.get_command(click.Context(main), "lm")
    verb = group.get_command(click.Context(group), command[2])
    assert verb is not None, command
    # Raises click.UsageError / BadParameter on an unknown flag or a bad value.
    verb.make_context(command[2], command[3:])


def test_a_renamed_flag_would_fail():
    group = main.get_command(click.Context(main), "lm")
    verb = group.get_command(click.Context(group), "sample")
    with pytest.raises(click.UsageError):
        verb.make_context("sample", ["runs/x", "--no-such-flag"])
