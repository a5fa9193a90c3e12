"""``LanguageModel``: embedding -> any rnnkit recurrent stack -> dropout -> linear -> vocabulary.

A language model gives the probability of a sequence one token at a time,
``p(w_1 .. w_T) = Π_t p(w_t | w_<t)``, and ``p(w_t | w_<t) = softmax(W_out h_t + b_out)``
where ``h_t`` is the recurrent stack's output after reading ``w_1 .. w_{t-1}``.

Regularisation, each from the paper that introduced it for LSTM language models:

- ``dropout`` on the non-recurrent connections (the embedding output, between layers, and
  before the softmax), the same rate everywhere (Zaremba et al. 2014);
- ``embedding_dropout``: whole rows of the embedding matrix dropped, so every occurrence of a
  word in a batch disappears together (Gal & Ghahramani 2016; Merity et al. 2018);
- ``recurrent_dropout``: one mask per sequence on the recurrent connection, in the cell;
- ``tie_weights``: the output matrix is the embedding matrix (Press & Wolf 2017; Inan et al.
  2017). When the stack's output width differs from the embedding size, a linear projection
  maps it down first.

Large vocabularies: ``adaptive_cutoffs`` replaces the full softmax with an adaptive softmax
(Grave et al. 2017): the most frequent words (ids below the first cutoff; the vocabulary is
sorted by frequency) share a head softmax with one entry per rarer cluster, and a rare word's
probability is its cluster's times its own inside the cluster, computed through a smaller
projection (``width / div^k``). Training then costs the head plus the clusters its targets
fall in, not all ``V`` outputs; ``forward`` still gives every token's log-probability, which
every decoding and scoring function reads as logits (``softmax(log p) = p``).
"""

from __future__ import annotations

import dataclasses
import itertools

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.config import (
    ConfigError,
    StackConfig,
    check_field_types,
    validate_fraction,
    validate_positive,
)
from rnnkit.layers import Recurrent
from rnnkit.models.embedding import TokenEmbedding
from rnnkit.state import State, select_rows

__all__ = ["LMModelConfig", "LanguageModel"]


def _default_rnn() -> StackConfig:
    return StackConfig(cell="lstm", hidden_size=200, num_layers=2)


@dataclasses.dataclass(frozen=True, kw_only=True)
class LMModelConfig:
    """Sizes and regularisation of a :class:`LanguageModel` (the vocabulary size comes from data).

    Attributes:
        embedding_size: Width of the token embeddings (the stack's input size).
        tie_weights: Share the embedding matrix with the output layer (Press & Wolf 2017).
        embedding_dropout: Probability of dropping a whole word type's embedding in a batch.
        rnn: The recurrent stack (it reads ``embedding_size`` features); its ``dropout`` also
            applies to the embedding output and before the softmax.
        adaptive_cutoffs: Adaptive softmax (Grave et al. 2017) with these increasing token-id
            cutoffs (e.g. ``2000,10000``); None: a full softmax.
        adaptive_div: Each rarer cluster's projection is this many times narrower.

    Example:
        >>> cfg = LMModelConfig(embedding_size=32)
        >>> cfg.rnn.hidden_size, cfg.rnn.cell
        (200, 'lstm')
    """

    embedding_size: int = 200
    tie_weights: bool = False
    embedding_dropout: float = 0.0
    rnn: StackConfig = dataclasses.field(default_factory=_default_rnn)
    adaptive_cutoffs: tuple[int, ...] | None = None
    adaptive_div: float = 4.0

    def __post_init__(self) -> None:
        check_field_types(self)
        validate_positive("embedding_size", self.embedding_size)
        validate_fraction("embedding_dropout", self.embedding_dropout)
        validate_positive("adaptive_div", self.adaptive_div)
        cutoffs = self.adaptive_cutoffs
        if cutoffs is not None:
            if not cutoffs or any(b <= a for a, b in itertools.pairwise((0, *cutoffs))):
                raise ConfigError(
                    f"expected increasing positive token ids, got {cutoffs}", key="adaptive_cutoffs"
                )
            if self.tie_weights:
                raise ConfigError(
                    "an adaptive softmax has no single output matrix to tie to the embedding; "
                    "drop --tie-weights or --adaptive-cutoffs",
                    key="adaptive_cutoffs",
                )


