"""Quickstart: train two recurrent layers to forecast a noisy sine wave, in a few seconds.

An LSTM (torch's fused kernel) and an output-recurrent Jordan network (rnnkit's hand-written
BPTT loop) learn to predict the next value of sin(t) + noise from the previous 30 values.
Run: ``make demo`` (or ``python examples/quickstart.py``).
"""

from __future__ import annotations

import math
import time

import torch
from torch import nn

import rnnkit


def sine_batches(batch: int, steps: int, generator: torch.Generator) -> tuple[torch.Tensor, ...]:
    """Windows of a noisy sine wave: inputs (B, T, 1) and next-step targets (B, T, 1)."""
    phase = torch.rand(batch, 1, generator=generator) * 2 * math.pi
    t = phase + torch.arange(steps + 1) * 0.2
    wave = torch.sin(t) + 0.05 * torch.randn(t.shape, generator=generator)
    return wave[:, :-1, None], wave[:, 1:, None]


class Forecaster(nn.Module):
    def __init__(self, cell: str, **options) -> None:
        super().__init__()
        self.rnn = rnnkit.Recurrent(cell, input_size=1, hidden_size=32, **options)
        self.head = nn.Linear(self.rnn.output_size, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x)
        return self.head(out)


def train(name: str, model: nn.Module, steps: int = 300) -> None:
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    start = time.perf_counter()
    for step in range(1, steps + 1):
        x, y = sine_batches(32, 30, generator)
        loss = nn.functional.mse_loss(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # Pascanu et al. 2013
        optimizer.step()
        if step in (1, 50, 100, steps):
            print(f"{name:28s} step {step:4d}  mse {loss.item():.4f}")
    print(f"{name:28s} {time.perf_counter() - start:.1f} s  (the target's own noise is 0.0025)\n")


if __name__ == "__main__":
    lstm = Forecaster("lstm")
    jordan = Forecaster("jordan", feedback="both", output_size=8)
    print(
        f"rnnkit {rnnkit.__version__}: LSTM fused={lstm.rnn.uses_fused}, "
        f"Jordan fused={jordan.rnn.uses_fused}\n"
    )
    train("LSTM (fused kernel)", lstm)
    train("Jordan (hand-written BPTT)", jordan)
