"""Stacked and bidirectional composition of the NumPy reference (``rnnkit.reference.stack``).

Parity with :class:`rnnkit.Recurrent` (``engine="loop"``, float64): for every family, with one
or two directions, full or variable lengths, zero or random initial state, outputs, final
state and ALL gradients (each cell's parameters, the input, the initial state) of a fixed
random projection loss agree to 1e-6 relative. Dropout is random inside torch, so the masks
path is checked twice: against finite differences of the reference itself, and against torch
with its two samplers replaced by the same fixed masks.
"""

from __future__ import annotations

import types

import numpy as np
import pytest
import torch

import rnnkit
import rnnkit.layers.stacked
from rnnkit.reference import numerical_gradient, relative_error, stack

B, T, I, H = 3, 5, 3, 4
LENGTHS = np.array([5, 2, 3])
CLOSE = {"rtol": 1e-6, "atol": 1e-9}

# (family, torch layer options); the reference takes only the activation choices.
CONFIGS: list[tuple[str, dict]] = [
    ("elman", {}),
    ("jordan", {"feedback": "both", "output_activation": "tanh"}),
    ("lstm", {}),
    ("lstm", {"peephole": True, "layer_norm": True}),
    ("gru", {"layer_norm": True}),
]
REFERENCE_OPTIONS = ("nonlinearity", "output_activation")


def config_id(config: tuple[str, dict]) -> str:
    kind, options = config
    return "-".join([kind, *(f"{k}={v}" for k, v in options.items())])


def build(kind: str, options: dict, bidirectional: bool, **extra) -> rnnkit.Recurrent:
    """A 2-layer float64 ``Recurrent`` on the loop engine, every parameter random."""
    layer = rnnkit.Recurrent(
        kind,
        input_size=I,
        hidden_size=H,
        num_layers=2,
        bidirectional=bidirectional,
        engine="loop",
        **options,
        **extra,
    ).double()
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in layer.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64) * 0.5)
    return layer


def projection_loss(rng, out, final):
    """Fixed random projections (P, Q) of the outputs and the final state."""
    proj = rng.standard_normal(tuple(out.shape))
    proj_final = tuple(rng.standard_normal(tuple(f.shape)) for f in final)
    return proj, proj_final


def run_torch(layer, x, state0, lengths, proj, proj_final):
    """Outputs, final state and autograd gradients (params per cell, x, state0) of torch."""
    xt = torch.tensor(x, requires_grad=True)
    st = None
    if state0 is not None:
        st = type(layer.init_state(B))(*(torch.tensor(s, requires_grad=True) for s in state0))
    lt = None if lengths is None else torch.tensor(lengths)
    out, final = layer(xt, lengths=lt, state=st)
    loss = (out * torch.tensor(proj)).sum() + sum(
        (f * torch.tensor(q)).sum() for f, q in zip(final, proj_final, strict=True)
    )
    loss.backward()
    grads = [{n: p.grad.numpy() for n, p in cell.named_parameters()} for cell in layer.cells]
    dstate0 = None if st is None else [s.grad.numpy() for s in st]
    return (
        out.detach().numpy(),
        [f.detach().numpy() for f in final],
        grads,
        xt.grad.numpy(),
        dstate0,
    )


def compare(ref, theirs):
    """Assert the reference's (out, final, grads_list, dx, dstate0) match torch's."""
    out, final, grads_list, dx, dstate0 = ref
    out_t, final_t, grads_t, dx_t, dstate0_t = theirs
    np.testing.assert_allclose(out, out_t, err_msg="outputs", **CLOSE)
    assert len(final) == len(final_t)
    for k, (mine, other) in enumerate(zip(final, final_t, strict=True)):
        np.testing.assert_allclose(mine, other, err_msg=f"final[{k}]", **CLOSE)
    assert len(grads_list) == len(grads_t)
    for k, (mine, other) in enumerate(zip(grads_list, grads_t, strict=True)):
        assert sorted(mine) == sorted(other)
        for name in other:
            np.testing.assert_allclose(mine[name], other[name], err_msg=f"cell {k} {name}", **CLOSE)
    np.testing.assert_allclose(dx, dx_t, err_msg="x", **CLOSE)
    if dstate0_t is not None:
        for k, (mine, other) in enumerate(zip(dstate0, dstate0_t, strict=True)):
            np.testing.assert_allclose(mine, other, err_msg=f"state0[{k}]", **CLOSE)


