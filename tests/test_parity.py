"""Parity in float64: rnnkit == torch.nn, and the generic loop == the fused path.

Gradients come from a fixed random projection of the outputs and final state, so every output
element and every state field carries a distinct gradient.
"""

from __future__ import annotations

import itertools

import pytest
import torch

from cases import make_layer, perturb_

TORCH_CLASSES = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "elman": torch.nn.RNN}
STANDARD = [("lstm", {}), ("gru", {}), ("elman", {}), ("elman", {"nonlinearity": "relu"})]
SHAPES = list(itertools.product([1, 2], [False, True]))  # (num_layers, bidirectional)
TOL = {"rtol": 1e-6, "atol": 1e-9}


def torch_module(cell: str, options: dict, num_layers: int, bidirectional: bool):
    kwargs = {"nonlinearity": options.get("nonlinearity", "tanh")} if cell == "elman" else {}
    return TORCH_CLASSES[cell](
        3, 4, num_layers=num_layers, bidirectional=bidirectional, batch_first=True, **kwargs
    ).double()


def loss_of(out: torch.Tensor, state: tuple) -> torch.Tensor:
    """A fixed random linear function of everything the layer returns."""
    gen = torch.Generator().manual_seed(1)
    total = (out * torch.randn(out.shape, generator=gen, dtype=out.dtype)).sum()
    for field in state:
        total = total + (field * torch.randn(field.shape, generator=gen, dtype=out.dtype)).sum()
    return total


def run_with_grads(module, x, lengths=None, state=None):
    """Outputs, final state, and gradients w.r.t. parameters, input and initial state."""
    x = x.clone().requires_grad_(True)
    if state is not None:
        state = type(state)(*(s.clone().requires_grad_(True) for s in state))
    if isinstance(module, torch.nn.RNNBase):
        hx = None if state is None else (tuple(state) if len(state) == 2 else state[0])
        out, final = module(x, hx)
        final = final if isinstance(final, tuple) else (final,)
    else:
        out, final = module(x, lengths=lengths, state=state)
    loss_of(out, final).backward()
    grads = {name: p.grad.clone() for name, p in _torch_named(module)}
    grads["x"] = x.grad
    if state is not None:
        grads.update({f"state{i}": s.grad for i, s in enumerate(state)})
    return out.detach(), tuple(f.detach() for f in final), grads


def _torch_named(module):
    """Parameters under torch.nn's names (rnnkit's state_dict keys)."""
    if isinstance(module, torch.nn.RNNBase):
        return list(module.named_parameters())
    by_id = {id(p): p for p in module.parameters()}
    return [(k, by_id[id(v)]) for k, v in module.state_dict(keep_vars=True).items()]


def assert_same(a, b):
    out_a, state_a, grads_a = a
    out_b, state_b, grads_b = b
    torch.testing.assert_close(out_a, out_b, **TOL)
    for sa, sb in zip(state_a, state_b, strict=True):
        torch.testing.assert_close(sa, sb, **TOL)
    assert grads_a.keys() == grads_b.keys()
    for name in grads_a:
        torch.testing.assert_close(grads_a[name], grads_b[name], **TOL, msg=name)


@pytest.mark.parametrize("cell,options", STANDARD, ids=lambda c: str(c))
@pytest.mark.parametrize("num_layers,bidirectional", SHAPES)
@pytest.mark.parametrize("with_state", [False, True])
def test_fast_path_equals_torch_nn(cell, options, num_layers, bidirectional, with_state):
    torch.manual_seed(0)
    reference = torch_module(cell, options, num_layers, bidirectional)
    layer = make_layer(cell, options, num_layers=num_layers, bidirectional=bidirectional).double()
    layer.load_state_dict(reference.state_dict())
    assert layer.uses_fused
    x = torch.randn(3, 6, 3, dtype=torch.float64)
    state = None
    if with_state:
        state = layer.init_state(3)
        state = type(state)(*(torch.randn_like(s) for s in state))
    assert_same(run_with_grads(layer, x, state=state), run_with_grads(reference, x, state=state))


@pytest.mark.parametrize("cell,options", STANDARD, ids=lambda c: str(c))
@pytest.mark.parametrize("num_layers,bidirectional", SHAPES)
@pytest.mark.parametrize("engine", ["auto", "loop"])
def test_lengths_equal_torch_nn_per_sequence(cell, options, num_layers, bidirectional, engine):
    """A padded batch equals torch.nn run on each sequence alone, cut to its length."""
    torch.manual_seed(0)
    reference = torch_module(cell, options, num_layers, bidirectional)
    layer = make_layer(
        cell, options, num_layers=num_layers, bidirectional=bidirectional, engine=engine
    ).double()
    layer.load_state_dict(reference.state_dict())
    lengths = torch.tensor([4, 6, 1])
    x = torch.randn(3, 6, 3, dtype=torch.float64)
    out, final = layer(x, lengths=lengths)
    for b, n in enumerate(lengths.tolist()):
        ref_out, ref_final = reference(x[b : b + 1, :n])
        ref_final = ref_final if isinstance(ref_final, tuple) else (ref_final,)
        torch.testing.assert_close(out[b, :n], ref_out[0], **TOL)
        assert torch.all(out[b, n:] == 0)
        for field, ref_field in zip(final, ref_final, strict=True):
            torch.testing.assert_close(field[:, b], ref_field[:, 0], **TOL)


@pytest.mark.parametrize("cell,options", STANDARD, ids=lambda c: str(c))
@pytest.mark.parametrize("num_layers,bidirectional", SHAPES)
@pytest.mark.parametrize("lengths", [None, [5, 2, 3]])
def test_loop_equals_fast_path(cell, options, num_layers, bidirectional, lengths):
    torch.manual_seed(0)
    fused = make_layer(cell, options, num_layers=num_layers, bidirectional=bidirectional).double()
    perturb_(fused)
    loop = make_layer(
        cell, options, num_layers=num_layers, bidirectional=bidirectional, engine="loop"
    ).double()
    loop.load_state_dict(fused.state_dict())
    assert fused.uses_fused and not loop.uses_fused
    x = torch.randn(3, 5, 3, dtype=torch.float64)
    lengths = None if lengths is None else torch.tensor(lengths)
    state = fused.init_state(3)
    state = type(state)(*(torch.randn_like(s) for s in state))
    assert_same(run_with_grads(loop, x, lengths, state), run_with_grads(fused, x, lengths, state))


@pytest.mark.parametrize("cell", ["lstm", "gru", "elman"])
def test_state_dict_round_trips_with_torch_nn(cell):
    reference = torch_module(cell, {}, 2, True)
    layer = make_layer(cell, {}, num_layers=2, bidirectional=True).double()
    layer.load_state_dict(reference.state_dict())  # torch -> rnnkit
    fresh = torch_module(cell, {}, 2, True)
    fresh.load_state_dict(layer.state_dict())  # rnnkit -> torch
    for (name, p), (name_ref, q) in zip(
        fresh.named_parameters(), reference.named_parameters(), strict=True
    ):
        assert name == name_ref and torch.equal(p, q)
    assert list(layer.state_dict()) == list(reference.state_dict())
