"""Token embeddings: learned or pretrained, frozen or trained, with word-type dropout.

Every text model embeds its tokens with :class:`TokenEmbedding`, so each gets the same options
and the same parameter name (``embedding.weight``, as ``torch.nn.Embedding``): a language
model's embedding copies into a classifier's row for row, and runs saved before this module
existed load unchanged.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["TokenEmbedding", "drop_word_types"]


def drop_word_types(weight: Tensor, p: float, training: bool) -> Tensor:
    """The embedding matrix with each row (word type) zeroed with probability ``p``.

    Every occurrence of a dropped word in the batch disappears together (Gal & Ghahramani
    2016); kept rows are scaled by ``1 / (1 - p)`` so the expectation is unchanged. Outside
    training, or with ``p = 0``, ``weight`` itself.

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


class TokenEmbedding(nn.Embedding):
    """Token ids to vectors, ``e_t = E[x_t]``, with whole word types dropped in training.

    Args:
        vocab_size: ``V``.
        size: ``E``, the width of each vector.
        word_dropout: Probability of dropping a word type's row for a whole batch
            (:func:`drop_word_types`).
        padding_idx: Row kept at zero and never trained (the padding token), or None.
        frozen: Keep the matrix fixed (pretrained vectors used as they are).

    Shapes:
        ids (...) int64 -> (..., E).

    Example:
        >>> _ = torch.manual_seed(0)
        >>> emb = TokenEmbedding(10, 4, padding_idx=0, frozen=True)
        >>> emb(torch.tensor([[0, 3]])).shape, emb.weight.requires_grad
        (torch.Size([1, 2, 4]), False)
    """

    def __init__(
        self,
        vocab_size: int,
        size: int,
        *,
        word_dropout: float = 0.0,
        padding_idx: int | None = None,
        frozen: bool = False,
    ) -> None:
        super().__init__(vocab_size, size, padding_idx=padding_idx)
        self.word_dropout = word_dropout
        self.weight.requires_grad_(not frozen)

    def forward(self, ids: Tensor) -> Tensor:
        weight = drop_word_types(self.weight, self.word_dropout, self.training)
        return F.embedding(ids, weight, padding_idx=self.padding_idx)

    @torch.no_grad()
    def load_vectors(self, matrix: np.ndarray | Tensor) -> None:
        """Copies pretrained vectors (V, E), one row per token id, into the matrix.

        Raises:
            ValueError: ``matrix`` is not (V, E).
        """
        values = torch.as_tensor(matrix, dtype=self.weight.dtype)
        if tuple(values.shape) != tuple(self.weight.shape):
            raise ValueError(
                f"expected vectors of shape {tuple(self.weight.shape)}, got {tuple(values.shape)}"
            )
        self.weight.copy_(values)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", word_dropout={self.word_dropout}"
