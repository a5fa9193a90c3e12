"""A small word-level language model of a corpus, for the tests of models that start from one
(``--init-from``): the classifier's and the tagger's."""

from __future__ import annotations

from pathlib import Path

from rnnkit.config import StackConfig
from rnnkit.models import LMModelConfig
from rnnkit.tasks import lm
from rnnkit.training.config import StreamTrainConfig


def train_word_lm(
    corpus: Path, out: Path, *, reverse: bool = False, max_vocab: int | None = None
) -> Path:
    """A word-level LM of ``corpus`` (embedding 16, 2 LSTM layers of 20), one epoch, forward
    or backward (``reverse``); returns the run directory."""
    data = lm.LMDataConfig(
        data=str(corpus),
        level="word",
        batch_size=8,
        eval_batch_size=4,
        reverse=reverse,
        max_vocab=max_vocab,
    )
    config = lm.LMConfig(
        data=data,
        model=LMModelConfig(
            embedding_size=16,
            rnn=StackConfig(cell="lstm", hidden_size=20, num_layers=2),
        ),
        train=StreamTrainConfig(epochs=1, lr=3e-3, bptt=20, log_every=1000),
    )
    lm.train(config, out)
    return out
