"""Published language-modeling set-ups (nested dicts merged over the defaults; flags win)."""

from __future__ import annotations

from typing import Any

__all__ = ["PRESETS"]


def _preset(data: dict, model: dict, rnn: dict, train: dict) -> dict[str, Any]:
    return {"data": data, "model": {**model, "rnn": rnn}, "train": train}


def _zaremba(size: int, dropout: float, epochs: int, decay: float, after: int) -> dict[str, Any]:
    """Zaremba et al. (2014)'s PTB set-up: 2 LSTM layers of ``size``, SGD, clip 5, 35 steps.

    Their loss is summed over the 35 steps (and averaged over the batch); ours is the mean
    over all tokens, so its gradient is 1/35 of theirs. The same updates need lr 1 * 35 and a
    clipping threshold of 5 / 35: ``lr * clip(g_sum, 5) == 35 * clip(g_sum / 35, 5 / 35)``.
    """
    return _preset(
        {"dataset": "ptb", "level": "word", "batch_size": 20, "eval_batch_size": 10},
        {"embedding_size": size},
        {"cell": "lstm", "hidden_size": size, "num_layers": 2, "dropout": dropout},
        {
            "optimizer": "sgd",
            "lr": 35.0,
            "clip_norm": 5.0 / 35,
            "epochs": epochs,
            "schedule": "step",
            "lr_decay": decay,
            "decay_after": after,
            "bptt": 35,
        },
    )


# Published set-ups (nested dicts merged over the defaults; flags still win).
PRESETS: dict[str, dict[str, Any]] = {
    # Zaremba et al. 2014, "small" (non-regularised): 2x200 LSTM, 35 steps, batch 20, SGD lr 1,
    # clip 5, 13 epochs, halve the rate after epoch 4. Reported test perplexity 114.5.
    "ptb-small": _zaremba(size=200, dropout=0.0, epochs=13, decay=0.5, after=4),
    # Zaremba et al. 2014, "medium": 2x650 LSTM, dropout 0.5, 39 epochs, decay 1/1.2 after
    # epoch 6. Reported test perplexity 82.7.
    "ptb-medium": _zaremba(size=650, dropout=0.5, epochs=39, decay=1 / 1.2, after=6),
    # Character-level Shakespeare (char-rnn style): 2x512 LSTM with dropout, Adam.
    "shakespeare-char": _preset(
        {"dataset": "tinyshakespeare", "level": "char", "batch_size": 32, "eval_batch_size": 32},
        {"embedding_size": 128},
        {"cell": "lstm", "hidden_size": 512, "num_layers": 2, "dropout": 0.2},
        {
            "optimizer": "adam",
            "lr": 2e-3,
            "clip_norm": 5.0,
            "epochs": 20,
            "bptt": 100,
            "schedule": "plateau",
            "lr_decay": 0.5,
            "plateau_patience": 0,
        },
    ),
    # WikiText-2 on a CPU: its 33k-word vocabulary makes a full softmax cost more than the
    # LSTM (1,000 tokens/s), so the output is an adaptive softmax (Grave et al. 2017) with
    # clusters at the 2,000th and 10,000th most frequent words. 2x256 LSTM, dropout, Adam.
    "wikitext2": _preset(
        {"dataset": "wikitext-2", "level": "word", "batch_size": 32, "eval_batch_size": 10},
        {"embedding_size": 256, "embedding_dropout": 0.1, "adaptive_cutoffs": [2000, 10000]},
        {"cell": "lstm", "hidden_size": 256, "num_layers": 2, "dropout": 0.3},
        {
            "optimizer": "adam",
            "lr": 2e-3,
            "clip_norm": 0.25,
            "epochs": 40,
            "bptt": 35,
            "schedule": "plateau",
            "lr_decay": 0.5,
            "plateau_patience": 0,
            "max_time": "30m",
        },
    ),
    # A few minutes on 2 CPU cores: a 1x256 LSTM on tinyshakespeare, stopped by time.
    "demo": _preset(
        {"dataset": "tinyshakespeare", "level": "char", "batch_size": 32, "eval_batch_size": 32},
        {"embedding_size": 64},
        {"cell": "lstm", "hidden_size": 256, "num_layers": 1, "dropout": 0.0},
        {
            "optimizer": "adam",
            "lr": 3e-3,
            "clip_norm": 5.0,
            "epochs": 100,
            "bptt": 64,
            "max_time": "3m",
            "log_every": 50,
        },
    ),
}
