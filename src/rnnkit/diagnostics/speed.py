"""How fast does a recurrent configuration train on this machine? (``rnnkit bench``)

Times one training step (forward, then backward of ``out.sum()`` with respect to the
parameters and the input) of an :class:`rnnkit.Recurrent` stack and, when torch has the same
cell (tanh/relu Elman, LSTM, GRU), of the matching ``torch.nn`` module with the same weights.
Rounds alternate between the two so the machine's drifts hit both alike; medians are
reported, and the ratio is the median of the per-round ratios. For the project's own
reproducible benchmarks see ``benchmarks/`` and ``docs/benchmarks.md``.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from rnnkit.layers import Recurrent

__all__ = ["SpeedReport", "measure"]

_TORCH_MODULES = {"lstm": nn.LSTM, "gru": nn.GRU, "elman": nn.RNN}


@dataclass
class SpeedReport:
    """Tokens per second of each variant (median over rounds) and their ratio.

    Attributes:
        variants: ``{name: tokens/s}``; ``rnnkit`` always, ``torch.nn`` when torch has the cell.
        path: ``fused`` or ``loop``: how rnnkit ran the stack.
        ratio: rnnkit / torch.nn, the median of per-round ratios (None without torch.nn).
        rounds: Timed rounds per variant.
        settings: The configuration measured.
    """

    variants: dict[str, float]
    path: str
    ratio: float | None
    rounds: int
    settings: dict[str, Any] = field(default_factory=dict)


def _torch_twin(layer: Recurrent, cell: str, options: dict[str, Any]) -> nn.Module | None:
    if not layer.uses_fused or cell not in _TORCH_MODULES:
        return None
    kwargs: dict[str, Any] = {}
    if cell == "elman":
        kwargs["nonlinearity"] = options.get("nonlinearity", "tanh")
    config = layer.config
    twin = _TORCH_MODULES[cell](
        config.input_size,
        config.hidden_size,
        num_layers=config.num_layers,
        bidirectional=config.bidirectional,
        batch_first=True,
        **kwargs,
    )
    twin.load_state_dict(layer.state_dict())
    return twin


def _time_steps(module: nn.Module, x: torch.Tensor, steps: int) -> float:
    tic = time.perf_counter()
    for _ in range(steps):
        out = module(x)[0]
        out.sum().backward()
        module.zero_grad(set_to_none=True)
        x.grad = None
    return time.perf_counter() - tic


def measure(
    cell: str = "lstm",
    *,
    input_size: int = 256,
    hidden_size: int = 256,
    num_layers: int = 1,
    bidirectional: bool = False,
    batch_size: int = 64,
    length: int = 100,
    steps: int = 5,
    rounds: int = 5,
    engine: str = "auto",
    **options: Any,
) -> SpeedReport:
    """Measures training-step throughput of one configuration (see the module docstring).

    Args:
        cell: Cell family; ``options`` are its options (``peephole``, ``layer_norm``, ...).
        input_size, hidden_size, num_layers, bidirectional: The stack.
        batch_size, length: One step's batch, ``(B, T)``.
        steps: Training steps per timed round.
        rounds: Timed rounds per variant (after one untimed warm-up round each).
        engine: ``auto``, ``fused`` or ``loop`` (see :class:`rnnkit.Recurrent`).

    Returns:
        A :class:`SpeedReport`.
    """
    layer = Recurrent(
        cell,
        input_size=input_size,
        hidden_size=hidden_size,
        num_layers=num_layers,
        bidirectional=bidirectional,
        engine=engine,
        **options,
    )
    variants: dict[str, nn.Module] = {"rnnkit": layer}
    twin = _torch_twin(layer, cell, options)
    if twin is not None:
        variants["torch.nn"] = twin
    x = torch.randn(batch_size, length, input_size, requires_grad=True)
    for module in variants.values():
        _time_steps(module, x, 1)  # warm-up: kernels chosen, memory allocated
    seconds: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, module in variants.items():
            seconds[name].append(_time_steps(module, x, steps))
    tokens = batch_size * length * steps
    ratio = None
    if twin is not None:
        ratio = statistics.median(
            t / r for r, t in zip(seconds["rnnkit"], seconds["torch.nn"], strict=True)
        )
    return SpeedReport(
        variants={name: tokens / statistics.median(s) for name, s in seconds.items()},
        path="fused" if layer.uses_fused else "loop",
        ratio=ratio,
        rounds=rounds,
        settings={
            "cell": cell,
            "input_size": input_size,
            "hidden_size": hidden_size,
            "num_layers": num_layers,
            "bidirectional": bidirectional,
            "batch_size": batch_size,
            "length": length,
            "steps": steps,
            "engine": engine,
            "threads": torch.get_num_threads(),
            **options,
        },
    )
