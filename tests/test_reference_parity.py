"""Parity of the NumPy reference engine with rnnkit's torch cells, in float64.

For every family and option, with and without variable lengths and a recurrent dropout mask,
from a random initial state: the rnnkit cell runs over time in ``run_loop`` (whose gradients
come from autograd through it), the reference runs on the same weights, and outputs, final
states and ALL gradients (every parameter, the input, the initial state) of a fixed random
projection loss agree to 1e-6 relative.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit.layers.loop import run_loop
from rnnkit.reference import FAMILIES, params_from_torch, params_to_torch

B, T, I, H, O = 3, 6, 4, 5, 3
LENGTHS = np.array([6, 2, 5])

# (family, torch cell options); the reference reads structure from the parameter names and
# takes only the activation choices as options.
CONFIGS: list[tuple[str, dict]] = [("elman", {"nonlinearity": n}) for n in ("tanh", "relu")]
CONFIGS += [
    ("jordan", {"feedback": fb, "output_activation": act, "nonlinearity": n, "output_size": O})
    for fb in ("hidden", "output", "both")
    for act in ("identity", "tanh", "sigmoid", "softmax")
    for n in ("tanh", "relu")
]
CONFIGS += [
    ("lstm", {"peephole": p, "layer_norm": ln}) for p in (False, True) for ln in (False, True)
]
CONFIGS += [("gru", {"layer_norm": ln}) for ln in (False, True)]

REFERENCE_OPTIONS = ("nonlinearity", "output_activation")


def config_id(config: tuple[str, dict]) -> str:
    kind, options = config
    shown = {k: v for k, v in options.items() if k != "output_size"}
    return "-".join([kind, *(f"{k}={v}" for k, v in shown.items())])


def build(kind: str, options: dict) -> rnnkit.cells.Cell:
    """The rnnkit cell in float64 with every parameter random (gains and biases too)."""
    cell = rnnkit.make_cell(kind, I, H, **options).double()
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in cell.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64) * 0.5)
    return cell


@pytest.mark.parametrize("use_mask", [False, True], ids=["nomask", "mask"])
@pytest.mark.parametrize("use_lengths", [False, True], ids=["full", "lengths"])
@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_reference_matches_rnnkit_cell(config, use_lengths, use_mask):
    kind, options = config
    cell = build(kind, options)
    params = params_from_torch(cell)
    family = FAMILIES[kind]
    rng = np.random.default_rng(2)
    K = cell.recurrent_input_size
    x = rng.standard_normal((B, T, I))
    state0 = tuple(rng.standard_normal((B, K)) * 0.5 for _ in cell.state_type._fields)
    lengths = LENGTHS if use_lengths else None
    mask = (rng.random((B, K)) < 0.7) / 0.7 if use_mask else None

    # rnnkit: time-major loop, gradients by autograd through it
    xt = torch.tensor(x, requires_grad=True)
    st = [torch.tensor(s, requires_grad=True) for s in state0]
    valid = None
    if lengths is not None:
        valid = torch.as_tensor(np.arange(T)[:, None, None] < lengths[None, :, None])
    mt = None if mask is None else torch.tensor(mask)
    out_t, final_t = run_loop(cell, xt.transpose(0, 1), cell.state_type(*st), valid, mt)
    out_t = out_t.transpose(0, 1)

    # reference
    ref_options = {k: v for k, v in options.items() if k in REFERENCE_OPTIONS}
    out, final, cache = family.forward(params, x, state0, lengths=lengths, mask=mask, **ref_options)
    close = {"rtol": 1e-6, "atol": 1e-9}
    np.testing.assert_allclose(out, out_t.detach().numpy(), **close)
    for mine, theirs in zip(final, final_t, strict=True):
        np.testing.assert_allclose(mine, theirs.detach().numpy(), **close)

    proj = rng.standard_normal(out.shape)
    proj_final = tuple(rng.standard_normal(s.shape) for s in final)
    loss = (out_t * torch.tensor(proj)).sum() + sum(
        (f * torch.tensor(q)).sum() for f, q in zip(final_t, proj_final, strict=True)
    )
    loss.backward()
    grads, dx, dstate0 = family.backward(params, cache, proj, proj_final)

    assert list(grads) == list(params)
    for name, p in cell.named_parameters():
        np.testing.assert_allclose(grads[name], p.grad.numpy(), err_msg=name, **close)
    np.testing.assert_allclose(dx, xt.grad.numpy(), err_msg="x", **close)
    for k, s in enumerate(st):
        np.testing.assert_allclose(dstate0[k], s.grad.numpy(), err_msg=f"state0[{k}]", **close)


def test_params_round_trip_through_a_torch_cell():
    cell = build("lstm", {"peephole": True, "layer_norm": True})
    params = {k: v * 2.0 for k, v in params_from_torch(cell).items()}
    params_to_torch(params, cell)
    back = params_from_torch(cell)
    assert list(back) == list(params)
    for name in params:
        np.testing.assert_array_equal(back[name], params[name])
    with pytest.raises(KeyError):
        params_to_torch({"weight_ih": params["weight_ih"]}, cell)
    with pytest.raises(ValueError, match="weight_hh"):
        params_to_torch({**params, "weight_hh": params["weight_hh"][:1]}, cell)
