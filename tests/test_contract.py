"""The contract every cell and option keeps, through the Recurrent layer."""

from __future__ import annotations

import gc

import pytest
import torch

import rnnkit
from cases import CELL_CASES, case_id, make_layer
from rnnkit.cells import gemm

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
CASES = pytest.mark.parametrize("cell,options", CELL_CASES, ids=map(case_id, CELL_CASES))


def out_width(cell: str, options: dict) -> int:
    return options.get("output_size", 4) if cell == "jordan" else 4


@CASES
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("device", DEVICES)
def test_shapes_dtype_device(cell, options, dtype, device):
    layer = make_layer(cell, options, num_layers=2, bidirectional=True).to(device, dtype)
    x = torch.randn(3, 5, 3, dtype=dtype, device=device)
    out, state = layer(x, lengths=torch.tensor([5, 2, 4]))
    K = out_width(cell, options)
    assert out.shape == (3, 5, 2 * K) and out.dtype == dtype and out.device.type == device
    assert layer.output_size == 2 * K
    assert type(state) is layer.cells[0].state_type
    for field in state:
        assert field.shape == (4, 3, K) and field.dtype == dtype and field.device.type == device


@CASES
def test_deterministic_under_a_seed(cell, options):
    def run():
        torch.manual_seed(7)
        layer = make_layer(cell, options, num_layers=2, dropout=0.2).train()
        out, _ = layer(torch.randn(2, 6, 3))
        out.sum().backward()
        return out, [p.grad for p in layer.parameters()]

    (out_a, grads_a), (out_b, grads_b) = run(), run()
    assert torch.equal(out_a, out_b)
    assert all(torch.equal(a, b) for a, b in zip(grads_a, grads_b, strict=True))


@CASES
@pytest.mark.parametrize("engine", ["auto", "loop"])
def test_a_training_step_leaves_no_reference_cycle(cell, options, engine):
    """Everything a step allocated is freed by reference counting alone, not by the cyclic GC.

    A cycle through the autograd graph kept a whole sequence's activations alive until the
    GC ran: memory grew by tens of MB a step and every step faulted fresh pages in.
    """

    def step():
        layer = make_layer(cell, options, num_layers=2, bidirectional=True, engine=engine)
        x = torch.randn(3, 5, 3, requires_grad=True)
        out, state = layer(x)  # full lengths: the final state is the last step's own tensors
        (out.sum() + sum(s.sum() for s in state)).backward()

    step()  # first calls may build caches of their own
    gc.collect()
    gc.disable()
    try:
        step()
        unreachable = gc.collect()
    finally:
        gc.enable()
    assert unreachable == 0


@CASES
def test_gradient_reaches_every_parameter(cell, options):
    torch.manual_seed(0)
    layer = make_layer(cell, options, num_layers=2, bidirectional=True)
    state0 = layer.init_state(3)
    state0 = type(state0)(*(torch.rand_like(s) for s in state0))  # relu units start alive
    out, state = layer(torch.randn(3, 5, 3), lengths=torch.tensor([5, 3, 1]), state=state0)
    (out.pow(2).sum() + sum(s.pow(2).sum() for s in state)).backward()
    for name, p in layer.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, f"no gradient reached {name}"


@CASES
@pytest.mark.parametrize("lengths", [None, [5, 3, 1]], ids=["full", "padded"])
def test_outputs_and_state_take_in_place_changes(cell, options, lengths):
    """Users may change a layer's outputs in place (``out += skip``, in-place dropout): they
    must not be views that a custom autograd Function returned, which autograd refuses."""
    torch.manual_seed(0)
    layer = make_layer(cell, options, num_layers=2, bidirectional=True)
    x = torch.randn(3, 5, 3, requires_grad=True)
    lengths = None if lengths is None else torch.tensor(lengths)
    out, state = layer(x, lengths=lengths)
    out.mul_(2).add_(1)
    for s in state:
        s.mul_(3)
    (out.pow(2).sum() + sum(s.pow(2).sum() for s in state)).backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


@CASES
def test_padding_does_not_affect_results(cell, options):
    torch.manual_seed(0)
    layer = make_layer(cell, options, num_layers=2, bidirectional=True).eval()
    lengths = torch.tensor([5, 2, 3])
    x = torch.randn(3, 5, 3)
    junk = x.clone()
    for b, n in enumerate(lengths.tolist()):
        junk[b, n:] = torch.randn(5 - n, 3) * 100

    def run(inputs):
        layer.zero_grad()
        inputs = inputs.clone().requires_grad_(True)
        out, state = layer(inputs, lengths=lengths)
        (out.sum() + sum(s.sum() for s in state)).backward()
        return out, state, inputs.grad, [p.grad.clone() for p in layer.parameters()]

    out_a, state_a, dx_a, grads_a = run(x)
    out_b, state_b, dx_b, grads_b = run(junk)
    torch.testing.assert_close(out_a, out_b)
    for b, n in enumerate(lengths.tolist()):
        assert torch.all(out_a[b, n:] == 0) and torch.all(dx_b[b, n:] == 0)
    for a, b in zip((*state_a, dx_a, *grads_a), (*state_b, dx_b, *grads_b), strict=True):
        torch.testing.assert_close(a, b)


