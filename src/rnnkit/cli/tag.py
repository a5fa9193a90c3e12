"""``rnnkit tag``: train, evaluate and use sequence taggers (``tasks.tag``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from rnnkit.cli.runs import device_option, input_option
from rnnkit.cli.train import train_command
from rnnkit.tasks import common
from rnnkit.tasks import tag as tag_task
from rnnkit.tasks.tag.errors import format_report, write_errors


@click.group("tag")
def tag() -> None:
    """Sequence taggers (named entities, per-word labels, labels of numeric steps)."""


tag.add_command(train_command(tag_task.JOB))


@tag.command("eval")
@click.argument("run", type=click.Path(path_type=Path))
@click.option(
    "--data",
    "data_file",
    type=click.Path(path_type=Path),
    help="Tagged file (default: the test split of the run's dataset or --test file).",
)
@click.option(
    "--errors",
    "errors_file",
    type=click.Path(path_type=Path),
    help="Where to write the sentences it got wrong (default: RUN/errors-<data>.txt).",
)
@device_option
@click.option("--json", "as_json", is_flag=True)
def eval_command(
    run: Path, data_file: Path | None, errors_file: Path | None, device: str, as_json: bool
) -> None:
    """Entity precision, recall and F1 (overall and per type, as conlleval counts them),
    token accuracy and a confusion table of entity types; plain labels get per-label
    scores. The sentences with an error go to a file a person can read."""
    task = _load_tagger(run, device)
    sentences = task.load_sentences(data_file)
    report, predicted = task.evaluate(sentences)
    if errors_file is None:
        errors_file = run / f"errors-{Path(sentences.source).name}.txt"
    wrong = write_errors(errors_file, sentences, predicted)
    if as_json:
        summary = {
            "type": "summary",
            "source": sentences.source,
            "scheme": sentences.scheme,
            "precision": report.overall.precision,
            "recall": report.overall.recall,
            "f1": report.overall.f1,
            "token_accuracy": report.token_accuracy,
            "sentences": report.sentences,
            "tokens": report.tokens,
            "per_type": {k: v._asdict() for k, v in report.per_type.items()},
            "confusion": report.confusion,
            "errors": str(errors_file),
            "sentences_with_errors": wrong,
        }
        click.echo(json.dumps(summary))
        return
    click.echo(f"{sentences.source}: {report.sentences:,} sentences, {report.tokens:,} tokens")
    for line in format_report(report, sentences.scheme):
        click.echo(line)
    click.echo(f"{wrong:,} sentences with an error: {errors_file}")


@tag.command("predict")
@click.argument("run", type=click.Path(path_type=Path))
@click.argument("texts", nargs=-1)
@input_option("one text per line (numeric runs: JSONL)")
@click.option(
    "--tokenized", is_flag=True, help="Inputs are tokens separated by spaces, not raw text."
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["inline", "conll", "json"]),
    default="inline",
    show_default=True,
    help="inline: entities marked in the text; conll: token<TAB>tag lines; json: one object "
    "per input.",
)
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@device_option
def predict_command(
    run: Path,
    texts: tuple[str, ...],
    input_file: Path | None,
    tokenized: bool,
    output_format: str,
    as_json: bool,
    device: str,
) -> None:
    """Tag each TEXT (or each input of --input): entities with their type, text, character
    offsets and confidence."""
    task = _load_tagger(run, device)
    inputs = _inputs(task, texts, input_file)
    if not inputs:
        raise click.UsageError("give TEXT arguments, --input FILE or --input - (stdin)")
    if tokenized and task.inputs == "text":
        inputs = [line.split() for line in inputs]
    fmt = "json" if as_json else output_format
    for given, result in zip(inputs, task.predict(inputs), strict=True):
        click.echo(_render(given, result, fmt))


def _render(given: Any, result: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        shown = given if isinstance(given, str) else None  # numeric steps are not echoed
        if isinstance(given, list):
            shown = " ".join(given)
        return json.dumps({"input": shown, **result})
    if fmt == "conll" or "entities" not in result:
        tokens = result.get("tokens") or [str(i) for i in range(len(result["tags"]))]
        return "\n".join(f"{t}\t{g}" for t, g in zip(tokens, result["tags"], strict=True)) + "\n"
    text = given if isinstance(given, str) else " ".join(given)
    out, at = [], 0
    for entity in result["entities"]:
        out.append(text[at : entity["start"]])
        out.append(f"[{entity['type']} {entity['text']}]")
        at = entity["end"]
    return "".join(out) + text[at:]


def _inputs(task: tag_task.TaggerTask, texts: tuple[str, ...], path: Path | None) -> list:
    if path is None:
        if task.inputs == "numeric" and texts:
            raise click.UsageError("a numeric-sequence tagger reads --input FILE (JSONL)")
        return list(texts)
    if texts:
        raise click.UsageError("give TEXT arguments or --input, not both")
    if task.inputs == "numeric":
        if str(path) == "-":
            raise click.UsageError("a numeric-sequence tagger reads --input FILE, not stdin")
        from rnnkit.data.tagged_steps import read_tagged_steps

        key = task.config.data.sequence_col
        return read_tagged_steps(path, key=key, labelled=False).sequences
    if str(path) == "-":
        from rnnkit.data.readers import read_input_lines

        return [line for line in read_input_lines(sys.stdin.buffer) if line.strip()]
    from rnnkit.data.readers import iter_lines

    return [line for line in iter_lines(path) if line.strip()]


def _load_tagger(run: Path, device: str) -> tag_task.TaggerTask:
    return common.load(run, device, kind=tag_task.JOB.name)
