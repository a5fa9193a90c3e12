"""Embedding dropout: whole word types dropped at once (Gal & Ghahramani 2016)."""

from __future__ import annotations

from torch import Tensor

__all__ = ["drop_word_types"]


def drop_word_types(weight: Tensor, p: float, training: bool) -> Tensor:
    """The embedding matrix with each row (word type) zeroed with probability ``p``.

    Every occurrence of a dropped word in the batch disappears together; kept rows are scaled
    by ``1 / (1 - p)`` so the expectation is unchanged. Outside training, or with ``p = 0``,
    ``weight`` itself.

    Shapes:
        weight (V, E) -> (V, E).

    Example:
        >>> import torch
        >>> w = torch.ones(1000, 2)
        >>> dropped = drop_word_types(w, 0.5, training=True)
        >>> sorted(set(dropped[:, 0].tolist())), bool((dropped[:, 0] == dropped[:, 1]).all())
        ([0.0, 2.0], True)
        >>> drop_word_types(w, 0.5, training=False) is w
        True
    """
    if not training or p <= 0:
        return weight
    keep = weight.new_empty(weight.shape[0], 1).bernoulli_(1 - p) / (1 - p)
    return weight * keep
