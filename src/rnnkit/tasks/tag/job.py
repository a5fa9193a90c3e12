"""Sequence tagging declared on the job skeleton: ``rnnkit tag train``.

Config -> tagged sentences (CoNLL columns, token<TAB>tag, JSONL; numeric JSONL) -> tags in the
learned scheme, word and character vocabularies (or a scaler) -> length-bucketed batches ->
:class:`~rnnkit.models.tagger.SequenceTagger` (a CRF constrained by the scheme, or softmax)
-> ``fit`` (best epoch by validation entity F1) -> a run directory, which loads back as a
:class:`~rnnkit.tasks.tag.task.TaggerTask`.

The run directory holds, beside the weights and ``config.json``: ``tags.json`` (the tags in
id order, the data's scheme and the learned one), and ``vocab.json`` and ``chars.json``
(text) or ``scaler.json`` (numeric); with pretrained vectors ``embeddings.json`` says how many
words and tokens they covered; a run started from a language model (``--init-from``) keeps
its vocabulary as ``vocab.json`` and needs the model no more; with context language models
``context.json`` and ``context-<i>.safetensors`` hold them
(:mod:`rnnkit.tasks.common.string_embeddings`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import torch

from rnnkit.config import ConfigError
from rnnkit.data import Vocabulary
from rnnkit.data.casing import CASINGS
from rnnkit.data.embeddings import load_vectors
from rnnkit.data.scaler import Scaler
from rnnkit.data.tags import SCHEMES, convert, end_allowed, start_allowed, transition_allowed
from rnnkit.models.tagger import SequenceTagger
from rnnkit.tasks import common
from rnnkit.tasks.common import FitPlan, Job, Notify, Prepared, text_init
from rnnkit.tasks.common.onnx_export import ExportPlan
from rnnkit.tasks.common.string_embeddings import ContextEmbedder
from rnnkit.tasks.common.text_encoding import TextEncoding
from rnnkit.tasks.tag import data as tdata
from rnnkit.tasks.tag import export
from rnnkit.tasks.tag.batches import TagBatch, make_batches, replace_singletons, singletons
from rnnkit.tasks.tag.config import TagConfig
from rnnkit.tasks.tag.data import Encoded
from rnnkit.tasks.tag.objective import TagObjective
from rnnkit.tasks.tag.presets import PRESETS
from rnnkit.tasks.tag.task import TagArtifacts, TaggerTask
from rnnkit.training.loop import FitResult
from rnnkit.training.progress import Progress
from rnnkit.training.rundir import RunDir

__all__ = ["JOB", "Tagging", "build_model", "preset_config", "resume_config", "train"]


class Splits(NamedTuple):
    """Encoded training and validation sentences, and the training tokens (text), for the
    coverage of pretrained vectors."""

    train: Encoded
    valid: Encoded
    tokens: list[list[str]] | None


class Tagging(Job):
    """The ``tag`` job."""

    name = "tag"
    title = "tagger"
    config = TagConfig
    presets = PRESETS

    def adopt(self, config: TagConfig) -> TagConfig:
        return text_init.adopted(config)

    def prepare(self, config: TagConfig, artifacts: TagArtifacts | None) -> Prepared:
        data = config.data
        train_s, valid_s = tdata.load_splits(data, config.train.seed)
        assert train_s.tags is not None
        if artifacts is None:
            artifacts = _fit_artifacts(config, train_s)
        encode = {
            "words": artifacts.words,
            "chars": artifacts.chars,
            "scaler": artifacts.scaler,
            "tags": artifacts.tags,
            "scheme": artifacts.learned,
            "context": artifacts.context,
        }
        splits = Splits(
            tdata.encode(train_s, data, **encode),
            tdata.encode(valid_s, data, **encode),
            train_s.inputs if data.inputs == "text" else None,
        )
        return Prepared(artifacts, splits)

    def save_artifacts(self, run: RunDir, artifacts: TagArtifacts) -> None:
        tags = {"tags": artifacts.tags, "scheme": artifacts.scheme, "learned": artifacts.learned}
        run.write_extra("tags", tags)
        if artifacts.words is not None:
            TextEncoding(artifacts.words).save(run)
            run.write_extra("chars", artifacts.chars.to_dict())
            if artifacts.context is not None:
                artifacts.context.save(run)
        else:
            run.write_extra("scaler", artifacts.scaler.to_dict())

    def read_artifacts(self, run: RunDir, config: TagConfig) -> TagArtifacts:
        head = run.read_extra_as("tags", _tags_file)
        if config.data.inputs == "numeric":
            return TagArtifacts(*head, None, None, run.read_extra_as("scaler", Scaler.from_dict))
        chars = Vocabulary.from_dict(run.read_extra("chars"), file=run.path / "chars.json")
        context = ContextEmbedder.read(run) if config.init.context_lms else None
        return TagArtifacts(*head, TextEncoding.read(run).vocab, chars, None, context)

    def build_model(self, config: TagConfig, artifacts: TagArtifacts) -> SequenceTagger:
        return build_model(config, artifacts)

    def plan(
        self,
        config: TagConfig,
        prepared: Prepared,
        model: SequenceTagger,
        run: RunDir,
        *,
        fresh: bool,
        notify: Notify | None = None,
    ) -> FitPlan:
        artifacts, splits = prepared
        data, init, seed = config.data, config.init, config.train.seed
        if fresh and init.init_from is not None:
            text_init.LanguageModelStart.of(init).copy_into(model)
        if fresh and init.embeddings is not None and artifacts.words is not None:
            _load_vectors(config, artifacts, splits, model, run, notify)
        unfreeze = init.init_from is not None and init.gradual_unfreeze
        pad = 0 if artifacts.words is None else artifacts.words.pad_id
        words = artifacts.words
        once = None
        if words is not None and words.unk_id is not None and data.unk_replace:
            once, unk = singletons(splits.train, len(words)), words.unk_id

        def train_batches(epoch: int) -> list[TagBatch]:
            # A pure function of the epoch, so a resumed run sees the same batches (and, with
            # gradual unfreezing, trains the same groups).
            if unfreeze:
                freeze = config.model.freeze_embeddings
                text_init.unfreeze_for_epoch(model, epoch, freeze_embeddings=freeze)
            train = splits.train
            if once is not None:
                train = replace_singletons(train, once, unk, data.unk_replace, seed + epoch)
            return make_batches(
                train,
                data.batch_size,
                pad_id=pad,
                bucket=data.bucket,
                shuffle=True,
                seed=seed * 100_003 + epoch,
            )

        valid = make_batches(
            splits.valid, data.eval_batch_size, pad_id=pad, bucket=True, shuffle=False
        )
        lr_groups = None
        if init.init_from is not None and init.discriminative_lr != 1.0:
            lr_groups = text_init.discriminative_groups(model, init.discriminative_lr)
        objective = TagObjective(artifacts.tags, artifacts.learned)
        return FitPlan(train_batches, valid, objective, lr_groups)

    def export(self, task: TaggerTask, run: RunDir) -> ExportPlan:
        return export.export_plan(task, run)

    def task(
        self, config: TagConfig, artifacts: TagArtifacts, model: SequenceTagger, run: RunDir | None
    ) -> TaggerTask:
        return TaggerTask(config, artifacts, model, run)

    def details(self, task: TaggerTask, result: FitResult) -> dict[str, Any]:
        a = task.artifacts
        types = sorted({t[2:] for t in a.tags if t != "O"}) if a.scheme != "none" else a.tags
        return {"scheme": a.scheme, "learned_scheme": a.learned, "types": types}

    def describe(self, summary: Mapping[str, Any]) -> list[str]:
        d = summary["details"]
        kind = (
            "labels"
            if d["scheme"] == "none"
            else f"entity types ({d['scheme']} data, learned in {d['learned_scheme']})"
        )
        return [f"{kind}: {', '.join(d['types'])}"]

    def check_flags(self, config: TagConfig, given: Sequence[str]) -> None:
        text_init.check_not_adopted(config.init, given)


def _tags_file(data: Any) -> tuple[list[str], str, str]:
    """``tags.json``: the tags in id order (distinct non-empty strings), the data's scheme and
    the learned one."""
    schemes = (*SCHEMES, "none")
    if not isinstance(data, dict) or set(data) != {"tags", "scheme", "learned"}:
        got = sorted(data) if isinstance(data, dict) else type(data).__name__
        raise ConfigError(f"expected the keys ['learned', 'scheme', 'tags'], got {got}")
    tags = data["tags"]
    if not isinstance(tags, list) or not tags or not all(isinstance(t, str) and t for t in tags):
        raise ConfigError(f"expected a list of tag names, got {str(tags)[:60]}", key="tags")
    if len(set(tags)) != len(tags):
        raise ConfigError("a tag is named more than once", key="tags")
    for key in ("scheme", "learned"):
        if data[key] not in schemes:
            raise ConfigError(f"expected one of {schemes}, got {data[key]!r}", key=key)
    return tags, data["scheme"], data["learned"]


JOB = Tagging()


def _fit_artifacts(config: TagConfig, train: tdata.Sentences) -> TagArtifacts:
    """A new run's tags, vocabularies or scaler, from the training sentences."""
    assert train.tags is not None
    learned = tdata.learned_scheme(config.data, train.scheme)
    written = train.tags
    if learned != train.scheme:
        written = [convert(s, train.scheme, learned) for s in train.tags]
    tags = tdata.tag_names(written, learned)
    if config.data.inputs == "numeric":
        if config.init.context_lms:
            raise ConfigError(
                "contextual string embeddings read words; --inputs numeric has none",
                key="init.context_lms",
            )
        return TagArtifacts(tags, train.scheme, learned, None, None, Scaler.fit(train.inputs))
    words = _words(config, train)
    context = None
    if config.init.context_lms:
        context = ContextEmbedder.from_runs(config.init.context_lms)
    chars = tdata.build_chars(train.inputs)
    return TagArtifacts(tags, train.scheme, learned, words, chars, None, context)


