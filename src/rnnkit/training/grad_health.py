"""Exploding and vanishing gradients, spotted in the pre-clip gradient norms of training.

The loop records the global gradient norm of every optimiser step before clipping
(``grad_norm`` in ``metrics.jsonl``). Two patterns there mean trouble:

- **exploding**: a norm jumps to at least :data:`JUMP` (100) times the median of the
  :data:`WINDOW` (50) steps before it (at least :data:`WARMUP` of them), or grows to at
  least :data:`GROWTH` (1000) times the median of the first :data:`WARMUP` (10) steps: the
  products of recurrent Jacobians blow up (Pascanu et al. 2013). Norms at or below
  :data:`TINY` never count as a jump, and a non-finite norm always counts.
- **vanishing**: :data:`WINDOW` steps in a row below :data:`TINY` (1e-6): nothing reaches
  the weights any more (or the loss is exactly fitted, which the warning also mentions).

Each warning names the remedy. :class:`GradientWatch` checks one norm at a time (the loop
feeds it every step and shows each kind of warning once); :func:`gradient_warning` runs one
over a recorded sequence (``rnnkit info RUN``). Model-agnostic: numbers in, text out.

Example:
    >>> gradient_warning([1.0] * 20) is None
    True
    >>> gradient_warning([1.0] * 20 + [500.0])[:67]
    'exploding gradients: the gradient norm jumped to 500 at step 21, 50'
    >>> gradient_warning([1e-9] * 60)[:70]
    'vanishing gradients: the gradient norm stayed below 1e-06 for 50 steps'
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from collections.abc import Sequence

__all__ = [
    "EXPLODING_REMEDY",
    "GROWTH",
    "JUMP",
    "TINY",
    "VANISHING_REMEDY",
    "WARMUP",
    "WINDOW",
    "GradientWatch",
    "gradient_warning",
]

JUMP = 100.0
"""A norm at least this many times the median of the window before it is a jump."""
GROWTH = 1e3
"""A norm at least this many times the median of the first :data:`WARMUP` steps has grown
by orders of magnitude."""
TINY = 1e-6
"""Norms below this are vanishingly small."""
WINDOW = 50
"""Steps in the window a jump is measured against, and in a run of tiny norms."""
WARMUP = 10
"""Steps seen before the jump test starts; also the baseline of the growth test."""

EXPLODING_REMEDY = (
    "lower --clip-norm, lower the learning rate, or use an LSTM/GRU; with ReLU Elman cells, "
    "identity initialisation (IRNN) and clipping"
)
VANISHING_REMEDY = (
    "use an LSTM/GRU (with a forget-gate bias of 1), a shorter truncation (--bptt), or a "
    "better initialisation (identity for ReLU Elman cells, IRNN); if the loss is already "
    "near zero, the model may simply have fitted the data"
)


class GradientWatch:
    """Checks the pre-clip gradient norms one step at a time.

    Example:
        >>> watch = GradientWatch()
        >>> [watch.add(1.0, step) for step in range(1, 12)][-1] is None
        True
        >>> watch.add(1e4, 12)[:38]
        'exploding gradients: the gradient norm'
        >>> watch.add(1e5, 13) is None  # each kind of warning is given once
        True
    """

    def __init__(self) -> None:
        self.first: list[float] = []  # the first WARMUP norms: the growth baseline
        self.recent: deque[float] = deque(maxlen=WINDOW)
        self.tiny_since: int | None = None  # step where the current run of tiny norms began
        self.tiny_count = 0
        self.warned: set[str] = set()

    def check(self, norm: float, step: int) -> tuple[str, str] | None:
        """``(kind, message)`` when ``norm`` (of optimiser step ``step``) shows trouble, else
        None; then records it. Every call can warn (see :meth:`add` for once per kind)."""
        found = self._explosion(norm, step) or self._vanishing(norm, step)
        if len(self.first) < WARMUP:
            self.first.append(norm)
        self.recent.append(norm)
        return found

    def add(self, norm: float, step: int) -> str | None:
        """The warning message for ``norm``, the first time each kind appears; else None."""
        found = self.check(norm, step)
        if found is None or found[0] in self.warned:
            return None
        self.warned.add(found[0])
        return found[1]

    def _explosion(self, norm: float, step: int) -> tuple[str, str] | None:
        if not math.isfinite(norm):
            return "exploding", _exploding(f"the gradient norm is {norm} at step {step}")
        if norm <= TINY:
            return None
        if len(self.recent) >= WARMUP:
            median = statistics.median(self.recent)
            if median > 0 and norm >= JUMP * median:
                return "exploding", _exploding(
                    f"the gradient norm jumped to {norm:.3g} at step {step}, "
                    f"{norm / median:,.0f}x the median ({median:.3g}) of the "
                    f"{len(self.recent)} steps before"
                )
        if len(self.first) == WARMUP:
            base = statistics.median(self.first)
            if base > 0 and norm >= GROWTH * base:
                return "exploding", _exploding(
                    f"the gradient norm grew to {norm:.3g} at step {step}, "
                    f"{norm / base:,.0f}x its median ({base:.3g}) over the first {WARMUP} steps"
                )
        return None

    def _vanishing(self, norm: float, step: int) -> tuple[str, str] | None:
        if not norm < TINY:
            self.tiny_since, self.tiny_count = None, 0
            return None
        if self.tiny_since is None:
            self.tiny_since = step
        self.tiny_count += 1
        if self.tiny_count < WINDOW:
            return None
        return "vanishing", (
            f"vanishing gradients: the gradient norm stayed below {TINY:g} for "
            f"{self.tiny_count} steps in a row (steps {self.tiny_since}-{step}); "
            + VANISHING_REMEDY
        )


def _exploding(what: str) -> str:
    return f"exploding gradients: {what}; {EXPLODING_REMEDY}"


def gradient_warning(norms: Sequence[float], steps: Sequence[int] | None = None) -> str | None:
    """The first warning a :class:`GradientWatch` gives over ``norms``, or None.

    Args:
        norms: pre-clip global gradient norms, one per optimiser step, in order.
        steps: the step numbers of ``norms`` (for the message); None numbers them from 1.

    Example:
        >>> gradient_warning([0.5, 0.7, 0.6] * 10 + [0.9]) is None
        True
    """
    if steps is not None and len(steps) != len(norms):
        raise ValueError(f"steps has {len(steps)} entries, norms {len(norms)}")
    watch = GradientWatch()
    numbers = range(1, len(norms) + 1) if steps is None else steps
    for norm, step in zip(norms, numbers, strict=True):
        message = watch.add(float(norm), int(step))
        if message is not None:
            return message
    return None