class LanguageModel(nn.Module):
    """Next-token model over a vocabulary of ``vocab_size`` tokens.

    Args:
        vocab_size: ``V``, number of tokens.
        config: Sizes and regularisation.

    Shapes:
        tokens (B, T) int64 ids; lengths (B,) or None; state as :class:`rnnkit.Recurrent`
        -> logits (B, T, V), final state.

    Example:
        >>> import torch
        >>> _ = torch.manual_seed(0)
        >>> lm = LanguageModel(50, LMModelConfig(embedding_size=16, tie_weights=True,
        ...     rnn=StackConfig(cell="gru", hidden_size=24)))
        >>> logits, state = lm(torch.randint(0, 50, (2, 7)))
        >>> tuple(logits.shape), lm.decoder.weight is lm.embedding.weight
        ((2, 7, 50), True)
    """

    def __init__(self, vocab_size: int, config: LMModelConfig) -> None:
        super().__init__()
        validate_positive("vocab_size", vocab_size)
        self.config = config
        self.vocab_size = vocab_size
        rnn = config.rnn
        self.embedding = TokenEmbedding(
            vocab_size, config.embedding_size, word_dropout=config.embedding_dropout
        )
        self.rnn = Recurrent.from_config(rnn.reading(config.embedding_size))
        self.dropout = nn.Dropout(rnn.dropout)
        width = self.rnn.output_size
        self.projection: nn.Linear | None = None
        if config.tie_weights and width != config.embedding_size:
            self.projection = nn.Linear(width, config.embedding_size)
            width = config.embedding_size
        self.decoder: nn.Linear | None = None
        self.adaptive: nn.AdaptiveLogSoftmaxWithLoss | None = None
        if config.adaptive_cutoffs is None:
            self.decoder = nn.Linear(width, vocab_size)
        else:
            if config.adaptive_cutoffs[-1] >= vocab_size:
                raise ConfigError(
                    f"cutoffs must be below the vocabulary size {vocab_size}, got "
                    f"{config.adaptive_cutoffs}",
                    key="adaptive_cutoffs",
                )
            self.adaptive = nn.AdaptiveLogSoftmaxWithLoss(
                width, vocab_size, list(config.adaptive_cutoffs), div_value=config.adaptive_div
            )
        self._init_weights()
        if config.tie_weights and self.decoder is not None:
            self.decoder.weight = self.embedding.weight

    def _init_weights(self) -> None:
        # Uniform(-0.1, 0.1) for the embedding and a zero output bias, as in Zaremba et al.;
        # the recurrent stack keeps its own (torch-compatible) initialisation.
        nn.init.uniform_(self.embedding.weight, -0.1, 0.1)
        if self.decoder is not None:
            nn.init.zeros_(self.decoder.bias)

    def forward(
        self, tokens: Tensor, state: State | None = None, lengths: Tensor | None = None
    ) -> tuple[Tensor, State]:
        """Logits of the next token at every position (log-probabilities with an adaptive
        softmax); see the class docstring for shapes."""
        features, state = self.features(tokens, state, lengths)
        return self.logits(features), state

    def features(
        self, tokens: Tensor, state: State | None = None, lengths: Tensor | None = None
    ) -> tuple[Tensor, State]:
        """What the output layer reads: tokens (B, T) -> features (B, T, W), final state."""
        embedded = self.dropout(self.embedding(tokens))  # (B, T, E)
        outputs, state = self.rnn(embedded, lengths=lengths, state=state)  # (B, T, D*H)
        outputs = self.dropout(outputs)
        if self.projection is not None:
            outputs = self.projection(outputs)  # (B, T, E)
        return outputs, state

    def logits(self, features: Tensor) -> Tensor:
        """features (B, T, W) -> logits (B, T, V) (log-probabilities, adaptive softmax)."""
        if self.adaptive is None:
            assert self.decoder is not None
            return self.decoder(features)
        flat = self.adaptive.log_prob(features.reshape(-1, features.shape[-1]))  # (B*T, V)
        return flat.view(*features.shape[:-1], self.vocab_size)

    def nll(self, features: Tensor, targets: Tensor, reduction: str = "mean") -> Tensor:
        """Cross-entropy (nats) of ``targets`` (B, T) given ``features`` (B, T, W).

        With an adaptive softmax only the head and the clusters the targets fall in are
        computed, which is what makes a large vocabulary cheap to train.
        """
        if self.adaptive is None:
            logits = self.logits(features)
            return F.cross_entropy(
                logits.flatten(0, 1).float(), targets.flatten(), reduction=reduction
            )
        out = self.adaptive(features.reshape(-1, features.shape[-1]).float(), targets.flatten())
        loss = out.loss.to(torch.float32)
        return loss * targets.numel() if reduction == "sum" else loss

    def step(self, tokens: Tensor, state: State | None) -> tuple[Tensor, State]:
        """One step for decoding: tokens (B,) -> logits (B, V), state."""
        logits, state = self(tokens[:, None], state)
        return logits[:, -1], state

    @staticmethod
    def reorder_state(state: State | None, index: Tensor) -> State | None:
        """The rows ``index`` (B',) of a state this model returned (beam search follows each
        hypothesis's parent with it). The stack's states hold the batch in dimension 1,
        (L*D, B, H), as ``torch.nn.LSTM``'s do."""
        return select_rows(state, index, dim=1)

    def parameter_count(self) -> int:
        """Distinct trainable scalars (a tied matrix counts once)."""
        return sum(p.numel() for p in self.parameters())

    def extra_repr(self) -> str:
        return f"vocab_size={self.vocab_size}, tie_weights={self.config.tie_weights}"
