"""Matrix products for the time loop, on whichever of oneDNN and MKL is faster on this CPU.

On a CPU, ``torch.mm`` runs float32 products through MKL, while ``torch.nn.LSTM``'s fused kernel
uses oneDNN. MKL runs its tuned kernels on Intel CPUs only; elsewhere it takes a generic path.
Measured at the loop's shapes (torch 2.13, 2 threads; on the Intel machine with
``benchmarks/bench_gemm.py``):

- AMD EPYC (Zen 4, AVX-512), the development machine until 2026-11-22: oneDNN's
  inner-product primitive was 15-35% faster than MKL, e.g. a (64, 256) x (256, 1024) step
  product in ~200 µs against ~250 µs and the (6400, 1024) x (1024, 256) input gradient in
  17 ms against 26 ms; MKL stayed faster for the weight gradients of square weights.
- Intel Xeon (AVX-512), from 2026-11-23: MKL was as fast as oneDNN or faster at every shape
  but two within 3% (its step products with packed weights, e.g. 29 µs against 39 µs at
  (64, 256) x (256, 256) and 333 µs against 401 µs at (32, 650) x (650, 2600); its weight
  gradients up to 1.75x), and whole training steps of the loop ran 1.08-1.35x faster.

So :data:`BACKEND` is ``"mkl"`` on Intel CPUs and ``"onednn"`` elsewhere. It applies to float32
tensors on the CPU outside autograd (the loop's own forward and backward). Everywhere else
(float64 checks, GPUs, autograd-recorded direct calls) the functions here are the ordinary
torch ops, so results agree to float rounding.

``torch.ops.mkldnn._linear_pointwise`` is the op TorchInductor emits for CPU linear layers; it
is private to torch, which is pinned (constraints.txt). If it is missing, MKL's route is used.
"""

from __future__ import annotations

import ctypes
import os
import platform
from collections.abc import Callable
from functools import cache
from typing import Any

import torch
from torch import Tensor
from torch.autograd.function import FunctionCtx, once_differentiable
from torch.nn import functional as F

__all__ = [
    "BACKEND",
    "MklPacked",
    "cpu_vendor",
    "PackedWeight",
    "input_linear",
    "linear",
    "linear_add",
    "matmul",
    "mkl_packed",
    "packed",
    "weight_grad",
]

_ONEDNN = (
    getattr(torch.ops.mkldnn, "_linear_pointwise", None)
    if torch.backends.mkldnn.is_available()
    else None
)


def cpu_vendor() -> str:
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
    intel = "GenuineIntel" in cpu_vendor()
    return "mkl" if intel and torch.backends.mkl.is_available() else "onednn"


# Where the loop's float32 CPU products run: "onednn" or "mkl" (torch.mm and friends). Chosen
# once per process; tests and benchmarks may set it to compare the two.
BACKEND = _choose_backend()


class MklPacked(ctypes.Structure):
    """MKL's packed-GEMM functions (``Blas`` of native/blas.h), as addresses."""

    _fields_ = [
        ("pack_size", ctypes.c_void_p),
        ("pack", ctypes.c_void_p),
        ("compute", ctypes.c_void_p),
    ]


# cblas_sgemm_compute(layout, transa, transb, m, n, k, a, lda, b, ldb, beta, c, ldc), LP64
_COMPUTE_TYPE = ctypes.CFUNCTYPE(
    None,
    *([ctypes.c_int] * 6),
    ctypes.c_void_p,
    ctypes.c_int,
    ctypes.c_void_p,
    ctypes.c_int,
    ctypes.c_float,
    ctypes.c_void_p,
    ctypes.c_int,
)
_PACK_SIZE_TYPE = ctypes.CFUNCTYPE(ctypes.c_size_t, *([ctypes.c_int] * 4))
_PACK_TYPE = ctypes.CFUNCTYPE(
    None, *([ctypes.c_int] * 6), ctypes.c_float, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p
)
_ROW_MAJOR, _NO_TRANS, _TRANS, _PACKED, _B_MATRIX = 101, 111, 112, 151, 162


@cache
def mkl_packed() -> MklPacked | None:
    """MKL's ``cblas_sgemm_pack_get_size``, ``cblas_sgemm_pack`` and ``cblas_sgemm_compute``
    from libtorch_cpu, or None where torch does not export them (a build without MKL)."""
    library = os.path.join(os.path.dirname(torch.__file__), "lib", "libtorch_cpu.so")
    names = ("cblas_sgemm_pack_get_size", "cblas_sgemm_pack", "cblas_sgemm_compute")
    try:
        torch_cpu = ctypes.CDLL(library)
        functions = [getattr(torch_cpu, name) for name in names]
    except (OSError, AttributeError):
        return None
    return MklPacked(*(ctypes.cast(f, ctypes.c_void_p).value for f in functions))


