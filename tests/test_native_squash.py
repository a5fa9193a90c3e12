"""In-place tanh (cells.base.tanh_): the native kernel, its torch fallback, and where it is used."""

from __future__ import annotations

import pytest
import torch

import rnnkit
from rnnkit.cells import jordan_native, native
from rnnkit.cells.base import tanh_

KERNELS = native.kernels()
needs_kernels = pytest.mark.skipif(KERNELS is None, reason=f"native kernels {native.status()}")

EDGES = [0.0, -0.0, 1e-8, -3.0, 9.0, 40.0, -40.0, 1e4, -1e4, float("inf"), float("-inf")]


def values(rows: int, cols: int) -> torch.Tensor:
    torch.manual_seed(0)
    x = torch.randn(rows, cols) * 4
    x.view(-1)[: len(EDGES)] = torch.tensor(EDGES)
    return x


@pytest.fixture
def torch_only():
    """Within the test, the cells find no kernels and run their torch code."""
    with native.switched_off("test"):
        yield


@pytest.mark.parametrize("shape", [(3, 5), (64, 256), (129, 257)])  # serial, parallel, ragged
@pytest.mark.parametrize("route", ["native", "torch"])
def test_tanh_in_place_matches_torch(shape, route, request):
    if route == "native" and KERNELS is None:
        pytest.skip(f"native kernels {native.status()}")
    if route == "torch":
        request.getfixturevalue("torch_only")
    x = values(*shape)
    want = torch.tanh(x)
    with torch.no_grad():
        got = tanh_(x)
    assert got is x  # in place
    # the kernel's rational tanh is within 4e-7 of tanh (native/squash.h)
    torch.testing.assert_close(got, want, rtol=0, atol=4e-7 if route == "native" else 2e-7)
    if route == "native":  # the kernel keeps tiny values; 2σ(2x) - 1 rounds them to 0 (atol)
        assert torch.equal(got[0, :5].sign(), want[0, :5].sign())


@needs_kernels
def test_the_kernels_tanh_is_within_its_stated_error_everywhere():
    """squash.h's rational tanh against tanh in float64: every float32 step of 1e-5 over
    [-12, 12], and tiny values, stays within 4e-7 and inside [-1, 1], odd."""
    x = torch.cat([torch.arange(-12, 12, 1e-5), 10.0 ** torch.arange(-30.0, 0.0, 0.01)])
    x = x.float()
    got = KERNELS.tanh_(x.clone())
    error = (got.double() - torch.tanh(x.double())).abs().max().item()
    assert error <= 4e-7
    assert got.abs().max().item() <= 1.0
    assert torch.equal(KERNELS.tanh_(-x), -got)


def test_nan_stays_nan():
    x = torch.tensor([[float("nan"), 1.0]])
    with torch.no_grad():
        tanh_(x)
    assert torch.isnan(x[0, 0]) and x[0, 1] == pytest.approx(0.7615942)


def test_under_autograd_a_new_tensor_is_returned():
    x = torch.randn(4, 6, requires_grad=True)
    a = x * 1.0
    before = a.detach().clone()
    y = tanh_(a)
    assert y is not a and torch.equal(a.detach(), before)
    y.sum().backward()
    torch.testing.assert_close(x.grad, 1 - torch.tanh(x.detach()) ** 2)


def test_float64_and_strided_tensors_avoid_the_kernel(monkeypatch):
    if KERNELS is not None:
        monkeypatch.setattr(KERNELS, "tanh_", lambda x: pytest.fail("kernel called"))
    x64 = torch.randn(8, 8, dtype=torch.float64)
    strided = torch.randn(8, 16)[:, ::2]
    for x in (x64, strided):
        want = torch.tanh(x)
        with torch.no_grad():
            torch.testing.assert_close(tanh_(x), want)


@needs_kernels
@pytest.mark.parametrize(
    "cell,options,per_step",
    [
        ("elman", {"engine": "loop"}, 1),
        ("gru", {"engine": "loop"}, 1),
        ("jordan", {"feedback": "hidden"}, 2),  # φ and ψ
        ("jordan", {"feedback": "output"}, 1),  # ψ; φ reads the caller's xg, not in place
    ],
)
def test_the_loop_squashes_in_place(monkeypatch, cell, options, per_step):
    calls = {"n": 0}
    original = KERNELS.tanh_

    def counted(x):
        calls["n"] += 1
        return original(x)

    monkeypatch.setattr(KERNELS, "tanh_", counted)
    # The Python step's squashing (on MKL the Jordan cell runs a whole sequence in C instead).
    monkeypatch.setattr(jordan_native, "sequence_forward", lambda *args: None)
    torch.manual_seed(0)
    layer = rnnkit.Recurrent(cell, input_size=3, hidden_size=5, **options)
    x = torch.randn(2, 4, 3, requires_grad=True)
    out, _ = layer(x)
    out.sum().backward()
    assert calls["n"] == per_step * 4


@pytest.mark.parametrize("feedback", ["hidden", "output", "both"])
def test_jordan_loop_equals_its_direct_autograd_steps(feedback):
    """The in-place forward gives the same outputs and gradients as autograd over cell calls."""
    torch.manual_seed(0)
    layer = rnnkit.Recurrent("jordan", input_size=3, hidden_size=5, feedback=feedback)
    cell = layer.cells[0]
    x = torch.randn(2, 6, 3)
    xs = x.clone().requires_grad_(True)
    out, _ = layer(xs)
    out.square().sum().backward()
    xd = x.clone().requires_grad_(True)
    state, ys = cell.init_state(2), []
    for t in range(6):
        y, state = cell(xd[:, t], state)
        ys.append(y)
    ref = torch.stack(ys, 1)
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-6)
    grads = torch.autograd.grad(ref.square().sum(), [xd, *cell.parameters()])
    torch.testing.assert_close(xs.grad, grads[0], rtol=1e-4, atol=1e-5)
