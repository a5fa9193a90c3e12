"""The one time loop, with backpropagation through time written by hand.

Every cell that no fused ``torch.nn`` kernel covers (Jordan, peephole or layer-norm LSTM,
layer-norm GRU, any cell with recurrent dropout) runs here. The loop is a single
``torch.autograd.Function`` over the whole sequence:

- forward: ``for t in range(T)``: ``y_t, s_t = cell.step(xg_t, s_{t-1})``, keeping each step's
  cache. Autograd records nothing per step.
- backward: ``for t in reversed(range(T))``: ``cell.step_backward`` carries only ``dE/ds_t``
  back through time and emits ``dE/dxg_t``; the weight gradients (the sums over ``t`` of the
  textbook's ``dE/dW = Σ_t ...``) are then taken by ``cell.weight_grads`` as one large matmul
  per weight over all ``T*B`` rows.

A cell with native code for a whole sequence (:meth:`Cell.sequence_forward`: the LSTM and
Jordan cells on MKL, :mod:`rnnkit.cells.lstm_sequence` and :mod:`rnnkit.cells.jordan_native`)
runs it in one call instead of the steps above, for full-length sequences; its
:meth:`Cell.sequence_backward` gives the same three results. Where that code reads a
batch-first projection (:meth:`Cell.reads_batch_first`), a layer's batch-first input is
projected in its own memory order, not copied into time order first.

Why by hand: per-step autograd bookkeeping, not arithmetic, is what makes a Python-loop RNN
slow. On the 2-core AMD development CPU (B=64, T=100, H=256, LSTM training step), autograd
through an eager loop ran at 0.55-0.75x of ``torch.nn.LSTM``; torch.compile of the step
functions at 0.74-0.76x after 21 s of compiling (TorchScript's CPU fuser is not built into this
torch); this loop, with the LSTM step's elementwise work in C (:mod:`rnnkit.cells.native`), at
0.79-0.94x of ``torch.nn.LSTM`` as it runs by default and 0.70-0.86x compute for compute
(every LSTM option), and on the Intel machine that followed, with its products on MKL, at
0.94-1.17x and 0.73-0.87x (docs/benchmarks.md). The input projection ``x W_ihᵀ`` of all
steps is done by the caller in one matmul, under ordinary autograd.

On a GPU the same loop gives the CPU's numbers but is bound by kernel launches and Python: a
layer's step costs 270-890 µs forward and backward almost whatever its size, 0.06-0.16x of
cuDNN's fused kernel on an H100 (docs/benchmarks.md, "On a GPU").

Variable lengths: ``valid[t]`` (B, 1) is true while step ``t`` is inside a sequence. Past its
end a sequence's state is carried unchanged and its output is zero, so the final state is
the state at each sequence's own last step. In the backward the carried gradient passes
through those steps untouched.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import FunctionCtx, once_differentiable

from rnnkit.cells.base import Cache, Cell
from rnnkit.state import State, map_state

__all__ = ["run_loop"]


class _TimeLoop(torch.autograd.Function):
    # Under CUDA autocast (``--bf16``) the loop runs in float32: its inputs are cast up and
    # autocast is off inside, in the backward too. A recurrent state rounded to bf16 at every
    # one of T steps drifts, and the backward's products must see the forward's dtypes. The
    # input projection before the loop and the layers around it still run in bf16.
    @staticmethod
    @torch.amp.custom_fwd(device_type="cuda", cast_inputs=torch.float32)
    def forward(  # type: ignore[override]
        ctx: FunctionCtx,
        cell: Cell,
        xg: Tensor,
        valid: Tensor | None,
        mask: Tensor | None,
        recording: bool,
        n_state: int,
        *tensors: Tensor,
    ) -> tuple[Tensor, ...]:
        state = cell.state_type(*tensors[:n_state])
        # Inference keeps no activations. needs_input_grad alone says only that some input
        # requires grad (parameters do, under torch.no_grad() too); autograd records this call
        # only if grad mode was on where it was made, which run_loop passes as `recording`.
        keep = recording and any(ctx.needs_input_grad)
        native = cell.sequence_forward(xg, state, mask, keep) if valid is None else None
        if native is not None:  # the whole sequence in one native call
            outputs, final, ctx.saved = native
            caches: list[Cache] = []
        else:
            ctx.saved = None
            xg = xg.contiguous()  # the steps take contiguous rows (see run_loop's projection)
            with cell.packing(xg.size(1)):
                outputs, final, caches = _forward_steps(cell, xg, state, valid, mask, keep)
        ctx.cell, ctx.valid, ctx.mask, ctx.caches = cell, valid, mask, caches
        ctx.width = xg.size(-1)
        # The final state is returned as copies: the last step's cache may hold the very same
        # tensors (an LSTM's c_T), and autograd points an output's grad_fn back at this node,
        # so ctx -> caches -> c_T -> ctx would be a reference cycle. Only Python's cyclic GC
        # frees a cycle: the whole sequence's activations (54 MB a step at B=64, T=100,
        # H=256) piled up between its runs, and every step faulted ~15,000 fresh pages in.
        return (outputs, *(s.clone() for s in final))

    @staticmethod
    @once_differentiable
    @torch.amp.custom_bwd(device_type="cuda")
    def backward(ctx: FunctionCtx, doutputs: Tensor, *dfinal: Tensor) -> tuple[Tensor | None, ...]:
        cell, caches = ctx.cell, ctx.caches
        if ctx.saved is not None:
            dxg, dstate0, grads = cell.sequence_backward(
                ctx.saved, doutputs, cell.state_type(*dfinal)
            )
        else:
            with cell.packing(doutputs.size(1), backward=True):
                dxg, dstate0, extras = _backward_steps(
                    cell, caches, doutputs, cell.state_type(*dfinal), ctx.valid, ctx.mask, ctx.width
                )
            grads = cell.weight_grads(caches, dxg, extras)
        names = cell.loop_parameter_names
        assert set(grads) == set(names), f"weight_grads gave {sorted(grads)}, expected {names}"
        return (None, dxg, None, None, None, None, *dstate0, *(grads[n] for n in names))


def _forward_steps(
    cell: Cell, xg: Tensor, state: State, valid: Tensor | None, mask: Tensor | None, keep: bool
) -> tuple[Tensor, State, list[Cache]]:
    """``for t in range(T)``: outputs (T, B, O), the final state, and each step's cache."""
    outputs: list[Tensor] = []
    caches: list[Cache] = []
    # unbind, not xg[t]: indexing inside the loop would make autograd allocate a full-size
    # zero gradient per step (cost growing with T²); unbind makes T views at once.
    for t, xg_t in enumerate(xg.unbind(0)):
        y, new_state, cache = cell.step(xg_t, state, mask)
        if valid is not None:  # past its end a sequence keeps its state and outputs zeros
            v = valid[t]  # (B, 1)
            new_state = map_state(lambda new, old, v=v: torch.where(v, new, old), new_state, state)
            y = y * v
        outputs.append(y)
        if keep:
            caches.append(cache)
        state = new_state
    return torch.stack(outputs), state, caches


