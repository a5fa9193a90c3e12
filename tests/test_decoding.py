"""Decoding algorithms (rnnkit.models.decoding) on hand-made models with known answers.

Most tests use n-gram tables as the "model": a bigram step returns ``log P[prev]``; a trigram
step keeps the token before the last in an ``LSTMState`` (fields (1, B, 1)), so beam search
only gets the right numbers if it reorders that state correctly. Exhaustive enumeration of
every sequence gives the exact optimum to compare with.
"""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from torch import nn

from rnnkit.layers import Recurrent
from rnnkit.models.decoding import (
    Hypothesis,
    beam_search,
    beam_search_batch,
    filter_logits,
    generate,
    sample_next,
)
from rnnkit.state import JordanState, LSTMState, RNNState, repeat_rows, select_rows


def select_state(state, index):
    """The rows of a stack's state, whose batch is dimension 1 (as the models say)."""
    return select_rows(state, index, dim=1)


def repeat_state(state, n):
    return repeat_rows(state, n, dim=1)


INF = math.inf


# ---- hand-made models ---------------------------------------------------------------------
def bigram(probs):
    """A bigram model: (step, log table) with ``step(tokens, state) = (log P[tokens], state)``."""
    table = torch.as_tensor(probs, dtype=torch.float64).log()

    def step(tokens, state):
        return table[tokens], state

    return step, table


def chain_table(vocab):
    """Bigram probabilities whose argmax after token i is (i + 1) % vocab (0.7 vs 0.1s)."""
    probs = torch.full((vocab, vocab), 0.3 / (vocab - 1), dtype=torch.float64)
    for i in range(vocab):
        probs[i, (i + 1) % vocab] = 0.7
    return probs


