"""``Seq2Seq``: an encoder reads the whole source sentence, a decoder with its own weights
writes the target one token at a time, feeding back each token it wrote (the material's
delayed many-to-many), and looks back at the source through attention.

    encoder    m_1 .. m_S = Recurrent_enc(F[x_1] .. F[x_S])          bidirectional by default
    bridge     s_0 = tanh(W_b [m_S→ ; m_1←] + b_b)                    each decoder state field
    decoder    h_t, s_t = Recurrent_dec([E[y_{t-1}] ; h̃_{t-1}], s_{t-1})   input feeding
    attention  a_t = softmax_s score(h_t, m_s),   c_t = Σ_s a_ts m_s
               h̃_t = tanh(W_c [c_t ; h_t])                            (Luong et al. 2015)
    output     p(y_t | y_<t, x) = softmax(W_o h̃_t + b_o)               W_o = E P when tied

``score`` is additive (Bahdanau et al. 2015), ``dot`` or ``general`` (Luong et al. 2015;
:mod:`rnnkit.models.attention`). Input feeding gives the decoder the attentional vector of
the step before, so it knows what it already attended to. The bridge starts the decoder from
the encoder's last states (the top layer's, both directions); without it the decoder starts
from zeros. With ``attention="none"``, ``h̃_t = h_t``: the source reaches the decoder only
through the bridge, one fixed vector, as in Sutskever et al. 2014 and Cho et al. 2014, whose
bottleneck attention removes. Tied embeddings (Press & Wolf 2017) make the output layer the
target embedding matrix ``E`` behind a projection ``P`` to its width.

Decoding (greedy, beam search) drives :meth:`Seq2Seq.step` through
:mod:`rnnkit.models.decoding`; :meth:`Seq2Seq.reorder` follows the beams.
"""

from __future__ import annotations

import dataclasses
from typing import Literal, NamedTuple

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
from rnnkit.models.attention import AdditiveAttention, DotAttention
from rnnkit.models.embedding import TokenEmbedding
from rnnkit.state import State

__all__ = ["DecoderState", "Seq2Seq", "Seq2SeqModelConfig"]

Score = Literal["additive", "dot", "general", "none"]


def _encoder() -> StackConfig:
    return StackConfig(cell="lstm", hidden_size=256, bidirectional=True)


def _decoder() -> StackConfig:
    return StackConfig(cell="lstm", hidden_size=512)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Seq2SeqModelConfig:
    """Sizes and parts of a :class:`Seq2Seq` (the vocabularies come from data).

    Attributes:
        embedding_size: Width of the source and target token vectors.
        encoder: The encoder's recurrent stack (bidirectional by default).
        decoder: The decoder's recurrent stack (one direction: it writes left to right).
        attention: ``additive``, ``dot``, ``general`` or ``none`` (the fixed-vector model).
        attention_size: Width of the additive scorer's hidden layer.
        input_feeding: Feed the previous attentional vector ``h̃_{t-1}`` to the decoder.
        bridge: Start the decoder from the encoder's last states; else from zeros.
        tie_embeddings: The output layer shares the target embedding matrix.
        dropout: On the embeddings and on ``h̃_t`` before the output layer.
    """

    embedding_size: int = 256
    encoder: StackConfig = dataclasses.field(default_factory=_encoder)
    decoder: StackConfig = dataclasses.field(default_factory=_decoder)
    attention: Score = "general"
    attention_size: int = 256
    input_feeding: bool = True
    bridge: bool = True
    tie_embeddings: bool = True
    dropout: float = 0.3

    def __post_init__(self) -> None:
        check_field_types(self)
        validate_positive("embedding_size", self.embedding_size)
        validate_positive("attention_size", self.attention_size)
        if self.decoder.bidirectional:
            raise ConfigError(
                "the decoder writes left to right; it cannot be bidirectional",
                key="decoder.bidirectional",
            )
        validate_fraction("dropout", self.dropout)


class DecoderState(NamedTuple):
    """What the decoder carries from step to step.

    Shapes:
        rnn: the decoder stack's state, fields (L, B, K); feed: ``h̃_{t-1}`` (B, A);
        memory: the encoder's outputs (B, S, M); keys: the attention's precomputed keys
        (B, S, ·) or None; lengths: source lengths (B,).
    """

    rnn: State
    feed: Tensor
    memory: Tensor
    keys: Tensor | None
    lengths: Tensor


