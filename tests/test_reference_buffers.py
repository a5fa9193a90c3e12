"""The fast path's buffer pool reuses an array only once nothing refers to it.

The pool decides from CPython's reference count, so these tests hold every kind of reference
a caller or a cache can hold (a name, a view, a cache's per-step views) and check that such an
array is never handed out again, and that the fast path's results never change under reuse.
"""

from __future__ import annotations

import numpy as np

from rnnkit.reference import lstm
from rnnkit.reference.buffers import POOL, BufferPool

F32 = np.float32


def test_a_free_array_is_reused_and_a_held_one_is_not():
    pool = BufferPool()
    first = pool.empty((3, 4), F32)
    second = pool.empty((3, 4), F32)
    assert second is not first  # first is held by its name
    first_id = id(first)
    del first
    assert id(pool.empty((3, 4), F32)) == first_id
    assert pool.in_pool == 2


def test_a_view_keeps_its_base_in_use():
    pool = BufferPool()
    base = pool.empty((4, 5), F32)
    row = base[1]
    base_id = id(base)
    del base
    again = pool.empty((4, 5), F32)
    assert id(again) != base_id and not np.shares_memory(again, row)
    del row, again
    assert id(pool.empty((4, 5), F32)) == base_id


def test_shape_and_dtype_must_match():
    pool = BufferPool()
    a = pool.empty((2, 3), F32)
    a_id = id(a)
    del a
    assert id(pool.empty((3, 2), F32)) != a_id
    assert id(pool.empty((2, 3), np.float64)) != a_id
    assert id(pool.empty((2, 3), F32)) == a_id


def test_the_pool_keeps_at_most_max_bytes():
    pool = BufferPool(max_bytes=1000)
    big = pool.empty((2000,), np.uint8)  # larger than the cap: never pooled
    assert pool.in_pool == 0 and big.nbytes == 2000
    for _ in range(5):
        kept = [pool.empty((100,), F32) for _ in range(3)]  # 400 bytes each, all held
        assert pool.nbytes <= 1000
        del kept
    pool.clear()
    assert pool.in_pool == 0 and pool.nbytes == 0


def _lstm_case(seed: int):
    rng = np.random.default_rng(seed)
    B, T, I, H = 3, 6, 4, 5
    params = {
        "weight_ih": rng.normal(0, 0.4, (4 * H, I)),
        "weight_hh": rng.normal(0, 0.4, (4 * H, H)),
        "bias_ih": rng.normal(0, 0.1, 4 * H),
        "bias_hh": rng.normal(0, 0.1, 4 * H),
    }
    x = rng.normal(size=(B, T, I))
    dout = rng.normal(size=(B, T, H))
    return params, x, dout


def _train_step(params, x, dout, fast: bool):
    out, _, cache = lstm.forward(params, x, fast=fast)
    grads, dx, _ = lstm.backward(params, cache, dout)
    return out, grads, dx


def test_live_fast_caches_never_share_work_arrays():
    """Two forwards in flight (as in a stack), then their backwards: each equals a fresh run."""
    (p1, x1, d1), (p2, x2, d2) = _lstm_case(1), _lstm_case(2)
    out1, _, cache1 = lstm.forward(p1, x1, fast=True)
    out2, _, cache2 = lstm.forward(p2, x2, fast=True)
    for name in cache1.seq:
        assert not np.shares_memory(cache1.seq[name], cache2.seq[name]), name
    grads2, dx2, _ = lstm.backward(p2, cache2, d2)
    grads1, dx1, _ = lstm.backward(p1, cache1, d1)
    for (out, grads, dx), (p, x, d) in (
        ((out1, grads1, dx1), (p1, x1, d1)),
        ((out2, grads2, dx2), (p2, x2, d2)),
    ):
        want_out, want_grads, want_dx = _train_step(p, x, d, fast=False)
        np.testing.assert_allclose(out, want_out, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(dx, want_dx, rtol=1e-12, atol=1e-12)
        for name, want in want_grads.items():
            np.testing.assert_allclose(grads[name], want, rtol=1e-12, atol=1e-12, err_msg=name)


def test_results_handed_out_survive_later_steps_and_steps_reuse_the_pool():
    params, x, dout = _lstm_case(3)
    out, grads, dx = _train_step(params, x, dout, fast=True)
    kept = [out.copy(), dx.copy(), {k: g.copy() for k, g in grads.items()}]
    in_pool = POOL.in_pool
    for seed in (4, 5, 6):  # later steps on other data: reuse the freed work arrays
        _train_step(*_lstm_case(seed), fast=True)
        assert POOL.in_pool == in_pool
    np.testing.assert_array_equal(out, kept[0])
    np.testing.assert_array_equal(dx, kept[1])
    for name, value in grads.items():
        np.testing.assert_array_equal(value, kept[2][name])