def random_probs(*shape, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(*shape, generator=g, dtype=torch.float64).add(0.05).softmax(-1)


class Trigram:
    """P(next | a, b) from a (V, V, V) table, ``b`` the last token and ``a`` the one before.

    ``step(b, state)`` reads ``a`` from the state, which holds the last token fed so far:
    ``LSTMState(h = a, c = -a)`` as (1, B, 1) tensors. Every step checks ``c == -h``, so a
    reordering that moved one field and not the other would fail loudly.
    """

    def __init__(self, vocab, seed):
        self.log_q = random_probs(vocab, vocab, vocab, seed=seed).log()
        self.calls = 0

    def start(self, a, b):
        state = LSTMState(torch.tensor([[[float(b)]]]), torch.tensor([[[-float(b)]]]))
        return state, self.log_q[a, b][None]  # state after the prompt (a, b); first logits

    def step(self, tokens, state):
        self.calls += 1
        assert torch.equal(state.c, -state.h)
        prev = state.h[0, :, 0].long()  # (B,)
        logits = self.log_q[prev, tokens]  # (B, V)
        new = tokens.to(torch.float64).view(1, -1, 1)
        return logits, LSTMState(new, -new)

    reorder = staticmethod(select_state)  # the state's owner knows its batch dimension

    def logprob(self, prompt, tokens):
        seq = [*prompt, *tokens]
        return sum(self.log_q[seq[i], seq[i + 1], seq[i + 2]].item() for i in range(len(tokens)))


def exhaustive(logprob_of, vocab, length):
    """Every sequence of ``length`` tokens with its log-probability, best first."""
    seqs = [list(s) for s in itertools.product(range(vocab), repeat=length)]
    return sorted(((logprob_of(s), s) for s in seqs), key=lambda x: -x[0])


def tokens_of(iterator):
    return torch.stack(list(iterator), dim=1)  # (B, steps)


# ---- greedy and beam search ------------------------------------------------------------------
def test_greedy_follows_the_argmax_chain():
    step, table = bigram(chain_table(4))
    out = generate(step, None, table[[2]], max_new=7, eos_id=None, greedy=True)
    assert tokens_of(out).tolist() == [[3, 0, 1, 2, 3, 0, 1]]


# The classic trap: the likelier first token (0, p = .5) leads nowhere good (best .35), the
# other (1, p = .4) to a near-certain second token (2, p = .85). Greedy: .5 * .35 = .175;
# best sequence: .4 * .85 = .34.
TRAP_FIRST = [0.5, 0.4, 0.05, 0.05]
TRAP = [
    [0.35, 0.25, 0.2, 0.2],
    [0.05, 0.05, 0.85, 0.05],
    [0.25, 0.25, 0.25, 0.25],
    [0.25, 0.25, 0.25, 0.25],
]


def test_beam_search_escapes_the_greedy_trap():
    step, table = bigram(TRAP)
    first = torch.tensor([TRAP_FIRST], dtype=torch.float64).log()
    greedy = tokens_of(generate(step, None, first, max_new=2, eos_id=None, greedy=True))
    assert greedy.tolist() == [[0, 0]]

    best = beam_search(step, None, first, beam=2, max_new=2, eos_id=None, length_penalty=0.0)[0]
    assert best.tokens == [1, 2]
    assert best.logprob == pytest.approx(math.log(0.34), abs=1e-12)
    assert best.logprob > math.log(0.175)

    def logprob(s):
        return math.log(TRAP_FIRST[s[0]] * TRAP[s[0]][s[1]])

    top_logprob, top_seq = exhaustive(logprob, 4, 2)[0]
    assert (best.tokens, best.logprob) == (top_seq, pytest.approx(top_logprob, abs=1e-12))

    trapped = beam_search(step, None, first, beam=1, max_new=2, eos_id=None)[0]
    assert trapped.tokens == [0, 0]  # beam 1 is greedy


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_wide_enough_beam_equals_exhaustive_search(seed):
    # beam = V ** (T - 1) keeps every prefix, so the final step ranks all V ** T sequences:
    # the returned list is exactly the exhaustive top 27, in order.
    vocab, length, prompt = 3, 4, (1, 2)
    model = Trigram(vocab, seed)
    state, first = model.start(*prompt)
    hyps = beam_search(
        model.step,
        state,
        first,
        reorder=model.reorder,
        beam=27,
        max_new=length,
        eos_id=None,
        length_penalty=0.0,
    )
    ranked = exhaustive(lambda s: model.logprob(prompt, s), vocab, length)[:27]
    assert [h.tokens for h in hyps] == [s for _, s in ranked]
    assert [h.logprob for h in hyps] == pytest.approx([lp for lp, _ in ranked], abs=1e-12)
    assert not any(h.finished for h in hyps)


@pytest.mark.parametrize(("beam", "alpha"), [(2, 0.0), (3, 1.0), (4, 0.6)])
def test_beam_hypotheses_carry_their_exact_log_probability(beam, alpha):
    # With the state (previous token) reordered wrongly, the recomputed numbers would differ.
    vocab, prompt, eos = 5, (3, 4), 0
    model = Trigram(vocab, seed=7)
    state, first = model.start(*prompt)
    hyps = beam_search(
        model.step,
        state,
        first,
        reorder=model.reorder,
        beam=beam,
        max_new=6,
        eos_id=eos,
        length_penalty=alpha,
    )
    assert 1 <= len(hyps) <= beam
    for h in hyps:
        assert h.logprob == pytest.approx(model.logprob(prompt, h.tokens), abs=1e-12)
        assert h.score == pytest.approx(h.logprob / len(h.tokens) ** alpha, abs=1e-12)
        assert h.finished == (h.tokens[-1] == eos)
        assert eos not in h.tokens[:-1]
    assert [h.score for h in hyps] == sorted((h.score for h in hyps), reverse=True)


def test_beam_search_batches_its_hypotheses_into_one_step_call():
    model = Trigram(4, seed=3)
    state, first = model.start(0, 1)
    beam_search(model.step, state, first, reorder=model.reorder, beam=3, max_new=5, eos_id=None)
    assert model.calls == 4  # one call per token after the first, never after the last


def test_batched_beam_search_gives_each_prompt_its_own_search():
    # Four trigram prompts in one batch, each with its own length limit: every prompt's
    # hypotheses equal those of its search alone, and the rows of prompts that stopped early
    # leave the batch.
    model = Trigram(5, seed=11)
    prompts, limits = [(0, 1), (3, 4), (2, 2), (4, 0)], [6, 2, 5, 1]
    alone = []
    for prompt, limit in zip(prompts, limits, strict=True):
        state, first = model.start(*prompt)
        alone.append(
            beam_search(
                model.step, state, first, reorder=model.reorder, beam=3, max_new=limit, eos_id=0
            )
        )
    starts = [model.start(*p) for p in prompts]
    state = LSTMState(*(torch.cat([s[0][f] for s in starts], dim=1) for f in range(2)))
    first = torch.cat([s[1] for s in starts])
    model.calls = 0
    together = beam_search_batch(
        model.step, state, first, reorder=model.reorder, beam=3, max_new=limits, eos_id=0
    )
    assert together == alone
    assert model.calls <= max(limits) - 1  # one call per step for every prompt at once


def test_batched_beam_search_names_a_wrong_number_of_limits():
    step, table = bigram(chain_table(3))
    with pytest.raises(ValueError, match="max_new gives 1 limits for 2 prompts"):
        beam_search_batch(step, None, table[:2], beam=2, max_new=[3], eos_id=None)


def test_tied_scores_rank_by_parent_then_token():
    # Every extension has the same log-probability: the order is the flat index.
    step, table = bigram(torch.full((4, 4), 0.25, dtype=torch.float64))
    hyps = beam_search(step, None, table[:1], beam=3, max_new=2, eos_id=None)
    assert [h.tokens for h in hyps] == [[0, 0], [0, 1], [0, 2]]


def test_length_penalty_trades_short_for_long():
    # eos = 0. [0]: p = .4 -> log .4 = -0.92. [1, 2, 0]: .5 * .8 * .8 = .32 -> -1.14 raw,
    # -0.38 per token. Raw log-probability (alpha 0) picks the short one, alpha 1 the long one.
    first = torch.tensor([[0.4, 0.5, 0.1]], dtype=torch.float64).log()
    step, _ = bigram([[1 / 3] * 3, [0.1, 0.1, 0.8], [0.8, 0.1, 0.1]])
    short = beam_search(step, None, first, beam=3, max_new=10, eos_id=0, length_penalty=0.0)
    long = beam_search(step, None, first, beam=3, max_new=10, eos_id=0, length_penalty=1.0)
    log_04 = pytest.approx(math.log(0.4), abs=1e-12)
    assert short[0] == Hypothesis([0], log_04, log_04, True)
    assert long[0].tokens == [1, 2, 0]
    assert long[0].score == pytest.approx(math.log(0.32) / 3, abs=1e-12)
    assert long[0].finished


def test_beam_search_stops_once_no_live_hypothesis_can_win():
    # eos (0) has p = .9 everywhere: after two steps the two best finished ones, [0] and
    # [x, 0], beat every live hypothesis (alpha 0: log-probabilities only fall), so the
    # search ends after one step call although max_new is 50.
    probs = [[0.9, 0.05, 0.05]] * 3
    calls = []
    step, table = bigram(probs)

    def counted(tokens, state):
        calls.append(len(tokens))
        return step(tokens, state)

    hyps = beam_search(counted, None, table[[0]], beam=2, max_new=50, eos_id=0, length_penalty=0.0)
    assert calls == [2]
    assert [h.tokens for h in hyps] == [[0], [1, 0]]
    assert [h.logprob for h in hyps] == pytest.approx([math.log(0.9), math.log(0.045)])


def test_beam_search_never_uses_banned_tokens():
    step, table = bigram(random_probs(6, 6, seed=4))
    hyps = beam_search(step, None, table[[0]], beam=4, max_new=5, eos_id=None, banned=[2, 5])
    assert len(hyps) == 4
    assert all(t not in (2, 5) for h in hyps for t in h.tokens)


@pytest.mark.parametrize("seed", [0, 1])
def test_beam_of_one_is_greedy(seed):
    step, table = bigram(random_probs(7, 7, seed=seed))
    first = table[[3]]
    greedy = tokens_of(generate(step, None, first, max_new=9, eos_id=None, greedy=True))
    (best,) = beam_search(step, None, first, beam=1, max_new=9, eos_id=None)
    assert best.tokens == greedy[0].tolist()


# ---- generation: eos and streaming -----------------------------------------------------------
def test_eos_stops_generation_and_is_yielded():
    step, table = bigram(chain_table(4))
    out = generate(step, None, table[[1]], max_new=10, eos_id=0, greedy=True)
    assert tokens_of(out).tolist() == [[2, 3, 0]]
    out = generate(step, None, table[[1]], max_new=6, eos_id=0, stop_at_eos=False, greedy=True)
    assert tokens_of(out).tolist() == [[2, 3, 0, 1, 2, 3]]


def test_finished_rows_repeat_eos_until_every_row_is_done():
    step, table = bigram(chain_table(4))
    out = generate(step, None, table[[2, 0]], max_new=10, eos_id=0, greedy=True)
    assert tokens_of(out).tolist() == [[3, 0, 0, 0], [1, 2, 3, 0]]


def test_generate_streams_and_never_steps_past_the_last_token():
    calls = []
    step, table = bigram(chain_table(4))

    def counted(tokens, state):
        calls.append(tokens.tolist())
        return step(tokens, state)

    out = generate(counted, None, table[[0]], max_new=3, eos_id=None, greedy=True)
    assert calls == []  # nothing runs before the first token is asked for
    assert next(out).tolist() == [1] and calls == []
    assert [t.item() for t in out] == [2, 3]
    assert calls == [[1], [2]]
    assert list(generate(counted, None, table[[0]], max_new=0, eos_id=None)) == []


def test_generate_checks_its_options_when_called():
    step, table = bigram(chain_table(4))
    with pytest.raises(ValueError, match="max_new must be an int >= 0, got -1"):
        generate(step, None, table[[0]], max_new=-1, eos_id=None)
    with pytest.raises(ValueError, match=r"eos_id must be a token id in \[0, 4\)"):
        generate(step, None, table[[0]], max_new=3, eos_id=4)
    with pytest.raises(ValueError, match="top_p must be in"):
        generate(step, None, table[[0]], max_new=3, eos_id=None, top_p=0.0)

    def bad_step(tokens, state):
        return table[tokens][:, :3], state

    out = generate(bad_step, None, table[[0]], max_new=3, eos_id=None)
    next(out)
    with pytest.raises(ValueError, match=r"step must return logits of shape \(B, V\) = \(1, 4\)"):
        next(out)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"beam": 0}, "beam must be an int >= 1"),
        ({"max_new": 0}, "max_new must be an int >= 1"),
        ({"eos_id": -1}, "eos_id must be a token id"),
        ({"length_penalty": math.nan}, "length_penalty must be a finite number"),
        ({"banned": [9]}, "banned must hold token ids in"),
    ],
)
def test_beam_search_checks_its_options(kwargs, message):
    step, table = bigram(chain_table(4))
    options = {"beam": 2, "max_new": 3, "eos_id": None, **kwargs}
    with pytest.raises(ValueError, match=message):
        beam_search(step, None, table[[0]], **options)


