"""Language modeling declared on the job skeleton: ``rnnkit lm train``, ``rnnkit.load``.

Config -> corpus -> vocabulary (or a sentencepiece model) from the training text ->
contiguous streams -> :class:`~rnnkit.models.LanguageModel` -> ``fit`` with truncated BPTT
(the state carried across windows) -> a run directory, which loads back as a
:class:`~rnnkit.tasks.lm.task.LanguageModelTask`. The run keeps ``vocab.json`` (and
``tokenizer.model`` at the subword level): the
:class:`~rnnkit.tasks.common.text_encoding.TextEncoding` artifact.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import torch

from rnnkit.config import ConfigError
from rnnkit.data import Vocabulary
from rnnkit.data.corpus import LMCorpus, batchify, iter_tokens, load_lm_corpus
from rnnkit.data.subword import SubwordTokenizer
from rnnkit.data.vocab import require_tokens
from rnnkit.models import LanguageModel
from rnnkit.tasks import common
from rnnkit.tasks.common import FitPlan, Job, Prepared
from rnnkit.tasks.common.onnx_export import ExportPlan
from rnnkit.tasks.common.text_encoding import TextEncoding
from rnnkit.tasks.lm import export
from rnnkit.tasks.lm.batches import LMObjective, stream_batches
from rnnkit.tasks.lm.config import LMConfig, LMDataConfig
from rnnkit.tasks.lm.ids import stream_ids
from rnnkit.tasks.lm.presets import PRESETS
from rnnkit.tasks.lm.task import LanguageModelTask
from rnnkit.tasks.lm.tokens import EOS, UNK
from rnnkit.training.loop import FitResult
from rnnkit.training.progress import Progress
from rnnkit.training.rundir import RunDir

__all__ = [
    "JOB",
    "LanguageModeling",
    "build_model",
    "preset_config",
    "resume_config",
    "split_text",
    "train",
]


class LanguageModeling(Job):
    """The ``lm`` job: artifacts are the :class:`TextEncoding`, data the :class:`LMCorpus`."""

    name = "lm"
    title = "language model"
    config = LMConfig
    presets = PRESETS

    def prepare(self, config: LMConfig, artifacts: TextEncoding | None) -> Prepared:
        corpus = _load_corpus(config.data)
        if artifacts is None:
            artifacts = _build_encoding(config.data, corpus.train)
        return Prepared(artifacts, corpus)

    def save_artifacts(self, run: RunDir, artifacts: TextEncoding) -> None:
        artifacts.save(run)

    def read_artifacts(self, run: RunDir, config: LMConfig) -> TextEncoding:
        return TextEncoding.read(run, subword=config.data.level == "subword")

    def build_model(self, config: LMConfig, artifacts: TextEncoding) -> LanguageModel:
        return build_model(config, len(artifacts.vocab))

    def plan(
        self, config: LMConfig, prepared: Prepared, model: Any, run: RunDir, **_: Any
    ) -> FitPlan:
        data, encoding, corpus = config.data, prepared.artifacts, prepared.data
        k1, k2 = config.train.k1, config.train.k2

        def stream(text: str, field: str, what: str) -> torch.Tensor:
            ids = stream_ids(
                text, data.level, encoding.vocab, encoding.tokenizer, reverse=data.reverse
            )
            return batchify(ids, getattr(data, field), field=field, what=what)

        valid = "validation text" if data.valid or data.dataset else _held_out(data)
        return FitPlan(
            stream_batches(stream(corpus.train, "batch_size", "training text"), k1, k2),
            stream_batches(stream(corpus.valid, "eval_batch_size", valid), k2, k2),
            LMObjective(),
        )

    def export(self, task: LanguageModelTask, run: RunDir) -> ExportPlan:
        return export.export_plan(task, run)

    def task(
        self, config: LMConfig, artifacts: TextEncoding, model: Any, run: RunDir | None
    ) -> LanguageModelTask:
        return LanguageModelTask(config, artifacts.vocab, model, run, tokenizer=artifacts.tokenizer)

    def details(self, task: LanguageModelTask, result: FitResult) -> dict[str, Any]:
        return {"vocab_size": len(task.vocab), "level": task.level}

    def describe(self, summary: Mapping[str, Any]) -> list[str]:
        details, validation = summary["details"], summary["validation"]
        unit = token_unit(details["level"])
        lines = [f"vocabulary: {details['vocab_size']} {unit}s"]
        if "loss" in validation:
            line = f"validation: {validation['loss']:.4f} nats/{unit}"
            if details["level"] == "char":
                line += f", {validation['bpt']:.4f} bits/char"
            lines.append(line + f", perplexity {validation['ppl']:.2f}")
        return lines


JOB = LanguageModeling()


def token_unit(level: str) -> str:
    """What one token is called in reports: a char, a (word-level) token, a subword piece."""
    return {"char": "char", "subword": "piece"}.get(level, "token")


def build_model(config: LMConfig, vocab_size: int) -> LanguageModel:
    """The language model of ``config`` over ``vocab_size`` tokens."""
    return LanguageModel(vocab_size, config.model)


def train(
    config: LMConfig,
    out: Path | str,
    *,
    overwrite: bool = False,
    resume: bool = False,
    progress: Progress | None = None,
) -> tuple[LanguageModelTask, FitResult]:
    """Trains a language model into the run directory ``out`` (see
    :func:`rnnkit.tasks.common.train`).

    The vocabulary (and, at the subword level, the sentencepiece model) comes from the
    training text only; a resumed run reads both back from the run instead.

    Raises:
        ConfigError: ``data.subword_vocab`` does not fit the training text (the message
            gives the limit).
    """
    return common.train(JOB, config, out, overwrite=overwrite, resume=resume, progress=progress)


def preset_config(name: str | None) -> dict[str, Any]:
    """The defaults with preset ``name`` merged in, as a nested dict."""
    return common.preset_config(JOB, name)


def resume_config(run: RunDir, overrides: Sequence[str] = ()) -> LMConfig:
    """The run's saved config with resumable ``train.<field>=value`` overrides."""
    return common.resume_config(JOB, run, overrides)


