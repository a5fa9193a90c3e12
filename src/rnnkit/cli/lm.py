"""``rnnkit lm``: train, evaluate and use language models (see ``tasks.language_modeling``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from rnnkit.cli.options import config_options
from rnnkit.cli.runs import device_option, run_options, train_config
from rnnkit.tasks import language_modeling as lm_task
from rnnkit.tasks import load
from rnnkit.training.distributed import is_main_process
from rnnkit.training.progress import make_progress


@click.group("lm")
def lm() -> None:
    """Language models: train, eval, score, next, sample."""


@lm.command("train")
@run_options(lm_task.PRESETS)
@config_options(lm_task.LMConfig, exclude=("task", "input_size"))
def train_command(
    preset: str | None,
    out: Path | None,
    resume_run: Path | None,
    overwrite: bool,
    progress: str,
    as_json: bool,
    **params: Any,
) -> None:
    """Train a language model (character, word or subword level) into a run directory."""
    config, out = train_config(
        lm_task.LMConfig,
        params,
        preset=preset,
        out=out,
        resume_run=resume_run,
        preset_config=lm_task.preset_config,
        resume_config=lm_task.resume_config,
    )
    reporter = make_progress(progress, sys.stderr)
    task, result = lm_task.train(
        config, out, overwrite=overwrite, resume=resume_run is not None, progress=reporter
    )
    if not is_main_process():  # under torchrun, rank 0 reports for all
        return
    summary = _train_summary(task, result, Path(out))
    if as_json:
        click.echo(json.dumps({"type": "summary", **summary}))
    else:
        _echo_train_summary(summary)
    if result.stop_reason == "interrupted":
        sys.exit(130)


def _train_summary(task: lm_task.LanguageModelTask, result: Any, out: Path) -> dict[str, Any]:
    best = min(
        (r for r in result.validations() if "val_loss" in r),
        key=lambda r: r["val_loss"],
        default=None,
    )
    plot = out / "loss.png"
    return {
        "run": str(out),
        "stop_reason": result.stop_reason,
        "epochs": result.epochs,
        "steps": result.steps,
        "train_time": result.train_time,
        "parameters": task.model.parameter_count(),
        "device": str(next(task.model.parameters()).device),
        "vocab_size": len(task.vocab),
        "level": task.level,
        "best_epoch": None if best is None else best["epoch"],
        "val_loss": None if best is None else best["val_loss"],
        "val_ppl": None if best is None else best["val_ppl"],
        "val_bits_per_token": None if best is None else best["val_bpt"],
        "plot": str(plot) if plot.exists() else None,
    }


def _unit(level: str) -> str:
    """What one token is called in reports: a char, a (word-level) token, a subword piece."""
    return {"char": "char", "subword": "piece"}.get(level, "token")


def _echo_train_summary(summary: dict[str, Any]) -> None:
    unit = _unit(summary["level"])
    click.echo(
        f"trained {summary['parameters']:,} parameters (vocabulary {summary['vocab_size']}) "
        f"for {summary['steps']} steps in {summary['train_time']:.0f}s on {summary['device']} "
        f"({summary['stop_reason']})"
    )
    if summary["val_loss"] is not None:
        line = f"validation: {summary['val_loss']:.4f} nats/{unit}"
        if summary["level"] == "char":
            line += f", {summary['val_bits_per_token']:.4f} bits/char"
        click.echo(line + f", perplexity {summary['val_ppl']:.2f}")
    if summary["plot"]:
        click.echo(f"loss curve: {summary['plot']}")
    click.echo(f"run directory: {summary['run']}")


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
    task = load(run, device)
    if (data_file is None) == (split is None):
        raise click.UsageError("give exactly one of --data FILE or --split valid|test")
    if data_file is not None:
        from rnnkit.data.readers import read_text

        text, source = read_text(data_file), str(data_file)
    else:
        text, source = lm_task.split_text(task.config, split), f"{split} split"
    metrics = task.evaluate(text, batch_size=batch_size)
    if as_json:
        click.echo(json.dumps({"type": "summary", "source": source, **metrics}))
        return
    unit = _unit(task.level)
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
    results = load(run, device).score(list(texts))
    for rank, result in enumerate(results, 1):
        if as_json:
            click.echo(json.dumps({"type": "score", "rank": rank, **result._asdict()}))
            continue
        click.echo(
            f"{rank}. {result.text!r}: log p = {result.logprob:.3f}, "
            f"perplexity {result.perplexity:.2f}"
        )
        click.echo(
            "   "
            + "  ".join(
                f"{t}:{p:.3g}" for t, p in zip(result.tokens, result.probabilities, strict=True)
            )
        )
    if as_json:
        click.echo(json.dumps({"type": "summary", "best": results[0].text, "count": len(results)}))


@lm.command("next")
@click.argument("run", type=click.Path(path_type=Path))
@click.argument("prefix")
@click.option("--top", type=click.IntRange(min=1), default=5, show_default=True)
@device_option
@click.option("--json", "as_json", is_flag=True)
def next_command(run: Path, prefix: str, top: int, device: str, as_json: bool) -> None:
    """The most likely next tokens after PREFIX, with probabilities (for a backward model,
    trained with --reverse: the tokens most likely before PREFIX, the end of a line)."""
    predictions = load(run, device).next_tokens(prefix, top=top)
    if as_json:
        for token, p in predictions:
            click.echo(json.dumps({"type": "token", "token": token, "probability": p}))
        click.echo(json.dumps({"type": "summary", "prefix": prefix, "count": len(predictions)}))
        return
    for token, p in predictions:
        click.echo(f"{token!r:>14}  {p:.4f}")


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
    "--temperature", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True
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
    pieces = load(run, device).sample(prompt, **options)
    if as_json:
        text = "".join(pieces)
        click.echo(json.dumps({"type": "summary", "prompt": prompt, "text": text}))
        return
    click.echo(prompt, nl=False)
    last = prompt
    for piece in pieces:
        click.echo(piece, nl=False)
        last = piece
    if not last.endswith("\n"):
        click.echo()
