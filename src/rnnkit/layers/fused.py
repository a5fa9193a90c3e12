"""The fast path: standard cells run by torch's fused RNN kernels (oneDNN on CPU, cuDNN on GPU).

A stack of plain tanh/relu Elman, LSTM or GRU cells with no recurrent dropout computes exactly
what ``torch.nn.RNN/LSTM/GRU`` computes, so it is handed, with the cells' own parameters, to
the same kernels those modules call (``torch.lstm``, ``torch.gru``, ``torch.rnn_tanh``,
``torch.rnn_relu``). Padded batches are packed internally; callers never sort.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from rnnkit.cells.base import Cell
from rnnkit.state import LSTMState, RNNState

__all__ = ["run_fused"]

_KERNELS = {
    "LSTM": torch.lstm,
    "GRU": torch.gru,
    "RNN_TANH": torch.rnn_tanh,
    "RNN_RELU": torch.rnn_relu,
}


def run_fused(
    cells: Sequence[Cell],
    x: Tensor,
    lengths: Tensor | None,
    state: RNNState | LSTMState,
    *,
    num_layers: int,
    bidirectional: bool,
    dropout: float,
    training: bool,
) -> tuple[Tensor, RNNState | LSTMState]:
    """Run a whole stack through one fused kernel call.

    Args:
        cells: ``num_layers * D`` cells, layer-major, all with the same ``fused_mode``.
        x: batch-first input (B, T, I).
        lengths: (B,) int64 on the CPU, or None when every sequence has length T.
        state: initial state with fields (L*D, B, H).

    Returns:
        ``(outputs (B, T, D*H), final state with fields (L*D, B, H))``.
    """
    mode = cells[0].fused_mode
    assert mode is not None and all(c.fused_mode == mode for c in cells)
    weights = [
        p for c in cells for p in (c.weight_ih, c.weight_hh, c.bias_ih, c.bias_hh)
    ]  # torch's flat order: per layer, per direction: w_ih, w_hh, b_ih, b_hh
    hx: Tensor | list[Tensor] = list(state) if mode == "LSTM" else state.h
    flags = (True, num_layers, float(dropout), training, bidirectional)  # has_biases, ...
    if lengths is None:
        out, *final = _KERNELS[mode](x, hx, weights, *flags, True)  # batch_first
        return out, type(state)(*final)
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    order, restore = packed.sorted_indices, packed.unsorted_indices
    hx = [h.index_select(1, order) for h in hx] if mode == "LSTM" else hx.index_select(1, order)
    data, *final = _KERNELS[mode](packed.data, packed.batch_sizes, hx, weights, *flags)
    out, _ = pad_packed_sequence(
        PackedSequence(data, packed.batch_sizes, order, restore),
        batch_first=True,
        total_length=x.size(1),
    )
    return out, type(state)(*(f.index_select(1, restore) for f in final))
