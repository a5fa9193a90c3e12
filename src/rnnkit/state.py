"""Named recurrent states.

A recurrent state is a ``NamedTuple`` of tensors, never a positional list, so code says
``state.c`` instead of ``state[1]``. The same types describe the state of one cell and the
final state of a whole :class:`rnnkit.Recurrent` stack.

Shape legend used throughout rnnkit:

- ``B`` batch size, ``T`` time steps, ``I`` input size, ``H`` hidden size,
- ``O`` output size of an output-recurrent (Jordan) cell, ``G`` gate width (``4H`` LSTM,
  ``3H`` GRU, ``H`` Elman/Jordan), ``L`` number of layers, ``D`` directions (1 or 2).

One cell's state holds ``(B, H)`` tensors (``(B, O)`` for Jordan). A stack's final state holds
``(L*D, B, H)`` tensors ordered layer-major, direction-minor, exactly as ``torch.nn.LSTM``'s
``(h_n, c_n)``, so the two are interchangeable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

from torch import Tensor

__all__ = [
    "JordanState",
    "LSTMState",
    "RNNState",
    "State",
    "map_nested",
    "map_state",
    "repeat_rows",
    "select_rows",
]


class RNNState(NamedTuple):
    """State of an Elman or GRU cell: the hidden vector ``h`` (B, H)."""

    __checkpoint_state__ = True  # checkpoints may hold it (rnnkit.training.tree)
    h: Tensor


class LSTMState(NamedTuple):
    """State of an LSTM cell: hidden ``h`` (B, H) and memory cell ``c`` (B, H)."""

    __checkpoint_state__ = True  # checkpoints may hold it (rnnkit.training.tree)
    h: Tensor
    c: Tensor


class JordanState(NamedTuple):
    """State of an output-recurrent (Jordan) cell: the previous output ``y`` (B, O)."""

    __checkpoint_state__ = True  # checkpoints may hold it (rnnkit.training.tree)
    y: Tensor


State = RNNState | LSTMState | JordanState
S = TypeVar("S", RNNState, LSTMState, JordanState)


def map_state(fn: Callable[..., Tensor], state: S, *others: S) -> S:
    """Apply ``fn`` field by field to one or more states of the same type.

    Example:
        >>> import torch
        >>> s = LSTMState(torch.ones(2, 3), torch.zeros(2, 3))
        >>> map_state(lambda t: t * 2, s).h.sum().item()
        12.0
    """
    return type(state)(*(fn(*fields) for fields in zip(state, *others, strict=True)))


def map_nested(fn: Callable[[Tensor], Tensor], state: Any) -> Any:
    """Apply ``fn`` to every tensor of a nested state (None, a tensor, or tuples, NamedTuples,
    lists and dicts of them), keeping its structure.

    Raises:
        TypeError: A leaf is neither a tensor nor None (a step counter, say, which could not
            follow a reordering of rows).
    """
    if state is None or isinstance(state, Tensor):
        return None if state is None else fn(state)
    if isinstance(state, tuple) and hasattr(state, "_fields"):  # NamedTuple
        return type(state)(*(map_nested(fn, item) for item in state))
    if isinstance(state, tuple | list):
        return type(state)(map_nested(fn, item) for item in state)
    if isinstance(state, dict):
        return {key: map_nested(fn, value) for key, value in state.items()}
    raise TypeError(
        f"state must be None, a tensor or a nested tuple/list/dict of tensors, "
        f"got a leaf of type {type(state).__name__}"
    )


def select_rows(state: Any, index: Tensor, *, dim: int) -> Any:
    """Rows ``index`` of a batched nested state whose batch is dimension ``dim`` of every
    tensor: ``index_select(dim, index)``. An index may repeat a row or drop one.

    Only the model that made a state knows ``dim`` (1 for a stack's ``(L*D, B, H)``, 0 for
    an encoder's ``(B, S, K)`` memory): models pass it, decoding never guesses.

    Shapes:
        tensors (..., B, ...) with B at ``dim``, index (B',) -> (..., B', ...).

    Example:
        >>> import torch
        >>> s = LSTMState(torch.arange(3.0).view(1, 3, 1), torch.zeros(1, 3, 1))
        >>> select_rows(s, torch.tensor([2, 2, 0]), dim=1).h.flatten().tolist()
        [2.0, 2.0, 0.0]
    """
    if not isinstance(index, Tensor) or index.dim() != 1 or index.is_floating_point():
        raise ValueError(f"index must be a 1-D integer tensor, got {_describe(index)}")
    return map_nested(lambda t: _batched(t, dim).index_select(dim, index.to(t.device)), state)


def repeat_rows(state: Any, n: int, *, dim: int) -> Any:
    """Every row of a batched nested state ``n`` times, copies of one row side by side (row
    ``b * n + j`` is row ``b``): ``n`` samples of one prompt in a single batch.

    Shapes:
        tensors with B at ``dim`` -> B * n at ``dim``.

    Example:
        >>> import torch
        >>> repeat_rows((torch.tensor([[[1.0], [2.0]]]),), 2, dim=1)[0].flatten().tolist()
        [1.0, 1.0, 2.0, 2.0]
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n must be an int >= 1, got {_describe(n)}")
    return map_nested(lambda t: _batched(t, dim).repeat_interleave(n, dim=dim), state)


def _batched(tensor: Tensor, dim: int) -> Tensor:
    if tensor.dim() <= dim:
        raise ValueError(
            f"state tensors need the batch in dim {dim}; got a tensor of shape "
            f"{tuple(tensor.shape)}"
        )
    return tensor


def _describe(value: Any) -> str:
    if isinstance(value, Tensor):
        return f"a {value.dtype} tensor of shape {tuple(value.shape)}"
    return f"{value!r} ({type(value).__name__})"
