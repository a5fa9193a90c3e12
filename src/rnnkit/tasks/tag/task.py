"""A trained tagger with its preprocessing: tag raw text or token lists, evaluate, and show
where it went wrong."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import torch

from rnnkit.config import ConfigError
from rnnkit.data.batching import batch_indices
from rnnkit.data.scaler import as_steps
from rnnkit.data.tags import convert, spans
from rnnkit.models.tagger import SequenceTagger
from rnnkit.tasks.common.string_embeddings import ContextEmbedder
from rnnkit.tasks.tag import data as tdata
from rnnkit.tasks.tag.batches import collate
from rnnkit.tasks.tag.config import TagConfig
from rnnkit.tasks.tag.data import Encoded, Sentences
from rnnkit.tasks.tag.metrics import TaggingReport, report
from rnnkit.tasks.tag.objective import emissions
from rnnkit.tasks.tag.tokens import tokenize
from rnnkit.training.rundir import RunDir

__all__ = ["Decoded", "TagArtifacts", "TaggerTask"]


class TagArtifacts(NamedTuple):
    """What a tagging run keeps besides its weights: the tags in id order (in the learned
    scheme), the data's scheme and the learned one, the word and character vocabularies
    (text) or the scaler (numeric), and the character language models of contextual string
    embeddings (None without)."""

    tags: list[str]
    scheme: str
    learned: str
    words: Any
    chars: Any
    scaler: Any
    context: ContextEmbedder | None = None


class Decoded(NamedTuple):
    """A sentence's best tags (learned scheme) and each tag's probability (CRF marginal or
    softmax), or None when not asked for."""

    tags: list[str]
    confidence: list[float] | None


class TaggerTask:
    """A trained tagger: :meth:`predict` for text, :meth:`evaluate` for labelled sentences.

    Use :func:`rnnkit.tasks.tag.train` to make one and :func:`rnnkit.load` to get one back.
    """

    def __init__(
        self,
        config: TagConfig,
        artifacts: TagArtifacts,
        model: SequenceTagger,
        run: RunDir | None = None,
    ) -> None:
        self.config, self.artifacts, self.model, self.run = config, artifacts, model.eval(), run

    @property
    def inputs(self) -> str:
        return self.config.data.inputs

    @property
    def scheme(self) -> str:
        """The scheme predictions and reports are written in (the training data's)."""
        return self.artifacts.scheme

    def predict(self, inputs: Sequence[Any]) -> list[dict[str, Any]]:
        """The predictor interface: each input tagged, with its entities.

        Text inputs are raw strings (tokenised as :mod:`rnnkit.tasks.tag.tokens` says) or
        token lists (read as the tokens joined by single spaces). Each result holds
        ``tokens``, ``tags`` (the data's scheme) and ``entities``: ``type``, ``text``,
        ``start`` and ``end`` (character offsets: ``input[start:end] == text``),
        ``token_start``/``token_end`` (a half-open token range) and ``confidence`` (the
        smallest probability the model gives one of the entity's tags: CRF marginals by
        forward-backward, or softmax; an upper bound of the entity's own probability).
        Plain labels and numeric inputs give ``tags`` and per-step ``confidence``.

        Example (``tagger = rnnkit.load("runs/conll")``)::

            >>> tagger.predict(["Angela Merkel visited Paris."])[0]["entities"]  # doctest: +SKIP
            [{'type': 'PER', 'text': 'Angela Merkel', 'start': 0, 'end': 13, ...},
             {'type': 'LOC', 'text': 'Paris', 'start': 22, 'end': 27, ...}]
        """
        if self.inputs == "numeric":
            decoded = self.decode([as_steps(x, i) for i, x in enumerate(inputs)], confidence=True)
            return [self._labels(d) for d in decoded]
        texts = [_as_tokens(x, i) for i, x in enumerate(inputs)]
        nonempty = [i for i, tokens in enumerate(texts) if tokens]
        decoded = self.decode([[t.text for t in texts[i]] for i in nonempty], confidence=True)
        out: list[dict[str, Any]] = [{"tokens": [], "tags": [], "entities": []} for _ in texts]
        for i, result in zip(nonempty, decoded, strict=True):
            out[i] = self._tagged(texts[i], result)
        return out

    def decode(self, inputs: Sequence[Any], *, confidence: bool = False) -> list[Decoded]:
        """The best tags of token lists (text) or (T, F) arrays (numeric), in order."""
        a = self.artifacts
        sentences = Sentences(list(inputs), None, "input", a.scheme)
        encoded = tdata.encode(
            sentences,
            self.config.data,
            words=a.words,
            chars=a.chars,
            scaler=a.scaler,
            tags=None,
            scheme=a.learned,
            context=a.context,
        )
        return self._decode(encoded, confidence)

    @torch.no_grad()
    def _decode(self, encoded: Encoded, confidence: bool) -> list[Decoded]:
        device = next(self.model.parameters()).device
        out: list[Decoded | None] = [None] * len(encoded.inputs)
        pad = 0 if self.artifacts.words is None else self.artifacts.words.pad_id
        groups = batch_indices(
            [len(x) for x in encoded.inputs], self.config.data.eval_batch_size, shuffle=False
        )
        names = self.artifacts.tags
        for group in groups:
            batch = collate(encoded, group, pad)
            batch = type(batch)(*(None if t is None else t.to(device) for t in batch))
            scores = emissions(self.model, batch)
            best = self.model.decode(scores, batch.lengths)
            probs = self.model.probabilities(scores, batch.lengths) if confidence else None
            for row, ids in enumerate(best):
                picked = None
                if probs is not None:
                    steps = torch.arange(len(ids), device=probs.device)
                    chosen = torch.as_tensor(ids, device=probs.device)
                    picked = probs[row, steps, chosen].float().cpu().tolist()
                out[group[row]] = Decoded([names[i] for i in ids], picked)
        return [d for d in out if d is not None]

    def evaluate(self, sentences: Sentences) -> tuple[TaggingReport, list[list[str]]]:
        """The report of tagging labelled ``sentences``, and the predicted tags (the data's
        scheme)."""
        if sentences.tags is None or not sentences.inputs:
            raise ConfigError(f"{sentences.source}: no tagged sentences to evaluate", key="data")
        predicted = [self._written(d.tags) for d in self.decode(sentences.inputs)]
        return report(sentences.tags, predicted, sentences.scheme), predicted

    def load_sentences(self, path: str | Path | None = None) -> Sentences:
        """Labelled sentences from ``path`` in the run's format and scheme; None: the run's
        test split (a dataset's, or --test)."""
        if path is None:
            path = tdata.official_test_file(self.config.data)
            if path is None:
                raise ConfigError("the run's data has no test split; give --data FILE", key="data")
        given = None if self.scheme == "none" else self.scheme
        return tdata.load_split(self.config.data, path, scheme=given)

    def _written(self, tags: list[str]) -> list[str]:
        """Learned-scheme tags in the data's scheme."""
        a = self.artifacts
        return tags if a.learned == a.scheme else convert(tags, a.learned, a.scheme)

    def _labels(self, decoded: Decoded) -> dict[str, Any]:
        return {"tags": self._written(decoded.tags), "confidence": decoded.confidence}

    def _tagged(self, tokens: list[_Placed], decoded: Decoded) -> dict[str, Any]:
        result = {"tokens": [t.text for t in tokens], **self._labels(decoded)}
        if self.scheme == "none":
            return result
        assert decoded.confidence is not None
        source = tokens[0].source
        entities = []
        for span in spans(decoded.tags, self.artifacts.learned):  # type: ignore[arg-type]
            first, last = tokens[span.start], tokens[span.end - 1]
            entities.append(
                {
                    "type": span.type,
                    "text": source[first.start : last.end],
                    "start": first.start,
                    "end": last.end,
                    "token_start": span.start,
                    "token_end": span.end,
                    "confidence": min(decoded.confidence[span.start : span.end]),
                }
            )
        result["entities"] = entities
        del result["confidence"]
        return result


class _Placed(NamedTuple):
    """A token, where it is, and the text it is in."""

    text: str
    start: int
    end: int
    source: str


def _as_tokens(value: Any, index: int) -> list[_Placed]:
    """A raw string's tokens, or a token list's tokens placed in the tokens joined by spaces."""
    if isinstance(value, str):
        return [_Placed(*t, value) for t in tokenize(value)]
    if isinstance(value, list | tuple) and all(isinstance(t, str) and t.strip() for t in value):
        joined, placed, at = " ".join(value), [], 0
        for token in value:
            placed.append(_Placed(token, at, at + len(token), joined))
            at += len(token) + 1
        return placed
    raise ConfigError(
        f"expected a text or a list of non-empty tokens, got {type(value).__name__}",
        key=f"[{index}]",
    )