def test_beam_search_takes_one_prompt():
    step, table = bigram(chain_table(4))
    with pytest.raises(ValueError, match=r"first_logits must hold one prompt, shape \(1, V\)"):
        beam_search(step, None, table[[0, 1]], beam=2, max_new=3, eos_id=None)


# ---- filtering -----------------------------------------------------------------------------
# A known distribution, deliberately not sorted by position.
PROBS = torch.tensor([[0.15, 0.5, 0.1, 0.25]], dtype=torch.float64)


def kept(logits):
    return set(torch.isfinite(logits[0]).nonzero().flatten().tolist())


@pytest.mark.parametrize(
    ("top_p", "expected"),
    [
        (0.3, {1}),  # .5 >= .3 already
        (0.5001, {1, 3}),  # .5 + .25 = .75
        (0.74, {1, 3}),
        (0.76, {1, 3, 0}),  # .75 + .15 = .90
        (0.95, {0, 1, 2, 3}),
        (1.0, {0, 1, 2, 3}),
    ],
)
def test_top_p_keeps_the_smallest_set_reaching_p(top_p, expected):
    out = filter_logits(PROBS.log(), top_p=top_p)
    assert kept(out) == expected
    assert torch.equal(out[0, list(expected)], PROBS.log()[0, list(expected)])