@CASES
def test_cell_step_matches_layer(cell, options):
    """The one-step cell call and the layer compute the same thing."""
    torch.manual_seed(0)
    layer = make_layer(cell, options).eval()
    module = layer.cells[0]
    x = torch.randn(2, 4, 3)
    out, final = layer(x)
    state = None
    for t in range(4):
        y, state = module(x[:, t], state)
        torch.testing.assert_close(y, out[:, t])
    for a, b in zip(state, final, strict=True):
        torch.testing.assert_close(a, b[0])


def test_recurrent_dropout_only_in_training():
    torch.manual_seed(0)
    layer = make_layer("lstm", {"recurrent_dropout": 0.5})
    x = torch.randn(2, 6, 3)
    a, _ = layer.train()(x)
    b, _ = layer.train()(x)
    assert not torch.equal(a, b)  # a fresh mask per sequence in training
    c, _ = layer.eval()(x)
    d, _ = layer.eval()(x)
    assert torch.equal(c, d)


@pytest.mark.parametrize("backend", ["onednn", "mkl"])
def test_dispatch_picks_the_fused_kernel_only_for_standard_cells(backend, monkeypatch):
    monkeypatch.setattr(gemm, "BACKEND", backend)
    gru_from = 384 if backend == "onednn" else 512
    assert make_layer("lstm", {}).uses_fused
    assert make_layer("gru", {}).uses_fused
    assert make_layer("elman", {"nonlinearity": "relu"}).uses_fused
    assert not make_layer("lstm", {"peephole": True}).uses_fused
    assert not make_layer("gru", {"recurrent_dropout": 0.1}).uses_fused
    assert not make_layer("jordan", {}).uses_fused
    assert not make_layer("lstm", {}, engine="loop").uses_fused
    # Wide GRU/Elman layers train faster on the loop on a CPU; LSTM always takes the kernel.
    assert not make_layer("gru", {}, hidden_size=gru_from).uses_fused
    assert make_layer("gru", {}, hidden_size=gru_from - 1).uses_fused
    assert make_layer("elman", {}, hidden_size=384).uses_fused
    assert not make_layer("elman", {}, hidden_size=512).uses_fused
    assert not make_layer("elman", {"nonlinearity": "relu"}, hidden_size=600).uses_fused
    assert make_layer("gru", {}, hidden_size=512, engine="fused").uses_fused
    assert make_layer("lstm", {}, hidden_size=512).uses_fused
    with pytest.raises(ValueError, match="engine='fused' needs a standard cell"):
        make_layer("lstm", {"layer_norm": True}, engine="fused")


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda l: l(torch.randn(2, 5)), r"\(batch, time, features\)"),
        (lambda l: l(torch.randn(2, 5, 7)), "7 features per step, expected input_size=3"),
        (lambda l: l(torch.randn(2, 5, 3, dtype=torch.float64)), "float64 .* parameters are"),
        (lambda l: l(torch.randn(2, 5, 3), lengths=torch.tensor([5, 0])), r"\[1, 5\]"),
        (lambda l: l(torch.randn(2, 5, 3), lengths=torch.tensor([5, 6])), r"\[1, 5\]"),
        (lambda l: l(torch.randn(2, 5, 3), lengths=torch.tensor([5])), r"shape \(2,\)"),
        (lambda l: l(torch.randn(2, 5, 3), lengths=torch.tensor([5.0, 2.0])), "integers"),
        (
            lambda l: l(torch.randn(2, 5, 3), state=rnnkit.RNNState(torch.zeros(1, 2, 4))),
            "LSTMState",
        ),
        (
            lambda l: l(
                torch.randn(2, 5, 3),
                state=rnnkit.LSTMState(torch.zeros(1, 3, 4), torch.zeros(1, 3, 4)),
            ),
            r"state.h must have shape .* \(1, 2, 4\), got \(1, 3, 4\)",
        ),
    ],
)
def test_bad_input_is_named(call, message):
    layer = make_layer("lstm", {})
    with pytest.raises(ValueError, match=message):
        call(layer)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"cell": "lstn"}, "cell"),
        ({"hidden_size": 0}, "hidden_size"),
        ({"dropout": 1.5}, "dropout"),
        ({"cell": "gru", "peephole": True}, "peephole"),
        ({"cell": "lstm", "feedback": "both"}, "feedback"),
        ({"cell": "lstm", "colour": "red"}, "colour"),
    ],
)
def test_bad_construction_is_named(kwargs, message):
    args = {"cell": "lstm", "input_size": 3, "hidden_size": 4} | kwargs
    with pytest.raises((ValueError, TypeError), match=message):
        rnnkit.Recurrent(**args)
