"""Where ``engine="auto"`` should send a GRU or Elman layer on the CPU: fused kernel or loop.

torch's CPU kernels for ``nn.GRU`` and ``nn.RNN`` are not fused, and the hand-written loop
beats them from some hidden size on; below it the loop's per-step Python costs more than it
saves. For each hidden size and batch size this times one training step (forward + backward of
``out.sum()``, T=100, or T=50 at B=128) of the same layer with ``engine="fused"`` and
``engine="loop"``, back to back, and reports the median of the per-round ratios fused time /
loop time (above 1: the loop is faster). ``LOOP_WINS_ON_CPU_FROM`` in
``rnnkit/layers/recurrent.py`` is set from these figures.

Usage::

    python -m benchmarks.bench_dispatch [--rounds 7] [--keep-freed-pages] [--json PATH] [--quick]
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path
from typing import Any

import torch

import rnnkit
from benchmarks.bench_core import train_step
from benchmarks.common import emit, environment, keep_freed_pages

SIZES = (256, 384, 512)
BATCHES = (16, 32, 64, 128)
CELLS = ("gru", "elman")


def loop_speedup(cell: str, hidden: int, batch: int, steps: int, rounds: int) -> dict[str, Any]:
    """Median and range of fused time / loop time over ``rounds`` back-to-back pairs."""
    torch.manual_seed(0)
    x = torch.randn(batch, steps, hidden, requires_grad=True)
    layers = {
        engine: rnnkit.Recurrent(cell, input_size=hidden, hidden_size=hidden, engine=engine)
        for engine in ("fused", "loop")
    }
    for layer in layers.values():  # warm-up: oneDNN primitives, native kernels
        train_step(layer, x)
    ratios = [
        train_step(layers["fused"], x)[0] / train_step(layers["loop"], x)[0] for _ in range(rounds)
    ]
    return {
        "cell": cell,
        "hidden_size": hidden,
        "batch": batch,
        "steps": steps,
        "loop_speedup": statistics.median(ratios),
        "min": min(ratios),
        "max": max(ratios),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the grid; print one line per point and optionally write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7, help="timed pairs per point")
    parser.add_argument("--keep-freed-pages", action="store_true", help="mallopt, as the CLI")
    parser.add_argument("--json", type=Path, default=None, help="write all results to PATH")
    parser.add_argument("--quick", action="store_true", help="one tiny point per cell, 2 rounds")
    args = parser.parse_args(argv)
    kept = args.keep_freed_pages and keep_freed_pages()
    rounds = 2 if args.quick else args.rounds
    grid = (
        [(16, 4, 5)]
        if args.quick
        else [(h, b, 100 if b < 128 else 50) for h in SIZES for b in BATCHES]
    )
    rows = []
    for cell in CELLS:
        for hidden, batch, steps in grid:
            row = loop_speedup(cell, hidden, batch, steps, rounds)
            print(
                f"{cell:5s} H={hidden:4d} B={batch:4d} T={steps:3d}  fused/loop "
                f"{row['loop_speedup']:.2f} [{row['min']:.2f}-{row['max']:.2f}]",
                flush=True,
            )
            rows.append(row)
    meta = {**environment(), "rounds": rounds, "freed_pages_kept": kept}
    emit({"meta": meta, "results": rows}, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
