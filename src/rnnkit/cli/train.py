"""``rnnkit <job> train``: one command for every job, generated from its declaration.

Flags: the run-directory options (``--preset --out --resume --overwrite --progress --json``)
and one flag per field of the job's config. The summary is the skeleton's
(:mod:`rnnkit.tasks.common.summary`): the same keys and numbering for every job.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from rnnkit.cli.options import config_options
from rnnkit.cli.runs import run_options, train_config
from rnnkit.tasks import common
from rnnkit.tasks.common import Job
from rnnkit.training.distributed import is_main_process
from rnnkit.training.progress import make_progress

__all__ = ["train_command"]


def train_command(job: Job) -> click.Command:
    """The ``train`` command of ``job``."""

    @run_options(job.presets)
    @config_options(job.config, exclude=("task",))
    def train(
        preset: str | None,
        out: Path | None,
        resume_run: Path | None,
        overwrite: bool,
        progress: str,
        as_json: bool,
        **params: Any,
    ) -> None:
        config, out = train_config(job, params, preset=preset, out=out, resume_run=resume_run)

        def notify(topic: str, value: Any) -> None:
            if not as_json:
                click.echo(f"{topic}: {value}", err=True)

        task, result = common.train(
            job,
            config,
            out,
            overwrite=overwrite,
            resume=resume_run is not None,
            progress=make_progress(progress, sys.stderr),
            notify=notify,
        )
        if not is_main_process():  # under torchrun, rank 0 reports for all
            return
        summary = common.train_summary(job, task, result, out)
        if as_json:
            click.echo(json.dumps(summary))
        else:
            for line in common.describe_summary(job, summary):
                click.echo(line)
        if result.stop_reason == "interrupted":
            sys.exit(130)

    return click.command("train", help=f"Train a {job.title} into a run directory.")(train)
