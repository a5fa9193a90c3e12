"""The native LSTM kernels against the LSTM cell's torch code, which defines them."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

import rnnkit
from rnnkit.cells import native

KERNELS = native.kernels()
needs_kernels = pytest.mark.skipif(KERNELS is None, reason=f"native kernels {native.status()}")

OPTIONS = [
    {"engine": "loop"},
    {"peephole": True},
    {"layer_norm": True},
    {"layer_norm": True, "peephole": True},
    {"recurrent_dropout": 0.3},
]


@pytest.fixture(autouse=True)
def steps_only():
    """The Python loop's steps, with these kernels: not the whole sequence in C, which
    tests/test_native_lstm_sequence.py checks against these steps."""
    with native.steps_only():
        yield


@pytest.fixture
def torch_only():
    """Within the test, the cells find no kernels and run their torch code."""
    with native.switched_off("test"):
        yield


def training_step(options, lengths=None, seed=0):
    torch.manual_seed(seed)
    layer = rnnkit.Recurrent(
        "lstm", input_size=5, hidden_size=7, num_layers=2, bidirectional=True, **options
    )
    with torch.no_grad():  # gains and shifts away from their 1 and 0, to test them
        for name, p in layer.named_parameters():
            if "ln_" in name or "weight_c" in name:
                p.add_(torch.randn_like(p) * 0.3)
    x = torch.randn(3, 6, 5, requires_grad=True)
    torch.manual_seed(seed + 1)  # the same dropout masks on both sides
    out, state = layer(x, lengths=lengths)
    (out.pow(2).sum() + sum(s.pow(2).sum() for s in state)).backward()
    grads = {n: p.grad for n, p in layer.named_parameters()}
    return out, state, x.grad, grads


@needs_kernels
@pytest.mark.parametrize(
    "options", OPTIONS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items())
)
@pytest.mark.parametrize("lengths", [None, torch.tensor([6, 2, 4])], ids=["full", "lengths"])
def test_native_step_equals_the_torch_step(options, lengths):
    native_run = training_step(options, lengths)
    with native.switched_off("test"):
        torch_run = training_step(options, lengths)
    # float32, summed in other orders (-ffast-math reassociates): close at each tensor's scale
    pairs = [(native_run[0], torch_run[0]), (native_run[2], torch_run[2])]
    pairs += list(zip(native_run[1], torch_run[1], strict=True))
    assert native_run[3].keys() == torch_run[3].keys()
    pairs += [(native_run[3][name], torch_run[3][name]) for name in native_run[3]]
    for got, want in pairs:
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5 * (1 + want.abs().max().item()))


@needs_kernels
def test_the_loop_runs_the_kernels(monkeypatch):
    calls = {"forward": 0, "backward": 0}
    for name in calls:
        original = getattr(KERNELS, name)

        def counted(*args, _name=name, _original=original):
            calls[_name] += 1
            return _original(*args)

        monkeypatch.setattr(KERNELS, name, counted)
    training_step({"layer_norm": True})
    assert calls == {"forward": 2 * 2 * 6, "backward": 2 * 2 * 6}  # layers x directions x T


@needs_kernels
@pytest.mark.parametrize("options", OPTIONS[:4], ids=lambda o: ",".join(o))
def test_saturated_gates_stay_finite_and_nan_stays_nan(options):
    layer = rnnkit.Recurrent("lstm", input_size=3, hidden_size=4, **options)
    with torch.no_grad():
        huge = layer(torch.full((2, 3, 3), 1e4) * torch.tensor([1.0, -1.0, 1.0]))[0]
        assert torch.isfinite(huge).all()
        x = torch.randn(2, 3, 3)
        x[0, 1, 0] = float("nan")
        out = layer(x)[0]
    assert torch.isnan(out[0, 1:]).all() and torch.isfinite(out[1]).all()


def test_float64_and_autograd_use_the_torch_code(monkeypatch):
    def fail(*args):
        raise AssertionError("the kernels were called")

    if KERNELS is not None:
        monkeypatch.setattr(KERNELS, "forward", fail)
        monkeypatch.setattr(KERNELS, "backward", fail)
    layer = rnnkit.Recurrent("lstm", input_size=3, hidden_size=4, layer_norm=True).double()
    layer(torch.randn(2, 3, 3, dtype=torch.float64))[0].sum().backward()
    cell = rnnkit.cells.LSTMCell(3, 4, peephole=True)  # a direct call records autograd
    cell(torch.randn(2, 3))[0].sum().backward()


def run_python(code: str, **env: str) -> str:
    import os

    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


STATUS = "from rnnkit.cells import native; print(native.status())"


def test_switched_off_within_a_block_then_restored():
    before = native.status()
    with native.switched_off("a benchmark"):
        assert native.kernels() is None and native.status() == "off (a benchmark)"
    assert native.status() == before


def test_switched_off_by_the_environment():
    assert run_python(STATUS, RNNKIT_NATIVE="0") == "off (RNNKIT_NATIVE=0)"


def test_a_missing_compiler_falls_back_to_torch(tmp_path):
    code = STATUS + "; import rnnkit, torch; rnnkit.Recurrent('lstm', 2, 3, peephole=True)("
    code += "torch.randn(1, 2, 2))[0].sum().backward(); print('trained')"
    out = run_python(code, CC=str(tmp_path / "no-such-cc"), RNNKIT_CACHE=str(tmp_path))
    status, trained = out.splitlines()
    assert status.startswith("off: building lstm.c, lstm_sequence.c, squash.c, jordan.c failed")
    assert "no-such-cc" in status
    assert trained == "trained"


@needs_kernels
def test_built_once_into_the_cache_then_loaded(tmp_path):
    first = run_python(STATUS, RNNKIT_CACHE=str(tmp_path))
    built = list((tmp_path / "native").glob("kernels-*.so"))
    assert first == f"on ({built[0]})" and len(built) == 1
    stamp = built[0].stat().st_mtime_ns
    assert run_python(STATUS, RNNKIT_CACHE=str(tmp_path)) == first
    assert built[0].stat().st_mtime_ns == stamp
    digests = [p.with_name(p.name + ".sha256") for p in built]  # recorded at build (trust.py)
    left = [p for p in (tmp_path / "native").iterdir() if p not in built + digests]
    assert not left  # no temporary file left
