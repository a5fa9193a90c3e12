"""The hand-written BPTT of the generic loop, for every cell and option.

Two independent checks in float64: central finite differences (torch.autograd.gradcheck), and
autograd differentiating the cell's own one-step forward called in a plain Python loop.
"""

from __future__ import annotations

import pytest
import torch

from cases import CELL_CASES, case_id, make_layer, perturb_
from rnnkit.layers.loop import run_loop


def seeded_layer(cell, options, **kwargs):
    layer = make_layer(cell, options, engine="loop", **kwargs).double()
    perturb_(layer)
    return layer


@pytest.mark.parametrize("cell,options", CELL_CASES, ids=map(case_id, CELL_CASES))
@pytest.mark.parametrize("lengths", [None, [4, 2]], ids=["full", "padded"])
def test_gradcheck_every_parameter_input_and_state(cell, options, lengths):
    layer = seeded_layer(cell, options, num_layers=2, bidirectional=True)
    x = torch.randn(2, 4, 3, dtype=torch.float64, requires_grad=True)
    state0 = layer.init_state(2)
    state0 = tuple(torch.randn_like(s).mul_(0.5).requires_grad_(True) for s in state0)
    params = list(layer.parameters())
    lengths_t = None if lengths is None else torch.tensor(lengths)

    def f(x, *tensors):
        torch.manual_seed(0)  # the same recurrent-dropout masks at every evaluation
        state = type(layer.init_state(1))(*tensors[: len(state0)])
        out, final = layer(x, lengths=lengths_t, state=state)
        return (out, *final)

    assert torch.autograd.gradcheck(
        f, (x, *state0, *params), eps=1e-6, atol=1e-7, rtol=1e-5, fast_mode=True
    )


def autograd_loop(cell, x, state, mask):
    """Reference: the cell's one-step forward in a Python loop, differentiated by autograd."""
    outputs = []
    for x_t in x.unbind(0):
        y, state = cell(x_t, state, dropout_mask=mask)
        outputs.append(y)
    return torch.stack(outputs), state


@pytest.mark.parametrize("cell,options", CELL_CASES, ids=map(case_id, CELL_CASES))
def test_hand_written_bptt_equals_autograd(cell, options):
    layer = seeded_layer(cell, options, hidden_size=5)
    module = layer.cells[0]
    torch.manual_seed(3)
    x = torch.randn(7, 4, 3, dtype=torch.float64)  # (T, B, I), long enough to matter
    state = module.init_state(4)
    state = type(state)(*(torch.randn_like(s) for s in state))
    mask = module.sample_dropout_mask(4)
    gen = torch.Generator().manual_seed(5)

    def grads_of(run):
        for p in module.parameters():
            p.grad = None
        xs = x.clone().requires_grad_(True)
        s0 = type(state)(*(s.clone().requires_grad_(True) for s in state))
        out, final = run(module, xs, s0, mask)
        weights = [torch.randn(t.shape, generator=gen, dtype=t.dtype) for t in (out, *final)]
        sum((t * w).sum() for t, w in zip((out, *final), weights, strict=True)).backward()
        gen.manual_seed(5)
        named = {n: p.grad.clone() for n, p in module.named_parameters()}
        return out.detach(), named | {"x": xs.grad, **{f"s{i}": s.grad for i, s in enumerate(s0)}}

    out_loop, grads_loop = grads_of(lambda c, xs, s0, m: run_loop(c, xs, s0, None, m))
    out_ref, grads_ref = grads_of(autograd_loop)
    torch.testing.assert_close(out_loop, out_ref, rtol=1e-10, atol=1e-12)
    for name, g in grads_ref.items():
        torch.testing.assert_close(grads_loop[name], g, rtol=1e-8, atol=1e-10, msg=name)
