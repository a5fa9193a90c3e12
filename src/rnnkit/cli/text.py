"""``rnnkit text preprocess``: show what a text becomes, stage by stage."""

from __future__ import annotations

import json
from typing import Any

import click

from rnnkit.cli.options import build_config, config_options
from rnnkit.data.text import TextConfig, TextPipeline


@click.group("text")
def text() -> None:
    """Text preprocessing: see exactly what a classifier will read."""


@text.command("preprocess")
@click.argument("texts", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per text, then a summary.")
@config_options(TextConfig)
def preprocess(texts: tuple[str, ...], as_json: bool, **params: Any) -> None:
    """Run the preprocessing pipeline on each TEXT and print every stage's output."""
    pipeline = TextPipeline(build_config(TextConfig, params))
    for raw in texts:
        stages = pipeline.steps(raw)
        if as_json:
            click.echo(
                json.dumps(
                    {"type": "text", "input": raw, "stages": dict(stages), "tokens": stages[-1][1]}
                )
            )
            continue
        click.echo(f"input     {raw!r}")
        for name, output in stages:
            shown = " ".join(output) if isinstance(output, list) else repr(output)
            click.echo(f"{name:9s} {shown}")
        click.echo()
    if as_json:
        click.echo(json.dumps({"type": "summary", "texts": len(texts)}))
