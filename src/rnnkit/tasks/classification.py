"""Sequence classification (many-to-one): ``rnnkit classify train|eval|predict``.

Config -> examples -> preprocessing and vocabulary (or a scaler for numeric sequences) ->
length-bucketed batches -> :class:`SequenceClassifier` -> ``fit`` -> a run directory. A
trained run loads back as a :class:`ClassifierTask`, which predicts labels with their
probabilities and evaluates on labelled files.

The run directory holds, beside the weights and ``config.json`` (whose ``text`` section is the
preprocessing pipeline, so prediction reads text exactly as training did): ``vocab.json`` or
``scaler.json``, and ``labels.json`` (the class names in id order).
"""

from __future__ import annotations

import collections
import dataclasses
import math
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from rnnkit.config import ConfigError, check_field_types, from_dict, to_dict
from rnnkit.data import Vocabulary
from rnnkit.data.batching import LabelledBatch, batch_indices, collate_numeric, collate_tokens
from rnnkit.data.embeddings import CoverageReport, embedding_matrix, load_vectors
from rnnkit.data.text import TextConfig
from rnnkit.data.token_cache import tokenize_many
from rnnkit.models.classifier import ClassifierModelConfig, SequenceClassifier
from rnnkit.tasks import classification_data as cdata
from rnnkit.tasks import lm_transfer, resume
from rnnkit.tasks.classification_data import ClassifyDataConfig, Examples, Scaler
from rnnkit.tasks.metrics import ClassificationReport, classification_report
from rnnkit.tasks.presets import preset_dict
from rnnkit.training.config import TrainConfig
from rnnkit.training.distributed import init_distributed
from rnnkit.training.loop import FitResult, StepOutput, fit, resolve_device, seed_everything
from rnnkit.training.progress import Progress
from rnnkit.training.rundir import RunDir

__all__ = [
    "ClassifierTask",
    "ClassifyConfig",
    "ClassifyInitConfig",
    "PRESETS",
    "Prediction",
    "load",
    "train",
]


def _train_defaults() -> TrainConfig:
    # Accuracy decides which epoch's weights are kept (the loss can rise while accuracy
    # still improves, as the model grows confident).
    return TrainConfig(epochs=10, lr=2e-3, monitor="val_acc", mode="max")


@dataclasses.dataclass(frozen=True, kw_only=True)
class ClassifyInitConfig:
    """Where the first weights come from.

    Attributes:
        embeddings: Pretrained word vectors (GloVe, word2vec text/binary, fastText ``.vec``)
            for the embedding matrix; words without a vector get random rows.
        init_from: A word-level language-model run (``rnnkit lm train``) whose vocabulary,
            embedding and recurrent stack the classifier starts from (ULMFiT-style; the
            model's sizes and cell come from it). See :mod:`rnnkit.tasks.lm_transfer`.
        init_from_backward: A backward language model (``rnnkit lm train --reverse``) of the
            same text, vocabulary and sizes as ``init_from``: the classifier becomes
            bidirectional, each direction starting from one of the two models.
        gradual_unfreeze: With ``init_from``, train the head alone in the first epoch and
            unfreeze one more group, top down, each epoch (Howard & Ruder 2018).
        discriminative_lr: With ``init_from``, each group below the head trains at the rate
            of the group above divided by this factor (discriminative fine-tuning; Howard &
            Ruder use 2.6); 1 trains every group at the same rate.
    """

    embeddings: str | None = None
    init_from: str | None = None
    init_from_backward: str | None = None
    gradual_unfreeze: bool = True
    discriminative_lr: float = 1.0

    def __post_init__(self) -> None:
        check_field_types(self)
        if self.embeddings is not None and self.init_from is not None:
            raise ConfigError(
                "--embeddings and --init-from both set the embedding; choose one",
                key="init_from",
            )
        if self.init_from_backward is not None and self.init_from is None:
            raise ConfigError(
                "--init-from-backward pairs a backward language model with a forward one; "
                "give the forward one as --init-from",
                key="init_from_backward",
            )
        if not self.discriminative_lr >= 1.0:
            raise ConfigError(
                f"expected a factor >= 1, got {self.discriminative_lr}", key="discriminative_lr"
            )
        if self.discriminative_lr != 1.0 and self.init_from is None:
            raise ConfigError(
                "--discriminative-lr divides the rate per pretrained group; it needs --init-from",
                key="discriminative_lr",
            )


