"""The loop's row buffers: per-step gradients written in place, gathered without a copy."""

from __future__ import annotations

import pytest
import torch

import rnnkit
from rnnkit.cells import base, native
from rnnkit.cells.base import stacked
from rnnkit.cells.layernorm import layer_norm, layer_norm_backward


def test_stacked_returns_the_buffer_its_rows_came_from():
    buffer = torch.randn(5, 3, 4)
    per_step = [(buffer[t],) for t in range(5)]
    assert stacked(per_step, 0) is buffer


@pytest.mark.parametrize(
    "pieces",
    [
        lambda b: [b[t] for t in reversed(range(5))],  # rows out of order
        lambda b: [b[t] for t in range(4)],  # not every row
        lambda b: [b[t, :, :2] for t in range(5)],  # parts of rows
        lambda b: [b[t].clone() for t in range(5)],  # separate tensors
    ],
    ids=["reversed", "missing-row", "partial-rows", "separate"],
)
def test_stacked_copies_anything_else(pieces):
    buffer = torch.randn(5, 3, 4)
    chosen = pieces(buffer)
    result = stacked([(p,) for p in chosen], 0)
    assert result is not buffer
    torch.testing.assert_close(result, torch.stack(chosen), rtol=0, atol=0)


def test_layer_norm_backward_into_a_row_equals_the_plain_call():
    torch.manual_seed(0)
    z, dout = torch.randn(3, 6, dtype=torch.float64), torch.randn(3, 6, dtype=torch.float64)
    gamma, beta = torch.rand(6, dtype=torch.float64), torch.randn(6, dtype=torch.float64)
    _, cache = layer_norm(z, gamma, beta)
    row = torch.full((2, 3, 6), float("nan"), dtype=torch.float64)[1]
    into = layer_norm_backward(dout, gamma, beta, cache, into=row)
    plain = layer_norm_backward(dout, gamma, beta, cache)
    assert into[0].data_ptr() == row.data_ptr()
    for a, b in zip(into, plain, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


@pytest.mark.parametrize(
    ("cell", "options"),
    [("lstm", {"layer_norm": True}), ("gru", {"engine": "loop"}), ("jordan", {})],
)
def test_the_weight_gradients_read_the_row_buffers_in_place(cell, options, monkeypatch):
    found: list[bool] = []
    original = base._rows_base

    def spy(pieces):
        buffer = original(pieces)
        found.append(buffer is not None and tuple(buffer.shape[1:]) == (2, pieces[0].size(-1)))
        return buffer

    monkeypatch.setattr(base, "_rows_base", spy)
    layer = rnnkit.Recurrent(cell, input_size=3, hidden_size=4, **options)
    # The Python loop's steps (in C a whole sequence writes (T, B, K) arrays itself).
    with native.steps_only():
        layer(torch.randn(2, 5, 3))[0].sum().backward()
    assert any(found)
