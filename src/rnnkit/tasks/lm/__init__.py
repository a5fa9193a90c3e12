"""Language modeling and text generation: ``rnnkit lm train|eval|score|next|sample``.

Three levels of tokens: ``char``, ``word`` (whitespace words) and ``subword`` (pieces of a
sentencepiece model trained on the training text, :mod:`rnnkit.data.subword`; the run keeps
it as ``tokenizer.model`` next to ``vocab.json``). Word and subword lines end with ``<eos>``.

Probabilities are conditioned on a start context: the ``<eos>`` token for word- and
subword-level models (every line of the corpus ended with one, so it marks "a sentence begins
here") and a newline for character-level models.

The job's declaration is :data:`JOB` (:mod:`rnnkit.tasks.lm.job`); a trained run is a
:class:`LanguageModelTask`.
"""

from rnnkit.tasks.lm.batches import LMBatch, LMObjective, cross_entropy_sum, stream_batches
from rnnkit.tasks.lm.config import LMConfig, LMDataConfig
from rnnkit.tasks.lm.job import (
    JOB,
    LanguageModeling,
    build_model,
    preset_config,
    resume_config,
    split_text,
    token_unit,
    train,
)
from rnnkit.tasks.lm.presets import PRESETS
from rnnkit.tasks.lm.task import LanguageModelTask, ScoredText
from rnnkit.tasks.lm.tokens import EOS, UNK, Level, reverse_lines, text_tokens

__all__ = [
    "EOS",
    "JOB",
    "PRESETS",
    "UNK",
    "LMBatch",
    "LMConfig",
    "LMDataConfig",
    "LMObjective",
    "LanguageModelTask",
    "LanguageModeling",
    "Level",
    "ScoredText",
    "build_model",
    "cross_entropy_sum",
    "preset_config",
    "resume_config",
    "reverse_lines",
    "split_text",
    "stream_batches",
    "text_tokens",
    "token_unit",
    "train",
]
