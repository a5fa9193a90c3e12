"""LSTM cell (Hochreiter & Schmidhuber 1997), with optional peepholes and layer norm."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from rnnkit.cells.base import Cache, Cell, masked, outer_sum, stacked
from rnnkit.cells.layernorm import layer_norm, layer_norm_backward
from rnnkit.state import LSTMState


class LSTMCell(Cell):
    """Long short-term memory cell, one step, gates in torch's order ``i, f, g, o``:

        z_t = r_{t-1} W_hhᵀ                  r_{t-1} = h_{t-1} ⊙ m   (recurrent dropout mask)
        a_t = x_t W_ihᵀ + b_ih + z_t + b_hh  = [a_i, a_f, a_g, a_o]     (B, 4H)
        i = σ(a_i + w_ci ⊙ c_{t-1})          f = σ(a_f + w_cf ⊙ c_{t-1})       g = tanh(a_g)
        c_t = f ⊙ c_{t-1} + i ⊙ g
        o = σ(a_o + w_co ⊙ c_t)
        h_t = o ⊙ tanh(c_t)                  y_t = h_t

    Peepholes (``peephole=True``, Gers & Schmidhuber 2000) add the ``w_c*`` terms (zero
    otherwise). Layer norm (``layer_norm=True``, Ba et al. 2016) normalises the two matmul
    results and the cell before its squashing, with gains ``γ`` and a shift ``β_c``:

        a_t = LN(x_t W_ihᵀ; γ_ih) + b_ih + LN(z_t; γ_hh) + b_hh
        h_t = o ⊙ tanh(LN(c_t; γ_c, β_c))

    Args:
        input_size: ``I``.
        hidden_size: ``H``.
        peephole: add peephole connections ``weight_ci, weight_cf, weight_co`` (H each).
        layer_norm: add ``ln_ih_weight`` (4H), ``ln_hh_weight`` (4H), ``ln_c_weight``,
            ``ln_c_bias`` (H each).
        forget_bias: initial forget-gate bias (put in ``bias_ih``); 1.0 helps gradients flow
            early in training (Gers et al. 2000; Jozefowicz et al. 2015). 0.0 gives torch's init.
        recurrent_dropout: probability for the variational mask on ``h_{t-1}``.

    Shapes:
        x_t (B, I), LSTMState(h (B, H), c (B, H)) -> y_t (B, H), LSTMState(h, c).

    Example:
        >>> import torch
        >>> cell = LSTMCell(3, 4, peephole=True)
        >>> y, state = cell(torch.zeros(2, 3))
        >>> tuple(state.c.shape)
        (2, 4)
    """

    state_type = LSTMState
    input_parameters = ("weight_ih", "bias_ih", "ln_ih_weight")

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        peephole: bool = False,
        layer_norm: bool = False,
        forget_bias: float = 1.0,
        recurrent_dropout: float = 0.0,
    ) -> None:
        super().__init__(input_size, hidden_size, recurrent_dropout)
        self.peephole, self.layer_norm = bool(peephole), bool(layer_norm)
        self.forget_bias = float(forget_bias)
        H = hidden_size
        self.weight_ih = nn.Parameter(torch.empty(4 * H, input_size))
        self.weight_hh = nn.Parameter(torch.empty(4 * H, H))
        self.bias_ih = nn.Parameter(torch.empty(4 * H))
        self.bias_hh = nn.Parameter(torch.empty(4 * H))
        if self.peephole:
            self.weight_ci = nn.Parameter(torch.empty(H))
            self.weight_cf = nn.Parameter(torch.empty(H))
            self.weight_co = nn.Parameter(torch.empty(H))
        if self.layer_norm:
            self.ln_ih_weight = nn.Parameter(torch.empty(4 * H))
            self.ln_hh_weight = nn.Parameter(torch.empty(4 * H))
            self.ln_c_weight = nn.Parameter(torch.empty(H))
            self.ln_c_bias = nn.Parameter(torch.empty(H))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        H = self.hidden_size
        with torch.no_grad():
            if self.forget_bias:
                self.bias_ih[H : 2 * H].fill_(self.forget_bias)
                self.bias_hh[H : 2 * H].zero_()
            if self.layer_norm:  # unit gains, zero shift: LN starts as plain standardisation
                for p in (self.ln_ih_weight, self.ln_hh_weight, self.ln_c_weight):
                    p.fill_(1.0)
                self.ln_c_bias.zero_()

    @property
    def fused_mode(self) -> str | None:
        plain = not (self.peephole or self.layer_norm or self.recurrent_dropout)
        return "LSTM" if plain else None

    def project_input(self, x: Tensor) -> Tensor:
        if not self.layer_norm:
            return nn.functional.linear(x, self.weight_ih, self.bias_ih)
        z = nn.functional.linear(x, self.weight_ih)  # (..., 4H)
        return nn.functional.layer_norm(z, z.shape[-1:], self.ln_ih_weight, self.bias_ih)

    def step(
        self, xg: Tensor, state: LSTMState, mask: Tensor | None
    ) -> tuple[Tensor, LSTMState, Cache]:
        H = self.hidden_size
        h_prev, c_prev = state
        r = masked(h_prev, mask)  # (B, H)
        if self.layer_norm:
            z, zhat, zinv = layer_norm(r.mm(self.weight_hh.t()), self.ln_hh_weight)  # (B, 4H)
            a = xg + z + self.bias_hh
        else:
            a = torch.addmm(xg + self.bias_hh, r, self.weight_hh.t())  # (B, 4H)
        a_i, a_f, a_g, a_o = a.split(H, dim=1)
        if self.peephole:
            a_i = a_i + self.weight_ci * c_prev
            a_f = a_f + self.weight_cf * c_prev
        i, f, g = torch.sigmoid(a_i), torch.sigmoid(a_f), torch.tanh(a_g)
        c = torch.addcmul(f * c_prev, i, g)
        if self.peephole:
            a_o = a_o + self.weight_co * c
        o = torch.sigmoid(a_o)
        if self.layer_norm:
            cn, chat, cinv = layer_norm(c, self.ln_c_weight, self.ln_c_bias)
        else:
            cn = c
        tc = torch.tanh(cn)
        h = o * tc
        cache = (r, c_prev, c, i, f, g, o, tc)
        if self.layer_norm:
            cache += (zhat, zinv, chat, cinv)
        return h, LSTMState(h, c), cache

    def step_backward(
        self, cache: Cache, dy: Tensor, dstate: LSTMState, mask: Tensor | None
    ) -> tuple[Tensor, LSTMState, Cache]:
        r, c_prev, c, i, f, g, o, tc = cache[:8]
        dh = dy + dstate.h
        do = dh * tc
        dcn = dh * o * (1 - tc * tc)
        extras: Cache = ()
        if self.layer_norm:
            zhat, zinv, chat, cinv = cache[8:]
            dc = dstate.c + layer_norm_backward(dcn, self.ln_c_weight, chat, cinv)
            extras = (dcn,)
        else:
            dc = dstate.c + dcn
        da_o = do * o * (1 - o)
        if self.peephole:
            dc = dc + da_o * self.weight_co
        da_i = dc * g * i * (1 - i)
        da_f = dc * c_prev * f * (1 - f)
        da_g = dc * i * (1 - g * g)
        dc_prev = dc * f
        if self.peephole:
            dc_prev = dc_prev + da_i * self.weight_ci + da_f * self.weight_cf
        da = torch.cat((da_i, da_f, da_g, da_o), dim=1)  # (B, 4H)
        dz = layer_norm_backward(da, self.ln_hh_weight, zhat, zinv) if self.layer_norm else da
        if self.layer_norm:
            extras = (dz,) + extras
        dh_prev = masked(dz.mm(self.weight_hh), mask)
        return da, LSTMState(dh_prev, dc_prev), extras

    def weight_grads(
        self, caches: Sequence[Cache], dxg: Tensor, extras: Sequence[Cache]
    ) -> dict[str, Tensor]:
        H = self.hidden_size
        dz = stacked(extras, 0) if self.layer_norm else dxg  # (T, B, 4H)
        grads = {"weight_hh": outer_sum(dz, stacked(caches, 0)), "bias_hh": dxg.sum((0, 1))}
        if self.peephole:
            c_prev, c = stacked(caches, 1), stacked(caches, 2)  # (T, B, H)
            grads["weight_ci"] = (dxg[..., :H] * c_prev).sum((0, 1))
            grads["weight_cf"] = (dxg[..., H : 2 * H] * c_prev).sum((0, 1))
            grads["weight_co"] = (dxg[..., 3 * H :] * c).sum((0, 1))
        if self.layer_norm:
            zhat, chat = stacked(caches, 8), stacked(caches, 10)
            dcn = stacked(extras, 1)
            grads["ln_hh_weight"] = (dxg * zhat).sum((0, 1))
            grads["ln_c_weight"] = (dcn * chat).sum((0, 1))
            grads["ln_c_bias"] = dcn.sum((0, 1))
        return grads

    def extra_repr(self) -> str:
        text = super().extra_repr()
        for name in ("peephole", "layer_norm"):
            if getattr(self, name):
                text += f", {name}=True"
        return text + f", forget_bias={self.forget_bias}"
