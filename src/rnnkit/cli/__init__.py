"""Command line: ``rnnkit``. Thin subcommands over the library; the only package that prints.

One module per command group (``gradcheck.py``: ``cells`` and ``gradcheck``; ...); ``app.py``
holds the root group, its global options and the error-to-exit-code policy. Modules import
torch-backed code on use, so ``rnnkit --version`` and ``--help`` start fast.
"""

from __future__ import annotations

from rnnkit.cli.app import main
from rnnkit.cli.bench import bench
from rnnkit.cli.datasets import datasets
from rnnkit.cli.gradcheck import gradcheck, list_cells
from rnnkit.cli.info import info

main.add_command(bench)
main.add_command(datasets)
main.add_command(list_cells)
main.add_command(gradcheck)
main.add_command(info)

__all__ = ["main"]
