"""Forecasting benchmarks (issue #7): test error of a preset next to its baselines.

``quality PRESET [--horizons H1,H2,...] [--seeds S1,S2,...] --out DIR [--set KEY=VALUE]``
    For each horizon and seed, trains ``rnnkit forecast train --preset PRESET --horizon H``
    (``--seed S``) into ``DIR/h{H}-s{S}`` and evaluates the best weights once on the test
    part, next to the naive, seasonal-naive and linear baselines computed on the same
    windows (the baselines do not depend on the seed). Reports, per horizon, the median over
    seeds of each metric (scaled and in the data's units), every seed's value, and the wall
    time of training and evaluation.

Usage::

    python -m benchmarks.bench_forecast quality etth1 --horizons 96,192,336,720 \\
        --out runs/bench-etth1 --json docs/results/forecast-etth1.json
    python -m benchmarks.bench_forecast quality household-power-daily --seeds 0,1,2 \\
        --out runs/bench-power --json docs/results/forecast-power.json
    python -m benchmarks.bench_forecast quality airline --seeds 0,1,2 \\
        --out runs/bench-airline --json docs/results/forecast-airline.json
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.common import emit, environment
from rnnkit.config import apply_overrides, from_dict
from rnnkit.tasks import forecast as fc
from rnnkit.training.progress import make_progress


def _one_run(config: fc.ForecastConfig, out: Path) -> dict[str, Any]:
    start = time.perf_counter()
    task, result = fc.train(config, out, overwrite=True, progress=make_progress("log", sys.stderr))
    trained = time.perf_counter()
    prep = task.prepared()  # the series, split and scaled as in training
    evaluating = time.perf_counter()
    evaluation = task.evaluate(
        prep, "test", 0.9 if task.calibration or config.model.output == "gaussian" else None
    )
    done = time.perf_counter()
    return {
        "epochs": result.epochs,
        "stop_reason": result.stop_reason,
        "train_seconds": trained - start,
        "eval_seconds": done - evaluating,
        "parameters": sum(p.numel() for p in task.model.parameters()),
        "windows": evaluation.windows,
        "coverage_90": evaluation.coverage,
        "scaled": {k: s.overall for k, s in evaluation.scaled.items()},
        "original": {k: s.overall for k, s in evaluation.original.items()},
    }


def _medians(runs: list[dict[str, Any]], units: str) -> dict[str, dict[str, float]]:
    names = runs[0][units]
    return {
        name: {
            metric: statistics.median(r[units][name][metric] for r in runs)
            for metric in runs[0][units][name]
        }
        for name in names
    }


def quality(args: argparse.Namespace) -> dict[str, Any]:
    base = from_dict(fc.ForecastConfig, fc.preset_config(args.preset))
    horizons = [int(h) for h in args.horizons.split(",")] if args.horizons else [base.data.horizon]
    seeds = [int(s) for s in args.seeds.split(",")]
    report: dict[str, Any] = {"preset": args.preset, "environment": environment(), "horizons": {}}
    for horizon in horizons:
        runs = []
        for seed in seeds:
            config = apply_overrides(
                base, [f"data.horizon={horizon}", f"train.seed={seed}", *args.overrides]
            )
            run = _one_run(config, args.out / f"h{horizon}-s{seed}")
            print(
                f"h={horizon} seed={seed}: model {run['scaled']['model']} "
                f"({run['train_seconds']:.0f}s)",
                flush=True,
            )
            runs.append(run)
        report["horizons"][str(horizon)] = {
            "median_scaled": _medians(runs, "scaled"),
            "median_original": _medians(runs, "original"),
            "runs": runs,
        }
    report["config"] = {"overrides": args.overrides, "seeds": seeds}
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    q = sub.add_parser("quality", help="test error of a preset next to its baselines")
    q.add_argument("preset", choices=sorted(fc.PRESETS))
    q.add_argument("--horizons", help="comma-separated horizons (default: the preset's)")
    q.add_argument("--seeds", default="0", help="comma-separated seeds (median reported)")
    q.add_argument("--out", type=Path, required=True)
    q.add_argument("--json", type=Path)
    q.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    emit(quality(args), args.json)


if __name__ == "__main__":
    main()
