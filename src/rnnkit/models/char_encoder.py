"""A word from its characters: one vector per word, for taggers whose words may be rare or
unseen (the suffix "-ville" says LOC, a capital says a name).

- ``lstm``: a bidirectional LSTM over the word's characters; the vector is its last forward
  state next to its last backward state (Lample et al. 2016).
- ``cnn``: a convolution over character windows, max-pooled over the word (Ma & Hovy 2016).

Shapes:
    chars (B, T, W) int64 character ids (0 is padding), lengths (B, T) characters per word
    (0 for a padded word) -> (B, T, output_size), zero for a padded word.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

from rnnkit.config import StackConfig
from rnnkit.layers import Recurrent
from rnnkit.models.masks import length_mask
from rnnkit.models.pooling import pool

__all__ = ["CharEncoder"]


class CharEncoder(nn.Module):
    """Characters -> one vector per word, by a BiLSTM or a CNN (see the module docstring).

    Args:
        num_chars: Character vocabulary size (id 0 is padding).
        kind: ``lstm`` or ``cnn``.
        embedding_size: Width of each character's vector.
        size: Hidden size per direction (``lstm``) or number of filters (``cnn``).
        kernel: Characters per window (``cnn``).
    """

    def __init__(
        self,
        num_chars: int,
        kind: Literal["lstm", "cnn"],
        *,
        embedding_size: int = 25,
        size: int = 25,
        kernel: int = 3,
    ) -> None:
        super().__init__()
        if kind not in ("lstm", "cnn"):
            raise ValueError(f"kind must be 'lstm' or 'cnn', got {kind!r}")
        self.kind = kind
        self.embedding = nn.Embedding(num_chars, embedding_size, padding_idx=0)
        if kind == "lstm":
            stack = StackConfig(cell="lstm", hidden_size=size, bidirectional=True)
            self.rnn = Recurrent.from_config(stack.reading(embedding_size))
            self.output_size = 2 * size
        else:
            self.conv = nn.Conv1d(embedding_size, size, kernel, padding=kernel // 2)
            self.output_size = size

    def forward(self, chars: Tensor, lengths: Tensor) -> Tensor:
        B, T, W = chars.shape
        flat, flat_lengths = chars.reshape(B * T, W), lengths.reshape(B * T)  # words as rows
        if torch.compiler.is_exporting():  # a traced graph cannot select rows by their values
            real = (flat_lengths > 0)[:, None]  # padding words: encoded as one char, zeroed
            encoded = self._encode(flat, flat_lengths.clamp_min(1))
            return (encoded * real).view(B, T, self.output_size)
        real = flat_lengths > 0
        out = torch.zeros(B * T, self.output_size, device=chars.device)
        if bool(real.any()):
            out[real] = self._encode(flat[real], flat_lengths[real]).to(out.dtype)
        return out.view(B, T, self.output_size)

    def _encode(self, chars: Tensor, lengths: Tensor) -> Tensor:
        embedded = self.embedding(chars)  # (N, W, E)
        if self.kind == "lstm":
            outputs, _ = self.rnn(embedded, lengths=lengths.cpu())
            return pool(outputs, lengths, "last", directions=2)  # (N, 2H)
        features = torch.relu(self.conv(embedded.transpose(1, 2))).transpose(1, 2)  # (N, W, F)
        mask = length_mask(lengths, chars.size(1))[..., None]
        return features.masked_fill(~mask, float("-inf")).amax(dim=1)  # (N, F)
