"""The reference engine's hand-derived gradients against finite differences (float64).

Also: the per-step contributions sum to the total gradient, ‖∂E/∂h_t‖ is what its name says,
and the losses' gradients match finite differences.
"""

from __future__ import annotations

import numpy as np
import pytest

from rnnkit.reference import elman, gradcheck, gru, jordan, losses, lstm, numerical_gradient
from rnnkit.reference.gradcheck import relative_error

B, T, I, H, O = 2, 4, 2, 3, 2
LENGTHS = np.array([4, 2])
TOL = 1e-6


def random_params(kind: str, rng: np.random.Generator, **structure: bool) -> dict:
    """Parameters with the torch cells' names and shapes, every one random."""
    G = {"elman": H, "jordan": H, "lstm": 4 * H, "gru": 3 * H}[kind]
    shapes: dict[str, tuple[int, ...]] = {"weight_ih": (G, I)}
    if kind == "jordan":
        shapes["bias_ih"] = (H,)
        if structure.get("hidden"):
            shapes["weight_oh"] = (H, O)
        shapes |= {"weight_hy": (O, H), "bias_hy": (O,)}
        if structure.get("output"):
            shapes["weight_oo"] = (O, O)
    else:
        shapes |= {"weight_hh": (G, H), "bias_ih": (G,), "bias_hh": (G,)}
    if structure.get("peephole"):
        shapes |= {"weight_ci": (H,), "weight_cf": (H,), "weight_co": (H,)}
    if structure.get("layer_norm"):
        shapes |= {"ln_ih_weight": (G,), "ln_hh_weight": (G,)}
        if kind == "lstm":
            shapes |= {"ln_c_weight": (H,), "ln_c_bias": (H,)}
    return {name: rng.standard_normal(shape) * 0.7 for name, shape in shapes.items()}


FEEDBACK = {
    "hidden": {"hidden": True},
    "output": {"output": True},
    "both": {"hidden": True, "output": True},
}
CASES: list[tuple[str, object, dict, dict]] = [
    ("elman", elman, {}, {"nonlinearity": n}) for n in ("tanh", "relu")
]
CASES += [
    ("jordan", jordan, FEEDBACK[fb], {"output_activation": act, "nonlinearity": n})
    for fb in FEEDBACK
    for act in jordan.OUTPUT_ACTIVATIONS
    for n in ("tanh", "relu")
]
CASES += [
    ("lstm", lstm, {"peephole": p, "layer_norm": ln}, {})
    for p in (False, True)
    for ln in (False, True)
]
CASES += [("gru", gru, {"layer_norm": ln}, {}) for ln in (False, True)]


def case_id(case) -> str:
    kind, _, structure, options = case
    words = [kind, *(k for k, v in structure.items() if v), *map(str, options.values())]
    return "-".join(words)


def setup(case, seed=0):
    kind, family, structure, options = case
    rng = np.random.default_rng(seed)
    params = random_params(kind, rng, **structure)
    K = O if kind == "jordan" else H
    state0 = tuple(rng.standard_normal((B, K)) * 0.5 for _ in range(2 if kind == "lstm" else 1))
    mask = (rng.random((B, K)) < 0.7) / 0.7
    return family, params, rng.standard_normal((B, T, I)), state0, mask, options


@pytest.mark.parametrize("use_lengths", [False, True], ids=["full", "lengths"])
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_backward_matches_finite_differences(case, use_lengths):
    family, params, x, state0, mask, options = setup(case)
    lengths = LENGTHS if use_lengths else None
    errors = gradcheck(family, params, x, state0, lengths=lengths, mask=mask, **options)
    assert set(errors) == {*params, *(f"state0[{k}]" for k in range(len(state0))), "x"}
    worst = max(errors, key=errors.get)
    assert errors[worst] < TOL, f"{worst}: {errors[worst]:.2e} ({errors})"


