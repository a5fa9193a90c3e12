"""Sequence tagging (synced many-to-many): ``rnnkit tag train|eval|predict``.

One label per step: named entities in text (CoNLL-2003; IOB1, BIO, BIOES), any per-word
labels (parts of speech), or the label of each step of a numeric sequence. The job's
declaration is :data:`JOB` (:mod:`rnnkit.tasks.tag.job`); a trained run is a
:class:`TaggerTask`.
"""

from rnnkit.tasks.tag.config import TagConfig, TagDataConfig, TagInitConfig
from rnnkit.tasks.tag.job import JOB, Tagging, build_model, preset_config, resume_config, train
from rnnkit.tasks.tag.presets import PRESETS
from rnnkit.tasks.tag.task import TagArtifacts, TaggerTask
from rnnkit.tasks.tag.tokens import Token, tokenize

__all__ = [
    "JOB",
    "PRESETS",
    "TagArtifacts",
    "TagConfig",
    "TagDataConfig",
    "TagInitConfig",
    "TaggerTask",
    "Tagging",
    "Token",
    "build_model",
    "preset_config",
    "resume_config",
    "tokenize",
    "train",
]
