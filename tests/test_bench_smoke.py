"""Smoke tests: ``benchmarks.bench_core``, ``bench_native``, ``bench_gemm``, ``bench_dispatch``
and (on a GPU) ``bench_gpu`` with ``--quick`` run and write complete JSON.

It checks that the script works, not how fast anything is (DESIGN.md: speed is measured by
benchmarks/, never asserted by a timed test).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from rnnkit.cells import gemm, native

ROOT = Path(__file__).resolve().parents[1]

VARIANTS = {
    "nn.LSTM",
    "lstm auto (fast path)",
    "lstm loop",
    "lstm peephole",
    "lstm layer_norm",
    "lstm recurrent_dropout=0.25",
    "jordan feedback=hidden",
    "nn.GRU",
    "gru auto",
    "gru loop",
    "nn.RNN",
    "elman auto",
    "elman loop",
}


def run_quick(module: str, out: Path, *options: str) -> dict:
    """``python -m benchmarks.<module> --quick --json out``; its JSON, after a clean exit."""
    done = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{module}", "--quick", "--json", str(out), *options],
        cwd=ROOT,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(out.read_text())


def test_quick_benchmark_writes_every_variant(tmp_path: Path) -> None:
    data = run_quick("bench_core", tmp_path / "bench.json")
    rows = data["results"]
    assert {row["variant"] for row in rows} == VARIANTS
    assert len(rows) == len(VARIANTS)  # one quick configuration, each variant once
    for row in rows:
        assert math.isfinite(row["median_s"]) and row["median_s"] > 0, row["variant"]
        assert len(row["times_s"]) == data["meta"]["rounds"] == 3
        assert math.isfinite(row["gflops"]) and row["gflops"] > 0, row["variant"]
    fast = next(row for row in rows if row["variant"] == "lstm auto (fast path)")
    assert fast["uses_fused"] is True
    assert data["meta"]["torch_version"] and data["meta"]["num_threads"] >= 1


@pytest.mark.parametrize(
    "options,ways", [((), ("torch", "native")), (("--sequences",), ("steps", "sequence"))]
)
def test_quick_native_benchmark_compares_both_ways(tmp_path: Path, options, ways) -> None:
    if native.kernels() is None:
        pytest.skip(f"native kernels {native.status()}")
    data = run_quick("bench_native", tmp_path / "native.json", *options)
    rows = data["results"]
    assert [row["variant"] for row in rows] == [
        "loop",
        "peephole",
        "layer_norm",
        "recurrent_dropout=0.25",
        "jordan feedback=hidden",
    ]
    first, second = ways
    keys = (f"{first}_ms", f"{second}_ms", f"{first}_vs_lstm", f"{second}_vs_lstm", "gain")
    for row in rows:
        for key in keys:
            assert math.isfinite(row[key]) and row[key] > 0, (row["variant"], key)
    assert data["meta"]["rounds"] == 2


def test_quick_gemm_benchmark_times_both_backends(tmp_path: Path) -> None:
    if gemm._ONEDNN is None:
        pytest.skip("this torch build has no oneDNN linear op")
    data = run_quick("bench_gemm", tmp_path / "gemm.json")
    products = data["products"]
    assert len(products) == 15  # five products for each of three weight widths
    for row in products:
        for key in ("onednn_us", "mkl_us", "onednn_gflops", "mkl_gflops", "onednn_over_mkl"):
            assert math.isfinite(row[key]) and row[key] > 0, (row["product"], key)
    assert {row["variant"] for row in data["results"]} == {
        "lstm loop",
        "lstm peephole",
        "lstm layer_norm",
        "lstm recurrent_dropout=0.25",
        "jordan feedback=hidden",
        "gru loop",
        "elman loop",
    }
    assert all(row["gain"] > 0 for row in data["results"])
    assert data["meta"]["chosen_backend"] in ("mkl", "onednn")


def test_quick_dispatch_benchmark_times_both_engines(tmp_path: Path) -> None:
    data = run_quick("bench_dispatch", tmp_path / "dispatch.json")
    assert [row["cell"] for row in data["results"]] == ["gru", "elman"]
    for row in data["results"]:
        assert 0 < row["min"] <= row["loop_speedup"] <= row["max"], row
    assert data["meta"]["rounds"] == 2 and data["meta"]["commit"]


def test_quick_gpu_benchmark_times_every_variant_or_says_it_needs_a_gpu(tmp_path: Path) -> None:
    if not torch.cuda.is_available():
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.bench_gpu", "--quick"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 2 and "no CUDA device" in done.stderr
        return
    data = run_quick("bench_gpu", tmp_path / "gpu.json")
    rows = data["results"]
    assert {row["variant"] for row in rows} == VARIANTS
    assert {row["mode"] for row in rows} == {"float32", "bf16"}
    assert all(math.isfinite(row["gflops"]) and row["gflops"] > 0 for row in rows)


@pytest.mark.real_data
def test_lm_throughput_benchmark_runs_on_the_task_api(real_data, tmp_path: Path) -> None:
    """``bench_lm throughput`` drives the language-model job's own pieces (model, batches,
    objective, fit): a tiny round keeps it in step with them."""
    out = tmp_path / "lm.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_lm", "throughput", "--rounds", "1",
         "--steps", "3", "--json", str(out)],
        cwd=ROOT,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    assert result["rounds"] == 1 and math.isfinite(result["ratio_median"])


@pytest.mark.real_data
def test_tag_speed_benchmark_runs_on_the_job(real_data, tmp_path: Path) -> None:
    """``bench_tag speed`` drives the tagging job's pieces (prepare, model, batches, objective):
    a tiny round keeps it in step with them."""
    out = tmp_path / "tag.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_tag", "speed", "--rounds", "1",
         "--steps", "2", "--json", str(out)],
        cwd=ROOT,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    assert set(result["median_train_sentences_per_s"]) == {"crf", "softmax"}
    assert math.isfinite(result["crf_train_time_ratio"])
