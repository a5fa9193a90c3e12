"""Contextual string embeddings (Akbik, Blythe & Vollgraf 2018): a word's features read from
character language models run over the whole sentence.

The sentence is one string ``S`` (its tokens joined by single spaces). A forward character
model reads ``S`` left to right; a word ``S[s:e]`` gets the model's state after the space
that follows it, which has seen the word and everything before it. A backward model
(``rnnkit lm train --reverse``) reads ``S`` right to left; the word gets its state after the
space before it, which has seen the word and everything after it::

    forward  input  \\n  w  o  r  d  ␣  ...         state at index e + 1
    backward input  \\n  ... ␣  d  r  o  w  ␣      state at index n - s + 1   (n = len(S))

(a space is appended to both inputs, so the last word of the forward string and the first
of the backward one have one too). Each model's states have the width of its recurrent
stack's output; a word's feature is their concatenation, ``width`` wide. The models stay
fixed: the features of a sentence are computed once, before training.

A run that uses them (the tagger's) keeps its language models: ``context.json`` (each one's
config and character vocabulary) and ``context-<i>.safetensors`` (its weights), so the run is
used alone. The models are the ``lm`` job's tasks, found by name like every job here.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnnkit.config import ConfigError, from_dict, to_dict
from rnnkit.data import Vocabulary
from rnnkit.models.language_model import LanguageModel
from rnnkit.tasks.common.registry import job_named
from rnnkit.tasks.common.runs import load
from rnnkit.tasks.common.text_encoding import TextEncoding
from rnnkit.training.rundir import RunDir
from rnnkit.training.weights import load_model_weights, save_model_weights

__all__ = ["ContextEmbedder"]

_FILE = "context"


class ContextEmbedder:
    """Per-word features from fixed character language models (forward and/or backward).

    Args:
        models: Character-level language models (the ``lm`` job's tasks, as
            :func:`~rnnkit.load` gives them); each reads left to right, or right to left when
            it was trained with ``reverse``.

    Raises:
        ConfigError: A model is not character level, or none is given.
    """

    def __init__(self, models: Sequence[Any]) -> None:
        if not models:
            raise ConfigError("expected at least one language model run", key="context_lms")
        for lm in models:
            if lm.level != "char":
                where = f"{lm.run.path} is" if lm.run is not None else "a model is"
                raise ConfigError(
                    f"{where} a {lm.level}-level language model; contextual string embeddings "
                    "read characters: train it with `rnnkit lm train --level char`",
                    key="context_lms",
                )
        self.models = list(models)

    @property
    def width(self) -> int:
        """Features per word: the models' output widths added up."""
        return sum(_output_width(lm.model) for lm in self.models)

    @classmethod
    def from_runs(cls, paths: Sequence[str | Path]) -> ContextEmbedder:
        """The language models of ``rnnkit lm`` run directories."""
        return cls([load(path, kind="lm") for path in paths])

    def embed(self, sentences: Sequence[Sequence[str]], batch_size: int = 64) -> list[np.ndarray]:
        """Each sentence's (T, width) float16 features, in order."""
        parts = [_embed_with(lm, sentences, batch_size) for lm in self.models]
        return [np.concatenate(p, axis=1) for p in zip(*parts, strict=True)]

    def save(self, run: RunDir) -> None:
        """Writes ``context.json`` and each model's ``context-<i>.safetensors`` into ``run``."""
        entries = []
        for i, lm in enumerate(self.models):
            save_model_weights(run.path / f"{_FILE}-{i}.safetensors", lm.model)
            entries.append({"config": to_dict(lm.config), "vocab": lm.vocab.to_dict()})
        run.write_extra(_FILE, {"models": entries})

    @classmethod
    def read(cls, run: RunDir) -> ContextEmbedder:
        """The models :meth:`save` wrote (nothing unpickled).

        Raises:
            RunDirError: ``context.json`` is missing or does not describe the models.
            CheckpointError: A weights file is missing or does not fit its model.
        """
        return cls(run.read_extra_as(_FILE, lambda raw: _models(raw, run)))


def _models(raw: Any, run: RunDir) -> list[Any]:
    if not isinstance(raw, dict) or not isinstance(raw.get("models"), list):
        raise ConfigError("expected {'models': [...]}")
    job, models = job_named("lm"), []
    for i, entry in enumerate(raw["models"]):
        if not isinstance(entry, dict) or set(entry) != {"config", "vocab"}:
            raise ConfigError("expected the keys ['config', 'vocab']", key=f"models[{i}]")
        config = from_dict(job.config, entry["config"], path=f"models[{i}].config")
        vocab = Vocabulary.from_dict(entry["vocab"], file=run.path / f"{_FILE}.json")
        encoding = TextEncoding(vocab)
        model = job.build_model(config, encoding)
        load_model_weights(run.path / f"{_FILE}-{i}.safetensors", model)
        models.append(job.task(config, encoding, model, None))
    return models


def _output_width(model: LanguageModel) -> int:
    if model.projection is not None:
        return model.projection.out_features
    return model.rnn.output_size


def boundary_positions(tokens: Sequence[str], *, backward: bool) -> list[int]:
    """Where each word's state is read in the model's input (see the module docstring).

    Example:
        >>> boundary_positions(["EU", "rejects"], backward=False)  # \\n E U ␣ r e j e c t s ␣
        [3, 11]
        >>> boundary_positions(["EU", "rejects"], backward=True)   # \\n s t c e j e r ␣ U E ␣
        [11, 8]
    """
    n = sum(map(len, tokens)) + len(tokens) - 1
    positions, start = [], 0
    for token in tokens:
        end = start + len(token)
        positions.append(n - start + 1 if backward else end + 1)
        start = end + 1
    return positions


def _model_input(lm: Any, tokens: Sequence[str]) -> list[int]:
    """``\\n``, the sentence's characters (reversed for a backward model), a space."""
    text = " ".join(tokens)
    if lm.backward:
        text = text[::-1]
    return [lm.vocab.id("\n"), *lm.vocab.encode([*text, " "])]


@torch.no_grad()
def _embed_with(lm: Any, sentences: Sequence[Sequence[str]], batch_size: int) -> list[np.ndarray]:
    """One model's (T, H) features of each sentence. Sentences of similar length share a
    batch; padding comes after each one, so it never reaches the states that are read."""
    model = lm.model.eval()
    device = next(model.parameters()).device
    inputs = [_model_input(lm, s) for s in sentences]
    order = sorted(range(len(inputs)), key=lambda i: len(inputs[i]))
    out: list[np.ndarray] = [np.empty(0)] * len(inputs)
    for first in range(0, len(order), batch_size):
        group = order[first : first + batch_size]
        ids = torch.zeros(len(group), max(len(inputs[i]) for i in group), dtype=torch.long)
        for row, i in enumerate(group):
            ids[row, : len(inputs[i])] = torch.as_tensor(inputs[i])
        states, _ = model.features(ids.to(device))  # (B, L, H)
        for row, i in enumerate(group):
            at = torch.as_tensor(boundary_positions(sentences[i], backward=lm.backward))
            out[i] = states[row, at.to(device)].to(torch.float16).cpu().numpy()
    return out
