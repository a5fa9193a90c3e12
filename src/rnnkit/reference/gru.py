"""GRU (torch's variant), with optional layer norm, forward and hand-derived BPTT, in NumPy.

One step (as :class:`rnnkit.cells.GRUCell`), gates in torch's order ``r, z, n``:

    hm_{t-1} = h_{t-1} ⊙ m
    xg = x_t W_ihᵀ + b_ih = [xg_r, xg_z, xg_n]          (LN(x_t W_ihᵀ; γ_ih, b_ih) with LN)
    hg = hm_{t-1} W_hhᵀ + b_hh = [hg_r, hg_z, hg_n]     (LN(hm_{t-1} W_hhᵀ; γ_hh, b_hh) with LN)
    r = σ(xg_r + hg_r)     z = σ(xg_z + hg_z)     n = tanh(xg_n + r ⊙ hg_n)
    h_t = (1 - z) ⊙ n + z ⊙ h_{t-1}                     y_t = h_t

Backward, with ``dh = dE/dy_t + dE/dh_t|_{t+1}``:

    da_n = dh ⊙ (1 - z) ⊙ (1 - n²)      da_z = dh ⊙ (h_{t-1} - n) ⊙ z(1-z)
    da_r = da_n ⊙ hg_n ⊙ r(1-r)
    dxg = [da_r, da_z, da_n]             dhg = [da_r, da_z, da_n ⊙ r]
    dh_{t-1} = (dhp W_hh) ⊙ m + dh ⊙ z   (dhp = dhg, or LN'(dhg)); the carry z ⊙ h is unmasked

Layer norm is read from the parameters (``ln_hh_weight`` present). Parameters: weight_ih
(3H, I), weight_hh (3H, H), bias_ih (3H), bias_hh (3H), [ln_ih_weight, ln_hh_weight (3H)].
State: ``(h,)``.
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
    """One step: ``(h_t, (h_t,), cache)``; one fused (B, 3H) matmul per weight.

    Shapes:
        x (B, I), state (h (B, H),), mask (B, H) or None -> h_t (B, H).
    """
    (h_prev,) = state
    H = h_prev.shape[1]
    hm = masked(h_prev, mask)  # the mask drops what goes through W_hh only, not the carry
    cache: dict = {"x": x, "hm": hm, "h_prev": h_prev}
    xp = x @ params["weight_ih"].T  # (B, 3H): all three gates at once
    hp = hm @ params["weight_hh"].T
    if "ln_hh_weight" in params:
        xg, cache["ln_ih"] = layer_norm(xp, params["ln_ih_weight"], params["bias_ih"])
        hg, cache["ln_hh"] = layer_norm(hp, params["ln_hh_weight"], params["bias_hh"])
    else:
        xg, hg = xp + params["bias_ih"], hp + params["bias_hh"]
    r = sigmoid(xg[:, :H] + hg[:, :H])
    z = sigmoid(xg[:, H : 2 * H] + hg[:, H : 2 * H])
    hg_n = hg[:, 2 * H :]
    n = np.tanh(xg[:, 2 * H :] + r * hg_n)  # torch's variant: r gates W_hn h + b_hn
    h = (1.0 - z) * n + z * h_prev
    cache.update(r=r, z=z, n=n, hg_n=hg_n)
    return h, (h,), cache


def step_backward(
    params: Params, cache: dict, dy: np.ndarray, dstate: State, mask: np.ndarray | None
) -> tuple[np.ndarray, State, dict[str, np.ndarray]]:
    """Gradient of :func:`step`: ``(dx_t, (dh_{t-1},), step t's parameter gradients)``."""
    r, z, n, hg_n, h_prev = (cache[k] for k in ("r", "z", "n", "hg_n", "h_prev"))
    grads: dict[str, np.ndarray] = {}
    dh = dy + dstate[0]  # h_t is both the output and the state
    da_n = dtanh(dh * (1.0 - z), n)
    da_z = dsigmoid(dh * (h_prev - n), z)
    da_r = dsigmoid(da_n * hg_n, r)
    dxg = np.concatenate((da_r, da_z, da_n), axis=1)  # (B, 3H)
    dhg = np.concatenate((da_r, da_z, da_n * r), axis=1)  # r gates the n part on the h side
    if "ln_hh_weight" in params:
        dxp, grads["ln_ih_weight"], grads["bias_ih"] = dlayer_norm(dxg, cache["ln_ih"])
        dhp, grads["ln_hh_weight"], grads["bias_hh"] = dlayer_norm(dhg, cache["ln_hh"])
    else:
        dxp, dhp = dxg, dhg
        grads["bias_ih"], grads["bias_hh"] = dxg.sum(axis=0), dhg.sum(axis=0)
    grads["weight_ih"] = dxp.T @ cache["x"]
    grads["weight_hh"] = dhp.T @ cache["hm"]
    dx = dxp @ params["weight_ih"]
    dh_prev = masked(dhp @ params["weight_hh"], mask) + dh * z
    return dx, (dh_prev,), grads


def forward(
    params: Params,
    x: np.ndarray,
    h0: State | None = None,
    *,
    lengths: np.ndarray | None = None,
    mask: np.ndarray | None = None,
) -> tuple[np.ndarray, State, Cache]:
    """Run the GRU over a batch-first sequence.

    Args:
        params: see the module docstring; layer norm follows the keys present.
        x: inputs (B, T, I).
        h0: initial state ``(h0,)`` with h0 (B, H); zeros when None.
        lengths: (B,) valid steps per sequence, or None.
        mask: recurrent dropout mask (B, H), or None.

    Returns:
        ``(outputs (B, T, H), (h_T,), cache)``.

    Shapes:
        x (B, T, I) -> outputs (B, T, H); state fields (B, H).
    """
    if h0 is None:
        h0 = zero_state(x, params["weight_hh"].shape[1], 1)
    return run_forward(step, params, x, h0, lengths, mask, {})


def backward(
    params: Params,
    cache: Cache,
    doutputs: np.ndarray,
    dfinal: State | None = None,
    *,
    per_step: bool = False,
) -> tuple:
    """BPTT for :func:`forward`: ``(grads, dx (B, T, I), (dh0,))`` [+ per-step extras].

    See :func:`rnnkit.reference.elman.backward` for the arguments and the per-step extras.
    """
    return run_backward(step_backward, params, cache, doutputs, dfinal, per_step)
