"""Training-step throughput of the NumPy reference LSTM against raw ``torch.nn.LSTM``.

One training step is forward plus backward of ``sum(outputs)``, every parameter gradient and
the input gradient, float32, batch-first: :mod:`rnnkit.reference.lstm` (``forward(...,
fast=True)`` then ``backward`` with ``per_step=False``, the sequence-level fast path)
against ``torch.nn.LSTM`` of the same size.

Each side runs in its own long-lived worker process ('spawn'), so that NumPy's OpenBLAS and
torch's OpenMP threads never fight over the cores (DESIGN.md, "Pitfall"): NumPy with its
default OpenBLAS threads (all cores; ``--numpy-threads`` to pin), torch with its default.
After one warm-up step each, the workers are asked for one timed step in turn, round-robin,
interleaved (numpy, torch, torch, numpy, ...), so that the drifts and slow episodes of a noisy
machine hit both alike (DESIGN.md, "Noise"). Between two steps the driver pauses ``--gap``
seconds, so that the idle side's thread pool (OpenMP and OpenBLAS workers spin a while after
their last call before they sleep) is asleep when the other side's step starts.

Page faults: glibc returns freed memory to the kernel, and a step that allocates its
activations afresh faults those pages in again: 13-17% of the reference engine's step here
before it kept its arrays, about a quarter of ``nn.LSTM``'s. The
reference engine keeps its work arrays between calls (:mod:`rnnkit.reference.buffers`);
torch on the CPU does not. Each side's minor page faults per step are recorded, and
``--keep-freed-pages`` asks glibc in *both* workers (``mallopt``) to keep freed memory, which
takes torch's faults away too: what a tuned allocator (jemalloc, tcmalloc) would give it.

Reported: the median ms/step, achieved GFLOP/s (LSTM matmul FLOPs only: 3 x 2(I+H)4H per
token, forward + grad-input + grad-weight), the ratio of the medians (throughput of the
reference / that of nn.LSTM) and the median of the per-round ratios.

Usage::

    python -m benchmarks.bench_reference [--rounds 9] [--json PATH] [--quick]
        [--keep-freed-pages]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing as mp
import os
import platform
import statistics
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.common import commit, keep_freed_pages, page_faults

MIN_ROUNDS = 7
SIDES = ("reference lstm (numpy)", "nn.LSTM (torch)")


@dataclass(frozen=True)
class Config:
    """Batch ``B``, steps ``T``, ``I = H = size``."""

    batch: int
    steps: int
    size: int

    @property
    def flops(self) -> float:
        """Matmul FLOPs of one training step: 3 x 2(I+H)4H per token."""
        return 3 * 2 * (2 * self.size) * 4 * self.size * self.batch * self.steps

    @property
    def label(self) -> str:
        return f"B={self.batch} T={self.steps} I=H={self.size}"


FULL = Config(64, 100, 256)
QUICK = Config(8, 10, 32)


# ---- the workers (no numpy or torch at module level: a spawned child imports this module) ---


def _numpy_side(cfg: Config):
    """Build the reference LSTM; return (one training step, facts about the side)."""
    import numpy as np

    from rnnkit.reference import lstm

    rng = np.random.default_rng(0)
    B, T, S = cfg.batch, cfg.steps, cfg.size
    k = 1.0 / np.sqrt(S)  # torch's init range

    def uniform(*shape: int) -> np.ndarray:
        return rng.uniform(-k, k, size=shape).astype(np.float32)

    params = {
        "weight_ih": uniform(4 * S, S),
        "weight_hh": uniform(4 * S, S),
        "bias_ih": uniform(4 * S),
        "bias_hh": uniform(4 * S),
    }
    x = rng.standard_normal((B, T, S)).astype(np.float32)

    def train_step() -> None:
        out, _, cache = lstm.forward(params, x, fast=True)
        grads, dx, _ = lstm.backward(params, cache, np.ones_like(out))
        dtypes = {out.dtype, dx.dtype, *(g.dtype for g in grads.values())}
        assert dtypes == {np.dtype(np.float32)}, dtypes  # float32 end to end

    blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    facts = {
        "numpy_version": np.__version__,
        "blas": f"{blas.get('name')} {blas.get('version')}",
        "openblas_num_threads": os.environ.get("OPENBLAS_NUM_THREADS", "default (all cores)"),
    }
    return train_step, facts


def _torch_side(cfg: Config):
    """Build raw nn.LSTM; return (one training step, facts about the side)."""
    import torch

    torch.manual_seed(0)
    model = torch.nn.LSTM(cfg.size, cfg.size, batch_first=True)
    x = torch.randn(cfg.batch, cfg.steps, cfg.size, requires_grad=True)

    def train_step() -> None:
        model.zero_grad(set_to_none=True)
        x.grad = None
        out, _ = model(x)
        out.sum().backward()

    facts = {"torch_version": torch.__version__, "torch_num_threads": torch.get_num_threads()}
    return train_step, facts


def _worker(side: str, cfg: Config, numpy_threads: int | None, keep_pages: bool, conn) -> None:
    """Serve timed training steps: "step" -> (seconds, page faults) of one step, "stop" -> exit."""
    kept = keep_freed_pages() if keep_pages else False
    if side == "numpy":  # before numpy is imported, so OpenBLAS sees it
        if numpy_threads is None:
            os.environ.pop("OPENBLAS_NUM_THREADS", None)
        else:
            os.environ["OPENBLAS_NUM_THREADS"] = str(numpy_threads)
        train_step, facts = _numpy_side(cfg)
    else:
        train_step, facts = _torch_side(cfg)
    start = time.perf_counter()
    train_step()  # warm-up (timed: the first-call overhead)
    facts["warmup_s"] = time.perf_counter() - start
    facts[f"{side}_keeps_freed_pages"] = kept
    conn.send(facts)
    while conn.recv() == "step":
        faults, start = page_faults(), time.perf_counter()
        train_step()
        conn.send((time.perf_counter() - start, page_faults() - faults))
    conn.close()


# ---- the driver -----------------------------------------------------------------------------


def run(
    cfg: Config, rounds: int, numpy_threads: int | None, gap: float, keep_pages: bool = False
) -> dict[str, Any]:
    """Start both workers, time ``rounds`` interleaved steps each, return the JSON record."""
    ctx = mp.get_context("spawn")
    workers = {}
    for side in ("numpy", "torch"):
        here, there = ctx.Pipe()
        proc = ctx.Process(
            target=_worker, args=(side, cfg, numpy_threads, keep_pages, there), daemon=True
        )
        proc.start()
        workers[side] = (proc, here)
    try:
        facts = {side: conn.recv() for side, (_, conn) in workers.items()}
        times: dict[str, list[float]] = {"numpy": [], "torch": []}
        faults: dict[str, list[int]] = {"numpy": [], "torch": []}
        for r in range(rounds):
            order = ("numpy", "torch") if r % 2 == 0 else ("torch", "numpy")  # alternate
            for side in order:  # one step at a time: the other worker is idle meanwhile
                time.sleep(gap)
                workers[side][1].send("step")
                seconds, step_faults = workers[side][1].recv()
                times[side].append(seconds)
                faults[side].append(step_faults)
    finally:
        for proc, conn in workers.values():
            with contextlib.suppress(BrokenPipeError, OSError):
                conn.send("stop")
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()
    rows = []
    for side, name in zip(("numpy", "torch"), SIDES, strict=True):
        median = statistics.median(times[side])
        rows.append(
            {
                "variant": name,
                "median_s": median,
                "ms_per_step": median * 1e3,
                "gflops": cfg.flops / median / 1e9,
                "times_s": times[side],
                "page_faults_per_step": statistics.median(faults[side]),
                "warmup_s": facts[side]["warmup_s"],
            }
        )
    ratio_of_medians = rows[1]["median_s"] / rows[0]["median_s"]
    per_round = [t / n for n, t in zip(times["numpy"], times["torch"], strict=True)]
    meta = {
        "config": asdict(cfg),
        "rounds": rounds,
        "gap_s": gap,
        "keep_freed_pages": keep_pages,
        "dtype": "float32",
        "flops_per_step": cfg.flops,
        "ratio_of_medians": ratio_of_medians,
        "median_of_round_ratios": statistics.median(per_round),
        "round_ratios": per_round,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit(),
        **{k: v for f in facts.values() for k, v in f.items() if k != "warmup_s"},
    }
    return {"meta": meta, "results": rows}


def print_table(data: dict[str, Any]) -> None:
    meta = data["meta"]
    cfg = Config(**meta["config"])
    print(f"LSTM training step, float32, {cfg.label}, {meta['rounds']} interleaved rounds")
    print(
        f"numpy {meta['numpy_version']} ({meta['blas']}, OPENBLAS_NUM_THREADS="
        f"{meta['openblas_num_threads']}); torch {meta['torch_version']} "
        f"({meta['torch_num_threads']} threads); separate worker processes"
    )
    if meta["keep_freed_pages"]:
        kept = meta["numpy_keeps_freed_pages"] and meta["torch_keeps_freed_pages"]
        print("both workers keep freed memory (mallopt)" if kept else "mallopt unavailable")
    head = f"{'variant':<26}{'ms/step':>10}{'GFLOP/s':>10}{'min ms':>10}{'max ms':>10}"
    print(f"{head}{'faults/step':>13}")
    for row in data["results"]:
        print(
            f"{row['variant']:<26}{row['ms_per_step']:>10.2f}{row['gflops']:>10.1f}"
            f"{min(row['times_s']) * 1e3:>10.2f}{max(row['times_s']) * 1e3:>10.2f}"
            f"{row['page_faults_per_step']:>13,.0f}"
        )
    print(
        f"reference / nn.LSTM throughput: ratio of medians {meta['ratio_of_medians']:.3f}, "
        f"median of per-round ratios {meta['median_of_round_ratios']:.3f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=None, help=f">= {MIN_ROUNDS} (default 9)")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK.label}, 3 rounds")
    parser.add_argument(
        "--numpy-threads", type=int, default=None, help="OpenBLAS threads (default: all cores)"
    )
    parser.add_argument(
        "--keep-freed-pages",
        action="store_true",
        help="both workers ask glibc to keep freed memory (no page faults from reallocation)",
    )
    parser.add_argument(
        "--gap", type=float, default=None, help="seconds between steps (default 0.5; quick 0.05)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        cfg, rounds = QUICK, args.rounds or 3
    else:
        cfg, rounds = FULL, args.rounds or 9
        if rounds < MIN_ROUNDS:
            parser.error(f"--rounds must be >= {MIN_ROUNDS} (medians of fewer are noise)")
    gap = args.gap if args.gap is not None else (0.05 if args.quick else 0.5)
    data = run(cfg, rounds, args.numpy_threads, gap, args.keep_freed_pages)
    print_table(data)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(data, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
