"""The cell contract shared by every recurrent family.

A cell computes ONE time step. It is used two ways:

1. Directly, with autograd: ``y_t, state = cell(x_t, state)``.
2. By the time loop of :mod:`rnnkit.layers.loop`, which needs the step split in three parts so
   that backpropagation through time can be written by hand, for the whole sequence at once:

   - :meth:`Cell.project_input` maps all steps' inputs at once, ``x (..., I) -> xg (..., G)``:
     one large matmul before the loop instead of ``T`` small ones.
   - :meth:`Cell.step` advances one step from the projected input and returns a cache of the
     activations its backward needs. It is plain torch code, so autograd can differentiate it
     too: the direct call and the loop run the very same equations.
   - :meth:`Cell.step_backward` is the hand-derived gradient of :meth:`step`, and
     :meth:`Cell.weight_grads` turns the stacked caches of all steps into weight gradients with
     one large matmul per weight after the backward loop.

Parameter names and shapes follow ``torch.nn`` (``weight_ih``, ``weight_hh``, ``bias_ih``,
``bias_hh``), so standard cells copy weights 1:1 to and from ``torch.nn.RNN/LSTM/GRU``.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import ClassVar

import torch
from torch import Tensor, nn

from rnnkit.cells import native
from rnnkit.cells.gemm import PackedWeight, input_linear, packed, weight_grad
from rnnkit.cells.plain import plain_torch
from rnnkit.state import State

Cache = tuple[Tensor, ...]


def check_size(name: str, value: int) -> int:
    """Validate a size argument: a positive int (bools are rejected)."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def check_probability(name: str, value: float) -> float:
    """Validate a dropout probability in [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1), got {value!r}")
    return float(value)


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> str:
    """Validate a string option against its allowed values."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


