"""``rnnkit <job> predict RUN``, for a job with no verbs of its own: the predictor interface
(:class:`~rnnkit.tasks.common.predictor.Predictor`) on the command line, JSON in, JSON out."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from rnnkit.cli.runs import device_option
from rnnkit.config import ConfigError
from rnnkit.data.errors import DataError
from rnnkit.data.readers import read_input_lines
from rnnkit.tasks import common
from rnnkit.tasks.common import Job

__all__ = ["job_group", "predict_command"]


def predict_command(job: Job) -> click.Command:
    """``predict RUN [INPUT ...] [--input FILE]``: each input a JSON value (arguments, or one
    per line of a JSON Lines file, ``-`` for stdin); one JSON output per line."""

    @click.command("predict")
    @click.argument("run", type=click.Path(path_type=Path))
    @click.argument("inputs", nargs=-1)
    @click.option(
        "--input",
        "input_file",
        type=click.Path(path_type=Path, allow_dash=True),
        help="JSON Lines file of inputs ('-' for stdin).",
    )
    @device_option
    def predict(run: Path, inputs: tuple[str, ...], input_file: Path | None, device: str) -> None:
        """Answer each JSON input with the run's prediction, one JSON line each."""
        if bool(inputs) == (input_file is not None):
            raise click.UsageError("give INPUT arguments or --input FILE, one of them")
        task = common.load(run, device, kind=job.name)
        for output in task.predict(_read_inputs(inputs, input_file)):
            click.echo(json.dumps(output))

    return predict


def job_group(job: Job) -> click.Group:
    """A command group for ``job`` with the generic ``train`` and ``predict`` commands."""
    from rnnkit.cli.train import train_command

    group = click.Group(job.name, help=f"{job.title.capitalize()}s: train, predict.")
    group.add_command(train_command(job))
    group.add_command(predict_command(job))
    return group


def _read_inputs(inputs: tuple[str, ...], path: Path | None) -> list[Any]:
    if path is None:
        return [_parse(text, key=f"INPUT {i + 1}") for i, text in enumerate(inputs)]
    lines = read_input_lines(sys.stdin.buffer) if str(path) == "-" else _lines(path)
    return [
        _parse(line, DataError, file=path, line=n)
        for n, line in enumerate(lines, 1)
        if line.strip()
    ]


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(f"cannot read the inputs ({err})", file=path) from None


def _parse(text: str, error: type[Exception] = ConfigError, **where: Any) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise error(f"expected a JSON value, got {text[:40]!r} ({err.msg})", **where) from None
