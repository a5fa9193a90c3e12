"""Pool several ``bench_core --json`` passes into the markdown table of docs/benchmarks.md.

Each pass times every variant back to back in every round; this pools the per-round ratios of
all passes and reports their median, with each pass's own median beside it.

Usage::

    python -m benchmarks.summarize docs/results/core-*.json
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

BASELINE = "nn.LSTM"


def per_round_ratios(row: dict[str, Any], base: dict[str, Any]) -> list[float]:
    """GFLOP/s of ``row`` over ``base`` in each round (same round, back to back)."""
    scale = row["gflop_per_step"] / base["gflop_per_step"]
    return [scale * tb / tv for tv, tb in zip(row["times_s"], base["times_s"], strict=True)]


def pool(passes: list[dict[str, Any]]) -> dict[tuple, dict[str, Any]]:
    """(config label, variant) -> pooled figures over all passes."""
    pooled: dict[tuple, dict[str, Any]] = defaultdict(lambda: defaultdict(list))
    for results in passes:
        by_key = {(tuple(r["config"].values()), r["variant"]): r for r in results["results"]}
        for (config, name), row in by_key.items():
            base = by_key[(config, BASELINE)]
            own = by_key.get((config, row["raw"])) if row["raw"] else None
            entry = pooled[(config, name)]
            entry["times"] += row["times_s"]
            entry["vs_lstm"] += per_round_ratios(row, base)
            entry["pass_vs_lstm"].append(statistics.median(per_round_ratios(row, base)))
            if own is not None:
                entry["vs_raw"] += per_round_ratios(row, own)
            if "page_faults_per_step" in row:
                entry["faults"].append(row["page_faults_per_step"])
            entry["path"] = _path(row)
            entry["gflop"] = row["gflop_per_step"]
            entry["tokens"] = row["config"]["batch"] * row["config"]["steps"]
    return pooled


def _path(row: dict[str, Any]) -> str:
    if row["uses_fused"] is None:
        return "torch.nn"
    return "fused" if row["uses_fused"] else "loop"


def markdown(pooled: dict[tuple, dict[str, Any]]) -> str:
    """One markdown table per configuration."""
    lines: list[str] = []
    current = None
    for (config, name), e in pooled.items():
        if config != current:
            current = config
            B, T, H, L = config
            lines += [
                "",
                f"**B={B}, T={T}, I=H={H}, {L} layer{'s' * (L > 1)}** "
                f"({len(e['times'])} timed rounds)",
                "",
                "| variant | path | ms/step | tokens/s | GFLOP/s | vs nn.LSTM (GFLOP/s) "
                "| per pass | vs own torch.nn | page faults/step |",
                "| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |",
            ]
        median = statistics.median(e["times"])
        raw = f"{statistics.median(e['vs_raw']):.2f}" if e["vs_raw"] else "-"
        passes = ", ".join(f"{r:.2f}" for r in e["pass_vs_lstm"])
        faults = f"{statistics.median(e['faults']):,.0f}" if e["faults"] else "-"
        lines.append(
            f"| {name} | {e['path']} | {median * 1e3:.1f} | {e['tokens'] / median:,.0f} "
            f"| {e['gflop'] / median:.1f} | {statistics.median(e['vs_lstm']):.2f} "
            f"| {passes} | {raw} | {faults} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", type=Path, nargs="+", help="bench_core --json outputs")
    args = parser.parse_args(argv)
    passes = [json.loads(path.read_text()) for path in args.files]
    print(markdown(pool(passes)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
