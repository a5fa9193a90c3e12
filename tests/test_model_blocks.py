"""The blocks every model shares (models/embedding, masks, pooling, attention): each against
its formula written out by hand."""

from __future__ import annotations

import pytest
import torch

from rnnkit.models.attention import AdditiveAttention, DotAttention, attend
from rnnkit.models.embedding import TokenEmbedding
from rnnkit.models.masks import length_mask


def test_length_mask_marks_the_real_steps():
    assert length_mask(torch.tensor([0, 2, 3]), 3).tolist() == [
        [False, False, False],
        [True, True, False],
        [True, True, True],
    ]


def test_token_embedding_keeps_torchs_names_freezes_and_drops_whole_types():
    torch.manual_seed(0)
    emb = TokenEmbedding(50, 4, word_dropout=0.5, padding_idx=0)
    assert [n for n, _ in emb.named_parameters()] == ["weight"]  # loads nn.Embedding weights
    assert emb.weight[0].eq(0).all() and emb.weight.requires_grad
    ids = torch.tensor([[3, 3, 7, 0]])
    emb.train()
    out = emb(ids)
    assert torch.equal(out[0, 0], out[0, 1])  # one word, one fate in a batch
    assert out[0, 3].eq(0).all()
    kept = [bool(out[0, 0].ne(0).any()), bool(out[0, 2].ne(0).any())]
    for i, alive in zip([3, 7], kept, strict=True):
        expected = emb.weight[i] * 2 if alive else torch.zeros(4)
        torch.testing.assert_close(out[0, [3, 7].index(i) * 2], expected)
    emb.eval()
    torch.testing.assert_close(emb(ids), emb.weight[ids])
    frozen = TokenEmbedding(5, 2, frozen=True)
    frozen.load_vectors(torch.ones(5, 2))
    assert not frozen.weight.requires_grad and frozen.weight.eq(1).all()
    with pytest.raises(ValueError, match=r"expected vectors of shape \(5, 2\), got \(4, 2\)"):
        frozen.load_vectors(torch.ones(4, 2))


def _loop_attention(scores: torch.Tensor, memory: torch.Tensor, lengths: list[int]):
    """Softmax over each sequence's real entries and the weighted sum, one row at a time."""
    contexts, weights = [], []
    for b, n in enumerate(lengths):
        w = torch.exp(scores[b, :n] - scores[b, :n].max())
        w = w / w.sum()
        weights.append(torch.cat([w, torch.zeros(scores.size(1) - n, dtype=w.dtype)]))
        contexts.append((w[:, None] * memory[b, :n]).sum(0))
    return torch.stack(contexts), torch.stack(weights)


@pytest.mark.parametrize("kind", ["additive", "dot", "general"])
def test_attention_matches_its_formula_and_ignores_padding(kind):
    torch.manual_seed(1)
    B, S, Q, K = 3, 5, 4, 4
    query, memory = torch.randn(B, Q, dtype=torch.float64), torch.randn(B, S, K).double()
    lengths = [5, 2, 1]
    if kind == "additive":
        layer = AdditiveAttention(Q, K, 6).double()
        hidden = torch.tanh(layer.query(query)[:, None] + layer.memory(memory))
        scores = hidden @ layer.score.weight[0]  # vᵀ tanh(W_q q + W_m m_s + b)
    else:
        layer = DotAttention(Q, K, general=kind == "general").double()
        keys = memory if layer.weight is None else memory @ layer.weight.weight.T
        scores = torch.einsum("bsq,bq->bs", keys, query)
    out = layer(query, memory, torch.tensor(lengths))
    context, weights = _loop_attention(scores, memory, lengths)
    torch.testing.assert_close(out.weights, weights)
    torch.testing.assert_close(out.context, context)
    garbage = memory.clone()
    garbage[1, 2:] = 1e6  # padding may hold anything
    torch.testing.assert_close(layer(query, garbage, torch.tensor(lengths)).context, context)


def test_attend_without_lengths_and_the_dot_size_check():
    out = attend(torch.tensor([[0.0, 0.0]]), torch.tensor([[[1.0], [3.0]]]), None)
    assert out.weights.tolist() == [[0.5, 0.5]] and out.context.tolist() == [[2.0]]
    with pytest.raises(ValueError, match="query_size == memory_size"):
        DotAttention(3, 4, general=False)
