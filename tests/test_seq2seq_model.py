"""The encoder-decoder with attention (rnnkit.models.seq2seq): shapes, padding, the bridge,
beam search through its step function, and learning a small transduction."""

from __future__ import annotations

import itertools

import pytest
import torch

from rnnkit.config import ConfigError, StackConfig
from rnnkit.models.decoding import beam_search, beam_search_batch
from rnnkit.models.seq2seq import Seq2Seq, Seq2SeqModelConfig

BOS, EOS, PAD = 1, 2, 0


def _model(attention: str = "general", cell: str = "lstm", **options: object) -> Seq2Seq:
    config = Seq2SeqModelConfig(
        embedding_size=8,
        encoder=StackConfig(cell="gru", hidden_size=6, bidirectional=True, num_layers=2),
        decoder=StackConfig(cell=cell, hidden_size=12, num_layers=2),
        attention=attention,
        attention_size=5,
        dropout=0.0,
        **options,
    )
    torch.manual_seed(0)
    return Seq2Seq(20, 30, config).eval()


@pytest.mark.parametrize("attention", ["additive", "dot", "general", "none"])
@pytest.mark.parametrize("cell", ["lstm", "gru", "elman", "jordan"])
def test_padding_never_changes_a_sentence(attention, cell):
    model = _model(attention, cell)
    src = torch.randint(3, 20, (3, 7))
    lengths = torch.tensor([7, 4, 2])
    tgt = torch.randint(3, 30, (3, 5))
    logits, weights = model(src, lengths, tgt, weights=True)
    assert logits.shape == (3, 5, 30) and weights.shape == (3, 5, 7)
    for row, n in enumerate(lengths.tolist()):
        alone = model(src[row : row + 1, :n], lengths[row : row + 1], tgt[row : row + 1])
        torch.testing.assert_close(logits[row : row + 1], alone, atol=1e-5, rtol=1e-5)
        assert weights[row, :, n:].abs().sum() == 0
        if attention != "none":
            torch.testing.assert_close(weights[row].sum(-1), torch.ones(5))


def test_without_attention_or_bridge_the_source_cannot_reach_the_decoder():
    tgt = torch.randint(3, 30, (2, 4))
    lengths = torch.tensor([5, 5])
    a, b = torch.randint(3, 20, (2, 5)), torch.randint(3, 20, (2, 5))
    cut = _model("none", bridge=False)
    torch.testing.assert_close(cut(a, lengths, tgt), cut(b, lengths, tgt))
    bridged = _model("none")  # the fixed vector is the only way through
    assert not torch.allclose(bridged(a, lengths, tgt), bridged(b, lengths, tgt))


def test_tied_output_is_the_target_embedding():
    model = _model(tie_embeddings=True)
    model(
        torch.randint(3, 20, (2, 4)), torch.tensor([4, 3]), torch.randint(3, 30, (2, 3))
    ).sum().backward()
    assert model.output is None and model.tgt_embedding.weight.grad is not None
    untied = _model(tie_embeddings=False)
    assert untied.output is not None and untied.output.weight.shape == (30, 12)


def test_reorder_follows_rows():
    model = _model()
    src = torch.randint(3, 20, (3, 6))
    state = model.encode(src, torch.tensor([6, 5, 3]))
    index = torch.tensor([2, 0, 0])
    tokens = torch.tensor([BOS, BOS, BOS])
    together, _ = model.step(tokens, model.reorder(state, index))
    for row, source in enumerate(index.tolist()):
        alone = model.encode(
            src[source : source + 1, : [6, 5, 3][source]], torch.tensor([[6, 5, 3][source]])
        )
        logits, _ = model.step(tokens[:1], alone)
        torch.testing.assert_close(together[row : row + 1], logits, atol=1e-5, rtol=1e-5)


def test_config_errors_name_the_field():
    with pytest.raises(ConfigError, match="decoder.bidirectional"):
        Seq2SeqModelConfig(decoder=StackConfig(cell="lstm", hidden_size=4, bidirectional=True))
    config = Seq2SeqModelConfig(
        encoder=StackConfig(cell="lstm", hidden_size=4, bidirectional=True),
        decoder=StackConfig(cell="lstm", hidden_size=5),
        attention="dot",
    )
    with pytest.raises(ConfigError, match=r"dot score needs the decoder's width \(5\)"):
        Seq2Seq(10, 10, config)


