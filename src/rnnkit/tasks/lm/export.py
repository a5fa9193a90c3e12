"""The language model's ONNX export: a sequence graph (scoring) and a step graph (generation).

The step graph carries the recurrent state in and out, one input and one output per state
field (``state_h``, and ``state_c`` for an LSTM), each (layers, batch, width): a caller
starts from zeros, feeds a token, samples from ``log_probs``, and feeds the new state back.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnnkit.models.language_model import LanguageModel
from rnnkit.tasks.common.onnx_export import ExportPlan, Graph, Port, run_files
from rnnkit.tasks.common.samples import padded_ids, padded_lengths
from rnnkit.tasks.lm.task import LanguageModelTask
from rnnkit.training.rundir import RunDir

__all__ = ["export_plan"]

FILES = {
    "config.json": "the run's config: `data.level` (char, word or subword) and its text "
    "settings say how a text becomes tokens",
    "vocab.json": "token -> id, the order of the `log_probs` axis",
    "tokenizer.model": "the sentencepiece model of a subword run (its pieces are vocab.json's)",
}


class SequenceGraph(nn.Module):
    """``(tokens, lengths) -> log_probs`` (B, T, V) of the next token at every position."""

    def __init__(self, model: LanguageModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, tokens: Tensor, lengths: Tensor) -> Tensor:
        logits, _ = self.model(tokens, lengths=lengths)
        return _log_probs(self.model, logits)


class StepGraph(nn.Module):
    """``(token, *state) -> (log_probs, *state)``: one token (B,) and the state fields."""

    def __init__(self, model: LanguageModel) -> None:
        super().__init__()
        self.model = model
        self.state_type = type(model.rnn.init_state(1))

    def forward(self, token: Tensor, *state: Tensor) -> tuple[Tensor, ...]:
        logits, new = self.model(token[:, None], state=self.state_type(*state))
        return (_log_probs(self.model, logits)[:, 0], *new)


def _log_probs(model: LanguageModel, logits: Tensor) -> Tensor:
    # an adaptive softmax already gives log-probabilities
    return logits if model.adaptive is not None else torch.log_softmax(logits, dim=-1)


def export_plan(task: LanguageModelTask, run: RunDir) -> ExportPlan:
    """Both graphs and the vocabulary (and subword model) that turn text into ids."""
    model, V = task.model, len(task.vocab)
    zeros = model.rnn.init_state(1)
    state_specs = tuple(
        Port(
            f"state_{field}",
            "float32",
            (value.size(0), "batch", value.size(-1)),
            f"the stack's `{field}` (layers, batch, width); zeros to start",
        )
        for field, value in zip(zeros._fields, zeros, strict=True)
    )
    log_probs = "log-probabilities of the next token (vocab.json's order)"
    pad = task.vocab.pad_id if task.vocab.pad_id is not None else 0
    sequence = Graph(
        name="lm_sequence",
        module=SequenceGraph(model),
        inputs=(
            Port("tokens", "int64", ("batch", "time"), "token ids, anything past each length"),
            Port("lengths", "int64", ("batch",), "real tokens of each sequence, 1 to time"),
        ),
        outputs=(Port("log_probs", "float32", ("batch", "time", V), log_probs),),
        sample=lambda B, T: _sequence_sample(B, T, V, pad),
        meaning="Scoring: the next token's distribution after every prefix of each sequence. "
        "The log-probability of token t+1 is log_probs[b, t, tokens[b, t+1]].",
    )
    step = Graph(
        name="lm_step",
        module=StepGraph(model),
        inputs=(Port("token", "int64", ("batch",), "the last token of each stream"),) + state_specs,
        outputs=(Port("log_probs", "float32", ("batch", V), log_probs),)
        + tuple(
            Port(f"new_{s.name}", s.dtype, s.shape, "the state after the token")
            for s in state_specs
        ),
        sample=lambda B, _T: _step_sample(B, V, zeros),
        meaning="Generation: one token in, the next token's distribution and the new state out.",
    )
    return ExportPlan("lm", (sequence, step), run_files(run, FILES))


def _sequence_sample(B: int, T: int, V: int, pad: int) -> tuple[Tensor, Tensor]:
    lengths = padded_lengths(B, T)
    return padded_ids(lengths, T, V, pad), lengths


def _step_sample(B: int, V: int, zeros: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
    state = tuple(torch.randn(z.size(0), B, z.size(-1)) * 0.5 for z in zeros)
    return (torch.randint(0, V, (B,)), *state)
