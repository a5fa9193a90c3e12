"""``SequenceClassifier``: a sequence in, one label out (the material's many-to-one).

Tokens go through an embedding, numeric steps (sensor traces, metrics) through a linear input
projection; then any rnnkit recurrent stack reads the sequence, a pooling step turns its
outputs ``o_1 .. o_T`` into one vector ``u``, and a linear head gives the class scores:

    e_t = E[x_t]  (tokens)   or   e_t = x_t W_inᵀ + b_in  (numeric, x_t ∈ R^F)
    o_1 .. o_T = Recurrent(e_1 .. e_T)                       o_t ∈ R^(D*H)
    u = pool(o_1 .. o_T)
    p(y | x) = softmax(u W_outᵀ + b_out)

Pooling over the ``T_b`` real steps of each sequence (padding never counts):

- ``last``: the state after the last real step; for a bidirectional stack, the forward
  direction's output at ``T_b`` next to the backward direction's output at step 1 (each
  direction's "last" step);
- ``mean``: ``(1/T_b) Σ_t o_t``;
- ``max``: the element-wise maximum over time (Conneau et al. 2017);
- ``concat``: ``[last; max; mean]``, three times as wide (the "concat pooling" of Howard &
  Ruder 2018: the final state, and the strongest and average evidence anywhere in the text);
- ``attention``: ``a_t = softmax_t(vᵀ tanh(W o_t + b))``, ``u = Σ_t a_t o_t`` (the word-level
  attention of Yang et al. 2016), learned with the rest of the model.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.config import (
    ConfigError,
    RecurrentConfig,
    check_field_types,
    validate_choice,
    validate_fraction,
    validate_positive,
)
from rnnkit.layers import Recurrent
from rnnkit.models.embedding_dropout import drop_word_types

__all__ = ["POOLINGS", "ClassifierModelConfig", "SequenceClassifier", "pool"]

Pooling = Literal["last", "mean", "max", "concat", "attention"]
POOLINGS: tuple[str, ...] = ("last", "mean", "max", "concat", "attention")


def _default_rnn() -> RecurrentConfig:
    return RecurrentConfig(
        cell="lstm", input_size=128, hidden_size=128, num_layers=1, bidirectional=True
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class ClassifierModelConfig:
    """Sizes, pooling and regularisation of a :class:`SequenceClassifier`.

    The number of classes and the vocabulary size (or the number of numeric features) come
    from the data.

    Attributes:
        embedding_size: Width of the token embeddings, or of the input projection of numeric
            steps; always the stack's input size.
        pooling: ``last``, ``mean``, ``max``, ``concat`` or ``attention`` (see the module
            docstring).
        embedding_dropout: Probability of dropping a whole word type's embedding in a batch
            (Gal & Ghahramani 2016); token inputs only.
        freeze_embeddings: Keep the embedding matrix fixed (e.g. pretrained vectors).
        attention_size: Width of the attention scorer's hidden layer (``attention`` only).
        rnn: The recurrent stack; its ``input_size`` is always ``embedding_size``, and its
            ``dropout`` also applies to the embedded inputs and to the pooled vector (one
            rate for every non-recurrent connection, as in the language model).

    Example:
        >>> cfg = ClassifierModelConfig(embedding_size=32, pooling="max")
        >>> cfg.rnn.input_size, cfg.rnn.bidirectional
        (32, True)
    """

    embedding_size: int = 128
    pooling: Pooling = "max"
    embedding_dropout: float = 0.0
    freeze_embeddings: bool = False
    attention_size: int = 64
    rnn: RecurrentConfig = dataclasses.field(default_factory=_default_rnn)

    def __post_init__(self) -> None:
        check_field_types(self)
        validate_positive("embedding_size", self.embedding_size)
        validate_positive("attention_size", self.attention_size)
        validate_choice("pooling", self.pooling, POOLINGS)
        validate_fraction("embedding_dropout", self.embedding_dropout)
        if self.rnn.input_size != self.embedding_size:
            # The stack reads the embedded inputs: its input size is derived, never set alone.
            object.__setattr__(
                self, "rnn", dataclasses.replace(self.rnn, input_size=self.embedding_size)
            )


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
        >>> _ = torch.manual_seed(0)
        >>> clf = SequenceClassifier(3, ClassifierModelConfig(embedding_size=8, pooling="mean",
        ...     rnn=RecurrentConfig(cell="gru", input_size=8, hidden_size=6)), vocab_size=20)
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
        self.embedding: nn.Embedding | None = None
        self.projection: nn.Linear | None = None
        if vocab_size is not None:
            validate_positive("vocab_size", vocab_size)
            self.embedding = nn.Embedding(vocab_size, config.embedding_size, padding_idx=pad_id)
            self.embedding.weight.requires_grad_(not config.freeze_embeddings)
        else:
            validate_positive("num_features", num_features)
            self.projection = nn.Linear(num_features, config.embedding_size)
        self.rnn = Recurrent.from_config(config.rnn)
        self.dropout = nn.Dropout(config.rnn.dropout)
        width = self.rnn.output_size * (3 if config.pooling == "concat" else 1)
        self.attention = (
            AttentionPooling(width, config.attention_size)
            if config.pooling == "attention"
            else None
        )
        self.head = nn.Linear(width, num_classes)

    def forward(self, inputs: Tensor, lengths: Tensor | None = None) -> Tensor:
        """Class scores (logits); see the class docstring for shapes."""
        outputs = self.encode(inputs, lengths)  # (B, T, D*H)
        if self.attention is not None:
            pooled = self.attention(outputs, lengths)
        else:
            pooled = pool(outputs, lengths, self.config.pooling, self.rnn.num_directions)
        return self.head(self.dropout(pooled))  # (B, C)

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
        weight = drop_word_types(
            self.embedding.weight, self.config.embedding_dropout, self.training
        )
        return F.embedding(inputs, weight, padding_idx=self.embedding.padding_idx)

    def extra_repr(self) -> str:
        kind = "tokens" if self.embedding is not None else "numeric"
        return f"num_classes={self.num_classes}, inputs={kind}, pooling={self.config.pooling!r}"


def pool(outputs: Tensor, lengths: Tensor | None, how: str, directions: int = 1) -> Tensor:
    """Pools recurrent outputs over each sequence's real steps (``last``, ``mean``, ``max`` or
    ``concat``).

    Args:
        outputs: (B, T, D*K), zero past each sequence's length (as :class:`Recurrent` gives).
        lengths: (B,) in [1, T], or None when every sequence has T steps.
        how: ``"last"``, ``"mean"``, ``"max"`` or ``"concat"`` (the three side by side).
        directions: ``D``; with 2, ``last`` takes the backward half at step 1.

    Shapes:
        outputs (B, T, D*K), lengths (B,) -> (B, D*K); ``concat``: (B, 3*D*K).

    Example:
        >>> out = torch.tensor([[[1.0], [3.0], [0.0]], [[2.0], [-1.0], [5.0]]])
        >>> lengths = torch.tensor([2, 3])
        >>> [pool(out, lengths, how)[:, 0].tolist() for how in ("last", "mean", "max")]
        [[3.0, 5.0], [2.0, 2.0], [3.0, 5.0]]
    """
    B, T, width = outputs.shape
    if lengths is None:
        lengths = torch.full((B,), T, dtype=torch.long)
    lengths = lengths.to(outputs.device)
    if how == "last":
        last = outputs[torch.arange(B, device=outputs.device), lengths - 1]  # (B, D*K)
        if directions == 1:
            return last
        half = width // 2  # the backward direction's "last" step is the first one
        return torch.cat([last[:, :half], outputs[:, 0, half:]], dim=1)
    if how == "mean":
        return outputs.sum(dim=1) / lengths[:, None].to(outputs.dtype)
    if how == "max":
        return outputs.masked_fill(~_mask(lengths, T)[:, :, None], float("-inf")).amax(dim=1)
    if how == "concat":
        parts = [pool(outputs, lengths, part, directions) for part in ("last", "max", "mean")]
        return torch.cat(parts, dim=1)
    raise ValueError(f"how must be one of 'last', 'mean', 'max', 'concat', got {how!r}")


class AttentionPooling(nn.Module):
    """Learned attention over time: ``a = softmax_t(vᵀ tanh(W o_t + b))``, ``u = Σ_t a_t o_t``.

    Args:
        width: Width of each output ``o_t``.
        size: Width of the scorer's hidden layer.

    Shapes:
        outputs (B, T, width), lengths (B,) or None -> (B, width); :meth:`weights` gives
        ``a`` (B, T), zero past each length.
    """

    def __init__(self, width: int, size: int) -> None:
        super().__init__()
        self.project = nn.Linear(width, size)
        self.score = nn.Linear(size, 1, bias=False)

    def weights(self, outputs: Tensor, lengths: Tensor | None) -> Tensor:
        """The attention distribution over each sequence's real steps: (B, T)."""
        scores = self.score(torch.tanh(self.project(outputs)))[..., 0]  # (B, T)
        if lengths is not None:
            mask = _mask(lengths.to(outputs.device), outputs.size(1))
            scores = scores.masked_fill(~mask, float("-inf"))
        return torch.softmax(scores, dim=1)

    def forward(self, outputs: Tensor, lengths: Tensor | None = None) -> Tensor:
        weights = self.weights(outputs, lengths)  # (B, T)
        return torch.bmm(weights[:, None, :], outputs)[:, 0]  # (B, width)


def _mask(lengths: Tensor, T: int) -> Tensor:
    """(B, T) booleans: True at the real steps of each sequence."""
    return torch.arange(T, device=lengths.device)[None, :] < lengths[:, None]
