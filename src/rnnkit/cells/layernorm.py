"""Layer normalisation (Ba, Kiros & Hinton 2016) with its hand-derived backward.

Forward over the last dimension of ``z`` (B, K), with gain ``gamma`` and optional shift ``beta``:

    mu = mean(z),  sigma = sqrt(var(z) + eps),  zhat = (z - mu) / sigma
    out = gamma * zhat + beta

Backward, given ``dout``: ``dzhat = dout * gamma`` and

    dz = (dzhat - mean(dzhat) - zhat * mean(dzhat * zhat)) / sigma

``dgamma = sum(dout * zhat)`` and ``dbeta = sum(dout)`` over steps and batch are taken by the
cell after the loop, from the stacked ``zhat`` and ``dout``.
"""

from __future__ import annotations

import torch
from torch import Tensor

EPS = 1e-5


def layer_norm(
    z: Tensor, gamma: Tensor, beta: Tensor | None = None
) -> tuple[Tensor, Tensor, Tensor]:
    """Returns ``(out, zhat, inv_sigma)``; ``zhat`` (B, K) and ``inv_sigma`` (B, 1) are the cache.

    Written with plain torch ops so that autograd can also differentiate it (the direct,
    one-step use of a cell). Equals ``torch.nn.functional.layer_norm`` with ``eps=1e-5``.
    """
    mu = z.mean(-1, keepdim=True)
    var = z.var(-1, unbiased=False, keepdim=True)
    inv_sigma = torch.rsqrt(var + EPS)  # (B, 1)
    zhat = (z - mu) * inv_sigma
    out = zhat * gamma if beta is None else torch.addcmul(beta, zhat, gamma)
    return out, zhat, inv_sigma


def layer_norm_backward(dout: Tensor, gamma: Tensor, zhat: Tensor, inv_sigma: Tensor) -> Tensor:
    """dE/dz from dE/dout (see the module docstring)."""
    dzhat = dout * gamma
    mean_d = dzhat.mean(-1, keepdim=True)
    mean_dz = (dzhat * zhat).mean(-1, keepdim=True)
    return (dzhat - mean_d - zhat * mean_dz) * inv_sigma
