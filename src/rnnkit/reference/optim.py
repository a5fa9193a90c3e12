"""Optimisers and gradient clipping for the reference engine, in NumPy.

Everything here works on dicts of arrays keyed by the parameter names of the families'
``params`` (``{"weight_ih": ..., "weight_hh": ...}``) and their gradients (the ``grads`` dict a
family's ``backward`` returns).

Conventions (chosen once, for the whole module):

* ``SGD.step`` and ``Adam.step`` update ``params`` **in place** (as ``torch.optim`` does with
  its tensors) and return the same dict, so a model holding the dict sees the new values.
  The optimiser's own state (momentum buffers, moments) is keyed by parameter name.
* The gradient utilities (:func:`clip_by_global_norm`, :func:`clip_by_value`, :func:`average`)
  never modify their inputs: they return **new** dicts of new arrays.

Update rules follow torch.optim's documented algorithms step for step, in the same order of
floating-point operations where it matters, so that a float64 run agrees with torch to ~1e-15
(``tests/test_reference_optim.py`` checks 1e-12 over several steps).

References:
    Sutskever, Martens, Dahl & Hinton (2013), "On the importance of initialization and
    momentum in deep learning", ICML (momentum and Nesterov momentum for deep/recurrent nets).
    Kingma & Ba (2015), "Adam: A Method for Stochastic Optimization", ICLR.
    Pascanu, Mikolov & Bengio (2013), "On the difficulty of training recurrent neural
    networks", ICML, Algorithm 1 (gradient norm clipping).
    Mikolov (2012), "Statistical Language Models Based on Neural Networks", PhD thesis
    (element-wise gradient clipping for RNNs).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, MutableMapping, Sequence

import numpy as np

__all__ = ["SGD", "Adam", "average", "clip_by_global_norm", "clip_by_value", "global_norm"]

Grads = Mapping[str, np.ndarray]


def _check_keys(params: Mapping[str, np.ndarray], grads: Grads) -> None:
    """Every gradient must belong to a parameter; a silent mismatch would skip an update."""
    extra = set(grads) - set(params)
    if extra:
        raise KeyError(f"gradients for unknown parameters: {sorted(extra)}")


class SGD:
    """Stochastic gradient descent with optional (Nesterov) momentum and L2 weight decay.

    Exactly ``torch.optim.SGD`` with ``dampening=0`` (torch's default). For each parameter θ
    with gradient g, at step t:

        g ← g + λ θ                              (weight decay, if λ ≠ 0)
        b_1 = g;   b_t = μ b_{t-1} + g  (t > 1)  (momentum buffer, if μ ≠ 0)
        d = g + μ b_t  (Nesterov)   or   d = b_t  (classical)   or   d = g  (μ = 0)
        θ ← θ - η d

    This is torch's convention, which differs from Sutskever et al. (2013), eq. (1)-(2)
    (``v ← μ v - η g; θ ← θ + v``) by where the learning rate sits: the two agree for a
    constant η but not when η changes during training. The first buffer is ``g`` itself (not
    ``(1-dampening) g``), again as torch.

    Args:
        lr: learning rate η > 0.
        momentum: μ ≥ 0.
        nesterov: use Nesterov momentum (needs μ > 0, as torch).
        weight_decay: λ ≥ 0, added to the gradient as λ θ (coupled L2, not AdamW-style).

    Example:
        >>> import numpy as np
        >>> p = {"w": np.array([1.0, 2.0])}
        >>> opt = SGD(lr=0.1, momentum=0.9)
        >>> _ = opt.step(p, {"w": np.array([1.0, 1.0])})   # b = g
        >>> _ = opt.step(p, {"w": np.array([1.0, 1.0])})   # b = 0.9 b + g = 1.9
        >>> p["w"]
        array([0.71, 1.71])
    """

    def __init__(
        self,
        lr: float,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        if lr <= 0.0:
            raise ValueError(f"lr must be > 0, got {lr}")
        if momentum < 0.0:
            raise ValueError(f"momentum must be >= 0, got {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
        if nesterov and momentum <= 0.0:
            raise ValueError("nesterov momentum needs momentum > 0 (as torch.optim.SGD)")
        self.lr = lr
        self.momentum = momentum
        self.nesterov = nesterov
        self.weight_decay = weight_decay
        self.buffers: dict[str, np.ndarray] = {}  # momentum buffer b per parameter name

    def step(
        self, params: MutableMapping[str, np.ndarray], grads: Grads
    ) -> MutableMapping[str, np.ndarray]:
        """One update of every parameter that has a gradient, in place; returns ``params``."""
        _check_keys(params, grads)
        for name, g in grads.items():
            theta = params[name]
            d = np.asarray(g)
            if self.weight_decay != 0.0:
                d = d + self.weight_decay * theta
            if self.momentum != 0.0:
                buf = self.buffers.get(name)
                # torch: the first buffer is a copy of the gradient, later ones μ b + g
                buf = np.array(d, copy=True) if buf is None else self.momentum * buf + d
                self.buffers[name] = buf
                d = d + self.momentum * buf if self.nesterov else buf
            theta -= self.lr * d  # in place: callers holding the dict see the update
        return params


class Adam:
    """Adam (Kingma & Ba 2015, Algorithm 1) with bias correction, as ``torch.optim.Adam``.

    For each parameter θ with gradient g, at step t = 1, 2, ...:

        g ← g + λ θ                                   (L2 weight decay, if λ ≠ 0)
        m_t = β₁ m_{t-1} + (1 - β₁) g                 (m_0 = 0)
        v_t = β₂ v_{t-1} + (1 - β₂) g²                (v_0 = 0)
        θ ← θ - (η / (1 - β₁ᵗ)) · m_t / (sqrt(v_t) / sqrt(1 - β₂ᵗ) + ε)

    The last line is torch's arrangement of Algorithm 1's ``m̂ = m/(1-β₁ᵗ)``,
    ``v̂ = v/(1-β₂ᵗ)``, ``θ ← θ - η m̂ / (sqrt(v̂) + ε)``: identical in exact arithmetic, and
    written the same way here so float64 results match torch to rounding. ε is added outside
    the square root (as in the paper and torch). Weight decay is the coupled L2 form of
    ``torch.optim.Adam`` (not AdamW's decoupled decay). The step count t is shared by all
    parameters, as torch's per-parameter counts are equal when every parameter is updated
    every step.

    Args:
        lr: learning rate η > 0.
        betas: (β₁, β₂), each in [0, 1).
        eps: ε > 0.
        weight_decay: λ ≥ 0.

    Example:
        >>> import numpy as np
        >>> p = {"w": np.array([1.0])}
        >>> _ = Adam(lr=0.1).step(p, {"w": np.array([123.0])})  # first step moves ≈ η·sign(g)
        >>> p["w"].round(6)
        array([0.9])
    """

    def __init__(
        self,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        if lr <= 0.0:
            raise ValueError(f"lr must be > 0, got {lr}")
        if not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"betas must be in [0, 1), got {betas}")
        if eps <= 0.0:
            raise ValueError(f"eps must be > 0, got {eps}")
        if weight_decay < 0.0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
        self.lr = lr
        self.betas = (float(betas[0]), float(betas[1]))
        self.eps = eps
        self.weight_decay = weight_decay
        self.t = 0
        self.m: dict[str, np.ndarray] = {}  # first moment per parameter name
        self.v: dict[str, np.ndarray] = {}  # second (raw, uncentred) moment per parameter name

    def step(
        self, params: MutableMapping[str, np.ndarray], grads: Grads
    ) -> MutableMapping[str, np.ndarray]:
        """One update of every parameter that has a gradient, in place; returns ``params``."""
        _check_keys(params, grads)
        beta1, beta2 = self.betas
        self.t += 1
        bias_correction1 = 1.0 - beta1**self.t
        bias_correction2_sqrt = math.sqrt(1.0 - beta2**self.t)
        step_size = self.lr / bias_correction1
        for name, g in grads.items():
            theta = params[name]
            g = np.asarray(g)
            if self.weight_decay != 0.0:
                g = g + self.weight_decay * theta
            m = self.m.get(name, np.zeros_like(theta))
            v = self.v.get(name, np.zeros_like(theta))
            # torch computes m as a lerp, m + (1-β₁)(g - m): the same value as the formula
            # β₁ m + (1-β₁) g up to one rounding, far below the 1e-12 the tests ask for.
            m = beta1 * m + (1.0 - beta1) * g
            v = beta2 * v + (1.0 - beta2) * g * g
            self.m[name], self.v[name] = m, v
            denom = np.sqrt(v) / bias_correction2_sqrt + self.eps
            theta -= step_size * (m / denom)
        return params


# ---- gradient utilities (return new dicts) ------------------------------------------------


def global_norm(grads: Grads) -> float:
    """‖g‖ = sqrt(Σ_names Σ_elements g²): the L2 norm of all gradients as one long vector.

    Example:
        >>> import numpy as np
        >>> global_norm({"a": np.array([3.0]), "b": np.array([[4.0]])})
        5.0
    """
    return math.sqrt(sum(float(np.sum(np.square(g))) for g in grads.values()))


def clip_by_global_norm(grads: Grads, threshold: float) -> tuple[dict[str, np.ndarray], float]:
    """Gradient norm clipping, Pascanu, Mikolov & Bengio (2013), Algorithm 1, exactly:

        ĝ ← ∂E/∂θ
        if ‖ĝ‖ ≥ threshold:  ĝ ← (threshold / ‖ĝ‖) ĝ

    with ‖·‖ the global norm over all parameters (:func:`global_norm`), so the direction of
    the whole gradient is kept and only its length is capped — the remedy the paper proposes
    for exploding gradients in RNNs.

    Difference from ``torch.nn.utils.clip_grad_norm_``: torch scales by
    ``max_norm / (‖g‖ + 1e-6)`` and only when that ratio is < 1, so (a) a clipped gradient has
    norm slightly *below* ``max_norm`` (``max_norm·‖g‖/(‖g‖+1e-6)``) and (b) at
    ``‖g‖ == max_norm`` torch still rescales by a factor just under 1. Here the clipped norm is
    exactly ``threshold`` (to rounding), and at ``‖g‖ == threshold`` the factor is exactly 1.

    Args:
        grads: gradient dict; not modified.
        threshold: the clipping threshold, > 0.

    Returns:
        ``(clipped, norm_before)``: a new dict of new arrays, and ‖g‖ before clipping.

    Example:
        >>> import numpy as np
        >>> clipped, norm = clip_by_global_norm({"w": np.array([3.0, 4.0])}, 1.0)
        >>> clipped["w"], norm
        (array([0.6, 0.8]), 5.0)
    """
    if not threshold > 0.0:
        raise ValueError(f"threshold must be > 0, got {threshold}")
    norm = global_norm(grads)
    if norm >= threshold:  # norm > 0 here, since threshold > 0
        scale = threshold / norm
        return {name: g * scale for name, g in grads.items()}, norm
    return {name: np.array(g, copy=True) for name, g in grads.items()}, norm


def clip_by_value(grads: Grads, limit: float) -> dict[str, np.ndarray]:
    """Element-wise clipping to [-limit, limit] (Mikolov 2012's clipping for RNN LMs).

    Unlike :func:`clip_by_global_norm` this changes the gradient's direction. Same as
    ``torch.nn.utils.clip_grad_value_`` (which clamps in place); a new dict is returned here.

    Example:
        >>> import numpy as np
        >>> clip_by_value({"w": np.array([-3.0, 0.5, 2.0])}, 1.0)["w"]
        array([-1. ,  0.5,  1. ])
    """
    if not limit > 0.0:
        raise ValueError(f"limit must be > 0, got {limit}")
    return {name: np.clip(g, -limit, limit) for name, g in grads.items()}


def average(grads_list: Sequence[Grads]) -> dict[str, np.ndarray]:
    """Mini-batch averaging: δ = (1/M) Σ_{k=1}^{M} δ_k over M gradient dicts with equal keys.

    The gradient of the mean loss over M examples (or M sub-batches of equal size) is the
    mean of their gradients, so averaging per-example gradients reproduces one mini-batch
    step (e.g. Goodfellow, Bengio & Courville 2016, Deep Learning, §8.1.3).

    Example:
        >>> import numpy as np
        >>> average([{"w": np.array([1.0, 2.0])}, {"w": np.array([3.0, 6.0])}])["w"]
        array([2., 4.])
    """
    if not grads_list:
        raise ValueError("average of an empty list of gradients")
    keys = set(grads_list[0])
    if any(set(g) != keys for g in grads_list):
        raise KeyError("every gradient dict must have the same keys")
    M = len(grads_list)
    # Sum first, then divide once: one rounding for the division instead of M.
    return {name: sum(g[name] for g in grads_list) / M for name in grads_list[0]}
