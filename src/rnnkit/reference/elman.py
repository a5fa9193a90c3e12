"""Elman (simple) recurrent network, forward and hand-derived BPTT, in NumPy.

One step (as :class:`rnnkit.cells.ElmanCell`), with ``m`` the recurrent dropout mask:

    hm_{t-1} = h_{t-1} ⊙ m
    a_t = x_t W_ihᵀ + b_ih + hm_{t-1} W_hhᵀ + b_hh
    h_t = φ(a_t)            φ = tanh or relu;  y_t = h_t

Backward, with ``dh_t = dE/dy_t + dE/dh_t|_{from t+1}``:

    da_t = dh_t ⊙ φ'(a_t)
    dW_ih += da_tᵀ x_t      db_ih += Σ_b da_t      dW_hh += da_tᵀ hm_{t-1}      db_hh += Σ_b da_t
    dx_t = da_t W_ih        dh_{t-1} = (da_t W_hh) ⊙ m

Parameters (torch.nn.RNNCell names): weight_ih (H, I), weight_hh (H, H), bias_ih (H),
bias_hh (H). State: ``(h,)``.
"""

from __future__ import annotations

import numpy as np

from rnnkit.reference.core import (
    Cache,
    Params,
    State,
    dphi,
    masked,
    phi,
    run_backward,
    run_forward,
    zero_state,
)

__all__ = ["backward", "forward", "step", "step_backward"]


def step(
    params: Params, x: np.ndarray, state: State, mask: np.ndarray | None, *, nonlinearity: str
) -> tuple[np.ndarray, State, dict]:
    """One step: ``(y_t, (h_t,), cache)``.

    Shapes:
        x (B, I), state (h (B, H),), mask (B, H) or None -> y (B, H).
    """
    (h_prev,) = state
    hm = masked(h_prev, mask)  # the mask drops what goes through W_hh only
    a = x @ params["weight_ih"].T + params["bias_ih"] + hm @ params["weight_hh"].T
    a = a + params["bias_hh"]
    h = phi(a, nonlinearity)
    return h, (h,), {"x": x, "hm": hm, "h": h}


def step_backward(
    params: Params,
    cache: dict,
    dy: np.ndarray,
    dstate: State,
    mask: np.ndarray | None,
    *,
    nonlinearity: str,
) -> tuple[np.ndarray, State, dict[str, np.ndarray]]:
    """Gradient of :func:`step`: ``(dx_t, (dh_{t-1},), step t's parameter gradients)``."""
    dh = dy + dstate[0]  # h_t is both the output and the state
    da = dphi(dh, cache["h"], nonlinearity)  # φ' written with the output
    grads = {
        "weight_ih": da.T @ cache["x"],
        "weight_hh": da.T @ cache["hm"],
        "bias_ih": da.sum(axis=0),
        "bias_hh": da.sum(axis=0),
    }
    dx = da @ params["weight_ih"]
    dh_prev = masked(da @ params["weight_hh"], mask)
    return dx, (dh_prev,), grads


def forward(
    params: Params,
    x: np.ndarray,
    h0: State | None = None,
    *,
    nonlinearity: str = "tanh",
    lengths: np.ndarray | None = None,
    mask: np.ndarray | None = None,
) -> tuple[np.ndarray, State, Cache]:
    """Run the Elman network over a batch-first sequence.

    Args:
        params: weight_ih, weight_hh, bias_ih, bias_hh.
        x: inputs (B, T, I).
        h0: initial state ``(h0,)`` with h0 (B, H); zeros when None.
        nonlinearity: φ, ``"tanh"`` or ``"relu"``.
        lengths: (B,) valid steps per sequence, or None for full sequences.
        mask: recurrent dropout mask (B, H) (already scaled by 1/(1-p)), or None.

    Returns:
        ``(outputs (B, T, H), (h_T,), cache)``.

    Shapes:
        x (B, T, I) -> outputs (B, T, H); state fields (B, H).
    """
    phi(np.zeros(0), nonlinearity)  # validate the option before the loop
    if h0 is None:
        h0 = zero_state(x, params["weight_hh"].shape[1], 1)
    opts = {"nonlinearity": nonlinearity}
    return run_forward(step, params, x, h0, lengths, mask, opts)


def backward(
    params: Params,
    cache: Cache,
    doutputs: np.ndarray,
    dfinal: State | None = None,
    *,
    per_step: bool = False,
) -> tuple:
    """BPTT for :func:`forward`.

    Args:
        params: the parameters given to forward.
        cache: the cache forward returned.
        doutputs: dE/doutputs (B, T, H).
        dfinal: dE/d(final state) ``(dh_T,)``, or None.
        per_step: also return each step's parameter-gradient contributions and ‖∂E/∂h_t‖.

    Returns:
        ``(grads, dx (B, T, I), (dh0,))``, plus ``(per_step_grads, dh_norm (T, B))`` when
        ``per_step`` (see :func:`rnnkit.reference.core.run_backward`).
    """
    return run_backward(step_backward, params, cache, doutputs, dfinal, per_step)
