"""LSTM, with optional peepholes and layer norm, forward and hand-derived BPTT, in NumPy.

One step (as :class:`rnnkit.cells.LSTMCell`), gates in torch's order ``i, f, g, o``:

    hm_{t-1} = h_{t-1} ⊙ m
    a_t = x_t W_ihᵀ + b_ih + hm_{t-1} W_hhᵀ + b_hh = [a_i, a_f, a_g, a_o]        (B, 4H)
        with layer norm: a_t = LN(x_t W_ihᵀ; γ_ih, b_ih) + LN(hm_{t-1} W_hhᵀ; γ_hh, b_hh)
    i = σ(a_i + w_ci ⊙ c_{t-1})     f = σ(a_f + w_cf ⊙ c_{t-1})     g = tanh(a_g)
    c_t = f ⊙ c_{t-1} + i ⊙ g
    o = σ(a_o + w_co ⊙ c_t)
    cn_t = c_t, or with layer norm LN(c_t; γ_c, β_c)
    h_t = o ⊙ tanh(cn_t)            y_t = h_t

Backward, with ``dh = dE/dy_t + dE/dh_t|_{t+1}`` and ``dc`` the carried dE/dc_t:

    dcn = dh ⊙ o ⊙ (1 - tanh²(cn))       dc = dc|_{t+1} + LN'(dcn)
    da_o = dh ⊙ tanh(cn) ⊙ o(1-o)         dc += da_o ⊙ w_co          (peephole)
    da_i = dc ⊙ g ⊙ i(1-i)   da_f = dc ⊙ c_{t-1} ⊙ f(1-f)   da_g = dc ⊙ i ⊙ (1-g²)
    dc_{t-1} = dc ⊙ f [+ da_i ⊙ w_ci + da_f ⊙ w_cf]
    dW_hh += dzᵀ hm_{t-1}  (dz = da, or LN'(da) with layer norm)   dh_{t-1} = (dz W_hh) ⊙ m

``forward(..., fast=True)`` (opt-in; layer norm always runs step by step) and
``backward(..., per_step=False)`` take the sequence-level fast path of
:mod:`rnnkit.reference.core`: the same equations over stacked time-major arrays, with
``dW_ih = Σ_t da_tᵀ x_t`` and ``dW_hh = Σ_t da_tᵀ hm_{t-1}`` each computed as one GEMM over
all steps once the loop has produced every ``da_t``. There the biases ride in a column of
ones appended to ``x_t``, so they are added by the projection's GEMM and their gradient
``Σ_t Σ_b da_t`` comes out of ``dW_ih``'s.

Peepholes and layer norm are read from the parameters (``weight_ci`` / ``ln_hh_weight``
present). Parameters: weight_ih (4H, I), weight_hh (4H, H), bias_ih (4H), bias_hh (4H),
[weight_ci, weight_cf, weight_co (H)], [ln_ih_weight, ln_hh_weight (4H), ln_c_weight,
ln_c_bias (H)]. State: ``(h, c)``.
"""

from __future__ import annotations

import numpy as np

from rnnkit.reference.buffers import POOL
from rnnkit.reference.core import (
    Cache,
    Params,
    State,
    batch_major,
    common_dtype,
    dlayer_norm,
    dsigmoid,
    dtanh,
    keep_finished,
    layer_norm,
    masked,
    run_backward,
    run_forward,
    sigmoid,
    time_major,
    valid_steps,
    zero_state,
)

__all__ = ["backward", "forward", "step", "step_backward"]


def step(
    params: Params, x: np.ndarray, state: State, mask: np.ndarray | None
) -> tuple[np.ndarray, State, dict]:
    """One step: ``(h_t, (h_t, c_t), cache)``; one fused (B, 4H) matmul per weight.

    Shapes:
        x (B, I), state (h (B, H), c (B, H)), mask (B, H) or None -> h_t (B, H).
    """
    h_prev, c_prev = state
    H = h_prev.shape[1]
    peephole, ln = "weight_ci" in params, "ln_hh_weight" in params
    hm = masked(h_prev, mask)  # the mask drops what goes through W_hh only
    cache: dict = {"x": x, "hm": hm, "c_prev": c_prev}
    xp = x @ params["weight_ih"].T  # (B, 4H): all four gates at once
    hp = hm @ params["weight_hh"].T
    if ln:
        xn, cache["ln_ih"] = layer_norm(xp, params["ln_ih_weight"], params["bias_ih"])
        hn, cache["ln_hh"] = layer_norm(hp, params["ln_hh_weight"], params["bias_hh"])
        a = xn + hn
    else:
        a = xp + params["bias_ih"] + hp + params["bias_hh"]
    a_i, a_f, a_g, a_o = (a[:, k * H : (k + 1) * H] for k in range(4))
    if peephole:  # i and f peek at the old cell
        a_i = a_i + params["weight_ci"] * c_prev
        a_f = a_f + params["weight_cf"] * c_prev
    i, f, g = sigmoid(a_i), sigmoid(a_f), np.tanh(a_g)
    c = f * c_prev + i * g
    if peephole:  # o peeks at the new cell
        a_o = a_o + params["weight_co"] * c
    o = sigmoid(a_o)
    if ln:
        cn, cache["ln_c"] = layer_norm(c, params["ln_c_weight"], params["ln_c_bias"])
    else:
        cn = c
    tc = np.tanh(cn)
    h = o * tc
    cache.update(i=i, f=f, g=g, o=o, c=c, tc=tc)
    return h, (h, c), cache


