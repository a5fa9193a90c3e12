"""``rnnkit classify``: train, evaluate and use sequence classifiers (``tasks.classify``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from rnnkit.cli.runs import device_option, input_option
from rnnkit.cli.train import train_command
from rnnkit.tasks import classify as clf_task
from rnnkit.tasks import common


@click.group("classify")
def classify() -> None:
    """Sequence classifiers (sentiment, topics, sensor traces): train, eval, predict."""


classify.add_command(train_command(clf_task.JOB))


@classify.command("eval")
@click.argument("runs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--data",
    "data_file",
    type=click.Path(path_type=Path),
    help="Labelled file (default: the test split of the run's dataset or --test file).",
)
@click.option("--plot", type=click.Path(path_type=Path), help="Confusion-matrix PNG to write.")
@device_option
@click.option("--json", "as_json", is_flag=True)
def eval_command(
    runs: tuple[Path, ...], data_file: Path | None, plot: Path | None, device: str, as_json: bool
) -> None:
    """Accuracy, macro-F1, per-class precision/recall and the confusion matrix of RUN.

    Several RUNs of the same classes are evaluated as an ensemble: the mean of their class
    probabilities (the data is read as the first run's config says, the confusion matrix
    goes to its directory as confusion-ensemble.png).
    """
    from rnnkit.tasks.classify.ensemble import ClassifierEnsemble
    from rnnkit.tasks.classify.metrics import plot_confusion

    members = [_load_classifier(run, device) for run in runs]
    task = members[0] if len(members) == 1 else ClassifierEnsemble(members)
    examples = task.load_examples(data_file)
    report, loss, comparison = task.evaluate_against_baseline(examples)
    default = "confusion.png" if len(members) == 1 else "confusion-ensemble.png"
    plot_path = plot if plot is not None else runs[0] / default
    plot_confusion(report, plot_path)
    low, high = clf_task.accuracy_interval(report.accuracy, report.count)
    if as_json:
        summary = {"type": "summary", "source": examples.source, "loss": loss, **report.to_dict()}
        summary["runs"] = [str(run) for run in runs]
        summary["baseline"] = None if comparison is None else comparison.to_dict()
        click.echo(json.dumps({**summary, "accuracy_ci95": [low, high], "plot": str(plot_path)}))
        return
    if len(members) > 1:
        names = ", ".join(map(str, runs))
        click.echo(f"ensemble of {len(members)} runs (mean probabilities): {names}")
    click.echo(f"{examples.source}: {report.count:,} examples, cross-entropy {loss:.4f}")
    click.echo(report.format())
    click.echo(f"accuracy 95% interval (Wilson): [{low:.4f}, {high:.4f}]")
    click.echo(f"confusion matrix: {plot_path}")
    if comparison is not None:
        scores = comparison.baseline
        click.echo(
            f"baseline ({comparison.to_dict()['name']}): accuracy {scores.accuracy:.4f}, "
            f"macro-F1 {scores.macro_f1:.4f}"
        )
        click.echo(comparison.verdict())  # last: the line a user reads


@classify.command("predict")
@click.argument("run", type=click.Path(path_type=Path))
@click.argument("texts", nargs=-1)
@input_option("one text per line, or the run's format")
@device_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per input.")
def predict_command(
    run: Path, texts: tuple[str, ...], input_file: Path | None, device: str, as_json: bool
) -> None:
    """Label and class probabilities of each TEXT (or each input of --input)."""
    task = _load_classifier(run, device)
    inputs = _inputs(task, texts, input_file)
    if not inputs:
        raise click.UsageError("give TEXT arguments, --input FILE or --input - (stdin)")
    for given, prediction in zip(inputs, task.predict(inputs), strict=True):
        if as_json:
            shown = given if isinstance(given, str) else None
            click.echo(json.dumps({"input": shown, **prediction}))
            continue
        probs = "  ".join(f"{k}:{v:.3f}" for k, v in prediction["probabilities"].items())
        text = given if isinstance(given, str) else f"sequence of {len(given)} steps"
        click.echo(f"{prediction['label']}\t{probs}\t{text[:80]}")


def _inputs(task: clf_task.ClassifierTask, texts: tuple[str, ...], path: Path | None) -> list:
    if path is None:
        if task.inputs == "numeric" and texts:
            raise click.UsageError("a numeric-sequence classifier reads --input FILE")
        return list(texts)
    if texts:
        raise click.UsageError("give TEXT arguments or --input, not both")
    if str(path) == "-":
        if task.inputs == "numeric":
            raise click.UsageError("a numeric-sequence classifier reads --input FILE, not stdin")
        from rnnkit.data.readers import read_input_lines

        return [line for line in read_input_lines(sys.stdin.buffer) if line.strip()]
    if task.inputs == "text" and path.suffix in (".txt", "") and path.is_file():
        from rnnkit.data.readers import iter_lines

        return [line for line in iter_lines(path) if line.strip()]
    return task.load_examples(path, labelled=False).inputs


def _load_classifier(run: Path, device: str) -> clf_task.ClassifierTask:
    return common.load(run, device, kind=clf_task.JOB.name)
