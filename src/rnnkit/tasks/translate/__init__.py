"""Translation (delayed many-to-many): ``rnnkit translate train|eval|predict``.

An encoder reads the whole source sentence, a decoder with its own weights writes the
target, feeding back each token it wrote, and attends to the source at every step. The
job's declaration is :data:`JOB` (:mod:`rnnkit.tasks.translate.job`); a trained run is a
:class:`TranslatorTask`.
"""

from rnnkit.tasks.translate.config import TranslateConfig, TranslateDataConfig
from rnnkit.tasks.translate.job import JOB, Translating, build_model, preset_config, train
from rnnkit.tasks.translate.presets import PRESETS
from rnnkit.tasks.translate.task import TranslatorTask

__all__ = [
    "JOB",
    "PRESETS",
    "TranslateConfig",
    "TranslateDataConfig",
    "Translating",
    "TranslatorTask",
    "build_model",
    "preset_config",
    "train",
]