def step_backward(
    params: Params, cache: dict, dy: np.ndarray, dstate: State, mask: np.ndarray | None
) -> tuple[np.ndarray, State, dict[str, np.ndarray]]:
    """Gradient of :func:`step`: ``(dx_t, (dh_{t-1}, dc_{t-1}), step t's grads)``."""
    peephole, ln = "weight_ci" in params, "ln_hh_weight" in params
    i, f, g, o, c, tc = (cache[k] for k in ("i", "f", "g", "o", "c", "tc"))
    c_prev = cache["c_prev"]
    grads: dict[str, np.ndarray] = {}
    dh = dy + dstate[0]  # h_t is both the output and the state
    dcn = dtanh(dh * o, tc)  # through h = o ⊙ tanh(cn)
    if ln:
        dc_ln, grads["ln_c_weight"], grads["ln_c_bias"] = dlayer_norm(dcn, cache["ln_c"])
        dc = dstate[1] + dc_ln
    else:
        dc = dstate[1] + dcn
    da_o = dsigmoid(dh * tc, o)
    if peephole:  # o saw c_t, so its gradient flows into dc too
        grads["weight_co"] = (da_o * c).sum(axis=0)
        dc = dc + da_o * params["weight_co"]
    da_i = dsigmoid(dc * g, i)
    da_f = dsigmoid(dc * c_prev, f)
    da_g = dtanh(dc * i, g)
    dc_prev = dc * f
    if peephole:
        grads["weight_ci"] = (da_i * c_prev).sum(axis=0)
        grads["weight_cf"] = (da_f * c_prev).sum(axis=0)
        dc_prev = dc_prev + da_i * params["weight_ci"] + da_f * params["weight_cf"]
    da = np.concatenate((da_i, da_f, da_g, da_o), axis=1)  # (B, 4H)
    if ln:
        dxp, grads["ln_ih_weight"], grads["bias_ih"] = dlayer_norm(da, cache["ln_ih"])
        dhp, grads["ln_hh_weight"], grads["bias_hh"] = dlayer_norm(da, cache["ln_hh"])
    else:
        dxp = dhp = da
        grads["bias_ih"] = grads["bias_hh"] = da.sum(axis=0)
    grads["weight_ih"] = dxp.T @ cache["x"]
    grads["weight_hh"] = dhp.T @ cache["hm"]
    dx = dxp @ params["weight_ih"]
    dh_prev = masked(dhp @ params["weight_hh"], mask)
    return dx, (dh_prev, dc_prev), grads


def forward(
    params: Params,
    x: np.ndarray,
    state0: State | None = None,
    *,
    lengths: np.ndarray | None = None,
    mask: np.ndarray | None = None,
    fast: bool = False,
) -> tuple[np.ndarray, State, Cache]:
    """Run the LSTM over a batch-first sequence.

    Args:
        params: see the module docstring; peepholes and layer norm follow the keys present.
        x: inputs (B, T, I).
        state0: initial ``(h0, c0)``, each (B, H); zeros when None.
        lengths: (B,) valid steps per sequence, or None.
        mask: recurrent dropout mask (B, H), or None.
        fast: take the sequence-level fast path (not with layer norm); the default runs
            :func:`step` one step at a time. Both give the same numbers up to rounding.

    Returns:
        ``(outputs (B, T, H), (h_T, c_T), cache)``.

    Shapes:
        x (B, T, I) -> outputs (B, T, H); state fields (B, H).
    """
    if state0 is None:
        state0 = zero_state(x, params["weight_hh"].shape[1], 2)
    if fast and "ln_hh_weight" not in params:
        return _forward_sequence(params, x, tuple(state0), lengths, mask)
    return run_forward(step, params, x, state0, lengths, mask, {})


