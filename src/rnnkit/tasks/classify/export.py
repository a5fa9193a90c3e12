"""The classifier's ONNX export: one graph from token ids (or scaled steps) to class scores."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnnkit.tasks.classify.stacking import LOG_FLOOR
from rnnkit.tasks.classify.task import ClassifierTask
from rnnkit.tasks.common.onnx_export import ExportPlan, Graph, Port, run_files
from rnnkit.tasks.common.samples import padded_ids, padded_lengths, padded_steps
from rnnkit.training.rundir import RunDir

__all__ = ["export_plan"]

FILES = {
    "config.json": "the run's config: `text` says how a text becomes tokens, "
    "`data.max_len` and `data.truncate` how long sequences are cut",
    "vocab.json": "token -> id (the `inputs` of text runs); unknown tokens take `<unk>`'s "
    "id, padding `<pad>`'s",
    "tokenizer.model": "the sentencepiece model of a subword run (its pieces are vocab.json's)",
    "labels.json": "the class names, in the order of the graph's class axis",
    "scaler.json": "numeric runs: each feature's `mean` and `std`; `inputs` = (x - mean) / std",
    "baseline.json": "the TF-IDF baseline's vectorizer settings and vocabularies (stacked runs: "
    "its log-probabilities are the `offsets` input)",
    "baseline.safetensors": "the TF-IDF baseline's idf weights and logistic-regression "
    "coefficients",
}


class ClassifierGraph(nn.Module):
    """``(inputs, lengths[, offsets]) -> (logits, probabilities)``, both (B, C)."""

    def __init__(self, model: nn.Module, stacked: bool) -> None:
        super().__init__()
        self.model, self.stacked = model, stacked

    def forward(self, inputs: Tensor, lengths: Tensor, *offsets: Tensor) -> tuple[Tensor, Tensor]:
        logits = self.model(inputs, lengths, offsets[0] if self.stacked else None)
        return logits, torch.softmax(logits, dim=-1)


def export_plan(task: ClassifierTask, run: RunDir) -> ExportPlan:
    """The classifier's graph and the files that turn a text into its inputs."""
    stacked = task.stacked_on is not None
    C = len(task.classes)
    graph = Graph(
        name="classifier",
        module=ClassifierGraph(task.model, stacked),
        inputs=(_input(task), _lengths(), *([_offsets(C)] if stacked else [])),
        outputs=(
            Port("logits", "float32", ("batch", C), "class scores"),
            Port("probabilities", "float32", ("batch", C), "softmax of the scores"),
        ),
        sample=lambda B, T: _sample(task, stacked, B, T),
        meaning="A batch of sequences to each one's class scores and probabilities.",
    )
    return ExportPlan("classify", (graph,), run_files(run, FILES), _notes(task, stacked))


def _input(task: ClassifierTask) -> Port:
    if task.vocab is not None:
        return Port(
            "inputs", "int64", ("batch", "time"), "token ids (vocab.json), `<pad>` past each length"
        )
    F = task.model.projection.in_features
    return Port(
        "inputs",
        "float32",
        ("batch", "time", F),
        "steps scaled by scaler.json, zeros past each length",
    )


def _lengths() -> Port:
    return Port("lengths", "int64", ("batch",), "real steps of each sequence, 1 to time")


def _offsets(classes: int) -> Port:
    return Port(
        "offsets",
        "float32",
        ("batch", classes),
        f"log of the TF-IDF baseline's probabilities, each at least {LOG_FLOOR:.4f} (log 1e-6)",
    )


def _sample(task: ClassifierTask, stacked: bool, B: int, T: int) -> tuple[Tensor, ...]:
    lengths = padded_lengths(B, T)
    if task.vocab is not None:
        inputs = padded_ids(lengths, T, len(task.vocab), task.vocab.pad_id)
    else:
        inputs = padded_steps(lengths, T, task.model.projection.in_features)
    if not stacked:
        return inputs, lengths
    offsets = torch.log_softmax(torch.randn(B, len(task.classes)), dim=-1).clamp_min(LOG_FLOOR)
    return inputs, lengths, offsets


def _notes(task: ClassifierTask, stacked: bool) -> tuple[str, ...]:
    notes = ["The predicted class is the largest of `logits`; its name is labels.json's entry."]
    if stacked:
        notes.append(
            "This run's network is stacked on its TF-IDF baseline: `offsets` must be the "
            "baseline's log-probabilities of the same texts (scikit-learn's TfidfVectorizer "
            "with baseline.json's settings, then the logistic regression of "
            "baseline.safetensors). `rnnkit.load(RUN).stacked_on.predict_proba(texts)` "
            "computes them in Python."
        )
    return tuple(notes)
