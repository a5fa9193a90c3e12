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
from typing import NamedTuple, TypeVar

from torch import Tensor

__all__ = ["JordanState", "LSTMState", "RNNState", "State", "map_state"]


class RNNState(NamedTuple):
    """State of an Elman or GRU cell: the hidden vector ``h`` (B, H)."""

    h: Tensor


class LSTMState(NamedTuple):
    """State of an LSTM cell: hidden ``h`` (B, H) and memory cell ``c`` (B, H)."""

    h: Tensor
    c: Tensor


class JordanState(NamedTuple):
    """State of an output-recurrent (Jordan) cell: the previous output ``y`` (B, O)."""

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