def test_top_k_and_top_p_keep_ties_at_the_boundary():
    logits = torch.tensor([[1.0, 2.0, 2.0, 0.0]])
    assert kept(filter_logits(logits, top_k=1)) == {1, 2}
    assert kept(filter_logits(logits, top_k=3)) == {0, 1, 2}
    assert kept(filter_logits(logits, top_k=10)) == {0, 1, 2, 3}
    tied = torch.tensor([[0.4, 0.3, 0.3]]).log()
    assert kept(filter_logits(tied, top_p=0.5)) == {0, 1, 2}  # .4 + .3 reaches it; .3 ties


def test_filter_order_ban_then_temperature_then_top_k_then_top_p():
    logits = PROBS.log()
    out = filter_logits(logits, temperature=2.0, top_k=3, top_p=0.6, banned=[1])
    # Banned 1 (.5) leaves .15 .1 .25; temperature 2 gives probabilities ∝ sqrt(p):
    # .387 .316 .5 -> /1.203 = .322 .263 .416; top-3 keeps all; top-p .6 needs .416 + .322.
    assert kept(out) == {0, 3}
    assert torch.equal(out[0, [0, 3]], logits[0, [0, 3]] / 2)
    probs = out.softmax(-1)[0]
    expected = torch.tensor([0.15, 0.25], dtype=torch.float64).sqrt()
    assert probs[[0, 3]].tolist() == pytest.approx((expected / expected.sum()).tolist())


