"""Shared pieces of the reference engine: squashing functions, layer norm, and the time loops.

Every cell family writes one step forward and its hand-derived backward side by side; this
module runs them over time. The forward is ``for t in range(T)``, keeping each step's cache;
the backward is backpropagation through time, ``for t in reversed(range(T))`` over those
cached activations, carrying only ``dE/ds_t`` (the state gradient) back and accumulating the
textbook sums

    dE/dW = Σ_t dE/dW|_t          (the contribution of step t, given dE/ds_t from later steps)

explicitly, one step at a time, so that each contribution can also be returned on its own
(``per_step=True``).

A family can also have a *sequence-level* fast path (the LSTM: ``forward(..., fast=True)``,
then ``backward(..., per_step=False)``) that computes the same numbers, up to float
rounding, the way a fast implementation does: the input projection
of all steps as one GEMM before the loop, one fused gate matmul per step into time-major work
arrays (kept between calls: :mod:`rnnkit.reference.buffers`), only the state gradient carried
through the backward loop, and the weight gradients as one large GEMM over all steps after it.
Its cache still holds per-step views (``Cache.steps``), so ``per_step=True`` runs the explicit
per-step loop on it. Tests keep the two paths equal.

Variable lengths follow rnnkit exactly: past a sequence's length its state is carried
unchanged and its output is zero. In the backward, the incoming gradients of such a step are
zeroed and the carried state gradient passes to the step before untouched.

Shapes (legend of :mod:`rnnkit.state`): x (B, T, I), outputs (B, T, O), state fields (B, K),
recurrent dropout mask (B, K).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnnkit.reference.buffers import POOL

Params = Mapping[str, np.ndarray]
State = tuple[np.ndarray, ...]

EPS = 1e-5  # layer norm's epsilon, torch.nn.LayerNorm's default (as rnnkit.cells.layernorm)

# ---- squashing functions and their derivatives, written with their outputs ------------------


def sigmoid(a: np.ndarray) -> np.ndarray:
    """σ(a) = 1 / (1 + e^{-a}), computed as (1 + tanh(a/2)) / 2 so no exp can overflow."""
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def dsigmoid(dout: np.ndarray, out: np.ndarray) -> np.ndarray:
    """dE/da for out = σ(a): dout ⊙ out ⊙ (1 - out)."""
    return dout * out * (1.0 - out)


def dtanh(dout: np.ndarray, out: np.ndarray) -> np.ndarray:
    """dE/da for out = tanh(a): dout ⊙ (1 - out²)."""
    return dout * (1.0 - out * out)


def relu(a: np.ndarray) -> np.ndarray:
    """max(a, 0)."""
    return np.maximum(a, 0.0)


def drelu(dout: np.ndarray, out: np.ndarray) -> np.ndarray:
    """dE/da for out = relu(a): dout ⊙ [out > 0] (torch's convention: zero gradient at 0)."""
    return dout * (out > 0)


def phi(a: np.ndarray, nonlinearity: str) -> np.ndarray:
    """The hidden nonlinearity φ, ``"tanh"`` or ``"relu"``."""
    if nonlinearity == "tanh":
        return np.tanh(a)
    if nonlinearity == "relu":
        return relu(a)
    raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")


def dphi(dout: np.ndarray, out: np.ndarray, nonlinearity: str) -> np.ndarray:
    """dE/da for out = φ(a)."""
    return dtanh(dout, out) if nonlinearity == "tanh" else drelu(dout, out)


def softmax(a: np.ndarray) -> np.ndarray:
    """Softmax over the last axis; the max is subtracted first so exp cannot overflow."""
    e = np.exp(a - a.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def dsoftmax(dout: np.ndarray, out: np.ndarray) -> np.ndarray:
    """dE/da for out = softmax(a): the Jacobian diag(out) - out outᵀ applied to dout."""
    return out * (dout - (dout * out).sum(axis=-1, keepdims=True))


# ---- layer normalisation (Ba, Kiros & Hinton 2016) -------------------------------------------


def layer_norm(
    z: np.ndarray, gamma: np.ndarray, beta: np.ndarray
) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """LN over the last axis: ``out = γ ⊙ (z - μ) / sqrt(σ² + ε) + β`` (biased σ², as torch).

    Shapes:
        z (B, K), gamma (K), beta (K) -> out (B, K); cache (zhat (B, K), rstd (B, 1), gamma).
    """
    mu = z.mean(axis=-1, keepdims=True)
    rstd = 1.0 / np.sqrt(z.var(axis=-1, keepdims=True) + EPS)
    zhat = (z - mu) * rstd
    return gamma * zhat + beta, (zhat, rstd, gamma)


def dlayer_norm(
    dout: np.ndarray, cache: tuple[np.ndarray, ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward of :func:`layer_norm`: ``(dz, dgamma, dbeta)``, the last two summed over B.

    With ``dzhat = dout ⊙ γ``: ``dz = (dzhat - mean(dzhat) - zhat ⊙ mean(dzhat ⊙ zhat)) ⊙ rstd``
    (the mean and the variance both depend on every z_k, hence the two mean terms).
    """
    zhat, rstd, gamma = cache
    dzhat = dout * gamma
    dz = (
        dzhat
        - dzhat.mean(axis=-1, keepdims=True)
        - zhat * (dzhat * zhat).mean(axis=-1, keepdims=True)
    ) * rstd
    return dz, (dout * zhat).sum(axis=0), dout.sum(axis=0)


# ---- the time loops -----------------------------------------------------------------------

StepFn = Callable[..., tuple[np.ndarray, State, Any]]
StepBackwardFn = Callable[..., tuple[np.ndarray, State, dict[str, np.ndarray]]]


@dataclass
class Cache:
    """What a family's ``forward`` keeps for its ``backward``.

    Attributes:
        steps: one cache per time step, from the family's step function.
        x_shape: (B, T, I).
        valid: (T, B, 1) bool, true inside each sequence; None when all sequences are full.
        mask: recurrent dropout mask (B, K) or None.
        options: the family's keyword options (e.g. ``nonlinearity``), replayed in backward.
        state_shapes: shape of each state field, (B, K).
        seq: the fast path's stacked time-major arrays (T, B, ...), or None after the
            per-step forward; the family's sequence-level backward reads them.
    """

    steps: list[Any]
    x_shape: tuple[int, ...]
    valid: np.ndarray | None
    mask: np.ndarray | None
    options: dict[str, Any] = field(default_factory=dict)
    state_shapes: tuple[tuple[int, ...], ...] = ()
    seq: dict[str, Any] | None = None


def valid_steps(lengths: np.ndarray | None, batch: int, steps: int) -> np.ndarray | None:
    """(T, B, 1) bool, true at steps ``t < lengths[b]``; None when ``lengths`` is None."""
    if lengths is None:
        return None
    lengths = np.asarray(lengths)
    if lengths.shape != (batch,) or lengths.min() < 1 or lengths.max() > steps:
        raise ValueError(f"lengths must be ({batch},) in [1, {steps}], got {lengths!r}")
    return (np.arange(steps)[:, None] < lengths[None, :])[:, :, None]


def run_forward(
    step: StepFn,
    params: Params,
    x: np.ndarray,
    state0: State,
    lengths: np.ndarray | None,
    mask: np.ndarray | None,
    options: dict[str, Any],
) -> tuple[np.ndarray, State, Cache]:
    """``for t in range(T)``: ``y_t, s_t, cache_t = step(params, x_t, s_{t-1}, mask)``.

    Shapes:
        x (B, T, I), state0 fields (B, K) -> outputs (B, T, O), final state fields (B, K).
    """
    B, T = x.shape[:2]
    valid = valid_steps(lengths, B, T)
    state = tuple(state0)
    outputs, caches = [], []
    for t in range(T):
        y, new_state, cache = step(params, x[:, t], state, mask, **options)
        if valid is not None:  # past its end a sequence keeps its state and outputs zeros
            v = valid[t]
            new_state = tuple(
                np.where(v, new, old) for new, old in zip(new_state, state, strict=True)
            )
            y = y * v
        outputs.append(y)
        caches.append(cache)
        state = new_state
    shapes = tuple(s.shape for s in state)
    cache = Cache(caches, x.shape, valid, mask, dict(options), shapes)
    return np.stack(outputs, axis=1), state, cache


def run_backward(
    step_backward: StepBackwardFn,
    params: Params,
    cache: Cache,
    doutputs: np.ndarray,
    dfinal: State | None,
    per_step: bool,
) -> tuple:
    """Backpropagation through time: ``for t in reversed(range(T))`` over the cached steps.

    ``step_backward(params, cache_t, dy_t, ds_t, mask)`` returns ``(dx_t, ds_{t-1}, grads_t)``
    where ``grads_t`` is step t's contribution to every parameter gradient; the total is their
    sum over t, accumulated here.

    Returns:
        ``(grads, dx, dstate0)``, plus ``(per_step_grads, dh_norm)`` when ``per_step``:
        ``per_step_grads[name]`` is (T, *shape) with ``sum(axis=0) == grads[name]``, and
        ``dh_norm`` (T, B) is ``‖∂E/∂h_t‖``, the norm of the whole gradient reaching the first
        state field at step t (output and later steps together; ``y_t`` for Jordan).
    """
    B, T = cache.x_shape[:2]
    valid, mask = cache.valid, cache.mask
    doutputs = np.asarray(doutputs)
    if dfinal is None:  # no loss on the final state
        dfinal = tuple(np.zeros(shape, dtype=doutputs.dtype) for shape in cache.state_shapes)
    dstate = tuple(dfinal)
    grads = {name: np.zeros_like(p) for name, p in params.items()}
    dx = np.zeros(cache.x_shape, dtype=doutputs.dtype)
    contributions: dict[str, list[np.ndarray]] = {name: [] for name in params}
    dh_norm = np.zeros((T, B), dtype=doutputs.dtype)
    for t in reversed(range(T)):
        dy, dstate_in = doutputs[:, t], dstate
        if valid is not None:
            # Past a sequence's end the step did nothing: its incoming gradients are zeroed
            # and the carried gradient passes to the step before unchanged.
            v = valid[t]
            dy = dy * v
            dstate_in = tuple(d * v for d in dstate)
        dh_norm[t] = np.linalg.norm(dy + dstate_in[0], axis=1)
        dx[:, t], dprev, grads_t = step_backward(
            params, cache.steps[t], dy, dstate_in, mask, **cache.options
        )
        if valid is not None:
            dprev = tuple(np.where(v, p, d) for p, d in zip(dprev, dstate, strict=True))
        for name, g in grads_t.items():  # dE/dW = Σ_t dE/dW|_t
            grads[name] += g
            if per_step:
                contributions[name].append(g)
        dstate = dprev
    if not per_step:
        return grads, dx, dstate
    per_step_grads = {
        name: np.stack(gs[::-1]) if gs else np.zeros((T, *params[name].shape))
        for name, gs in contributions.items()
    }
    return grads, dx, dstate, per_step_grads, dh_norm


def zero_state(x: np.ndarray, width: int, fields: int) -> State:
    """The default initial state: ``fields`` zero arrays (B, width) of x's dtype."""
    return tuple(np.zeros((x.shape[0], width), dtype=x.dtype) for _ in range(fields))


def masked(v: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """The recurrent input after variational dropout: ``v ⊙ m`` (v itself without a mask)."""
    return v if mask is None else v * mask


# ---- helpers of the sequence-level fast path -----------------------------------------------


def time_major(a: np.ndarray) -> np.ndarray:
    """(B, T, ...) -> a contiguous (T, B, ...) copy, so that ``a[t]`` is one contiguous block.

    The copy is a work array from the fast path's pool (:mod:`rnnkit.reference.buffers`).
    """
    out = POOL.empty((a.shape[1], a.shape[0], *a.shape[2:]), a.dtype)
    np.copyto(out, np.swapaxes(a, 0, 1))
    return out


def batch_major(a: np.ndarray) -> np.ndarray:
    """(T, B, ...) -> a contiguous (B, T, ...) copy, the layout of the public API."""
    return np.ascontiguousarray(np.swapaxes(a, 0, 1))


def common_dtype(x: np.ndarray, state0: State, params: Params) -> np.dtype:
    """The dtype the per-step path would compute in: that of x, the state and the weights."""
    return np.result_type(x, *state0, *params.values())


def keep_finished(new: np.ndarray, old: np.ndarray, v: np.ndarray | None) -> None:
    """In place: rows past their sequence's end (``v`` false) keep ``old``."""
    if v is not None:
        np.copyto(new, old, where=~v)


def sigmoid_(a: np.ndarray) -> np.ndarray:
    """In place: ``a <- σ(a)``, the same formula (and rounding) as :func:`sigmoid`."""
    a *= 0.5
    np.tanh(a, out=a)
    a += 1.0
    a *= 0.5
    return a
