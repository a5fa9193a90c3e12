"""Finite-difference checks of the hand-derived backward passes.

The check differentiates a fixed random projection of everything the forward returns,

    E = Σ outputs ⊙ P + Σ_k final_k ⊙ Q_k        (P, Q standard normal, fixed by ``seed``)

so that every output and the final state carry gradient, then compares the backward's
gradients with central differences ``(E(θ + ε) - E(θ - ε)) / 2ε``, element by element, for
every parameter, every initial-state field and the input.

Example:
    >>> from rnnkit.reference import elman
    >>> rng = np.random.default_rng(0)
    >>> params = {"weight_ih": rng.normal(size=(3, 2)), "weight_hh": rng.normal(size=(3, 3)),
    ...           "bias_ih": rng.normal(size=3), "bias_hh": rng.normal(size=3)}
    >>> errors = gradcheck(elman, params, rng.normal(size=(2, 4, 2)))
    >>> max(errors.values()) < 1e-6
    True
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np

__all__ = ["gradcheck", "numerical_gradient", "relative_error"]


def numerical_gradient(
    f: Callable[[np.ndarray], float], a: np.ndarray, eps: float = 1e-6
) -> np.ndarray:
    """Central differences of the scalar ``f`` at ``a``, one element at a time.

    Shapes:
        a (...) -> gradient (...), same shape and dtype.
    """
    a = np.array(a, dtype=np.float64 if a.dtype.kind != "f" else a.dtype, copy=True)
    grad = np.zeros_like(a)
    flat, gflat = a.reshape(-1), grad.reshape(-1)  # views: writing flat perturbs a
    for k in range(flat.size):
        old = flat[k]
        flat[k] = old + eps
        plus = f(a)
        flat[k] = old - eps
        minus = f(a)
        flat[k] = old
        gflat[k] = (plus - minus) / (2.0 * eps)
    return grad


def relative_error(analytic: np.ndarray, numeric: np.ndarray, floor: float = 1e-12) -> float:
    """``max |a - n| / max(max |a|, max |n|, floor)``: the worst error relative to the array's
    scale.

    Why not element by element: a central difference carries an absolute rounding noise of
    about ``ε_machine |E| / eps`` (~1e-10 here), which swamps the tiny entries of a gradient
    (1e-7 ones are common after a saturated gate) while saying nothing about the derivation.
    """
    scale = max(float(np.abs(analytic).max(initial=0.0)), float(np.abs(numeric).max(initial=0.0)))
    return float(np.abs(analytic - numeric).max(initial=0.0)) / max(scale, floor)


def gradcheck(
    family: ModuleType,
    params: dict[str, np.ndarray],
    x: np.ndarray,
    state0: tuple[np.ndarray, ...] | None = None,
    *,
    eps: float = 1e-6,
    floor: float = 1e-12,
    seed: int = 0,
    **options: Any,
) -> dict[str, float]:
    """Max relative error of ``family.backward`` against finite differences.

    Args:
        family: a reference cell module (``elman``, ``jordan``, ``lstm``, ``gru``).
        params: its parameters (float64 for a meaningful check).
        x: inputs (B, T, I).
        state0: initial state; zeros of the final state's shapes when None.
        eps: finite-difference step.
        floor: denominator floor of :func:`relative_error`.
        seed: seed of the random projection.
        **options: passed to ``family.forward`` (``nonlinearity``, ``lengths``, ``mask``...).

    Returns:
        ``{name: error}`` for every parameter, ``"state0[k]"`` for each state field, and
        ``"x"``.
    """
    outputs, final, cache = family.forward(params, x, state0, **options)
    if state0 is None:
        state0 = tuple(np.zeros_like(s) for s in final)
    rng = np.random.default_rng(seed)
    proj = rng.standard_normal(outputs.shape)
    proj_final = tuple(rng.standard_normal(s.shape) for s in final)

    def energy(p: dict[str, np.ndarray], xs: np.ndarray, s0: tuple[np.ndarray, ...]) -> float:
        out, fin, _ = family.forward(p, xs, s0, **options)
        return float(
            (out * proj).sum() + sum((f * q).sum() for f, q in zip(fin, proj_final, strict=True))
        )

    grads, dx, dstate0 = family.backward(params, cache, proj, proj_final)
    errors = {}
    for name, value in params.items():
        num = numerical_gradient(
            lambda a, name=name: energy({**params, name: a}, x, state0), value, eps
        )
        errors[name] = relative_error(grads[name], num, floor)
    for k, s in enumerate(state0):

        def on_state(a: np.ndarray, k: int = k) -> float:
            return energy(params, x, tuple(a if j == k else s for j, s in enumerate(state0)))

        errors[f"state0[{k}]"] = relative_error(
            dstate0[k], numerical_gradient(on_state, s, eps), floor
        )
    errors["x"] = relative_error(
        dx, numerical_gradient(lambda a: energy(params, a, state0), x, eps), floor
    )
    return errors