class Cell(nn.Module):
    """Base class of the recurrent cells: one time step ``cell(x_t, state) -> (y_t, state)``.

    Attributes:
        input_size: ``I``, width of ``x_t``.
        hidden_size: ``H``, width of the hidden vector.
        output_size: width of ``y_t``, what a layer outputs and the next layer reads (``H``
            except for the Jordan cell, whose output layer has its own size ``O``).
        recurrent_dropout: probability of dropping a unit of the recurrent input (Gal &
            Ghahramani 2016: one mask per sequence, reused at every step; training only).
        state_type: the NamedTuple type of the state.
        input_parameters: names of the parameters used by :meth:`project_input` (autograd
            differentiates those); every other parameter is used inside :meth:`step`.
        recurrent_weights: the matrices multiplied at every step; the loop packs them once
            per sequence (see :meth:`weight` and :func:`rnnkit.cells.gemm.packed`).
    """

    state_type: ClassVar[type]
    input_parameters: tuple[str, ...] = ("weight_ih", "bias_ih")
    recurrent_weights: tuple[str, ...] = ("weight_hh",)

    def __init__(self, input_size: int, hidden_size: int, recurrent_dropout: float) -> None:
        super().__init__()
        self.input_size = check_size("input_size", input_size)
        self.hidden_size = check_size("hidden_size", hidden_size)
        self.recurrent_dropout = check_probability("recurrent_dropout", recurrent_dropout)

    # ---- weights as the step sees them -----------------------------------------------------
    def weight(self, name: str) -> Tensor | PackedWeight:
        """The matrix ``name`` for a step's product: packed while :meth:`packing` is active."""
        packs = self.__dict__.get("_packs")
        return packs[name] if packs else getattr(self, name)

    @contextmanager
    def packing(self, batch: int, backward: bool = False) -> Iterator[None]:
        """Within this block, :meth:`weight` gives the recurrent weights packed for products
        with ``batch`` rows: ``x Wᵀ``, or ``dz W`` if ``backward``. The loop wraps its forward
        and its backward in it."""
        self.__dict__["_packs"] = {
            n: packed(getattr(self, n), batch, backward) for n in self.recurrent_weights
        }
        try:
            yield
        finally:
            self.__dict__["_packs"] = None

    # ---- sizes and dispatch -------------------------------------------------------------
    @property
    def output_size(self) -> int:
        return self.hidden_size

    @property
    def recurrent_input_size(self) -> int:
        """Width of the vector fed back through the recurrent weights (``h`` or ``y``)."""
        return self.hidden_size

    @property
    def fused_mode(self) -> str | None:
        """Name of the ``torch.nn`` kernel computing exactly this cell, or None if none does."""
        return None

    @property
    def loop_parameter_names(self) -> tuple[str, ...]:
        """Names of the parameters :meth:`step` uses, in a fixed order."""
        return tuple(n for n, _ in self.named_parameters() if n not in self.input_parameters)

    def reset_parameters(self) -> None:
        """torch.nn's default: every parameter uniform in ``(-1/sqrt(H), 1/sqrt(H))``."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    # ---- state and dropout ----------------------------------------------------------------
    def init_state(
        self, batch: int, *, dtype: torch.dtype | None = None, device: torch.device | None = None
    ) -> State:
        """Zero state for a batch of ``batch`` sequences, on the cell's dtype and device."""
        ref = self.weight_ih
        size = (batch, self.recurrent_input_size)
        fields = len(self.state_type._fields)
        return self.state_type(
            *(ref.new_zeros(size, dtype=dtype, device=device) for _ in range(fields))
        )

    def sample_dropout_mask(self, batch: int) -> Tensor | None:
        """One variational dropout mask ``(B, K)`` for a whole sequence, or None.

        None when not training or ``recurrent_dropout == 0``. Kept units are scaled by
        ``1/(1-p)`` (inverted dropout) so evaluation needs no rescaling.
        """
        p = self.recurrent_dropout
        if not self.training or p == 0.0:
            return None
        ref = self.weight_ih
        # Drawn in float32 whatever the model's dtype, so one seed gives one mask everywhere.
        keep = torch.full((batch, self.recurrent_input_size), 1.0 - p, device=ref.device)
        return torch.bernoulli(keep).div_(1.0 - p).to(ref.dtype)

    # ---- the step, split for hand-written BPTT ---------------------------------------------
    def project_input(self, x: Tensor) -> Tensor:
        """All steps' input projection at once: ``xg = x W_ihᵀ + b_ih``, (..., I) -> (..., G)."""
        return input_linear(x, self.weight_ih, self.bias_ih)

    @abstractmethod
    def step(self, xg: Tensor, state: State, mask: Tensor | None) -> tuple[Tensor, State, Cache]:
        """One step from the projected input ``xg`` (B, G): returns ``(y_t, state_t, cache)``."""

    def backward_rows(self, batch: int) -> tuple[tuple[int, ...], ...]:
        """Shapes of the rows :meth:`step_backward` fills, one (T, ...) buffer each (none)."""
        return ()

    @abstractmethod
    def step_backward(
        self,
        cache: Cache,
        dy: Tensor,
        dstate: State,
        mask: Tensor | None,
        dxg: Tensor,
        rows: Cache = (),
    ) -> tuple[State, Cache]:
        """Gradient of :meth:`step`: writes dE/dxg_t into ``dxg`` (B, G), returns
        ``(dstate_{t-1}, extras)``.

        ``dy`` is dE/dy_t from above, ``dstate`` is dE/dstate_t from step t+1; ``dxg`` is step
        t's row of the loop's (T, B, G) gradient buffer, so no stacking copy is needed after.
        ``rows`` are step t's rows of one (T, ...) buffer per shape of :meth:`backward_rows`.
        ``extras`` are per-step tensors that :meth:`weight_grads` needs besides ``dxg``; an
        extra written into a row of ``rows`` comes back from :func:`stacked` without a copy.
        """

    @abstractmethod
    def weight_grads(
        self, caches: Sequence[Cache], dxg: Tensor, extras: Sequence[Cache]
    ) -> dict[str, Tensor]:
        """Gradients of the :meth:`step` parameters, summed over all steps at once.

        ``caches`` and ``extras`` hold one tuple per step (use :func:`stacked` to gather a
        field as (T, B, ...)); ``dxg`` is (T, B, G).
        """

    # ---- a whole sequence at once, where a cell has native code for it ---------------------
    def reads_batch_first(self, x: Tensor) -> bool:
        """Whether :meth:`sequence_forward` would take a sequence of ``x`` with its input
        projection made in batch-first order (then the loop projects a batch-first input
        without copying it into time order, nor its gradient back). False by default."""
        return False

    def sequence_forward(
        self, xg: Tensor, state: State, mask: Tensor | None, keep: bool = True
    ) -> tuple[Tensor, State, object] | None:
        """All steps in one native call: ``(outputs (T, B, O), final state, saved)``, or None.

        None (the default) makes the loop step through :meth:`step`. Only for full-length
        sequences (no padding); ``saved`` goes to :meth:`sequence_backward` as it is. Without
        ``keep`` no backward follows (inference): nothing need be saved, and the activations
        of each step may be written over the last's.
        """
        return None

    def sequence_backward(
        self, saved: object, doutputs: Tensor, dstate: State
    ) -> tuple[Tensor, State, dict[str, Tensor]]:
        """The gradient of :meth:`sequence_forward`: ``(dE/dxg (T, B, G), dE/dstate_0,
        {parameter name: gradient})`` from dE/doutputs and dE/d(final state)."""
        raise NotImplementedError(f"{type(self).__name__} has no native sequence")

    # ---- direct use ----------------------------------------------------------------------
    def forward(
        self, x: Tensor, state: State | None = None, dropout_mask: Tensor | None = None
    ) -> tuple[Tensor, State]:
        """One time step with autograd.

        Args:
            x: input at this step, (B, I).
            state: previous state (fields (B, H)); zeros when None.
            dropout_mask: recurrent dropout mask from :meth:`sample_dropout_mask`. Pass the
                same mask at every step of a sequence for variational dropout; when None in
                training, a fresh mask is drawn for this step.

        Returns:
            ``(y_t, state_t)``: output (B, output_size) and new state.
        """
        if x.dim() != 2 or x.size(1) != self.input_size:
            raise ValueError(f"x must have shape (batch, {self.input_size}), got {tuple(x.shape)}")
        if state is None:
            state = self.init_state(x.size(0))
        if dropout_mask is None:
            dropout_mask = self.sample_dropout_mask(x.size(0))
        y, new_state, _ = self.step(self.project_input(x), state, dropout_mask)
        return y, new_state

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.recurrent_dropout:
            text += f", recurrent_dropout={self.recurrent_dropout}"
        return text


