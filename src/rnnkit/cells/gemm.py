"""Matrix products for the time loop, on whichever of oneDNN and MKL is faster on this CPU.

On a CPU, ``torch.mm`` runs float32 products through MKL, while ``torch.nn.LSTM``'s fused kernel
uses oneDNN. MKL runs its tuned kernels on Intel CPUs only; elsewhere it takes a generic path.
Measured with ``benchmarks/bench_gemm.py`` at the loop's shapes (torch 2.13, 2 threads):

- AMD EPYC (Zen 4, AVX-512), the development machine until 2026-11-22: oneDNN's
  inner-product primitive was 15-35% faster than MKL, e.g. a (64, 256) x (256, 1024) step
  product in ~200 µs against ~250 µs and the (6400, 1024) x (1024, 256) input gradient in
  17 ms against 26 ms; MKL stayed faster for the weight gradients of square weights.
- Intel Xeon (AVX-512), from 2026-11-23: MKL was as fast as oneDNN or faster at every shape,
  e.g. 32 µs against 44-52 µs at (64, 256) x (256, 256) and 394 µs against 428-548 µs at
  (32, 650) x (650, 2600).

So :data:`BACKEND` is ``"mkl"`` on Intel CPUs and ``"onednn"`` elsewhere. It applies to float32
tensors on the CPU outside autograd (the loop's own forward and backward). Everywhere else
(float64 checks, GPUs, autograd-recorded direct calls) the functions here are the ordinary
torch ops, so results agree to float rounding.

``torch.ops.mkldnn._linear_pointwise`` is the op TorchInductor emits for CPU linear layers; it
is private to torch, which is pinned (constraints.txt). If it is missing, MKL's route is used.
"""

from __future__ import annotations

import platform

import torch
from torch import Tensor
from torch.autograd.function import FunctionCtx, once_differentiable
from torch.nn import functional as F

__all__ = [
    "BACKEND",
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


def _cpu_vendor() -> str:
    """The CPU's vendor string (``GenuineIntel``, ``AuthenticAMD``, ...), or ``""``."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("vendor_id"):
                    return line.partition(":")[2].strip()
    except OSError:  # not Linux: Windows names the vendor in platform.processor()
        pass
    return platform.processor()


def _choose_backend() -> str:
    """``"mkl"`` where MKL runs its own tuned kernels (Intel CPUs) or oneDNN is missing."""
    if _ONEDNN is None:
        return "mkl"
    intel = "GenuineIntel" in _cpu_vendor()
    return "mkl" if intel and torch.backends.mkl.is_available() else "onednn"


# Where the loop's float32 CPU products run: "onednn" or "mkl" (torch.mm and friends). Chosen
# once per process; tests and benchmarks may set it to compare the two.
BACKEND = _choose_backend()


# Below about 4M multiply-adds a oneDNN call costs more than it saves: it has a fixed overhead
# of some 40 µs where torch.mm has 5 µs; at (64, 128) x (128, 512) the two took the same time.
MIN_ONEDNN_MACS = 1 << 22


def _use_onednn(x: Tensor, weight: Tensor) -> bool:
    return (
        BACKEND == "onednn"
        and _ONEDNN is not None
        and x.size(0) * weight.numel() >= MIN_ONEDNN_MACS
        and x.dtype == torch.float32
        and weight.dtype == torch.float32
        and x.device.type == "cpu"
        and not (torch.is_grad_enabled() and (x.requires_grad or weight.requires_grad))
    )


class PackedWeight:
    """A recurrent weight laid out once per sequence for the step products ``x Wᵀ``.

    On oneDNN (``onednn``): reordered into oneDNN's blocked layout for a known batch size.
    Packing once per sequence instead of once per product made a (32, 650) x (650, 2600) step
    product 1.4x faster on the AMD machine (the weight does not fit in L2, and the packed
    layout streams better), for a one-off 1.3 ms. On MKL (``transposed``): ``Wᵀ`` copied
    contiguous, which MKL multiplies faster than the strided view of ``W`` once the weight
    outgrows L2 (394 µs against 516 µs at (32, 650) x (650, 2600) on the Intel machine, the
    same time at H=256). The backward's ``dz W`` reads ``W`` as it is: packing ``Wᵀ`` for it
    cost more per sequence than it saved (docs/benchmarks.md).
    """

    def __init__(self, weight: Tensor, batch: int) -> None:
        weight = weight.detach()
        self.onednn: Tensor | None = None
        self.transposed: Tensor | None = None
        if BACKEND == "onednn":
            self.onednn = torch.ops.mkldnn._reorder_linear_weight(weight, batch)
        else:
            self.transposed = weight.t().contiguous()  # (K, M)


def packed(weight: Tensor, batch: int) -> Tensor | PackedWeight:
    """``weight`` packed for the loop's float32 CPU products, else ``weight`` itself."""
    if (
        (BACKEND == "onednn" and _ONEDNN is None)
        or batch * weight.numel() < MIN_ONEDNN_MACS
        or weight.dtype != torch.float32
        or weight.device.type != "cpu"
    ):
        return weight
    return PackedWeight(weight, batch)


def linear(x: Tensor, weight: Tensor | PackedWeight, bias: Tensor | None = None) -> Tensor:
    """``x Wᵀ + b``: (N, K), (M, K), (M,) -> (N, M)."""
    if isinstance(weight, PackedWeight):
        if weight.onednn is not None:
            return _ONEDNN(x, weight.onednn, bias, "none", [], "")
        wt = weight.transposed
        return torch.mm(x, wt) if bias is None else torch.addmm(bias, x, wt)
    if _use_onednn(x, weight):
        return _ONEDNN(x, weight, bias, "none", [], "")
    return F.linear(x, weight, bias)


def linear_add(x: Tensor, weight: Tensor | PackedWeight, other: Tensor) -> Tensor:
    """``other + x Wᵀ`` in one kernel: (N, K), (M, K), (N, M) -> (N, M)."""
    if isinstance(weight, PackedWeight):
        if weight.onednn is not None:
            return _ONEDNN.binary(x, other.contiguous(), weight.onednn, None, "add")
        return torch.addmm(other, x, weight.transposed)
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

    Computed as ``(rᵀ dz)ᵀ``: on the MKL backend by MKL; on the oneDNN backend by oneDNN for
    wide weights (``M >= 1792``) and by MKL otherwise. On the AMD machine (AVX-512; medians of 5
    runs over N = 1120-12800 rows, K = 128-650), oneDNN was 0.99-1.49x as fast as MKL for every
    M from 1950 up (1.31x at the (1120, 650) x (1120, 2600) product of a B=32, T=35, H=650
    LSTM, whose odd sizes MKL handles badly), 0.86-1.08x at M = 1536, and 0.55-1.10x, mostly
    slower, for M <= 1024 (0.55-1.01x for square weights such as an Elman's or a Jordan's, 13
    of 16 shapes below 0.9x). On the Intel machine MKL was faster at every shape (bench_gemm).
    ``dz.t().mm(r)`` was slower than ``r.t().mm(dz)`` at every shape tried.
    """
    if (
        BACKEND == "onednn"
        and _ONEDNN is not None
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
