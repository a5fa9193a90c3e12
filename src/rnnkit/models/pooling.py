"""Pooling: a sequence's recurrent outputs ``o_1 .. o_T`` into one vector ``u``.

Over the ``T_b`` real steps of each sequence (padding never counts):

- ``last``: the state after the last real step; for a bidirectional stack, the forward
  direction's output at ``T_b`` next to the backward direction's output at step 1 (each
  direction's "last" step);
- ``mean``: ``(1/T_b) Σ_t o_t``;
- ``max``: the element-wise maximum over time (Conneau et al. 2017);
- ``concat``: ``[last; max; mean]``, three times as wide (the "concat pooling" of Howard &
  Ruder 2018: the final state, and the strongest and average evidence anywhere in the text);
- ``attention``: ``a_t = softmax_t(vᵀ tanh(W o_t + b))``, ``u = Σ_t a_t o_t`` (the word-level
  attention of Yang et al. 2016), learned with the rest of the model
  (:class:`AttentionPooling`).
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

from rnnkit.models.masks import length_mask

__all__ = ["POOLINGS", "AttentionPooling", "Pooling", "pool"]

Pooling = Literal["last", "mean", "max", "concat", "attention"]
POOLINGS: tuple[str, ...] = ("last", "mean", "max", "concat", "attention")


def pool(outputs: Tensor, lengths: Tensor | None, how: str, directions: int = 1) -> Tensor:
    """Pools recurrent outputs over each sequence's real steps (``last``, ``mean``, ``max`` or
    ``concat``).

    Args:
        outputs: (B, T, D*K), zero past each sequence's length (as :class:`Recurrent` gives).
        lengths: (B,) in [1, T], or None when every sequence has T steps.
        how: ``"last"``, ``"mean"``, ``"max"`` or ``"concat"`` (the three side by side).
        directions: ``D``; with 2, ``last`` takes the backward half at step 1.

    Shapes:
        outputs (B, T, D*K), lengths (B,) -> (B, D*K); ``concat``: (B, 3*D*K).

    Example:
        >>> out = torch.tensor([[[1.0], [3.0], [0.0]], [[2.0], [-1.0], [5.0]]])
        >>> lengths = torch.tensor([2, 3])
        >>> [pool(out, lengths, how)[:, 0].tolist() for how in ("last", "mean", "max")]
        [[3.0, 5.0], [2.0, 2.0], [3.0, 5.0]]
    """
    B, T, width = outputs.shape
    if lengths is None:
        lengths = torch.full((B,), T, dtype=torch.long)
    lengths = lengths.to(outputs.device)
    if how == "last":
        last = outputs[torch.arange(B, device=outputs.device), lengths - 1]  # (B, D*K)
        if directions == 1:
            return last
        half = width // 2  # the backward direction's "last" step is the first one
        return torch.cat([last[:, :half], outputs[:, 0, half:]], dim=1)
    if how == "mean":
        return outputs.sum(dim=1) / lengths[:, None].to(outputs.dtype)
    if how == "max":
        return outputs.masked_fill(~length_mask(lengths, T)[:, :, None], float("-inf")).amax(dim=1)
    if how == "concat":
        parts = [pool(outputs, lengths, part, directions) for part in ("last", "max", "mean")]
        return torch.cat(parts, dim=1)
    raise ValueError(f"how must be one of 'last', 'mean', 'max', 'concat', got {how!r}")


class AttentionPooling(nn.Module):
    """Learned attention over time: ``a = softmax_t(vᵀ tanh(W o_t + b))``, ``u = Σ_t a_t o_t``.

    Args:
        width: Width of each output ``o_t``.
        size: Width of the scorer's hidden layer.

    Shapes:
        outputs (B, T, width), lengths (B,) or None -> (B, width); :meth:`weights` gives
        ``a`` (B, T), zero past each length.
    """

    def __init__(self, width: int, size: int) -> None:
        super().__init__()
        self.project = nn.Linear(width, size)
        self.score = nn.Linear(size, 1, bias=False)

    def weights(self, outputs: Tensor, lengths: Tensor | None) -> Tensor:
        """The attention distribution over each sequence's real steps: (B, T)."""
        scores = self.score(torch.tanh(self.project(outputs)))[..., 0]  # (B, T)
        if lengths is not None:
            mask = length_mask(lengths.to(outputs.device), outputs.size(1))
            scores = scores.masked_fill(~mask, float("-inf"))
        return torch.softmax(scores, dim=1)

    def forward(self, outputs: Tensor, lengths: Tensor | None = None) -> Tensor:
        weights = self.weights(outputs, lengths)  # (B, T)
        return torch.bmm(weights[:, None, :], outputs)[:, 0]  # (B, width)
