"""What a classification run is configured with: data, preprocessing, model, training."""

from __future__ import annotations

import dataclasses
from typing import Literal

from rnnkit.data.text import TextConfig
from rnnkit.models.classifier import ClassifierModelConfig
from rnnkit.tasks.classify.data import ClassifyDataConfig
from rnnkit.tasks.common.text_init import AUTO, TextInitConfig
from rnnkit.training.config import TrainConfig

__all__ = ["ClassifyConfig"]


def _train_defaults() -> TrainConfig:
    # Accuracy decides which epoch's weights are kept (the loss can rise while accuracy
    # still improves, as the model grows confident).
    return TrainConfig(epochs=10, lr=2e-3, monitor="val_acc", mode="max")


def _model_defaults() -> ClassifierModelConfig:
    # A new run stacks its network on the TF-IDF baseline (rnnkit.tasks.classify.stacking),
    # with embeddings of GloVe's width: the model's own defaults stay as they were, so runs
    # saved before these defaults load as they trained.
    return ClassifierModelConfig(stacked=True, embedding_size=50)


def _init_defaults() -> TextInitConfig:
    # GloVe 6B 50d when the glove extra is installed (and the embedding is 50 wide).
    return TextInitConfig(embeddings=AUTO)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ClassifyConfig:
    """A classification run: data, preprocessing, model, training (the run's ``config.json``).

    Attributes:
        task: Always ``"classify"``.
        data: Examples, columns, truncation and batching.
        text: The preprocessing pipeline (text inputs).
        model: Embedding or input projection, recurrent stack, pooling, head.
        init: Pretrained embeddings, or a language model to start from.
        train: Optimiser, schedule, stopping.
    """

    task: Literal["classify"] = "classify"
    data: ClassifyDataConfig = dataclasses.field(default_factory=ClassifyDataConfig)
    text: TextConfig = dataclasses.field(default_factory=TextConfig)
    model: ClassifierModelConfig = dataclasses.field(default_factory=_model_defaults)
    init: TextInitConfig = dataclasses.field(default_factory=_init_defaults)
    train: TrainConfig = dataclasses.field(default_factory=_train_defaults)
