"""Every ensemble of trained classifiers on one test set (issue #6).

``python -m benchmarks.bench_ensembles RUN RUN ... [--data FILE] [--json FILE]``

Each run's class probabilities on the test split (the first run's, or ``--data``) are
computed once; then every subset of two or more runs is scored as
:class:`rnnkit.tasks.classify.ensemble.ClassifierEnsemble` scores it (mean probabilities):
accuracy with its 95% (Wilson) interval and macro-F1, next to each run alone. Showing every
subset keeps a reader from mistaking the best of many test-set looks for a planned figure.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import emit, environment
from rnnkit.tasks import classify as clf
from rnnkit.tasks import load


def _scores(probs: np.ndarray, labels: list[int], classes: list[str]) -> dict[str, Any]:
    report, loss = clf.score_probabilities(probs, labels, classes)
    low, high = clf.accuracy_interval(report.accuracy, report.count)
    return {
        "accuracy": report.accuracy,
        "accuracy_ci95": [low, high],
        "macro_f1": report.macro_f1,
        "loss": loss,
    }


def ensembles(runs: list[Path], data: Path | None, as_json: Path | None) -> dict[str, Any]:
    members = [load(run) for run in runs]
    examples = members[0].load_examples(data)
    labels = clf.label_ids(examples, members[0].classes)
    probs, seconds = {}, {}
    for run, member in zip(runs, members, strict=True):
        start = time.perf_counter()
        probs[str(run)] = member.predict_proba(examples.inputs)
        seconds[str(run)] = time.perf_counter() - start
    rows = []
    for size in range(1, len(runs) + 1):
        for subset in itertools.combinations(map(str, runs), size):
            mean = np.mean([probs[run] for run in subset], axis=0)
            rows.append({"runs": list(subset), **_scores(mean, labels, members[0].classes)})
    multi = [row["accuracy"] for row in rows if len(row["runs"]) > 1]
    summary = {
        "benchmark": "ensembles",
        **environment(),
        "reported_split": examples.source,
        "examples": len(labels),
        "predict_time_s": seconds,
        "subsets": rows,
        "ensembles_of_2_or_more": {
            "count": len(multi),
            "min": min(multi, default=None),
            "median": statistics.median(multi) if multi else None,
            "max": max(multi, default=None),
        },
    }
    emit(summary, as_json)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--data", type=Path, help="Labelled file (default: the test split).")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    ensembles(args.runs, args.data, args.json)


if __name__ == "__main__":
    main()
