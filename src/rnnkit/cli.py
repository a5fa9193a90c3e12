"""Command line: ``rnnkit``. Thin subcommands over the library; the only module that prints.

The task groups (``lm``, ``classify``, ``forecast``, ...) and tools (``datasets``, ``info``,
``gradcheck``, ``bench``) arrive with their issues; today the entry point reports the
version and the recurrent cells this installation provides.
"""

from __future__ import annotations

import click

from rnnkit import CELLS, __version__, make_cell


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="rnnkit")
def main() -> None:
    """rnnkit: recurrent neural networks, from the textbook equations to production."""


@main.command("cells")
def list_cells() -> None:
    """List the recurrent cell families and whether torch has a fused kernel for them."""
    for name, cls in CELLS.items():
        kernel = make_cell(name, 1, 1).fused_mode or "none (hand-written BPTT loop)"
        summary = (cls.__doc__ or "").strip().split(":")[0].split(",")[0]
        click.echo(f"{name:7s} fused kernel: {kernel:32s} {summary}")
