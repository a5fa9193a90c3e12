"""Language-model batches: one long stream per row, cut into truncated-BPTT windows."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, NamedTuple

import torch

from rnnkit.models import LanguageModel
from rnnkit.training.loop import StepOutput
from rnnkit.training.tbptt import Window, run_window, windows

__all__ = ["LMBatch", "LMObjective", "cross_entropy_sum", "stream_batches"]


class LMBatch(NamedTuple):
    """One truncated-BPTT window of every stream: inputs, targets (B, t) and the window.

    The ids may be stored narrow (:func:`~rnnkit.tasks.lm.ids.stream_ids`, a view of the
    stream); :meth:`long` gives the ``int64`` window the model reads.
    """

    inputs: torch.Tensor
    targets: torch.Tensor
    loss_from: int
    carry_at: int

    def long(self) -> LMBatch:
        """This window with ``int64`` ids (a copy of this window only)."""
        return self._replace(inputs=self.inputs.long(), targets=self.targets.long())


def stream_batches(stream: torch.Tensor, k1: int, k2: int) -> list[LMBatch]:
    """BPTT(k1, k2) windows over streams (B, L): targets are the inputs shifted by one.

    Shapes:
        stream (B, L) -> batches of inputs/targets (B, t), t <= k2.
    """
    inputs, targets = stream[:, :-1], stream[:, 1:]
    return [
        LMBatch(inputs[:, w.start : w.stop], targets[:, w.start : w.stop], w.loss_from, w.carry_at)
        for w in windows(inputs.shape[1], k1, k2)
    ]


class LMObjective:
    """Next-token cross-entropy with the state carried between windows."""

    def loss(self, model: LanguageModel, batch: LMBatch, state: Any) -> StepOutput:
        batch = batch.long()
        window = Window(0, batch.inputs.shape[1], batch.loss_from, batch.carry_at)
        features, carry = run_window(model.features, batch.inputs, state, window)
        targets = batch.targets[:, batch.loss_from :]
        return StepOutput(model.nll(features, targets), targets.numel(), carry)

    def evaluate(self, model: LanguageModel, batches: Iterable[LMBatch]) -> dict[str, float]:
        total, count = cross_entropy_sum(model, batches)
        loss = total / max(count, 1)
        return {"loss": loss, "ppl": math.exp(min(loss, 700.0)), "bpt": loss / math.log(2)}


def cross_entropy_sum(model: LanguageModel, batches: Iterable[LMBatch]) -> tuple[float, int]:
    """Summed next-token cross-entropy (nats) and token count over windows, state carried."""
    state, total, count = None, 0.0, 0
    for batch in map(LMBatch.long, batches):
        features, state = model.features(batch.inputs, state)
        total += float(model.nll(features, batch.targets, reduction="sum"))
        count += batch.targets.numel()
    return total, count