@pytest.mark.parametrize("use_state", [False, True], ids=["zero_state", "state"])
@pytest.mark.parametrize("use_lengths", [False, True], ids=["full", "lengths"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_stack_matches_recurrent(config, bidirectional, use_lengths, use_state):
    kind, options = config
    layer = build(kind, options, bidirectional)
    params_list = stack.params_from_layer(layer)
    assert len(params_list) == 2 * layer.num_directions
    rng = np.random.default_rng(2)
    x = rng.standard_normal((B, T, I))
    K = layer.cells[0].recurrent_input_size
    fields = len(layer.init_state(1))
    state0 = None
    if use_state:
        state0 = tuple(rng.standard_normal((len(layer.cells), B, K)) * 0.5 for _ in range(fields))
    lengths = LENGTHS if use_lengths else None
    ref_options = {k: v for k, v in options.items() if k in REFERENCE_OPTIONS}

    out, final, cache = stack.forward(
        kind,
        params_list,
        x,
        state0,
        num_layers=2,
        bidirectional=bidirectional,
        lengths=lengths,
        **ref_options,
    )
    assert out.shape == (B, T, layer.output_size)
    if lengths is not None:  # zero past each sequence's end
        for b, n in enumerate(lengths):
            assert not out[b, n:].any()
    proj, proj_final = projection_loss(rng, out, final)
    grads_list, dx, dstate0 = stack.backward(cache, proj, proj_final)
    assert all(d.shape == (len(layer.cells), B, K) for d in dstate0)
    compare(
        (out, final, grads_list, dx, dstate0),
        run_torch(layer, x, state0, lengths, proj, proj_final),
    )


def random_masks(rng, layer):
    """Recurrent masks (one per cell) and the inter-layer mask, scaled by 1/(1-p)."""
    K = layer.cells[0].recurrent_input_size
    masks = [(rng.random((B, K)) < 0.7) / 0.7 for _ in layer.cells]
    F = layer.output_size  # layer 0's output width (every layer has the same here)
    layer_masks = [(rng.random((B, T, F)) < 0.6) / 0.6]
    return masks, layer_masks


DROPOUT_CONFIGS = [CONFIGS[1], CONFIGS[3]]  # jordan feedback=both, lstm peephole+layer_norm


@pytest.mark.parametrize("config", DROPOUT_CONFIGS, ids=config_id)
def test_stack_dropout_masks_against_finite_differences(config):
    """With fixed recurrent and inter-layer masks, lengths and a random initial state, the
    stack's backward matches central differences of its own forward, for everything."""
    kind, options = config
    layer = build(kind, options, bidirectional=True)
    params_list = stack.params_from_layer(layer)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((B, T, I))
    K = layer.cells[0].recurrent_input_size
    fields = len(layer.init_state(1))
    state0 = tuple(rng.standard_normal((len(layer.cells), B, K)) * 0.5 for _ in range(fields))
    masks, layer_masks = random_masks(rng, layer)
    kwargs = {
        "num_layers": 2,
        "bidirectional": True,
        "lengths": LENGTHS,
        "masks": masks,
        "layer_masks": layer_masks,
        **{k: v for k, v in options.items() if k in REFERENCE_OPTIONS},
    }
    out, final, cache = stack.forward(kind, params_list, x, state0, **kwargs)
    # the masks really act: without them the outputs differ
    plain, _, _ = stack.forward(kind, params_list, x, state0, **{**kwargs, "masks": None})
    assert not np.allclose(out, plain)
    proj, proj_final = projection_loss(rng, out, final)
    grads_list, dx, dstate0 = stack.backward(cache, proj, proj_final)

    def energy(p_list, xs, s0):
        o, fin, _ = stack.forward(kind, p_list, xs, s0, **kwargs)
        return float(
            (o * proj).sum() + sum((f * q).sum() for f, q in zip(fin, proj_final, strict=True))
        )

    errors = {}
    for k, params in enumerate(params_list):
        for name, value in params.items():

            def on_param(a, k=k, name=name):
                p_list = [dict(p) for p in params_list]
                p_list[k][name] = a
                return energy(p_list, x, state0)

            num = numerical_gradient(on_param, value)
            errors[f"cell {k} {name}"] = relative_error(grads_list[k][name], num)
    for j, s in enumerate(state0):

        def on_state(a, j=j):
            return energy(params_list, x, tuple(a if i == j else f for i, f in enumerate(state0)))

        errors[f"state0[{j}]"] = relative_error(dstate0[j], numerical_gradient(on_state, s))
    errors["x"] = relative_error(
        dx, numerical_gradient(lambda a: energy(params_list, a, state0), x)
    )
    worst = max(errors, key=errors.get)
    assert errors[worst] < 1e-6, (worst, errors[worst])


def test_stack_dropout_masks_match_recurrent_with_fixed_masks(monkeypatch):
    """torch samples its masks; replacing both samplers with the reference's fixed masks makes
    the training-mode layer deterministic, and then it matches the reference exactly."""
    kind, options = CONFIGS[3]
    layer = build(kind, options, True, dropout=0.4, recurrent_dropout=0.3).train()
    params_list = stack.params_from_layer(layer)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((B, T, I))
    masks, layer_masks = random_masks(rng, layer)
    for cell, m in zip(layer.cells, masks, strict=True):
        monkeypatch.setattr(cell, "sample_dropout_mask", lambda batch, m=m: torch.tensor(m))
    queue = [torch.tensor(m).transpose(0, 1) for m in layer_masks]  # the loop is time-major

    def fixed_dropout(u, p, training):
        assert training and p == 0.4
        return u * queue.pop(0)

    monkeypatch.setattr(rnnkit.layers.stacked, "F", types.SimpleNamespace(dropout=fixed_dropout))
    out, final, cache = stack.forward(
        kind,
        params_list,
        x,
        num_layers=2,
        bidirectional=True,
        lengths=LENGTHS,
        masks=masks,
        layer_masks=layer_masks,
    )
    proj, proj_final = projection_loss(rng, out, final)
    grads_list, dx, dstate0 = stack.backward(cache, proj, proj_final)
    theirs = run_torch(layer, x, None, LENGTHS, proj, proj_final)
    assert not queue  # torch used the inter-layer mask
    compare((out, final, grads_list, dx, dstate0), theirs)


def test_reverse_within_lengths_is_an_involution_that_keeps_padding():
    x = np.arange(2 * 4 * 1, dtype=float).reshape(2, 4, 1)
    r = stack.reverse_within_lengths(x, np.array([4, 2]))
    assert r[:, :, 0].tolist() == [[3.0, 2.0, 1.0, 0.0], [5.0, 4.0, 6.0, 7.0]]
    np.testing.assert_array_equal(stack.reverse_within_lengths(r, np.array([4, 2])), x)
    np.testing.assert_array_equal(stack.reverse_within_lengths(x, None), x[:, ::-1])


def test_family_by_module_or_name_and_argument_checks():
    from rnnkit.reference import gru

    layer = build("gru", {}, bidirectional=False)
    params_list = stack.params_from_layer(layer)
    x = np.random.default_rng(5).standard_normal((B, T, I))
    by_name, _, _ = stack.forward("gru", params_list, x, num_layers=2, bidirectional=False)
    by_module, _, _ = stack.forward(gru, params_list, x, num_layers=2, bidirectional=False)
    np.testing.assert_array_equal(by_name, by_module)
    with pytest.raises(ValueError, match="family"):
        stack.forward("rnn", params_list, x, num_layers=2, bidirectional=False)
    with pytest.raises(ValueError, match="params_list"):
        stack.forward(gru, params_list, x, num_layers=2, bidirectional=True)
    with pytest.raises(ValueError, match="layer_masks"):
        stack.forward(gru, params_list, x, num_layers=2, bidirectional=False, layer_masks=[])
    with pytest.raises(ValueError, match="lengths"):
        stack.forward(
            gru, params_list, x, num_layers=2, bidirectional=False, lengths=np.array([0, 1, 2])
        )
