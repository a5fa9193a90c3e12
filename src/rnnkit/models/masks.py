"""Length masks: which steps of a padded batch are real."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["length_mask"]


def length_mask(lengths: Tensor, steps: int) -> Tensor:
    """(B, T) booleans: True at the real steps of each sequence, False on its padding.

    Shapes:
        lengths (B,) in [0, T] -> (B, T) bool.

    Example:
        >>> length_mask(torch.tensor([2, 3]), 3).tolist()
        [[True, True, False], [True, True, True]]
    """
    return torch.arange(steps, device=lengths.device)[None, :] < lengths[:, None]
