"""The translation speed benchmark's baseline: the ``multi30k`` preset's model written as
anyone would in bare torch (``nn.LSTM`` encoder on packed sequences, ``nn.LSTMCell``
decoder with general attention and input feeding, a bridge, tied target embeddings), and its
training step (label-smoothed cross-entropy, Adam, ``clip_grad_norm_``).

It has exactly the parameters of rnnkit's :class:`~rnnkit.models.seq2seq.Seq2Seq` for the
same sizes (the benchmark checks the count), so the two differ only in how they compute.
"""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnnkit.tasks.translate.batches import TranslateBatch

__all__ = ["BareSeq2Seq", "bare_round"]


class BareSeq2Seq(nn.Module):
    """Embeddings E, a BiLSTM of H per direction, an LSTM cell of A = 2H with input feeding,
    general attention ``h_tᵀ W m_s``, ``h̃_t = tanh(W_c [c_t; h_t])``, logits
    ``E_tgt · W_p h̃_t + b`` (tied), dropout on embeddings and ``h̃_t``."""

    def __init__(self, src_vocab: int, tgt_vocab: int, E: int, H: int, dropout: float) -> None:
        super().__init__()
        A = 2 * H
        self.src_embedding = nn.Embedding(src_vocab, E, padding_idx=0)
        self.tgt_embedding = nn.Embedding(tgt_vocab, E, padding_idx=0)
        self.encoder = nn.LSTM(E, H, batch_first=True, bidirectional=True)
        self.bridge_h, self.bridge_c = nn.Linear(2 * H, A), nn.Linear(2 * H, A)
        self.cell = nn.LSTMCell(E + A, A)
        self.attention = nn.Linear(2 * H, A, bias=False)
        self.combine = nn.Linear(2 * H + A, A)
        self.projection = nn.Linear(A, E)
        self.out_bias = nn.Parameter(torch.zeros(tgt_vocab))
        self.dropout = nn.Dropout(dropout)

    def forward(self, src: Tensor, lengths: Tensor, tgt_in: Tensor) -> Tensor:
        """src (B, S), lengths (B,), tgt_in (B, T) -> logits (B, T, V)."""
        packed = pack_padded_sequence(
            self.dropout(self.src_embedding(src)), lengths, batch_first=True, enforce_sorted=False
        )
        out, (h_n, _) = self.encoder(packed)
        memory, _ = pad_packed_sequence(out, batch_first=True, total_length=src.size(1))
        last = torch.cat([h_n[0], h_n[1]], -1)  # (B, 2H)
        h, c = torch.tanh(self.bridge_h(last)), torch.tanh(self.bridge_c(last))
        keys = self.attention(memory)  # (B, S, A)
        padding = torch.arange(src.size(1))[None, :] >= lengths[:, None]  # (B, S)
        feed = memory.new_zeros(src.size(0), h.size(1))
        embedded = self.dropout(self.tgt_embedding(tgt_in))  # (B, T, E)
        outputs = []
        for t in range(tgt_in.size(1)):
            h, c = self.cell(torch.cat([embedded[:, t], feed], -1), (h, c))
            scores = torch.bmm(keys, h[:, :, None])[..., 0].masked_fill(padding, -torch.inf)
            context = torch.bmm(scores.softmax(-1)[:, None, :], memory)[:, 0]  # (B, 2H)
            feed = torch.tanh(self.combine(torch.cat([context, h], -1)))
            outputs.append(feed)
        attentional = self.dropout(torch.stack(outputs, 1))  # (B, T, A)
        return F.linear(self.projection(attentional), self.tgt_embedding.weight, self.out_bias)


def bare_round(
    model: BareSeq2Seq,
    optimizer: torch.optim.Optimizer,
    batches: list[TranslateBatch],
    label_smoothing: float,
    clip_norm: float,
) -> float:
    """Seconds for one training step on each batch (the loss read every step, as fit does)."""
    model.train()
    tic = time.perf_counter()
    for batch in batches:
        logits = model(batch.src, batch.src_lengths, batch.tgt_in)
        loss = F.cross_entropy(
            logits.flatten(0, 1),
            batch.tgt_out.flatten(),
            ignore_index=0,
            label_smoothing=label_smoothing,
        )
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
        optimizer.step()
        float(loss.detach())
    return time.perf_counter() - tic