def _backward_steps(
    cell: Cell,
    caches: list[Cache],
    doutputs: Tensor,
    dstate: State,
    valid: Tensor | None,
    mask: Tensor | None,
    xg_width: int,
) -> tuple[Tensor, State, list[Cache]]:
    """``for t in reversed(range(T))``: dE/dxg (T, B, G), dE/dstate_0 and each step's extras."""
    T, B = doutputs.shape[:2]
    dxg = doutputs.new_empty((T, B, xg_width))
    dxg_steps = dxg.unbind(0)
    # The cell's own per-step gradients that its weight_grads needs stacked over time: each
    # step writes row t, so stacked() finds them in place instead of copying T pieces together.
    buffers = [doutputs.new_empty((T, *shape)) for shape in cell.backward_rows(B)]
    extras: list[Cache] = []
    for t in reversed(range(T)):
        dy, dstate_in = doutputs[t], dstate
        if valid is not None:
            # Past a sequence's end the step did nothing: zero its incoming gradient, and let
            # the carried gradient pass to the step before unchanged.
            v = valid[t]
            dy = dy * v
            dstate_in = map_state(lambda d, v=v: d * v, dstate)
        rows = tuple(buffer[t] for buffer in buffers)
        dprev, extras_t = cell.step_backward(caches[t], dy, dstate_in, mask, dxg_steps[t], rows)
        if valid is not None:
            dprev = map_state(lambda p, d, v=v: torch.where(v, p, d), dprev, dstate)
        dstate = dprev
        extras.append(extras_t)
    extras.reverse()  # collected from the last step back
    return dxg, dstate, extras


def run_loop(
    cell: Cell, x: Tensor, state: State, valid: Tensor | None, mask: Tensor | None
) -> tuple[Tensor, State]:
    """Run ``cell`` over a time-major sequence with hand-written BPTT.

    Args:
        cell: any :class:`rnnkit.cells.Cell`.
        x: inputs, time-major (T, B, I).
        state: initial state, fields (B, K).
        valid: (T, B, 1) bool, true at steps inside each sequence; None when all are full.
        mask: variational recurrent-dropout mask (B, K), or None.

    Returns:
        ``(outputs (T, B, O), final_state)``; outputs are zero at steps where ``valid`` is false.

    Shapes:
        x (T, B, I) -> outputs (T, B, O); state fields (B, K) -> final state fields (B, K).

    Example:
        >>> import torch
        >>> from rnnkit.cells import LSTMCell
        >>> cell = LSTMCell(3, 4, peephole=True)
        >>> out, final = run_loop(cell, torch.randn(5, 2, 3), cell.init_state(2), None, None)
        >>> tuple(out.shape), bool(torch.equal(out[-1], final.h))
        ((5, 2, 4), True)
    """
    xg = _project(cell, x, valid)  # (T, B, G): all steps in one matmul, under autograd
    params = [getattr(cell, name) for name in cell.loop_parameter_names]
    recording = torch.is_grad_enabled()
    outputs, *final = _TimeLoop.apply(cell, xg, valid, mask, recording, len(state), *state, *params)
    return outputs, cell.state_type(*final)


def _project(cell: Cell, x: Tensor, valid: Tensor | None) -> Tensor:
    """``x W_ihᵀ (+ b)`` for all steps: (T, B, I) -> (T, B, G).

    A batch-first input (``x`` a time-major view of batch-first memory, as a layer's first
    input is) is projected in its own memory order when the cell's native sequence reads that
    order: ``xg`` is then a view too, and neither ``x`` is copied into time order nor its
    gradient back (a Jordan step at B=64, T=100, I=H=256 took 0.8 ms less; docs/benchmarks.md).
    """
    batch_first = x.transpose(0, 1)
    in_memory_order = batch_first.is_contiguous() and not x.is_contiguous()
    if valid is None and in_memory_order and cell.reads_batch_first(x):
        return cell.project_input(batch_first).transpose(0, 1)
    return cell.project_input(x)