@pytest.mark.parametrize("case", CASES[:2] + CASES[2::7] + CASES[-6:], ids=case_id)
def test_per_step_contributions_sum_to_the_gradient(case):
    family, params, x, state0, mask, options = setup(case, seed=3)
    out, final, cache = family.forward(params, x, state0, lengths=LENGTHS, mask=mask, **options)
    rng = np.random.default_rng(4)
    dout = rng.standard_normal(out.shape)
    dfinal = tuple(rng.standard_normal(s.shape) for s in final)
    grads, dx, dstate0 = family.backward(params, cache, dout, dfinal)
    grads2, dx2, dstate02, per_step, dh_norm = family.backward(
        params, cache, dout, dfinal, per_step=True
    )
    for name, g in grads.items():
        assert per_step[name].shape == (T, *g.shape)
        np.testing.assert_allclose(per_step[name].sum(axis=0), g, rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(grads2[name], g)
    np.testing.assert_array_equal(dx2, dx)
    # Past a sequence's end a step contributes nothing: sequence 1 has length 2.
    _, _, cache1 = family.forward(
        params, x[1:], tuple(s[1:] for s in state0), lengths=LENGTHS[1:], mask=mask[1:], **options
    )
    _, _, _, per_step1, norm1 = family.backward(
        params, cache1, dout[1:], tuple(d[1:] for d in dfinal), per_step=True
    )
    for name in params:
        assert not per_step1[name][2:].any(), name
    assert dh_norm.shape == (T, B)
    assert not norm1[2:].any()
    # At the last step of a full sequence, ∂E/∂h_T is the output's plus the final state's.
    np.testing.assert_allclose(dh_norm[-1, 0], np.linalg.norm(dout[0, -1] + dfinal[0][0]))


def test_dtype_follows_the_inputs():
    family, params, x, state0, mask, options = setup(CASES[-1])
    p32 = {k: v.astype(np.float32) for k, v in params.items()}
    out, final, cache = family.forward(p32, x.astype(np.float32))
    grads, dx, (dh0,) = family.backward(p32, cache, np.ones_like(out))
    assert out.dtype == final[0].dtype == dx.dtype == dh0.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads.values())


def test_bad_options_are_rejected():
    family, params, x, *_ = setup(CASES[0])
    with pytest.raises(ValueError, match="nonlinearity"):
        elman.forward(params, x, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="lengths"):
        elman.forward(params, x, lengths=np.array([T + 1, 1]))
    jparams = setup(CASES[2])[1]
    with pytest.raises(ValueError, match="output_activation"):
        jordan.forward(jparams, x, output_activation="relu")


# ---- losses ----------------------------------------------------------------------------------


def check_loss(fn, pred, *args, **kwargs):
    loss, dpred = fn(pred, *args, **kwargs)
    assert np.isclose(loss, fn(pred.copy(), *args, **kwargs)[0])
    num = numerical_gradient(lambda a: fn(a, *args, **kwargs)[0], pred)
    assert relative_error(dpred, num) < TOL
    return loss, dpred


def test_mse_all_steps_last_step_and_masked():
    rng = np.random.default_rng(5)
    pred, target = rng.standard_normal((3, 4, 2)), rng.standard_normal((3, 4, 2))
    loss, _ = check_loss(losses.mse, pred, target)
    assert np.isclose(loss, ((pred - target) ** 2).mean())
    mask = np.arange(4)[None, :] < np.array([4, 1, 3])[:, None]
    loss, dpred = check_loss(losses.mse, pred, target, mask)
    assert np.isclose(loss, ((pred - target) ** 2)[mask].mean())
    assert not dpred[~mask].any()
    lengths = np.array([4, 1, 3])
    last = losses.last_step(pred, lengths)
    np.testing.assert_array_equal(last[1], pred[1, 0])
    _, dlast = check_loss(losses.mse, last, target[:, 0])
    back = losses.last_step_backward(dlast, pred.shape, lengths)
    np.testing.assert_array_equal(back[1, 0], dlast[1])
    assert back.sum() == pytest.approx(dlast.sum())
    np.testing.assert_array_equal(losses.last_step(pred), pred[:, -1])


def test_softmax_cross_entropy_many_to_one_and_many_to_many():
    rng = np.random.default_rng(6)
    logits, targets = rng.standard_normal((3, 5)) * 3, rng.integers(0, 5, 3)
    loss, _ = check_loss(losses.softmax_cross_entropy, logits, targets)
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    assert np.isclose(loss, -logp[np.arange(3), targets].mean())
    logits, targets = rng.standard_normal((3, 4, 5)), rng.integers(0, 5, (3, 4))
    mask = rng.random((3, 4)) < 0.6
    mask[0, 0] = True
    _, dlogits = check_loss(losses.softmax_cross_entropy, logits, targets, mask)
    assert not dlogits[~mask].any()
    # no overflow for huge logits
    big, _ = losses.softmax_cross_entropy(np.array([[1000.0, 0.0]]), np.array([1]))
    assert np.isclose(big, 1000.0)


def test_binary_cross_entropy():
    rng = np.random.default_rng(7)
    logits, targets = rng.standard_normal((3, 4, 2)) * 3, rng.random((3, 4, 2))
    loss, _ = check_loss(losses.binary_cross_entropy, logits, targets)
    p = 1 / (1 + np.exp(-logits))
    assert np.isclose(loss, -(targets * np.log(p) + (1 - targets) * np.log(1 - p)).mean())
    mask = rng.random((3, 4)) < 0.5
    mask[0, 0] = True
    _, dlogits = check_loss(losses.binary_cross_entropy, logits, targets, mask)
    assert not dlogits[~mask].any()
    assert np.isfinite(losses.binary_cross_entropy(np.array([[800.0]]), np.array([[0.0]]))[0])
