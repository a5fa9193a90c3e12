"""Bidirectional composition: the backward direction reads each sequence right to left,
within its own length, so padding stays at the end and never reaches a real step first."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from rnnkit.cells.base import Cell
from rnnkit.layers.loop import run_loop
from rnnkit.state import State

__all__ = ["TimeLoop", "reverse_within_lengths", "run_directions"]

# One direction of one layer over time: (cell, x, state, valid, mask) -> (outputs, final).
TimeLoop = Callable[[Cell, Tensor, State, Tensor | None, Tensor | None], tuple[Tensor, State]]


def reverse_within_lengths(x: Tensor, lengths: Tensor | None) -> Tensor:
    """Reverse each sequence of a time-major batch within its own length.

    Step ``t < L_b`` of sequence ``b`` goes to ``L_b - 1 - t``; padded steps stay put. The map
    is its own inverse, so the same call restores the original order.

    Shapes:
        x (T, B, F), lengths (B,) -> (T, B, F)

    Example:
        >>> x = torch.arange(4.0).view(4, 1, 1).repeat(1, 2, 1)
        >>> reverse_within_lengths(x, torch.tensor([4, 2]))[:, :, 0].t().tolist()
        [[3.0, 2.0, 1.0, 0.0], [1.0, 0.0, 2.0, 3.0]]
    """
    if lengths is None:
        return x.flip(0)
    T = x.size(0)
    t = torch.arange(T, device=x.device).unsqueeze(1)  # (T, 1)
    ends = lengths.to(x.device).unsqueeze(0)  # (1, B)
    index = torch.where(t < ends, ends - 1 - t, t)  # (T, B)
    return x.gather(0, index.unsqueeze(-1).expand_as(x))


def run_directions(
    cells: Sequence[Cell],
    x: Tensor,
    states: Sequence[State],
    lengths: Tensor | None,
    valid: Tensor | None,
    loop: TimeLoop = run_loop,
) -> tuple[Tensor, list[State]]:
    """Run one layer's forward cell (and backward cell, if two are given) over ``x``, with
    ``loop`` (the hand-written loop, or :func:`rnnkit.layers.scan.run_scan` for export).

    Shapes:
        x (T, B, I) -> outputs (T, B, D*O), D = len(cells); one final state per direction.
    """
    outputs, finals = [], []
    for direction, (cell, state) in enumerate(zip(cells, states, strict=True)):
        source = reverse_within_lengths(x, lengths) if direction else x
        mask = cell.sample_dropout_mask(x.size(1))
        out, final = loop(cell, source, state, valid, mask)
        outputs.append(reverse_within_lengths(out, lengths) if direction else out)
        finals.append(final)
    return torch.cat(outputs, dim=-1) if len(outputs) > 1 else outputs[0], finals
