"""The loop's matrix products on oneDNN against MKL, the two backends of ``rnnkit.cells.gemm``.

``gemm.BACKEND`` is chosen by CPU vendor (MKL on Intel, oneDNN elsewhere); this benchmark
measures both on the machine at hand, to check that choice. One process, freed pages kept
(compute only). Two parts:

1. Each product the loop makes, at the shapes of ``bench_core``'s configurations: the step's
   ``x Wᵀ`` with the weight packed for the backend, the step's ``dz W``, and over all ``T*B``
   rows the input projection, the input gradient and the weight gradient, for weights of
   ``H``, ``3H`` and ``4H`` rows (Elman and Jordan, GRU, LSTM). The backends alternate within
   each round; medians of the rounds' times.
2. Whole training steps (forward + backward of ``out.sum()``) of the loop variants with each
   backend, interleaved with raw ``nn.LSTM`` as in ``bench_native``: medians of per-round
   ratios to ``nn.LSTM`` in GFLOP/s.

Usage::

    python -m benchmarks.bench_gemm [--rounds 9] [--json PATH] [--quick]
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch

from benchmarks.bench_core import FULL_CONFIGS, QUICK_CONFIGS, Config
from benchmarks.bench_native import compare_ways, format_rows, parse_ab_arguments
from benchmarks.common import commit, environment, keep_freed_pages
from rnnkit.cells import gemm

BACKENDS = ("onednn", "mkl")

VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {  # name: (cell, options)
    "lstm loop": ("lstm", {"engine": "loop"}),
    "lstm peephole": ("lstm", {"peephole": True}),
    "lstm layer_norm": ("lstm", {"layer_norm": True}),
    "lstm recurrent_dropout=0.25": ("lstm", {"recurrent_dropout": 0.25}),
    "jordan feedback=hidden": ("jordan", {"feedback": "hidden"}),
    "gru loop": ("gru", {"engine": "loop"}),
    "elman loop": ("elman", {"engine": "loop"}),
}


@contextmanager
def backend(name: str) -> Iterator[None]:
    """Within this block the loop's products run on ``name``."""
    saved = gemm.BACKEND
    gemm.BACKEND = name
    try:
        yield
    finally:
        gemm.BACKEND = saved


def products(config: Config, rows: int) -> dict[str, Callable[[], Any]]:
    """The loop's five products for a weight of ``rows`` x ``H``, as zero-argument calls on the
    current backend (the step's weight packed for it, as the loop packs once per sequence)."""
    torch.manual_seed(0)
    batch, size = config.batch, config.size
    weight = torch.randn(rows, size)
    x, dz = torch.randn(batch, size), torch.randn(batch, rows)
    xs, dzs = torch.randn(config.steps * batch, size), torch.randn(config.steps * batch, rows)
    packed = gemm.packed(weight, batch)
    return {
        "step x Wᵀ (packed)": lambda: gemm.linear(x, packed),
        "step dz W": lambda: gemm.matmul(dz, weight),
        "input projection": lambda: gemm.linear(xs, weight),
        "input gradient": lambda: gemm.matmul(dzs, weight),
        "weight gradient": lambda: gemm.weight_grad(dzs, xs),
    }


def time_call(call: Callable[[], Any], repeat: int) -> float:
    """Mean seconds of ``repeat`` calls."""
    start = time.perf_counter()
    for _ in range(repeat):
        call()
    return (time.perf_counter() - start) / repeat


def time_products(config: Config, rounds: int) -> list[dict[str, Any]]:
    """Median µs of every product on each backend, and the ratio onednn time / mkl time."""
    rows: list[dict[str, Any]] = []
    for width in (1, 3, 4):
        calls = {}
        for name in BACKENDS:
            with backend(name):
                calls[name] = products(config, width * config.size)
        for product in calls[BACKENDS[0]]:
            per_step = product.startswith("step")
            repeat = 200 if per_step else 5
            times: dict[str, list[float]] = {b: [] for b in BACKENDS}
            for _ in range(rounds + 1):  # the first round warms up
                for name in BACKENDS:
                    with backend(name):
                        times[name].append(time_call(calls[name][product], repeat))
            flops = 2 * config.batch * width * config.size**2 * (1 if per_step else config.steps)
            row: dict[str, Any] = {
                "config": config.label,
                "weight": f"{width}H",
                "product": product,
            }
            for name in BACKENDS:
                median = statistics.median(times[name][1:])
                row[f"{name}_us"] = 1e6 * median
                row[f"{name}_gflops"] = flops / median / 1e9
            row["onednn_over_mkl"] = row["onednn_us"] / row["mkl_us"]
            rows.append(row)
    return rows


def format_products(rows: list[dict[str, Any]]) -> str:
    """A markdown table of one configuration's product timings."""
    lines = [
        f"**{rows[0]['config']}**",
        "",
        "| weight | product | oneDNN µs (GFLOP/s) | MKL µs (GFLOP/s) | oneDNN / MKL time |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['weight']} | {r['product']} | {r['onednn_us']:.0f} ({r['onednn_gflops']:.0f}) "
            f"| {r['mkl_us']:.0f} ({r['mkl_gflops']:.0f}) | {r['onednn_over_mkl']:.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run both parts; print tables and optionally write JSON."""
    args = parse_ab_arguments(argv, __doc__)
    if gemm._ONEDNN is None:
        print("this torch build has no oneDNN linear op: nothing to compare")
        return 1
    if not keep_freed_pages():
        print("mallopt is unavailable here: timing with the default malloc")
    print(f"gemm.BACKEND chosen for this CPU ({gemm.cpu_vendor() or 'unknown'}): {gemm.BACKEND}")
    rounds = 2 if args.quick else args.rounds
    configs = QUICK_CONFIGS if args.quick else FULL_CONFIGS
    product_rows: list[dict[str, Any]] = []
    for config in {(c.batch, c.steps, c.size): c for c in configs}.values():
        config_rows = time_products(config, rounds)
        print(format_products(config_rows) + "\n", flush=True)
        product_rows.extend(config_rows)
    ways = {b: (lambda b=b: backend(b)) for b in BACKENDS}
    step_rows: list[dict[str, Any]] = []
    for config in configs:
        config_rows = compare_ways(config, rounds, VARIANTS, ways)
        print(format_rows(config_rows, BACKENDS) + "\n", flush=True)
        step_rows.extend(config_rows)
    if args.json is not None:
        meta = {
            **environment(),
            "commit": commit(),
            "rounds": rounds,
            "cpu_vendor": gemm.cpu_vendor(),
            "chosen_backend": gemm.BACKEND,
        }
        report = {"meta": meta, "products": product_rows, "results": step_rows}
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
