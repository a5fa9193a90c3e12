"""Deep (stacked) composition for the loop path: layer ``l`` reads layer ``l-1``'s outputs,
with dropout between layers (not after the last), as ``torch.nn.LSTM(dropout=...)`` does."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torch.nn import functional as F

from rnnkit.cells.base import Cell
from rnnkit.layers.bidirectional import TimeLoop, run_directions
from rnnkit.layers.loop import run_loop
from rnnkit.state import State

__all__ = ["run_stack"]


def run_stack(
    cells: Sequence[Cell],
    x: Tensor,
    lengths: Tensor | None,
    state: State,
    *,
    num_layers: int,
    dropout: float,
    training: bool,
    loop: TimeLoop = run_loop,
) -> tuple[Tensor, State]:
    """Run ``num_layers`` layers of one or two directions each, time-major, each direction
    with ``loop``.

    Args:
        cells: ``num_layers * D`` cells, layer-major, direction-minor.
        x: (T, B, I).
        lengths: (B,) or None when every sequence is full.
        state: initial state, fields (L*D, B, K).

    Returns:
        ``(outputs (T, B, D*O), final state with fields (L*D, B, K))``; outputs past each
        sequence's length are zero.
    """
    D = len(cells) // num_layers
    valid = None
    if lengths is not None:
        steps = torch.arange(x.size(0), device=x.device).unsqueeze(1)  # (T, 1)
        valid = (steps < lengths.to(x.device).unsqueeze(0)).unsqueeze(-1)  # (T, B, 1)
    per_cell = [state_type_slice(state, k) for k in range(len(cells))]
    finals: list[State] = []
    for layer in range(num_layers):
        if layer and dropout:
            x = F.dropout(x, dropout, training)
        group = slice(layer * D, (layer + 1) * D)
        x, layer_finals = run_directions(cells[group], x, per_cell[group], lengths, valid, loop)
        finals.extend(layer_finals)
    final = type(state)(*(torch.stack(fields) for fields in zip(*finals, strict=True)))
    return x, final


def state_type_slice(state: State, k: int) -> State:
    """The state of cell ``k``: fields (L*D, B, K) -> (B, K)."""
    return type(state)(*(field[k] for field in state))
