"""``rnnkit translate``: train, evaluate and use encoder-decoder translators
(``tasks.translate``)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from rnnkit.atomic import atomic_write_lines
from rnnkit.cli.runs import device_option, input_option
from rnnkit.cli.train import train_command
from rnnkit.tasks import common
from rnnkit.tasks import translate as translate_task
from rnnkit.tasks.translate import data as tdata
from rnnkit.tasks.translate.task import Translation, as_predictions

F = TypeVar("F", bound=Callable[..., Any])


@click.group("translate")
def translate() -> None:
    """Encoder-decoder translators with attention (any sentence-to-sentence mapping)."""


translate.add_command(train_command(translate_task.JOB))


def _decoding_options(function: F) -> F:
    options = [
        click.option(
            "--beam", type=int, default=1, show_default=True, help="Beam width (1: greedy)."
        ),
        click.option(
            "--length-penalty",
            type=float,
            default=1.0,
            show_default=True,
            help="Beam hypotheses are ranked by log-probability / length ** this (0: raw).",
        ),
        click.option(
            "--max-len-a",
            type=float,
            default=1.5,
            show_default=True,
            help="A translation has at most a * source tokens + b tokens.",
        ),
        click.option("--max-len-b", type=int, default=10, show_default=True),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@translate.command("eval")
@click.argument("run", type=click.Path(path_type=Path))
@click.option("--split", help="A Multi30k test set (default test_2016_flickr).")
@click.option("--src-file", type=click.Path(path_type=Path), help="Source sentences.")
@click.option("--tgt-file", type=click.Path(path_type=Path), help="Their reference translations.")
@click.option("--data", "pairs_file", type=click.Path(path_type=Path), help="Pairs in one file.")
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    help="Where the translations go, one per line (default: RUN/translations-<data>.txt).",
)
@_decoding_options
@device_option
@click.option("--json", "as_json", is_flag=True)
def eval_command(
    run: Path,
    split: str | None,
    src_file: Path | None,
    tgt_file: Path | None,
    pairs_file: Path | None,
    output: Path | None,
    device: str,
    as_json: bool,
    **decoding: Any,
) -> None:
    """BLEU and chrF (sacreBLEU), length ratio and perplexity of the references, on the run's
    test set or the files given; the translations are written to a file."""
    task = _load(run, device)
    pairs = _test_pairs(task, split, src_file, tgt_file, pairs_file)
    given = src_file is not None or pairs_file is not None
    references = None if given else tdata.tokenised_references(task.config.data, split)
    scores, hypotheses = task.evaluate(pairs, references, **decoding)
    if output is None:
        output = run / f"translations-{Path(pairs.source.split(' ')[0]).name}.txt"
    atomic_write_lines(output, (h + "\n" for h in hypotheses))
    if as_json:
        click.echo(json.dumps({"source": pairs.source, **scores, "output": str(output)}))
        return
    click.echo(f"{pairs.source}: {len(pairs.src):,} sentences, beam {decoding['beam']}")
    click.echo(
        f"BLEU {scores['bleu']:.2f} (tokenize {scores['bleu_tokenize']})  chrF "
        f"{scores['chrf']:.2f}  length ratio {scores['length_ratio']:.3f}  perplexity "
        f"{scores['ppl']:.2f}"
    )
    if "bleu_tok_lc" in scores:
        click.echo(
            f"BLEU on lower-cased tokenised text (as published): {scores['bleu_tok_lc']:.2f}"
        )
    click.echo(f"translations: {output}")


def _test_pairs(
    task: translate_task.TranslatorTask,
    split: str | None,
    src_file: Path | None,
    tgt_file: Path | None,
    pairs_file: Path | None,
) -> Any:
    if (src_file is None) != (tgt_file is None):
        raise click.UsageError("--src-file and --tgt-file go together")
    given = src_file is not None or pairs_file is not None
    if given and split is not None:
        raise click.UsageError("give --split or files, not both")
    if src_file is not None and pairs_file is not None:
        raise click.UsageError("give --data PAIRS or --src-file and --tgt-file, not both")
    if given:
        data = task.config.data
        return tdata.read_files(
            data, None if pairs_file is None else str(pairs_file), src_file, tgt_file
        )
    return tdata.load_test(task.config.data, split)


@translate.command("predict")
@click.argument("run", type=click.Path(path_type=Path))
@click.argument("texts", nargs=-1)
@input_option("one sentence per line")
@click.option("--n-best", type=int, default=1, show_default=True, help="Hypotheses per input.")
@click.option(
    "--plot",
    type=click.Path(path_type=Path),
    help="Attention heat map PNG of the (first) input's best translation.",
)
@_decoding_options
@device_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per input.")
def predict_command(
    run: Path,
    texts: tuple[str, ...],
    input_file: Path | None,
    n_best: int,
    plot: Path | None,
    device: str,
    as_json: bool,
    **decoding: Any,
) -> None:
    """Translate each TEXT (or each line of --input)."""
    task = _load(run, device)
    inputs = _inputs(texts, input_file)
    translations = task.translate(inputs, n_best=n_best, **decoding)
    if plot is not None:  # the first input's best translation, decoded once with the rest
        _plot_attention(task, inputs[0], translations[0][0], plot)
    results = as_predictions(translations)
    for given, result in zip(inputs, results, strict=True):
        if as_json:
            click.echo(json.dumps({"input": given, **result}, ensure_ascii=False))
        elif n_best == 1:
            click.echo(result["translation"])
        else:
            for h in result["n_best"]:
                click.echo(f"{h['score']:.4f}\t{h['text']}")
            click.echo("")


def _plot_attention(
    task: translate_task.TranslatorTask, text: str, best: Translation, path: Path
) -> None:
    from rnnkit.tasks.translate.plots import plot_attention

    plot_attention(path, task.alignment(text, best), title=f"{text}\n{best.text}")
    click.echo(f"attention heat map: {path}", err=True)


def _inputs(texts: tuple[str, ...], path: Path | None) -> list[str]:
    if path is None:
        if not texts:
            raise click.UsageError("give TEXT arguments, --input FILE or --input - (stdin)")
        return list(texts)
    if texts:
        raise click.UsageError("give TEXT arguments or --input, not both")
    if str(path) == "-":
        from rnnkit.data.readers import read_input_lines

        return [line for line in read_input_lines(sys.stdin.buffer) if line.strip()]
    from rnnkit.data.readers import iter_lines

    return [line for line in iter_lines(path) if line.strip()]


def _load(run: Path, device: str) -> translate_task.TranslatorTask:
    return common.load(run, device, kind=translate_task.JOB.name)