@dataclasses.dataclass(frozen=True, kw_only=True)
class ClassifyConfig:
    """A classification run: data, preprocessing, model, training (the run's ``config.json``).

    Attributes:
        task: Always ``"classify"``.
        data: Examples, columns, truncation and batching.
        text: The preprocessing pipeline (text inputs).
        model: Embedding or input projection, recurrent stack, pooling, head.
        init: Pretrained embeddings.
        train: Optimiser, schedule, stopping.
    """

    task: Literal["classify"] = "classify"
    data: ClassifyDataConfig = dataclasses.field(default_factory=ClassifyDataConfig)
    text: TextConfig = dataclasses.field(default_factory=TextConfig)
    model: ClassifierModelConfig = dataclasses.field(default_factory=ClassifierModelConfig)
    init: ClassifyInitConfig = dataclasses.field(default_factory=ClassifyInitConfig)
    train: TrainConfig = dataclasses.field(default_factory=_train_defaults)


def _bilstm(data: dict[str, Any], size: int, dropout: float, train: dict[str, Any]) -> dict:
    return {
        "data": data,
        "model": {
            "embedding_size": size,
            "pooling": "max",
            "rnn": {"cell": "lstm", "hidden_size": size, "bidirectional": True, "dropout": dropout},
        },
        "train": {"optimizer": "adam", "clip_norm": 5.0, **train},
    }


# Set-ups for the benchmark datasets on a 2-core CPU (nested dicts merged over the defaults;
# flags still win). Max pooling over a BiLSTM (Conneau et al. 2017) learned fastest of the
# poolings in our runs; docs/benchmarks.md has the figures.
PRESETS: dict[str, dict[str, Any]] = {
    # IMDB: 25k reviews of 230 words on average; keep the first 100 and last 300 words.
    "imdb": _bilstm(
        {
            "dataset": "imdb",
            "max_vocab": 30_000,
            "max_len": 400,
            "truncate": "head+tail",
            "batch_size": 64,
        },
        size=128,
        dropout=0.3,
        train={"lr": 2e-3, "epochs": 8, "max_time": "20m"},
    ),
    # SST-2 (GLUE): 67k phrases and sentences, 9 words on average; dev is the reported set.
    "sst2": _bilstm(
        {"dataset": "sst2", "max_len": None, "batch_size": 64},
        size=128,
        dropout=0.5,
        train={"lr": 2e-3, "epochs": 8, "max_time": "20m"},
    ),
}


def preset_config(name: str | None) -> dict[str, Any]:
    """The defaults with preset ``name`` merged in, as a nested dict."""
    return preset_dict(ClassifyConfig(), PRESETS, name)


# --- batches and the objective --------------------------------------------------------------


class Encoded(NamedTuple):
    """Model-ready examples: token-id lists or scaled (T, F) arrays, and class ids."""

    inputs: list[Any]
    labels: list[int] | None


def make_batches(
    encoded: Encoded,
    batch_size: int,
    *,
    pad_id: int | None,
    bucket: bool,
    shuffle: bool,
    seed: int = 0,
) -> list[LabelledBatch]:
    """Padded batches of ``encoded`` (token ids when ``pad_id`` is set, else numeric)."""
    groups = batch_indices(
        [len(x) for x in encoded.inputs], batch_size, bucket=bucket, shuffle=shuffle, seed=seed
    )
    return [collate(encoded, group, pad_id) for group in groups]


def collate(encoded: Encoded, group: Sequence[int], pad_id: int | None) -> LabelledBatch:
    """One padded batch of the examples ``group`` (token ids when ``pad_id`` is set)."""
    inputs = [encoded.inputs[i] for i in group]
    labels = None if encoded.labels is None else [encoded.labels[i] for i in group]
    if pad_id is None:
        return collate_numeric(inputs, labels)
    return collate_tokens(inputs, labels, pad_id)


