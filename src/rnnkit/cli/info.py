"""``rnnkit info RUN``: what a run directory holds, from its files alone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click


@click.command("info")
@click.argument("run", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON object (the summary).")
def info(run: Path, as_json: bool) -> None:
    """Show a run's config, size, best metrics, training time and gradient norms."""
    from rnnkit.training.summary import summarize_run

    summary = summarize_run(run)
    if as_json:
        click.echo(json.dumps({"type": "summary", **summary}))
        return
    for line in _describe(summary):
        click.echo(line)


def _describe(summary: dict[str, Any]) -> list[str]:
    lines = [f"run        {summary['path']}", f"task       {summary['task'] or '-'}"]
    params = summary["parameters"]
    lines.append(f"parameters {params:,}" if params is not None else "parameters - (no weights)")
    lines.append(f"trained    {summary['epochs']} epochs, {summary['steps']} steps")
    lines.append(f"stopped    {_stop_text(summary)}")
    if summary["train_time"] is not None:
        lines.append(f"time       {_duration(summary['train_time'])}")
    for name in ("best", "last"):
        record = summary[name]
        if record:
            metrics = "  ".join(
                f"{k} {v:.4g}" for k, v in record.items() if k.startswith(("val_", "train_loss"))
            )
            lines.append(f"{name:10s} epoch {record['epoch'] + 1}: {metrics}")
    grad = summary["grad_norm"]
    if grad:
        lines.append(
            f"grad norm  median {grad['median']:.3g}  p99 {grad['p99']:.3g}  "
            f"max {grad['max']:.3g}  clipped {grad['clipped_share']:.1%} of steps"
        )
    if summary.get("grad_warning"):
        lines.append(f"warning    {summary['grad_warning']}")
    lines.append("config")
    lines.extend("  " + line for line in json.dumps(summary["config"], indent=2).splitlines())
    return lines


_STOPS = {
    "completed": "completed all epochs",
    "early_stopping": "early stopping (no improvement for `patience` epochs)",
    "max_time": "time budget (max_time) reached; --resume continues it",
    "max_steps": "step limit (max_steps) reached; --resume continues it",
    "interrupted": "interrupted (Ctrl-C); --resume continues it",
}


def _stop_text(summary: dict[str, Any]) -> str:
    reason = summary["stop_reason"]
    if reason is None:
        return "not finished (still running, or killed: --resume continues from the checkpoint)"
    return _STOPS.get(reason, reason)


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"
