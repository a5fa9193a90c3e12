"""What every ``<job> train`` command shares: the run-directory flags, the config from a
preset, a file and flags, and resuming."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import click

from rnnkit.cli.options import build_config, given_overrides
from rnnkit.config import ConfigError
from rnnkit.tasks.common import Job, open_run, preset_config, resume_config

__all__ = ["run_options", "train_config"]

F = TypeVar("F", bound=Callable[..., Any])

_PROGRESS = click.Choice(["auto", "bar", "log", "none"])


device_option = click.option(
    "--device",
    type=click.Choice(["auto", "cpu", "cuda", "mps"]),
    default="cpu",
    show_default=True,
    help="Where the model runs; auto picks CUDA, then MPS, then the CPU.",
)


def input_option(what: str) -> Callable[[F], F]:
    """``--input FILE`` (``-`` for stdin) of a ``predict`` verb; ``what`` says what the file
    holds."""
    return click.option(
        "--input",
        "input_file",
        type=click.Path(path_type=Path, allow_dash=True),
        help=f"Read inputs from a file ('-' for stdin): {what}.",
    )


def run_options(presets: Iterable[str]) -> Callable[[F], F]:
    """``--preset --out --resume --overwrite --progress --json`` (parameters ``preset``,
    ``out``, ``resume_run``, ``overwrite``, ``progress``, ``as_json``)."""
    options = [
        click.option("--preset", help=f"Published set-up: {', '.join(presets)}."),
        click.option("--out", type=click.Path(path_type=Path), help="Run directory to create."),
        click.option(
            "--resume",
            "resume_run",
            type=click.Path(path_type=Path),
            help="Continue this run directory from its last checkpoint.",
        ),
        click.option("--overwrite", is_flag=True, help="Replace an existing run directory."),
        click.option("--progress", type=_PROGRESS, default="auto", show_default=True),
        click.option(
            "--json", "as_json", is_flag=True, help="Print the summary as one JSON object."
        ),
    ]

    def decorate(command: F) -> F:
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def train_config(
    job: Job,
    params: dict[str, Any],
    *,
    preset: str | None,
    out: Path | None,
    resume_run: Path | None,
) -> tuple[Any, Path]:
    """The config to train ``job`` with and the run directory: a new run from the preset,
    defaults and flags, or (with ``--resume``) the run's own config with resumable changes
    only. Consumes the config's parameters from ``params``.

    Raises:
        click.UsageError: ``--resume`` with ``--out``, ``--preset`` or ``--config``; neither
            ``--resume`` nor ``--out``.
        ConfigError: A new run names no data (``--dataset`` or ``--data``), or options that
            cannot be honoured together (:meth:`Job.check_flags`).
        WrongKindError: ``--resume`` names a run of another job.
    """
    if resume_run is not None:
        if out is not None or preset is not None:
            raise click.UsageError("--resume continues a run: drop --out and --preset")
        if params.pop("config_file", None) is not None:
            raise click.UsageError("--config cannot be used with --resume (the run has its config)")
        run, _ = open_run(resume_run, job.name)
        return resume_config(job, run, given_overrides(job.config, params)), resume_run
    if out is None:
        raise click.UsageError("Missing option '--out' (the run directory to create).")
    # What the user typed (flags, --set); a --config file may repeat a run's own values.
    given = given_overrides(job.config, dict(params))
    config = build_config(job.config, params, base=preset_config(job, preset))
    data = config.data
    # Where training data can come from: a dataset, one file, or (translation) two aligned files.
    if all(getattr(data, name, None) is None for name in ("dataset", "data", "src_file")):
        files = (
            "--data PAIRS, or --src-file and --tgt-file"
            if hasattr(data, "src_file")
            else "--data FILE"
        )
        raise ConfigError(f"give --dataset NAME or {files} (or a --preset)", key="data")
    job.check_flags(config, given)
    return config, out
