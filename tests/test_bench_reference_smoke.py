"""Smoke test: ``python -m benchmarks.bench_reference --quick`` runs and writes complete JSON.

It checks that the script works, not how fast anything is (DESIGN.md: speed is measured by
benchmarks/, never asserted by a timed test).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_quick_reference_benchmark_writes_both_sides(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_reference", "--quick", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(out.read_text())
    rows, meta = data["results"], data["meta"]
    assert [row["variant"] for row in rows] == ["reference lstm (numpy)", "nn.LSTM (torch)"]
    for row in rows:
        assert len(row["times_s"]) == meta["rounds"] == 3
        assert all(math.isfinite(t) and t > 0 for t in row["times_s"]), row["variant"]
        assert math.isfinite(row["gflops"]) and row["gflops"] > 0, row["variant"]
    assert meta["ratio_of_medians"] > 0 and len(meta["round_ratios"]) == 3
    assert meta["blas"] and meta["torch_version"] and meta["torch_num_threads"] >= 1
    assert "ratio of medians" in done.stdout
