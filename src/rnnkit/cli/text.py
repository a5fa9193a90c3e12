"""``rnnkit text preprocess``: show what a text becomes, stage by stage."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from rnnkit.cli.options import build_config, config_options
from rnnkit.data.text import TextConfig, TextPipeline


@click.group("text")
def text() -> None:
    """Text preprocessing: see exactly what a classifier will read."""


@text.command("preprocess")
@click.argument("texts", nargs=-1)
@click.option(
    "--input",
    "input_file",
    type=click.Path(path_type=Path),
    help="Preprocess a whole file instead (one text per line, or CSV/TSV/JSONL with "
    "--text-col); needs --output.",
)
@click.option("--text-col", help="Column or key of the text in a CSV/TSV/JSONL --input.")
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    help="Write each text's tokens, space-separated, one text per line (a corpus for "
    "`rnnkit lm train --level word`).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per text, then a summary.")
@config_options(TextConfig)
def preprocess(
    texts: tuple[str, ...],
    input_file: Path | None,
    text_col: str | None,
    output: Path | None,
    as_json: bool,
    **params: Any,
) -> None:
    """Run the preprocessing pipeline on each TEXT and print every stage's output."""
    config = build_config(TextConfig, params)
    if input_file is not None or output is not None:
        if input_file is None or output is None or texts:
            raise click.UsageError("--input FILE and --output FILE go together, without TEXT")
        _preprocess_file(input_file, text_col, output, config, as_json)
        return
    if not texts:
        raise click.UsageError("give TEXT arguments, or --input FILE --output FILE")
    pipeline = TextPipeline(config)
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


def _preprocess_file(
    path: Path, text_col: str | None, output: Path, config: TextConfig, as_json: bool
) -> None:
    from rnnkit.atomic import atomic_write_text
    from rnnkit.data.examples import read_text_examples
    from rnnkit.data.readers import iter_lines
    from rnnkit.data.token_cache import tokenize_many

    if text_col is None:
        texts = list(iter_lines(path))
    else:
        texts, _ = read_text_examples(path, text_col=text_col, label_col=None)
    tokens = tokenize_many(texts, config)
    atomic_write_text(output, "".join(" ".join(t) + "\n" for t in tokens))
    count = sum(len(t) for t in tokens)
    if as_json:
        click.echo(json.dumps({"type": "summary", "texts": len(texts), "tokens": count}))
    else:
        click.echo(f"{len(texts):,} texts, {count:,} tokens -> {output}")