def test_filter_does_not_modify_its_input():
    logits = PROBS.log()
    before = logits.clone()
    filter_logits(logits, banned=[0, 1], top_k=1, temperature=0.5)
    assert torch.equal(logits, before)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"temperature": 0.0}, "temperature must be > 0, got 0.0"),
        ({"temperature": -1.0}, "temperature must be > 0"),
        ({"temperature": math.inf}, "temperature must be a finite number"),
        ({"top_k": 0}, "top_k must be an int >= 1, got 0"),
        ({"top_k": 1.5}, "top_k must be an int >= 1"),
        ({"top_k": True}, "top_k must be an int >= 1"),
        ({"top_p": 0.0}, r"top_p must be in \(0, 1\], got 0.0"),
        ({"top_p": 1.2}, r"top_p must be in \(0, 1\], got 1.2"),
        ({"banned": [4]}, r"banned must hold token ids in \[0, 4\), got 4"),
        ({"banned": [-1]}, r"banned must hold token ids in \[0, 4\), got -1"),
        ({"banned": [0, 1, 2, 3]}, "no token left to choose in row 0"),
    ],
)
def test_filter_rejects_bad_options(kwargs, message):
    with pytest.raises(ValueError, match=message):
        filter_logits(PROBS.log(), **kwargs)


def test_filter_rejects_logits_that_are_not_a_batch():
    with pytest.raises(ValueError, match=r"logits must be a floating \(batch, vocab\) tensor"):
        filter_logits(torch.zeros(4))
    with pytest.raises(ValueError, match="logits must be a floating"):
        filter_logits(torch.zeros(1, 4, dtype=torch.long))


# ---- sampling --------------------------------------------------------------------------------
def draw(logits, n, seed=0, **options):
    """``n`` independent draws from one row of logits, as one batch."""
    g = torch.Generator().manual_seed(seed)
    return sample_next(logits.expand(n, -1), generator=g, **options)


def frequencies(tokens, vocab):
    return torch.bincount(tokens, minlength=vocab).double() / tokens.numel()


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, [0.15, 0.5, 0.1, 0.25]),
        ({"top_k": 2}, [0.0, 0.5 / 0.75, 0.0, 0.25 / 0.75]),
        ({"temperature": 0.5}, [p**2 / 0.345 for p in (0.15, 0.5, 0.1, 0.25)]),  # ∝ p ** 2
        ({"banned": [1]}, [0.3, 0.0, 0.2, 0.5]),
    ],
)
def test_sample_frequencies_match_the_distribution(options, expected):
    tokens = draw(PROBS.log(), 20_000, **options)
    error = (frequencies(tokens, 4) - torch.tensor(expected, dtype=torch.float64)).abs().max()
    assert error < 0.02  # the standard error of each frequency is at most 0.0036


