"""What maps sequences to what: language models, classifiers, taggers, forecasters, seq2seq.

Each model is an ``nn.Module`` built around :class:`rnnkit.Recurrent`; decoding algorithms
(sampling, beam search) live in :mod:`rnnkit.models.decoding`.
"""

from rnnkit.models.forecaster import Forecaster, ForecasterModelConfig
from rnnkit.models.language_model import LanguageModel, LMModelConfig

__all__ = ["Forecaster", "ForecasterModelConfig", "LMModelConfig", "LanguageModel"]
