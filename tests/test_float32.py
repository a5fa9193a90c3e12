"""float32 on the CPU takes oneDNN's products inside the loop; it must match float64 torch ops."""

from __future__ import annotations

import copy

import pytest
import torch

from cases import CELL_CASES, case_id, make_layer, perturb_
from rnnkit.cells import gemm


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
def test_onednn_float32_matches_float64(cell, options):
    layer64 = make_layer(cell, options, engine="loop", num_layers=2, bidirectional=True).double()
    perturb_(layer64)
    layer32 = copy.deepcopy(layer64).float()
    x = torch.randn(3, 6, 3, dtype=torch.float64)
    lengths = torch.tensor([6, 2, 4])
    expected = forward_backward(layer64, x, lengths)
    got = forward_backward(layer32, x.float(), lengths)
    for a, b in zip(got, expected, strict=True):
        torch.testing.assert_close(a.double(), b, rtol=1e-4, atol=1e-5)


@pytest.mark.skipif(gemm._ONEDNN is None, reason="this torch build has no oneDNN linear op")
def test_gemm_helpers_agree_with_torch():
    torch.manual_seed(0)
    x, w, b, other = torch.randn(5, 3), torch.randn(4, 3), torch.randn(4), torch.randn(5, 4)
    dy = torch.randn(5, 4)
    with torch.no_grad():
        torch.testing.assert_close(gemm.linear(x, w, b), x @ w.t() + b)
        torch.testing.assert_close(gemm.linear_add(x, w, other), other + x @ w.t())
        torch.testing.assert_close(gemm.matmul(dy, w), dy @ w)
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