class ClassifyObjective:
    """Cross-entropy of the true class; validation reports loss and accuracy."""

    def loss(self, model: SequenceClassifier, batch: LabelledBatch, state: Any) -> StepOutput:
        logits = model(batch.inputs, batch.lengths)
        return StepOutput(F.cross_entropy(logits, batch.labels), len(batch.labels), None)

    def evaluate(
        self, model: SequenceClassifier, batches: Iterable[LabelledBatch]
    ) -> dict[str, float]:
        total, correct, count = 0.0, 0, 0
        for batch in batches:
            logits = model(batch.inputs, batch.lengths).float()
            total += float(F.cross_entropy(logits, batch.labels, reduction="sum"))
            correct += int((logits.argmax(-1) == batch.labels).sum())
            count += len(batch.labels)
        return {"loss": total / max(count, 1), "acc": correct / max(count, 1)}


# --- the task object ------------------------------------------------------------------------


class Prediction(NamedTuple):
    """A predicted label and the probability of every class (in the run's class order)."""

    label: str
    probabilities: dict[str, float]


class ClassifierTask:
    """A trained classifier with its preprocessing: predict and evaluate.

    Use :func:`train` to make one and :func:`rnnkit.load` to get one back from a run.
    """

    def __init__(
        self,
        config: ClassifyConfig,
        classes: Sequence[str],
        model: SequenceClassifier,
        *,
        vocab: Vocabulary | None = None,
        scaler: Scaler | None = None,
        run: RunDir | None = None,
    ) -> None:
        self.config, self.classes, self.model = config, list(classes), model.eval()
        self.vocab, self.scaler, self.run = vocab, scaler, run

    @property
    def inputs(self) -> str:
        return self.config.data.inputs

    def encode(self, inputs: Sequence[Any]) -> list[Any]:
        """Texts -> truncated token ids, or numeric (T, F) arrays -> scaled, truncated."""
        data = self.config.data
        if self.inputs == "numeric":
            assert self.scaler is not None
            return cdata.encode_numeric(
                [_as_steps(x, i) for i, x in enumerate(inputs)], self.scaler, data
            )
        assert self.vocab is not None
        for i, text in enumerate(inputs):
            if not isinstance(text, str):
                raise ConfigError(f"expected a string, got {type(text).__name__}", key=f"[{i}]")
        return cdata.encode_texts(list(inputs), self.config.text, self.vocab, data)

    @torch.no_grad()
    def predict_proba(self, inputs: Sequence[Any]) -> np.ndarray:
        """Class probabilities (N, C) of each input, in the run's class order."""
        return self._probabilities(Encoded(self.encode(inputs), None))

    def _probabilities(self, encoded: Encoded) -> np.ndarray:
        device = next(self.model.parameters()).device
        out = np.zeros((len(encoded.inputs), len(self.classes)), dtype=np.float32)
        groups = batch_indices(
            [len(x) for x in encoded.inputs],
            self.config.data.eval_batch_size,
            bucket=True,
            shuffle=False,
        )
        pad_id = self.vocab.pad_id if self.vocab is not None else None
        for group in groups:
            batch = collate(encoded, group, pad_id)
            logits = self.model(batch.inputs.to(device), batch.lengths)
            out[group] = torch.softmax(logits.float(), dim=-1).cpu().numpy()
        return out

    def predict(self, inputs: Sequence[Any]) -> list[Prediction]:
        """The most likely label of each input, with every class's probability.

        Example (``clf = rnnkit.load("runs/imdb")``)::

            >>> clf.predict(["What a wonderful film"])  # doctest: +SKIP
            [Prediction(label='positive', probabilities={'negative': 0.04, 'positive': 0.96})]
        """
        return predictions(self.predict_proba(inputs), self.classes)

    @torch.no_grad()
    def evaluate(self, examples: Examples) -> tuple[ClassificationReport, float]:
        """Accuracy, macro-F1, per-class scores and confusion matrix, and the mean loss."""
        labels = label_ids(examples, self.classes)
        return score_probabilities(self.predict_proba(examples.inputs), labels, self.classes)

    def load_examples(self, path: str | Path | None = None, *, labelled: bool = True) -> Examples:
        """Examples from ``path`` read as the run's data config says; None: its test split."""
        data = self.config.data
        if path is None:
            path = cdata.official_test_file(data)
            if path is None:
                raise ConfigError("the run's data has no test split; give --data FILE", key="data")
        # A dataset run reads any file with the dataset's columns and label names.
        return cdata.load_split(data, path, labelled=labelled)


