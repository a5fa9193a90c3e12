"""Parameter converters between rnnkit's torch cells and the reference engine's params dicts.

Duck-typed: they only call ``named_parameters()`` and tensor methods, so this module needs no
torch import (the reference engine is NumPy only).

Example:
    >>> class Param:  # stands in for a torch parameter in this doctest
    ...     def __init__(self, a): self.a = a
    ...     def detach(self): return self
    ...     def cpu(self): return self
    ...     def numpy(self): return self.a
    >>> class Cell:
    ...     def named_parameters(self): return iter([("weight_ih", Param(np.ones((2, 3))))])
    >>> sorted(params_from_torch(Cell()))
    ['weight_ih']
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["params_from_torch", "params_to_torch"]


def params_from_torch(module: Any) -> dict[str, np.ndarray]:
    """``{name: array}`` copies of a module's parameters, names and shapes unchanged.

    The dtype is the module's: call ``module.double()`` first for float64 checks.
    """
    return {
        name: np.array(p.detach().cpu().numpy(), copy=True) for name, p in module.named_parameters()
    }


def params_to_torch(params: dict[str, np.ndarray], module: Any) -> None:
    """Copy ``params`` into the module's parameters in place (same names, same shapes).

    Raises:
        KeyError: if the names differ.
        ValueError: if a shape differs.
    """
    named = dict(module.named_parameters())
    if set(named) != set(params):
        raise KeyError(f"parameter names differ: module {sorted(named)}, params {sorted(params)}")
    for name, p in named.items():
        value = np.asarray(params[name])
        if tuple(value.shape) != tuple(p.shape):
            raise ValueError(f"{name}: shape {value.shape} != module's {tuple(p.shape)}")
        # new_tensor keeps the parameter's dtype and device without importing torch here
        p.data.copy_(p.data.new_tensor(value))
