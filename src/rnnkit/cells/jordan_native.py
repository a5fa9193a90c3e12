"""The Jordan cell's whole sequence in C (``native/jordan.c``), with its products on MKL.

:class:`rnnkit.cells.JordanCell` hands the loop a whole sequence here when it can: feedback to
the hidden layer, ψ tanh, identity or sigmoid, float32 contiguous tensors on the CPU, gemm's
MKL backend (MKL runs its tuned kernels on Intel CPUs; elsewhere gemm uses oneDNN, which C
cannot call, and the Python loop runs), and the native kernels built. Otherwise these
functions return None and the loop steps through :meth:`JordanCell.step` in Python, which
stays the definition the tests check this against.

Why: a Jordan step is two small products, (64, 256) x (256, 256) at B=64, H=256, about 30 µs
each on MKL, and the Python around them (some ten torch calls forward and again backward)
cost about as much again (docs/benchmarks.md, "Jordan in C").
"""

from __future__ import annotations

import ctypes
from typing import TYPE_CHECKING, NamedTuple

from torch import Tensor

from rnnkit.cells import gemm
from rnnkit.cells.base import outer_sum
from rnnkit.cells.native import kernels, usable
from rnnkit.state import JordanState

if TYPE_CHECKING:
    from rnnkit.cells.jordan import JordanCell

PHI_RELU, PSI_IDENTITY, PSI_SIGMOID = 1, 2, 4
_PSI_FLAGS = {"tanh": 0, "identity": PSI_IDENTITY, "sigmoid": PSI_SIGMOID}


class Saved(NamedTuple):
    """What the backward needs from a native forward."""

    r: Tensor  # (T, B, O) recurrent inputs y_{t-1} ⊙ m
    h: Tensor  # (T, B, H)
    y: Tensor  # (T, B, O)
    mask: Tensor | None  # (B, O)
    library: ctypes.CDLL  # the forward's, for the backward whatever is switched off meanwhile


def _flags(cell: JordanCell) -> int | None:
    """The kernel's flags for the cell's φ and ψ, or None for a ψ it lacks (softmax)."""
    if cell.output_activation not in _PSI_FLAGS:
        return None
    return PHI_RELU * (cell.nonlinearity == "relu") | _PSI_FLAGS[cell.output_activation]


def _library(cell: JordanCell, *tensors: Tensor) -> ctypes.CDLL | None:
    """The native library if this cell and these tensors can run on it, else None."""
    lib = kernels()
    if lib is None or gemm.BACKEND != "mkl" or gemm.mkl_packed() is None or not usable(*tensors):
        return None
    return lib.library


def sequence_forward(
    cell: JordanCell, xg: Tensor, state: JordanState, mask: Tensor | None
) -> tuple[Tensor, JordanState, Saved] | None:
    """The loop's forward over all steps: ``xg`` (T, B, H) -> outputs (T, B, O), or None.

    The outputs are a copy of the saved ``y`` (the kernel writes both), not ``y`` itself: the
    caller owns them and may change them in place, and a saved tensor that is the very tensor
    autograd hands out would close a reference cycle through the graph (see the loop).
    """
    if cell.feedback != "hidden" or _flags(cell) is None:
        return None
    weights = [cell.weight_oh, cell.weight_hy, cell.bias_hy]
    extra = [mask] if mask is not None else []
    lib = _library(cell, xg, state.y, *weights, *extra)
    if lib is None:
        return None
    T, B, H = xg.shape
    O = weights[1].size(0)  # noqa: E741
    r, y, outputs = (xg.new_empty((T, B, O)) for _ in range(3))
    h = xg.new_empty((T, B, H))
    failed = lib.jordan_forward(
        ctypes.byref(gemm.mkl_packed()),
        ctypes.c_int(_flags(cell)),
        *(ctypes.c_int64(n) for n in (T, B, H, O)),
        *_addresses(xg, state.y, mask, *weights, r, h, y, outputs),
    )
    if failed:
        raise MemoryError(f"jordan_forward could not allocate its packed weights (B={B})")
    return outputs, JordanState(outputs[-1]), Saved(r, h, y, mask, lib)


def sequence_backward(
    cell: JordanCell, saved: Saved, doutputs: Tensor, dfinal: JordanState
) -> tuple[Tensor, JordanState, dict[str, Tensor]]:
    """dE/dxg (T, B, H), dE/dy_0 and the step parameters' gradients of a native forward."""
    r, h, y, mask, library = saved
    T, B, H = h.shape
    O = y.size(-1)  # noqa: E741
    dy = doutputs.contiguous()
    dr = dfinal.y.contiguous().clone()  # carried back through time, in place
    d_o, da = y.new_empty(y.shape), h.new_empty(h.shape)
    failed = library.jordan_backward(
        ctypes.byref(gemm.mkl_packed()),
        ctypes.c_int(_flags(cell)),
        *(ctypes.c_int64(n) for n in (T, B, H, O)),
        *_addresses(dy, mask, cell.weight_oh, cell.weight_hy),
        *_addresses(h, y, dr, d_o, da),
    )
    if failed:
        raise MemoryError(f"jordan_backward could not allocate its packed weights (B={B})")
    grads = {
        "weight_oh": outer_sum(da, r),
        "weight_hy": outer_sum(d_o, h),
        "bias_hy": d_o.sum((0, 1)),
    }
    return da, JordanState(dr), grads


def _addresses(*tensors: Tensor | None) -> list[ctypes.c_void_p]:
    return [ctypes.c_void_p(None if t is None else t.data_ptr()) for t in tensors]