def backward(
    params: Params,
    cache: Cache,
    doutputs: np.ndarray,
    dfinal: State | None = None,
    *,
    per_step: bool = False,
) -> tuple:
    """BPTT for :func:`forward`: ``(grads, dx (B, T, I), (dh0, dc0))`` [+ per-step extras].

    See :func:`rnnkit.reference.elman.backward` for the arguments and the per-step extras.
    After a fast forward and with ``per_step=False`` it runs the sequence-level backward.
    """
    if cache.seq is not None and not per_step:
        return _backward_sequence(params, cache, doutputs, dfinal)
    return run_backward(step_backward, params, cache, doutputs, dfinal, per_step)


# ---- the sequence-level fast path (same equations; see the module docstring) ---------------


def _forward_sequence(
    params: Params,
    x: np.ndarray,
    state0: State,
    lengths: np.ndarray | None,
    mask: np.ndarray | None,
) -> tuple[np.ndarray, State, Cache]:
    """:func:`step` over all steps, into time-major buffers; the cache keeps them stacked."""
    B, T = x.shape[:2]
    valid = valid_steps(lengths, B, T)
    dtype = common_dtype(x, state0, params)
    p = {name: w.astype(dtype, copy=False) for name, w in params.items()}
    peephole = "weight_ci" in p
    H = p["weight_hh"].shape[1]
    I = x.shape[2]
    # The large arrays come from the pool: a training step reuses the last one's pages.
    # X[t] = [x_t | 1]: the column of ones carries the biases through the products.
    X = POOL.empty((T, B, I + 1), dtype)
    np.copyto(X[:, :, :I], np.swapaxes(x, 0, 1))
    X[:, :, I] = 1.0
    # The input projection of every step in one GEMM: A[t] = x_t W_ihᵀ + b_ih + b_hh.
    weight_ih_b = np.concatenate((p["weight_ih"], (p["bias_ih"] + p["bias_hh"])[:, None]), 1)
    A = POOL.empty((T, B, 4 * H), dtype)
    np.matmul(X.reshape(T * B, I + 1), weight_ih_b.T, out=A.reshape(T * B, 4 * H))
    Hs = POOL.empty((T + 1, B, H), dtype)  # Hs[t + 1] = h_t, C[t + 1] = c_t
    C = POOL.empty((T + 1, B, H), dtype)
    Hs[0], C[0] = state0
    TC = POOL.empty((T, B, H), dtype)  # tanh(c_t)
    HM = Hs[:-1] if mask is None else POOL.empty((T, B, H), dtype)  # hm_{t-1}
    Y = Hs[1:] if valid is None else POOL.empty((T, B, H), dtype)
    # σ(a) = (1 + tanh(a/2)) / 2 and tanh(a) on the fused (B, 4H) block at once: scale, tanh,
    # then scale and shift (σ's formula, with the same rounding).
    n = 3 * H if peephole else 4 * H  # with peepholes, o waits for c_t
    half = np.full(n, 0.5, dtype)
    half[2 * H : 3 * H] = 1.0
    shift = np.full(n, 0.5, dtype)
    shift[2 * H : 3 * H] = 0.0
    hp = np.empty((B, 4 * H), dtype)
    ig = np.empty((B, H), dtype)
    # W_hhᵀ copied once: OpenBLAS multiplied by the contiguous copy in 250 µs against 310 µs
    # through the transposed view ((64, 256) x (256, 1024), 2 threads).
    weight_hh_t = np.ascontiguousarray(p["weight_hh"].T)
    for t in range(T):
        hm = Hs[t] if mask is None else np.multiply(Hs[t], mask, out=HM[t])
        a = A[t]
        a += np.matmul(hm, weight_hh_t, out=hp)  # the one fused gate matmul of step t
        if peephole:
            a[:, :H] += p["weight_ci"] * C[t]
            a[:, H : 2 * H] += p["weight_cf"] * C[t]
        act = a[:, :n]
        act *= half
        np.tanh(act, out=act)
        act *= half
        act += shift
        i, f, g, o = (a[:, k * H : (k + 1) * H] for k in range(4))  # A[t] now holds the gates
        c = np.multiply(f, C[t], out=C[t + 1])
        c += np.multiply(i, g, out=ig)
        if peephole:
            o += p["weight_co"] * c
            o *= 0.5
            np.tanh(o, out=o)
            o += 1.0
            o *= 0.5
        h = np.multiply(o, np.tanh(c, out=TC[t]), out=Hs[t + 1])
        if valid is not None:
            np.multiply(h, valid[t], out=Y[t])
            keep_finished(h, Hs[t], valid[t])
            keep_finished(c, C[t], valid[t])
    seq = {"X": X, "G": A, "C": C, "TC": TC, "HM": HM}
    steps = [
        {"x": X[t, :, :I], "hm": HM[t], "c_prev": C[t], "c": C[t + 1], "tc": TC[t]}
        | {k: A[t, :, j * H : (j + 1) * H] for j, k in enumerate("ifgo")}
        for t in range(T)
    ]
    shapes = ((B, H), (B, H))
    cache = Cache(steps, x.shape, valid, mask, {}, shapes, seq)
    return batch_major(Y), (Hs[T].copy(), C[T].copy()), cache


