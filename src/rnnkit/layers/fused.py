"""The fast path: standard cells run by torch's fused RNN kernels (oneDNN on CPU, cuDNN on GPU).

A stack of plain tanh/relu Elman, LSTM or GRU cells with no recurrent dropout computes exactly
what ``torch.nn.RNN/LSTM/GRU`` computes, so it is handed, with the cells' own parameters, to
the same kernels those modules call (``torch.lstm``, ``torch.gru``, ``torch.rnn_tanh``,
``torch.rnn_relu``). Padded batches are packed internally; callers never sort.

On a GPU, cuDNN wants every weight of the stack in one contiguous buffer; given separate
tensors it copies them into one at every call (and warns). :func:`flatten_for_cudnn` lays the
parameters out in such a buffer once, as ``torch.nn.LSTM.flatten_parameters`` does; the layer
calls it whenever it moves (``.to(...)``, ``.cuda()``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from rnnkit.cells.base import Cell
from rnnkit.state import LSTMState, RNNState

__all__ = ["flatten_for_cudnn", "run_fused"]

_KERNELS = {
    "LSTM": torch.lstm,
    "GRU": torch.gru,
    "RNN_TANH": torch.rnn_tanh,
    "RNN_RELU": torch.rnn_relu,
}
_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}  # gate blocks in weight_ih's rows


def flat_weights(cells: Sequence[Cell]) -> list[Tensor]:
    """Per layer, per direction: ``w_ih, w_hh, b_ih, b_hh`` (torch's flat order)."""
    return [p for c in cells for p in (c.weight_ih, c.weight_hh, c.bias_ih, c.bias_hh)]


def flatten_for_cudnn(cells: Sequence[Cell], *, num_layers: int, bidirectional: bool) -> None:
    """Make the cells' weights views into one cuDNN weight buffer; a no-op off cuDNN.

    Like ``torch.nn.RNNBase.flatten_parameters``: the parameters stay the same objects (an
    optimiser holding them is unaffected), only their storage moves.
    """
    mode = cells[0].fused_mode
    if mode is None:
        return
    weights = flat_weights(cells)
    first = weights[0]
    acceptable = all(
        w.is_cuda and w.dtype == first.dtype and torch.backends.cudnn.is_acceptable(w)
        for w in weights
    )
    # Weights that share memory already (tied by the user) must stay as they are. The two
    # torch functions are private (torch is pinned); without them cuDNN still works, copying.
    flatten = getattr(torch, "_cudnn_rnn_flatten_weight", None)
    use_flat = getattr(torch, "_use_cudnn_rnn_flatten_weight", lambda: True)
    shared = len({w.data_ptr() for w in weights}) != len(weights)
    if not acceptable or shared or flatten is None or not use_flat():
        return
    from torch.backends.cudnn import rnn as cudnn_rnn

    with torch.cuda.device_of(first), torch.no_grad():
        flatten(
            weights,
            4,  # tensors per layer and direction: w_ih, w_hh, b_ih, b_hh
            first.size(1),  # the first layer's input size
            cudnn_rnn.get_cudnn_mode(mode),
            first.size(0) // _GATES[mode],  # hidden size
            0,  # no projection
            num_layers,
            True,  # batch_first
            bidirectional,
        )


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
    weights = flat_weights(cells)
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
