"""Attention over a memory of vectors: additive (Bahdanau et al. 2015) and dot-product
(Luong et al. 2015), for any model that reads a sequence and looks back at it.

A query ``q`` (B, Q) scores every memory entry ``m_s`` (B, S, K); the scores become weights
by a softmax over each sequence's real entries (padding gets weight 0), and the context is
the weighted sum of the entries:

    additive:  score(q, m_s) = vᵀ tanh(W_q q + W_m m_s + b)
    dot:       score(q, m_s) = qᵀ m_s              (Q = K)
    general:   score(q, m_s) = qᵀ W m_s
    a = softmax_s(score),   c = Σ_s a_s m_s

A translation decoder calls one of them at every step with its state as the query and the
encoder's outputs as the memory.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from rnnkit.models.masks import length_mask

__all__ = ["AdditiveAttention", "Attended", "DotAttention", "attend"]


class Attended(NamedTuple):
    """The context (B, K) and the weights (B, S) it was made with."""

    context: Tensor
    weights: Tensor


def attend(scores: Tensor, memory: Tensor, lengths: Tensor | None) -> Attended:
    """Softmax of ``scores`` over each sequence's real entries, and the weighted memory.

    Shapes:
        scores (B, S), memory (B, S, K), lengths (B,) in [1, S] or None -> context (B, K),
        weights (B, S), zero past each length.

    Example:
        >>> memory = torch.tensor([[[1.0], [3.0], [100.0]]])
        >>> out = attend(torch.zeros(1, 3), memory, torch.tensor([2]))
        >>> out.weights.tolist(), out.context.tolist()
        ([[0.5, 0.5, 0.0]], [[2.0]])
    """
    if lengths is not None:
        mask = length_mask(lengths.to(scores.device), scores.size(1))
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=1)  # (B, S)
    return Attended(torch.bmm(weights[:, None, :], memory)[:, 0], weights)


class AdditiveAttention(nn.Module):
    """``score(q, m_s) = vᵀ tanh(W_q q + W_m m_s + b)`` (Bahdanau et al. 2015).

    Args:
        query_size: ``Q``.
        memory_size: ``K``.
        size: Width of the scorer's hidden layer.

    Shapes:
        query (B, Q), memory (B, S, K), lengths (B,) or None -> context (B, K), weights (B, S).
        ``keys`` is :meth:`keys` of the same memory, computed once when many queries (a
        decoder's steps) read one memory.
    """

    def __init__(self, query_size: int, memory_size: int, size: int) -> None:
        super().__init__()
        self.query = nn.Linear(query_size, size, bias=False)
        self.memory = nn.Linear(memory_size, size)
        self.score = nn.Linear(size, 1, bias=False)

    def keys(self, memory: Tensor) -> Tensor:
        """``W_m m_s + b`` (B, S, size): the part of every score that depends on the memory."""
        return self.memory(memory)

    def forward(
        self,
        query: Tensor,
        memory: Tensor,
        lengths: Tensor | None = None,
        keys: Tensor | None = None,
    ) -> Attended:
        keys = self.keys(memory) if keys is None else keys
        hidden = torch.tanh(self.query(query)[:, None, :] + keys)  # (B, S, size)
        return attend(self.score(hidden)[..., 0], memory, lengths)


class DotAttention(nn.Module):
    """``score = qᵀ m_s`` (``general=False``, Q = K) or ``qᵀ W m_s`` (Luong et al. 2015).

    Args:
        query_size: ``Q``.
        memory_size: ``K``.
        general: Learn ``W`` (K, Q); else the plain dot product, which needs ``Q == K``.

    Shapes:
        query (B, Q), memory (B, S, K), lengths (B,) or None -> context (B, K), weights (B, S);
        ``keys`` as for :class:`AdditiveAttention`.

    Raises:
        ValueError: The plain dot product with ``Q != K``.
    """

    def __init__(self, query_size: int, memory_size: int, *, general: bool = True) -> None:
        super().__init__()
        if not general and query_size != memory_size:
            raise ValueError(
                f"the dot score needs query_size == memory_size, got {query_size} and "
                f"{memory_size}; use general=True"
            )
        self.weight = nn.Linear(memory_size, query_size, bias=False) if general else None

    def keys(self, memory: Tensor) -> Tensor:
        """``W m_s`` (B, S, Q), or the memory itself for the plain dot product."""
        return memory if self.weight is None else self.weight(memory)

    def forward(
        self,
        query: Tensor,
        memory: Tensor,
        lengths: Tensor | None = None,
        keys: Tensor | None = None,
    ) -> Attended:
        keys = self.keys(memory) if keys is None else keys  # (B, S, Q)
        scores = torch.bmm(keys, query[:, :, None])[..., 0]  # (B, S)
        return attend(scores, memory, lengths)
