"""Layer normalisation (Ba, Kiros & Hinton 2016) for the recurrent part of a step.

Over the last dimension of ``z`` (B, K), with gain ``gamma`` and optional shift ``beta``:

    mu = mean(z),  rstd = 1 / sqrt(var(z) + eps),  zhat = (z - mu) * rstd
    out = gamma * zhat + beta

and backward, given ``dout``, with ``dzhat = dout * gamma``:

    dz = (dzhat - mean(dzhat) - zhat * mean(dzhat * zhat)) * rstd

Both directions run as ATen's fused kernels (the ones ``torch.nn.LayerNorm`` and its autograd
use): inside the time loop a step is bound by passes over memory, and the textbook version above
costs eight. ``dgamma = sum(dout * zhat)`` and ``dbeta = sum(dout)`` over all steps and the
batch come out of the backward kernel too, one (K,) vector per step.
"""

from __future__ import annotations

import torch
from torch import Tensor

EPS = 1e-5  # torch.nn.LayerNorm's default
_aten = torch.ops.aten

LNCache = tuple[Tensor, Tensor, Tensor]


def layer_norm(z: Tensor, gamma: Tensor, beta: Tensor | None = None) -> tuple[Tensor, LNCache]:
    """``(out, cache)``; cache = (z, mu, rstd) with z (B, K), mu and rstd (B, 1)."""
    out, mu, rstd = torch.native_layer_norm(z, z.shape[-1:], gamma, beta, EPS)
    return out, (z, mu, rstd)


def layer_norm_backward(
    dout: Tensor,
    gamma: Tensor,
    beta: Tensor | None,
    cache: LNCache,
    *,
    into: Tensor | None = None,
) -> tuple[Tensor, Tensor, Tensor | None]:
    """``(dz, dgamma, dbeta)`` from dE/dout for one step; dgamma, dbeta summed over the batch.

    ``dz`` is written into ``into`` (B, K) when given. The parameter gradients come out of the
    same fused kernel almost for free, so the loop keeps these (K,) vectors per step instead of
    stacking ``z`` for a second pass after it.
    """
    z, mu, rstd = cache
    wanted = [True, True, beta is not None]
    if into is None:
        return _aten.native_layer_norm_backward(
            dout, z, z.shape[-1:], mu, rstd, gamma, beta, wanted
        )
    dgamma = gamma.new_empty(gamma.shape)
    dbeta = None if beta is None else beta.new_empty(beta.shape)
    return _aten.native_layer_norm_backward.out(
        dout, z, z.shape[-1:], mu, rstd, gamma, beta, wanted, out0=into, out1=dgamma, out2=dbeta
    )