def predictions(probs: np.ndarray, classes: Sequence[str]) -> list[Prediction]:
    """Each row of ``probs`` (N, C) as its most likely label and every class's probability."""
    return [
        Prediction(
            classes[int(row.argmax())],
            {name: float(p) for name, p in zip(classes, row, strict=True)},
        )
        for row in probs
    ]


def label_ids(examples: Examples, classes: Sequence[str]) -> list[int]:
    """The class ids of labelled ``examples``.

    Raises:
        ConfigError: No labelled examples.
        DataError: A label is not one of ``classes`` (named with its line).
    """
    if examples.labels is None or not examples.inputs:
        raise ConfigError(f"{examples.source}: no labelled examples to evaluate", key="data")
    return cdata.encode_labels(examples.labels, list(classes), examples.source)


def score_probabilities(
    probs: np.ndarray, labels: Sequence[int], classes: Sequence[str]
) -> tuple[ClassificationReport, float]:
    """The report of predicting ``argmax`` of ``probs`` (N, C), and the mean cross-entropy
    ``-(1/N) Σ_n log p_n(y_n)``."""
    picked = probs[np.arange(len(labels)), labels]
    loss = float(-np.log(np.clip(picked, 1e-12, None)).mean())
    return classification_report(list(labels), probs.argmax(1).tolist(), list(classes)), loss


def _as_steps(x: Any, index: int) -> np.ndarray:
    array = np.asarray(x, dtype=np.float32)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or len(array) == 0:
        raise ConfigError(
            f"expected a (time, features) array with at least one step, got shape {array.shape}",
            key=f"[{index}]",
        )
    return array


# --- train and load -------------------------------------------------------------------------


def build_model(
    config: ClassifyConfig, classes: int, vocab: Vocabulary | None, features: int | None
) -> SequenceClassifier:
    if vocab is not None:
        return SequenceClassifier(
            classes, config.model, vocab_size=len(vocab), pad_id=vocab.pad_id or 0
        )
    return SequenceClassifier(classes, config.model, num_features=features)


class _Prepared(NamedTuple):
    """What training needs besides the model: encoded splits and the saved preprocessing."""

    classes: list[str]
    train: Encoded
    valid: Encoded
    vocab: Vocabulary | None
    scaler: Scaler | None
    tokens: list[list[str]] | None  # the training tokens (text inputs), for coverage counts


def _prepare(
    config: ClassifyConfig, saved: RunDir | None, lm_vocab: Vocabulary | None = None
) -> _Prepared:
    """Reads and encodes the splits; a resumed run reuses its saved classes and vocabulary,
    a run that starts from a language model uses the model's vocabulary."""
    train_ex, valid_ex = cdata.load_splits(config.data, config.train.seed)
    assert train_ex.labels is not None and valid_ex.labels is not None
    if saved is not None:
        classes = saved.read_extra("labels")["labels"]
    else:
        classes = cdata.label_order(train_ex.labels)
    if len(classes) < 2:
        raise ConfigError(
            f"{train_ex.source}: every example has label {classes[0]!r}; a classifier needs "
            "at least two classes",
            key="label",
        )
    vocab = scaler = tokens = None
    if config.data.inputs == "text":
        tokens = tokenize_many(train_ex.inputs, config.text)
        if saved is not None:
            vocab = Vocabulary.from_dict(saved.read_extra("vocab"))
        elif lm_vocab is not None:
            vocab = lm_vocab
        else:
            vocab = cdata.build_vocab(tokens, config.data)
        train_x = cdata.encode_tokens(tokens, vocab, config.data)
        valid_x = cdata.encode_texts(valid_ex.inputs, config.text, vocab, config.data)
    else:
        arrays = [_as_steps(x, i) for i, x in enumerate(train_ex.inputs)]
        if saved is not None:
            scaler = Scaler.from_dict(saved.read_extra("scaler"))
        else:
            scaler = Scaler.fit(arrays)
        train_x = cdata.encode_numeric(arrays, scaler, config.data)
        valid_x = cdata.encode_numeric(
            [_as_steps(x, i) for i, x in enumerate(valid_ex.inputs)], scaler, config.data
        )
    return _Prepared(
        classes,
        Encoded(train_x, cdata.encode_labels(train_ex.labels, classes, train_ex.source)),
        Encoded(valid_x, cdata.encode_labels(valid_ex.labels, classes, valid_ex.source)),
        vocab,
        scaler,
        tokens,
    )


