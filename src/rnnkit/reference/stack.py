"""Stacked and bidirectional composition of the reference cells, forward and backward, in NumPy.

The semantics are exactly those of :class:`rnnkit.Recurrent` (``rnnkit.layers.stacked`` and
``rnnkit.layers.bidirectional``), with ``L`` layers of ``D`` directions (D = 2 when
bidirectional) and the cells listed layer-major, direction-minor, cell ``k = l*D + d``:

    u_0 = x
    u_l = z_{l-1} ⊙ M_{l-1}                 (M: the inter-layer dropout mask, ones if absent)
    z_l = [ F_{l,0}(u_l) ; R(F_{l,1}(R(u_l))) ]         concatenated on the feature axis

where ``F_k`` runs cell ``k`` over time from its own initial state (with its own recurrent
dropout mask) and ``R`` reverses each sequence *within its own length*: step ``t < L_b`` goes
to ``L_b - 1 - t`` and padding stays at the end, so the backward direction starts at a real
step, never at padding. The outputs are ``z_{L-1}``; the final state stacks every cell's
final state, fields (L*D, B, K).

The backward is the chain rule through this graph, layer by layer from the top:

    dz_{L-1} = dE/doutputs
    du_l = dF_{l,0}ᵀ(dz_l[:, :, :O]) + R(dF_{l,1}ᵀ(R(dz_l[:, :, O:])))
    dz_{l-1} = du_l ⊙ M_{l-1}

``R`` is a permutation and its own inverse, so its transpose (the backward of a reversal) is
``R`` again. Each cell's parameter and initial-state gradients come from its family's BPTT.

Example:
    >>> from rnnkit.reference import gru
    >>> rng = np.random.default_rng(0)
    >>> def cell(i, h=2):
    ...     return {"weight_ih": rng.normal(size=(3 * h, i)),
    ...             "weight_hh": rng.normal(size=(3 * h, h)),
    ...             "bias_ih": np.zeros(3 * h), "bias_hh": np.zeros(3 * h)}
    >>> params = [cell(3), cell(3), cell(4), cell(4)]  # 2 layers x 2 directions
    >>> x = rng.normal(size=(4, 5, 3))
    >>> out, (h,), cache = forward(gru, params, x, num_layers=2, bidirectional=True)
    >>> grads, dx, (dh0,) = backward(cache, np.ones_like(out))
    >>> out.shape, h.shape, dx.shape, dh0.shape, grads[2]["weight_ih"].shape
    ((4, 5, 4), (4, 4, 2), (4, 5, 3), (4, 4, 2), (6, 4))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from rnnkit.reference.convert import params_from_torch
from rnnkit.reference.core import Cache, Params, State, valid_steps
from rnnkit.reference.families import resolve_family

__all__ = ["StackCache", "backward", "forward", "params_from_layer", "reverse_within_lengths"]


@dataclass
class StackCache:
    """What :func:`forward` keeps for :func:`backward`.

    Attributes:
        family: the cell family's module.
        params_list: one params dict per cell, layer-major, direction-minor.
        cells: each cell's own cache from ``family.forward``.
        out_widths: each cell's output width ``O`` (to split the concatenated gradient).
        num_layers: ``L``.
        directions: ``D``, 1 or 2.
        lengths: (B,) or None.
        layer_masks: the inter-layer dropout masks (B, T, F), one per layer boundary, or None.
        x_shape: (B, T, I).
    """

    family: ModuleType
    params_list: list[Params]
    cells: list[Cache]
    out_widths: list[int]
    num_layers: int
    directions: int
    lengths: np.ndarray | None
    layer_masks: list[np.ndarray] | None
    x_shape: tuple[int, ...]


def params_from_layer(layer: Any) -> list[dict[str, np.ndarray]]:
    """One params dict per cell of a :class:`rnnkit.Recurrent`, in its order (``layer.cells``).

    Duck-typed (only ``layer.cells`` and :func:`params_from_torch`), so no torch import here.
    The dtype is the layer's: call ``layer.double()`` first for float64 checks.
    """
    return [params_from_torch(cell) for cell in layer.cells]


def reverse_within_lengths(x: np.ndarray, lengths: np.ndarray | None) -> np.ndarray:
    """Reverse each sequence of a batch-first array within its own length.

    Step ``t < L_b`` of sequence ``b`` goes to ``L_b - 1 - t``; padded steps stay put. The map
    is its own inverse, so the same call restores the original order (and, being a
    permutation, it is also its own transpose: the backward of a reversal is a reversal).

    Shapes:
        x (B, T, F), lengths (B,) or None -> (B, T, F)

    Example:
        >>> x = np.tile(np.arange(4.0)[None, :, None], (2, 1, 1))
        >>> reverse_within_lengths(x, np.array([4, 2]))[:, :, 0].tolist()
        [[3.0, 2.0, 1.0, 0.0], [1.0, 0.0, 2.0, 3.0]]
    """
    if lengths is None:
        return x[:, ::-1].copy()
    T = x.shape[1]
    t = np.arange(T)[None, :]  # (1, T)
    ends = np.asarray(lengths)[:, None]  # (B, 1)
    index = np.where(t < ends, ends - 1 - t, t)  # (B, T)
    return np.take_along_axis(x, index[:, :, None], axis=1)


def _check_list(name: str, items: Sequence | None, count: int) -> None:
    if items is not None and len(items) != count:
        raise ValueError(f"{name} must have {count} entries, got {len(items)}")


def forward(
    family: ModuleType | str,
    params_list: Sequence[Params],
    x: np.ndarray,
    state0: State | None = None,
    *,
    num_layers: int,
    bidirectional: bool,
    lengths: np.ndarray | None = None,
    masks: Sequence[np.ndarray | None] | None = None,
    layer_masks: Sequence[np.ndarray] | None = None,
    **options: Any,
) -> tuple[np.ndarray, State, StackCache]:
    """Run ``num_layers`` layers of one or two directions each, as :class:`rnnkit.Recurrent`.

    Args:
        family: a reference family module (``reference.lstm``...) or its name (``"lstm"``).
        params_list: ``L*D`` params dicts (see :func:`params_from_layer`), layer-major,
            direction-minor: cell ``k = layer*D + direction``.
        x: inputs (B, T, I).
        state0: initial state, fields (L*D, B, K) (torch's layout); zeros when None.
        num_layers: ``L``.
        bidirectional: ``D = 2`` (the odd cells read each sequence reversed) or ``D = 1``.
        lengths: (B,) valid steps per sequence in [1, T], or None for full sequences.
        masks: recurrent dropout masks, one (B, K) array (or None) per cell, already scaled by
            ``1/(1-p)``; None for no recurrent dropout.
        layer_masks: inter-layer dropout masks, ``L-1`` arrays (B, T, D*O) multiplying the
            input of layers 1..L-1, already scaled; None for no dropout. No randomness here:
            fixed masks keep the reference deterministic and differentiable.
        **options: the family's options (``nonlinearity``, ``output_activation``).

    Returns:
        ``(outputs (B, T, D*O), final state with fields (L*D, B, K), cache)``; outputs past
        each sequence's length are zero.

    Shapes:
        x (B, T, I) -> outputs (B, T, D*O); state fields (L*D, B, K).
    """
    fam = resolve_family(family)
    D = 2 if bidirectional else 1
    n = num_layers * D
    if num_layers < 1:
        raise ValueError(f"num_layers must be at least 1, got {num_layers}")
    _check_list("params_list", params_list, n)
    _check_list("masks", masks, n)
    _check_list("layer_masks", layer_masks, num_layers - 1)
    x = np.asarray(x)
    if lengths is not None:
        lengths = np.asarray(lengths)
        valid_steps(lengths, x.shape[0], x.shape[1])  # validates: (B,) in [1, T]
    if state0 is not None and any(len(f) != n for f in state0):
        raise ValueError(f"state0 fields must be ({n}, B, K), got {[f.shape for f in state0]}")
    caches: list[Cache] = []
    finals: list[State] = []
    widths: list[int] = []
    u = x
    for layer in range(num_layers):
        if layer and layer_masks is not None:
            u = u * layer_masks[layer - 1]  # dropout between layers, never after the last
        outs = []
        for d in range(D):
            k = layer * D + d
            s0 = None if state0 is None else tuple(f[k] for f in state0)
            mask = None if masks is None else masks[k]
            source = reverse_within_lengths(u, lengths) if d else u
            out, final, cache = fam.forward(
                params_list[k], source, s0, lengths=lengths, mask=mask, **options
            )
            # Reversed back, so step t of both halves of z_l belongs to the same input step t.
            outs.append(reverse_within_lengths(out, lengths) if d else out)
            caches.append(cache)
            finals.append(final)
            widths.append(out.shape[-1])
        u = np.concatenate(outs, axis=-1) if D > 1 else outs[0]
    final_state = tuple(np.stack(fields) for fields in zip(*finals, strict=True))
    cache = StackCache(
        family=fam,
        params_list=list(params_list),
        cells=caches,
        out_widths=widths,
        num_layers=num_layers,
        directions=D,
        lengths=lengths,
        layer_masks=None if layer_masks is None else list(layer_masks),
        x_shape=x.shape,
    )
    return u, final_state, cache


def backward(
    cache: StackCache, doutputs: np.ndarray, dfinal: State | None = None
) -> tuple[list[dict[str, np.ndarray]], np.ndarray, State]:
    """Backpropagate through :func:`forward`, top layer first.

    Args:
        cache: what forward returned.
        doutputs: dE/doutputs (B, T, D*O).
        dfinal: dE/d(final state), fields (L*D, B, K), or None (no loss on the final state).

    Returns:
        ``(grads_list, dx (B, T, I), dstate0)``: one grads dict per cell (in params_list's
        order), and dE/dstate0 with fields (L*D, B, K).

    Shapes:
        doutputs (B, T, D*O) -> dx (B, T, I); dfinal and dstate0 fields (L*D, B, K).
    """
    fam, D, lengths = cache.family, cache.directions, cache.lengths
    n = cache.num_layers * D
    grads_list: list[dict[str, np.ndarray]] = [{} for _ in range(n)]
    dstates: list[State] = [() for _ in range(n)]
    dz = np.asarray(doutputs)
    for layer in reversed(range(cache.num_layers)):
        du = None
        start = 0
        for d in range(D):
            k = layer * D + d
            width = cache.out_widths[k]
            dout = dz[:, :, start : start + width]  # this direction's half of the concat
            start += width
            if d:  # the output was reversed back, so its gradient is reversed first
                dout = reverse_within_lengths(dout, lengths)
            dfin = None if dfinal is None else tuple(f[k] for f in dfinal)
            grads, dsource, dstate0 = fam.backward(cache.params_list[k], cache.cells[k], dout, dfin)
            if d:  # and the input was reversed, so its gradient is reversed back
                dsource = reverse_within_lengths(dsource, lengths)
            du = dsource if du is None else du + dsource  # both directions read u_l
            grads_list[k] = grads
            dstates[k] = tuple(dstate0)
        if layer and cache.layer_masks is not None:
            du = du * cache.layer_masks[layer - 1]  # u_l = z_{l-1} ⊙ M: the mask passes back
        dz = du
    dstate0 = tuple(np.stack(fields) for fields in zip(*dstates, strict=True))
    return grads_list, dz, dstate0
