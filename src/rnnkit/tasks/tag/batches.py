"""Tagging batches: padded, length-bucketed sentences with their word features and tags."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch

from rnnkit.data.batching import batch_indices
from rnnkit.tasks.tag.data import Encoded

__all__ = ["TagBatch", "collate", "make_batches", "replace_singletons", "singletons"]


class TagBatch(NamedTuple):
    """One padded batch.

    Shapes:
        inputs (B, T) int64 word ids or (B, T, F) float32; lengths (B,) int64; casing (B, T)
        int64; chars (B, T, W) int64 and char_lengths (B, T) int64 (text with characters,
        else None); tags (B, T) int64, -1 past each length and when unlabelled; context
        (B, T, D) float32 contextual string embeddings, zero past each length (or None).
    """

    inputs: torch.Tensor
    lengths: torch.Tensor
    casing: torch.Tensor | None
    chars: torch.Tensor | None
    char_lengths: torch.Tensor | None
    tags: torch.Tensor
    context: torch.Tensor | None = None


def make_batches(
    encoded: Encoded,
    batch_size: int,
    *,
    pad_id: int,
    bucket: bool,
    shuffle: bool,
    seed: int = 0,
) -> list[TagBatch]:
    """The padded batches of ``encoded``, grouped by :func:`~rnnkit.data.batching.batch_indices`."""
    groups = batch_indices(
        [len(x) for x in encoded.inputs], batch_size, bucket=bucket, shuffle=shuffle, seed=seed
    )
    return [collate(encoded, group, pad_id) for group in groups]


def singletons(encoded: Encoded, vocab_size: int) -> np.ndarray:
    """Which word ids occur exactly once in ``encoded`` (the training sentences): (V,) bool."""
    ids = np.concatenate([np.asarray(x, dtype=np.int64) for x in encoded.inputs] or [[]])
    return np.bincount(ids.astype(np.int64), minlength=vocab_size) == 1


def replace_singletons(
    encoded: Encoded, once: np.ndarray, unk_id: int, probability: float, seed: int
) -> Encoded:
    """``encoded`` with each occurrence of a word seen once in training (``once``, from
    :func:`singletons`) replaced by ``unk_id`` with ``probability`` (Lample et al. 2016),
    drawn from ``seed``. Without it ``<unk>`` never occurs in training, and every word a
    test sentence brings that training lacked meets an untrained vector; with it, the
    ``<unk>`` vector is learned and the model learns to read rare words from their
    characters and casing."""
    rng = np.random.default_rng(seed)
    inputs = []
    for words in encoded.inputs:
        ids = np.asarray(words, dtype=np.int64)
        drop = once[ids] & (rng.random(len(ids)) < probability)
        inputs.append(np.where(drop, unk_id, ids).tolist() if drop.any() else words)
    return encoded._replace(inputs=inputs)


def collate(encoded: Encoded, group: Sequence[int], pad_id: int) -> TagBatch:
    """One padded batch of the sentences ``group`` (word padding ``pad_id``, else 0)."""
    rows = [encoded.inputs[i] for i in group]
    lengths = torch.tensor([len(x) for x in rows], dtype=torch.long)
    B, T = len(rows), int(lengths.max())
    if isinstance(rows[0], np.ndarray):
        inputs = torch.zeros(B, T, rows[0].shape[1])
        for b, x in enumerate(rows):
            inputs[b, : len(x)] = torch.from_numpy(x)
    else:
        inputs = _pad([rows[b] for b in range(B)], (B, T), pad_id)
    casing = None if encoded.casing is None else _pad([encoded.casing[i] for i in group], (B, T), 0)
    chars = char_lengths = None
    if encoded.chars is not None:
        matrices = [encoded.chars[i] for i in group]
        chars = torch.zeros(B, T, max(m.shape[1] for m in matrices), dtype=torch.long)
        for b, matrix in enumerate(matrices):
            chars[b, : matrix.shape[0], : matrix.shape[1]] = torch.from_numpy(matrix)
        char_lengths = (chars > 0).sum(-1)  # id 0 is only ever padding
    tags = torch.full((B, T), -1, dtype=torch.long)
    if encoded.tags is not None:
        tags = _pad([encoded.tags[i] for i in group], (B, T), -1)
    context = None
    if encoded.context is not None:
        context = torch.zeros(B, T, encoded.context[group[0]].shape[1])
        for b, i in enumerate(group):
            context[b, : len(encoded.context[i])] = torch.from_numpy(encoded.context[i])
    return TagBatch(inputs, lengths, casing, chars, char_lengths, tags, context)


def _pad(rows: Sequence[Sequence[int]], shape: tuple[int, int], value: int) -> torch.Tensor:
    out = torch.full(shape, value, dtype=torch.long)
    for b, row in enumerate(rows):
        out[b, : len(row)] = torch.as_tensor(row, dtype=torch.long)
    return out