def _create_run(
    config: ClassifyConfig, out: Path | str, prep: _Prepared, overwrite: bool
) -> RunDir:
    run = RunDir.create(out, config=to_dict(config), overwrite=overwrite)
    run.write_extra("labels", {"labels": prep.classes})
    if prep.vocab is not None:
        run.write_extra("vocab", prep.vocab.to_dict())
    else:
        assert prep.scaler is not None
        run.write_extra("scaler", prep.scaler.to_dict())
    return run


def train(
    config: ClassifyConfig,
    out: Path | str,
    *,
    overwrite: bool = False,
    resume: bool = False,
    progress: Progress | None = None,
    on_coverage: Callable[[CoverageReport], None] | None = None,
) -> tuple[ClassifierTask, FitResult]:
    """Trains a classifier into the run directory ``out``.

    With ``resume``, ``out`` is an existing run and ``config`` its own (see
    :func:`resume_config`): training continues from the last checkpoint with the run's
    classes and vocabulary or scaler.

    Under ``torchrun`` every process calls this; they train one model data-parallel, each on
    its rows of every batch, and rank 0 alone writes the run.

    Returns:
        The trained task (best weights by validation accuracy) and the training result.
    """
    context = init_distributed(resolve_device(config.train.device))
    saved = RunDir.open(out) if resume else None
    lm = backward = None
    if config.init.init_from is not None and saved is None:
        if config.data.inputs != "text":
            raise ConfigError("--init-from needs text inputs", key="init_from")
        lm = lm_transfer.load_lm(config.init.init_from)
        if config.init.init_from_backward is not None:
            backward = lm_transfer.load_lm(config.init.init_from_backward, backward=True)
            lm_transfer.check_pair(lm, backward)
        config = lm_transfer.adopt_lm(config, lm, backward)  # saved as such in config.json
    lm_vocab = lm_transfer.lm_vocabulary(lm) if lm is not None else None
    # Under torchrun (data-parallel) rank 0 alone creates the run; the other ranks then read
    # its classes and vocabulary (or scaler) back, as a resumed run does.
    if saved is None and context.is_main:
        prep = _prepare(config, None, lm_vocab)
        run = _create_run(config, out, prep, overwrite)
    context.barrier()
    if saved is None and not context.is_main:
        saved = RunDir.open(out)
    if saved is not None:
        prep = _prepare(config, saved, lm_vocab)
        run = saved
    seed_everything(config.train.seed)
    features = None if prep.scaler is None else len(prep.scaler.mean)
    model = build_model(config, len(prep.classes), prep.vocab, features)
    if lm is not None:
        lm_transfer.copy_lm_weights(model, lm, backward)
    unfreeze = config.init.init_from is not None and config.init.gradual_unfreeze
    # Only rank 0 reads the vectors: fit hands its weights to the other ranks at the start.
    pretrained = config.init.embeddings is not None and prep.vocab is not None
    if pretrained and not resume and context.is_main:
        assert prep.tokens is not None
        report = _load_embeddings(model, prep.vocab, config, prep.tokens)
        run.write_extra("embeddings", _coverage_dict(report))
        if on_coverage is not None:
            on_coverage(report)
    data, seed = config.data, config.train.seed
    pad_id = prep.vocab.pad_id if prep.vocab is not None else None

    def train_batches(epoch: int) -> list[LabelledBatch]:
        # A pure function of the epoch, so a resumed run sees the same batches (and, with
        # gradual unfreezing, trains the same groups: fit asks for each epoch's batches
        # before its first step).
        if unfreeze:
            freeze = config.model.freeze_embeddings
            lm_transfer.unfreeze_for_epoch(model, epoch, freeze_embeddings=freeze)
        return make_batches(
            prep.train,
            data.batch_size,
            pad_id=pad_id,
            bucket=data.bucket,
            shuffle=True,
            seed=seed * 100_003 + epoch,
        )

    valid_batches = make_batches(
        prep.valid, data.eval_batch_size, pad_id=pad_id, bucket=True, shuffle=False
    )
    lr_groups = None
    if config.init.init_from is not None and config.init.discriminative_lr != 1.0:
        lr_groups = lm_transfer.discriminative_groups(model, config.init.discriminative_lr)
    result = fit(
        model,
        train_batches,
        valid_batches,
        config.train,
        objective=ClassifyObjective(),
        run=run,
        resume=resume,
        progress=progress,
        lr_groups=lr_groups,
        dist_context=context,
    )
    context.close()
    task = ClassifierTask(
        config, prep.classes, model, vocab=prep.vocab, scaler=prep.scaler, run=run
    )
    return task, result


