"""The bad-input corpus (issue #26, "make it permanent"): every verb of every job given what
a clumsy or hostile user would give it. Each case in ``bad_inputs.txt`` names its expected
exit code (1: the data or a run file is wrong; 2: the command is) and a fragment of the one
message it must print; no case may print a traceback or more than one line of error.

A line of ``bad_inputs.txt``: ``id | exit | fragment | arguments``. In the arguments,
``{lm}``, ``{classify}``, ``{forecast}``, ``{tag}`` are fresh copies of tiny runs, ``{d}``
the folder of data files (``bad_inputs.py``), ``{out}`` a path not yet there; ``<FILE``
sends ``{d}/FILE`` to stdin; ``!NAME=TEXT`` first replaces the run's file ``NAME`` with
``TEXT`` (``random``: 64 random bytes; empty: deletes it; ``@PATH``: a link to ``PATH``).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import traceback
from pathlib import Path
from typing import NamedTuple

import pytest
from click.testing import CliRunner

from bad_inputs import FIXTURE_RUNS, copy_runs, data_files
from rnnkit.cli import main

CASES_FILE = Path(__file__).parent / "bad_inputs.txt"
RUNS = ("lm", "classify", "forecast", "tag", "translate")


class Case(NamedTuple):
    id: str
    exit: int
    fragment: str
    args: str


def _cases() -> list[Case]:
    cases = []
    for line in CASES_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            id_, exit_, fragment, args = (part.strip() for part in line.split(" | ", 3))
            cases.append(Case(id_, int(exit_), fragment, args))
    return cases


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """The tiny runs: the three kept fixtures (trained by an older rnnkit), a tagger and a
    translator."""
    root = tmp_path_factory.mktemp("corpus-runs")
    for name in ("lm", "classify", "forecast"):
        shutil.copytree(FIXTURE_RUNS / name, root / name)
    shutil.copytree(FIXTURE_RUNS / "data", root / "data")
    conll = data_files(root / "files")["ner.conll"]
    args = ["tag", "train", "--data", str(conll), "--hidden-size", "8", "--char-size", "4"]
    args += ["--epochs", "1", "--max-steps", "2", "--progress", "none", "--out", str(root / "tag")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    pairs = data_files(root / "files")["pairs.tsv"]
    args = ["translate", "train", "--data", str(pairs), "--tokens", "word"]
    args += ["--embedding-size", "4", "--encoder-hidden-size", "4", "--decoder-hidden-size", "8"]
    args += ["--attention-size", "4", "--max-steps", "2", "--progress", "none"]
    result = CliRunner().invoke(main, [*args, "--out", str(root / "translate")])
    assert result.exit_code == 0, result.output
    return root


def run_case(case: Case, runs: Path, tmp_path: Path, monkeypatch) -> tuple[int, str]:
    """Runs one case in a world of its own; returns the exit code and everything printed."""
    world = tmp_path / "world"
    world.mkdir()
    shutil.copytree(runs / "data", world / "data")  # the fixture runs name data/... relatively
    copy_runs(runs, world)
    monkeypatch.chdir(world)
    d = world / "files"
    data_files(d)
    places = {name: str(world / name) for name in RUNS} | {"d": str(d)}
    places["out"] = str(tmp_path / "fresh" / "out")
    args, stdin = [], None
    for word in shlex.split(case.args):
        if word.startswith("<"):
            stdin = (d / word[1:]).read_bytes()
        elif word.startswith("!"):
            _damage(word[1:], world, case.args)
        else:
            args.append(word.format(**places))
    result = CliRunner().invoke(main, args, input=stdin)
    output = result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        # An exception the command let through: CliRunner catches it, the user would not.
        output += "".join(traceback.format_exception(*result.exc_info))
    return result.exit_code, output


def _damage(spec: str, world: Path, args: str) -> None:
    name, text = spec.split("=", 1)
    run = next(world / r for r in RUNS if "{" + r + "}" in args)
    path = run / name
    path.unlink()
    if text == "random":
        path.write_bytes(os.urandom(64))
    elif text.startswith("@"):
        path.symlink_to(text[1:])
    elif text:
        path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c.id)
def test_bad_input_gets_one_clear_line(case, runs, tmp_path, monkeypatch):
    code, output = run_case(case, runs, tmp_path, monkeypatch)
    assert "Traceback" not in output, output
    assert code == case.exit, output
    assert case.fragment in output, output
    errors = [line for line in output.splitlines() if re.match(r"(error|Error):", line)]
    assert len(errors) == 1, output


def test_the_corpus_covers_every_job_with_enough_cases():
    cases = _cases()
    assert len(cases) >= 150 and len({c.id for c in cases}) == len(cases)
    verbs = {" ".join(shlex.split(c.args)[:2]) for c in cases}
    for verb in ("lm train", "lm eval", "classify train", "classify predict", "tag train"):
        assert verb in verbs
    for verb in ("tag predict", "forecast train", "forecast predict", "embed train"):
        assert verb in verbs
