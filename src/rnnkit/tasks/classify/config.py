"""What a classification run is configured with: data, preprocessing, model, training."""

from __future__ import annotations

import dataclasses
from typing import Literal

from rnnkit.data.text import TextConfig
from rnnkit.models.classifier import ClassifierModelConfig
from rnnkit.tasks.classify.data import ClassifyDataConfig
from rnnkit.tasks.common.text_init import TextInitConfig
from rnnkit.training.config import TrainConfig

__all__ = ["ClassifyConfig"]


def _train_defaults() -> TrainConfig:
    # Accuracy decides which epoch's weights are kept (the loss can rise while accuracy
    # still improves, as the model grows confident).
    return TrainConfig(epochs=10, lr=2e-3, monitor="val_acc", mode="max")


def _model_defaults() -> ClassifierModelConfig:
    # A new run stacks its network on the TF-IDF baseline (rnnkit.tasks.classify.stacking);
    # the model's own default stays off, so runs saved before stacking load as they trained.
    return ClassifierModelConfig(stacked=True)


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
    init: TextInitConfig = dataclasses.field(default_factory=TextInitConfig)
    train: TrainConfig = dataclasses.field(default_factory=_train_defaults)