def test_banned_ids_are_never_sampled():
    logits = torch.tensor([[0.0, 5.0, 0.0, 4.0, 0.0]])  # banned ones hold ~99% of the mass
    tokens = draw(logits, 20_000, banned=[1, 3])
    assert not torch.isin(tokens, torch.tensor([1, 3])).any()
    assert set(tokens.tolist()) == {0, 2, 4}
    assert sample_next(logits, greedy=True, banned=[1]).item() == 3


def test_same_seed_same_sample_different_seed_different_sample():
    step, table = bigram(random_probs(10, 10, seed=5))

    def sample(seed):
        g = torch.Generator().manual_seed(seed)
        return tokens_of(generate(step, None, table[[0]], max_new=40, eos_id=None, generator=g))

    assert torch.equal(sample(123), sample(123))
    assert not torch.equal(sample(123), sample(124))


def test_top_k_one_sampling_is_greedy():
    step, table = bigram(random_probs(9, 9, seed=6))
    first = table[[0, 4, 8]]
    greedy = tokens_of(generate(step, None, first, max_new=20, eos_id=None, greedy=True))
    g = torch.Generator().manual_seed(0)
    sampled = generate(step, None, first, max_new=20, eos_id=None, generator=g, top_k=1)
    assert torch.equal(tokens_of(sampled), greedy)


def test_low_temperature_approaches_greedy():
    logits = PROBS.log()
    argmax_share = []
    for temperature in (1.0, 0.5, 0.25, 0.1, 1e-3):
        share = (draw(logits, 20_000, temperature=temperature) == 1).double().mean().item()
        exact = (logits / temperature).softmax(-1)[0, 1].item()
        assert share == pytest.approx(exact, abs=0.02)
        argmax_share.append(share)
    assert argmax_share == sorted(argmax_share)
    assert argmax_share[-1] == 1.0


def test_greedy_ties_go_to_the_lowest_id():
    assert sample_next(torch.tensor([[1.0, 3.0, 3.0]]), greedy=True).tolist() == [1]


# ---- states --------------------------------------------------------------------------------
def test_select_state_reorders_the_batch_dim_of_every_field():
    h = torch.arange(2 * 3 * 4, dtype=torch.float32).view(2, 3, 4)  # (L, B, H)
    state = LSTMState(h, -h)
    index = torch.tensor([2, 0, 2, 1])
    out = select_state(state, index)
    assert isinstance(out, LSTMState)
    assert out.h.shape == (2, 4, 4)
    for new_row, old_row in enumerate([2, 0, 2, 1]):
        assert torch.equal(out.h[:, new_row], h[:, old_row])
        assert torch.equal(out.c[:, new_row], -h[:, old_row])


def test_select_state_handles_nested_states_and_none():
    y = torch.arange(6.0).view(1, 3, 2)
    state = {"enc": (RNNState(y), None), "dec": [JordanState(y + 10)]}
    out = select_state(state, torch.tensor([1]))
    assert out["enc"][1] is None and isinstance(out["enc"][0], RNNState)
    assert out["enc"][0].h.tolist() == [[[2.0, 3.0]]]
    assert out["dec"][0].y.tolist() == [[[12.0, 13.0]]]
    assert select_state(None, torch.tensor([0, 0])) is None


def test_repeat_state_puts_copies_of_a_row_side_by_side():
    h = torch.tensor([[[1.0], [2.0]], [[3.0], [4.0]]])  # (L=2, B=2, H=1)
    out = repeat_state(LSTMState(h, h * 10), 3)
    assert out.h[:, :, 0].tolist() == [[1, 1, 1, 2, 2, 2], [3, 3, 3, 4, 4, 4]]
    assert out.c[:, :, 0].tolist() == [[10, 10, 10, 20, 20, 20], [30, 30, 30, 40, 40, 40]]
    with pytest.raises(ValueError, match="n must be an int >= 1, got 0"):
        repeat_state(LSTMState(h, h), 0)


