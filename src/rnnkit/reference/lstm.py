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

Peepholes and layer norm are read from the parameters (``weight_ci`` / ``ln_hh_weight``
present). Parameters: weight_ih (4H, I), weight_hh (4H, H), bias_ih (4H), bias_hh (4H),
[weight_ci, weight_cf, weight_co (H)], [ln_ih_weight, ln_hh_weight (4H), ln_c_weight,
ln_c_bias (H)]. State: ``(h, c)``.
"""

from __future__ import annotations

import numpy as np

from rnnkit.reference.core import (
    Cache,
    Params,
    State,
    dlayer_norm,
    dsigmoid,
    dtanh,
    layer_norm,
    masked,
    run_backward,
    run_forward,
    sigmoid,
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
) -> tuple[np.ndarray, State, Cache]:
    """Run the LSTM over a batch-first sequence.

    Args:
        params: see the module docstring; peepholes and layer norm follow the keys present.
        x: inputs (B, T, I).
        state0: initial ``(h0, c0)``, each (B, H); zeros when None.
        lengths: (B,) valid steps per sequence, or None.
        mask: recurrent dropout mask (B, H), or None.

    Returns:
        ``(outputs (B, T, H), (h_T, c_T), cache)``.

    Shapes:
        x (B, T, I) -> outputs (B, T, H); state fields (B, H).
    """
    if state0 is None:
        state0 = zero_state(x, params["weight_hh"].shape[1], 2)
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
    """
    return run_backward(step_backward, params, cache, doutputs, dfinal, per_step)
