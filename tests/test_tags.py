"""rnnkit.data.tags and rnnkit.data.tagged: tag schemes against brute force, conversions on the
real CoNLL-2003 files, and the readers' errors."""

from __future__ import annotations

import gzip
import itertools
import json
from pathlib import Path

import pytest

from rnnkit.data.errors import DataError
from rnnkit.data.tagged import read_tagged
from rnnkit.data.tags import (
    SCHEMES,
    Span,
    convert,
    detect_scheme,
    end_allowed,
    invalid_at,
    spans,
    start_allowed,
    to_tags,
    transition_allowed,
)

TYPES = ("A", "B")


def tag_set(scheme: str) -> list[str]:
    prefixes = {"IOB1": "IB", "BIO": "IB", "BIOES": "BIES"}[scheme]
    return ["O", *(f"{p}-{t}" for p in prefixes for t in TYPES)]


def all_sequences(scheme: str, most: int = 4):
    for length in range(1, most + 1):
        yield from itertools.product(tag_set(scheme), repeat=length)


def all_span_sets(length: int):
    """Every set of non-overlapping typed spans over ``length`` tokens."""

    def rest(start: int):
        if start >= length:
            yield []
            return
        yield from rest(start + 1)  # token ``start`` outside
        for end in range(start + 1, length + 1):
            for kind in TYPES:
                for tail in rest(end):
                    yield [Span(kind, start, end), *tail]

    yield from rest(0)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_valid_means_the_canonical_writing_of_its_entities(scheme):
    """A sequence is valid exactly when it is how its entities are written (brute force over
    every sequence of up to 4 tags), and validity is its neighbours' constraints."""
    for seq in all_sequences(scheme):
        seq = list(seq)
        canonical = to_tags(spans(seq, scheme), len(seq), scheme) == seq
        assert (invalid_at(seq, scheme) is None) == canonical, seq
        local = (
            start_allowed(seq[0], scheme)
            and end_allowed(seq[-1], scheme)
            and all(transition_allowed(a, b, scheme) for a, b in itertools.pairwise(seq))
        )
        assert local == canonical, seq


@pytest.mark.parametrize("length", [1, 2, 3, 4, 5])
def test_every_set_of_entities_round_trips_through_every_scheme(length):
    for entities in all_span_sets(length):
        written = {s: to_tags(entities, length, s) for s in SCHEMES}
        for source, target in itertools.permutations(SCHEMES, 2):
            assert spans(written[source], source) == entities
            assert invalid_at(written[source], source) is None
            assert convert(written[source], source, target) == written[target]


def test_invalid_sequences_are_read_as_conlleval_reads_them():
    assert spans(["O", "I-PER", "I-PER", "I-LOC"], "BIO") == [
        Span("PER", 1, 3),
        Span("LOC", 3, 4),
    ]
    assert invalid_at(["O", "I-PER"], "BIO") == 1
    assert invalid_at(["B-PER", "I-PER"], "BIOES") == 2  # left open at the end
    assert invalid_at(["B-PER"], "IOB1") == 0  # IOB1's B only after its own type


def test_scheme_detection():
    assert detect_scheme([["I-ORG", "O"], ["B-PER", "I-PER"]]) == "IOB1"
    assert detect_scheme([["B-ORG", "I-ORG", "O", "B-LOC"]]) == "BIO"
    assert detect_scheme([["B-ORG", "E-ORG", "S-LOC"]]) == "BIOES"
    assert detect_scheme([["O", "O"]]) == "BIO"


@pytest.mark.real_data
def test_conll2003_converts_losslessly_both_ways(real_data):
    corpus = read_tagged(real_data / "conll2003" / "eng.testa")
    assert corpus.scheme == "IOB1" and len(corpus.sentences) == 3250
    entities = [spans(s.tags, "IOB1") for s in corpus.sentences]
    # The published count of eng.testa's entities (Tjong Kim Sang & De Meulder 2003, Table 2).
    assert sum(map(len, entities)) == 5942
    for sentence, found in zip(corpus.sentences, entities, strict=True):
        for target in ("BIO", "BIOES"):
            written = convert(sentence.tags, "IOB1", target)
            assert spans(written, target) == found
            assert convert(written, target, "IOB1") == sentence.tags


# --- the readers ---------------------------------------------------------------------------


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_columns_tabs_and_jsonl_read_the_same_sentences(tmp_path):
    conll = write(tmp_path / "a.conll", "-DOCSTART- -X- O O\n\nNew NNP B-NP B-LOC\n"
                  "York NNP I-NP I-LOC\n\nhi UH O O\n")  # fmt: skip
    tsv = write(tmp_path / "a.tsv", "New York\tB-LOC\ncity\tO\n\n")
    records = [
        {"tokens": ["New", "York"], "tags": ["B-LOC", "I-LOC"]},
        {"tokens": ["hi"], "tags": ["O"]},
    ]
    jsonl = write(tmp_path / "a.jsonl", "\n\n".join(json.dumps(r) for r in records) + "\n")
    first = read_tagged(conll)
    assert first.scheme == "BIO" and [s.tokens for s in first.sentences] == [
        ["New", "York"],
        ["hi"],
    ]
    assert first.sentences[0].lines == [3, 4]
    assert read_tagged(tsv).sentences[0].tokens == ["New York", "city"]  # spaces kept
    assert [s.tags for s in read_tagged(jsonl).sentences] == [s.tags for s in first.sentences]
    gz = tmp_path / "b.jsonl.gz"
    gz.write_bytes(gzip.compress(jsonl.read_bytes()))
    assert read_tagged(gz).sentences == read_tagged(jsonl).sentences


@pytest.mark.parametrize(
    ("name", "text", "scheme", "match"),
    [
        ("c.conll", "EU NNP I-ORG\nrejects VBZ\n", None, r"c\.conll:2: expected 3 whitespace"),
        ("c.tsv", "EU\tB-ORG\n\tO\n", None, r"c\.tsv:2: empty token"),
        ("c.conll", "EU S-ORG\n", "BIO", r"c\.conll:1: field 'tag': expected O, I-TYPE, B-TYPE in"),
        ("c.conll", "x O\nEU I-ORG\n", "BIO", r":2: 'I-ORG' cannot follow 'O' in scheme BIO"),
        ("c.conll", "EU B-ORG\n", "BIOES", r":1: the sentence ends inside an entity"),
        ("c.jsonl", '{"tokens": ["a"], "tags": []}\n', None, r":1: expected as many tags"),
        ("c.jsonl", '{"tokens": ["a"]\n', None, r"c\.jsonl:1: invalid JSON"),
        ("c.jsonl", '{"words": ["a"]}\n', None, r"expected \{\"tokens\""),
        ("c.jsonl", '{"tokens": [" "], "tags": ["O"]}\n', None, r":1: field 'tokens': empty token"),
        ("c.conll", "\n-DOCSTART- O\n\n", None, r"no tagged sentence"),
    ],
)
def test_a_malformed_file_names_its_file_line_and_problem(tmp_path, name, text, scheme, match):
    with pytest.raises(DataError, match=match):
        read_tagged(write(tmp_path / name, text), scheme=scheme)
