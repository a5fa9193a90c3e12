"""Classification batches: padded, length-bucketed examples and the cross-entropy objective."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import torch.nn.functional as F

from rnnkit.data.batching import LabelledBatch, batch_indices, collate_numeric, collate_tokens
from rnnkit.models.classifier import SequenceClassifier
from rnnkit.training.loop import StepOutput

__all__ = ["ClassifyObjective", "Encoded", "collate", "make_batches"]


class Encoded(NamedTuple):
    """Model-ready examples: token-id lists or scaled (T, F) arrays, and class ids."""

    inputs: list[Any]
    labels: list[int] | None


def make_batches(
    encoded: Encoded,
    batch_size: int,
    *,
    pad_id: int | None,
    bucket: bool,
    shuffle: bool,
    seed: int = 0,
) -> list[LabelledBatch]:
    """Padded batches of ``encoded`` (token ids when ``pad_id`` is set, else numeric)."""
    groups = batch_indices(
        [len(x) for x in encoded.inputs], batch_size, bucket=bucket, shuffle=shuffle, seed=seed
    )
    return [collate(encoded, group, pad_id) for group in groups]


def collate(encoded: Encoded, group: Sequence[int], pad_id: int | None) -> LabelledBatch:
    """One padded batch of the examples ``group`` (token ids when ``pad_id`` is set)."""
    inputs = [encoded.inputs[i] for i in group]
    labels = None if encoded.labels is None else [encoded.labels[i] for i in group]
    if pad_id is None:
        return collate_numeric(inputs, labels)
    return collate_tokens(inputs, labels, pad_id)


class ClassifyObjective:
    """Cross-entropy of the true class; validation reports loss and accuracy."""

    def loss(self, model: SequenceClassifier, batch: LabelledBatch, state: Any) -> StepOutput:
        logits = model(batch.inputs, batch.lengths)
        return StepOutput(F.cross_entropy(logits, batch.labels), len(batch.labels), None)

    def evaluate(
        self, model: SequenceClassifier, batches: Iterable[LabelledBatch]
    ) -> dict[str, float]:
        total, correct, count = 0.0, 0, 0
        for batch in batches:
            logits = model(batch.inputs, batch.lengths).float()
            total += float(F.cross_entropy(logits, batch.labels, reduction="sum"))
            correct += int((logits.argmax(-1) == batch.labels).sum())
            count += len(batch.labels)
        return {"loss": total / max(count, 1), "acc": correct / max(count, 1)}
