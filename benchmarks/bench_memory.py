"""Long-memory benchmarks (issue #8): which cells solve the adding problem and the copy task.

``TASK --length T [--cells C1,C2,...] [--minutes M] [--seeds S1,...] [--json FILE]``
    For each cell and seed, :func:`rnnkit.diagnostics.memory.probe` trains a recurrent layer
    (hidden size 128 unless ``--hidden-size``) with the cell's default optimiser, learning
    rate and clipping for M minutes of training time on fresh random batches, keeps the
    weights that did best on a validation set, and scores them on a fixed test set against
    the memoryless baseline (adding: MSE 1/6; copy: 10·log 8/(T+20)). Reports every run,
    the median test loss per cell over the seeds, and, for the adding problem, issue #8's
    goal: the LSTM or GRU reaching MSE <= 0.01 within the budget.

Usage::

    python -m benchmarks.bench_memory adding --length 200 --cells lstm,gru,elman,irnn \\
        --minutes 10 --json docs/results/memory-adding-200.json
    python -m benchmarks.bench_memory copy --length 100 --cells lstm,gru,elman,irnn \\
        --minutes 10 --json docs/results/memory-copy-100.json

M is the training time of *each* run (validation and testing come on top).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from typing import Any

import torch

from benchmarks.common import emit, environment
from rnnkit.diagnostics import memory
from rnnkit.training.progress import make_progress

# Issue #8: "Adding problem, T = 200: LSTM or GRU test MSE <= 0.01 within 10 minutes".
GOAL_MSE = 0.01
GOAL_CELLS = ("lstm", "gru")


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    losses = [r["test_loss"] for r in runs if r["test_loss"] is not None]
    median = statistics.median(losses) if losses else None
    baseline = runs[0]["baseline"]
    ratio = None if median is None else median / baseline
    return {
        "median_test_loss": median,
        "median_ratio": ratio,
        "verdict": memory.verdict(ratio, diverged=median is None),
        "diverged_runs": sum(r["diverged"] for r in runs),
        "median_steps": statistics.median(r["steps"] for r in runs),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    cells = memory.parse_cells(args.cells)
    seeds = [int(s) for s in args.seeds.split(",")]
    settings = {
        "task": args.task,
        "length": args.length,
        "cells": cells,
        "seeds": seeds,
        "minutes": args.minutes,
        "hidden_size": args.hidden_size,
        "batch_size": args.batch_size,
        "clip": not args.no_clip,
        "baseline": memory.baseline(args.task, args.length),
    }
    report: dict[str, Any] = {
        "benchmark": "memory",
        "environment": environment(),
        "settings": settings,
        "cells": {},
    }
    progress = make_progress("log" if args.progress else "none", sys.stderr)
    for cell in cells:
        runs = []
        for seed in seeds:
            result = memory.probe(
                args.task,
                args.length,
                cell,
                hidden_size=args.hidden_size,
                batch_size=args.batch_size,
                max_time=f"{args.minutes * 60:g}s",
                clip=not args.no_clip,
                seed=seed,
                progress=progress,
            )
            print(
                f"{cell} seed={seed}: test loss {result.test_loss} ({result.verdict}, "
                f"{result.steps} steps, {result.seconds:.0f}s)",
                file=sys.stderr,
                flush=True,
            )
            runs.append(result.to_dict())
        report["cells"][cell] = {**_summary(runs), "runs": runs}
    if args.task == "adding":
        reached = [
            cell
            for cell in GOAL_CELLS
            if cell in report["cells"]
            and any(
                r["test_loss"] is not None and r["test_loss"] <= GOAL_MSE
                for r in report["cells"][cell]["runs"]
            )
        ]
        report["goal"] = {
            "text": f"LSTM or GRU test MSE <= {GOAL_MSE} within the budget",
            "met_by": reached,
            "met": bool(reached),
        }
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("task", choices=memory.TASKS)
    parser.add_argument("--length", type=int, required=True, help="T (copy: the delay)")
    parser.add_argument("--cells", default="lstm,gru,elman,irnn")
    parser.add_argument("--minutes", type=float, default=10.0, help="training time per run")
    parser.add_argument("--seeds", default="0", help="comma-separated seeds")
    parser.add_argument("--hidden-size", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--no-clip", action="store_true", help="train without clipping")
    parser.add_argument("--progress", action="store_true", help="log lines on stderr")
    parser.add_argument(
        "--threads", type=int, help="torch threads (default: torch's; 1 beside another job)"
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    emit(run(args), args.json)


if __name__ == "__main__":
    main()