def _words(config: TagConfig, train: tdata.Sentences) -> Vocabulary:
    """A new run's word vocabulary: the language model's it starts from, or the training
    words (with the most frequent words of the pretrained vectors, ``vector_words``)."""
    if config.init.init_from is not None:
        return text_init.LanguageModelStart.of(config.init).vocabulary()
    extra: list[str] = []
    if config.init.embeddings is not None and config.data.vector_words:
        extra = load_vectors(config.init.embeddings)[0][: config.data.vector_words]
    return tdata.build_words(train.inputs, config.data, extra)


def _load_vectors(
    config: TagConfig,
    artifacts: TagArtifacts,
    splits: Splits,
    model: SequenceTagger,
    run: RunDir,
    notify: Notify | None,
) -> None:
    """Fills the word embedding with pretrained vectors; the run keeps their coverage."""
    assert model.embedding is not None and splits.tokens is not None and config.init.embeddings
    keys = [[tdata.word_key(t, config.data) for t in s] for s in splits.tokens]
    report = text_init.load_pretrained_vectors(
        model.embedding,
        artifacts.words,
        config.init.embeddings,
        lowercase=config.data.lowercase,
        seed=config.train.seed,
        tokens=keys,
    )
    run.write_extra("embeddings", text_init.coverage_dict(report))
    if notify is not None:
        notify("pretrained vectors", report)


