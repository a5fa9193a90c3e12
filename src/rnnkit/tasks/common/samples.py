"""Random padded batches: the example inputs that export traces and checks graphs with."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["padded_ids", "padded_lengths", "padded_steps"]


def padded_lengths(batch: int, length: int) -> Tensor:
    """(B,) int64 lengths in [1, T], the first exactly T (so the batch spans its time axis)
    and the others random: padding in every batch of more than one sequence but by chance."""
    lengths = torch.randint(1, length + 1, (batch,))
    lengths[0] = length
    return lengths


def padded_ids(lengths: Tensor, length: int, vocab_size: int, pad_id: int) -> Tensor:
    """(B, T) int64 random token ids other than ``pad_id``, and ``pad_id`` past each length."""
    ids = torch.randint(0, vocab_size - 1, (len(lengths), length))
    ids = ids + (ids >= pad_id).long()  # every id but the padding one
    valid = torch.arange(length) < lengths[:, None]
    return torch.where(valid, ids, torch.full_like(ids, pad_id))


def padded_steps(lengths: Tensor, length: int, features: int) -> Tensor:
    """(B, T, F) float32 random steps, and zeros past each length."""
    valid = torch.arange(length) < lengths[:, None]
    return torch.randn(len(lengths), length, features) * valid[..., None]
