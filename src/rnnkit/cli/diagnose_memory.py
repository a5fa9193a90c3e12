"""``rnnkit diagnose memory``: long-memory probes (adding problem, copy task) per cell."""

from __future__ import annotations

import json
import sys
from types import ModuleType
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from rnnkit.diagnostics.memory import ProbeResult

_DEFAULT_CELLS = "lstm,gru,elman,irnn"
_TASK_TITLES = {
    "adding": "adding problem, T={length}: test MSE against always predicting 1 (MSE 1/6)",
    "copy": "copy task, T={length}: test cross-entropy per step against blanks, then a "
    "uniform guess (10·log 8/(T+20))",
}
_LINE = "  {:<11s} {:>10s} {:>9s} {:>9s}  {:<12s} {:>7s} {:>8s}"


def _memory_lib() -> ModuleType:
    """Imported on use: torch takes ~2 s to load, and ``--help`` needs none of it."""
    from rnnkit.diagnostics import memory

    return memory


def _number(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}g}"


def _row(result: ProbeResult) -> str:
    return _LINE.format(
        result.cell,
        _number(result.test_loss),
        _number(result.baseline),
        _number(result.ratio, 3),
        result.verdict,
        str(result.steps),
        f"{result.seconds:.1f}",
    )


@click.command("memory")
@click.option(
    "--task", type=click.Choice(["adding", "copy"]), required=True, help="The probe task."
)
@click.option(
    "--length",
    type=int,
    required=True,
    help="T: the adding problem's sequence length, the copy task's delay.",
)
@click.option(
    "--cell",
    "cells",
    default=_DEFAULT_CELLS,
    show_default=True,
    help="Comma-separated cells: elman, elman-relu, irnn, jordan, lstm, gru.",
)
@click.option(
    "--max-time", default="2m", show_default=True, help="Training time per cell (90s, 2m, 1h)."
)
@click.option("--hidden-size", type=click.IntRange(min=1), default=128, show_default=True)
@click.option("--batch-size", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--optimizer", type=click.Choice(["adam", "sgd"]), help="Default: per cell.")
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), help="Default: per cell.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--no-clip", is_flag=True, help="Train without gradient-norm clipping.")
@click.option(
    "--progress",
    type=click.Choice(["auto", "bar", "log", "none"]),
    default="log",
    show_default=True,
    help="Training progress on stderr.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per cell and line.")
def memory(
    task: str,
    length: int,
    cells: str,
    max_time: str,
    hidden_size: int,
    batch_size: int,
    optimizer: str | None,
    lr: float | None,
    seed: int,
    no_clip: bool,
    progress: str,
    as_json: bool,
) -> None:
    """Train each cell on a long-memory task and compare its test loss with the baseline.

    The adding problem (Hochreiter & Schmidhuber 1997) sums two marked values out of T; the
    copy task (Arjovsky et al. 2016) repeats 10 symbols after T blank steps. The baseline is
    the loss of a predictor that remembers nothing; ratio = test loss / baseline. Verdict:
    "solved" at ratio <= 0.06 (adding: MSE <= 0.01), "learning" below 0.9, "at baseline"
    otherwise, "diverged" when the loss or gradient became non-finite.

    Each cell trains with its own default optimiser and learning rate (LSTM, GRU: Adam
    1e-2; tanh Elman, Jordan: Adam 1e-3; ReLU Elman, IRNN: Adam 1e-4), clipped at norm 1;
    --optimizer and --lr set them for every cell. To watch a ReLU net blow up without
    clipping: --cell irnn --optimizer sgd --lr 0.03 --no-clip.
    """
    from rnnkit.training.config import parse_duration
    from rnnkit.training.progress import make_progress

    lib = _memory_lib()
    # Checked before any training: a bad setting fails at once, not after minutes.
    names = lib.parse_cells(cells)
    parse_duration(max_time)
    base = lib.baseline(task, length)
    if not as_json:
        click.echo(_TASK_TITLES[task].format(length=length) + f" = {base:.4g}")
        click.echo(
            _LINE.format("cell", "test loss", "baseline", "ratio", "verdict", "steps", "seconds")
        )
    for name in names:
        result = lib.probe(
            task,
            length,
            name,
            hidden_size=hidden_size,
            batch_size=batch_size,
            max_time=max_time,
            optimizer=optimizer,
            lr=lr,
            clip=not no_clip,
            seed=seed,
            progress=make_progress(progress, sys.stderr),
        )
        if as_json:
            click.echo(json.dumps(result.to_dict()))
        else:
            click.echo(_row(result))
