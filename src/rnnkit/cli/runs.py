"""What every ``<task> train`` command shares: the run-directory flags and resuming."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import click

from rnnkit.cli.options import build_config, given_overrides
from rnnkit.config import ConfigError
from rnnkit.training.rundir import RunDir

__all__ = ["run_options", "train_config"]

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

_PROGRESS = click.Choice(["auto", "bar", "log", "none"])


device_option = click.option(
    "--device",
    type=click.Choice(["auto", "cpu", "cuda", "mps"]),
    default="cpu",
    show_default=True,
    help="Where the model runs; auto picks CUDA, then MPS, then the CPU.",
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
    cls: type[T],
    params: dict[str, Any],
    *,
    preset: str | None,
    out: Path | None,
    resume_run: Path | None,
    preset_config: Callable[[str | None], dict[str, Any]],
    resume_config: Callable[[RunDir, list[str]], T],
) -> tuple[T, Path]:
    """The config to train with and the run directory: a new run from the preset, defaults
    and flags, or (with ``--resume``) the run's own config with resumable changes only.

    Raises:
        click.UsageError: ``--resume`` with ``--out``, ``--preset`` or ``--config``; neither
            ``--resume`` nor ``--out``.
        ConfigError: A new run names no data (``--dataset`` or ``--data``).
    """
    if resume_run is not None:
        if out is not None or preset is not None:
            raise click.UsageError("--resume continues a run: drop --out and --preset")
        if params.pop("config_file", None) is not None:
            raise click.UsageError("--config cannot be used with --resume (the run has its config)")
        return resume_config(RunDir.open(resume_run), given_overrides(cls, params)), resume_run
    if out is None:
        raise click.UsageError("Missing option '--out' (the run directory to create).")
    config = build_config(cls, params, base=preset_config(preset))
    data = config.data  # type: ignore[attr-defined]
    if data.dataset is None and data.data is None:
        raise ConfigError("give --dataset NAME or --data FILE (or a --preset)", key="data")
    return config, out
