"""The Jordan cell's whole sequence in C (``native/jordan.c``), with its products on MKL.

:class:`rnnkit.cells.JordanCell` hands the loop a whole sequence here when it can: feedback to
the hidden layer, ψ tanh, identity or sigmoid, float32 contiguous tensors on the CPU, gemm's
MKL backend (MKL runs its tuned kernels on Intel CPUs; elsewhere gemm uses oneDNN, which C
cannot call, and the Python loop runs), and the native kernels built. Otherwise these
functions return None and the loop steps through :meth:`JordanCell.step` in Python, which
stays the definition the tests check this against.

Why: a Jordan step is two small products, (64, 256) x (256, 256) at B=64, H=256, about 30 µs
each on MKL, and the Python around them (some ten torch calls forward and again backward)
cost about as much again (docs/benchmarks.md, issue #2, "What was tried on the Intel machine").
"""

from __future__ import annotations

import ctypes
from typing import TYPE_CHECKING, NamedTuple

import torch
from torch import Tensor

from rnnkit.cells import gemm
from rnnkit.cells.base import outer_sum
from rnnkit.cells.native import sequences, usable
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
    batch_first: bool  # r, h, y are time-major views of batch-first memory, as xg was
    library: ctypes.CDLL  # the forward's, for the backward whatever is switched off meanwhile


def _flags(cell: JordanCell) -> int | None:
    """The kernel's flags for the cell's φ and ψ, or None for a ψ it lacks (softmax)."""
    if cell.output_activation not in _PSI_FLAGS:
        return None
    return PHI_RELU * (cell.nonlinearity == "relu") | _PSI_FLAGS[cell.output_activation]


def _library(cell: JordanCell, *tensors: Tensor) -> ctypes.CDLL | None:
    """The native library if this cell and these tensors can run on it, else None."""
    lib = sequences()
    if lib is None or not usable(*tensors):
        return None
    return lib.library


def reads_batch_first(cell: JordanCell, x: Tensor) -> bool:
    """Whether a sequence of ``x`` would run here, where the input projection may be made in
    batch-first order (the C loop reads either order; see ``native/jordan.c``)."""
    supported = cell.feedback == "hidden" and _flags(cell) is not None
    return (
        supported
        and x.dtype == torch.float32
        and x.device.type == "cpu"
        and sequences() is not None
    )


def _layout(xg: Tensor) -> bool | None:
    """True if ``xg`` (T, B, H) is a time-major view of batch-first memory, False if it is
    time-major and contiguous, None otherwise (the C loop reads neither)."""
    if xg.is_contiguous():
        return False
    return True if xg.transpose(0, 1).is_contiguous() else None


def _empty(like: Tensor, batch_first: bool, width: int) -> Tensor:
    """An empty (T, B, width) array in ``like``'s layout."""
    T, B = like.shape[:2]
    if batch_first:
        return like.new_empty((B, T, width)).transpose(0, 1)
    return like.new_empty((T, B, width))


def _in_memory_order(t: Tensor, batch_first: bool) -> Tensor:
    """The contiguous tensor behind a (T, B, K) array: sums over all rows read it as it is."""
    return t.transpose(0, 1) if batch_first else t


def sequence_forward(
    cell: JordanCell, xg: Tensor, state: JordanState, mask: Tensor | None, keep: bool = True
) -> tuple[Tensor, JordanState, Saved | None] | None:
    """The loop's forward over all steps: ``xg`` (T, B, H) -> outputs (T, B, O), or None.

    ``xg`` may be time-major or a time-major view of batch-first memory; the saved arrays
    take its layout. The outputs are a time-major copy of the saved ``y`` (the kernel writes
    both), not ``y`` itself: the caller owns them and may change them in place, and a saved
    tensor that is the very tensor autograd hands out would close a reference cycle through
    the graph (see the loop). Without ``keep`` (no backward will follow) the kernel writes
    each step's activations over the last's, and nothing is saved.
    """
    batch_first = _layout(xg)
    if cell.feedback != "hidden" or _flags(cell) is None or batch_first is None:
        return None
    weights = [cell.weight_oh, cell.weight_hy, cell.bias_hy]
    extra = [mask] if mask is not None else []
    lib = _library(cell, _in_memory_order(xg, batch_first), state.y, *weights, *extra)
    if lib is None:
        return None
    T, B, H = xg.shape
    O = weights[1].size(0)  # noqa: E741
    if keep:
        r, y = _empty(xg, batch_first, O), _empty(xg, batch_first, O)
        h = _empty(xg, batch_first, H)
    else:  # one step of r and h, two of y (the kernel's slots), time-major
        r, h, y = xg.new_empty((1, B, O)), xg.new_empty((1, B, H)), xg.new_empty((2, B, O))
    outputs = xg.new_empty((T, B, O))
    failed = lib.jordan_forward(
        ctypes.byref(gemm.mkl_packed()),
        ctypes.c_int(_flags(cell)),
        *(ctypes.c_int64(n) for n in (T, B, H, O)),
        ctypes.c_int(batch_first),
        ctypes.c_int(keep),
        *_addresses(xg, state.y, mask, *weights, r, h, y, outputs),
    )
    if failed:
        raise MemoryError(f"jordan_forward could not allocate its packed weights (B={B})")
    saved = Saved(r, h, y, mask, batch_first, lib) if keep else None
    return outputs, JordanState(outputs[-1]), saved


def sequence_backward(
    cell: JordanCell, saved: Saved, doutputs: Tensor, dfinal: JordanState
) -> tuple[Tensor, JordanState, dict[str, Tensor]]:
    """dE/dxg (T, B, H) in the forward's layout, dE/dy_0 and the step parameters' gradients."""
    r, h, y, mask, batch_first, library = saved
    T, B, H = h.shape
    O = y.size(-1)  # noqa: E741
    # Read in place where its rows are contiguous (the transposed gradient of batch-first
    # outputs is): no copy into time order.
    dy = doutputs if doutputs.stride(-1) == 1 else doutputs.contiguous()
    dr = dfinal.y.contiguous().clone()  # carried back through time, in place
    d_o, da = _empty(y, batch_first, O), _empty(h, batch_first, H)
    failed = library.jordan_backward(
        ctypes.byref(gemm.mkl_packed()),
        ctypes.c_int(_flags(cell)),
        *(ctypes.c_int64(n) for n in (T, B, H, O)),
        ctypes.c_int(batch_first),
        ctypes.c_void_p(dy.data_ptr()),
        *(ctypes.c_int64(n) for n in dy.stride()[:2]),
        *_addresses(mask, cell.weight_oh, cell.weight_hy),
        *_addresses(h, y, dr, d_o, da),
    )
    if failed:
        raise MemoryError(f"jordan_backward could not allocate its packed weights (B={B})")
    rows = (_in_memory_order(t, batch_first) for t in (da, r, d_o, h))
    da_rows, r_rows, do_rows, h_rows = rows
    grads = {
        "weight_oh": outer_sum(da_rows, r_rows),
        "weight_hy": outer_sum(do_rows, h_rows),
        "bias_hy": do_rows.sum((0, 1)),
    }
    return da, JordanState(dr), grads


def _addresses(*tensors: Tensor | None) -> list[ctypes.c_void_p]:
    return [ctypes.c_void_p(None if t is None else t.data_ptr()) for t in tensors]