def resume_config(run: RunDir, overrides: Sequence[str] = ()) -> ClassifyConfig:
    """The run's saved config with ``train.<field>=value`` overrides of resumable fields
    (:data:`rnnkit.tasks.resume.RESUMABLE_CHANGES`).

    Raises:
        ConfigError: An override touches a field a resumed run must keep.
    """
    return resume.resume_config(ClassifyConfig, run, overrides)


def _load_embeddings(
    model: SequenceClassifier,
    vocab: Vocabulary,
    config: ClassifyConfig,
    tokens: Sequence[Sequence[str]],
) -> CoverageReport:
    path = config.init.embeddings
    assert path is not None and model.embedding is not None
    if config.text.lowercase:
        # The text is lower-cased, so "Movie" in a cased vectors file (word2vec GoogleNews,
        # fastText) is the vector of our "movie"; the first casing in the file (the most
        # frequent, as these files are sorted) wins.
        words, vectors = load_vectors(path, vocab=_LowerCaseSet(vocab.tokens))
        words, vectors = _first_lower_case(words, vectors)
    else:
        wanted = set(vocab.tokens) | {t.lower() for t in vocab.tokens}
        words, vectors = load_vectors(path, vocab=wanted)
    if vectors.shape[1] != config.model.embedding_size:
        raise ConfigError(
            f"{path} has {vectors.shape[1]}-dimensional vectors but the model's embedding "
            f"size is {config.model.embedding_size}; pass --embedding-size {vectors.shape[1]}",
            key="embedding_size",
        )
    counts = collections.Counter(t for seq in tokens for t in seq)
    matrix, report = embedding_matrix(
        vocab.tokens,
        words,
        vectors,
        pad_index=vocab.pad_id,
        seed=config.train.seed,
        token_counts=counts,
    )
    with torch.no_grad():
        model.embedding.weight.copy_(torch.from_numpy(matrix))
    return report


class _LowerCaseSet:
    """Membership ignoring case: ``"Movie" in _LowerCaseSet(["movie"])``."""

    def __init__(self, tokens: Iterable[str]) -> None:
        self.tokens = {t.lower() for t in tokens}

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and word.lower() in self.tokens


def _first_lower_case(words: list[str], vectors: np.ndarray) -> tuple[list[str], np.ndarray]:
    keep: dict[str, int] = {}
    for i, word in enumerate(words):
        keep.setdefault(word.lower(), i)
    return list(keep), vectors[list(keep.values())]


def _coverage_dict(report: CoverageReport) -> dict[str, Any]:
    return {
        "vocab_found": report.vocab_found,
        "vocab_total": report.vocab_total,
        "token_found": report.token_found,
        "token_total": report.token_total,
    }


def load(run: RunDir) -> ClassifierTask:
    """The :class:`ClassifierTask` saved in ``run`` (weights from safetensors, rest JSON)."""
    config = from_dict(ClassifyConfig, run.read_config())
    classes = run.read_extra("labels")["labels"]
    vocab = scaler = None
    if config.data.inputs == "text":
        vocab = Vocabulary.from_dict(run.read_extra("vocab"))
    else:
        scaler = Scaler.from_dict(run.read_extra("scaler"))
    model = build_model(config, len(classes), vocab, None if scaler is None else len(scaler.mean))
    run.load_model(model)
    return ClassifierTask(config, classes, model, vocab=vocab, scaler=scaler, run=run)


def accuracy_interval(accuracy: float, count: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval (95% for ``z=1.96``) of an accuracy measured on ``count`` items.

    Unlike the normal approximation it stays inside [0, 1] and is not empty at 100%.

    Example:
        >>> [round(x, 4) for x in accuracy_interval(0.9, 100)]
        [0.8256, 0.9448]
    """
    n = max(count, 1)
    centre = (accuracy + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(accuracy * (1 - accuracy) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)