def masked(r: Tensor, mask: Tensor | None) -> Tensor:
    """The recurrent input after variational dropout (identity when ``mask`` is None)."""
    return r if mask is None else r * mask


def flat(t: Tensor) -> Tensor:
    """(T, B, K) -> (T*B, K), so a sum over steps and batch becomes one matmul."""
    return t.reshape(-1, t.size(-1))


def outer_sum(dz: Tensor, r: Tensor) -> Tensor:
    """Sum over steps and batch of ``dz_tᵀ r_t``: (T, B, N), (T, B, K) -> (N, K), one GEMM."""
    return weight_grad(flat(dz), flat(r))


def stacked(per_step: Sequence[Cache], field: int) -> Tensor:
    """Field ``field`` of every step's cache, stacked on a new leading time axis: (T, B, ...).

    When the fields already are rows 0..T-1 of one (T, B, ...) buffer (see
    :meth:`Cell.step_backward`'s ``rows``), that buffer is returned itself, not a copy.
    """
    pieces = [cache[field] for cache in per_step]
    buffer = _rows_base(pieces)
    return buffer if buffer is not None else torch.stack(pieces)


def _rows_base(pieces: Sequence[Tensor]) -> Tensor | None:
    """The contiguous (T, ...) tensor whose rows 0..T-1 are ``pieces``, or None."""
    base = pieces[0]._base
    if (
        base is None
        or not base.is_contiguous()
        or base.dim() != pieces[0].dim() + 1
        or base.size(0) != len(pieces)
    ):
        return None
    start, step = base.data_ptr(), base.stride(0) * base.element_size()
    for t, piece in enumerate(pieces):
        if (
            piece._base is not base
            or piece.data_ptr() != start + t * step
            or piece.shape != base.shape[1:]
        ):
            return None
    return base


def tanh(x: Tensor) -> Tensor:
    """``tanh(x)``, computed as ``2σ(2x) - 1`` when autograd is not recording, on a CPU.

    Why: torch's CPU tanh kernel took 31 µs on a (64, 256) float32 tensor against 8 µs for
    sigmoid (torch 2.13, AVX-512), and the loop's forward squashes at every step. The two agree
    to float rounding (absolute error below 1e-7 in float32).
    """
    if plain_torch() or x.device.type != "cpu":
        return torch.tanh(x)
    return torch.sigmoid(x * 2).mul_(2).sub_(1)


def tanh_(x: Tensor) -> Tensor:
    """``tanh`` of a fresh temporary, in place when autograd is not recording (the loop).

    The loop's Elman, GRU and Jordan steps squash a product they have just made; squashing it
    where it lies saves allocating another array, and the native kernel (:mod:`.native`) takes
    7 µs on a (64, 256) float32 tensor where :func:`tanh` takes 21 (30-50 inside the loop).
    Under autograd, or off the CPU, it returns ``torch.tanh(x)``, a new tensor; on the CPU
    without the kernel (no compiler, float64, strided views) it computes ``2σ(2x) - 1`` in place.
    Never pass a tensor that something else still reads.
    """
    if plain_torch() or x.device.type != "cpu":
        return torch.tanh(x)
    kernels = native.kernels()
    if kernels is not None and native.usable(x):
        return kernels.tanh_(x)
    return x.mul_(2).sigmoid_().mul_(2).sub_(1)


# Derivatives of the squashing functions, written with their outputs. Each is ONE fused ATen
# kernel (the ones autograd itself uses): one pass over memory instead of three, which is what
# an elementwise-bound backward loop pays for.
_aten = torch.ops.aten


def sigmoid_grad(grad: Tensor, out: Tensor, *, into: Tensor | None = None) -> Tensor:
    """``grad * out * (1 - out)`` for ``out = σ(a)``, written into ``into`` if given."""
    if into is None:
        return _aten.sigmoid_backward(grad, out)
    return _aten.sigmoid_backward.grad_input(grad, out, grad_input=into)


def tanh_grad(grad: Tensor, out: Tensor, *, into: Tensor | None = None) -> Tensor:
    """``grad * (1 - out²)`` for ``out = tanh(a)``, written into ``into`` if given."""
    if into is None:
        return _aten.tanh_backward(grad, out)
    return _aten.tanh_backward.grad_input(grad, out, grad_input=into)


def relu_grad(grad: Tensor, out: Tensor, *, into: Tensor | None = None) -> Tensor:
    """``grad * [out > 0]`` for ``out = relu(a)``, written into ``into`` if given."""
    if into is None:
        return _aten.threshold_backward(grad, out, 0)
    return _aten.threshold_backward.grad_input(grad, out, 0, grad_input=into)
