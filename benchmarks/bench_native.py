"""The loop's steps on the native kernels against the same steps as torch code.

One process, freed pages kept (no page faults: compute only). Each round steps raw
``torch.nn.LSTM``, then every variant twice, once with the native kernels
(:mod:`rnnkit.cells.native`) and once with them switched off, all interleaved, so that the
machine's drifts hit both sides alike; medians of the per-round ratios to ``nn.LSTM`` are
reported (DESIGN.md, "Noise"), in achieved GFLOP/s as in bench_core (for the LSTM variants
that is the ratio of step times). One training step is forward + backward of ``out.sum()``.
Where gemm's backend is MKL, "native" runs whole sequences in C (``lstm_sequence.c``,
``jordan.c``); elsewhere the Python loop's steps on ``lstm.c`` (Jordan: the in-place tanh of
``squash.c``). Switched off, the torch code runs.

``--sequences`` compares instead the two native ways: the Python loop stepping through the
step kernels ("steps", :func:`rnnkit.cells.native.steps_only`) against whole sequences in C
("sequence").

Usage::

    python -m benchmarks.bench_native [--rounds 9] [--json PATH] [--quick] [--sequences]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import torch
from torch import nn

from benchmarks.bench_core import (
    FULL_CONFIGS,
    QUICK_CONFIGS,
    Config,
    rnnkit_layer,
    step_flops,
    train_step,
)
from benchmarks.common import commit, keep_freed_pages
from rnnkit.cells import native

VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {  # name: (cell, options)
    "loop": ("lstm", {"engine": "loop"}),
    "peephole": ("lstm", {"peephole": True}),
    "layer_norm": ("lstm", {"layer_norm": True}),
    "recurrent_dropout=0.25": ("lstm", {"recurrent_dropout": 0.25}),
    "jordan feedback=hidden": ("jordan", {"feedback": "hidden"}),
}


Switch = Callable[[], AbstractContextManager[Any]]


def compare_ways(
    config: Config,
    rounds: int,
    variants: dict[str, tuple[str, dict[str, Any]]],
    ways: dict[str, Switch],
) -> list[dict[str, Any]]:
    """Median step times and per-round ratios to nn.LSTM of every variant, each way.

    ``ways`` maps a name to a context manager factory under which a step runs that way (two
    ways: the first is the baseline of ``gain``). Rows: ``<way>_ms``, ``<way>_vs_lstm``, and
    ``gain``, the second way's ratio over the first's.
    """
    torch.manual_seed(0)
    x = torch.randn(config.batch, config.steps, config.size, requires_grad=True)
    base = nn.LSTM(config.size, config.size, config.layers, batch_first=True)
    layers = {name: rnnkit_layer(cell, **opts)(config) for name, (cell, opts) in variants.items()}
    # time ratio x FLOP ratio = GFLOP/s ratio
    work = {
        name: step_flops(cell, config) / step_flops("lstm", config)
        for name, (cell, _) in variants.items()
    }

    def step(module: nn.Module, way: str | None) -> float:
        if way is None:
            return train_step(module, x)[0]
        with ways[way]():
            return train_step(module, x)[0]

    sides = [(name, way) for name in layers for way in ways]
    for name, way in sides:  # warm-up, untimed
        step(layers[name], way)
    step(base, None)
    times: dict[tuple[str, str], list[float]] = {side: [] for side in sides}
    base_times: list[float] = []
    for _ in range(rounds):
        base_times.append(step(base, None))
        for name, way in sides:
            times[(name, way)].append(step(layers[name], way))
    first, second = ways
    rows = []
    for name in layers:
        row: dict[str, Any] = {"config": config.label, "variant": name}
        for way in ways:
            ts = times[(name, way)]
            row[f"{way}_ms"] = 1000 * statistics.median(ts)
            row[f"{way}_vs_lstm"] = statistics.median(
                work[name] * b / t for b, t in zip(base_times, ts, strict=True)
            )
        row["gain"] = row[f"{second}_vs_lstm"] / row[f"{first}_vs_lstm"]
        rows.append(row)
    return rows


def format_rows(rows: list[dict[str, Any]], ways: tuple[str, str]) -> str:
    """A markdown table of one configuration's rows, the two ways side by side."""
    first, second = ways
    lines = [
        f"**{rows[0]['config']}**",
        "",
        f"| variant | {first} ms | {second} ms | vs nn.LSTM, {first} | vs nn.LSTM, {second} "
        "| gain |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['variant']} | {r[f'{first}_ms']:.1f} | {r[f'{second}_ms']:.1f} | "
            f"{r[f'{first}_vs_lstm']:.2f} | {r[f'{second}_vs_lstm']:.2f} | {r['gain']:.2f}x |"
        )
    return "\n".join(lines)


WAYS: dict[str, Switch] = {
    "torch": lambda: native.switched_off("bench_native"),
    "native": contextlib.nullcontext,
}
SEQUENCE_WAYS: dict[str, Switch] = {
    "steps": native.steps_only,
    "sequence": contextlib.nullcontext,
}


def ab_parser(doc: str) -> argparse.ArgumentParser:
    """``--rounds``, ``--json`` and ``--quick``, as the A/B benchmarks take them."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=9, help="timed rounds (default 9)")
    parser.add_argument("--json", type=Path, default=None, help="write all results to PATH")
    parser.add_argument("--quick", action="store_true", help="one tiny configuration, 2 rounds")
    return parser


def parse_ab_arguments(argv: list[str] | None, doc: str) -> argparse.Namespace:
    """The arguments of :func:`ab_parser`."""
    return ab_parser(doc).parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print a table per configuration and optionally write JSON."""
    parser = ab_parser(__doc__)
    parser.add_argument(
        "--sequences", action="store_true", help="Python steps against whole sequences in C"
    )
    args = parser.parse_args(argv)
    ways = SEQUENCE_WAYS if args.sequences else WAYS
    if native.kernels() is None:
        print(f"native kernels are {native.status()}: nothing to compare")
        return 1
    if not keep_freed_pages():
        print("mallopt is unavailable here: timing with the default malloc")
    rounds = 2 if args.quick else args.rounds
    rows: list[dict[str, Any]] = []
    for config in QUICK_CONFIGS if args.quick else FULL_CONFIGS:
        config_rows = compare_ways(config, rounds, VARIANTS, ways)
        print(format_rows(config_rows, tuple(ways)) + "\n", flush=True)
        rows.extend(config_rows)
    if args.json is not None:
        meta = {"commit": commit(), "rounds": rounds, "torch_version": torch.__version__}
        args.json.write_text(json.dumps({"meta": meta, "results": rows}, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