def split_text(config: LMConfig, split: Literal["valid", "test"]) -> str:
    """The validation or test text of the run's corpus.

    Raises:
        ConfigError: The corpus has no such split (e.g. no test file was given).
    """
    corpus = _load_corpus(config.data)
    text = corpus.valid if split == "valid" else corpus.test
    if text is None:
        raise ConfigError(
            f"the corpus ({corpus.source}) has no {split} split; use --data FILE", key="split"
        )
    return text


def _load_corpus(data: LMDataConfig) -> LMCorpus:
    return load_lm_corpus(
        dataset=data.dataset,
        data=data.data,
        valid=data.valid,
        test=data.test,
        valid_fraction=data.valid_fraction,
        split_at_line=data.level != "char",
    )


def _build_encoding(data: LMDataConfig, text: str) -> TextEncoding:
    """The vocabulary of the training ``text`` (and the subword model it comes from)."""
    if data.level == "subword":
        try:
            tokenizer = SubwordTokenizer.train(text, data.subword_vocab, data.subword_model)
        except ConfigError as err:
            raise err.under("data") from None
        return TextEncoding(tokenizer.vocabulary(), tokenizer)
    vocab = Vocabulary.build(
        iter_tokens(text, data.level, eos=EOS),
        min_freq=data.min_freq,
        max_vocab=data.max_vocab,
        unk=UNK,
        eos=EOS if data.level == "word" else None,
    )
    require_tokens(vocab, min_freq=data.min_freq, max_vocab=data.max_vocab, under="data")
    return TextEncoding(vocab)


def _held_out(data: Any) -> str:
    return f"validation text (the last {data.valid_fraction:.0%} of --data)"
