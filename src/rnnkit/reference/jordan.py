"""Jordan (output-recurrent) network, forward and hand-derived BPTT, in NumPy.

One step (as :class:`rnnkit.cells.JordanCell`); the state is the previous output ``y``:

    ym_{t-1} = y_{t-1} ⊙ m
    a_t = x_t W_ihᵀ + b_ih [+ ym_{t-1} W_ohᵀ]         feedback "hidden" or "both"
    h_t = φ(a_t)                                       φ = tanh or relu
    o_t = h_t W_hyᵀ + b_hy [+ ym_{t-1} W_ooᵀ]          feedback "output" or "both"
    y_t = ψ(o_t)                                       ψ = identity, tanh, sigmoid, softmax

Backward, with ``dy_t = dE/dy_t|_{output} + dE/dy_t|_{from t+1}``:

    do_t = ψ'(o_t)ᵀ dy_t       dh_t = do_t W_hy       da_t = dh_t ⊙ φ'(a_t)
    dW_hy += do_tᵀ h_t   db_hy += Σ_b do_t   dW_oo += do_tᵀ ym_{t-1}
    dW_ih += da_tᵀ x_t   db_ih += Σ_b da_t   dW_oh += da_tᵀ ym_{t-1}
    dx_t = da_t W_ih     dy_{t-1} = (da_t W_oh + do_t W_oo) ⊙ m

The feedback is read from the parameters: ``weight_oh`` present feeds the hidden layer,
``weight_oo`` present feeds the output layer. Parameters: weight_ih (H, I), bias_ih (H),
[weight_oh (H, O)], weight_hy (O, H), bias_hy (O), [weight_oo (O, O)]. State: ``(y,)``.
"""

from __future__ import annotations

import numpy as np

from rnnkit.reference.core import (
    Cache,
    Params,
    State,
    dphi,
    dsigmoid,
    dsoftmax,
    dtanh,
    masked,
    phi,
    run_backward,
    run_forward,
    sigmoid,
    softmax,
    zero_state,
)

__all__ = ["OUTPUT_ACTIVATIONS", "backward", "forward", "step", "step_backward"]

OUTPUT_ACTIVATIONS = ("identity", "tanh", "sigmoid", "softmax")


def psi(o: np.ndarray, output_activation: str) -> np.ndarray:
    """The output activation ψ."""
    if output_activation == "tanh":
        return np.tanh(o)
    if output_activation == "sigmoid":
        return sigmoid(o)
    if output_activation == "softmax":
        return softmax(o)
    if output_activation == "identity":
        return o
    raise ValueError(
        f"output_activation must be one of {OUTPUT_ACTIVATIONS}, got {output_activation!r}"
    )


def dpsi(dy: np.ndarray, y: np.ndarray, output_activation: str) -> np.ndarray:
    """dE/do from dE/dy, written with the output ``y = ψ(o)``."""
    if output_activation == "tanh":
        return dtanh(dy, y)
    if output_activation == "sigmoid":
        return dsigmoid(dy, y)
    if output_activation == "softmax":
        return dsoftmax(dy, y)
    return dy


def step(
    params: Params,
    x: np.ndarray,
    state: State,
    mask: np.ndarray | None,
    *,
    nonlinearity: str,
    output_activation: str,
) -> tuple[np.ndarray, State, dict]:
    """One step: ``(y_t, (y_t,), cache)``.

    Shapes:
        x (B, I), state (y (B, O),), mask (B, O) or None -> y (B, O).
    """
    (y_prev,) = state
    ym = masked(y_prev, mask)  # the mask drops what goes through W_oh / W_oo only
    a = x @ params["weight_ih"].T + params["bias_ih"]
    if "weight_oh" in params:
        a = a + ym @ params["weight_oh"].T
    h = phi(a, nonlinearity)
    o = h @ params["weight_hy"].T + params["bias_hy"]
    if "weight_oo" in params:
        o = o + ym @ params["weight_oo"].T
    y = psi(o, output_activation)
    return y, (y,), {"x": x, "ym": ym, "h": h, "y": y}


def step_backward(
    params: Params,
    cache: dict,
    dy: np.ndarray,
    dstate: State,
    mask: np.ndarray | None,
    *,
    nonlinearity: str,
    output_activation: str,
) -> tuple[np.ndarray, State, dict[str, np.ndarray]]:
    """Gradient of :func:`step`: ``(dx_t, (dy_{t-1},), step t's parameter gradients)``."""
    x, ym, h, y = cache["x"], cache["ym"], cache["h"], cache["y"]
    do = dpsi(dy + dstate[0], y, output_activation)  # y_t is both the output and the state
    dh = do @ params["weight_hy"]
    da = dphi(dh, h, nonlinearity)
    grads = {"weight_ih": da.T @ x, "bias_ih": da.sum(axis=0)}
    dym = np.zeros_like(ym)
    if "weight_oh" in params:
        grads["weight_oh"] = da.T @ ym
        dym = dym + da @ params["weight_oh"]
    grads["weight_hy"] = do.T @ h
    grads["bias_hy"] = do.sum(axis=0)
    if "weight_oo" in params:
        grads["weight_oo"] = do.T @ ym
        dym = dym + do @ params["weight_oo"]
    dx = da @ params["weight_ih"]
    return dx, (masked(dym, mask),), grads


def forward(
    params: Params,
    x: np.ndarray,
    y0: State | None = None,
    *,
    nonlinearity: str = "tanh",
    output_activation: str = "tanh",
    lengths: np.ndarray | None = None,
    mask: np.ndarray | None = None,
) -> tuple[np.ndarray, State, Cache]:
    """Run the Jordan network over a batch-first sequence.

    Args:
        params: see the module docstring; the feedback is read from which weights exist.
        x: inputs (B, T, I).
        y0: initial state ``(y0,)`` with y0 (B, O); zeros when None.
        nonlinearity: φ, ``"tanh"`` or ``"relu"``.
        output_activation: ψ, one of :data:`OUTPUT_ACTIVATIONS`.
        lengths: (B,) valid steps per sequence, or None.
        mask: recurrent dropout mask (B, O), or None.

    Returns:
        ``(outputs (B, T, O), (y_T,), cache)``.

    Shapes:
        x (B, T, I) -> outputs (B, T, O); state fields (B, O).
    """
    phi(np.zeros(0), nonlinearity)  # validate the options before the loop
    psi(np.zeros((0, 1)), output_activation)
    if y0 is None:
        y0 = zero_state(x, params["weight_hy"].shape[0], 1)
    opts = {"nonlinearity": nonlinearity, "output_activation": output_activation}
    return run_forward(step, params, x, y0, lengths, mask, opts)


def backward(
    params: Params,
    cache: Cache,
    doutputs: np.ndarray,
    dfinal: State | None = None,
    *,
    per_step: bool = False,
) -> tuple:
    """BPTT for :func:`forward`: ``(grads, dx (B, T, I), (dy0,))`` [+ per-step extras].

    See :func:`rnnkit.reference.elman.backward` for the arguments and the per-step extras.
    """
    return run_backward(step_backward, params, cache, doutputs, dfinal, per_step)
