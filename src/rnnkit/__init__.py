"""rnnkit: recurrent neural networks from the textbook equations to production.

The public names below load lazily (PEP 562), so ``import rnnkit.reference`` — the NumPy
engine — never pulls in torch, and ``rnnkit --version`` starts fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "CELLS": "rnnkit.cells",
    "Cell": "rnnkit.cells",
    "ElmanCell": "rnnkit.cells",
    "GRUCell": "rnnkit.cells",
    "JordanCell": "rnnkit.cells",
    "LSTMCell": "rnnkit.cells",
    "make_cell": "rnnkit.cells",
    "ConfigError": "rnnkit.config",
    "RecurrentConfig": "rnnkit.config",
    "Recurrent": "rnnkit.layers",
    "JordanState": "rnnkit.state",
    "LSTMState": "rnnkit.state",
    "RNNState": "rnnkit.state",
    "load": "rnnkit.tasks",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'rnnkit' has no attribute {name!r}")
    value = getattr(import_module(_EXPORTS[name]), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
