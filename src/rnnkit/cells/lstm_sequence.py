"""A whole LSTM sequence in C (``native/lstm_sequence.c``), with its products on MKL.

:class:`rnnkit.cells.LSTMCell` hands the loop a whole sequence here when it can: float32
contiguous tensors on the CPU, gemm's MKL backend (MKL runs its tuned kernels on Intel CPUs;
elsewhere gemm uses oneDNN, which C cannot call) and the native kernels built. Every option
runs here: peepholes, layer norm, recurrent dropout. Otherwise these functions return None and
the loop steps through :meth:`LSTMCell.step` in Python, which stays the definition the tests
check this against.

Why: the C loop calls the very step kernels of the Python loop (``lstm.c``), but spares each
step the fifteen-odd torch calls around them, forward and backward: 10-16% of a training step
at B=64, T=100, H=256 (docs/benchmarks.md, issue #2, "What was tried on the Intel machine").
"""

from __future__ import annotations

import ctypes
from typing import TYPE_CHECKING, NamedTuple

from torch import Tensor

from rnnkit.cells import gemm
from rnnkit.cells.base import outer_sum
from rnnkit.cells.layernorm import EPS
from rnnkit.cells.lstm_native import (
    LN_GAINS,
    LN_PARAMS,
    PEEPHOLES,
    kernel_flags,
    parameters,
)
from rnnkit.cells.native import pointers, sequences, usable
from rnnkit.state import LSTMState

if TYPE_CHECKING:
    from rnnkit.cells.lstm import LSTMCell

__all__ = ["Saved", "sequence_backward", "sequence_forward"]

# The layer-norm gradients in the order the C backward writes them.
LN_GRADS = ("ln_hh_weight", "bias_hh", "ln_c_weight", "ln_c_bias", "ln_ih_weight", "bias_ih")


class Saved(NamedTuple):
    """What the backward needs from a native forward (T steps, B rows, H units)."""

    r: Tensor  # (T, B, H) recurrent inputs h_{t-1} ⊙ m
    c: Tensor  # (T + 1, B, H): c_0, then every c_t
    gates: Tensor  # (T, B, 4H) i, f, g, o
    tc: Tensor  # (T, B, H) tanh of c_t (or of LN(c_t))
    u: Tensor | None  # (T, B, 4H) layer norm: r_t W_hhᵀ
    xg: Tensor | None  # (T, B, 4H) layer norm: the input projection x_t W_ihᵀ
    stats: Tensor | None  # (T, 6, B) layer norm: mean and 1/std of u_t, xg_t, c_t
    mask: Tensor | None  # (B, H)
    library: ctypes.CDLL  # the forward's, for the backward whatever is switched off meanwhile


def sequence_forward(
    cell: LSTMCell, xg: Tensor, state: LSTMState, mask: Tensor | None, keep: bool = True
) -> tuple[Tensor, LSTMState, Saved | None] | None:
    """The loop's forward over all steps: ``xg`` (T, B, 4H) -> outputs (T, B, H), or None.

    The outputs are the kernel's copy of the h_t it keeps: the caller owns them and may change
    them in place, and saved state that is (or views) a returned tensor would close a
    reference cycle through the graph (see the loop). Without ``keep`` (no backward will
    follow) the kernel writes each step's activations over the last's, and nothing is saved.
    """
    lib = sequences()
    params = [cell.weight_hh, *parameters(cell, LN_PARAMS, cell.layer_norm)]
    params += parameters(cell, PEEPHOLES, cell.peephole)
    present = [t for t in (xg, *state, mask, *params) if t is not None]
    if lib is None or not usable(*present):
        return None
    T, B, G = xg.shape
    H = G // 4
    steps, states = (T, T + 1) if keep else (1, 2)  # as the kernel's step_slot, state_slot
    hist, c = xg.new_empty((states, B, H)), xg.new_empty((states, B, H))
    r = xg.new_empty((steps, B, H)) if mask is not None else None
    gates, tc = xg.new_empty((steps, B, G)), xg.new_empty((steps, B, H))
    u = xg.new_empty((steps, B, G)) if cell.layer_norm else None
    stats = xg.new_empty((steps, 6, B)) if cell.layer_norm else None
    outputs = xg.new_empty((T, B, H))
    inputs = [xg, state.h, state.c, mask, *params]
    failed = lib.library.lstm_sequence_forward(
        ctypes.byref(gemm.mkl_packed()),
        *(ctypes.c_int64(n) for n in (T, B, H)),
        ctypes.c_int(kernel_flags(cell)),
        ctypes.c_float(EPS),
        ctypes.c_int(keep),
        pointers(inputs),
        pointers([hist, r, c, gates, tc, u, stats, outputs]),
    )
    if failed:
        raise MemoryError(f"lstm_sequence_forward could not pack weight_hh (B={B}, H={H})")
    final = LSTMState(outputs[-1], c[T if keep else T % 2])
    if not keep:
        return outputs, final, None
    saved = Saved(
        hist[:-1] if r is None else r,
        c,
        gates,
        tc,
        u,
        xg if cell.layer_norm else None,
        stats,
        mask,
        lib.library,
    )
    return outputs, final, saved


def sequence_backward(
    cell: LSTMCell, saved: Saved, doutputs: Tensor, dfinal: LSTMState
) -> tuple[Tensor, LSTMState, dict[str, Tensor]]:
    """dE/dxg (T, B, 4H), dE/d(h_0, c_0) and the step parameters' gradients."""
    r, c, gates, tc, u, xg, stats, mask, library = saved
    T, B, G = gates.shape
    H = G // 4
    dy = doutputs.contiguous()
    dh, dc = dfinal.h.contiguous().clone(), dfinal.c.contiguous().clone()  # carried, in place
    dxg = gates.new_empty((T, B, G))
    dz = gates.new_empty((T, B, G)) if cell.layer_norm else None
    ln_grads = [gates.new_zeros(getattr(cell, n).shape) for n in LN_GRADS if cell.layer_norm]
    peep_grads = [gates.new_zeros(H) for _ in range(3 * cell.peephole)]
    inputs = [dy, mask, cell.weight_hh, c, gates, tc, u, xg, stats]
    inputs += parameters(cell, LN_GAINS, cell.layer_norm)
    inputs += parameters(cell, PEEPHOLES, cell.peephole)
    outputs = [dxg, dz, dh, dc, *(ln_grads or [None] * 6), *(peep_grads or [None] * 3)]
    failed = library.lstm_sequence_backward(
        ctypes.byref(gemm.mkl_packed()),
        *(ctypes.c_int64(n) for n in (T, B, H)),
        ctypes.c_int(kernel_flags(cell)),
        pointers(inputs),
        pointers(outputs),
    )
    if failed:
        raise MemoryError(f"lstm_sequence_backward ran out of memory (B={B}, H={H})")
    grads = {"weight_hh": outer_sum(dxg if dz is None else dz, r)}
    grads.update(zip(LN_GRADS if cell.layer_norm else (), ln_grads, strict=True))
    grads.update(zip(PEEPHOLES if cell.peephole else (), peep_grads, strict=True))
    return dxg, LSTMState(dh, dc), grads
