"""``rnnkit lm``: train, evaluate and use language models (see ``tasks.lm``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from rnnkit.cli.runs import device_option
from rnnkit.cli.train import train_command
from rnnkit.tasks import common
from rnnkit.tasks import lm as lm_task


@click.group("lm")
def lm() -> None:
    """Language models: train, eval, score, next, sample."""


lm.add_command(train_command(lm_task.JOB))


def _not_nan(ctx: click.Context, param: click.Parameter, value: float) -> float:
    if value != value:
        raise click.BadParameter("expected a number, got nan")
    return value


@lm.command("eval")
@click.argument("run", type=click.Path(path_type=Path))
@click.option(
    "--data", "data_file", type=click.Path(path_type=Path), help="Text file to evaluate on."
)
@click.option(
    "--split",
    type=click.Choice(["valid", "test"]),
    help="A split of the run's own dataset instead of --data.",
)
@click.option(
    "--batch-size", type=click.IntRange(min=1), help="Parallel streams (default: the run's)."
)
@device_option
@click.option("--json", "as_json", is_flag=True)
def eval_command(
    run: Path,
    data_file: Path | None,
    split: str | None,
    batch_size: int | None,
    device: str,
    as_json: bool,
) -> None:
    """Cross-entropy (nats/token), perplexity and bits per character on a text.

    A subword-level run also reports a word-level perplexity (per whitespace word, line ends
    counted), comparable with a word-level model's.
    """
    task = _load(run, device)
    if (data_file is None) == (split is None):
        raise click.UsageError("give exactly one of --data FILE or --split valid|test")
    if data_file is not None:
        from rnnkit.data.errors import DataError
        from rnnkit.data.readers import read_text

        text, source = read_text(data_file), str(data_file)
        if not text.strip():
            raise DataError("no text to evaluate on (the file is empty or blank)", file=data_file)
    else:
        text, source = lm_task.split_text(task.config, split), f"{split} split"
    metrics = task.evaluate(text, batch_size=batch_size)
    if as_json:
        click.echo(json.dumps({"type": "summary", "source": source, **metrics}))
        return
    unit = lm_task.token_unit(task.level)
    click.echo(f"{source}: {metrics['tokens']:,} {unit}s")
    click.echo(f"cross-entropy {metrics['loss']:.4f} nats/{unit}  perplexity {metrics['ppl']:.2f}")
    if task.level == "char":
        click.echo(f"bits per char {metrics['bpt']:.4f}")
    if task.level == "subword":
        click.echo(
            f"word-level perplexity {metrics['word_ppl']:.2f} "
            f"({metrics['words']:,} words, line ends included)"
        )


@lm.command("score")
@click.argument("run", type=click.Path(path_type=Path))
@click.argument("texts", nargs=-1, required=True)
@device_option
@click.option("--json", "as_json", is_flag=True)
def score_command(run: Path, texts: tuple[str, ...], device: str, as_json: bool) -> None:
    """Log-probability of each text, per-token probabilities, ranked best first."""
    scored = _load(run, device).predict(list(texts), mode="score")
    results = sorted(scored, key=lambda r: -r["logprob"])
    for rank, result in enumerate(results, 1):
        if as_json:
            click.echo(json.dumps({"type": "score", "rank": rank, **result}))
            continue
        click.echo(
            f"{rank}. {result['text']!r}: log p = {result['logprob']:.3f}, "
            f"perplexity {result['perplexity']:.2f}"
        )
        pairs = zip(result["tokens"], result["probabilities"], strict=True)
        click.echo("   " + "  ".join(f"{t}:{p:.3g}" for t, p in pairs))
    if as_json:
        click.echo(
            json.dumps({"type": "summary", "best": results[0]["text"], "count": len(results)})
        )


@lm.command("next")
@click.argument("run", type=click.Path(path_type=Path))
@click.argument("prefix")
@click.option("--top", type=click.IntRange(min=1), default=5, show_default=True)
@device_option
@click.option("--json", "as_json", is_flag=True)
def next_command(run: Path, prefix: str, top: int, device: str, as_json: bool) -> None:
    """The most likely next tokens after PREFIX, with probabilities (for a backward model,
    trained with --reverse: the tokens most likely before PREFIX, the end of a line)."""
    (answer,) = _load(run, device).predict([prefix], mode="next", top=top)
    if as_json:
        for item in answer["next"]:
            click.echo(json.dumps({"type": "token", **item}))
        click.echo(json.dumps({"type": "summary", "prefix": prefix, "count": len(answer["next"])}))
        return
    for item in answer["next"]:
        click.echo(f"{item['token']!r:>14}  {item['probability']:.4f}")


@lm.command("sample")
@click.argument("run", type=click.Path(path_type=Path))
@click.option("--prompt", default="", help="Text to continue.")
@click.option(
    "--length",
    type=click.IntRange(min=1),
    default=200,
    show_default=True,
    help="Tokens to generate (characters, words or subword pieces).",
)
@click.option(
    "--temperature",
    type=click.FloatRange(min=0, min_open=True, max=100),
    callback=_not_nan,  # FloatRange lets NaN through; NaN or inf would sample nothing
    default=1.0,
    show_default=True,
)
@click.option("--top-k", type=click.IntRange(min=1))
@click.option("--top-p", type=click.FloatRange(0, 1, min_open=True))
@click.option("--greedy", is_flag=True, help="Always the most likely token.")
@click.option("--beam", type=click.IntRange(min=1), help="Beam search with this many beams.")
@click.option("--no-unk", is_flag=True, help="Never generate <unk>.")
@click.option("--seed", type=int, help="Same seed, same sample.")
@device_option
@click.option("--json", "as_json", is_flag=True)
def sample_command(run: Path, prompt: str, device: str, as_json: bool, **options: Any) -> None:
    """Generate text after --prompt, streamed as it is produced."""
    if sum(bool(options[k]) for k in ("top_k", "top_p", "greedy", "beam")) > 1:
        raise click.UsageError("choose one of --top-k, --top-p, --greedy, --beam")
    task = _load(run, device)
    if as_json:
        (answer,) = task.predict([prompt], mode="sample", **options)
        click.echo(json.dumps({"type": "summary", **answer}))
        return
    pieces = task.sample(prompt, **options)  # streamed: each piece printed as it comes
    click.echo(prompt, nl=False)
    last = prompt
    for piece in pieces:
        click.echo(piece, nl=False)
        last = piece
    if not last.endswith("\n"):
        click.echo()


def _load(run: Path, device: str) -> lm_task.LanguageModelTask:
    return common.load(run, device, kind=lm_task.JOB.name)
