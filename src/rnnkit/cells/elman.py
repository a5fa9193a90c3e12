"""Elman cell: the simple recurrent network (Elman 1990)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from rnnkit.cells.base import (
    Cache,
    Cell,
    check_choice,
    masked,
    outer_sum,
    relu_grad,
    stacked,
    tanh_,
    tanh_grad,
)
from rnnkit.cells.gemm import input_linear, linear_add, matmul
from rnnkit.state import RNNState


class ElmanCell(Cell):
    """Elman (simple) recurrent cell, one step:

        a_t = x_t W_ihᵀ + b_ih + r_{t-1} W_hhᵀ + b_hh      r_{t-1} = h_{t-1} ⊙ m
        h_t = φ(a_t)                                        φ = tanh or relu
        y_t = h_t

    ``m`` is the variational recurrent-dropout mask (all ones without it).

    Args:
        input_size: ``I``.
        hidden_size: ``H``.
        nonlinearity: ``"tanh"`` or ``"relu"``.
        identity_init: IRNN initialisation (Le, Jaitly & Hinton 2015): ``W_hh = I`` and zero
            biases, so a ReLU network starts by carrying its state unchanged.
        recurrent_dropout: probability for the variational mask on ``h_{t-1}``.

    Parameters (torch.nn.RNNCell names): ``weight_ih`` (H, I), ``weight_hh`` (H, H),
    ``bias_ih`` (H), ``bias_hh`` (H).

    Shapes:
        x_t (B, I), state RNNState(h (B, H)) -> y_t (B, H), RNNState(h (B, H)).

    Example:
        >>> import torch
        >>> cell = ElmanCell(3, 4)
        >>> y, state = cell(torch.zeros(2, 3))
        >>> tuple(y.shape), tuple(state.h.shape)
        ((2, 4), (2, 4))
    """

    state_type = RNNState

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        nonlinearity: str = "tanh",
        identity_init: bool = False,
        recurrent_dropout: float = 0.0,
    ) -> None:
        super().__init__(input_size, hidden_size, recurrent_dropout)
        self.nonlinearity = check_choice("nonlinearity", nonlinearity, ("tanh", "relu"))
        self.identity_init = bool(identity_init)
        H = hidden_size
        self.weight_ih = nn.Parameter(torch.empty(H, input_size))
        self.weight_hh = nn.Parameter(torch.empty(H, H))
        self.bias_ih = nn.Parameter(torch.empty(H))
        self.bias_hh = nn.Parameter(torch.empty(H))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        if self.identity_init:
            with torch.no_grad():
                self.weight_hh.copy_(torch.eye(self.hidden_size))
                self.bias_ih.zero_()
                self.bias_hh.zero_()

    input_parameters = ("weight_ih", "bias_ih", "bias_hh")

    def project_input(self, x: Tensor) -> Tensor:
        """Both biases are added here, once for all steps, not once per step."""
        return input_linear(x, self.weight_ih, self.bias_ih + self.bias_hh)

    @property
    def fused_mode(self) -> str | None:
        if self.recurrent_dropout:
            return None
        return "RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU"

    def step(
        self, xg: Tensor, state: RNNState, mask: Tensor | None
    ) -> tuple[Tensor, RNNState, Cache]:
        r = masked(state.h, mask)  # (B, H)
        a = linear_add(r, self.weight("weight_hh"), xg)  # (B, H); xg holds b_ih + b_hh
        h = tanh_(a) if self.nonlinearity == "tanh" else torch.relu(a)  # a is our own
        return h, RNNState(h), (r, h)

    def step_backward(
        self,
        cache: Cache,
        dy: Tensor,
        dstate: RNNState,
        mask: Tensor | None,
        dxg: Tensor,
        rows: Cache = (),
    ) -> tuple[RNNState, Cache]:
        _, h = cache
        dh = dy + dstate.h
        # φ'(a) written with the output: tanh' = 1 - h², relu' = [h > 0]
        grad = tanh_grad if self.nonlinearity == "tanh" else relu_grad
        da = grad(dh, h, into=dxg)
        dh_prev = masked(matmul(da, self.weight("weight_hh")), mask)
        return RNNState(dh_prev), ()

    def weight_grads(
        self, caches: Sequence[Cache], dxg: Tensor, extras: Sequence[Cache]
    ) -> dict[str, Tensor]:
        r = stacked(caches, 0)  # (T, B, H)
        return {"weight_hh": outer_sum(dxg, r)}

    def extra_repr(self) -> str:
        return super().extra_repr() + f", nonlinearity={self.nonlinearity!r}"
