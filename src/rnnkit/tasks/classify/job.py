"""Sequence classification declared on the job skeleton: ``rnnkit classify train``.

Config -> examples -> preprocessing and vocabulary (or a scaler for numeric sequences) ->
length-bucketed batches -> :class:`~rnnkit.models.classifier.SequenceClassifier` -> ``fit``
-> a run directory, which loads back as a :class:`~rnnkit.tasks.classify.task.ClassifierTask`.

The run directory holds, beside the weights and ``config.json`` (whose ``text`` section is the
preprocessing pipeline, so prediction reads text exactly as training did): ``vocab.json``
(the :class:`~rnnkit.tasks.common.text_encoding.TextEncoding`) or ``scaler.json``, and
``labels.json`` (the class names in id order). A stacked run
(:mod:`rnnkit.tasks.classify.stacking`) fits its TF-IDF baseline before training and keeps it
with the other artifacts, and the offsets it trained on in ``stacking.safetensors`` (so that a
resumed run trains on exactly the same ones); any other text run fits the baseline after
training, for comparison only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from safetensors.numpy import load as load_arrays
from safetensors.numpy import save as save_arrays

from rnnkit.config import ConfigError
from rnnkit.data import DataError, Vocabulary
from rnnkit.data.batching import LabelledBatch
from rnnkit.data.embeddings import CoverageReport
from rnnkit.data.token_cache import tokenize_many
from rnnkit.models.classifier import SequenceClassifier
from rnnkit.tasks import common
from rnnkit.tasks.classify import data as cdata
from rnnkit.tasks.classify import export
from rnnkit.tasks.classify.baseline import TfidfBaseline
from rnnkit.tasks.classify.batches import ClassifyObjective, Encoded, make_batches
from rnnkit.tasks.classify.comparison import describe_baseline
from rnnkit.tasks.classify.config import ClassifyConfig
from rnnkit.tasks.classify.data import Scaler
from rnnkit.tasks.classify.presets import PRESETS
from rnnkit.tasks.classify.stacking import StackedStart, fit_stacked_start
from rnnkit.tasks.classify.task import ClassifierTask, as_steps
from rnnkit.tasks.common import FitPlan, Job, Notify, Prepared, text_init
from rnnkit.tasks.common.onnx_export import ExportPlan
from rnnkit.tasks.common.text_encoding import TextEncoding
from rnnkit.training.loop import FitResult
from rnnkit.training.progress import Progress
from rnnkit.training.rundir import RunDir

__all__ = [
    "JOB",
    "ClassifierArtifacts",
    "Classification",
    "build_model",
    "preset_config",
    "resume_config",
    "train",
]


class ClassifierArtifacts(NamedTuple):
    """The class names in id order, the text encoding (text inputs) or the scaler (numeric
    inputs), and a stacked run's baseline and offsets (None when the run is not stacked, or
    its texts had no n-grams to fit a baseline on)."""

    classes: list[str]
    encoding: TextEncoding | None
    scaler: Scaler | None
    stack: StackedStart | None = None


class Splits(NamedTuple):
    """Encoded training and validation examples, the training tokens (text inputs, for the
    coverage of pretrained vectors), and the raw texts of both (for the TF-IDF baseline)."""

    train: Encoded
    valid: Encoded
    tokens: list[list[str]] | None
    texts: tuple[list[str], list[str]] | None = None


class Classification(Job):
    """The ``classify`` job."""

    name = "classify"
    title = "classifier"
    config = ClassifyConfig
    presets = PRESETS

    def adopt(self, config: ClassifyConfig) -> ClassifyConfig:
        return text_init.adopted(config)

    def prepare(self, config: ClassifyConfig, artifacts: ClassifierArtifacts | None) -> Prepared:
        train_ex, valid_ex = cdata.load_splits(config.data, config.train.seed)
        assert train_ex.labels is not None and valid_ex.labels is not None
        classes = cdata.label_order(train_ex.labels) if artifacts is None else artifacts.classes
        if len(classes) < 2:
            raise DataError(  # the data's problem (exit 1), not the options'
                f"every example has label {classes[0]!r}; a classifier needs at least two classes",
                file=train_ex.source,
                field="label",
            )
        if config.data.inputs == "text":
            tokens = tokenize_many(train_ex.inputs, config.text)
            encoding = _encoding(config, tokens) if artifacts is None else artifacts.encoding
            assert encoding is not None
            scaler = None
            train_x = cdata.encode_tokens(tokens, encoding.vocab, config.data)
            valid_x = cdata.encode_texts(valid_ex.inputs, config.text, encoding.vocab, config.data)
        else:
            tokens = encoding = None
            arrays = [as_steps(x, i) for i, x in enumerate(train_ex.inputs)]
            scaler = Scaler.fit(arrays) if artifacts is None else artifacts.scaler
            assert scaler is not None
            train_x = cdata.encode_numeric(arrays, scaler, config.data)
            valid_arrays = [as_steps(x, i) for i, x in enumerate(valid_ex.inputs)]
            valid_x = cdata.encode_numeric(valid_arrays, scaler, config.data)
        train_y = cdata.encode_labels(train_ex.labels, classes, train_ex.source)
        valid_y = cdata.encode_labels(valid_ex.labels, classes, valid_ex.source)
        texts = None if tokens is None else (list(train_ex.inputs), list(valid_ex.inputs))
        stack = artifacts.stack if artifacts is not None else None
        if artifacts is None and texts is not None and _stacks(config):
            stack = _stacked_start(config, texts, train_y, valid_y, len(classes))
        offsets = (None, None) if stack is None else (stack.train_offsets, stack.valid_offsets)
        splits = Splits(
            Encoded(train_x, train_y, offsets[0]),
            Encoded(valid_x, valid_y, offsets[1]),
            tokens,
            texts,
        )
        return Prepared(ClassifierArtifacts(classes, encoding, scaler, stack), splits)

    def save_artifacts(self, run: RunDir, artifacts: ClassifierArtifacts) -> None:
        run.write_extra("labels", {"labels": artifacts.classes})
        if artifacts.encoding is not None:
            artifacts.encoding.save(run)
        else:
            assert artifacts.scaler is not None
            run.write_extra("scaler", artifacts.scaler.to_dict())
        if artifacts.stack is not None:
            stack = artifacts.stack
            stack.baseline.save(run)
            offsets = {"train": stack.train_offsets, "valid": stack.valid_offsets}
            run.write_binary_extra(_OFFSETS, save_arrays(offsets))

    def read_artifacts(self, run: RunDir, config: ClassifyConfig) -> ClassifierArtifacts:
        classes = run.read_extra_as("labels", _classes_file)
        if config.data.inputs == "text":
            return ClassifierArtifacts(classes, TextEncoding.read(run), None, _read_stack(run))
        return ClassifierArtifacts(classes, None, run.read_extra_as("scaler", Scaler.from_dict))

    def build_model(
        self, config: ClassifyConfig, artifacts: ClassifierArtifacts
    ) -> SequenceClassifier:
        vocab = None if artifacts.encoding is None else artifacts.encoding.vocab
        features = None if artifacts.scaler is None else len(artifacts.scaler.mean)
        return build_model(config, len(artifacts.classes), vocab, features)

    def plan(
        self,
        config: ClassifyConfig,
        prepared: Prepared,
        model: SequenceClassifier,
        run: RunDir,
        *,
        fresh: bool,
        notify: Notify | None = None,
    ) -> FitPlan:
        artifacts, splits = prepared
        init, data, seed = config.init, config.data, config.train.seed
        if fresh:
            _first_weights(config, artifacts, splits, model, run, notify)
        pad_id = None if artifacts.encoding is None else artifacts.encoding.vocab.pad_id
        unfreeze = init.init_from is not None and init.gradual_unfreeze

        def train_batches(epoch: int) -> list[LabelledBatch]:
            # A pure function of the epoch, so a resumed run sees the same batches (and, with
            # gradual unfreezing, trains the same groups: fit asks for each epoch's batches
            # before its first step).
            if unfreeze:
                freeze = config.model.freeze_embeddings
                text_init.unfreeze_for_epoch(model, epoch, freeze_embeddings=freeze)
            return make_batches(
                splits.train,
                data.batch_size,
                pad_id=pad_id,
                bucket=data.bucket,
                shuffle=True,
                seed=seed * 100_003 + epoch,
            )

        valid = make_batches(
            splits.valid, data.eval_batch_size, pad_id=pad_id, bucket=True, shuffle=False
        )
        lr_groups = None
        if init.init_from is not None and init.discriminative_lr != 1.0:
            lr_groups = text_init.discriminative_groups(model, init.discriminative_lr)
        return FitPlan(train_batches, valid, ClassifyObjective(), lr_groups)

    def task(
        self,
        config: ClassifyConfig,
        artifacts: ClassifierArtifacts,
        model: SequenceClassifier,
        run: RunDir | None,
    ) -> ClassifierTask:
        vocab = None if artifacts.encoding is None else artifacts.encoding.vocab
        stacked_on = None if artifacts.stack is None else artifacts.stack.baseline
        task = ClassifierTask(
            config,
            artifacts.classes,
            model,
            vocab=vocab,
            scaler=artifacts.scaler,
            run=run,
            stacked_on=stacked_on,
        )
        if stacked_on is not None:
            task.baseline = stacked_on
        return task

    def export(self, task: ClassifierTask, run: RunDir) -> ExportPlan:
        return export.export_plan(task, run)

    def finish(self, task: ClassifierTask, prepared: Prepared, run: RunDir) -> None:
        splits: Splits = prepared.data
        if task.stacked_on is not None:  # fitted before training, saved with the artifacts
            return
        if not task.config.data.baseline or splits.texts is None:
            return
        try:
            baseline = TfidfBaseline.fit(
                *(splits.texts[0], splits.train.labels),
                *(splits.texts[1], splits.valid.labels),
                len(task.classes),
            )
        except DataError as exc:  # the network is trained and saved: say why, keep it
            task.baseline, task.baseline_skipped = None, str(exc)
            return
        baseline.save(run)
        task.baseline = baseline

    def details(self, task: ClassifierTask, result: FitResult) -> dict[str, Any]:
        baseline = None if task.baseline is None else task.baseline.summary()
        skipped, stacked = task.baseline_skipped, task.stacked_on is not None
        return {
            "classes": task.classes,
            "baseline": baseline,
            "baseline_skipped": skipped,
            "stacked": stacked,
        }

    def describe(self, summary: Mapping[str, Any]) -> list[str]:
        lines = [f"classes: {', '.join(summary['details']['classes'])}"]
        baseline = summary["details"].get("baseline")
        if baseline is not None:
            accuracy, stacked = summary["validation"].get("acc"), summary["details"].get("stacked")
            lines.append(describe_baseline(baseline, accuracy, stacked=bool(stacked)))
        if summary["details"].get("baseline_skipped"):
            lines.append(f"no TF-IDF baseline: {summary['details']['baseline_skipped']}")
        return lines

    def check_flags(self, config: ClassifyConfig, given: Sequence[str]) -> None:
        text_init.check_not_adopted(config.init, given)


JOB = Classification()
_OFFSETS = "stacking.safetensors"


def _stacks(config: ClassifyConfig) -> bool:
    """Whether a new run stacks its network on the baseline: text inputs, ``model.stacked``
    and the baseline not turned off (``--no-baseline`` means no TF-IDF model at all)."""
    return config.model.stacked and config.data.baseline and config.data.inputs == "text"


def _stacked_start(
    config: ClassifyConfig,
    texts: tuple[list[str], list[str]],
    train_y: list[int],
    valid_y: list[int],
    classes: int,
) -> StackedStart | None:
    """The baseline and offsets of a new stacked run; None when its texts have no n-grams
    (the network then trains alone, as an unstacked run whose baseline fit failed)."""
    try:
        return fit_stacked_start(
            texts[0], train_y, texts[1], valid_y, classes, seed=config.train.seed
        )
    except DataError:
        return None


def _read_stack(run: RunDir) -> StackedStart | None:
    """A stacked run's baseline and training offsets; None for any other run."""
    if not (run.path / _OFFSETS).exists():
        return None
    baseline = TfidfBaseline.read(run)
    if baseline is None:
        raise ConfigError(f"{run.path / _OFFSETS} is there but the run has no baseline.json")
    offsets = load_arrays(run.read_binary_extra(_OFFSETS))
    return StackedStart(baseline, offsets["train"], offsets["valid"])


