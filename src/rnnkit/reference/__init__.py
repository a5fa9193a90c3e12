"""rnnkit.reference: the NumPy reference engine, the course's BPTT made executable and exact.

One module per cell family, each with ``forward(params, x, state0, *, options, lengths, mask)
-> (outputs (B, T, O), final_state, cache)`` and ``backward(params, cache, doutputs, dfinal,
*, per_step=False) -> (grads, dx, dstate0[, per_step_grads, dh_norm])``. Parameters are dicts
with the names and shapes of rnnkit's torch cells (:func:`params_from_torch`). NumPy only:
this package never imports torch (DESIGN.md). :mod:`~rnnkit.reference.stack` composes the
families into deep and bidirectional stacks; :mod:`~rnnkit.reference.optim` and
:mod:`~rnnkit.reference.training` hold SGD, Adam, gradient clipping (Pascanu et al. 2013,
Algorithm 1), mini-batch averaging, truncated BPTT and a training step.

Example:
    >>> import numpy as np
    >>> from rnnkit.reference import gru
    >>> rng = np.random.default_rng(0)
    >>> params = {"weight_ih": rng.normal(size=(6, 3)), "weight_hh": rng.normal(size=(6, 2)),
    ...           "bias_ih": np.zeros(6), "bias_hh": np.zeros(6)}
    >>> out, (h,), cache = gru.forward(params, rng.normal(size=(4, 5, 3)))
    >>> grads, dx, (dh0,) = gru.backward(params, cache, np.ones_like(out))
    >>> out.shape, dx.shape, grads["weight_hh"].shape
    ((4, 5, 2), (4, 5, 3), (6, 2))
"""

from rnnkit.reference import elman, gru, jordan, losses, lstm, optim, stack, training
from rnnkit.reference.convert import params_from_torch, params_to_torch
from rnnkit.reference.families import FAMILIES
from rnnkit.reference.gradcheck import gradcheck, numerical_gradient, relative_error

__all__ = [
    "FAMILIES",
    "elman",
    "gradcheck",
    "gru",
    "jordan",
    "losses",
    "lstm",
    "numerical_gradient",
    "optim",
    "params_from_torch",
    "params_to_torch",
    "relative_error",
    "stack",
    "training",
]
