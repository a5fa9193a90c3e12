"""``rnnkit bench``: training-step throughput of a recurrent configuration on this machine."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import click

from rnnkit.cli.gradcheck import CELL_NAMES


@click.command("bench")
@click.option("--cell", type=click.Choice(sorted(CELL_NAMES)), default="lstm", show_default=True)
@click.option("--input-size", type=click.IntRange(min=1), default=256, show_default=True)
@click.option("--hidden-size", type=click.IntRange(min=1), default=256, show_default=True)
@click.option("--num-layers", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--bidirectional", is_flag=True)
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
@click.option(
    "--length",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Time steps per sequence.",
)
@click.option(
    "--steps",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Training steps per timed round.",
)
@click.option("--rounds", type=click.IntRange(min=1), default=5, show_default=True)
@click.option(
    "--engine", type=click.Choice(["auto", "fused", "loop"]), default="auto", show_default=True
)
@click.option("--peephole", is_flag=True, help="lstm.")
@click.option("--layer-norm", is_flag=True, help="lstm, gru.")
@click.option("--nonlinearity", type=click.Choice(["tanh", "relu"]), help="elman, jordan.")
@click.option("--json", "as_json", is_flag=True, help="The report as one JSON object.")
def bench(as_json: bool, **settings: Any) -> None:
    """Time training steps of a recurrent stack, against torch.nn when torch has the cell."""
    from rnnkit.diagnostics.speed import measure

    options = {k: v for k, v in settings.items() if v not in (None, False) or k == "bidirectional"}
    report = measure(options.pop("cell"), **options)
    if as_json:
        click.echo(json.dumps({"type": "summary", **asdict(report)}))
        return
    click.echo(
        f"{report.settings['cell']} via the {report.path} path, "
        f"{report.settings['threads']} threads, median of {report.rounds} rounds:"
    )
    for name, rate in report.variants.items():
        click.echo(f"  {name:9s} {rate:12,.0f} tokens/s")
    if report.ratio is not None:
        click.echo(f"  rnnkit / torch.nn: {report.ratio:.2f}x")