def _reversal_batch(generator: torch.Generator, size: int = 32) -> tuple[torch.Tensor, ...]:
    """Sources of 3-6 tokens (ids 3-12) and their reversals as targets, <s> ... </s>."""
    lengths = torch.randint(3, 7, (size,), generator=generator)
    src = torch.full((size, 6), PAD)
    tgt_in = torch.full((size, 7), PAD)
    tgt_out = torch.full((size, 7), PAD)
    for row, n in enumerate(lengths.tolist()):
        words = torch.randint(3, 13, (n,), generator=generator)
        src[row, :n] = words
        tgt_in[row, 0], tgt_in[row, 1 : n + 1] = BOS, words.flip(0)
        tgt_out[row, :n], tgt_out[row, n] = words.flip(0), EOS
    return src, lengths, tgt_in, tgt_out


@pytest.mark.parametrize("attention", ["additive", "general"])
def test_learns_to_reverse_and_beam_search_decodes_it(attention):
    config = Seq2SeqModelConfig(
        embedding_size=16,
        encoder=StackConfig(cell="lstm", hidden_size=24, bidirectional=True),
        decoder=StackConfig(cell="lstm", hidden_size=48),
        attention=attention,
        attention_size=24,
        dropout=0.0,
    )
    torch.manual_seed(0)
    model = Seq2Seq(13, 13, config)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    generator = torch.Generator().manual_seed(0)
    for _ in range(250):
        src, lengths, tgt_in, tgt_out = _reversal_batch(generator)
        loss = Seq2Seq.loss(model(src, lengths, tgt_in), tgt_out, PAD)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    src, lengths, _, tgt_out = _reversal_batch(torch.Generator().manual_seed(1), size=40)
    right = 0
    with torch.no_grad():
        for row, n in enumerate(lengths.tolist()):
            state = model.encode(src[row : row + 1, :n], lengths[row : row + 1])
            first, state = model.step(torch.tensor([BOS]), state)
            best = beam_search(
                model.step, state, first, beam=3, max_new=10, eos_id=EOS, reorder=model.reorder
            )[0]
            right += best.tokens == tgt_out[row, : n + 1].tolist()
    assert right >= 38, f"{right}/40 reversed exactly"  # the issue asks for 95%


@pytest.mark.parametrize("attention", ["general", "none"])
def test_batched_beam_search_of_padded_sentences_equals_one_at_a_time(attention):
    model = _model(attention)
    src = torch.randint(3, 20, (4, 6))
    lengths = torch.tensor([6, 3, 5, 1])
    limits = [7, 4, 6, 3]
    with torch.no_grad():
        state = model.encode(src, lengths)
        first, state = model.step(torch.full((4,), BOS), state)
        together = beam_search_batch(
            model.step, state, first, beam=3, max_new=limits, eos_id=EOS, reorder=model.reorder
        )
        for row, n in enumerate(lengths.tolist()):
            alone_state = model.encode(src[row : row + 1, :n], lengths[row : row + 1])
            alone_first, alone_state = model.step(torch.tensor([BOS]), alone_state)
            alone = beam_search(
                model.step,
                alone_state,
                alone_first,
                beam=3,
                max_new=limits[row],
                eos_id=EOS,
                reorder=model.reorder,
            )
            assert [h.tokens for h in together[row]] == [h.tokens for h in alone]
            for a, b in zip(together[row], alone, strict=True):
                assert a.logprob == pytest.approx(b.logprob, abs=1e-4)


def test_a_wide_enough_beam_finds_what_brute_force_finds():
    # A target vocabulary of 4 and 3 new tokens: beam 16 = V ** (T - 1) keeps every prefix,
    # so its 16 hypotheses are exactly the 16 most probable of all 64 sequences, each scored
    # by teacher forcing.
    model = Seq2Seq(20, 4, _model().config).double().eval()
    src, lengths = torch.randint(3, 20, (1, 5)), torch.tensor([5])
    with torch.no_grad():
        state = model.encode(src, lengths)
        first, state = model.step(torch.tensor([BOS]), state)
        hyps = beam_search(
            model.step,
            state,
            first,
            beam=16,
            max_new=3,
            eos_id=None,
            length_penalty=0.0,
            reorder=model.reorder,
        )
        every = torch.tensor(list(itertools.product(range(4), repeat=3)))  # (64, 3)
        tgt_in = torch.cat([torch.full((64, 1), BOS), every[:, :2]], 1)
        logp = model(src.expand(64, -1), lengths.expand(64), tgt_in).log_softmax(-1)
        scores = logp.gather(2, every[:, :, None])[..., 0].sum(1)  # (64,)
    best = scores.argsort(descending=True)[:16]
    assert [h.tokens for h in hyps] == every[best].tolist()
    assert [h.logprob for h in hyps] == pytest.approx(scores[best].tolist(), abs=1e-9)
