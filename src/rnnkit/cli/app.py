"""The ``rnnkit`` command group: global options and the one place user errors become exits.

Errors a user's input causes (:class:`rnnkit.config.RnnkitError` and its subclasses) print
one line, ``error: <message>``, and exit with the error's code (1 data/files, 2 usage and
config); ``--debug`` shows the traceback instead. Anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations

from typing import Any

import click

from rnnkit import __version__
from rnnkit.config import RnnkitError


class RnnkitGroup(click.Group):
    """A click group that turns :class:`RnnkitError` into a clean message and exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RnnkitError as err:
            if ctx.find_root().params.get("debug"):
                raise
            click.echo(f"error: {err}", err=True)
            ctx.exit(err.exit_code)


@click.group(cls=RnnkitGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="rnnkit")
@click.option("--debug", is_flag=True, help="Show the full traceback of an error.")
def main(debug: bool) -> None:
    """rnnkit: recurrent neural networks, from the textbook equations to production.

    Task groups train, evaluate and use models; tools inspect data, runs and gradients.
    """
