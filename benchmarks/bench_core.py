"""Training-step throughput of rnnkit's recurrent layers against ``torch.nn`` on the CPU.

One training step is forward plus backward of ``out.sum()`` with respect to the parameters
and the input, float32, batch-first, at torch's default thread count. For each configuration
every variant runs in its own worker process and gets one warm-up call (timed: the first-call
overhead); then the variants are timed round-robin, one step at a time, interleaved (A, B,
C, ..., A, B, C, ...), so that the slow drifts and episodes of a noisy machine hit them all
alike (DESIGN.md, "Noise"). Medians are reported. ``--in-process`` times them all in this one
process instead (the protocol of the results before 2026-11-22).

Achieved GFLOP/s counts only each cell's own matmul FLOPs, forward + backward = 3x forward
(forward, grad-input, grad-weight); ratios are against raw ``torch.nn.LSTM`` of the same
configuration and, for GRU and Elman, against their own raw ``torch.nn`` module too.

Each row also records the minor page faults per step: with glibc's default malloc, freed
activations go back to the kernel and are faulted in again by the next step (about 16,000
faults per ``nn.LSTM`` step at B=64, T=100, H=256), a cost that depends on what the heap did
before: in one shared process the heap the other variants leave behind can spare a variant
faults it would take on its own, which is why each variant gets its own process.
``--keep-freed-pages`` asks glibc (``mallopt``) in every process to keep freed memory, so
that every variant is timed without those faults (what jemalloc or tcmalloc would give).

Usage::

    python -m benchmarks.bench_core [--rounds 7] [--json PATH] [--quick] [--keep-freed-pages]
        [--in-process] [--gap 0.2]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import multiprocessing as mp
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

import rnnkit
from benchmarks.common import keep_freed_pages, page_faults
from rnnkit import Recurrent

BASELINE = "nn.LSTM"
MIN_ROUNDS = 5


@dataclass(frozen=True)
class Config:
    """One benchmark shape: batch ``B``, steps ``T``, ``I = H = size``, stacked ``layers``."""

    batch: int
    steps: int
    size: int
    layers: int

    @property
    def tokens(self) -> int:
        """Tokens per training step, ``B * T``."""
        return self.batch * self.steps

    @property
    def label(self) -> str:
        """Short human-readable name."""
        return f"B={self.batch} T={self.steps} I=H={self.size} layers={self.layers}"


@dataclass(frozen=True)
class Variant:
    """A module to time: ``build(config)`` makes it; ``family`` picks the FLOP formula.

    ``expect_fused`` is checked against ``Recurrent.uses_fused`` (None for raw torch.nn);
    ``raw`` names the raw torch.nn variant of the same family (None if there is none).
    """

    name: str
    family: str
    build: Callable[[Config], nn.Module]
    expect_fused: bool | None
    raw: str | None


FULL_CONFIGS = (Config(64, 100, 256, 1), Config(64, 100, 256, 2), Config(32, 35, 650, 2))
QUICK_CONFIGS = (Config(16, 20, 64, 1),)


# ---- FLOPs ----------------------------------------------------------------------------------
def lstm_flops(input_size: int, hidden_size: int) -> int:
    """Forward matmul FLOPs per token of one LSTM layer: ``2 (I + H) 4H``.

    The four gates (i, f, g, o) each multiply ``[x_t, h_{t-1}]`` by an ``(I + H) x H`` block.
    """
    return 2 * (input_size + hidden_size) * 4 * hidden_size


def gru_flops(input_size: int, hidden_size: int) -> int:
    """Forward matmul FLOPs per token of one GRU layer: ``2 (I + H) 3H`` (gates r, z, n)."""
    return 2 * (input_size + hidden_size) * 3 * hidden_size


def elman_flops(input_size: int, hidden_size: int) -> int:
    """Forward matmul FLOPs per token of one Elman layer: ``2 (I + H) H``."""
    return 2 * (input_size + hidden_size) * hidden_size


def jordan_flops(input_size: int, hidden_size: int, output_size: int | None = None) -> int:
    """Forward matmul FLOPs per token of one Jordan layer with ``feedback="hidden"``.

    ``2 (I H + O H + H O)``: input projection ``W_ih``, output feedback ``W_oh`` and the
    cell's own output layer ``W_hy``; ``O`` defaults to ``H``.
    """
    O = hidden_size if output_size is None else output_size
    return 2 * (input_size * hidden_size + O * hidden_size + hidden_size * O)


FLOPS: dict[str, Callable[[int, int], int]] = {
    "lstm": lstm_flops,
    "gru": gru_flops,
    "elman": elman_flops,
    "jordan": jordan_flops,
}


def step_flops(family: str, config: Config) -> int:
    """Matmul FLOPs of one training step: 3x forward (forward, grad-input, grad-weight).

    Layer 1 reads ``I`` features, the layers above read ``H`` (unidirectional; Jordan's
    output size is ``H`` here).
    """
    per_token = sum(
        FLOPS[family](config.size, config.size) for _ in range(config.layers)
    )  # I = H, so every layer has the same input width
    return 3 * config.tokens * per_token


# ---- variants -------------------------------------------------------------------------------
def raw_module(kind: type[nn.RNNBase]) -> Callable[[Config], nn.Module]:
    """Builder of a raw torch.nn recurrent module (``batch_first=True``)."""

    def build(config: Config) -> nn.Module:
        return kind(config.size, config.size, num_layers=config.layers, batch_first=True)

    return build


def rnnkit_layer(cell: str, **options: Any) -> Callable[[Config], nn.Module]:
    """Builder of ``rnnkit.Recurrent(cell, ..., **options)``."""

    def build(config: Config) -> nn.Module:
        return Recurrent(
            cell,
            input_size=config.size,
            hidden_size=config.size,
            num_layers=config.layers,
            **options,
        )

    return build


def variants() -> list[Variant]:
    """Every variant, in the round-robin order; the baseline comes first."""
    return [
        Variant(BASELINE, "lstm", raw_module(nn.LSTM), None, BASELINE),
        Variant("lstm auto (fast path)", "lstm", rnnkit_layer("lstm"), True, BASELINE),
        Variant("lstm loop", "lstm", rnnkit_layer("lstm", engine="loop"), False, BASELINE),
        Variant("lstm peephole", "lstm", rnnkit_layer("lstm", peephole=True), False, BASELINE),
        Variant("lstm layer_norm", "lstm", rnnkit_layer("lstm", layer_norm=True), False, BASELINE),
        Variant(
            "lstm recurrent_dropout=0.25",
            "lstm",
            rnnkit_layer("lstm", recurrent_dropout=0.25),
            False,
            BASELINE,
        ),
        Variant(
            "jordan feedback=hidden",
            "jordan",
            rnnkit_layer("jordan", feedback="hidden"),
            False,
            None,
        ),
        Variant("nn.GRU", "gru", raw_module(nn.GRU), None, "nn.GRU"),
        Variant("gru auto", "gru", rnnkit_layer("gru"), None, "nn.GRU"),
        Variant("gru loop", "gru", rnnkit_layer("gru", engine="loop"), False, "nn.GRU"),
        Variant("nn.RNN", "elman", raw_module(nn.RNN), None, "nn.RNN"),
        Variant("elman auto", "elman", rnnkit_layer("elman"), None, "nn.RNN"),
        Variant("elman loop", "elman", rnnkit_layer("elman", engine="loop"), False, "nn.RNN"),
    ]


def check_path(variant: Variant, module: nn.Module) -> bool | None:
    """Return ``module.uses_fused`` (None for raw torch.nn); fail if it is not the expected."""
    fused = getattr(module, "uses_fused", None)
    if variant.expect_fused is not None and fused != variant.expect_fused:
        raise RuntimeError(
            f"{variant.name}: expected uses_fused={variant.expect_fused}, got {fused}"
        )
    return fused


# ---- timing ---------------------------------------------------------------------------------
def train_step(module: nn.Module, x: Tensor) -> tuple[float, int]:
    """Time one forward + backward of ``out.sum()``: (seconds, minor page faults).

    Gradients are reset to None outside the timed region, so no step pays for accumulation.
    """
    module.zero_grad(set_to_none=True)
    x.grad = None
    faults, start = page_faults(), time.perf_counter()
    out = module(x)[0]
    out.sum().backward()
    return time.perf_counter() - start, page_faults() - faults


def time_config(config: Config, chosen: list[Variant], rounds: int) -> list[dict[str, Any]]:
    """In this process: build every variant, warm each up once, time them round-robin."""
    torch.manual_seed(0)
    x = torch.randn(config.batch, config.steps, config.size, requires_grad=True)
    modules = [variant.build(config).train() for variant in chosen]
    fused = [check_path(v, m) for v, m in zip(chosen, modules, strict=True)]
    first = [train_step(m, x)[0] for m in modules]
    times: list[list[float]] = [[] for _ in chosen]
    faults: list[list[int]] = [[] for _ in chosen]
    for _ in range(rounds):
        for i, module in enumerate(modules):
            seconds, step_faults = train_step(module, x)
            times[i].append(seconds)
            faults[i].append(step_faults)
    return _rows(config, chosen, first, times, fused, faults)


def _serve_variant(index: int, config: Config, keep_pages: bool, conn: Connection) -> None:
    """Worker process: build variant ``index`` and serve "step" -> (seconds, page faults)."""
    if keep_pages:
        keep_freed_pages()
    torch.manual_seed(0)
    x = torch.randn(config.batch, config.steps, config.size, requires_grad=True)
    variant = variants()[index]
    module = variant.build(config).train()
    fused = check_path(variant, module)
    conn.send("built")
    if conn.recv() != "warm up":
        return
    conn.send((train_step(module, x)[0], fused))
    while conn.recv() == "step":
        conn.send(train_step(module, x))
    conn.close()


def time_config_isolated(
    config: Config, chosen: list[Variant], rounds: int, gap: float, keep_pages: bool
) -> list[dict[str, Any]]:
    """Each variant in its own process, timed round-robin, one step at a time.

    Why: in one shared process a variant's page faults depend on what the variants before it
    left in the heap (the plain loop faulted nothing between the others and some 15,000
    pages a step on its own). A process of its own gives each the heap it would have in a
    user's training run. The ``gap`` before each step lets the other workers' idle threads
    stop spinning.
    """
    everyone = variants()
    ctx = mp.get_context("spawn")
    workers = []
    try:
        for variant in chosen:
            here, there = ctx.Pipe()
            index = [v.name for v in everyone].index(variant.name)
            proc = ctx.Process(
                target=_serve_variant, args=(index, config, keep_pages, there), daemon=True
            )
            proc.start()
            workers.append((proc, here))
        for _, conn in workers:  # every process built its module (they start together)
            conn.recv()
        ready = []
        for _, conn in workers:  # one warm-up at a time: the first-call cost, uncontended
            time.sleep(gap)
            conn.send("warm up")
            ready.append(conn.recv())
        times: list[list[float]] = [[] for _ in chosen]
        faults: list[list[int]] = [[] for _ in chosen]
        for _ in range(rounds):
            for i, (_, conn) in enumerate(workers):
                time.sleep(gap)
                conn.send("step")
                seconds, step_faults = conn.recv()
                times[i].append(seconds)
                faults[i].append(step_faults)
    finally:
        for proc, conn in workers:
            with contextlib.suppress(BrokenPipeError, OSError):
                conn.send("stop")
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()
    first = [r[0] for r in ready]
    fused = [r[1] for r in ready]
    return _rows(config, chosen, first, times, fused, faults)


def _rows(
    config: Config,
    chosen: list[Variant],
    first: list[float],
    times: list[list[float]],
    fused: list[bool | None],
    faults: list[list[int]],
) -> list[dict[str, Any]]:
    return [
        summarize(config, v, f, t, u) | {"page_faults_per_step": statistics.median(pf)}
        for v, f, t, u, pf in zip(chosen, first, times, fused, faults, strict=True)
    ]


def summarize(
    config: Config, variant: Variant, first: float, times: list[float], fused: bool | None
) -> dict[str, Any]:
    """One result row: median, throughput, GFLOP/s and the first-call overhead."""
    median = statistics.median(times)
    flops = step_flops(variant.family, config)
    return {
        "config": asdict(config),
        "variant": variant.name,
        "family": variant.family,
        "uses_fused": fused,
        "times_s": times,
        "median_s": median,
        "min_s": min(times),
        "max_s": max(times),
        "tokens_per_s": config.tokens / median,
        "gflop_per_step": flops / 1e9,
        "gflops": flops / median / 1e9,
        "first_call_s": first,
        "first_call_overhead_s": first - median,
        "raw": variant.raw,
    }


def paired_ratio(row: dict[str, Any], base: dict[str, Any]) -> float:
    """Median over rounds of ``row``'s GFLOP/s over ``base``'s in the same round.

    Each round times every variant back to back, so a slow episode of the machine hits both
    sides of a per-round ratio alike; the median of those ratios is steadier than a ratio of
    two medians (DESIGN.md, "Noise").
    """
    per_round = [tb / tv for tv, tb in zip(row["times_s"], base["times_s"], strict=True)]
    return row["gflop_per_step"] / base["gflop_per_step"] * statistics.median(per_round)


def add_ratios(rows: list[dict[str, Any]]) -> None:
    """Add GFLOP/s and time ratios vs nn.LSTM, and the GFLOP/s ratio vs the own raw module."""
    by_name = {row["variant"]: row for row in rows}
    base = by_name[BASELINE]
    for row in rows:
        own = by_name.get(row["raw"]) if row["raw"] else None
        row["ratio_gflops_vs_lstm"] = paired_ratio(row, base)
        row["ratio_time_vs_lstm"] = statistics.median(
            tv / tb for tv, tb in zip(row["times_s"], base["times_s"], strict=True)
        )
        row["ratio_gflops_vs_raw"] = paired_ratio(row, own) if own else None


# ---- output ---------------------------------------------------------------------------------
HEADER = (
    f"{'variant':<28} {'path':<5} {'ms/step':>8} {'spread':>7} {'tokens/s':>9} "
    f"{'GFLOP/s':>8} {'GF/LSTM':>8} {'t/LSTM':>7} {'GF/raw':>7} {'1st+ms':>8} {'faults':>7}"
)


def path_name(row: dict[str, Any]) -> str:
    """``torch`` for raw torch.nn, else ``fused`` or ``loop``."""
    if row["uses_fused"] is None:
        return "torch"
    return "fused" if row["uses_fused"] else "loop"


def format_row(row: dict[str, Any]) -> str:
    """One table line; spread is (max - min) / median of the timed rounds."""
    spread = (row["max_s"] - row["min_s"]) / row["median_s"]
    raw = row["ratio_gflops_vs_raw"]
    raw_text = f"{raw:.2f}" if raw is not None else "-"
    return (
        f"{row['variant']:<28} {path_name(row):<5} {row['median_s'] * 1e3:8.1f} "
        f"{spread:6.0%} {row['tokens_per_s']:9.0f} {row['gflops']:8.1f} "
        f"{row['ratio_gflops_vs_lstm']:8.2f} {row['ratio_time_vs_lstm']:7.2f} "
        f"{raw_text:>7} {row['first_call_overhead_s'] * 1e3:8.1f} "
        f"{row['page_faults_per_step']:7.0f}"
    )


def format_table(config: Config, rows: list[dict[str, Any]]) -> str:
    """The table of one configuration."""
    lines = [f"\n{config.label}  ({config.tokens} tokens/step)", HEADER, "-" * len(HEADER)]
    return "\n".join(lines + [format_row(row) for row in rows])


LEGEND = """\
ms/step: median forward+backward time; spread: (max-min)/median over the timed rounds;
GFLOP/s: the cell's own matmul FLOPs (3x forward) / median; GF/LSTM: GFLOP/s / nn.LSTM's;
t/LSTM: time / nn.LSTM's; GF/raw: GFLOP/s / the same family's raw torch.nn module; the
three ratios are medians of per-round ratios (each round times every variant back to back);
1st+ms: first (warm-up) call minus the median: the one-off cost, compilation included;
faults: median minor page faults per step."""


# ---- driver ---------------------------------------------------------------------------------
def git_revision() -> str | None:
    """``git describe``-style revision of the checkout (``-dirty`` if modified), or None."""
    try:
        done = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return done.stdout.strip() or None


def metadata(rounds: int, quick: bool, kept_pages: bool, isolated: bool) -> dict[str, Any]:
    """What the docs need to cite a result: versions, threads, machine, date."""
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "torch_version": torch.__version__,
        "rnnkit_version": rnnkit.__version__,
        "git_revision": git_revision(),
        "num_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "load_average_start": os.getloadavg(),  # other processes on the 2 cores skew timings
        "rounds": rounds,
        "quick": quick,
        "loss": "out.sum()",
        "dtype": "float32",
        "keep_freed_pages": kept_pages,
        "processes": "one per variant" if isolated else "one for all variants",
    }


def run(
    configs: tuple[Config, ...],
    rounds: int,
    isolated: bool = True,
    gap: float = 0.2,
    keep_pages: bool = False,
) -> list[dict[str, Any]]:
    """Time every configuration, print its table, and return all result rows."""
    rows: list[dict[str, Any]] = []
    for config in configs:
        if isolated:
            config_rows = time_config_isolated(config, variants(), rounds, gap, keep_pages)
        else:
            config_rows = time_config(config, variants(), rounds)
        add_ratios(config_rows)
        print(format_table(config, config_rows), flush=True)
        rows.extend(config_rows)
    return rows


def check_finite(rows: list[dict[str, Any]]) -> None:
    """Fail loudly if a median is not a positive finite number."""
    for row in rows:
        if not (math.isfinite(row["median_s"]) and row["median_s"] > 0):
            raise RuntimeError(f"{row['variant']}: bad median {row['median_s']!r}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options; ``--rounds`` defaults to 7 (3 with ``--quick``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rounds",
        type=int,
        default=None,
        help=f"timed rounds per variant (default 7; at least {MIN_ROUNDS})",
    )
    parser.add_argument("--json", type=Path, default=None, help="write all results to PATH")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="one tiny configuration (16, 20, 64, 1), 3 rounds: a smoke run",
    )
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="time every variant in this one process (the protocol before 2026-11-22)",
    )
    parser.add_argument(
        "--gap",
        type=float,
        default=0.2,
        help="seconds before each step with a process per variant (default 0.2)",
    )
    parser.add_argument(
        "--keep-freed-pages",
        action="store_true",
        help="ask glibc to keep freed memory (no page faults from reallocation)",
    )
    args = parser.parse_args(argv)
    if args.rounds is None:
        args.rounds = 3 if args.quick else 7
    elif args.rounds < (1 if args.quick else MIN_ROUNDS):
        parser.error(f"--rounds must be at least {MIN_ROUNDS} (1 with --quick), got {args.rounds}")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the tables and optionally write JSON."""
    args = parse_args(argv)
    kept = keep_freed_pages() if args.keep_freed_pages else False
    if args.keep_freed_pages and not kept:
        print("--keep-freed-pages: mallopt is unavailable here; timing with the default malloc")
    meta = metadata(args.rounds, args.quick, kept, not args.in_process)
    print(
        f"torch {meta['torch_version']}, {meta['num_threads']} threads, {args.rounds} rounds, "
        f"{meta['date']}, load average {meta['load_average_start'][0]:.2f}"
        + (", freed pages kept" if kept else "")
    )
    start = time.perf_counter()
    configs = QUICK_CONFIGS if args.quick else FULL_CONFIGS
    rows = run(configs, args.rounds, not args.in_process, args.gap, args.keep_freed_pages)
    meta["total_s"] = time.perf_counter() - start
    meta["load_average_end"] = os.getloadavg()
    check_finite(rows)
    print(
        f"\n{LEGEND}\ntotal {meta['total_s']:.1f} s, load average {meta['load_average_end'][0]:.2f}"
    )
    if args.json is not None:
        args.json.write_text(json.dumps({"meta": meta, "results": rows}, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
