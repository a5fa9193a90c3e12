"""Set-ups for the benchmark datasets on a 2-core CPU (nested dicts merged over the defaults;
flags still win)."""

from __future__ import annotations

from typing import Any

__all__ = ["PRESETS"]

PRESETS: dict[str, dict[str, Any]] = {
    # Multi30k English to German on the organisers' raw sentences: separate 5,000-piece
    # unigram vocabularies, a one-layer BiLSTM encoder of 256 per direction, an LSTM decoder
    # of 512 with general attention and input feeding (Luong et al. 2015), dropout 0.3,
    # label smoothing 0.1.
    "multi30k": {"data": {"dataset": "multi30k", "src": "en", "tgt": "de"}},
    # Tatoeba's English-French pairs (deduplicated, seeded 5,000-pair test split): the same
    # model; batches of 128 pairs because the sentences are short (6-7 words against
    # Multi30k's 12), so a step of 64 would leave the cores waiting on per-step overhead.
    "eng-fra": {"data": {"dataset": "eng-fra", "src": "en", "tgt": "fr", "batch_size": 128}},
}
