"""Matrix products for the time loop, on oneDNN where it is faster.

On a CPU, ``torch.mm`` runs float32 products through MKL, while ``torch.nn.LSTM``'s fused kernel
uses oneDNN. Measured on the 2-core development machine (torch 2.13), oneDNN's inner-product
primitive was 15-35% faster for the loop's shapes: a (64, 256) x (256, 1024) step product in
~200 µs against ~250 µs, and the (6400, 1024) x (1024, 256) input gradient in 17 ms against
26 ms. Those products are most of a training step, so the loop uses oneDNN when it can: float32
tensors on the CPU, outside autograd (the loop's own forward and backward). Weight gradients
are the exception: MKL computes those of square weights faster, oneDNN those of wide ones
(:func:`weight_grad`). Everywhere else (float64 checks, GPUs, autograd-recorded direct calls)
the same functions fall back to the ordinary torch ops, so results agree to float rounding.

``torch.ops.mkldnn._linear_pointwise`` is the op TorchInductor emits for CPU linear layers; it
is private to torch, which is pinned (constraints.txt). If it is missing, everything falls back.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import FunctionCtx, once_differentiable
from torch.nn import functional as F

__all__ = [
    "PackedWeight",
    "input_linear",
    "linear",
    "linear_add",
    "matmul",
    "packed",
    "weight_grad",
]

_ONEDNN = (
    getattr(torch.ops.mkldnn, "_linear_pointwise", None)
    if torch.backends.mkldnn.is_available()
    else None
)


# Below about 4M multiply-adds a oneDNN call costs more than it saves: it has a fixed overhead
# of some 40 µs where torch.mm has 5 µs; at (64, 128) x (128, 512) the two took the same time.
MIN_ONEDNN_MACS = 1 << 22


def _use_onednn(x: Tensor, weight: Tensor) -> bool:
    return (
        _ONEDNN is not None
        and x.size(0) * weight.numel() >= MIN_ONEDNN_MACS
        and x.dtype == torch.float32
        and weight.dtype == torch.float32
        and x.device.type == "cpu"
        and not (torch.is_grad_enabled() and (x.requires_grad or weight.requires_grad))
    )


class PackedWeight:
    """A weight reordered once into oneDNN's blocked layout for a known batch size.

    The loop's forward multiplies by the same recurrent weight at every step; packing it once
    per sequence instead of once per product made a (32, 650) x (650, 2600) step product 1.4x
    faster on the development machine (the weight does not fit in L2, and the packed layout
    streams better), for a one-off 1.3 ms. The backward's ``dz W`` is not packed: packing
    ``Wᵀ`` cost 11 ms there (a transposed copy, then the reorder) and the product from the
    strided view was as fast (179 µs against 203 µs at (64, 1024) x (1024, 256)).
    """

    def __init__(self, weight: Tensor, batch: int) -> None:
        self.packed = torch.ops.mkldnn._reorder_linear_weight(weight.detach(), batch)


def packed(weight: Tensor, batch: int) -> Tensor | PackedWeight:
    """``weight`` packed for the loop when oneDNN will multiply by it, else ``weight`` itself."""
    if (
        _ONEDNN is None
        or batch * weight.numel() < MIN_ONEDNN_MACS
        or weight.dtype != torch.float32
        or weight.device.type != "cpu"
    ):
        return weight
    return PackedWeight(weight, batch)


def linear(x: Tensor, weight: Tensor | PackedWeight, bias: Tensor | None = None) -> Tensor:
    """``x Wᵀ + b``: (N, K), (M, K), (M,) -> (N, M)."""
    if isinstance(weight, PackedWeight):
        return _ONEDNN(x, weight.packed, bias, "none", [], "")
    if _use_onednn(x, weight):
        return _ONEDNN(x, weight, bias, "none", [], "")
    return F.linear(x, weight, bias)


def linear_add(x: Tensor, weight: Tensor | PackedWeight, other: Tensor) -> Tensor:
    """``other + x Wᵀ`` in one kernel: (N, K), (M, K), (N, M) -> (N, M)."""
    if isinstance(weight, PackedWeight):
        return _ONEDNN.binary(x, other.contiguous(), weight.packed, None, "add")
    if _use_onednn(x, weight) and other.is_contiguous():
        return _ONEDNN.binary(x, other, weight, None, "add")
    return torch.addmm(other, x, weight.t())


def matmul(x: Tensor, weight: Tensor) -> Tensor:
    """``x W`` (the backward of :func:`linear`): (N, M), (M, K) -> (N, K)."""
    if _use_onednn(x, weight):
        return _ONEDNN(x, weight.t(), None, "none", [], "")  # oneDNN reads the strided view
    return x.mm(weight)


class _InputLinear(torch.autograd.Function):
    """``x Wᵀ + b`` over all steps at once, with oneDNN for the forward and the input gradient.

    The weight gradient is :func:`weight_grad`.
    """

    @staticmethod
    def forward(ctx: FunctionCtx, x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        return linear(x, weight, bias)

    @staticmethod
    @once_differentiable
    def backward(ctx: FunctionCtx, dy: Tensor) -> tuple[Tensor | None, ...]:
        x, weight = ctx.saved_tensors
        dx = matmul(dy, weight) if ctx.needs_input_grad[0] else None
        dw = weight_grad(dy, x) if ctx.needs_input_grad[1] else None
        db = dy.sum(0) if ctx.has_bias and ctx.needs_input_grad[2] else None
        return dx, dw, db


# oneDNN computes a weight gradient faster than MKL once the weight is this wide (its rows:
# 4H for an LSTM, 3H for a GRU), and slower for square ones; see weight_grad.
ONEDNN_GRAD_FROM_WIDTH = 1792


def weight_grad(dz: Tensor, r: Tensor) -> Tensor:
    """``dzᵀ r`` summed over all rows: (N, M), (N, K) -> (M, K), the gradient of ``r Wᵀ``.

    Computed as ``(rᵀ dz)ᵀ``, by oneDNN for wide weights (``M >= 1792``) and by MKL otherwise.
    On the development machine (AMD EPYC, AVX-512; medians of 5 runs over N = 1120-12800 rows,
    K = 128-650), oneDNN was 0.99-1.49x as fast as MKL for every M from 1950 up (1.31x at the
    (1120, 650) x (1120, 2600) product of a B=32, T=35, H=650 LSTM, whose odd sizes MKL handles
    badly), 0.86-1.08x at M = 1536, and 0.55-1.10x, mostly slower, for M <= 1024 (0.55-1.01x
    for square weights such as an Elman's or a Jordan's, 13 of 16 shapes below 0.9x).
    ``dz.t().mm(r)`` was slower than ``r.t().mm(dz)`` at every shape tried.
    """
    if (
        _ONEDNN is not None
        and dz.size(1) >= ONEDNN_GRAD_FROM_WIDTH
        and dz.dtype == torch.float32
        and r.dtype == torch.float32
        and dz.device.type == "cpu"
        and not (torch.is_grad_enabled() and (dz.requires_grad or r.requires_grad))
    ):
        return _ONEDNN(r.t(), dz.t(), None, "none", [], "").t()  # (K, N) (M, N)ᵀ, transposed
    return r.t().mm(dz).t()


def input_linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x Wᵀ + b`` for inputs of any leading shape (..., K) -> (..., M), under autograd."""
    rows = x.numel() // max(x.size(-1), 1)
    if (
        _ONEDNN is None
        or rows * weight.numel() < MIN_ONEDNN_MACS
        or x.dtype != torch.float32
        or x.device.type != "cpu"
    ):
        return F.linear(x, weight, bias)
    flat = x.reshape(-1, x.size(-1))  # (N, K)
    return _InputLinear.apply(flat, weight, bias).view(*x.shape[:-1], weight.size(0))
