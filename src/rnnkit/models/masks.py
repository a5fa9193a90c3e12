"""Length masks: which steps of a padded batch are real."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["length_mask", "real_steps"]


def length_mask(lengths: Tensor, steps: int) -> Tensor:
    """(B, T) booleans: True at the real steps of each sequence, False on its padding.

    Shapes:
        lengths (B,) in [0, T] -> (B, T) bool.

    Example:
        >>> length_mask(torch.tensor([2, 3]), 3).tolist()
        [[True, True, False], [True, True, True]]
    """
    return torch.arange(steps, device=lengths.device)[None, :] < lengths[:, None]


def real_steps(lengths: Tensor | None, batch: int, steps: int, device: torch.device) -> Tensor:
    """(B, T) booleans of the real steps: :func:`length_mask`, or every step when
    ``lengths`` is None (a batch of full-length sequences)."""
    if lengths is None:
        return torch.ones(batch, steps, dtype=torch.bool, device=device)
    return length_mask(lengths.to(device), steps)
