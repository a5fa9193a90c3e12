"""The ``rnnkit`` command group: global options and the one place user errors become exits.

Errors a user's input causes (:class:`rnnkit.config.RnnkitError` and its subclasses) print
one line, ``error: <message>``, and exit with the error's code (1 data/files, 2 usage and
config); so do the machine's refusals (``OSError``: a full disk, a read-only or missing
directory, no permission), as ``error: <file>: <reason>`` and exit 1. ``--debug`` shows the
traceback instead. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import errno
from importlib import import_module
from typing import Any

import click

from rnnkit import __version__
from rnnkit.cli.malloc import keep_freed_memory_unless_disabled
from rnnkit.config import RnnkitError


class RnnkitGroup(click.Group):
    """A click group that turns :class:`RnnkitError` into a clean message and exit code.

    Subcommands named in ``lazy`` (``name -> "module:attribute"``) are imported only when
    used or listed, so ``rnnkit --version`` does not pay for torch.
    """

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy and name not in self.commands:
            module, _, attribute = self.lazy[name].partition(":")
            self.add_command(getattr(import_module(module), attribute), name)
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RnnkitError as err:
            if ctx.find_root().params.get("debug"):
                raise
            click.echo(f"error: {err}", err=True)
            ctx.exit(err.exit_code)
        except OSError as err:
            # The machine said no (a full disk, a read-only or missing directory, no
            # permission): the user's to fix, named in one line, never a bug's traceback.
            if err.errno not in _ENVIRONMENT or ctx.find_root().params.get("debug"):
                raise
            where = f"{err.filename}: " if err.filename else ""
            click.echo(f"error: {where}{err.strerror or err}", err=True)
            ctx.exit(1)


_ENVIRONMENT = frozenset(
    {
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EROFS,
        errno.EACCES,
        errno.EPERM,
        errno.ENOENT,
        errno.ENOTDIR,
        errno.EISDIR,
        errno.EEXIST,
        errno.ENAMETOOLONG,
        errno.EMFILE,
        errno.EIO,
    }
)


@click.group(
    cls=RnnkitGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    lazy={
        "classify": "rnnkit.cli.classify:classify",
        "diagnose": "rnnkit.cli.diagnose:diagnose",
        "embed": "rnnkit.cli.embed:embed",
        "export": "rnnkit.cli.export:export",
        "forecast": "rnnkit.cli.forecast:forecast",
        "lm": "rnnkit.cli.lm:lm",
        "tag": "rnnkit.cli.tag:tag",
        "translate": "rnnkit.cli.translate:translate",
        "text": "rnnkit.cli.text:text",
    },
)
@click.version_option(__version__, prog_name="rnnkit")
@click.option("--debug", is_flag=True, help="Show the full traceback of an error.")
def main(debug: bool) -> None:
    """rnnkit: recurrent neural networks, from the textbook equations to production.

    Task groups train, evaluate and use models; tools inspect data, runs and gradients.
    Freed memory stays in the process (set RNNKIT_KEEP_FREED_MEMORY=0 to turn that off):
    CPU training steps stop faulting their pages in again.
    """
    keep_freed_memory_unless_disabled()