def _classes_file(stored: Any) -> list[str]:
    """``labels.json``'s classes: two or more distinct non-empty strings."""
    classes = stored.get("labels") if isinstance(stored, dict) else None
    if not isinstance(classes, list) or not all(isinstance(c, str) and c for c in classes):
        raise ConfigError(f'expected {{"labels": [class names]}}, got {stored!r:.80}')
    if len(set(classes)) != len(classes):
        twice = sorted({c for c in classes if classes.count(c) > 1})
        raise ConfigError(f"class {twice[0]!r} is named more than once")
    if len(classes) < 2:
        raise ConfigError(f"expected at least two classes, got {classes!r}")
    return classes


def _encoding(config: ClassifyConfig, tokens: list[list[str]]) -> TextEncoding:
    """A new run's vocabulary: the language model's it starts from, or the training text's."""
    if config.init.init_from is not None:
        return TextEncoding(text_init.LanguageModelStart.of(config.init).vocabulary())
    return TextEncoding(cdata.build_vocab(tokens, config.data))


def _first_weights(
    config: ClassifyConfig,
    artifacts: ClassifierArtifacts,
    splits: Splits,
    model: SequenceClassifier,
    run: RunDir,
    notify: Notify | None,
) -> None:
    """A new run's start: a language model's layers, or pretrained vectors (whose coverage
    the run keeps as ``embeddings.json``)."""
    if config.init.init_from is not None:
        text_init.LanguageModelStart.of(config.init).copy_into(model)
    if config.init.embeddings is None or artifacts.encoding is None:
        return
    assert splits.tokens is not None and model.embedding is not None
    report = text_init.load_pretrained_vectors(
        model.embedding,
        artifacts.encoding.vocab,
        config.init.embeddings,
        lowercase=config.text.lowercase,
        seed=config.train.seed,
        tokens=splits.tokens,
    )
    run.write_extra("embeddings", text_init.coverage_dict(report))
    if notify is not None:
        notify("pretrained vectors", report)


