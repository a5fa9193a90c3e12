"""Entity-level scores of a tagger: hand-computed cases, and seqeval's numbers against a
count of the very spans, whatever the scheme."""

from __future__ import annotations

import random

import pytest

from rnnkit.config import ConfigError
from rnnkit.data.tags import convert, spans
from rnnkit.tasks.tag.metrics import MISSED, SPURIOUS, tagging_report


def test_hand_computed_scores():
    true = [["B-PER", "I-PER", "O", "B-LOC", "O"], ["B-ORG", "I-ORG", "I-ORG"]]
    pred = [["B-PER", "I-PER", "O", "B-ORG", "O"], ["B-ORG", "I-ORG", "O"]]
    report = tagging_report(true, pred, "BIO")
    # true: PER, LOC, ORG(0-3); predicted: PER, ORG(3), ORG(0-2): one of three right.
    assert report.overall[:2] == pytest.approx((1 / 3, 1 / 3))
    assert report.overall.f1 == pytest.approx(1 / 3) and report.overall.support == 3
    assert report.per_type["PER"].f1 == 1.0 and report.per_type["LOC"].recall == 0.0
    assert report.per_type["ORG"].predicted == 2 and report.per_type["ORG"].precision == 0.0
    assert report.token_accuracy == pytest.approx(6 / 8)
    assert report.confusion == {
        "LOC": {"ORG": 1},
        "ORG": {MISSED: 1},
        "PER": {"PER": 1},
        SPURIOUS: {"ORG": 1},
    }


def test_nothing_predicted_scores_zero_and_misaligned_input_is_refused():
    report = tagging_report([["I-PER"]], [["O"]], "IOB1")
    assert report.overall.f1 == 0.0 and report.overall.predicted == 0
    with pytest.raises(ConfigError, match="sentence 0: expected 2 predicted tags, got 1"):
        tagging_report([["O", "O"]], [["O"]], "BIO")


@pytest.mark.parametrize("scheme", ["IOB1", "BIO", "BIOES"])
def test_scores_equal_a_count_of_spans_in_every_scheme(scheme):
    rng = random.Random(0)
    tags = ["O", "B-A", "I-A", "B-B", "I-B"]
    true, pred = [], []
    for _ in range(200):
        n = rng.randint(1, 8)
        t = convert([rng.choice(tags) for _ in range(n)], "BIO", scheme)  # valid in scheme
        noisy = [x if rng.random() < 0.7 else rng.choice(tags) for x in convert(t, scheme, "BIO")]
        true.append(t)
        pred.append(convert(noisy, "BIO", scheme))  # a tagger's invalid output, read leniently
    report = tagging_report(true, pred, scheme)
    hit = sum(
        len(set(spans(a, scheme)) & set(spans(b, scheme))) for a, b in zip(true, pred, strict=True)
    )
    n_true = sum(len(spans(a, scheme)) for a in true)
    n_pred = sum(len(spans(b, scheme)) for b in pred)
    assert report.overall.precision == pytest.approx(hit / n_pred)
    assert report.overall.recall == pytest.approx(hit / n_true)
