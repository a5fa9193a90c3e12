"""The LSTM step on the native kernels (:mod:`rnnkit.cells.native`): the loop's fast route.

:class:`~rnnkit.cells.lstm.LSTMCell` tries these first inside the time loop (autograd not
recording, float32, CPU). The matrix products stay with torch (oneDNN); the C kernels do all
the elementwise work of a step in one pass per row, and return the very cache and gradients
that the cell's torch code returns, so either backward can follow either forward. Each
function returns None when the kernels are missing or cannot read the tensors in place; the
cell then runs its torch code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import Tensor

from rnnkit.cells.base import Cache, masked
from rnnkit.cells.gemm import linear, linear_add, matmul
from rnnkit.cells.layernorm import EPS
from rnnkit.cells.native import LAYER_NORM, PEEPHOLE, kernels, usable
from rnnkit.state import LSTMState

if TYPE_CHECKING:
    from rnnkit.cells.lstm import LSTMCell

__all__ = ["native_step", "native_step_backward"]


def kernel_flags(cell: LSTMCell) -> int:
    """The kernels' flags (``lstm.h``) for the cell's options."""
    return PEEPHOLE * cell.peephole | LAYER_NORM * cell.layer_norm


# The parameters the kernels read, in the order of their pointer arrays (``lstm.h``).
LN_PARAMS = ("ln_ih_weight", "bias_ih", "ln_hh_weight", "bias_hh", "ln_c_weight", "ln_c_bias")
LN_GAINS = ("ln_ih_weight", "ln_hh_weight", "ln_c_weight", "ln_c_bias")  # what the backward reads
PEEPHOLES = ("weight_ci", "weight_cf", "weight_co")


class NativeCache(tuple):
    """A step cache made by :func:`native_step`: its tensors are ones the kernels can read, so
    the backward checks only the tensors it is handed (10 checks fewer, ~10 µs, per step)."""

    __slots__ = ()


def parameters(cell: LSTMCell, names: tuple[str, ...], present: bool) -> list[Tensor | None]:
    """The named parameters (the kernels only read them), or Nones where the option is off."""
    return [getattr(cell, n) if present else None for n in names]


def native_step(
    cell: LSTMCell, xg: Tensor, state: LSTMState, mask: Tensor | None
) -> tuple[Tensor, LSTMState, Cache] | None:
    """:meth:`LSTMCell.step` on the kernels, or None. Shapes as there: xg (B, 4H)."""
    lib = kernels()
    h_prev, c_prev = state
    if lib is None or not usable(xg, c_prev, cell.weight_hh):
        return None
    r = masked(h_prev, mask)  # (B, H)
    B, H = c_prev.shape
    if cell.layer_norm:  # u = r W_hhᵀ is kept for the backward; the gates get their own array
        u = linear(r, cell.weight("weight_hh")).contiguous()  # (B, 4H); a no-op copy
        gates = torch.empty_like(u)
        stats = [c_prev.new_empty((B, 1)) for _ in range(6)]  # mu, rstd of u, xg and c
    else:  # x W_ihᵀ + b + r W_hhᵀ, squashed in place into the gates
        u = gates = linear_add(r, cell.weight("weight_hh"), xg).contiguous()  # (a no-op)
        stats = [None] * 6
    c, tc, h = (torch.empty_like(c_prev) for _ in range(3))
    ln = parameters(cell, LN_PARAMS, cell.layer_norm)
    peep = parameters(cell, PEEPHOLES, cell.peephole)
    inputs = [u, xg if cell.layer_norm else None, c_prev, *ln, *peep]
    lib.forward(kernel_flags(cell), EPS, inputs, [gates, c, tc, h, *stats])
    fields = (r, c_prev, c, gates, gates[:, 3 * H :], tc)
    if cell.layer_norm:  # the torch step's layout: (u, mu, rstd), (c, mu, rstd), (xg, mu, rstd)
        mu_u, rs_u, mu_x, rs_x, mu_c, rs_c = stats
        fields += (u, mu_u, rs_u, c, mu_c, rs_c, xg, mu_x, rs_x)
    return h, LSTMState(h, c), NativeCache(fields)


def native_step_backward(
    cell: LSTMCell,
    cache: Cache,
    dy: Tensor,
    dstate: LSTMState,
    mask: Tensor | None,
    dxg: Tensor,
    rows: Cache,
) -> tuple[LSTMState, Cache] | None:
    """:meth:`LSTMCell.step_backward` on the kernels, or None.

    ``rows`` must be the loop's rows for :meth:`LSTMCell.backward_rows` (the parameter
    gradients are written into them); the extras returned are those rows.
    """
    lib = kernels()
    if lib is None or len(rows) != len(cell.backward_rows(dy.size(0))):
        return None
    dy, dh, dc = dy.contiguous(), dstate.h.contiguous(), dstate.c.contiguous()
    r, c_prev, c, gates, _, tc = cache[:6]
    # dh and dc have dy's dtype; the loop's rows are rows of new buffers, as dxg is.
    native = isinstance(cache, NativeCache)
    if not (usable(dy, dxg) if native else usable(dy, c_prev, c, gates, tc, dxg, *rows)):
        return None
    dc_prev = torch.empty_like(c)
    if cell.layer_norm:
        u, mu_u, rs_u, _, mu_c, rs_c, xg, mu_x, rs_x = cache[6:15]
        dz, *ln_grads = rows[:7]
        gains = parameters(cell, LN_GAINS, True)
        ln_in = [u, xg, mu_u, rs_u, mu_x, rs_x, mu_c, rs_c, *gains]
        peep_grads = list(rows[7:])
    else:
        dz, ln_grads, ln_in, peep_grads = dxg, [None] * 6, [None] * 12, list(rows)
    inputs = [dy, dh, dc, c_prev, c, gates, tc, *ln_in, *parameters(cell, PEEPHOLES, cell.peephole)]
    if not cell.peephole:
        peep_grads = [None] * 3
    outputs = [dxg, dz if cell.layer_norm else None, dc_prev, *ln_grads, *peep_grads]
    lib.backward(kernel_flags(cell), inputs, outputs)
    dh_prev = masked(matmul(dz, cell.weight("weight_hh")), mask)
    return LSTMState(dh_prev, dc_prev), tuple(rows)  # dz (layer norm) and the parameter sums