@cache
def _mkl_calls() -> tuple[Callable[..., Any], ...]:
    """:func:`mkl_packed`'s functions as typed ctypes calls, made once per process."""
    blas = mkl_packed()
    assert blas is not None, "packed() packs for MKL only where MKL exports its packed GEMM"
    return (
        _PACK_SIZE_TYPE(blas.pack_size),
        _PACK_TYPE(blas.pack),
        _COMPUTE_TYPE(blas.compute),
    )


# Below about 4M multiply-adds a oneDNN call costs more than it saves: it has a fixed overhead
# of some 40 µs where torch.mm has 5 µs; at (64, 128) x (128, 512) the two took the same time.
MIN_ONEDNN_MACS = 1 << 22


def _use_onednn(x: Tensor, weight: Tensor) -> bool:
    return (
        not torch.compiler.is_exporting()  # first: a C call cannot be traced, nor sizes tested
        and BACKEND == "onednn"
        and _ONEDNN is not None
        and x.size(0) * weight.numel() >= MIN_ONEDNN_MACS
        and x.dtype == torch.float32
        and weight.dtype == torch.float32
        and x.device.type == "cpu"
        and not (torch.is_grad_enabled() and (x.requires_grad or weight.requires_grad))
    )


class PackedWeight:
    """A recurrent weight laid out once per sequence for the step products ``x Wᵀ`` (or, for
    the backward, ``dz W``).

    On oneDNN (``onednn``, forward only): reordered into oneDNN's blocked layout for a known
    batch size. Packing once per sequence instead of once per product made a (32, 650) x
    (650, 2600) step product 1.4x faster on the AMD machine (the weight does not fit in L2,
    and the packed layout streams better), for a one-off 1.3 ms; packing for the backward's
    ``dz W`` there cost more per sequence than it saved (docs/benchmarks.md). On MKL (``mkl``):
    packed by MKL's ``cblas_sgemm_pack`` for products with ``batch`` rows, which spares MKL
    re-packing the weight inside every product. On the Intel machine: (64, 256) x (256, 1024)
    in 95 µs against 113 µs for ``torch.mm``, (32, 650) x (650, 2600) in 350 µs against
    394-522 µs, and the backward's (64, 1024) x (1024, 256) in 105 µs against 122 µs, for a
    16 µs packing.
    """

    def __init__(self, weight: Tensor, batch: int, backward: bool = False) -> None:
        weight = weight.detach()
        self.weight = weight
        self.onednn: Tensor | None = None
        self.mkl: Tensor | None = None
        M, K = weight.shape
        # the product is (rows, inner) x (inner, cols): x Wᵀ forward, dz W backward
        self.rows, self.cols, self.inner = (batch, K, M) if backward else (batch, M, K)
        if BACKEND == "onednn":
            assert not backward, "oneDNN packs for the forward only"
            self.onednn = torch.ops.mkldnn._reorder_linear_weight(weight, batch)
            return
        pack_size, pack, self._compute = _mkl_calls()
        size = pack_size(_B_MATRIX, batch, self.cols, self.inner)
        self.mkl = torch.empty(size, dtype=torch.uint8)
        weight = weight.contiguous()
        transpose = _NO_TRANS if backward else _TRANS
        pack(_ROW_MAJOR, _B_MATRIX, transpose, batch, self.cols, self.inner, 1.0,
             weight.data_ptr(), K, self.mkl.data_ptr())  # fmt: skip

    def product(self, x: Tensor, out: Tensor, beta: float) -> Tensor:
        """``out <- x W' + beta out`` on MKL's packed weight (W' = Wᵀ forward, W backward):
        x (rows, inner) contiguous, out (rows, cols)."""
        rows, cols, inner = self.rows, self.cols, self.inner
        self._compute(_ROW_MAJOR, _NO_TRANS, _PACKED, rows, cols, inner, x.data_ptr(), inner,
                      self.mkl.data_ptr(), cols, beta, out.data_ptr(), cols)  # fmt: skip
        return out

    def takes(self, x: Tensor) -> bool:
        """Whether :meth:`product` applies to ``x``: float32, ``(rows, inner)`` as packed."""
        return x.dtype == torch.float32 and x.shape == (self.rows, self.inner)


