"""What a language-modeling run is configured with: data, model, training."""

from __future__ import annotations

import dataclasses
from typing import Literal

from rnnkit.config import ConfigError, check_field_types, validate_fraction, validate_positive
from rnnkit.data.subword import ModelType
from rnnkit.models import LMModelConfig
from rnnkit.tasks.lm.tokens import Level
from rnnkit.training.config import StreamTrainConfig

__all__ = ["LMConfig", "LMDataConfig"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class LMDataConfig:
    """Which text, cut into which tokens, batched how.

    Attributes:
        dataset: A registry corpus (``tinyshakespeare``, ``ptb``, ``wikitext-2``).
        data: A UTF-8 text file instead of a dataset.
        valid: Validation text file for ``data`` (default: its last ``valid_fraction``).
        test: Test text file for ``data``.
        level: ``char``, ``word`` (whitespace tokens, ``<eos>`` at every line end) or
            ``subword`` (sentencepiece pieces of the words, ``<eos>`` at every line end).
        min_freq: Words seen fewer times in training become ``<unk>`` (char and word levels).
        max_vocab: Keep at most this many tokens (specials included); None keeps all (char
            and word levels).
        subword_vocab: Pieces of the subword model trained on the training text (subword
            level only).
        subword_model: ``unigram`` or ``bpe``, the subword model (subword level only).
        batch_size: Parallel streams in training (the text is cut into this many rows).
        eval_batch_size: Parallel streams for validation and evaluation.
        valid_fraction: Share of a single text held out for validation.
        reverse: Read every line from its end to its start (``<eos>`` still closes it, the
            lines keep their order): a backward model, which predicts each token from the
            ones after it. With a forward model of the same text it makes a bidirectional
            classifier (``rnnkit classify train --init-from-backward``).
    """

    dataset: str | None = None
    data: str | None = None
    valid: str | None = None
    test: str | None = None
    level: Level = "char"
    min_freq: int = 1
    max_vocab: int | None = None
    subword_vocab: int = 8000
    subword_model: ModelType = "unigram"
    batch_size: int = 20
    eval_batch_size: int = 10
    valid_fraction: float = 0.1
    reverse: bool = False

    def __post_init__(self) -> None:
        check_field_types(self)
        for name in ("min_freq", "subword_vocab", "batch_size", "eval_batch_size"):
            validate_positive(name, getattr(self, name))
        if self.max_vocab is not None:
            validate_positive("max_vocab", self.max_vocab)
        validate_fraction("valid_fraction", self.valid_fraction)
        self._check_level_options()

    def _check_level_options(self) -> None:
        """Options of one level are errors at another (never accepted and ignored).

        A field counts as set when it differs from its default.
        """
        subword = self.level == "subword"
        others = ("min_freq", "max_vocab") if subword else ("subword_vocab", "subword_model")
        for name in others:
            if getattr(self, name) != _DATA_DEFAULTS[name]:
                flag = "--" + name.replace("_", "-")
                hint = " (its vocabulary size is --subword-vocab)" if subword else ""
                raise ConfigError(
                    f"{flag} does not apply to --level {self.level}{hint}; "
                    f"got {getattr(self, name)!r}",
                    key=name,
                )


_DATA_DEFAULTS = {f.name: f.default for f in dataclasses.fields(LMDataConfig)}


@dataclasses.dataclass(frozen=True, kw_only=True)
class LMConfig:
    """A language-modeling run: data, model and training (the run's ``config.json``).

    Attributes:
        task: Always ``"lm"`` (how :func:`rnnkit.load` knows what a run directory holds).
        data: Corpus, tokens and batching.
        model: Embedding, recurrent stack and regularisation.
        train: Optimiser, schedule, truncation (``bptt``), stopping.
    """

    task: Literal["lm"] = "lm"
    data: LMDataConfig = dataclasses.field(default_factory=LMDataConfig)
    model: LMModelConfig = dataclasses.field(default_factory=LMModelConfig)
    train: StreamTrainConfig = dataclasses.field(default_factory=StreamTrainConfig)