def test_select_state_errors_name_the_problem():
    with pytest.raises(ValueError, match="state tensors need the batch in dim 1"):
        select_state(RNNState(torch.zeros(3)), torch.tensor([0]))
    with pytest.raises(TypeError, match="got a leaf of type int"):
        select_state((torch.zeros(1, 2, 3), 7), torch.tensor([0]))
    with pytest.raises(ValueError, match="index must be a 1-D integer tensor"):
        select_state(RNNState(torch.zeros(1, 2, 3)), torch.tensor([0.0]))


# ---- a real rnnkit model -------------------------------------------------------------------
class TinyLM(nn.Module):
    """embedding -> rnnkit.Recurrent -> linear, with the step function decoding needs."""

    def __init__(self, cell, vocab=6, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.embed = nn.Embedding(vocab, 5)
        self.rnn = Recurrent(cell, input_size=5, hidden_size=8, num_layers=2)
        self.out = nn.Linear(self.rnn.output_size, vocab)
        self.double()

    def forward(self, tokens, state=None):  # tokens (B, T) -> logits (B, T, V), state
        outputs, state = self.rnn(self.embed(tokens), state=state)
        return self.out(outputs), state

    def step(self, tokens, state):  # tokens (B,) -> logits (B, V), state
        logits, state = self(tokens[:, None], state)
        return logits[:, 0], state

    reorder = staticmethod(select_state)

    def start(self, prompt):
        logits, state = self(torch.tensor([prompt]))
        return state, logits[:, -1]

    def logprob(self, prompt, tokens):
        """Teacher-forced log-probability of ``tokens`` after ``prompt``, in one forward."""
        seq = torch.tensor([[*prompt, *tokens]])
        logp = self(seq[:, :-1])[0].log_softmax(-1)[0, len(prompt) - 1 :]  # (len(tokens), V)
        return logp.gather(1, torch.tensor(tokens)[:, None]).sum().item()


@pytest.mark.parametrize("cell", ["lstm", "gru", "jordan"])
def test_real_recurrent_model_beam_scores_match_teacher_forcing(cell):
    lm = TinyLM(cell)
    prompt = [1, 4, 2]
    with torch.no_grad():
        state, first = lm.start(prompt)
        hyps = beam_search(lm.step, state, first, reorder=lm.reorder, beam=3, max_new=5, eos_id=0)
        for h in hyps:
            assert h.logprob == pytest.approx(lm.logprob(prompt, h.tokens), abs=1e-9)


def test_real_lstm_beam_of_one_is_greedy_and_wide_beam_is_exhaustive():
    lm = TinyLM("lstm", vocab=4, seed=1)
    prompt = [2, 3]
    with torch.no_grad():
        state, first = lm.start(prompt)
        assert isinstance(state, LSTMState) and state.h.shape == (2, 1, 8)
        greedy = tokens_of(generate(lm.step, state, first, max_new=6, eos_id=None, greedy=True))
        (best,) = beam_search(
            lm.step, state, first, reorder=lm.reorder, beam=1, max_new=6, eos_id=None
        )
        assert best.tokens == greedy[0].tolist()

        hyps = beam_search(
            lm.step,
            state,
            first,
            reorder=lm.reorder,
            beam=16,
            max_new=3,
            eos_id=None,
            length_penalty=0.0,
        )
        ranked = exhaustive(lambda s: lm.logprob(prompt, s), 4, 3)[:16]
    assert [h.tokens for h in hyps] == [s for _, s in ranked]
    assert [h.logprob for h in hyps] == pytest.approx([lp for lp, _ in ranked], abs=1e-9)


def test_real_lstm_sampling_streams_with_a_seed():
    lm = TinyLM("lstm", vocab=6, seed=2)
    with torch.no_grad():
        state, first = lm.start([1, 2])
        runs = []
        for _ in range(2):
            g = torch.Generator().manual_seed(11)
            out = generate(
                lm.step,
                repeat_state(state, 3),
                first.expand(3, -1),
                max_new=12,
                eos_id=None,
                generator=g,
                temperature=0.8,
                top_p=0.9,
                banned=[5],
            )
            runs.append(tokens_of(out))
    assert runs[0].shape == (3, 12)
    assert torch.equal(runs[0], runs[1])
    assert not (runs[0] == 5).any()
