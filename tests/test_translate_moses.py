"""Multi30k's tokenised lower-cased BLEU for runs trained on raw sentences
(rnnkit.tasks.translate.moses): our tokenisation of raw text must give the organisers'
``tok`` files, or the figure would not be comparable with the published ones."""

from __future__ import annotations

import pytest

from rnnkit.tasks.translate.config import TranslateDataConfig
from rnnkit.tasks.translate.data import load_test, tokenised_references
from rnnkit.tasks.translate.moses import organisers_tokenise, tokenised_bleu


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        # hyphens stay inside words (no aggressive splitting), XML characters are escaped
        (
            'A man\'s dog-walker said "hi" -- twice.',
            "en",
            "a man &apos;s dog-walker said &quot; hi &quot; -- twice .",
        ),
        (
            "Zwei Männer (im Regen) vor einem U-Bahn-Eingang.",
            "de",
            "zwei männer ( im regen ) vor einem u-bahn-eingang .",
        ),
        # French elision keeps the apostrophe on the article; guillemets become quotes
        ("L'homme  «rit» !", "fr", "l&apos; homme &quot; rit &quot; !"),
    ],
)
def test_organisers_tokenisation(text, lang, expected):
    assert organisers_tokenise(text, lang) == expected


def test_tokenised_bleu_of_the_references_themselves_is_100():
    references = ["a man &apos;s dog runs on the grass .", "two women walk down a road ."]
    hypotheses = ["A man's dog runs on the grass.", "Two women walk down a road."]
    assert tokenised_bleu(hypotheses, references, "en") == pytest.approx(100.0)
    assert tokenised_bleu(["A dog.", "Two women."], references, "en") < 50


def test_references_only_for_multi30k_raw_runs():
    assert tokenised_references(TranslateDataConfig(data="pairs.tsv")) is None
    tok = TranslateDataConfig(dataset="multi30k", form="tok")
    assert tokenised_references(tok) is None  # its own references are already tokenised


@pytest.mark.parametrize("lang", ["en", "de", "fr"])
def test_raw_test_sentences_tokenise_to_the_organisers_files(real_data, lang):
    config = TranslateDataConfig(dataset="multi30k", src="en" if lang != "en" else "de", tgt=lang)
    raw = load_test(config, "test_2016_flickr").tgt
    organisers = tokenised_references(config, "test_2016_flickr")
    assert organisers is not None and len(organisers) == len(raw) == 1_000
    same = sum(organisers_tokenise(r, lang) == t for r, t in zip(raw, organisers, strict=True))
    assert same >= 999, f"{same}/1000 lines as the organisers tokenised them"