def constraints(tags: Sequence[str], scheme: str) -> dict[str, torch.Tensor]:
    """The CRF's ``allowed``, ``allowed_start`` and ``allowed_end`` masks for ``tags`` in an
    entity ``scheme`` (no ``I-PER`` after ``O`` in BIO); none for plain labels."""
    if scheme == "none":
        return {}
    return {
        "allowed": torch.tensor([[transition_allowed(a, b, scheme) for b in tags] for a in tags]),
        "allowed_start": torch.tensor([start_allowed(t, scheme) for t in tags]),
        "allowed_end": torch.tensor([end_allowed(t, scheme) for t in tags]),
    }


def build_model(config: TagConfig, artifacts: TagArtifacts) -> SequenceTagger:
    """The tagger of ``config`` for the artifacts' tags and vocabularies (or features)."""
    masks = constraints(artifacts.tags, artifacts.learned)
    if artifacts.words is None:
        features = len(artifacts.scaler.mean)
        return SequenceTagger(len(artifacts.tags), config.model, num_features=features, **masks)
    return SequenceTagger(
        len(artifacts.tags),
        config.model,
        vocab_size=len(artifacts.words),
        num_chars=len(artifacts.chars),
        num_casings=len(CASINGS),
        pad_id=artifacts.words.pad_id,
        context_size=0 if artifacts.context is None else artifacts.context.width,
        **masks,
    )


def train(
    config: TagConfig,
    out: Path | str,
    *,
    overwrite: bool = False,
    resume: bool = False,
    progress: Progress | None = None,
    notify: Notify | None = None,
) -> tuple[TaggerTask, FitResult]:
    """Trains a tagger into the run directory ``out`` (see :func:`rnnkit.tasks.common.train`)."""
    return common.train(
        JOB, config, out, overwrite=overwrite, resume=resume, progress=progress, notify=notify
    )


def preset_config(name: str | None) -> dict[str, Any]:
    """The defaults with preset ``name`` merged in, as a nested dict."""
    return common.preset_config(JOB, name)


def resume_config(run: RunDir, overrides: Sequence[str] = ()) -> TagConfig:
    """The run's saved config with resumable ``train.<field>=value`` overrides."""
    return common.resume_config(JOB, run, overrides)
