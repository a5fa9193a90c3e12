"""float32 on the CPU takes oneDNN's products inside the loop; it must match float64 torch ops.

The tests' sizes are far below the size from which gemm uses oneDNN, so each test here lowers
those thresholds to zero: every product it can route to oneDNN goes there.
"""

from __future__ import annotations

import copy

import pytest
import torch

from cases import CELL_CASES, case_id, make_layer, perturb_
from rnnkit.cells import gemm


@pytest.fixture(autouse=True)
def onednn_for_every_size(monkeypatch):
    """Route every float32 CPU product to oneDNN, and count the calls."""
    calls = {"n": 0}
    real = gemm._ONEDNN

    def counting(*args, **kwargs):
        calls["n"] += 1
        return real(*args, **kwargs)

    counting.binary = real.binary if real is not None else None  # type: ignore[attr-defined]
    monkeypatch.setattr(gemm, "MIN_ONEDNN_MACS", 0)
    monkeypatch.setattr(gemm, "ONEDNN_GRAD_FROM_WIDTH", 0)
    if real is not None:
        monkeypatch.setattr(gemm, "_ONEDNN", counting)
    return calls


def forward_backward(layer, x, lengths):
    layer.zero_grad()
    x = x.clone().requires_grad_(True)
    torch.manual_seed(0)  # the same recurrent-dropout masks in both precisions
    out, state = layer(x, lengths=lengths)
    gen = torch.Generator().manual_seed(1)
    loss = sum(
        (t * torch.randn(t.shape, generator=gen, dtype=torch.float64).to(t.dtype)).sum()
        for t in (out, *state)
    )
    loss.backward()
    return [out, *state, x.grad, *(p.grad for p in layer.parameters())]


@pytest.mark.skipif(gemm._ONEDNN is None, reason="this torch build has no oneDNN linear op")
@pytest.mark.parametrize("cell,options", CELL_CASES, ids=map(case_id, CELL_CASES))
def test_onednn_float32_matches_float64(cell, options, onednn_for_every_size):
    layer64 = make_layer(cell, options, engine="loop", num_layers=2, bidirectional=True).double()
    perturb_(layer64)
    layer32 = copy.deepcopy(layer64).float()
    x = torch.randn(3, 6, 3, dtype=torch.float64)
    lengths = torch.tensor([6, 2, 4])
    expected = forward_backward(layer64, x, lengths)
    got = forward_backward(layer32, x.float(), lengths)
    for a, b in zip(got, expected, strict=True):
        torch.testing.assert_close(a.double(), b, rtol=1e-4, atol=1e-5)
    assert onednn_for_every_size["n"] > 0


@pytest.mark.skipif(gemm._ONEDNN is None, reason="this torch build has no oneDNN linear op")
def test_gemm_helpers_agree_with_torch(onednn_for_every_size):
    torch.manual_seed(0)
    x, w, b, other = torch.randn(5, 3), torch.randn(4, 3), torch.randn(4), torch.randn(5, 4)
    dy = torch.randn(5, 4)
    with torch.no_grad():
        torch.testing.assert_close(gemm.linear(x, w, b), x @ w.t() + b)
        torch.testing.assert_close(gemm.linear_add(x, w, other), other + x @ w.t())
        torch.testing.assert_close(gemm.matmul(dy, w), dy @ w)
        torch.testing.assert_close(gemm.weight_grad(dy, x), dy.t() @ x)
        assert onednn_for_every_size["n"] == 3  # linear, matmul, weight_grad; binary apart
    xs = torch.randn(2, 5, 3, requires_grad=True)
    ws = w.clone().requires_grad_(True)
    bs = b.clone().requires_grad_(True)
    y = gemm.input_linear(xs, ws, bs)
    y_ref = torch.nn.functional.linear(xs, ws, bs)
    torch.testing.assert_close(y, y_ref)
    grads = torch.autograd.grad(y.square().sum(), (xs, ws, bs))
    grads_ref = torch.autograd.grad(y_ref.square().sum(), (xs, ws, bs))
    for a, r in zip(grads, grads_ref, strict=True):
        torch.testing.assert_close(a, r)