def _backward_sequence(
    params: Params, cache: Cache, doutputs: np.ndarray, dfinal: State | None
) -> tuple:
    """:func:`step_backward` over all steps, carrying only ``(dh, dc)``; weight GEMMs after."""
    seq, valid, mask = cache.seq, cache.valid, cache.mask
    X, G, C, TC, HM = (seq[k] for k in ("X", "G", "C", "TC", "HM"))
    T, B, H = TC.shape
    dtype = np.result_type(G, doutputs)
    p = {name: w.astype(dtype, copy=False) for name, w in params.items()}
    peephole = "weight_ci" in p
    dY = time_major(np.asarray(doutputs))
    if dfinal is None:
        dh, dc = np.zeros((B, H), dtype), np.zeros((B, H), dtype)
    else:
        dh, dc = (np.array(d, dtype=dtype) for d in dfinal)
    DA = POOL.empty((T, B, 4 * H), dtype)  # da_t = [da_i, da_f, da_g, da_o], every step
    dh_t, dcn = np.empty((B, H), dtype), np.empty((B, H), dtype)
    deriv = np.empty((B, 4 * H), dtype)
    for t in reversed(range(T)):
        gates, tc, v = G[t], TC[t], None if valid is None else valid[t]
        i, f, g, o = (gates[:, k * H : (k + 1) * H] for k in range(4))
        np.add(dY[t], dh, out=dh_t)  # h_t is both the output and the state
        dc_t = dc if v is None else dc * v
        if v is not None:
            dh_t *= v
        # σ' = σ(1-σ) for i, f, o and tanh' = 1 - g² for g, written with the outputs
        np.subtract(1.0, gates, out=deriv)
        deriv *= gates
        np.multiply(g, g, out=deriv[:, 2 * H : 3 * H])
        np.subtract(1.0, deriv[:, 2 * H : 3 * H], out=deriv[:, 2 * H : 3 * H])
        da = DA[t]
        da_i, da_f, da_g, da_o = (da[:, k * H : (k + 1) * H] for k in range(4))
        np.multiply(dh_t, o, out=dcn)  # through h = o ⊙ tanh(c)
        dcn *= 1.0 - tc * tc
        dc_t = dc_t + dcn
        np.multiply(dh_t, tc, out=da_o)
        if peephole:
            da_o *= deriv[:, 3 * H :]
            dc_t += da_o * p["weight_co"]
        np.multiply(dc_t, g, out=da_i)
        np.multiply(dc_t, C[t], out=da_f)
        np.multiply(dc_t, i, out=da_g)
        if peephole:
            da[:, : 3 * H] *= deriv[:, : 3 * H]
        else:
            da *= deriv
        dc_prev = dc_t * f
        if peephole:
            dc_prev += da_i * p["weight_ci"] + da_f * p["weight_cf"]
        dh_prev = da @ p["weight_hh"]
        if mask is not None:
            dh_prev *= mask
        if v is not None:  # past a sequence's end the carried gradient passes unchanged
            keep_finished(dh_prev, dh, v)
            keep_finished(dc_prev, dc, v)
        dh, dc = dh_prev, dc_prev
    # dE/dW = Σ_t dE/dW|_t, for all steps at once: one GEMM per weight over the T*B rows.
    # Against X's column of ones, the product also sums da_t over all rows: the bias gradient.
    DA2 = DA.reshape(T * B, 4 * H)
    I = X.shape[2] - 1
    dweight_ih_b = DA2.T @ X.reshape(T * B, I + 1)  # (4H, I + 1)
    grads: dict[str, np.ndarray] = {
        "weight_ih": np.ascontiguousarray(dweight_ih_b[:, :I]),
        "weight_hh": DA2.T @ HM.reshape(T * B, H),
        "bias_ih": dweight_ih_b[:, I].copy(),
        "bias_hh": dweight_ih_b[:, I].copy(),
    }
    if peephole:
        grads["weight_ci"] = np.einsum("tbh,tbh->h", DA[:, :, :H], C[:-1])
        grads["weight_cf"] = np.einsum("tbh,tbh->h", DA[:, :, H : 2 * H], C[:-1])
        grads["weight_co"] = np.einsum("tbh,tbh->h", DA[:, :, 3 * H :], C[1:])
    DX = POOL.empty((T, B, I), dtype)
    np.matmul(DA2, p["weight_ih"], out=DX.reshape(T * B, -1))
    dx = batch_major(DX)
    return {name: grads[name] for name in params}, dx, (dh, dc)
