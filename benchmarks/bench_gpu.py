"""Training-step throughput of rnnkit's recurrent layers against ``torch.nn`` on a CUDA GPU.

The same variants, FLOP counts and ratios as :mod:`benchmarks.bench_core`, timed on the GPU:
one training step is forward plus backward of ``out.sum()`` with respect to the parameters
and the input, batch-first, timed with CUDA events around the step (gradients are reset
outside it). Every variant is warmed up, then the variants are timed round-robin, one step at
a time, and medians are reported. Two numeric modes:

- ``float32``: torch's defaults, as a user gets them. cuDNN's recurrent kernels may use TF32
  tensor cores (``torch.backends.cudnn.allow_tf32`` is on by default) while ``torch.mm``, which
  the generic loop uses, stays in full float32 (``torch.backends.cuda.matmul.allow_tf32`` is off).
- ``bf16``: the step under ``torch.autocast("cuda", torch.bfloat16)``, as ``--bf16`` trains.
  The generic loop keeps its recurrence in float32 (:mod:`rnnkit.layers.loop`).

Usage::

    python -m benchmarks.bench_gpu [--rounds 20] [--json PATH] [--quick] [--modes float32,bf16]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
from pathlib import Path
from typing import Any

import torch
from torch import nn

from benchmarks.bench_core import (
    FULL_CONFIGS,
    QUICK_CONFIGS,
    Config,
    Variant,
    add_ratios,
    check_path,
    git_revision,
    path_name,
    summarize,
    variants,
)

# A size that gives a GPU more to do than the CPU configurations: the loop's per-step launches
# matter less when each step's products are large.
LARGE = Config(128, 100, 1024, 2)
WARMUP_STEPS = 3
MODES = ("float32", "bf16")


def _autocast(mode: str) -> contextlib.AbstractContextManager:
    if mode == "bf16":
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def gpu_step(module: nn.Module, x: torch.Tensor, mode: str) -> float:
    """Seconds of one forward + backward of ``out.sum()``, timed with CUDA events."""
    module.zero_grad(set_to_none=True)
    x.grad = None
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    with _autocast(mode):
        out = module(x)[0]
        loss = out.float().sum()
    loss.backward()
    end.record()
    end.synchronize()
    return start.elapsed_time(end) / 1e3


def time_config(config: Config, mode: str, rounds: int) -> list[dict[str, Any]]:
    """Build every variant on the GPU, warm each up, time them round-robin; result rows."""
    torch.manual_seed(0)
    chosen: list[Variant] = variants()
    x = torch.randn(config.batch, config.steps, config.size, device="cuda", requires_grad=True)
    modules = [v.build(config).cuda().train() for v in chosen]
    fused = [check_path(v, m) for v, m in zip(chosen, modules, strict=True)]
    first = [gpu_step(m, x, mode) for m in modules]
    for module in modules:
        for _ in range(WARMUP_STEPS - 1):
            gpu_step(module, x, mode)
    times: list[list[float]] = [[] for _ in chosen]
    for _ in range(rounds):
        for i, module in enumerate(modules):
            times[i].append(gpu_step(module, x, mode))
    rows = [
        summarize(config, v, f, t, u) | {"mode": mode}
        for v, f, t, u in zip(chosen, first, times, fused, strict=True)
    ]
    add_ratios(rows)
    return rows


def format_table(config: Config, mode: str, rows: list[dict[str, Any]]) -> str:
    """One configuration's table: time, throughput and the ratios against nn.LSTM."""
    header = (
        f"{'variant':<28} {'path':<5} {'ms/step':>8} {'tokens/s':>10} {'GFLOP/s':>8} "
        f"{'GF/LSTM':>8} {'GF/raw':>7}"
    )
    lines = [f"\n{config.label}, {mode}  ({config.tokens} tokens/step)", header, "-" * len(header)]
    for row in rows:
        raw = row["ratio_gflops_vs_raw"]
        lines.append(
            f"{row['variant']:<28} {path_name(row):<5} {row['median_s'] * 1e3:8.2f} "
            f"{row['tokens_per_s']:10.0f} {row['gflops']:8.0f} "
            f"{row['ratio_gflops_vs_lstm']:8.2f} {(f'{raw:.2f}' if raw else '-'):>7}"
        )
    return "\n".join(lines)


def metadata(rounds: int) -> dict[str, Any]:
    """Device, versions and settings, for the docs."""
    props = torch.cuda.get_device_properties(0)
    return {
        "device": props.name,
        "multiprocessors": props.multi_processor_count,
        "torch_version": torch.__version__,
        "cuda_version": torch.version.cuda,
        "cudnn_version": torch.backends.cudnn.version(),
        "cudnn_allow_tf32": torch.backends.cudnn.allow_tf32,
        "matmul_allow_tf32": torch.backends.cuda.matmul.allow_tf32,
        "git_revision": git_revision(),
        "rounds": rounds,
        "loss": "out.sum()",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--json", type=Path, help="write every row and the metadata here")
    parser.add_argument("--quick", action="store_true", help="one tiny configuration")
    parser.add_argument("--modes", default=",".join(MODES), help="float32, bf16 or both")
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        parser.error("no CUDA device: this benchmark times the GPU (bench_core times the CPU)")
    configs = QUICK_CONFIGS if args.quick else (*FULL_CONFIGS, LARGE)
    rows: list[dict[str, Any]] = []
    modes = args.modes.split(",")
    if not set(modes) <= set(MODES):
        parser.error(f"--modes: expected some of {MODES}, got {args.modes!r}")
    for mode in modes:
        for config in configs:
            config_rows = time_config(config, mode, args.rounds)
            print(format_table(config, mode, config_rows), flush=True)
            rows.extend(config_rows)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        result = {"meta": metadata(args.rounds), "results": rows}
        args.json.write_text(json.dumps(result, indent=1))
    medians = [statistics.median(r["times_s"]) for r in rows]
    assert all(m > 0 for m in medians), "a step took no time: the timing is broken"
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
