"""``SequenceClassifier``: a sequence in, one label out (the material's many-to-one).

Tokens go through an embedding, numeric steps (sensor traces, metrics) through a linear input
projection; then any rnnkit recurrent stack reads the sequence, a pooling step
(:mod:`rnnkit.models.pooling`) turns its outputs ``o_1 .. o_T`` into one vector ``u``, and a
linear head gives the class scores:

    e_t = E[x_t]  (tokens)   or   e_t = x_t W_inᵀ + b_in  (numeric, x_t ∈ R^F)
    o_1 .. o_T = Recurrent(e_1 .. e_T)                       o_t ∈ R^(D*H)
    u = pool(o_1 .. o_T)
    p(y | x) = softmax(u W_outᵀ + b_out + s)

``s`` is an optional offset per class given with the inputs, zero when absent: a stacked
classifier (:mod:`rnnkit.tasks.classify.stacking`) adds a TF-IDF model's log-probabilities
there, and its head starts at zero so that training starts from that model's predictions.
"""

from __future__ import annotations

import dataclasses

from torch import Tensor, nn

from rnnkit.config import (
    ConfigError,
    StackConfig,
    check_field_types,
    validate_choice,
    validate_fraction,
    validate_positive,
)
from rnnkit.layers import Recurrent
from rnnkit.models.embedding import TokenEmbedding
from rnnkit.models.pooling import POOLINGS, AttentionPooling, Pooling, pool

__all__ = ["ClassifierModelConfig", "SequenceClassifier"]


def _default_rnn() -> StackConfig:
    return StackConfig(cell="lstm", hidden_size=128, num_layers=1, bidirectional=True)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ClassifierModelConfig:
    """Sizes, pooling and regularisation of a :class:`SequenceClassifier`.

    The number of classes and the vocabulary size (or the number of numeric features) come
    from the data.

    Attributes:
        embedding_size: Width of the token embeddings, or of the input projection of numeric
            steps; always the stack's input size.
        pooling: ``last``, ``mean``, ``max``, ``concat`` or ``attention`` (see
            :mod:`rnnkit.models.pooling`).
        embedding_dropout: Probability of dropping a whole word type's embedding in a batch
            (Gal & Ghahramani 2016); token inputs only.
        freeze_embeddings: Keep the embedding matrix fixed (e.g. pretrained vectors).
        attention_size: Width of the attention scorer's hidden layer (``attention`` only).
        stacked: Stack the network on the TF-IDF baseline (text inputs): its scores are
            added to the baseline's log-probabilities and its head starts at zero, so it
            learns what the n-gram model misses (the model adds any per-class offsets given
            with the inputs).
        rnn: The recurrent stack (it reads ``embedding_size`` features); its ``dropout`` also
            applies to the embedded inputs and to the pooled vector (one
            rate for every non-recurrent connection, as in the language model).

    Example:
        >>> cfg = ClassifierModelConfig(embedding_size=32, pooling="max")
        >>> cfg.rnn.hidden_size, cfg.rnn.bidirectional
        (128, True)
    """

    embedding_size: int = 128
    pooling: Pooling = "max"
    embedding_dropout: float = 0.0
    freeze_embeddings: bool = False
    attention_size: int = 64
    stacked: bool = False
    rnn: StackConfig = dataclasses.field(default_factory=_default_rnn)

    def __post_init__(self) -> None:
        check_field_types(self)
        validate_positive("embedding_size", self.embedding_size)
        validate_positive("attention_size", self.attention_size)
        validate_choice("pooling", self.pooling, POOLINGS)
        validate_fraction("embedding_dropout", self.embedding_dropout)


