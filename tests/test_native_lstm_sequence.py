"""A whole LSTM sequence in C (``native/lstm_sequence.c``) against the Python loop's steps.

The C loop runs where gemm's backend is MKL; these tests select that backend whatever the
machine's CPU, so they run wherever torch exports MKL's packed GEMM and a C compiler exists.
The reference is the Python loop stepping through the same step kernels (``lstm.c``), which
tests/test_native_lstm.py checks against the cell's torch code, the definition; the C loop
must give the same numbers to float rounding. One test compares with the torch code directly.
"""

from __future__ import annotations

import contextlib

import pytest
import torch

import rnnkit
from native_cases import needs_native, saved_by_c_runs
from rnnkit.cells import gemm, lstm_sequence, native


@pytest.fixture(autouse=True)
def mkl_backend(monkeypatch):
    monkeypatch.setattr(gemm, "BACKEND", "mkl")


@pytest.fixture
def native_runs(monkeypatch):
    """What each sequence the C loop ran saved; its length counts them."""
    return saved_by_c_runs(monkeypatch, lstm_sequence)


def make_layer(seed=0, **options):
    torch.manual_seed(seed)
    layer = rnnkit.Recurrent("lstm", input_size=5, hidden_size=6, **options)
    with torch.no_grad():  # gains, shifts and peepholes away from their 1 and 0, to test them
        for name, p in layer.named_parameters():
            if "ln_" in name or "weight_c" in name:
                p.add_(torch.randn_like(p) * 0.3)
    return layer


def training_step(layer, x, state=None, inplace_scale=None):
    """Outputs, final state, and the gradients of x, of the initial state, of every parameter."""
    layer.zero_grad()
    x = x.clone().requires_grad_(True)
    if state is not None:
        state = type(state)(*(s.clone().requires_grad_(True) for s in state))
    torch.manual_seed(1)  # the same recurrent-dropout masks both ways
    out, final = layer(x, state=state)
    weights = torch.linspace(-1, 1, out.size(-1))
    if inplace_scale is not None:  # the caller owns the outputs and may change them
        out.mul_(inplace_scale)
    loss = (out * weights).sum() + 0.3 * final.h.pow(2).sum() - 0.2 * final.c.sum()
    loss.backward()
    state_grads = [] if state is None else [s.grad for s in state]
    grads = [x.grad, *state_grads, *(p.grad for p in layer.parameters())]
    return [out.detach().clone(), *(s.detach() for s in final), *grads]


def assert_all_close(got, want, rtol=1e-5):
    # float32, some sums in other orders: close at each tensor's scale
    for a, b in zip(got, want, strict=True):
        torch.testing.assert_close(a, b, rtol=rtol, atol=rtol * (1 + b.abs().max().item()) / 10)


X = torch.randn(8, 20, 5, generator=torch.Generator().manual_seed(3))

OPTIONS = [
    {"engine": "loop"},
    {"peephole": True},
    {"layer_norm": True},
    {"layer_norm": True, "peephole": True, "recurrent_dropout": 0.3},
    {"recurrent_dropout": 0.3},
    {"num_layers": 2, "bidirectional": True, "dropout": 0.2, "layer_norm": True},
]


@needs_native
@pytest.mark.parametrize(
    "options", OPTIONS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items())
)
def test_c_sequence_equals_the_python_steps(options, native_runs):
    layer = make_layer(**options)
    x = torch.randn(3, 8, 5)
    got = training_step(layer, x)
    assert len(native_runs) == layer.num_layers * layer.num_directions
    with native.steps_only():
        want = training_step(layer, x)
    assert_as_close_as_float32_allows(got, want, float64_truth(layer, options, x))


def float64_truth(layer, options, x):
    """The training step of the torch code in float64, on a float64 copy of ``layer``."""
    wide = make_layer(**options).double()
    wide.load_state_dict({k: v.double() for k, v in layer.state_dict().items()})
    with native.switched_off("the float64 truth"):
        return training_step(wide, x.double())


def assert_as_close_as_float32_allows(got, want, truth):
    """``got`` (the C loop) is about as accurate as ``want`` (the Python steps), and close to it.

    Both are float32 and sum in other orders. Layer norm divides by a standard deviation,
    which amplifies rounding: over two bidirectional layers either path is up to 3e-5 of a
    tensor's scale from the float64 truth, tensor by tensor one or the other ahead (measured
    on an AMD EPYC, where MKL's packed and plain products differ more than on Intel), so a
    fixed 1e-5 between the two cannot tell a right C loop from a wrong one. The allowance is
    what float32 already costs the reference, measured, plus 1e-5 of the scale; a C loop off
    by 1e-3 of the scale in one element fails (150 of 150 such mutants over 25 seeds).
    """
    for a, b, t in zip(got, want, truth, strict=True):
        scale = 1 + t.abs().max().item()
        err_want = (b.double() - t).abs().max().item()
        err_got = (a.double() - t).abs().max().item()
        allowed = 3 * err_want + 1e-5 * scale
        assert err_got <= allowed, f"C loop off the float64 truth by {err_got:.3g} > {allowed:.3g}"
        torch.testing.assert_close(a, b, rtol=1e-5, atol=err_want + allowed)


