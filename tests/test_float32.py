"""float32 on the CPU takes gemm's products inside the loop; they must match float64 torch ops.

Both of gemm's backends are tested, whichever this machine's CPU picks: oneDNN (blocked packed
weights, ``_linear_pointwise``) and MKL (contiguous ``Wᵀ``, ``torch.mm``). The tests' sizes are
far below the size from which gemm packs weights or calls oneDNN, so each test here lowers
those thresholds to zero: every product goes the backend's way.
"""

from __future__ import annotations

import copy

import pytest
import torch

from cases import CELL_CASES, case_id, make_layer, perturb_
from rnnkit.cells import gemm

BACKENDS = ["mkl"] + ["onednn"] * (gemm._ONEDNN is not None)


@pytest.fixture(params=BACKENDS)
def backend_for_every_size(monkeypatch, request):
    """Route every float32 CPU product to one backend, and count the oneDNN calls."""
    calls = {"n": 0, "backend": request.param}
    real = gemm._ONEDNN
    monkeypatch.setattr(gemm, "BACKEND", request.param)

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


@pytest.mark.parametrize("cell,options", CELL_CASES, ids=map(case_id, CELL_CASES))
def test_float32_matches_float64(cell, options, backend_for_every_size):
    layer64 = make_layer(cell, options, engine="loop", num_layers=2, bidirectional=True).double()
    perturb_(layer64)
    layer32 = copy.deepcopy(layer64).float()
    x = torch.randn(3, 6, 3, dtype=torch.float64)
    lengths = torch.tensor([6, 2, 4])
    expected = forward_backward(layer64, x, lengths)
    got = forward_backward(layer32, x.float(), lengths)
    for a, b in zip(got, expected, strict=True):
        torch.testing.assert_close(a.double(), b, rtol=1e-4, atol=1e-5)
    onednn = backend_for_every_size["backend"] == "onednn"
    assert (backend_for_every_size["n"] > 0) == onednn


def test_gemm_helpers_agree_with_torch(backend_for_every_size):
    torch.manual_seed(0)
    x, w, b, other = torch.randn(5, 3), torch.randn(4, 3), torch.randn(4), torch.randn(5, 4)
    dy = torch.randn(5, 4)
    with torch.no_grad():
        torch.testing.assert_close(gemm.linear(x, w, b), x @ w.t() + b)
        torch.testing.assert_close(gemm.linear_add(x, w, other), other + x @ w.t())
        torch.testing.assert_close(gemm.matmul(dy, w), dy @ w)
        torch.testing.assert_close(gemm.weight_grad(dy, x), dy.t() @ x)
        pw = gemm.packed(w, batch=5)
        torch.testing.assert_close(gemm.linear(x, pw, b), x @ w.t() + b)
        torch.testing.assert_close(gemm.linear(x, pw), x @ w.t())
        torch.testing.assert_close(gemm.linear_add(x, pw, other), other + x @ w.t())
        onednn = backend_for_every_size["backend"] == "onednn"
        assert (pw.onednn is not None, pw.mkl is not None) == (onednn, not onednn)
        backward = gemm.packed(w, batch=5, backward=True)  # for dz W: on MKL only
        torch.testing.assert_close(gemm.matmul(dy, backward), dy @ w)
        torch.testing.assert_close(gemm.matmul(dy[:2], backward), dy[:2] @ w)  # other rows
        assert isinstance(backward, gemm.PackedWeight) == (not onednn)
        # oneDNN: linear, matmul, weight_grad, linear twice packed, matmul twice (binary apart)
        assert backend_for_every_size["n"] == 7 * onednn
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


@pytest.mark.parametrize(
    "vendor,has_onednn,expected",
    [
        ("GenuineIntel", True, "mkl"),
        ("AuthenticAMD", True, "onednn"),
        ("Intel64 Family 6 Model 85 Stepping 7, GenuineIntel", True, "mkl"),  # Windows
        ("", True, "onednn"),
        ("AuthenticAMD", False, "mkl"),
    ],
)
def test_backend_follows_the_cpu_vendor(monkeypatch, vendor, has_onednn, expected):
    monkeypatch.setattr(gemm, "cpu_vendor", lambda: vendor)
    monkeypatch.setattr(gemm.torch.backends.mkl, "is_available", lambda: True)
    monkeypatch.setattr(gemm, "_ONEDNN", gemm._ONEDNN if has_onednn else None)
    if has_onednn and gemm._ONEDNN is None:
        pytest.skip("this torch build has no oneDNN linear op")
    assert gemm._choose_backend() == expected
