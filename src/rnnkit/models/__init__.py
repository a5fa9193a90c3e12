"""What maps sequences to what: language models, classifiers, forecasters, and the blocks
they share (token embedding, length masks, pooling, attention, decoding).

Each model is an ``nn.Module`` built around :class:`rnnkit.Recurrent` from the shared blocks,
so that no model reaches into another: :mod:`~rnnkit.models.embedding`,
:mod:`~rnnkit.models.masks`, :mod:`~rnnkit.models.pooling`, :mod:`~rnnkit.models.attention`,
:mod:`~rnnkit.models.crf`;
decoding algorithms (sampling, beam search) live in :mod:`rnnkit.models.decoding`.
"""

from rnnkit.models.forecaster import Forecaster, ForecasterModelConfig
from rnnkit.models.language_model import LanguageModel, LMModelConfig

__all__ = ["Forecaster", "ForecasterModelConfig", "LMModelConfig", "LanguageModel"]
