"""The tagging objective: the tagger's loss per tag; validation reports the loss, entity F1
(macro-F1 of plain labels) and token accuracy of the decoded tags."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch

from rnnkit.data.tagged import CorpusScheme
from rnnkit.models.tagger import SequenceTagger
from rnnkit.tasks.tag.batches import TagBatch
from rnnkit.tasks.tag.metrics import report
from rnnkit.training.loop import StepOutput

__all__ = ["TagObjective", "emissions"]


def emissions(model: SequenceTagger, batch: TagBatch) -> torch.Tensor:
    """The model's emissions (B, T, K) for ``batch``."""
    return model(
        batch.inputs,
        batch.lengths,
        casing=batch.casing,
        chars=batch.chars,
        char_lengths=batch.char_lengths,
        context=batch.context,
    )


class TagObjective:
    """Training: the model's mean loss per tag. Validation: ``loss``, ``f1``, ``precision``,
    ``recall`` (entities, or labels macro-averaged) and ``acc`` (tokens), decoded as
    prediction decodes."""

    def __init__(self, tags: Sequence[str], scheme: CorpusScheme) -> None:
        self.tags, self.scheme = list(tags), scheme

    def loss(self, model: SequenceTagger, batch: TagBatch, state: object) -> StepOutput:
        tokens = int(batch.lengths.sum())
        return StepOutput(model.loss(emissions(model, batch), batch.tags, batch.lengths), tokens)

    def evaluate(self, model: SequenceTagger, batches: Iterable[TagBatch]) -> dict[str, float]:
        total, count = 0.0, 0
        true: list[list[str]] = []
        predicted: list[list[str]] = []
        for batch in batches:
            scores = emissions(model, batch)
            tokens = int(batch.lengths.sum())
            total += float(model.loss(scores, batch.tags, batch.lengths)) * tokens
            count += tokens
            for row, best in enumerate(model.decode(scores, batch.lengths)):
                n = len(best)
                true.append([self.tags[i] for i in batch.tags[row, :n].tolist()])
                predicted.append([self.tags[i] for i in best])
        scores_ = report(true, predicted, self.scheme)
        return {
            "loss": total / max(count, 1),
            "f1": scores_.overall.f1,
            "precision": scores_.overall.precision,
            "recall": scores_.overall.recall,
            "acc": scores_.token_accuracy,
        }
