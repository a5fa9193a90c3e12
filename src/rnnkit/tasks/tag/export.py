"""The tagger's ONNX export: a graph from a sentence's word, casing and character ids to
each word's tag scores (emissions), and the CRF's scores as a file for Viterbi decoding."""

from __future__ import annotations

import json

import torch
from torch import Tensor, nn

from rnnkit.config import ConfigError
from rnnkit.data.casing import CASINGS
from rnnkit.models.tagger import SequenceTagger
from rnnkit.tasks.common.onnx_export import ExportPlan, Graph, Port, run_files
from rnnkit.tasks.common.samples import padded_ids, padded_lengths, padded_steps
from rnnkit.tasks.tag.task import TaggerTask
from rnnkit.training.rundir import RunDir

__all__ = ["export_plan"]

FILES = {
    "config.json": "the run's config: `data.lowercase` and `data.digits` say how a word is "
    "looked up in vocab.json, `data.max_word_len` how many characters of it are read",
    "vocab.json": "word -> id (`words`); unknown words take `<unk>`'s id, padding `<pad>`'s",
    "chars.json": "character -> id (`chars`); 0 is padding",
    "tags.json": "the tags in the order of the emissions' last axis (`learned` scheme), and "
    "the data's `scheme`",
    "scaler.json": "numeric runs: each feature's `mean` and `std`; `inputs` = (x - mean) / std",
}


class TaggerGraph(nn.Module):
    """``(words, lengths, casing, chars) -> emissions`` (text) or ``(inputs, lengths) ->
    emissions`` (numeric); characters' lengths are their non-zero ids, as in training."""

    def __init__(self, model: SequenceTagger) -> None:
        super().__init__()
        self.model = model

    def forward(self, inputs: Tensor, lengths: Tensor, *extra: Tensor) -> Tensor:
        casing = extra[0] if self.model.casing is not None else None
        chars = extra[-1] if self.model.chars is not None else None
        char_lengths = None if chars is None else (chars > 0).sum(-1)
        return self.model(inputs, lengths, casing=casing, chars=chars, char_lengths=char_lengths)


def export_plan(task: TaggerTask, run: RunDir) -> ExportPlan:
    """The emissions graph, the CRF's scores (``crf.json``) and the vocabularies."""
    model = task.model
    if model.context_size:
        raise ConfigError(
            "a tagger with contextual string embeddings (--context-lms) has no ONNX export "
            "yet: its character language models run outside the tagger",
            key="format",
        )
    K = model.num_tags
    graph = Graph(
        name="tagger",
        module=TaggerGraph(model),
        inputs=_inputs(model),
        outputs=(Port("emissions", "float32", ("batch", "time", K), "each word's tag scores"),),
        sample=lambda B, T: _sample(task, B, T),
        meaning="Each word's score for each tag (tags.json's order). Without a CRF the best "
        "tag is the largest; with one, decode with crf.json's scores (Viterbi).",
    )
    files = run_files(run, FILES)
    if model.crf is not None:
        files["crf.json"] = (_crf_scores(model), _CRF_MEANING)
    if model.casing is not None:
        files["casing.json"] = (json.dumps({"casings": list(CASINGS)}).encode(), _CASING_MEANING)
    return ExportPlan("tag", (graph,), files)


_CRF_MEANING = (
    "the CRF's `transitions` [from][to], `start` and `end` scores, forbidden moves at -10000: "
    "the best tag sequence maximises start + emissions + transitions + end (Viterbi)"
)
_CASING_MEANING = (
    "the casing classes (`casing` ids): number (digits and .,-/ only), has_digit, other (no "
    "letters), lower, upper, title, else mixed; 0 is padding"
)


def _inputs(model: SequenceTagger) -> tuple[Port, ...]:
    lengths = Port("lengths", "int64", ("batch",), "words in each sentence, 1 to time")
    if model.projection is not None:
        F = model.projection.in_features
        return (Port("inputs", "float32", ("batch", "time", F), "scaled steps"), lengths)
    ports = [
        Port("words", "int64", ("batch", "time"), "word ids, `<pad>` past each length"),
        lengths,
    ]
    if model.casing is not None:
        ports.append(Port("casing", "int64", ("batch", "time"), "casing.json's class of each word"))
    if model.chars is not None:
        ports.append(
            Port(
                "chars", "int64", ("batch", "time", "chars"), "each word's character ids, 0-padded"
            )
        )
    return tuple(ports)


def _sample(task: TaggerTask, B: int, T: int) -> tuple[Tensor, ...]:
    model = task.model
    lengths = padded_lengths(B, T)
    if model.projection is not None:
        return padded_steps(lengths, T, model.projection.in_features), lengths
    valid = torch.arange(T) < lengths[:, None]
    words = task.artifacts.words
    out = [padded_ids(lengths, T, len(words), words.pad_id), lengths]
    if model.casing is not None:
        out.append(torch.randint(1, len(CASINGS), (B, T)) * valid)
    if model.chars is not None:
        W = T // 2 + 1  # words' width varies with the check's lengths too
        chars = torch.randint(1, len(task.artifacts.chars), (B, T, W))
        word_ends = torch.randint(1, W + 1, (B, T, 1))
        chars = chars * (torch.arange(W) < word_ends) * valid[..., None]
        out.append(chars)
    return tuple(out)


def _crf_scores(model: SequenceTagger) -> bytes:
    crf = model.crf
    assert crf is not None
    with torch.no_grad():
        scores = {
            "transitions": crf._transitions().tolist(),
            "start": crf._start().tolist(),
            "end": crf._end().tolist(),
        }
    return json.dumps(scores).encode()
