"""rnnkit's classifier defaults against the TF-IDF baseline (issue #27), as a new user meets them.

``DATASET --sizes 500,2000,all --seeds 0,1,2 --out DIR [--set KEY=VALUE ...] [--json FILE]``

For each training size and seed: ``rnnkit classify train --dataset DATASET --train-size N
--seed S`` with no other flag (the defaults, or ``--set`` overrides), which fits the baseline
on the same training split when it ends; then both are scored on the dataset's reported split
(IMDB's 25,000 test reviews, SST-2's dev set). Prints and writes each run's accuracies, the
McNemar p-value and the verdict, and per size the medians over the seeds.

Run it alone: the wall times are the machine's.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.common import commit, emit, environment
from rnnkit.config import apply_overrides
from rnnkit.tasks import classify as clf
from rnnkit.training.progress import make_progress


def one_run(dataset: str, size: int | None, seed: int, out: Path, overrides: list[str]) -> dict:
    """Trains the defaults on ``size`` examples (None: all) and scores model and baseline."""
    settings = [f"data.dataset={dataset}", f"train.seed={seed}", *overrides]
    if size is not None:
        settings.append(f"data.train_size={size}")
    config = apply_overrides(clf.ClassifyConfig(), settings)
    started = time.perf_counter()
    task, result = clf.train(config, out, overwrite=True, progress=make_progress("log", sys.stderr))
    train_s = time.perf_counter() - started
    started = time.perf_counter()
    report, _, comparison = task.evaluate_against_baseline(task.load_examples())
    assert comparison is not None and task.baseline is not None
    return {
        "size": size or "all",
        "seed": seed,
        "model_accuracy": report.accuracy,
        "baseline_accuracy": comparison.baseline.accuracy,
        "p_value": comparison.p_value,
        "verdict": comparison.verdict(),
        "baseline_c": task.baseline.c,
        "epochs": result.epochs,
        "best_epoch": None if result.best_epoch is None else result.best_epoch + 1,
        "train_and_baseline_wall_s": train_s,
        "eval_wall_s": time.perf_counter() - started,
        "test_examples": report.count,
    }


def medians(runs: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per size: the median accuracy of the model and of the baseline over the seeds."""
    sizes: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        sizes.setdefault(str(run["size"]), []).append(run)
    return {
        size: {
            "model": statistics.median(r["model_accuracy"] for r in group),
            "baseline": statistics.median(r["baseline_accuracy"] for r in group),
            "seeds": len(group),
        }
        for size, group in sizes.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dataset", choices=("imdb", "sst2"))
    parser.add_argument("--sizes", default="500,2000,all")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--json", dest="as_json", type=Path)
    args = parser.parse_args()
    commit()
    runs = []
    for size in args.sizes.split(","):
        for seed in map(int, args.seeds.split(",")):
            n = None if size == "all" else int(size)
            out = args.out / f"{args.dataset}-{size}-seed{seed}"
            runs.append(one_run(args.dataset, n, seed, out, args.overrides))
            print(runs[-1], file=sys.stderr)
    result = {
        "benchmark": f"versus-baseline {args.dataset}",
        "overrides": args.overrides,
        "runs": runs,
        "medians": medians(runs),
        "environment": environment(),
    }
    emit(result, args.as_json)


if __name__ == "__main__":
    main()
