"""Training loops for the reference engine: truncated BPTT and one optimiser step, in NumPy.

A *family* is one of the reference modules (:mod:`rnnkit.reference.elman`, ``jordan``,
``lstm``, ``gru``) or its name in :data:`rnnkit.reference.FAMILIES`. A *loss function* has
the signature of :mod:`rnnkit.reference.losses`: ``loss_fn(outputs, targets) -> (loss,
doutputs)``, and, when ``lengths`` is given, ``loss_fn(outputs, targets, mask)`` with ``mask``
(B, T) true at valid steps — so ``losses.mse`` and ``losses.softmax_cross_entropy`` can be
passed as they are.

Truncated BPTT (Williams & Peng 1990, "An efficient gradient-based algorithm for on-line
training of recurrent network trajectories", Neural Computation 2(4); BPTT(h; h') with
h = h' = k, i.e. k1 = k2 = k in the notation of Sutskever 2013, PhD thesis, §2.8.6): the
stream x_1..x_T is cut into windows [s, s+k). Each window is run forward from the final
state of the previous one and backpropagated on its own, so

    ∇_θ E ≈ Σ_w ∇_θ E_w,     E_w = loss of window w,  state entering w held constant,

i.e. the state carried across a window boundary is *detached*: no gradient flows from a
window into the one before it. With k ≥ T there is one window and this is exact BPTT.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping, Sequence
from types import ModuleType
from typing import Any, Protocol

import numpy as np

from rnnkit.reference.families import resolve_family
from rnnkit.reference.optim import clip_by_global_norm, global_norm

__all__ = ["accumulate", "train_step", "truncated_bptt"]

State = tuple[np.ndarray, ...]
LossFn = Callable[..., tuple[float, np.ndarray]]


class Optimiser(Protocol):
    """Anything with ``step(params, grads)`` (:class:`rnnkit.reference.optim.SGD`, ``Adam``)."""

    def step(
        self, params: MutableMapping[str, np.ndarray], grads: Mapping[str, np.ndarray]
    ) -> Any: ...


def accumulate(grads_list: Sequence[Mapping[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Σ_w δ_w: the sum of gradient dicts (e.g. the per-window gradients of truncated BPTT).

    Example:
        >>> import numpy as np
        >>> accumulate([{"w": np.array([1.0])}, {"w": np.array([2.0])}])["w"]
        array([3.])
    """
    if not grads_list:
        raise ValueError("accumulate of an empty list of gradients")
    return {name: sum(g[name] for g in grads_list) for name in grads_list[0]}


def _call_loss(loss_fn: LossFn, outputs, targets, valid) -> tuple[float, np.ndarray]:
    """loss_fn with the valid-step mask only when there are lengths (losses' third arg)."""
    if valid is None:
        return loss_fn(outputs, targets)
    return loss_fn(outputs, targets, valid)


def truncated_bptt(
    family: ModuleType | str,
    params: Mapping[str, np.ndarray],
    x: np.ndarray,
    targets: np.ndarray,
    loss_fn: LossFn,
    *,
    k: int,
    state0: State | None = None,
    lengths: np.ndarray | None = None,
    return_states: bool = False,
    **options: Any,
) -> tuple:
    """Truncated BPTT with k1 = k2 = k over a long (B, T, I) stream (Williams & Peng 1990).

    Window w covers steps [wk, min((w+1)k, T)). It is run by ``family.forward`` from the
    state carried out of window w-1 (``state0``, or zeros, for w = 0), its loss is
    ``loss_fn(outputs_w, targets_w)``, and ``family.backward`` is called with no gradient on
    the final state (``dfinal=None``): the carried state is a constant for the next window,
    i.e. "detached", and the ``dstate0`` each backward returns is discarded.

    With ``lengths`` (B,), sequence b is valid at steps t < lengths[b]: within a window only
    the sequences that still have valid steps are run (the others keep their state and output
    zeros, as in the full forward), the loss gets the (B, k) valid mask as third argument, and
    windows after the longest sequence are skipped.

    Args:
        family: a reference family module, or its name (``"elman"``, ...).
        params: the family's parameters; not modified.
        x: inputs (B, T, I).
        targets: (B, T, ...) — sliced along axis 1 like x.
        loss_fn: ``(outputs, targets[, mask]) -> (loss, doutputs)``, e.g. ``losses.mse``.
        k: window length, ≥ 1 (k ≥ T gives full BPTT).
        state0: initial state tuple, or None for zeros.
        lengths: (B,) valid steps per sequence, or None.
        return_states: also return the state carried out of each window.
        **options: the family's forward options (e.g. ``nonlinearity``, ``mask``).

    Returns:
        ``(loss, grads_list)``, or ``(loss, grads_list, states)`` with ``return_states``:
        ``loss`` is Σ_w E_w, the *sum* of the per-window losses as ``loss_fn`` computes them
        (so with a mean loss it is not the mean over the whole stream unless there is a single
        window); ``grads_list`` is the list of per-window gradient dicts, kept separate so a
        caller can step after each window (on-line TBPTT) or sum them with :func:`accumulate`
        (one step per stream); ``states[w]`` is the state leaving window w.

    Example:
        >>> import numpy as np
        >>> from rnnkit.reference import losses
        >>> rng = np.random.default_rng(0)
        >>> p = {"weight_ih": rng.normal(size=(3, 2)), "weight_hh": rng.normal(size=(3, 3)),
        ...      "bias_ih": np.zeros(3), "bias_hh": np.zeros(3)}
        >>> x, y = rng.normal(size=(4, 10, 2)), rng.normal(size=(4, 10, 3))
        >>> loss, grads = truncated_bptt("elman", p, x, y, losses.mse, k=4)
        >>> len(grads)  # windows [0, 4), [4, 8), [8, 10)
        3
    """
    fam = resolve_family(family)
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    B, T = x.shape[:2]
    if targets.shape[:2] != (B, T):
        raise ValueError(f"targets must start with (B, T) = {(B, T)}, got {targets.shape}")
    if lengths is not None:
        lengths = np.asarray(lengths)
        # Validated once for the whole stream; windows then see clipped per-window lengths.
        if lengths.shape != (B,) or lengths.min() < 1 or lengths.max() > T:
            raise ValueError(f"lengths must be ({B},) in [1, {T}], got {lengths!r}")
    end = T if lengths is None else int(lengths.max())  # nothing to learn past the longest
    state = state0
    total = 0.0
    grads_list: list[dict[str, np.ndarray]] = []
    states: list[State] = []
    for s in range(0, end, k):
        e = min(s + k, T)
        xw, tw = x[:, s:e], targets[:, s:e]
        if lengths is None:
            out, state, cache = fam.forward(params, xw, state, **options)
            loss, dout = loss_fn(out, tw)
            grads, _, _ = fam.backward(params, cache, dout)  # dfinal=None: detached
        else:
            loss, grads, state = _window_with_lengths(
                fam, params, xw, tw, loss_fn, state, np.clip(lengths - s, 0, e - s), options
            )
        total += float(loss)
        grads_list.append(grads)
        states.append(tuple(state))
    if return_states:
        return total, grads_list, states
    return total, grads_list


