"""Small real models and objectives for the training-loop tests (run in-process and in workers).

- ``SignTask``: many-to-one classification, "is the sum of this sequence positive?", an LSTM
  learns it to > 90% accuracy in a few epochs on CPU.
- ``StreamTask``: next-character prediction over one contiguous text stream with the state
  carried between truncated-BPTT windows (a tiny language model).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

import rnnkit
from rnnkit.training.loop import StepOutput
from rnnkit.training.tbptt import windows


class SignClassifier(nn.Module):
    def __init__(self, hidden_size: int = 16, cell: str = "lstm") -> None:
        super().__init__()
        self.rnn = rnnkit.Recurrent(cell, input_size=1, hidden_size=hidden_size)
        self.head = nn.Linear(hidden_size, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outputs, _ = self.rnn(x)
        return self.head(outputs[:, -1])  # (B, 2)


class SignTask:
    """Objective and data for SignClassifier."""

    def __init__(self, n: int = 256, length: int = 8, batch_size: int = 32, seed: int = 0):
        g = torch.Generator().manual_seed(seed)
        self.x = torch.randn(n, length, 1, generator=g)
        self.y = (self.x.sum(dim=(1, 2)) > 0).long()
        cut = n * 3 // 4
        self.train_x, self.train_y = self.x[:cut], self.y[:cut]
        self.val = [(self.x[cut:], self.y[cut:])]
        self.batch_size = batch_size
        self.seed = seed

    def train_batches(self, epoch: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        # A pure function of the epoch: its own generator, never the global RNG.
        g = torch.Generator().manual_seed(self.seed * 1000 + epoch)
        order = torch.randperm(len(self.train_y), generator=g)
        return [(self.train_x[idx], self.train_y[idx]) for idx in order.split(self.batch_size)]

    def loss(self, model: nn.Module, batch: Any, state: Any) -> StepOutput:
        x, y = batch
        return StepOutput(F.cross_entropy(model(x), y), len(y))

    def evaluate(self, model: nn.Module, batches: Iterable[Any]) -> dict[str, float]:
        total = correct = 0
        loss = 0.0
        for x, y in batches:
            logits = model(x)
            loss += float(F.cross_entropy(logits, y, reduction="sum"))
            correct += int((logits.argmax(-1) == y).sum())
            total += len(y)
        return {"loss": loss / total, "accuracy": correct / total}


class CharModel(nn.Module):
    def __init__(self, vocab: int, hidden_size: int = 24, cell: str = "lstm", **options) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, 8)
        self.rnn = rnnkit.Recurrent(cell, input_size=8, hidden_size=hidden_size, **options)
        self.out = nn.Linear(hidden_size, vocab)

    def forward(self, tokens: torch.Tensor, state: Any = None) -> tuple[torch.Tensor, Any]:
        outputs, state = self.rnn(self.embed(tokens), state=state)
        return self.out(outputs), state


TEXT = (
    "the cat sat on the mat. the dog sat on the log. a cat and a dog met on a mat. " * 12
).strip()


class StreamTask:
    """Next-character prediction on TEXT as `rows` parallel streams, windows of `bptt`."""

    def __init__(self, rows: int = 4, bptt: int = 10) -> None:
        chars = sorted(set(TEXT))
        self.vocab = len(chars)
        ids = torch.tensor([chars.index(c) for c in TEXT])
        usable = (len(ids) - 1) // rows * rows
        self.inputs = ids[:usable].view(rows, -1)  # (B, N)
        self.targets = ids[1 : usable + 1].view(rows, -1)
        self.bptt = bptt

    def train_batches(self, epoch: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        return [
            (self.inputs[:, w.start : w.stop], self.targets[:, w.start : w.stop])
            for w in windows(self.inputs.shape[1], self.bptt)
        ]

    def loss(self, model: nn.Module, batch: Any, state: Any) -> StepOutput:
        x, y = batch
        logits, state = model(x, state)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        return StepOutput(loss, y.numel(), state)

    def evaluate(self, model: nn.Module, batches: Iterable[Any]) -> dict[str, float]:
        state, total, count = None, 0.0, 0
        for x, y in batches:
            logits, state = model(x, state)
            total += float(F.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="sum"))
            count += y.numel()
        return {"loss": total / count}


def parameters_of(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}