def build_model(
    config: ClassifyConfig, classes: int, vocab: Vocabulary | None, features: int | None
) -> SequenceClassifier:
    """The classifier of ``config`` for ``classes`` classes over ``vocab`` (text inputs) or
    ``features`` numeric features per step."""
    if vocab is not None:
        return SequenceClassifier(
            classes, config.model, vocab_size=len(vocab), pad_id=vocab.pad_id or 0
        )
    return SequenceClassifier(classes, config.model, num_features=features)


def train(
    config: ClassifyConfig,
    out: Path | str,
    *,
    overwrite: bool = False,
    resume: bool = False,
    progress: Progress | None = None,
    on_coverage: Callable[[CoverageReport], None] | None = None,
) -> tuple[ClassifierTask, FitResult]:
    """Trains a classifier into the run directory ``out`` (see
    :func:`rnnkit.tasks.common.train`); ``on_coverage`` gets the pretrained vectors'
    coverage report."""

    def notify(topic: str, value: Any) -> None:
        if on_coverage is not None and topic == "pretrained vectors":
            on_coverage(value)

    return common.train(
        JOB, config, out, overwrite=overwrite, resume=resume, progress=progress, notify=notify
    )


def preset_config(name: str | None) -> dict[str, Any]:
    """The defaults with preset ``name`` merged in, as a nested dict."""
    return common.preset_config(JOB, name)


def resume_config(run: RunDir, overrides: Sequence[str] = ()) -> ClassifyConfig:
    """The run's saved config with resumable ``train.<field>=value`` overrides."""
    return common.resume_config(JOB, run, overrides)
