"""The linear-chain CRF against brute force: every tag sequence of tiny padded batches."""

from __future__ import annotations

import itertools

import pytest
import torch

from rnnkit.data.tags import end_allowed, start_allowed, transition_allowed
from rnnkit.models.crf import LinearChainCRF


@torch.no_grad()
def brute_force(crf: LinearChainCRF, emissions, length):
    """Every sequence of ``length`` tags with its score, by the formula written out."""
    e = emissions[:length]
    trans, start, end = crf._transitions(), crf._start(), crf._end()
    scored = []
    for seq in itertools.product(range(crf.num_tags), repeat=length):
        s = start[seq[0]] + sum(e[t, y] for t, y in enumerate(seq)) + end[seq[-1]]
        s = s + sum(trans[a, b] for a, b in itertools.pairwise(seq))
        scored.append((float(s), list(seq)))
    return scored


def random_crf(num_tags: int, seed: int, constrained: bool) -> LinearChainCRF:
    gen = torch.Generator().manual_seed(seed)
    allowed = torch.rand(num_tags, num_tags, generator=gen) > 0.3 if constrained else None
    start = torch.rand(num_tags, generator=gen) > 0.3 if constrained else None
    if constrained:
        allowed[:, 0] = start[0] = True  # at least one valid sequence of every length
        allowed[0, 0] = True
    crf = LinearChainCRF(num_tags, allowed=allowed, allowed_start=start).double()
    with torch.no_grad():
        for p in crf.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64))
    return crf


@pytest.mark.parametrize("constrained", [False, True], ids=["free", "constrained"])
@pytest.mark.parametrize("seed", [0, 1, 2])
@torch.no_grad()
def test_partition_viterbi_and_marginals_equal_brute_force(seed, constrained):
    crf = random_crf(3, seed, constrained)
    lengths = torch.tensor([4, 1, 3])
    emissions = torch.randn(3, 4, 3, generator=torch.Generator().manual_seed(seed + 9)).double()
    emissions[1, 1:] = 1e3  # padding may hold anything
    log_z = crf.log_partition(emissions, lengths)
    paths = crf.decode(emissions, lengths)
    marginals = crf.marginals(emissions, lengths)
    for b, length in enumerate(lengths.tolist()):
        scored = brute_force(crf, emissions[b], length)
        scores = torch.tensor([s for s, _ in scored], dtype=torch.float64)
        assert float(log_z[b]) == pytest.approx(float(torch.logsumexp(scores, 0)), abs=1e-9)
        best = max(scored)
        assert paths[b] == best[1]
        tags = torch.tensor([best[1] + [0] * (4 - length)])
        score = crf.score(emissions[b : b + 1], tags, lengths[b : b + 1])
        assert float(score[0]) == pytest.approx(best[0], abs=1e-9)
        probs = torch.softmax(scores, 0)
        for t in range(4):
            expected = torch.zeros(3, dtype=torch.float64)
            if t < length:
                for p, (_, seq) in zip(probs, scored, strict=True):
                    expected[seq[t]] += p
            torch.testing.assert_close(marginals[b, t], expected)


def test_nll_is_a_probability_and_trains():
    torch.manual_seed(0)
    crf = LinearChainCRF(4)
    emissions = torch.randn(2, 5, 4, requires_grad=True)
    tags = torch.randint(0, 4, (2, 5))
    lengths = torch.tensor([5, 3])
    nll = crf.nll(emissions, tags, lengths)
    assert (nll > 0).all()
    nll.sum().backward()
    assert emissions.grad[1, 3:].abs().sum() == 0  # padding gets no gradient
    assert crf.transitions.grad.abs().sum() > 0


def test_a_scheme_constrained_crf_never_decodes_an_invalid_sequence():
    tags = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    allowed = torch.tensor([[transition_allowed(a, b, "BIO") for b in tags] for a in tags])
    start = torch.tensor([start_allowed(t, "BIO") for t in tags])
    end = torch.tensor([end_allowed(t, "BIO") for t in tags])
    crf = LinearChainCRF(len(tags), allowed=allowed, allowed_start=start, allowed_end=end)
    torch.manual_seed(0)
    emissions = torch.randn(64, 7, len(tags)) * 5
    emissions[..., 2] += 3  # the encoder loves I-PER, wherever it is
    for path in crf.decode(emissions):
        assert path[0] != 2 and path[0] != 4
        assert all(bool(allowed[a, b]) for a, b in itertools.pairwise(path)), path
    probs = crf.marginals(emissions).detach()
    assert float(probs[:, 0, 2].max()) < 1e-6  # no mass on I-PER as a first tag


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match=r"emissions must be \(batch, time, 3\)"):
        LinearChainCRF(3).decode(torch.zeros(2, 4, 5))
    with pytest.raises(ValueError, match=r"allowed must have shape \(3, 3\)"):
        LinearChainCRF(3, allowed=torch.ones(2, 2, dtype=torch.bool))
