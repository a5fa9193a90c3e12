"""LSTM cell (Hochreiter & Schmidhuber 1997), with optional peepholes and layer norm."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from rnnkit.cells import lstm_sequence
from rnnkit.cells.base import (
    Cache,
    Cell,
    masked,
    outer_sum,
    sigmoid_grad,
    stacked,
    tanh,
    tanh_grad,
)
from rnnkit.cells.gemm import input_linear, linear, linear_add, matmul
from rnnkit.cells.layernorm import layer_norm, layer_norm_backward
from rnnkit.cells.lstm_native import native_step, native_step_backward
from rnnkit.cells.plain import plain_torch
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

    @property
    def input_parameters(self) -> tuple[str, ...]:
        if self.layer_norm:  # both layer norms, with their shifts b_ih, b_hh, are in the step
            return ("weight_ih",)
        return ("weight_ih", "bias_ih", "bias_hh")

    def project_input(self, x: Tensor) -> Tensor:
        if not self.layer_norm:  # both biases are added once for all steps, not once per step
            return input_linear(x, self.weight_ih, self.bias_ih + self.bias_hh)
        # LN works row by row, so the step normalises its own row of x W_ihᵀ: the loop then
        # keeps no normalised (T, B, 4H) copy, and the gradient it returns is that of x W_ihᵀ.
        return input_linear(x, self.weight_ih)  # (..., 4H)

    def step(
        self, xg: Tensor, state: LSTMState, mask: Tensor | None
    ) -> tuple[Tensor, LSTMState, Cache]:
        if not plain_torch():  # inside the loop: the native kernels if they can
            result = native_step(self, xg, state, mask)
            if result is not None:
                return result
        h_prev, c_prev = state
        r = masked(h_prev, mask)  # (B, H)
        if self.layer_norm:  # xg is this step's row of x W_ihᵀ
            xn, x_ln = layer_norm(xg, self.ln_ih_weight, self.bias_ih)
            z, z_ln = layer_norm(
                linear(r, self.weight("weight_hh")), self.ln_hh_weight, self.bias_hh
            )
            gates = z + xn if plain_torch() else z.add_(xn)  # (B, 4H); z is not cached
        else:
            gates = linear_add(r, self.weight("weight_hh"), xg)  # (B, 4H); xg holds b_ih + b_hh
        gates, o = self._squash(gates, c_prev)
        i, f, g, _ = gates.chunk(4, dim=1)
        c = torch.addcmul(f * c_prev, i, g)  # (B, H)
        if self.peephole:  # o peeks at the new cell
            o = torch.sigmoid(torch.addcmul(o, self.weight_co, c))
        if self.layer_norm:
            cn, c_ln = layer_norm(c, self.ln_c_weight, self.ln_c_bias)
        else:
            cn = c
        tc = tanh(cn)
        h = o * tc
        cache = (r, c_prev, c, gates, o, tc)
        if self.layer_norm:
            cache += (*z_ln, *c_ln, *x_ln)  # fields 6-8, 9-11 and 12-14
        return h, LSTMState(h, c), cache

    def sequence_forward(
        self, xg: Tensor, state: LSTMState, mask: Tensor | None, keep: bool = True
    ) -> tuple[Tensor, LSTMState, lstm_sequence.Saved | None] | None:
        return lstm_sequence.sequence_forward(self, xg, state, mask, keep)

    def sequence_backward(
        self, saved: lstm_sequence.Saved, doutputs: Tensor, dstate: LSTMState
    ) -> tuple[Tensor, LSTMState, dict[str, Tensor]]:
        return lstm_sequence.sequence_backward(self, saved, doutputs, dstate)

    def _squash(self, gates: Tensor, c_prev: Tensor) -> tuple[Tensor, Tensor]:
        """``[a_i, a_f, a_g, a_o] -> ([i, f, g, ·], o)``; with peepholes ``o`` is returned
        unsquashed (it needs ``c_t``) and ``i``, ``f`` first see ``c_{t-1}``."""
        H = self.hidden_size
        if self.peephole:
            gates[:, :H].addcmul_(self.weight_ci, c_prev)
            gates[:, H : 2 * H].addcmul_(self.weight_cf, c_prev)
        if plain_torch():  # autograd is recording (a direct call) or export: no in-place
            a_i, a_f, a_g, a_o = gates.chunk(4, dim=1)
            o = a_o if self.peephole else torch.sigmoid(a_o)
            return torch.cat((torch.sigmoid(a_i), torch.sigmoid(a_f), torch.tanh(a_g), o), 1), o
        # The loop's forward, in place: one sigmoid over the whole block computes every gate,
        # g through tanh(a) = 2σ(2a) - 1 (torch's CPU tanh is 4x slower than its sigmoid).
        a_g = gates[:, 2 * H : 3 * H]
        a_g.mul_(2)
        (gates[:, : 3 * H] if self.peephole else gates).sigmoid_()
        a_g.mul_(2).sub_(1)
        return gates, gates[:, 3 * H :]

    def backward_rows(self, batch: int) -> tuple[tuple[int, ...], ...]:
        # With layer norm, dE/d(r W_hhᵀ) (for weight_hh's gradient) differs from dE/dxg; the
        # native kernels also write each step's parameter sums into rows, in extras' order.
        H = self.hidden_size
        shapes: tuple[tuple[int, ...], ...] = ()
        if self.layer_norm:
            shapes = ((batch, 4 * H), (4 * H,), (4 * H,), (H,), (H,), (4 * H,), (4 * H,))
        return shapes + ((H,),) * 3 * self.peephole

    def step_backward(
        self,
        cache: Cache,
        dy: Tensor,
        dstate: LSTMState,
        mask: Tensor | None,
        dxg: Tensor,
        rows: Cache = (),
    ) -> tuple[LSTMState, Cache]:
        if not torch.is_grad_enabled():
            result = native_step_backward(self, cache, dy, dstate, mask, dxg, rows)
            if result is not None:
                return result
        r, c_prev, c, gates, o, tc = cache[:6]
        i, f, g, _ = gates.chunk(4, dim=1)
        dh = dy + dstate.h
        dcn = tanh_grad(dh * o, tc)  # through h = o ⊙ tanh(cn)
        if self.layer_norm:
            z_ln, c_ln = cache[6:9], cache[9:12]
            dc_ln, dg_c, db_c = layer_norm_backward(dcn, self.ln_c_weight, self.ln_c_bias, c_ln)
            dc = dstate.c + dc_ln
        else:
            dc = dstate.c + dcn
        # Gate pre-activation gradients da = [da_i, da_f, da_g, da_o] (B, 4H).
        da_o = sigmoid_grad(dh * tc, o)
        if self.peephole:  # o saw c_t, so its gradient flows into dc too
            dc = dc.addcmul_(da_o, self.weight_co)
        da_i = sigmoid_grad(dc * g, i)
        da_f = sigmoid_grad(dc * c_prev, f)
        da_g = tanh_grad(dc * i, g)
        da = torch.cat((da_i, da_f, da_g, da_o), dim=1, out=None if self.layer_norm else dxg)
        dc_prev = dc * f
        if self.peephole:
            dc_prev.addcmul_(da_i, self.weight_ci).addcmul_(da_f, self.weight_cf)
        extras: Cache = ()
        if self.layer_norm:  # da flows back through both layer norms
            dz, dg_hh, db_hh = layer_norm_backward(
                da, self.ln_hh_weight, self.bias_hh, z_ln, into=rows[0] if rows else None
            )
            x_ln = cache[12:15]
            _, dg_ih, db_ih = layer_norm_backward(
                da, self.ln_ih_weight, self.bias_ih, x_ln, into=dxg
            )
            extras = (dz, dg_hh, db_hh, dg_c, db_c, dg_ih, db_ih)
        else:
            dz = da
        if self.peephole:  # this step's share of the peephole gradients, (H,) each
            extras += ((da_i * c_prev).sum(0), (da_f * c_prev).sum(0), (da_o * c).sum(0))
        dh_prev = masked(matmul(dz, self.weight("weight_hh")), mask)
        return LSTMState(dh_prev, dc_prev), extras

    def weight_grads(
        self, caches: Sequence[Cache], dxg: Tensor, extras: Sequence[Cache]
    ) -> dict[str, Tensor]:
        dz = stacked(extras, 0) if self.layer_norm else dxg  # (T, B, 4H)
        grads = {"weight_hh": outer_sum(dz, stacked(caches, 0))}
        if self.layer_norm:  # per-step (K,) sums from the layer-norm kernels
            names = (
                "ln_hh_weight",
                "bias_hh",
                "ln_c_weight",
                "ln_c_bias",
                "ln_ih_weight",
                "bias_ih",
            )
            for k, name in enumerate(names, 1):
                grads[name] = stacked(extras, k).sum(0)
        if self.peephole:
            first = 7 if self.layer_norm else 0
            for k, name in enumerate(("weight_ci", "weight_cf", "weight_co"), first):
                grads[name] = stacked(extras, k).sum(0)
        return grads

    def extra_repr(self) -> str:
        text = super().extra_repr()
        for name in ("peephole", "layer_norm"):
            if getattr(self, name):
                text += f", {name}=True"
        return text + f", forget_bias={self.forget_bias}"
