"""The translation objective: label-smoothed cross-entropy per target token in training;
validation reports the plain cross-entropy, its perplexity and token accuracy (teacher
forced, so every epoch's figure costs one forward pass, not a decoding) and, when asked,
the BLEU of greedy translations of the validation sources (a decoding every epoch)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

from rnnkit.models.seq2seq import Seq2Seq
from rnnkit.tasks.translate.batches import TranslateBatch
from rnnkit.training.loop import StepOutput

__all__ = ["TranslateObjective"]

PAD_ID = 0


class TranslateObjective:
    """Training: the mean label-smoothed loss per real target token. Validation: ``loss``
    (nats per token, no smoothing), ``ppl`` and ``acc`` (the most probable next token is
    the reference's), and ``bleu`` when a ``bleu`` function (model -> BLEU of the validation
    set) is given."""

    def __init__(
        self, label_smoothing: float, bleu: Callable[[Seq2Seq], float] | None = None
    ) -> None:
        self.label_smoothing = label_smoothing
        self.bleu = bleu

    def loss(self, model: Seq2Seq, batch: TranslateBatch, state: object) -> StepOutput:
        logits = model(batch.src, batch.src_lengths, batch.tgt_in)
        loss = Seq2Seq.loss(logits, batch.tgt_out, PAD_ID, self.label_smoothing)
        return StepOutput(loss, int((batch.tgt_out != PAD_ID).sum()))

    def evaluate(self, model: Seq2Seq, batches: Iterable[TranslateBatch]) -> dict[str, float]:
        total, right, count = 0.0, 0, 0
        for batch in batches:
            logits = model(batch.src, batch.src_lengths, batch.tgt_in)
            real = batch.tgt_out != PAD_ID
            tokens = int(real.sum())
            total += float(Seq2Seq.loss(logits, batch.tgt_out, PAD_ID)) * tokens
            right += int(((logits.argmax(-1) == batch.tgt_out) & real).sum())
            count += tokens
        loss = total / max(count, 1)
        metrics = {"loss": loss, "ppl": math.exp(min(loss, 700.0)), "acc": right / max(count, 1)}
        if self.bleu is not None:
            metrics["bleu"] = self.bleu(model)
        return metrics
