"""Shared test cases: every cell family and option the core supports."""

from __future__ import annotations

import torch

import rnnkit

# (cell, options) for every family and option; ids name them in test reports.
CELL_CASES: list[tuple[str, dict]] = [
    ("elman", {}),
    ("elman", {"nonlinearity": "relu"}),
    ("elman", {"nonlinearity": "relu", "identity_init": True}),
    ("jordan", {"feedback": "hidden"}),
    ("jordan", {"feedback": "output", "output_size": 3}),
    ("jordan", {"feedback": "both", "output_activation": "identity"}),
    ("jordan", {"feedback": "both", "output_activation": "sigmoid", "nonlinearity": "relu"}),
    ("jordan", {"feedback": "hidden", "output_activation": "softmax", "output_size": 3}),
    ("lstm", {}),
    ("lstm", {"peephole": True}),
    ("lstm", {"layer_norm": True}),
    ("lstm", {"peephole": True, "layer_norm": True}),
    ("lstm", {"forget_bias": 0.0}),
    ("gru", {}),
    ("gru", {"layer_norm": True}),
]
# Recurrent dropout is an option of every family.
CELL_CASES += [(cell, {"recurrent_dropout": 0.3}) for cell in ("elman", "jordan", "lstm", "gru")]


def case_id(case: tuple[str, dict]) -> str:
    cell, options = case
    return "-".join([cell, *(f"{k}={v}" for k, v in options.items())])


def perturb_(module: torch.nn.Module, seed: int = 0) -> None:
    """Randomise every parameter (gains and biases too), so no option hides behind its init."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.rand(p.shape, generator=gen, dtype=p.dtype) * 0.8 - 0.4)
            if p.dim() == 1 and p.numel() and "ln" in _name_of(module, p):
                p.add_(1.0)  # layer-norm gains near 1


def _name_of(module: torch.nn.Module, param: torch.nn.Parameter) -> str:
    return next(n for n, q in module.named_parameters() if q is param)


def make_layer(cell: str, options: dict, **kwargs) -> rnnkit.Recurrent:
    defaults = {"input_size": 3, "hidden_size": 4}
    return rnnkit.Recurrent(cell, **{**defaults, **kwargs}, **options)
