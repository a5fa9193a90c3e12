"""Translation declared on the job skeleton: ``rnnkit translate train``.

Config -> sentence pairs (Multi30k, eng-fra, or files: aligned, tab-separated, JSONL) ->
each side's subword model or words and vocabulary -> pairs as ids (training pairs longer
than ``max_len`` left out) -> batches bucketed by source length ->
:class:`~rnnkit.models.seq2seq.Seq2Seq` -> ``fit`` (teacher forcing, label smoothing; best
epoch by validation loss) -> a run directory, which loads back as a
:class:`~rnnkit.tasks.translate.task.TranslatorTask`.

The run directory holds, beside the weights and ``config.json``, ``src_vocab.json`` and
``tgt_vocab.json`` and, with subwords, ``src_tokenizer.model`` and ``tgt_tokenizer.model``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rnnkit.config import ConfigError
from rnnkit.data.parallel import Parallel
from rnnkit.models.seq2seq import Seq2Seq
from rnnkit.tasks import common
from rnnkit.tasks.common import FitPlan, Job, Notify, Prepared
from rnnkit.tasks.translate import data as tdata
from rnnkit.tasks.translate.batches import Encoded, TranslateBatch, make_batches
from rnnkit.tasks.translate.config import TranslateConfig
from rnnkit.tasks.translate.objective import TranslateObjective
from rnnkit.tasks.translate.presets import PRESETS
from rnnkit.tasks.translate.task import TranslatorTask
from rnnkit.tasks.translate.tokens import Sides, fit_sides
from rnnkit.training.loop import FitResult
from rnnkit.training.progress import Progress
from rnnkit.training.rundir import RunDir

__all__ = ["JOB", "Translating", "build_model", "encode", "preset_config", "train"]


class Translating(Job):
    """The ``translate`` job."""

    name = "translate"
    title = "translator"
    config = TranslateConfig
    presets = PRESETS

    def prepare(self, config: TranslateConfig, artifacts: Sides | None) -> Prepared:
        train_pairs, valid_pairs = tdata.load_splits(config.data, config.train.seed)
        sides = fit_sides(train_pairs, config.data) if artifacts is None else artifacts
        train = encode(train_pairs, sides, max_len=config.data.max_len)
        if not train.src:
            raise ConfigError(
                f"no training pair has at most {config.data.max_len} tokens on both sides; "
                "raise --max-len",
                key="max_len",
            )
        return Prepared(sides, (train, encode(valid_pairs, sides)))

    def save_artifacts(self, run: RunDir, artifacts: Sides) -> None:
        artifacts.save(run)

    def read_artifacts(self, run: RunDir, config: TranslateConfig) -> Sides:
        return Sides.read(run, subword=config.data.tokens == "subword")

    def build_model(self, config: TranslateConfig, artifacts: Sides) -> Seq2Seq:
        return build_model(config, artifacts)

    def plan(
        self,
        config: TranslateConfig,
        prepared: Prepared,
        model: Seq2Seq,
        run: RunDir,
        *,
        fresh: bool,
        notify: Notify | None = None,
    ) -> FitPlan:
        sides, (train, valid) = prepared
        data, seed, eos = config.data, config.train.seed, sides.tgt.vocab.eos_id

        def train_batches(epoch: int) -> list[TranslateBatch]:
            # A pure function of the epoch, so a resumed run sees the same batches.
            return make_batches(
                train,
                data.batch_size,
                eos_id=eos,
                bucket=data.bucket,
                shuffle=True,
                seed=seed * 100_003 + epoch,
            )

        valid_batches = make_batches(
            valid, data.eval_batch_size, eos_id=eos, bucket=True, shuffle=False
        )
        bleu = None
        if config.train.monitor == "val_bleu":

            def bleu(model: Seq2Seq) -> float:
                return TranslatorTask(config, sides, model, None).bleu_of_ids(valid)

        return FitPlan(
            train_batches, valid_batches, TranslateObjective(config.label_smoothing, bleu)
        )

    def task(
        self, config: TranslateConfig, artifacts: Sides, model: Seq2Seq, run: RunDir | None
    ) -> TranslatorTask:
        return TranslatorTask(config, artifacts, model, run)

    def details(self, task: TranslatorTask, result: FitResult) -> dict[str, Any]:
        data = task.config.data
        return {
            "src": data.src,
            "tgt": data.tgt,
            "tokens": data.tokens,
            "src_vocab": len(task.sides.src.vocab),
            "tgt_vocab": len(task.sides.tgt.vocab),
        }

    def describe(self, summary: Mapping[str, Any]) -> list[str]:
        d = summary["details"]
        return [
            f"{d['src']} -> {d['tgt']}, {d['tokens']} vocabularies of {d['src_vocab']:,} and "
            f"{d['tgt_vocab']:,} tokens"
        ]


JOB = Translating()


def encode(pairs: Parallel, sides: Sides, *, max_len: int | None = None) -> Encoded:
    """``pairs`` as ids; with ``max_len``, pairs with more tokens on a side are left out,
    and so are pairs whose source has no token at all."""
    src, tgt = [], []
    for s, t in zip(pairs.src, pairs.tgt, strict=True):
        s_ids, t_ids = sides.src.encode(s), sides.tgt.encode(t)
        if not s_ids or (max_len is not None and max(len(s_ids), len(t_ids)) > max_len):
            continue
        src.append(s_ids)
        tgt.append(t_ids)
    return Encoded(src, tgt)


def build_model(config: TranslateConfig, sides: Sides) -> Seq2Seq:
    """The encoder-decoder of ``config`` for both sides' vocabularies."""
    return Seq2Seq(
        len(sides.src.vocab),
        len(sides.tgt.vocab),
        config.model,
        src_pad_id=sides.src.vocab.pad_id,
        tgt_pad_id=sides.tgt.vocab.pad_id,
    )


def train(
    config: TranslateConfig,
    out: Path | str,
    *,
    overwrite: bool = False,
    resume: bool = False,
    progress: Progress | None = None,
    notify: Notify | None = None,
) -> tuple[TranslatorTask, FitResult]:
    """Trains a translator into the run directory ``out`` (see
    :func:`rnnkit.tasks.common.train`)."""
    return common.train(
        JOB, config, out, overwrite=overwrite, resume=resume, progress=progress, notify=notify
    )


def preset_config(name: str | None) -> dict[str, Any]:
    """The defaults with preset ``name`` merged in, as a nested dict."""
    return common.preset_config(JOB, name)
