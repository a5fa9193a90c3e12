"""Jordan cell: output recurrence (Jordan 1986), feeding the previous output back."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from rnnkit.cells import jordan_native
from rnnkit.cells.base import (
    Cache,
    Cell,
    check_choice,
    check_size,
    masked,
    outer_sum,
    relu_grad,
    sigmoid_grad,
    stacked,
    tanh,
    tanh_,
    tanh_grad,
)
from rnnkit.cells.gemm import linear, linear_add, matmul
from rnnkit.state import JordanState

FEEDBACKS = ("hidden", "output", "both")
OUTPUT_ACTIVATIONS = ("identity", "tanh", "sigmoid", "softmax")


class JordanCell(Cell):
    """Output-recurrent cell: the previous *output* ``y_{t-1}``, not the hidden vector, is fed
    back, to the hidden layer (output-to-hidden, ``W_oh``), to the output layer
    (output-to-output, ``W_oo``), or to both. The cell owns its output layer:

        r_{t-1} = y_{t-1} ⊙ m                                   (recurrent dropout mask)
        h_t = φ(x_t W_ihᵀ + b_ih [+ r_{t-1} W_ohᵀ])              feedback "hidden" or "both"
        y_t = ψ(h_t W_hyᵀ + b_hy [+ r_{t-1} W_ooᵀ])              feedback "output" or "both"

    φ is tanh or relu; ψ is identity, tanh, sigmoid or softmax. The state is ``y`` itself, and
    ``y_t`` is what a layer outputs and the next stacked layer reads. The initial state is
    ``y_0 = 0`` unless one is given. No ``W_hh``: the hidden layer remembers only through
    what it emitted.

    Args:
        input_size: ``I``.
        hidden_size: ``H``.
        output_size: ``O``, width of ``y_t`` (default ``H``).
        feedback: ``"hidden"``, ``"output"`` or ``"both"``.
        output_activation: ψ.
        nonlinearity: φ, ``"tanh"`` or ``"relu"``.
        recurrent_dropout: probability for the variational mask on ``y_{t-1}``.

    Parameters: ``weight_ih`` (H, I), ``bias_ih`` (H), ``weight_oh`` (H, O) when feeding the
    hidden layer, ``weight_hy`` (O, H), ``bias_hy`` (O), ``weight_oo`` (O, O) when feeding the
    output layer.

    Shapes:
        x_t (B, I), JordanState(y (B, O)) -> y_t (B, O), JordanState(y (B, O)).

    Example:
        >>> import torch
        >>> cell = JordanCell(3, 4, output_size=2, feedback="both", output_activation="softmax")
        >>> y, state = cell(torch.zeros(5, 3))
        >>> tuple(y.shape), round(y.sum().item(), 6)
        ((5, 2), 5.0)
    """

    state_type = JordanState

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int | None = None,
        feedback: str = "hidden",
        output_activation: str = "tanh",
        nonlinearity: str = "tanh",
        recurrent_dropout: float = 0.0,
    ) -> None:
        super().__init__(input_size, hidden_size, recurrent_dropout)
        O = hidden_size if output_size is None else check_size("output_size", output_size)  # noqa: E741
        self._output_size = O
        self.feedback = check_choice("feedback", feedback, FEEDBACKS)
        self.output_activation = check_choice(
            "output_activation", output_activation, OUTPUT_ACTIVATIONS
        )
        self.nonlinearity = check_choice("nonlinearity", nonlinearity, ("tanh", "relu"))
        H = hidden_size
        self.weight_ih = nn.Parameter(torch.empty(H, input_size))
        self.bias_ih = nn.Parameter(torch.empty(H))
        if self.feeds_hidden:
            self.weight_oh = nn.Parameter(torch.empty(H, O))
        self.weight_hy = nn.Parameter(torch.empty(O, H))
        self.bias_hy = nn.Parameter(torch.empty(O))
        if self.feeds_output:
            self.weight_oo = nn.Parameter(torch.empty(O, O))
        self.reset_parameters()

    @property
    def recurrent_weights(self) -> tuple[str, ...]:  # type: ignore[override]
        names = ("weight_oh",) * self.feeds_hidden + ("weight_hy",)
        return names + ("weight_oo",) * self.feeds_output

    @property
    def output_size(self) -> int:
        return self._output_size

    @property
    def recurrent_input_size(self) -> int:
        return self._output_size

    @property
    def feeds_hidden(self) -> bool:
        return self.feedback in ("hidden", "both")

    @property
    def feeds_output(self) -> bool:
        return self.feedback in ("output", "both")

    def _psi(self, o: Tensor) -> Tensor:
        """ψ(o), squashing ``o`` (the step's own array) in place where it can."""
        act = self.output_activation
        if act == "tanh":
            return tanh_(o)
        if act == "sigmoid":
            return torch.sigmoid(o)
        if act == "softmax":
            return torch.softmax(o, dim=-1)
        return o

    def _psi_backward(self, dy: Tensor, y: Tensor, into: Tensor | None) -> Tensor:
        """dE/do from dE/dy, written with the output ``y = ψ(o)``, into ``into`` if given."""
        act = self.output_activation
        if act == "tanh":
            return tanh_grad(dy, y, into=into)
        if act == "sigmoid":
            return sigmoid_grad(dy, y, into=into)
        if act == "softmax":  # Jacobian diag(y) - y yᵀ applied to dy
            do = dy - (dy * y).sum(-1, keepdim=True)
            return torch.mul(y, do, out=into) if into is not None else y * do
        return dy if into is None else into.copy_(dy)

    def step(
        self, xg: Tensor, state: JordanState, mask: Tensor | None
    ) -> tuple[Tensor, JordanState, Cache]:
        r = masked(state.y, mask)  # (B, O)
        if self.feeds_hidden:  # a is the step's own array: squashed in place
            a = linear_add(r, self.weight("weight_oh"), xg)  # (B, H)
            h = tanh_(a) if self.nonlinearity == "tanh" else torch.relu(a)
        else:  # a is the caller's row of xg
            h = tanh(xg) if self.nonlinearity == "tanh" else torch.relu(xg)
        o = linear(h, self.weight("weight_hy"), self.bias_hy)  # (B, O)
        if self.feeds_output:
            o = linear_add(r, self.weight("weight_oo"), o)
        y = self._psi(o)
        return y, JordanState(y), (r, h, y)

    def reads_batch_first(self, x: Tensor) -> bool:
        return jordan_native.reads_batch_first(self, x)

    def sequence_forward(
        self, xg: Tensor, state: JordanState, mask: Tensor | None, keep: bool = True
    ) -> tuple[Tensor, JordanState, jordan_native.Saved | None] | None:
        return jordan_native.sequence_forward(self, xg, state, mask, keep)

    def sequence_backward(
        self, saved: jordan_native.Saved, doutputs: Tensor, dstate: JordanState
    ) -> tuple[Tensor, JordanState, dict[str, Tensor]]:
        return jordan_native.sequence_backward(self, saved, doutputs, dstate)

    def backward_rows(self, batch: int) -> tuple[tuple[int, ...], ...]:
        return ((batch, self.output_size),)  # dE/do_t, for weight_hy's and weight_oo's gradients

    def step_backward(
        self,
        cache: Cache,
        dy: Tensor,
        dstate: JordanState,
        mask: Tensor | None,
        dxg: Tensor,
        rows: Cache = (),
    ) -> tuple[JordanState, Cache]:
        _, h, y = cache
        do = self._psi_backward(dy + dstate.y, y, rows[0] if rows else None)  # (B, O)
        dh = matmul(do, self.weight("weight_hy"))  # (B, H)
        grad = tanh_grad if self.nonlinearity == "tanh" else relu_grad
        da = grad(dh, h, into=dxg)
        dr = matmul(da, self.weight("weight_oh")) if self.feeds_hidden else None
        if self.feeds_output:
            dr_o = matmul(do, self.weight("weight_oo"))
            dr = dr_o if dr is None else dr.add_(dr_o)
        return JordanState(masked(dr, mask)), (do,)

    def weight_grads(
        self, caches: Sequence[Cache], dxg: Tensor, extras: Sequence[Cache]
    ) -> dict[str, Tensor]:
        r, h, do = stacked(caches, 0), stacked(caches, 1), stacked(extras, 0)
        grads = {"weight_hy": outer_sum(do, h), "bias_hy": do.sum((0, 1))}
        if self.feeds_hidden:
            grads["weight_oh"] = outer_sum(dxg, r)
        if self.feeds_output:
            grads["weight_oo"] = outer_sum(do, r)
        return grads

    def extra_repr(self) -> str:
        return (
            super().extra_repr()
            + f", output_size={self.output_size}, feedback={self.feedback!r}"
            + f", output_activation={self.output_activation!r}, nonlinearity={self.nonlinearity!r}"
        )
