"""Set-ups for the benchmark datasets on a 2-core CPU (nested dicts merged over the defaults;
flags still win)."""

from __future__ import annotations

from typing import Any

__all__ = ["PRESETS"]


def _bilstm(data: dict[str, Any], size: int, dropout: float, train: dict[str, Any]) -> dict:
    return {
        "data": data,
        "model": {
            "embedding_size": size,
            "pooling": "max",
            "rnn": {"cell": "lstm", "hidden_size": size, "bidirectional": True, "dropout": dropout},
        },
        "train": {"optimizer": "adam", "clip_norm": 5.0, **train},
    }


# Set-ups for the benchmark datasets on a 2-core CPU (nested dicts merged over the defaults;
# flags still win). Max pooling over a BiLSTM (Conneau et al. 2017) learned fastest of the
# poolings in our runs; docs/benchmarks.md has the figures.
PRESETS: dict[str, dict[str, Any]] = {
    # IMDB: 25k reviews of 230 words on average; keep the first 100 and last 300 words.
    "imdb": _bilstm(
        {
            "dataset": "imdb",
            "max_vocab": 30_000,
            "max_len": 400,
            "truncate": "head+tail",
            "batch_size": 64,
        },
        size=128,
        dropout=0.3,
        train={"lr": 2e-3, "epochs": 8, "max_time": "20m"},
    ),
    # SST-2 (GLUE): 67k phrases and sentences, 9 words on average; dev is the reported set.
    "sst2": _bilstm(
        {"dataset": "sst2", "max_len": None, "batch_size": 64},
        size=128,
        dropout=0.5,
        train={"lr": 2e-3, "epochs": 8, "max_time": "20m"},
    ),
}
