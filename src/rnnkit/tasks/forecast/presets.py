"""Set-ups for the benchmark series on a 2-core CPU (nested dicts merged over the defaults;
flags still win). docs/benchmarks.md has their figures."""

from __future__ import annotations

from typing import Any

__all__ = ["PRESETS"]


def _segment_gru(size: int, segment: int, dropout: float) -> dict[str, Any]:
    return {
        "kind": "segment",
        "segment_length": segment,
        "channel_independent": True,
        "normalize": "last",
        "head_dropout": dropout,
        "rnn": {"cell": "gru", "hidden_size": size},
    }


# Set-ups for the benchmark series on a 2-core CPU (nested dicts merged over the defaults;
# flags still win). docs/benchmarks.md has their figures.
PRESETS: dict[str, dict[str, Any]] = {
    # LTSF protocol (look-back 336, horizon 96); SegRNN's ETT set-up (Lin et al. 2023:
    # GRU 512, segments of 48, dropout 0.5, Adam 1e-3, batch 256).
    "etth1": {
        "data": {"dataset": "etth1", "lookback": 336, "horizon": 96, "batch_size": 256},
        "model": _segment_gru(512, 48, 0.5),
        "train": {"epochs": 30, "lr": 1e-3, "patience": 5, "max_time": "10m"},
    },
    # Next week's daily totals from the last four weeks: a GRU read of the four weeks and a
    # linear head for the seven days (the segment model and an LSTM were 1-2% worse here).
    "household-power-daily": {
        "data": {"dataset": "household-power-daily", "lookback": 28, "horizon": 7},
        "model": {**_segment_gru(64, 7, 0.3), "kind": "direct", "normalize": "mean"},
        "train": {"epochs": 60, "lr": 1e-3, "patience": 10},
    },
    # Monthly passengers, 12 months ahead from 2 years; log scale for the growing seasons.
    "airline": {
        "data": {
            "dataset": "airline",
            "lookback": 24,
            "horizon": 12,
            "transform": "log",
            "batch_size": 16,
        },
        "model": _segment_gru(32, 12, 0.1),
        "train": {"epochs": 200, "lr": 1e-3, "patience": 30},
    },
}
