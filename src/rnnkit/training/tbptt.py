"""Truncated backpropagation through time over long streams (Williams & Peng 1990).

BPTT(k1, k2): every ``k1`` steps, back-propagate through the last ``k2 >= k1`` steps. A
stream of length N is cut into windows; window w ends at ``p = (w + 1) k1`` and starts at
``p - k2``; its loss counts only its last ``k1`` steps (the earlier ones were counted by
previous windows, and now serve only as gradient context). The recurrent state that starts
the next window, at ``p + k1 - k2``, is taken from inside this window and detached, so no
gradient flows across windows. With ``k1 == k2`` (the common case, as in Zaremba et al. 2014)
windows are disjoint and the state is carried from each window's end.

Shapes:
    x: (B, N, ...) batch-first streams, one contiguous stream per row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import torch

from rnnkit.training.tree import tree_map

__all__ = ["Window", "detach_state", "run_window", "windows"]


class Window(NamedTuple):
    """One truncation window over a stream, as indices into the stream.

    Attributes:
        start: First step fed to the network.
        stop: One past the last step.
        loss_from: Offset (from ``start``) of the first step whose loss counts.
        carry_at: Offset (from ``start``) where the state for the next window is taken.
    """

    start: int
    stop: int
    loss_from: int
    carry_at: int


def windows(length: int, k1: int, k2: int | None = None) -> list[Window]:
    """The BPTT(k1, k2) windows over a stream of ``length`` steps.

    Example:
        >>> [tuple(w) for w in windows(7, 3)]  # k1 = k2 = 3: disjoint, carry from the end
        [(0, 3, 0, 3), (3, 6, 0, 3), (6, 7, 0, 1)]
        >>> [tuple(w) for w in windows(6, 2, 4)]  # k1 = 2, k2 = 4: overlapping
        [(0, 2, 0, 0), (0, 4, 2, 2), (2, 6, 2, 2)]
    """
    k2 = k1 if k2 is None else k2
    if not 0 < k1 <= k2:
        raise ValueError(f"need 0 < k1 <= k2, got k1={k1}, k2={k2}")
    result = []
    for end in range(k1, length + k1, k1):
        stop = min(end, length)
        start = max(0, end - k2)
        next_start = max(0, end + k1 - k2)
        loss_from = max(0, end - k1) - start
        result.append(Window(start, stop, loss_from, min(next_start - start, stop - start)))
    return result


def detach_state(state: Any) -> Any:
    """The same state with every tensor cut from the graph (the truncation itself)."""
    return tree_map(torch.Tensor.detach, state)


def run_window(
    forward: Callable[[torch.Tensor, Any], tuple[torch.Tensor, Any]],
    x: torch.Tensor,
    state: Any,
    window: Window,
) -> tuple[torch.Tensor, Any]:
    """Runs ``forward`` over one window; returns the outputs whose loss counts and the carry.

    Args:
        forward: ``(x_chunk (B, t, ...), state) -> (outputs (B, t, ...), state)``.
        x: The stream (B, N, ...).
        state: State at ``window.start`` (None for a fresh start).
        window: From :func:`windows`.

    Returns:
        ``outputs[:, loss_from:]`` of shape (B, stop - start - loss_from, ...) and the detached
        state at ``start + carry_at``, the next window's initial state.

    Example:
        >>> def running_sum(x, s):  # a "network" whose state is the running sum
        ...     s = torch.zeros(x.shape[0], 1) if s is None else s
        ...     return x.cumsum(1) + s, x.sum(1, keepdim=True) + s
        >>> x = torch.arange(6.0).view(1, 6)
        >>> out, carry = run_window(running_sum, x, None, Window(0, 4, 2, 2))
        >>> out, carry
        (tensor([[3., 6.]]), tensor([[1.]]))
    """
    chunk = x[:, window.start : window.stop]
    if window.carry_at == chunk.shape[1]:
        outputs, final = forward(chunk, state)
        carry = final
    elif window.carry_at == 0:
        outputs, _ = forward(chunk, state)
        carry = state
    else:
        first, carry = forward(chunk[:, : window.carry_at], state)
        rest, _ = forward(chunk[:, window.carry_at :], carry)
        outputs = torch.cat([first, rest], dim=1)
    return outputs[:, window.loss_from :], detach_state(carry)
