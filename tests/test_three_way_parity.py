"""Three-way parity in float64: the NumPy reference == rnnkit (loop and auto) == torch.nn.

Same weights, input and initial state; a fixed random projection of the outputs and the final
state as the loss. Outputs, final state, every parameter gradient, dx and the initial-state
gradients agree to 1e-6 relative. torch.nn has no lengths argument, so with lengths each
sequence runs alone, cut to its length (the projection of the padding is dropped: rnnkit's
outputs there are zero).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from cases import make_layer, perturb_
from rnnkit.reference import stack

TORCH_CLASSES = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "elman": torch.nn.RNN}
STANDARD = [("lstm", {}), ("gru", {}), ("elman", {}), ("elman", {"nonlinearity": "relu"})]
B, T, I, H = 3, 5, 3, 4
TOL = {"rtol": 1e-6, "atol": 1e-9}


def named_params(module: torch.nn.Module) -> dict[str, torch.nn.Parameter]:
    """Parameters under torch.nn's names (rnnkit's state_dict keys are torch.nn's)."""
    if isinstance(module, torch.nn.RNNBase):
        return dict(module.named_parameters())
    return dict(module.state_dict(keep_vars=True))


def projected(out, final, proj, proj_final):
    loss = (out * proj).sum()
    for f, q in zip(final, proj_final, strict=True):
        loss = loss + (f * q).sum()
    return loss


def run_rnnkit(layer, x, state0, lengths, proj, proj_final):
    xt = x.clone().requires_grad_(True)
    st = type(layer.init_state(1))(*(s.clone().requires_grad_(True) for s in state0))
    out, final = layer(xt, lengths=None if lengths is None else torch.tensor(lengths), state=st)
    projected(out, final, proj, proj_final).backward()
    grads = {k: p.grad for k, p in named_params(layer).items()}
    return out.detach(), tuple(f.detach() for f in final), grads, xt.grad, [s.grad for s in st]


def run_torch_nn(module, x, state0, lengths, proj, proj_final):
    xt = x.clone().requires_grad_(True)
    st = [s.clone().requires_grad_(True) for s in state0]
    lengths = [T] * B if lengths is None else lengths
    out = torch.zeros(B, T, proj.shape[-1], dtype=x.dtype)
    finals = [torch.zeros_like(s) for s in st]
    loss = 0.0
    for b, n in enumerate(lengths):  # each sequence alone, cut to its length
        hx = tuple(s[:, b : b + 1] for s in st)
        o, f = module(xt[b : b + 1, :n], hx if len(hx) == 2 else hx[0])
        f = f if isinstance(f, tuple) else (f,)
        qs = tuple(q[:, b : b + 1] for q in proj_final)
        loss = loss + projected(o, f, proj[b : b + 1, :n], qs)
        out[b, :n] = o[0].detach()
        for field, value in zip(finals, f, strict=True):
            field[:, b] = value[:, 0].detach()
    loss.backward()
    grads = {k: p.grad for k, p in named_params(module).items()}
    return out, tuple(finals), grads, xt.grad, [s.grad for s in st]


def run_reference(layer, cell, options, x, state0, lengths, proj, proj_final):
    num_layers, D = layer.num_layers, layer.num_directions
    ref_options = {"nonlinearity": options.get("nonlinearity", "tanh")} if cell == "elman" else {}
    out, final, cache = stack.forward(
        cell,
        stack.params_from_layer(layer),
        x.numpy(),
        tuple(s.numpy() for s in state0),
        num_layers=num_layers,
        bidirectional=D == 2,
        lengths=None if lengths is None else np.array(lengths),
        **ref_options,
    )
    grads_list, dx, dstate0 = stack.backward(
        cache, proj.numpy(), tuple(q.numpy() for q in proj_final)
    )
    grads = {
        f"{name}_l{k // D}{'_reverse' if k % D else ''}": torch.from_numpy(g)
        for k, g_k in enumerate(grads_list)
        for name, g in g_k.items()
    }
    as_t = torch.from_numpy
    return as_t(out), tuple(map(as_t, final)), grads, as_t(dx), [as_t(d) for d in dstate0]


def assert_same(a, b, what):
    out_a, final_a, grads_a, dx_a, ds_a = a
    out_b, final_b, grads_b, dx_b, ds_b = b
    torch.testing.assert_close(out_a, out_b, **TOL, msg=f"{what}: outputs")
    for i, (fa, fb) in enumerate(zip(final_a, final_b, strict=True)):
        torch.testing.assert_close(fa, fb, **TOL, msg=f"{what}: final[{i}]")
    assert grads_a.keys() == grads_b.keys()
    for name in grads_a:
        torch.testing.assert_close(grads_a[name], grads_b[name], **TOL, msg=f"{what}: d{name}")
    torch.testing.assert_close(dx_a, dx_b, **TOL, msg=f"{what}: dx")
    for i, (da, db) in enumerate(zip(ds_a, ds_b, strict=True)):
        torch.testing.assert_close(da, db, **TOL, msg=f"{what}: dstate0[{i}]")


@pytest.mark.parametrize("cell,options", STANDARD, ids=lambda c: str(c))
@pytest.mark.parametrize("num_layers,bidirectional", list(itertools.product([1, 2], [False, True])))
@pytest.mark.parametrize("lengths", [None, [5, 2, 3]], ids=["full", "lengths"])
def test_reference_equals_rnnkit_equals_torch_nn(cell, options, num_layers, bidirectional, lengths):
    shape = {"num_layers": num_layers, "bidirectional": bidirectional}
    loop = make_layer(cell, options, engine="loop", **shape).double()
    perturb_(loop)
    auto = make_layer(cell, options, engine="auto", **shape).double()
    auto.load_state_dict(loop.state_dict())
    assert auto.uses_fused and not loop.uses_fused
    kwargs = {"nonlinearity": options.get("nonlinearity", "tanh")} if cell == "elman" else {}
    module = TORCH_CLASSES[cell](I, H, batch_first=True, **shape, **kwargs).double()
    module.load_state_dict(loop.state_dict())

    gen = torch.Generator().manual_seed(3)
    x = torch.randn(B, T, I, generator=gen, dtype=torch.float64)
    state0 = [torch.randn(s.shape, generator=gen, dtype=torch.float64) for s in loop.init_state(B)]
    proj = torch.randn(B, T, loop.output_size, generator=gen, dtype=torch.float64)
    proj_final = [torch.randn(s.shape, generator=gen, dtype=torch.float64) for s in state0]
    args = (x, state0, lengths, proj, proj_final)

    reference = run_reference(loop, cell, options, *args)
    assert_same(reference, run_rnnkit(loop, *args), "reference vs rnnkit loop")
    assert_same(reference, run_rnnkit(auto, *args), "reference vs rnnkit auto")
    assert_same(reference, run_torch_nn(module, *args), "reference vs torch.nn")
