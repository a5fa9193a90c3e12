"""``rnnkit classify``: train, evaluate and use sequence classifiers (``tasks.classification``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from rnnkit.cli.options import config_options
from rnnkit.cli.runs import device_option, run_options, train_config
from rnnkit.config import ConfigError
from rnnkit.tasks import classification as clf_task
from rnnkit.tasks import load
from rnnkit.training.distributed import is_main_process
from rnnkit.training.progress import make_progress


@click.group("classify")
def classify() -> None:
    """Sequence classifiers (sentiment, topics, sensor traces): train, eval, predict."""


@classify.command("train")
@run_options(clf_task.PRESETS)
@config_options(clf_task.ClassifyConfig, exclude=("task", "input_size"))
def train_command(
    preset: str | None,
    out: Path | None,
    resume_run: Path | None,
    overwrite: bool,
    progress: str,
    as_json: bool,
    **params: Any,
) -> None:
    """Train a classifier on labelled text or numeric sequences into a run directory."""
    config, out = train_config(
        clf_task.ClassifyConfig,
        params,
        preset=preset,
        out=out,
        resume_run=resume_run,
        preset_config=clf_task.preset_config,
        resume_config=clf_task.resume_config,
    )

    def show_coverage(report: Any) -> None:
        if not as_json:
            click.echo(f"pretrained vectors: {report}", err=True)

    task, result = clf_task.train(
        config,
        out,
        overwrite=overwrite,
        resume=resume_run is not None,
        progress=make_progress(progress, sys.stderr),
        on_coverage=show_coverage,
    )
    if not is_main_process():  # under torchrun, rank 0 reports for all
        return
    best = max(
        (r for r in result.validations() if "val_acc" in r),
        key=lambda r: r["val_acc"],
        default=None,
    )
    summary = {
        "run": str(out),
        "stop_reason": result.stop_reason,
        "epochs": result.epochs,
        "steps": result.steps,
        "train_time": result.train_time,
        "parameters": sum(p.numel() for p in task.model.parameters()),
        "device": str(next(task.model.parameters()).device),
        "classes": task.classes,
        "best_epoch": None if best is None else best["epoch"],
        "val_acc": None if best is None else best["val_acc"],
        "val_loss": None if best is None else best["val_loss"],
    }
    if as_json:
        click.echo(json.dumps({"type": "summary", **summary}))
    else:
        click.echo(
            f"trained {summary['parameters']:,} parameters for {summary['steps']} steps in "
            f"{summary['train_time']:.0f}s on {summary['device']} ({summary['stop_reason']}); "
            "classes: "
            f"{', '.join(task.classes)}"
        )
        if best is not None:
            click.echo(
                f"best validation accuracy {best['val_acc']:.4f} (loss {best['val_loss']:.4f}) "
                f"at epoch {best['epoch'] + 1}"
            )
        click.echo(f"run directory: {out}")
    if result.stop_reason == "interrupted":
        sys.exit(130)


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
    from rnnkit.tasks.classify_ensemble import ClassifierEnsemble
    from rnnkit.tasks.metrics import plot_confusion

    members = [_load_classifier(run, device) for run in runs]
    task = members[0] if len(members) == 1 else ClassifierEnsemble(members)
    examples = task.load_examples(data_file)
    report, loss = task.evaluate(examples)
    default = "confusion.png" if len(members) == 1 else "confusion-ensemble.png"
    plot_path = plot if plot is not None else runs[0] / default
    plot_confusion(report, plot_path)
    low, high = clf_task.accuracy_interval(report.accuracy, report.count)
    if as_json:
        summary = {"type": "summary", "source": examples.source, "loss": loss, **report.to_dict()}
        summary["runs"] = [str(run) for run in runs]
        click.echo(json.dumps({**summary, "accuracy_ci95": [low, high], "plot": str(plot_path)}))
        return
    if len(members) > 1:
        names = ", ".join(map(str, runs))
        click.echo(f"ensemble of {len(members)} runs (mean probabilities): {names}")
    click.echo(f"{examples.source}: {report.count:,} examples, cross-entropy {loss:.4f}")
    click.echo(report.format())
    click.echo(f"accuracy 95% interval (Wilson): [{low:.4f}, {high:.4f}]")
    click.echo(f"confusion matrix: {plot_path}")


@classify.command("predict")
@click.argument("run", type=click.Path(path_type=Path))
@click.argument("texts", nargs=-1)
@click.option(
    "--input",
    "input_file",
    type=click.Path(path_type=Path, allow_dash=True),
    help="Read inputs from a file ('-' for stdin): one text per line, or the run's format.",
)
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
            click.echo(json.dumps({"input": shown, **prediction._asdict()}))
            continue
        probs = "  ".join(f"{k}:{v:.3f}" for k, v in prediction.probabilities.items())
        text = given if isinstance(given, str) else f"sequence of {len(given)} steps"
        click.echo(f"{prediction.label}\t{probs}\t{text[:80]}")


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
        return [line.rstrip("\n") for line in sys.stdin if line.strip()]
    if task.inputs == "text" and path.suffix in (".txt", "") and path.is_file():
        from rnnkit.data.readers import iter_lines

        return [line for line in iter_lines(path) if line.strip()]
    return task.load_examples(path, labelled=False).inputs


def _load_classifier(run: Path, device: str) -> clf_task.ClassifierTask:
    task = load(run, device)
    if not isinstance(task, clf_task.ClassifierTask):
        raise ConfigError(f"{run} is not a classifier run", key="run")
    return task