@needs_native
def test_c_sequence_equals_the_torch_code(native_runs):
    layer = make_layer(layer_norm=True, peephole=True, recurrent_dropout=0.3)
    x = torch.randn(3, 8, 5)
    got = training_step(layer, x)
    with native.switched_off("the torch code"):
        want = training_step(layer, x)
    assert len(native_runs) == 1
    assert_all_close(got, want, rtol=1e-4)


@needs_native
def test_a_given_initial_state_gets_its_gradient(native_runs):
    layer = make_layer(layer_norm=True, peephole=True)
    x = torch.randn(2, 7, 5)
    state = rnnkit.state.LSTMState(torch.randn(1, 2, 6), torch.randn(1, 2, 6))
    got = training_step(layer, x, state)
    with native.steps_only():
        want = training_step(layer, x, state)
    assert len(native_runs) == 1
    assert_all_close(got, want)


@needs_native
@pytest.mark.parametrize("steps", [6, 7], ids=["even", "odd"])  # the state slots alternate
@pytest.mark.parametrize("options", [{"engine": "loop"}, {"layer_norm": True, "peephole": True}])
def test_c_sequence_in_inference_equals_the_python_steps(options, steps, monkeypatch):
    """Without gradients the C loop keeps one step of activations (two of the state), not
    T: nothing is saved, and outputs and final state equal the Python steps'."""
    saved = saved_by_c_runs(monkeypatch, lstm_sequence)
    layer = make_layer(**options).eval()
    x = torch.randn(2, steps, 5)
    state = rnnkit.state.LSTMState(torch.randn(1, 2, 6), torch.randn(1, 2, 6))
    with torch.no_grad():
        got, final = layer(x, state=state)
        with native.steps_only():
            want, want_final = layer(x, state=state)
    assert saved == [None]
    assert_all_close([got, *final], [want, *want_final])


@needs_native
@pytest.mark.parametrize("options", [{"engine": "loop"}, {"layer_norm": True}], ids=["plain", "ln"])
def test_changing_the_outputs_in_place_leaves_the_gradients_right(options, native_runs):
    """The outputs handed out are not the arrays the backward reads."""
    layer = make_layer(**options)
    x = torch.randn(2, 6, 5)
    got = training_step(layer, x, inplace_scale=2.0)
    with native.steps_only():
        want = training_step(layer, x, inplace_scale=2.0)
    assert len(native_runs) == 1
    assert_all_close(got, want)


@needs_native
def test_a_training_step_leaves_no_reference_cycle(native_runs):
    """Saved state that held a returned tensor would keep every step's graph alive until
    Python's cyclic GC ran: the trap the loop's docstring describes."""
    import gc

    layer = make_layer(layer_norm=True)
    x = torch.randn(2, 6, 5)
    gc.collect()
    gc.disable()
    try:
        training_step(layer, x)
        assert gc.collect() == 0
    finally:
        gc.enable()
    assert len(native_runs) == 1


@needs_native
@pytest.mark.parametrize(
    "lengths,dtype,backend",
    [([6, 3], torch.float32, "mkl"), (None, torch.float64, "mkl"), (None, torch.float32, "onednn")],
    ids=["padded", "float64", "onednn"],
)
def test_what_the_c_loop_lacks_runs_the_python_steps(
    lengths, dtype, backend, native_runs, monkeypatch
):
    monkeypatch.setattr(gemm, "BACKEND", backend)
    layer = make_layer(layer_norm=True).to(dtype)
    out, _ = layer(torch.randn(2, 6, 5, dtype=dtype), lengths=lengths and torch.tensor(lengths))
    out.sum().backward()
    assert len(native_runs) == 0


@needs_native
@pytest.mark.parametrize("way", ["sequence", "steps"])
def test_runs_repeat_bit_for_bit_on_more_threads_than_two(way):
    """The kernels' per-thread parameter sums are added in thread order: with three threads
    or more, adding them as each thread finished changed the last bits from run to run."""
    threads = torch.get_num_threads()
    torch.set_num_threads(4)
    try:
        with native.steps_only() if way == "steps" else contextlib.nullcontext():
            runs = [training_step(make_layer(layer_norm=True, peephole=True), x) for x in [X] * 4]
    finally:
        torch.set_num_threads(threads)
    for run in runs[1:]:
        assert all(torch.equal(a, b) for a, b in zip(run, runs[0], strict=True))
