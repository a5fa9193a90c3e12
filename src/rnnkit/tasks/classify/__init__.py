"""Sequence classification (many-to-one): ``rnnkit classify train|eval|predict``.

Text (sentiment, topics) or numeric sequences (sensor traces) in, one label out. The job's
declaration is :data:`JOB` (:mod:`rnnkit.tasks.classify.job`); a trained run is a
:class:`ClassifierTask`, and several runs of the same classes a
:class:`~rnnkit.tasks.classify.ensemble.ClassifierEnsemble`.
"""

from rnnkit.tasks.classify.batches import ClassifyObjective, Encoded, collate, make_batches
from rnnkit.tasks.classify.config import ClassifyConfig
from rnnkit.tasks.classify.job import (
    JOB,
    Classification,
    ClassifierArtifacts,
    build_model,
    preset_config,
    resume_config,
    train,
)
from rnnkit.tasks.classify.presets import PRESETS
from rnnkit.tasks.classify.task import (
    ClassifierTask,
    Prediction,
    accuracy_interval,
    label_ids,
    predictions,
    score_probabilities,
)
from rnnkit.tasks.common.text_init import TextInitConfig

__all__ = [
    "JOB",
    "PRESETS",
    "ClassifierArtifacts",
    "ClassifierTask",
    "Classification",
    "ClassifyConfig",
    "ClassifyObjective",
    "Encoded",
    "Prediction",
    "TextInitConfig",
    "accuracy_interval",
    "build_model",
    "collate",
    "label_ids",
    "make_batches",
    "predictions",
    "preset_config",
    "resume_config",
    "score_probabilities",
    "train",
]
