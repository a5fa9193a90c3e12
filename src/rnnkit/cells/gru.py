"""GRU cell (Cho et al. 2014), torch's variant, with optional layer norm."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from rnnkit.cells.base import (
    Cache,
    Cell,
    masked,
    outer_sum,
    sigmoid_grad,
    stacked,
    tanh_,
    tanh_grad,
)
from rnnkit.cells.gemm import input_linear, linear, matmul
from rnnkit.cells.layernorm import layer_norm, layer_norm_backward
from rnnkit.state import RNNState


class GRUCell(Cell):
    """Gated recurrent unit, one step, gates in torch's order ``r, z, n``:

        xg = x_t W_ihᵀ + b_ih = [xg_r, xg_z, xg_n]                             (B, 3H)
        hg = r_{t-1} W_hhᵀ + b_hh = [hg_r, hg_z, hg_n]   r_{t-1} = h_{t-1} ⊙ m (B, 3H)
        r = σ(xg_r + hg_r)        z = σ(xg_z + hg_z)
        n = tanh(xg_n + r ⊙ hg_n)            (torch's variant: r gates W_hn h + b_hn)
        h_t = (1 - z) ⊙ n + z ⊙ h_{t-1}      y_t = h_t

    ``m`` is the variational recurrent-dropout mask; it drops units of the vector fed through
    ``W_hh`` only, not of the ``z ⊙ h_{t-1}`` carry. With ``layer_norm=True`` (Ba et al. 2016)
    the two matmul results are normalised before their biases are added:
    ``xg = LN(x_t W_ihᵀ; γ_ih) + b_ih`` and ``hg = LN(r_{t-1} W_hhᵀ; γ_hh) + b_hh``.

    Args:
        input_size: ``I``.
        hidden_size: ``H``.
        layer_norm: add gains ``ln_ih_weight`` and ``ln_hh_weight`` (3H each).
        recurrent_dropout: probability for the variational mask on ``h_{t-1}``.

    Shapes:
        x_t (B, I), RNNState(h (B, H)) -> y_t (B, H), RNNState(h (B, H)).

    Example:
        >>> import torch
        >>> y, state = GRUCell(3, 4)(torch.zeros(2, 3))
        >>> tuple(y.shape)
        (2, 4)
    """

    state_type = RNNState

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        layer_norm: bool = False,
        recurrent_dropout: float = 0.0,
    ) -> None:
        super().__init__(input_size, hidden_size, recurrent_dropout)
        self.layer_norm = bool(layer_norm)
        H = hidden_size
        self.weight_ih = nn.Parameter(torch.empty(3 * H, input_size))
        self.weight_hh = nn.Parameter(torch.empty(3 * H, H))
        self.bias_ih = nn.Parameter(torch.empty(3 * H))
        self.bias_hh = nn.Parameter(torch.empty(3 * H))
        if self.layer_norm:
            self.ln_ih_weight = nn.Parameter(torch.empty(3 * H))
            self.ln_hh_weight = nn.Parameter(torch.empty(3 * H))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        if self.layer_norm:
            with torch.no_grad():
                self.ln_ih_weight.fill_(1.0)
                self.ln_hh_weight.fill_(1.0)

    @property
    def fused_mode(self) -> str | None:
        return None if (self.layer_norm or self.recurrent_dropout) else "GRU"

    @property
    def input_parameters(self) -> tuple[str, ...]:
        # With layer norm, LN(x_t W_ihᵀ) + b_ih is taken in the step (see project_input).
        return ("weight_ih",) if self.layer_norm else ("weight_ih", "bias_ih")

    def project_input(self, x: Tensor) -> Tensor:
        if not self.layer_norm:
            return input_linear(x, self.weight_ih, self.bias_ih)
        # LN works row by row, so the step normalises its own row of x W_ihᵀ: the loop then
        # keeps no normalised (T, B, 3H) copy, and the gradient it returns is that of x W_ihᵀ.
        return input_linear(x, self.weight_ih)  # (..., 3H)

    def step(
        self, xg: Tensor, state: RNNState, mask: Tensor | None
    ) -> tuple[Tensor, RNNState, Cache]:
        H = self.hidden_size
        h_prev = state.h
        rin = masked(h_prev, mask)  # (B, H)
        if self.layer_norm:  # xg is this step's row of x W_ihᵀ
            xg, xg_ln = layer_norm(xg, self.ln_ih_weight, self.bias_ih)
            hg, hg_ln = layer_norm(
                linear(rin, self.weight("weight_hh")), self.ln_hh_weight, self.bias_hh
            )
        else:
            hg = linear(rin, self.weight("weight_hh"), self.bias_hh)  # (B, 3H)
        rz = torch.sigmoid(xg[:, : 2 * H] + hg[:, : 2 * H])  # (B, 2H): [r, z]
        r, z = rz.chunk(2, dim=1)
        hg_n = hg[:, 2 * H :]
        n = tanh_(torch.addcmul(xg[:, 2 * H :], r, hg_n))
        h = torch.lerp(n, h_prev, z)  # (1 - z) ⊙ n + z ⊙ h_prev
        cache = (rin, h_prev, rz, n, hg_n)
        if self.layer_norm:
            cache += (*hg_ln, *xg_ln)  # fields 5-7 and 8-10
        return h, RNNState(h), cache

    def backward_rows(self, batch: int) -> tuple[tuple[int, ...], ...]:
        return ((batch, 3 * self.hidden_size),)  # dE/d(rin W_hhᵀ), for weight_hh's gradient

    def step_backward(
        self,
        cache: Cache,
        dy: Tensor,
        dstate: RNNState,
        mask: Tensor | None,
        dxg: Tensor,
        rows: Cache = (),
    ) -> tuple[RNNState, Cache]:
        _, h_prev, rz, n, hg_n = cache[:5]
        r, z = rz.chunk(2, dim=1)
        dh = dy + dstate.h
        da_n = tanh_grad(torch.addcmul(dh, dh, z, value=-1), n)  # through (1 - z) ⊙ n
        da_r = sigmoid_grad(da_n * hg_n, r)
        da_z = sigmoid_grad(dh * (h_prev - n), z)
        dz_row = rows[0] if rows else None
        if self.layer_norm:  # both sides flow back through their layer norms
            dxn = torch.cat((da_r, da_z, da_n), dim=1)  # (B, 3H)
            _, dg_ih, db_ih = layer_norm_backward(
                dxn, self.ln_ih_weight, self.bias_ih, cache[8:11], into=dxg
            )
            dhg = torch.cat((da_r, da_z, da_n * r), dim=1)  # r gates the n part on the hg side
            dz, dg_hh, db_hh = layer_norm_backward(
                dhg, self.ln_hh_weight, self.bias_hh, cache[5:8], into=dz_row
            )
            extras = (dz, dg_hh, db_hh, dg_ih, db_ih)
        else:
            torch.cat((da_r, da_z, da_n), dim=1, out=dxg)  # (B, 3H)
            dz = torch.cat((da_r, da_z, da_n * r), dim=1, out=dz_row)
            extras = (dz,)
        dh_prev = torch.addcmul(masked(matmul(dz, self.weight("weight_hh")), mask), dh, z)
        return RNNState(dh_prev), extras

    def weight_grads(
        self, caches: Sequence[Cache], dxg: Tensor, extras: Sequence[Cache]
    ) -> dict[str, Tensor]:
        dz = stacked(extras, 0)  # (T, B, 3H): dE/d(rin W_hhᵀ)
        grads = {"weight_hh": outer_sum(dz, stacked(caches, 0))}
        if self.layer_norm:  # per-step (3H,) sums from the layer-norm kernels
            for k, name in enumerate(("ln_hh_weight", "bias_hh", "ln_ih_weight", "bias_ih"), 1):
                grads[name] = stacked(extras, k).sum(0)
        else:
            grads["bias_hh"] = dz.sum((0, 1))
        return grads

    def extra_repr(self) -> str:
        return super().extra_repr() + (", layer_norm=True" if self.layer_norm else "")
