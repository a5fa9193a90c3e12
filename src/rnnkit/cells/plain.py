"""When a step must be written in plain torch operations only."""

from __future__ import annotations

import torch

__all__ = ["plain_torch"]


def plain_torch() -> bool:
    """Whether the cells must use plain, differentiable torch operations.

    True while autograd records (a direct call to a cell) and while ``torch.export`` traces
    a model (ONNX export, :mod:`rnnkit.tasks.common.onnx_export`): neither the C kernels, nor
    the oneDNN calls, nor the in-place tricks of the hand-written loop can be differentiated
    or traced. False inside the loop's own forward, which runs with autograd off and takes
    the fast paths.
    """
    return torch.is_grad_enabled() or torch.compiler.is_exporting()