def packed(weight: Tensor, batch: int, backward: bool = False) -> Tensor | PackedWeight:
    """``weight`` packed for the loop's float32 CPU products with ``batch`` rows, ``x Wᵀ``
    (or ``dz W`` if ``backward``, on MKL only), else ``weight`` itself."""
    if (
        (BACKEND == "onednn" and (_ONEDNN is None or backward))
        or (BACKEND == "mkl" and mkl_packed() is None)
        or batch * weight.numel() < MIN_ONEDNN_MACS
        or weight.dtype != torch.float32
        or weight.device.type != "cpu"
    ):
        return weight
    return PackedWeight(weight, batch, backward)


def linear(x: Tensor, weight: Tensor | PackedWeight, bias: Tensor | None = None) -> Tensor:
    """``x Wᵀ + b``: (N, K), (M, K), (M,) -> (N, M)."""
    if isinstance(weight, PackedWeight):
        if weight.onednn is not None:
            return _ONEDNN(x, weight.onednn, bias, "none", [], "")
        if not weight.takes(x):
            return F.linear(x, weight.weight, bias)
        x = x.contiguous()
        if bias is None:
            return weight.product(x, x.new_empty((x.size(0), weight.cols)), 0.0)
        return weight.product(x, bias.expand(x.size(0), -1).contiguous(), 1.0)
    if _use_onednn(x, weight):
        return _ONEDNN(x, weight, bias, "none", [], "")
    if bias is not None and _bias_after(x, weight):
        return torch.mm(x, weight.t()).add_(bias)
    return F.linear(x, weight, bias)


def _bias_after(x: Tensor, weight: Tensor) -> bool:
    """Whether ``x Wᵀ + b`` is faster as a product and then the bias: on MKL, ``addmm`` first
    copies the bias into every row of the output. Over the T*B rows of an input projection
    (6400 x 256 times 256 x 1024 on the Intel machine, medians of 15) ``addmm`` took 11.9 ms,
    ``mm`` then ``add_`` 10.7 ms (and oneDNN's fused bias 10.6 ms); at 256 columns 2.74 ms
    against 2.59 ms."""
    return (
        not torch.compiler.is_exporting()
        and BACKEND == "mkl"
        and x.size(0) * weight.numel() >= MIN_ONEDNN_MACS
        and x.dtype == torch.float32
        and x.device.type == "cpu"
        and not (torch.is_grad_enabled() and (x.requires_grad or weight.requires_grad))
    )


def linear_add(x: Tensor, weight: Tensor | PackedWeight, other: Tensor) -> Tensor:
    """``other + x Wᵀ`` in one kernel: (N, K), (M, K), (N, M) -> (N, M)."""
    if isinstance(weight, PackedWeight):
        if weight.onednn is not None:
            return _ONEDNN.binary(x, other.contiguous(), weight.onednn, None, "add")
        if not weight.takes(x):
            return torch.addmm(other, x, weight.weight.t())
        return weight.product(
            x.contiguous(), other.clone(memory_format=torch.contiguous_format), 1.0
        )
    if _use_onednn(x, weight) and other.is_contiguous():
        return _ONEDNN.binary(x, other, weight, None, "add")
    return torch.addmm(other, x, weight.t())


def matmul(x: Tensor, weight: Tensor | PackedWeight) -> Tensor:
    """``x W`` (the backward of :func:`linear`): (N, M), (M, K) -> (N, K)."""
    if isinstance(weight, PackedWeight):  # packed for the backward, on MKL
        if not weight.takes(x):
            return x.mm(weight.weight)
        return weight.product(x.contiguous(), x.new_empty((x.size(0), weight.cols)), 0.0)
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
    of 16 shapes below 0.9x). On the Intel machine oneDNN took 0.99-1.01x MKL's time at H=256
    and 1.00-1.75x at H=650 (bench_gemm).
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
    if (
        torch.compiler.is_exporting()  # first: a C call cannot be traced, nor sizes tested
        or _ONEDNN is None
        or x.numel() // max(x.size(-1), 1) * weight.numel() < MIN_ONEDNN_MACS
        or x.dtype != torch.float32
        or x.device.type != "cpu"
    ):
        return F.linear(x, weight, bias)
    flat = x.reshape(-1, x.size(-1))  # (N, K)
    return _InputLinear.apply(flat, weight, bias).view(*x.shape[:-1], weight.size(0))
