"""Classification batches: padded, length-bucketed examples (with the stacked classifier's
offsets, :mod:`rnnkit.tasks.classify.stacking`) and the cross-entropy objective."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from rnnkit.data.batching import LabelledBatch, batch_indices, collate_numeric, collate_tokens
from rnnkit.models.classifier import SequenceClassifier
from rnnkit.training.loop import StepOutput

__all__ = ["ClassifyBatch", "ClassifyObjective", "Encoded", "collate", "make_batches"]


class Encoded(NamedTuple):
    """Model-ready examples: token-id lists or scaled (T, F) arrays, class ids, and the
    offsets (N, C) a stacked classifier adds to its scores."""

    inputs: list[Any]
    labels: list[int] | None
    offsets: np.ndarray | None = None


class ClassifyBatch(NamedTuple):
    """A :class:`~rnnkit.data.batching.LabelledBatch` and its rows' offsets (B, C), or None."""

    inputs: torch.Tensor
    lengths: torch.Tensor
    labels: torch.Tensor
    offsets: torch.Tensor | None = None


def make_batches(
    encoded: Encoded,
    batch_size: int,
    *,
    pad_id: int | None,
    bucket: bool,
    shuffle: bool,
    seed: int = 0,
) -> list[ClassifyBatch]:
    """Padded batches of ``encoded`` (token ids when ``pad_id`` is set, else numeric)."""
    groups = batch_indices(
        [len(x) for x in encoded.inputs], batch_size, bucket=bucket, shuffle=shuffle, seed=seed
    )
    return [collate(encoded, group, pad_id) for group in groups]


def collate(encoded: Encoded, group: Sequence[int], pad_id: int | None) -> ClassifyBatch:
    """One padded batch of the examples ``group`` (token ids when ``pad_id`` is set)."""
    inputs = [encoded.inputs[i] for i in group]
    labels = None if encoded.labels is None else [encoded.labels[i] for i in group]
    if pad_id is None:
        batch: LabelledBatch = collate_numeric(inputs, labels)
    else:
        batch = collate_tokens(inputs, labels, pad_id)
    if encoded.offsets is None:
        return ClassifyBatch(*batch)
    return ClassifyBatch(*batch, torch.from_numpy(encoded.offsets[list(group)]))


class ClassifyObjective:
    """Cross-entropy of the true class; validation reports loss and accuracy."""

    def loss(self, model: SequenceClassifier, batch: ClassifyBatch, state: Any) -> StepOutput:
        logits = model(batch.inputs, batch.lengths, batch.offsets)
        return StepOutput(F.cross_entropy(logits, batch.labels), len(batch.labels), None)

    def evaluate(
        self, model: SequenceClassifier, batches: Iterable[ClassifyBatch]
    ) -> dict[str, float]:
        total, correct, count = 0.0, 0, 0
        for batch in batches:
            logits = model(batch.inputs, batch.lengths, batch.offsets).float()
            total += float(F.cross_entropy(logits, batch.labels, reduction="sum"))
            correct += int((logits.argmax(-1) == batch.labels).sum())
            count += len(batch.labels)
        return {"loss": total / max(count, 1), "acc": correct / max(count, 1)}