class SequenceClassifier(nn.Module):
    """Classifies token sequences (``vocab_size``) or numeric sequences (``num_features``).

    Args:
        num_classes: ``C``, at least 2 (binary problems use two logits and softmax).
        config: Sizes, pooling and regularisation.
        vocab_size: ``V`` for token inputs; give exactly one of it and ``num_features``.
        num_features: ``F`` for numeric inputs (T, F) per example.
        pad_id: Id of the padding token (token inputs), kept at zero and never trained.

    Shapes:
        inputs (B, T) int64 token ids, or (B, T, F) floats; lengths (B,) in [1, T] or None
        (all T) -> logits (B, C).

    Example:
        >>> import torch
        >>> _ = torch.manual_seed(0)
        >>> clf = SequenceClassifier(3, ClassifierModelConfig(embedding_size=8, pooling="mean",
        ...     rnn=StackConfig(cell="gru", hidden_size=6)), vocab_size=20)
        >>> clf(torch.randint(1, 20, (4, 7)), lengths=torch.tensor([7, 5, 2, 1])).shape
        torch.Size([4, 3])
    """

    def __init__(
        self,
        num_classes: int,
        config: ClassifierModelConfig,
        *,
        vocab_size: int | None = None,
        num_features: int | None = None,
        pad_id: int = 0,
    ) -> None:
        super().__init__()
        if num_classes < 2 or isinstance(num_classes, bool):
            raise ConfigError(f"expected at least 2 classes, got {num_classes}", key="classes")
        if (vocab_size is None) == (num_features is None):
            raise ConfigError(
                "give exactly one of vocab_size (token inputs) and num_features (numeric "
                f"inputs), got vocab_size={vocab_size}, num_features={num_features}",
                key="inputs",
            )
        self.config, self.num_classes = config, num_classes
        self.embedding: TokenEmbedding | None = None
        self.projection: nn.Linear | None = None
        if vocab_size is not None:
            validate_positive("vocab_size", vocab_size)
            self.embedding = TokenEmbedding(
                vocab_size,
                config.embedding_size,
                word_dropout=config.embedding_dropout,
                padding_idx=pad_id,
                frozen=config.freeze_embeddings,
            )
        else:
            validate_positive("num_features", num_features)
            self.projection = nn.Linear(num_features, config.embedding_size)
        self.rnn = Recurrent.from_config(config.rnn.reading(config.embedding_size))
        self.dropout = nn.Dropout(config.rnn.dropout)
        width = self.rnn.output_size * (3 if config.pooling == "concat" else 1)
        self.attention = (
            AttentionPooling(width, config.attention_size)
            if config.pooling == "attention"
            else None
        )
        self.head = nn.Linear(width, num_classes)
        if config.stacked:
            nn.init.zeros_(self.head.weight)
            nn.init.zeros_(self.head.bias)

    def forward(
        self, inputs: Tensor, lengths: Tensor | None = None, offsets: Tensor | None = None
    ) -> Tensor:
        """Class scores (logits), plus ``offsets`` (B, C) when given; see the class docstring
        for shapes."""
        outputs = self.encode(inputs, lengths)  # (B, T, D*H)
        if self.attention is not None:
            pooled = self.attention(outputs, lengths)
        else:
            pooled = pool(outputs, lengths, self.config.pooling, self.rnn.num_directions)
        scores = self.head(self.dropout(pooled))  # (B, C)
        return scores if offsets is None else scores + offsets

    def encode(self, inputs: Tensor, lengths: Tensor | None = None) -> Tensor:
        """The stack's outputs over the embedded inputs, zero past each length: (B, T, D*H)."""
        embedded = self.dropout(self._embed(inputs))  # (B, T, E)
        outputs, _ = self.rnn(embedded, lengths=lengths)
        return outputs

    def _embed(self, inputs: Tensor) -> Tensor:
        if self.projection is not None:
            if not inputs.is_floating_point() or inputs.dim() != 3:
                raise ValueError(
                    f"numeric inputs must be a (batch, time, features) float tensor, got "
                    f"{inputs.dtype} {tuple(inputs.shape)}"
                )
            return self.projection(inputs)
        assert self.embedding is not None
        if inputs.is_floating_point() or inputs.dim() != 2:
            raise ValueError(
                f"token inputs must be a (batch, time) integer tensor, got {inputs.dtype} "
                f"{tuple(inputs.shape)}"
            )
        return self.embedding(inputs)

    def extra_repr(self) -> str:
        kind = "tokens" if self.embedding is not None else "numeric"
        return f"num_classes={self.num_classes}, inputs={kind}, pooling={self.config.pooling!r}"
