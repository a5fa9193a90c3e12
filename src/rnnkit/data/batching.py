"""Batches of variable-length examples: truncation, length bucketing, padding.

Padding costs compute only where a batch mixes short and long sequences. Bucketing groups
examples of similar length into the same batch (shuffled within large chunks, so batches stay
random), and :class:`rnnkit.Recurrent` packs the padded batch internally, so the padding that
remains costs no recurrent steps at all.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Literal, NamedTuple

import numpy as np
import torch

from rnnkit.config import validate_choice, validate_positive

__all__ = [
    "TRUNCATIONS",
    "LabelledBatch",
    "batch_indices",
    "collate_numeric",
    "collate_tokens",
    "truncate",
]

Truncation = Literal["head", "tail", "head+tail"]
TRUNCATIONS: tuple[str, ...] = ("head", "tail", "head+tail")
# Sorting happens within chunks of this many batches: enough to find similar lengths, few
# enough that an epoch's batches still come from all over the data.
BUCKET_CHUNK = 50


class LabelledBatch(NamedTuple):
    """Padded inputs, the real length of each, and the class ids.

    Shapes:
        inputs (B, T) int64 token ids or (B, T, F) float32; lengths (B,) int64; labels (B,)
        int64 (all -1 when unknown, e.g. for prediction).
    """

    inputs: torch.Tensor
    lengths: torch.Tensor
    labels: torch.Tensor


def truncate(ids: Sequence[int], max_len: int | None, policy: Truncation = "head") -> list[int]:
    """Cuts a sequence to at most ``max_len`` items.

    ``head`` keeps the beginning, ``tail`` the end, ``head+tail`` a quarter of the budget from
    the beginning and the rest from the end (reviews state their verdict at either end; Sun et
    al. 2019 found head+tail best for long reviews).

    Example:
        >>> [truncate(list(range(10)), 4, p) for p in ("head", "tail", "head+tail")]
        [[0, 1, 2, 3], [6, 7, 8, 9], [0, 7, 8, 9]]
    """
    validate_choice("truncate", policy, TRUNCATIONS)
    ids = list(ids)
    if max_len is None or len(ids) <= max_len:
        return ids
    validate_positive("max_len", max_len)
    if policy == "head":
        return ids[:max_len]
    if policy == "tail":
        return ids[len(ids) - max_len :]
    head = max_len // 4
    return ids[:head] + ids[len(ids) - (max_len - head) :]


def batch_indices(
    lengths: Sequence[int],
    batch_size: int,
    *,
    bucket: bool = True,
    shuffle: bool = True,
    seed: int = 0,
) -> list[list[int]]:
    """Groups example indices into batches, by similar length when ``bucket``.

    With ``shuffle``, the order is drawn from ``seed`` (pass the epoch into it for a new order
    each epoch); with ``bucket``, each chunk of ``BUCKET_CHUNK`` batches is sorted by length
    before it is cut, and the batches are shuffled afterwards.

    Example:
        >>> batch_indices([5, 1, 4, 2], 2, shuffle=False)
        [[1, 3], [2, 0]]
    """
    validate_positive("batch_size", batch_size)
    order = list(range(len(lengths)))
    rng = random.Random(seed)
    if shuffle:
        rng.shuffle(order)
    if bucket:
        chunk = batch_size * BUCKET_CHUNK
        order = [
            i
            for start in range(0, len(order), chunk)
            for i in sorted(order[start : start + chunk], key=lambda i: lengths[i])
        ]
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    if shuffle and bucket:
        rng.shuffle(batches)
    return batches


def collate_tokens(
    sequences: Sequence[Sequence[int]], labels: Sequence[int] | None, pad_id: int
) -> LabelledBatch:
    """Pads token-id sequences (each at least one token) into one batch.

    Example:
        >>> batch = collate_tokens([[4, 5, 6], [7]], [1, 0], pad_id=0)
        >>> batch.inputs.tolist(), batch.lengths.tolist(), batch.labels.tolist()
        ([[4, 5, 6], [7, 0, 0]], [3, 1], [1, 0])
    """
    lengths = torch.tensor([len(s) for s in sequences], dtype=torch.long)
    inputs = torch.full((len(sequences), int(lengths.max())), pad_id, dtype=torch.long)
    for row, seq in enumerate(sequences):
        inputs[row, : len(seq)] = torch.as_tensor(seq, dtype=torch.long)
    return LabelledBatch(inputs, lengths, _labels(labels, len(sequences)))


def collate_numeric(sequences: Sequence[np.ndarray], labels: Sequence[int] | None) -> LabelledBatch:
    """Zero-pads numeric sequences (T_i, F) into one (B, T, F) float32 batch.

    Example:
        >>> batch = collate_numeric([np.ones((2, 3)), np.ones((1, 3))], None)
        >>> tuple(batch.inputs.shape), batch.lengths.tolist(), batch.labels.tolist()
        ((2, 2, 3), [2, 1], [-1, -1])
    """
    lengths = torch.tensor([len(s) for s in sequences], dtype=torch.long)
    width = sequences[0].shape[1]
    inputs = torch.zeros(len(sequences), int(lengths.max()), width)
    for row, seq in enumerate(sequences):
        inputs[row, : len(seq)] = torch.from_numpy(np.asarray(seq, dtype=np.float32))
    return LabelledBatch(inputs, lengths, _labels(labels, len(sequences)))


def _labels(labels: Sequence[int] | None, count: int) -> torch.Tensor:
    if labels is None:
        return torch.full((count,), -1, dtype=torch.long)
    return torch.tensor(list(labels), dtype=torch.long)