class Seq2Seq(nn.Module):
    """Encoder-decoder with attention (see the module docstring).

    Args:
        src_vocab_size, tgt_vocab_size: Vocabulary sizes.
        config: Sizes and parts.
        src_pad_id, tgt_pad_id: The padding tokens' ids.

    Shapes:
        src (B, S) ids, src_lengths (B,) in [1, S], tgt_in (B, T) ids (the target shifted
        right, starting with ``<s>``) -> logits (B, T, V_tgt).
    """

    def __init__(
        self,
        src_vocab_size: int,
        tgt_vocab_size: int,
        config: Seq2SeqModelConfig,
        *,
        src_pad_id: int = 0,
        tgt_pad_id: int = 0,
    ) -> None:
        super().__init__()
        self.config, E = config, config.embedding_size
        self.src_embedding = TokenEmbedding(src_vocab_size, E, padding_idx=src_pad_id)
        self.tgt_embedding = TokenEmbedding(tgt_vocab_size, E, padding_idx=tgt_pad_id)
        self.encoder = Recurrent.from_config(config.encoder.reading(E))
        memory = self.encoder.output_size
        width = _output_width(config.decoder)  # A: h_t and h̃_t
        feed = width if config.input_feeding else 0
        self.decoder = Recurrent.from_config(config.decoder.reading(E + feed))
        self.attention = _attention(config, query=width, memory=memory)
        self.combine = nn.Linear(memory + width, width) if self.attention is not None else None
        fields = [z.shape for z in self.decoder.init_state(1)]  # (L, 1, K) per field
        self.bridge = None
        if config.bridge:
            source = self.encoder.num_directions * self.encoder.cells[-1].output_size
            self.bridge = nn.ModuleList(nn.Linear(source, s[0] * s[2]) for s in fields)
        self.dropout = nn.Dropout(config.dropout)
        self.projection = None
        if config.tie_embeddings:
            if width != E:
                self.projection = nn.Linear(width, E)
            self.out_bias = nn.Parameter(torch.zeros(tgt_vocab_size))
            self.output = None
        else:
            self.output = nn.Linear(width, tgt_vocab_size)

    # ---- encoder ------------------------------------------------------------------------
    def encode(self, src: Tensor, src_lengths: Tensor) -> DecoderState:
        """Reads the source: the decoder's first state (B rows)."""
        memory, final = self.encoder(self.dropout(self.src_embedding(src)), lengths=src_lengths)
        B = src.size(0)
        zeros = self.decoder.init_state(B)
        zeros = type(zeros)(*(z.to(memory) for z in zeros))
        rnn = zeros if self.bridge is None else self._bridged(final, zeros)
        keys = None if self.attention is None else self.attention.keys(memory)
        feed = memory.new_zeros(B, _output_width(self.config.decoder))
        return DecoderState(rnn, feed, memory, keys, src_lengths.to(memory.device))

    def _bridged(self, final: State, like: State) -> State:
        """``tanh(W_b [top layer's last states, both directions])`` for each decoder field."""
        D = self.encoder.num_directions
        top = final[0][-D:]  # (D, B, K): the first field (h, or Jordan's y)
        source = top.permute(1, 0, 2).reshape(top.size(1), -1)  # (B, D*K)
        assert self.bridge is not None
        fields = []
        for linear, zero in zip(self.bridge, like, strict=True):
            L, B, K = zero.shape
            fields.append(torch.tanh(linear(source)).view(B, L, K).transpose(0, 1).contiguous())
        return type(like)(*fields)

    # ---- decoder ------------------------------------------------------------------------
    def step(self, tokens: Tensor, state: DecoderState) -> tuple[Tensor, DecoderState]:
        """One decoder step: tokens (B,) -> logits (B, V) of the next token, new state."""
        logits, state, _ = self.step_attending(tokens, state)
        return logits, state

    def step_attending(
        self, tokens: Tensor, state: DecoderState
    ) -> tuple[Tensor, DecoderState, Tensor | None]:
        """:meth:`step`, and the attention weights (B, S) it used (None without attention)."""
        embedded = self.dropout(self.tgt_embedding(tokens))  # (B, E)
        attentional, state, weights = self._attentional_step(embedded, state)
        return self._logits(self.dropout(attentional)), state, weights

    def _attentional_step(
        self, embedded: Tensor, state: DecoderState
    ) -> tuple[Tensor, DecoderState, Tensor | None]:
        """One decoder step from the previous token's embedding (B, E) up to ``h̃_t``
        (B, A), before the output layer."""
        x = torch.cat([embedded, state.feed], -1) if self.config.input_feeding else embedded
        out, rnn = self.decoder(x[:, None, :], state=state.rnn)
        h = out[:, 0]  # (B, A)
        weights = None
        if self.attention is None:
            attentional = h
        else:
            assert self.combine is not None
            attended = self.attention(h, state.memory, state.lengths, keys=state.keys)
            attentional = torch.tanh(self.combine(torch.cat([attended.context, h], -1)))
            weights = attended.weights
        return attentional, state._replace(rnn=rnn, feed=attentional), weights

    def _logits(self, attentional: Tensor) -> Tensor:
        if self.output is not None:
            return self.output(attentional)
        if self.projection is not None:
            attentional = self.projection(attentional)
        return F.linear(attentional, self.tgt_embedding.weight, self.out_bias)

    def forward(
        self, src: Tensor, src_lengths: Tensor, tgt_in: Tensor, *, weights: bool = False
    ) -> Tensor | tuple[Tensor, Tensor]:
        """Teacher forcing: the logits of every target position (B, T, V); with ``weights``
        also the attention weights (B, T, S)."""
        state = self.encode(src, src_lengths)
        embedded = self.dropout(self.tgt_embedding(tgt_in))  # (B, T, E), every step at once
        steps, attention = [], []
        for t in range(tgt_in.size(1)):
            attentional, state, step_weights = self._attentional_step(embedded[:, t], state)
            steps.append(attentional)
            if weights:
                attention.append(_weights_or_zeros(step_weights, state.memory))
        # The output layer once over every step: one (B*T, A) x (A, V) product instead of T.
        out = self._logits(self.dropout(torch.stack(steps, 1)))
        return (out, torch.stack(attention, 1)) if weights else out

    @staticmethod
    def loss(logits: Tensor, targets: Tensor, pad_id: int, label_smoothing: float = 0.0) -> Tensor:
        """Mean cross-entropy per real target token (``pad_id`` positions excluded), with
        ``label_smoothing`` (Szegedy et al. 2016) spread over the vocabulary."""
        return F.cross_entropy(
            logits.flatten(0, 1).float(),
            targets.flatten(),
            ignore_index=pad_id,
            label_smoothing=label_smoothing,
        )

    @staticmethod
    def reorder(state: DecoderState, index: Tensor) -> DecoderState:
        """Rows ``index`` of every part of ``state`` (beam search follows its parents)."""
        rnn = type(state.rnn)(*(f.index_select(1, index) for f in state.rnn))
        keys = None if state.keys is None else state.keys.index_select(0, index)
        return DecoderState(
            rnn,
            state.feed.index_select(0, index),
            state.memory.index_select(0, index),
            keys,
            state.lengths.index_select(0, index),
        )


def _output_width(stack: StackConfig) -> int:
    return stack.output_size if stack.cell == "jordan" and stack.output_size else stack.hidden_size


def _attention(config: Seq2SeqModelConfig, *, query: int, memory: int) -> nn.Module | None:
    if config.attention == "none":
        return None
    if config.attention == "additive":
        return AdditiveAttention(query, memory, config.attention_size)
    if config.attention == "dot" and query != memory:
        raise ConfigError(
            f"the dot score needs the decoder's width ({query}) to equal the encoder's output "
            f"width ({memory}); use --attention general, or match the sizes",
            key="attention",
        )
    return DotAttention(query, memory, general=config.attention == "general")


def _weights_or_zeros(weights: Tensor | None, memory: Tensor) -> Tensor:
    return memory.new_zeros(memory.shape[:2]) if weights is None else weights
