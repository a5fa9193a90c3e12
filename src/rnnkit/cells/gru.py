"""GRU cell (Cho et al. 2014), torch's variant, with optional layer norm."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from rnnkit.cells.base import Cache, Cell, masked, outer_sum, stacked
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
    input_parameters = ("weight_ih", "bias_ih", "ln_ih_weight")

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

    def project_input(self, x: Tensor) -> Tensor:
        if not self.layer_norm:
            return nn.functional.linear(x, self.weight_ih, self.bias_ih)
        z = nn.functional.linear(x, self.weight_ih)  # (..., 3H)
        return nn.functional.layer_norm(z, z.shape[-1:], self.ln_ih_weight, self.bias_ih)

    def step(
        self, xg: Tensor, state: RNNState, mask: Tensor | None
    ) -> tuple[Tensor, RNNState, Cache]:
        H = self.hidden_size
        h_prev = state.h
        rin = masked(h_prev, mask)  # (B, H)
        if self.layer_norm:
            z_hh, zhat, zinv = layer_norm(rin.mm(self.weight_hh.t()), self.ln_hh_weight)
            hg = z_hh + self.bias_hh  # (B, 3H)
        else:
            hg = torch.addmm(self.bias_hh, rin, self.weight_hh.t())  # (B, 3H)
        xg_r, xg_z, xg_n = xg.split(H, dim=1)
        hg_r, hg_z, hg_n = hg.split(H, dim=1)
        r = torch.sigmoid(xg_r + hg_r)
        z = torch.sigmoid(xg_z + hg_z)
        n = torch.tanh(torch.addcmul(xg_n, r, hg_n))
        h = n + z * (h_prev - n)  # = (1 - z) n + z h_prev, one op fewer
        cache = (rin, h_prev, r, z, n, hg_n)
        if self.layer_norm:
            cache += (zhat, zinv)
        return h, RNNState(h), cache

    def step_backward(
        self, cache: Cache, dy: Tensor, dstate: RNNState, mask: Tensor | None
    ) -> tuple[Tensor, RNNState, Cache]:
        _, h_prev, r, z, n, hg_n = cache[:6]
        dh = dy + dstate.h
        dn = dh * (1 - z)
        da_z = dh * (h_prev - n) * z * (1 - z)
        da_n = dn * (1 - n * n)
        da_r = da_n * hg_n * r * (1 - r)
        dxg = torch.cat((da_r, da_z, da_n), dim=1)  # (B, 3H)
        dhg = torch.cat((da_r, da_z, da_n * r), dim=1)  # (B, 3H): r gates the n part of hg
        dz = layer_norm_backward(dhg, self.ln_hh_weight, *cache[6:]) if self.layer_norm else dhg
        dh_prev = dh * z + masked(dz.mm(self.weight_hh), mask)
        extras = (dhg, dz) if self.layer_norm else (dhg,)
        return dxg, RNNState(dh_prev), extras

    def weight_grads(
        self, caches: Sequence[Cache], dxg: Tensor, extras: Sequence[Cache]
    ) -> dict[str, Tensor]:
        dhg = stacked(extras, 0)  # (T, B, 3H)
        dz = stacked(extras, 1) if self.layer_norm else dhg
        grads = {"weight_hh": outer_sum(dz, stacked(caches, 0)), "bias_hh": dhg.sum((0, 1))}
        if self.layer_norm:
            grads["ln_hh_weight"] = (dhg * stacked(caches, 6)).sum((0, 1))
        return grads

    def extra_repr(self) -> str:
        return super().extra_repr() + (", layer_norm=True" if self.layer_norm else "")
