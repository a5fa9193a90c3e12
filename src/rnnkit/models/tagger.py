"""``SequenceTagger``: one label per step (the material's synced many-to-many), for named
entities in text or labels of numeric steps.

    x_t = [E[w_t]; C[case(w_t)]; chars(w_t); s_t]   (text)   or   x_t = W_in v_t + b   (numeric)
    o_1 .. o_T = Recurrent(x_1 .. x_T)                       (bidirectional by default)
    e_t = W_out o_t + b_out                                   emissions (K scores per step)

then either a softmax per step, or a linear-chain CRF over the emissions
(:class:`~rnnkit.models.crf.LinearChainCRF`, Huang et al. 2015; Lample et al. 2016) whose
transitions a tag scheme may constrain. The word vectors may be lower-cased (GloVe 6B):
the casing embedding ``C`` and the character encoder (:mod:`rnnkit.models.char_encoder`)
give the model back what lower-casing took. ``s_t`` are optional features computed outside
the model, one vector per word: contextual string embeddings read from fixed character
language models (:mod:`rnnkit.tasks.common.string_embeddings`).
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.config import ConfigError, StackConfig, check_field_types, validate_positive
from rnnkit.layers import Recurrent
from rnnkit.models.char_encoder import CharEncoder
from rnnkit.models.crf import LinearChainCRF
from rnnkit.models.embedding import TokenEmbedding
from rnnkit.models.masks import real_steps

__all__ = ["SequenceTagger", "TaggerModelConfig"]


def _default_rnn() -> StackConfig:
    return StackConfig(cell="lstm", hidden_size=100, bidirectional=True, dropout=0.5)


@dataclasses.dataclass(frozen=True, kw_only=True)
class TaggerModelConfig:
    """Sizes and parts of a :class:`SequenceTagger` (vocabularies and tags come from data).

    Attributes:
        embedding_size: Width of the word vectors (of the numeric input projection).
        embedding_dropout: Probability of dropping a whole word type in a batch.
        freeze_embeddings: Keep the word vectors fixed (pretrained ones).
        casing_size: Width of the casing feature's embedding; 0 leaves it out.
        chars: ``lstm`` (Lample et al. 2016), ``cnn`` (Ma & Hovy 2016) or ``none``.
        char_embedding_size: Width of each character's vector.
        char_size: The character BiLSTM's hidden size per direction, or the CNN's filters.
        output: ``crf`` (a linear-chain CRF over the steps) or ``softmax`` (each step alone).
        rnn: The recurrent stack; its ``dropout`` also applies to the inputs and emissions.
    """

    embedding_size: int = 100
    embedding_dropout: float = 0.0
    freeze_embeddings: bool = False
    casing_size: int = 8
    chars: Literal["lstm", "cnn", "none"] = "lstm"
    char_embedding_size: int = 25
    char_size: int = 25
    output: Literal["crf", "softmax"] = "crf"
    rnn: StackConfig = dataclasses.field(default_factory=_default_rnn)

    def __post_init__(self) -> None:
        check_field_types(self)
        for name in ("embedding_size", "char_embedding_size", "char_size"):
            validate_positive(name, getattr(self, name))
        if self.casing_size < 0:
            raise ConfigError(f"expected >= 0, got {self.casing_size}", key="casing_size")


class SequenceTagger(nn.Module):
    """Tags each step of token sequences (``vocab_size``) or numeric ones (``num_features``).

    Args:
        num_tags: ``K``.
        config: Sizes and parts.
        vocab_size: Word vocabulary size (text); give exactly one of it and ``num_features``.
        num_features: Features per step (numeric inputs).
        num_chars: Character vocabulary size; needed when ``config.chars`` is not ``none``
            (text only).
        num_casings: Number of casing classes (``len(rnnkit.data.casing.CASINGS)``); needed
            when ``config.casing_size`` is not 0 (text only).
        pad_id: The padding word's id.
        context_size: Width ``D`` of the per-word features given as ``context`` (text only;
            0: none).
        allowed, allowed_start, allowed_end: The CRF's constraints (see
            :class:`~rnnkit.models.crf.LinearChainCRF`).

    Shapes:
        inputs (B, T) word ids or (B, T, F) floats; lengths (B,); casing (B, T); chars
        (B, T, W) and char_lengths (B, T); context (B, T, D) -> emissions (B, T, K).
    """

    def __init__(
        self,
        num_tags: int,
        config: TaggerModelConfig,
        *,
        vocab_size: int | None = None,
        num_features: int | None = None,
        num_chars: int | None = None,
        num_casings: int | None = None,
        pad_id: int = 0,
        context_size: int = 0,
        allowed: Tensor | None = None,
        allowed_start: Tensor | None = None,
        allowed_end: Tensor | None = None,
    ) -> None:
        super().__init__()
        if (vocab_size is None) == (num_features is None):
            raise ConfigError("give exactly one of vocab_size and num_features", key="inputs")
        self.config, self.num_tags, self.context_size = config, num_tags, context_size
        self.embedding: TokenEmbedding | None = None
        self.projection: nn.Linear | None = None
        self.casing: nn.Embedding | None = None
        self.chars: CharEncoder | None = None
        width = config.embedding_size
        if vocab_size is not None:
            self.embedding = TokenEmbedding(
                vocab_size,
                config.embedding_size,
                word_dropout=config.embedding_dropout,
                padding_idx=pad_id,
                frozen=config.freeze_embeddings,
            )
            if config.casing_size:
                if num_casings is None:
                    raise ConfigError("casing_size > 0 needs num_casings", key="casing_size")
                self.casing = nn.Embedding(num_casings, config.casing_size, padding_idx=0)
                width += config.casing_size
            if config.chars != "none":
                if num_chars is None:
                    raise ConfigError(f"chars={config.chars!r} needs num_chars", key="chars")
                self.chars = CharEncoder(
                    num_chars,
                    config.chars,
                    embedding_size=config.char_embedding_size,
                    size=config.char_size,
                )
                width += self.chars.output_size
            width += context_size
        else:
            self.projection = nn.Linear(num_features, config.embedding_size)
        self.rnn = Recurrent.from_config(config.rnn.reading(width))
        self.dropout = nn.Dropout(config.rnn.dropout)
        self.head = nn.Linear(self.rnn.output_size, num_tags)
        self.crf = None
        if config.output == "crf":
            self.crf = LinearChainCRF(
                num_tags, allowed=allowed, allowed_start=allowed_start, allowed_end=allowed_end
            )

    def forward(
        self,
        inputs: Tensor,
        lengths: Tensor | None = None,
        *,
        casing: Tensor | None = None,
        chars: Tensor | None = None,
        char_lengths: Tensor | None = None,
        context: Tensor | None = None,
    ) -> Tensor:
        """The emissions (B, T, K); see the class docstring."""
        if self.projection is not None:
            features = self.projection(inputs)
        else:
            assert self.embedding is not None
            parts = [self.embedding(inputs)]
            if self.casing is not None:
                if casing is None:
                    raise ValueError("this tagger reads a casing id per word: pass casing")
                parts.append(self.casing(casing))
            if self.chars is not None:
                if chars is None or char_lengths is None:
                    raise ValueError("this tagger reads characters: pass chars, char_lengths")
                parts.append(self.chars(chars, char_lengths))
            if self.context_size:
                if context is None or context.size(-1) != self.context_size:
                    got = "none" if context is None else context.size(-1)
                    raise ValueError(f"expected context of width {self.context_size}, got {got}")
                parts.append(context.to(parts[0].dtype))
            features = torch.cat(parts, dim=-1)
        outputs, _ = self.rnn(self.dropout(features), lengths=lengths)
        return self.head(self.dropout(outputs))

    def loss(self, emissions: Tensor, tags: Tensor, lengths: Tensor | None = None) -> Tensor:
        """Mean negative log-likelihood per tag: the CRF's over whole sequences, or the
        per-step cross-entropy, padding excluded (whatever ``tags`` holds there, -1 say)."""
        mask = _mask(emissions, lengths)
        if self.crf is not None:
            tags = tags.masked_fill(~mask, 0)
            return self.crf.nll(emissions, tags, lengths).sum() / mask.sum()
        return F.cross_entropy(emissions[mask].float(), tags[mask])

    @torch.no_grad()
    def decode(self, emissions: Tensor, lengths: Tensor | None = None) -> list[list[int]]:
        """The best tag ids of each sequence, its length long (Viterbi with a CRF)."""
        if self.crf is not None:
            return self.crf.decode(emissions, lengths)
        mask = _mask(emissions, lengths)
        best = emissions.argmax(-1)
        return [best[b, : int(n)].tolist() for b, n in enumerate(mask.sum(1))]

    @torch.no_grad()
    def probabilities(self, emissions: Tensor, lengths: Tensor | None = None) -> Tensor:
        """``p(y_t = k | x)`` (B, T, K): CRF marginals, or each step's softmax; zero past
        each length."""
        mask = _mask(emissions, lengths)[..., None]
        if self.crf is not None:
            return self.crf.marginals(emissions, lengths)
        return torch.softmax(emissions.float(), dim=-1) * mask


def _mask(emissions: Tensor, lengths: Tensor | None) -> Tensor:
    return real_steps(lengths, emissions.size(0), emissions.size(1), emissions.device)
