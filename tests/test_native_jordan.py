"""The Jordan cell's whole sequence in C (``native/jordan.c``) against its Python step.

The C loop runs where gemm's backend is MKL; these tests select that backend whatever the
machine's CPU, so they run wherever torch exports MKL's packed GEMM and a C compiler exists.
"""

from __future__ import annotations

import pytest
import torch

import rnnkit
from native_cases import needs_native, saved_by_c_runs
from rnnkit.cells import gemm, jordan_native, native
from rnnkit.state import JordanState


@pytest.fixture(autouse=True)
def mkl_backend(monkeypatch):
    monkeypatch.setattr(gemm, "BACKEND", "mkl")


@pytest.fixture
def native_runs(monkeypatch):
    """What each sequence the C loop ran saved; its length counts them."""
    return saved_by_c_runs(monkeypatch, jordan_native)


def training_step(layer, x, lengths=None, inplace_scale=None):
    """Outputs, final state, and the gradients of x and of every parameter."""
    layer.zero_grad()
    x = x.clone().requires_grad_(True)
    torch.manual_seed(1)  # the same recurrent-dropout masks both ways
    out, state = layer(x, lengths=lengths)
    weights = torch.linspace(-1, 1, out.size(-1))
    if inplace_scale is not None:  # the caller owns the outputs and may change them
        out.mul_(inplace_scale)
    loss = (out * weights).sum() + 0.3 * sum(s.sum() for s in state)
    loss.backward()
    grads = [x.grad, *(p.grad for p in layer.parameters())]
    return [out.detach().clone(), *(s.detach() for s in state), *grads]


def assert_all_close(got, want):
    for a, b in zip(got, want, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=2e-6)


OPTIONS = [
    {},
    {"output_activation": "identity"},
    {"output_activation": "sigmoid", "nonlinearity": "relu"},
    {"recurrent_dropout": 0.3},
    {"output_size": 7},
    {"num_layers": 2, "bidirectional": True, "dropout": 0.2},
]


@needs_native
@pytest.mark.parametrize(
    "options", OPTIONS, ids=lambda o: ",".join(map(str, o.items())) or "default"
)
def test_c_sequence_equals_the_python_steps(options, native_runs):
    torch.manual_seed(0)
    layer = rnnkit.Recurrent("jordan", input_size=5, hidden_size=6, **options)
    x = torch.randn(3, 8, 5)
    got = training_step(layer, x)
    assert len(native_runs) == layer.num_layers * layer.num_directions
    with native.switched_off("the Python steps"):
        want = training_step(layer, x)
    assert_all_close(got, want)


@needs_native
@pytest.mark.parametrize("steps", [6, 7], ids=["even", "odd"])  # the y slots alternate
@pytest.mark.parametrize("options", [{}, {"output_size": 3, "num_layers": 2}])
def test_c_sequence_in_inference_equals_the_python_steps(options, steps, monkeypatch):
    """Without gradients the C loop keeps one step of r and h and two of y, not T: nothing
    is saved, and outputs and final state equal the Python steps', from a batch-first input
    (the first layer) and a time-major one (the second)."""
    saved = saved_by_c_runs(monkeypatch, jordan_native)
    torch.manual_seed(0)
    layer = rnnkit.Recurrent("jordan", input_size=4, hidden_size=5, **options).eval()
    x = torch.randn(2, steps, 4)
    y0 = JordanState(torch.randn(layer.num_layers, 2, layer.cells[0].output_size))
    with torch.no_grad():
        got, final = layer(x, state=y0)
        with native.switched_off("the Python steps"):
            want, want_final = layer(x, state=y0)
    assert saved == [None] * layer.num_layers
    torch.testing.assert_close(got, want, rtol=1e-5, atol=2e-6)
    torch.testing.assert_close(final[0], want_final[0], rtol=1e-5, atol=2e-6)


@needs_native
def test_changing_the_outputs_in_place_leaves_the_gradients_right(native_runs):
    """The outputs handed out are not the arrays the backward reads."""
    torch.manual_seed(0)
    layer = rnnkit.Recurrent("jordan", input_size=4, hidden_size=5)
    x = torch.randn(2, 6, 4)
    scaled_after = training_step(layer, x, inplace_scale=2.0)
    layer2 = rnnkit.Recurrent("jordan", input_size=4, hidden_size=5)
    layer2.load_state_dict(layer.state_dict())
    with native.switched_off("the Python steps"):
        scaled_python = training_step(layer2, x, inplace_scale=2.0)
    assert len(native_runs) == 1
    assert_all_close(scaled_after, scaled_python)


@needs_native
@pytest.mark.parametrize(
    "options,lengths,dtype",
    [
        ({"output_activation": "softmax"}, None, torch.float32),  # no ψ' in the kernel
        ({"feedback": "output"}, None, torch.float32),
        ({"feedback": "both"}, None, torch.float32),
        ({}, [6, 3], torch.float32),  # padding: the Python loop masks the steps
        ({}, None, torch.float64),
    ],
    ids=["softmax", "feedback=output", "feedback=both", "padded", "float64"],
)
def test_what_the_c_loop_lacks_runs_the_python_steps(options, lengths, dtype, native_runs):
    layer = rnnkit.Recurrent("jordan", input_size=4, hidden_size=5, **options).to(dtype)
    out, _ = layer(torch.randn(2, 6, 4, dtype=dtype), lengths=lengths and torch.tensor(lengths))
    out.sum().backward()
    assert len(native_runs) == 0


@needs_native
def test_the_onednn_backend_runs_the_python_steps(monkeypatch, native_runs):
    monkeypatch.setattr(gemm, "BACKEND", "onednn")
    layer = rnnkit.Recurrent("jordan", input_size=4, hidden_size=5)
    layer(torch.randn(2, 6, 4))[0].sum().backward()
    assert len(native_runs) == 0


@needs_native
def test_a_batch_first_input_is_projected_and_read_in_its_own_order(native_runs):
    """The first layer's input is projected batch-first (no copy of x into time order, none
    of its gradient back); the second layer reads the first's time-major outputs."""
    torch.manual_seed(0)
    layer = rnnkit.Recurrent("jordan", input_size=5, hidden_size=6, num_layers=2)
    x = torch.randn(3, 8, 5)
    got = training_step(layer, x)
    assert [saved.batch_first for saved in native_runs] == [True, False]
    with native.switched_off("the Python steps"):
        want = training_step(layer, x)
    assert_all_close(got, want)
