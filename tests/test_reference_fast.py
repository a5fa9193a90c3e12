"""The sequence-level fast path of the reference engine equals its per-step reference.

``forward(..., fast=True)`` + ``backward(..., per_step=False)`` against ``fast=False`` (the
documented per-step loop), in float64 to 1e-12, with and without variable lengths and a
recurrent dropout mask, from a random initial state and with a loss on the final state too;
the per-step backward run on the fast forward's cache agrees as well. In float32 the fast
path stays float32 throughout and within float32 tolerance of the float64 result.
"""

from __future__ import annotations

import numpy as np
import pytest

from test_reference_gradcheck import CASES, LENGTHS, case_id, setup

FAST_CASES = [case for case in CASES if case[0] == "lstm" and not case[2]["layer_norm"]]


def run(family, params, x, state0, options, lengths, mask, fast, per_step=False, seed=5):
    out, final, cache = family.forward(
        params, x, state0, lengths=lengths, mask=mask, fast=fast, **options
    )
    rng = np.random.default_rng(seed)
    dout = rng.standard_normal(out.shape).astype(out.dtype)
    dfinal = tuple(rng.standard_normal(s.shape).astype(s.dtype) for s in final)
    grads, dx, dstate0, *_ = family.backward(params, cache, dout, dfinal, per_step=per_step)
    return (
        {"out": out, "dx": dx, **grads}
        | {f"final{k}": s for k, s in enumerate(final)}
        | {f"dstate0_{k}": d for k, d in enumerate(dstate0)}
    )


@pytest.mark.parametrize("use_mask", [False, True], ids=["nomask", "mask"])
@pytest.mark.parametrize("use_lengths", [False, True], ids=["full", "lengths"])
@pytest.mark.parametrize("case", FAST_CASES, ids=case_id)
def test_fast_path_equals_per_step(case, use_lengths, use_mask):
    family, params, x, state0, mask, options = setup(case, seed=2)
    args = (family, params, x, state0, options, LENGTHS if use_lengths else None)
    mask = mask if use_mask else None
    reference = run(*args, mask, fast=False)
    fast = run(*args, mask, fast=True)
    mixed = run(*args, mask, fast=True, per_step=True)  # per-step BPTT on the fast cache
    assert fast.keys() == reference.keys() == mixed.keys()
    for name, want in reference.items():
        np.testing.assert_allclose(fast[name], want, rtol=1e-12, atol=1e-12, err_msg=name)
        np.testing.assert_allclose(mixed[name], want, rtol=1e-12, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("case", FAST_CASES, ids=case_id)
def test_fast_path_float32_stays_float32_and_close(case):
    family, params, x, state0, mask, options = setup(case, seed=4)
    want = run(family, params, x, state0, options, LENGTHS, mask, fast=False)
    p32 = {k: v.astype(np.float32) for k, v in params.items()}
    s32 = tuple(s.astype(np.float32) for s in state0)
    got = run(
        family, p32, x.astype(np.float32), s32, options, LENGTHS, mask.astype(np.float32), fast=True
    )
    for name, value in got.items():
        assert value.dtype == np.float32, name
        np.testing.assert_allclose(value, want[name], rtol=1e-4, atol=1e-4, err_msg=name)


def test_fast_cache_is_stacked_and_layer_norm_runs_per_step():
    family, params, x, state0, _, options = setup(FAST_CASES[0])
    assert family.forward(params, x, state0)[2].seq is None  # per-step by default
    assert family.forward(params, x, state0, fast=True)[2].seq is not None
    ln_case = next(case for case in CASES if case[0] == "lstm" and case[2]["layer_norm"])
    family, params, x, state0, _, options = setup(ln_case)
    assert family.forward(params, x, state0, fast=True)[2].seq is None
