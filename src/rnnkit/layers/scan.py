"""The time loop as one traced operator, for export.

``torch.export`` unrolls a Python ``for`` over time into a graph of fixed length; torch's
``scan`` operator keeps the loop a loop, and the ONNX exporter writes it as one ONNX ``Scan``
node whose body is the cell's step. The exported graph then takes any sequence length and
batch size, for every cell family (Jordan, peephole and layer-norm cells included), because
the body is the cell's own :meth:`~rnnkit.cells.Cell.step` in plain torch operations
(:func:`rnnkit.cells.plain.plain_torch` is true while exporting).

Forward only, evaluation only: no recurrent dropout, no hand-written backward.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch._higher_order_ops.scan import scan  # torch's control-flow operator (torch 2.13)

from rnnkit.cells.base import Cell
from rnnkit.state import State

__all__ = ["run_scan"]


def run_scan(
    cell: Cell, x: Tensor, state: State, valid: Tensor | None, mask: Tensor | None
) -> tuple[Tensor, State]:
    """Run ``cell`` over a time-major sequence as one scan; the same numbers as the loop.

    Same contract as :func:`rnnkit.layers.loop.run_loop`: past its length a sequence keeps
    its state and outputs zeros.

    Shapes:
        x (T, B, I), valid (T, B, 1) bool or None, state fields (B, K)
        -> outputs (T, B, O), final state fields (B, K).
    """
    if not torch.compiler.is_exporting():  # eager scan compiles the step: never faster
        raise ValueError("the 'scan' engine is for export (torch.onnx.export) only")
    if mask is not None:
        raise ValueError("the scan runs evaluation only: no recurrent dropout mask")
    xg = cell.project_input(x)  # (T, B, G)
    if valid is None:
        valid = torch.ones(x.shape[:2], dtype=torch.bool, device=x.device).unsqueeze(-1)

    def step(carry: tuple[Tensor, ...], inputs: tuple[Tensor, Tensor]) -> tuple:
        xg_t, v = inputs  # (B, G), (B, 1)
        old = cell.state_type(*carry)
        y, new, _ = cell.step(xg_t, old, None)
        kept = tuple(torch.where(v, n, o) for n, o in zip(new, old, strict=True))
        return kept, y * v  # fresh tensors: scan's outputs may not alias its inputs

    final, outputs = scan(step, tuple(state), (xg, valid))
    return outputs, cell.state_type(*final)
