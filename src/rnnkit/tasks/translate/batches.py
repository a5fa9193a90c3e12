"""Translation batches: pairs of id sequences, padded, bucketed by source length, with the
decoder's input and targets (see :mod:`rnnkit.tasks.translate.tokens`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch

from rnnkit.data.batching import batch_indices

__all__ = ["Encoded", "TranslateBatch", "collate", "make_batches"]


class Encoded(NamedTuple):
    """Pairs as ids: each source sentence's and each target sentence's tokens (no ``<eos>``)."""

    src: list[list[int]]
    tgt: list[list[int]]


class TranslateBatch(NamedTuple):
    """One padded batch (padding id 0 on both sides).

    Shapes:
        src (B, S) int64; src_lengths (B,) int64; tgt_in (B, T) int64, ``<eos> y_1 .. y_n``;
        tgt_out (B, T) int64, ``y_1 .. y_n <eos>`` (T = longest target + 1).
    """

    src: torch.Tensor
    src_lengths: torch.Tensor
    tgt_in: torch.Tensor
    tgt_out: torch.Tensor


def make_batches(
    encoded: Encoded, batch_size: int, *, eos_id: int, bucket: bool, shuffle: bool, seed: int = 0
) -> list[TranslateBatch]:
    """The padded batches of ``encoded``, grouped by source length (when ``bucket``)."""
    groups = batch_indices(
        [len(s) for s in encoded.src], batch_size, bucket=bucket, shuffle=shuffle, seed=seed
    )
    return [collate(encoded, group, eos_id) for group in groups]


def collate(encoded: Encoded, group: Sequence[int], eos_id: int) -> TranslateBatch:
    """One batch of the pairs ``group``."""
    src = [encoded.src[i] for i in group]
    tgt = [encoded.tgt[i] for i in group]
    lengths = torch.tensor([len(s) for s in src], dtype=torch.long)
    src_ids = torch.zeros(len(group), int(lengths.max()), dtype=torch.long)
    T = max(len(t) for t in tgt) + 1
    tgt_in = torch.zeros(len(group), T, dtype=torch.long)
    tgt_out = torch.zeros(len(group), T, dtype=torch.long)
    for row, (s, t) in enumerate(zip(src, tgt, strict=True)):
        src_ids[row, : len(s)] = torch.as_tensor(s)
        tgt_in[row, : len(t) + 1] = torch.as_tensor([eos_id, *t])
        tgt_out[row, : len(t) + 1] = torch.as_tensor([*t, eos_id])
    return TranslateBatch(src_ids, lengths, tgt_in, tgt_out)