def _window_with_lengths(
    fam: ModuleType,
    params: Mapping[str, np.ndarray],
    xw: np.ndarray,
    tw: np.ndarray,
    loss_fn: LossFn,
    state: State | None,
    lw: np.ndarray,
    options: dict[str, Any],
) -> tuple[float, dict[str, np.ndarray], State]:
    """One window when some sequences may already have ended (``lw[b] == 0``).

    The families require lengths ≥ 1, so only the active sequences are run; the finished
    ones keep their state and have zero outputs, exactly what the full forward does past a
    sequence's end.
    """
    B, W = xw.shape[:2]
    active = lw > 0
    valid = np.arange(W)[None, :] < lw[:, None]  # (B, W)
    opts = dict(options)
    if opts.get("mask") is not None:  # recurrent dropout mask is per sequence (B, K)
        opts["mask"] = np.asarray(opts["mask"])[active]
    sub_state = None if state is None else tuple(f[active] for f in state)
    out, new_sub, cache = fam.forward(params, xw[active], sub_state, lengths=lw[active], **opts)
    outputs = np.zeros((B, *out.shape[1:]), dtype=out.dtype)
    outputs[active] = out
    loss, dout = _call_loss(loss_fn, outputs, tw, valid)
    grads, _, _ = fam.backward(params, cache, np.asarray(dout)[active])
    if state is None:  # first window: every sequence is active (lengths ≥ 1)
        new_state = tuple(new_sub)
    else:
        new_state = tuple(np.array(f, copy=True) for f in state)
        for full, sub in zip(new_state, new_sub, strict=True):
            full[active] = sub
    return loss, grads, new_state


def train_step(
    family: ModuleType | str,
    params: MutableMapping[str, np.ndarray],
    x: np.ndarray,
    targets: np.ndarray,
    loss_fn: LossFn,
    optimiser: Optimiser,
    *,
    clip: float | None = None,
    state0: State | None = None,
    lengths: np.ndarray | None = None,
    **options: Any,
) -> tuple[float, float]:
    """One training step: forward, loss, full BPTT, optional norm clipping, optimiser step.

        E, ∂E/∂y = loss_fn(forward(θ, x), targets)
        g = BPTT(∂E/∂y);   if clip: g ← clip_by_global_norm(g, clip)   (Pascanu et al. 2013)
        θ ← optimiser.step(θ, g)                                       (in place)

    Args:
        family: a reference family module, or its name.
        params: the parameters, updated in place by the optimiser.
        x: inputs (B, T, I); targets: what ``loss_fn`` expects.
        loss_fn: ``(outputs, targets[, mask]) -> (loss, doutputs)``; gets the (B, T) valid
            mask as third argument when ``lengths`` is given.
        optimiser: e.g. :class:`rnnkit.reference.optim.Adam`.
        clip: global-norm threshold (Algorithm 1 of Pascanu et al. 2013), or None.
        state0: initial state, or None for zeros.
        lengths: (B,) valid steps per sequence, or None.
        **options: the family's forward options (``nonlinearity``, ``mask``, ...).

    Returns:
        ``(loss, grad_norm)``: the loss before the update and ‖g‖ *before* clipping (the
        quantity to monitor for exploding gradients).
    """
    fam = resolve_family(family)
    out, _, cache = fam.forward(params, x, state0, lengths=lengths, **options)
    valid = None
    if lengths is not None:
        valid = np.arange(x.shape[1])[None, :] < np.asarray(lengths)[:, None]
    loss, dout = _call_loss(loss_fn, out, targets, valid)
    grads, _, _ = fam.backward(params, cache, dout)
    if clip is None:
        norm = global_norm(grads)
    else:
        grads, norm = clip_by_global_norm(grads, clip)
    optimiser.step(params, grads)
    return float(loss), norm
