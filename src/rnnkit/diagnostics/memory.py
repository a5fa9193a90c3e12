"""Long-memory probes: train a cell on the adding problem or the copy task, score it against
the loss of a predictor that remembers nothing.

Two classic synthetic tasks measure how far back a recurrent network can carry information:

* **Adding problem** (Hochreiter & Schmidhuber 1997), in the version of Le et al. (2015) and
  Arjovsky et al. (2016): ``T`` steps of two channels, a value drawn from U(0, 1) and a marker
  that is 1 at exactly two steps, one in the first half of the sequence and one in the
  second; the target is the sum of the two marked values, read from the last step. Always
  predicting 1 (the mean of the sum) scores an MSE of Var(U1 + U2) = 2/12 = 1/6 ≈ 0.167.
* **Copy task** (Arjovsky et al. 2016): ten symbols drawn from 8, ``T - 1`` blanks, a
  delimiter, ten more blanks; the network must output blanks until the delimiter and then
  the ten symbols, ``T + 10`` steps after it first saw them. Predicting blanks until the
  delimiter and then a uniform guess over the 8 symbols scores a cross-entropy, averaged
  over all ``T + 20`` steps, of ``10·log(8)/(T + 20)``.

:func:`probe` trains a recurrent layer plus a linear head with :func:`rnnkit.training.fit`
on fresh random batches (batch ``i`` of epoch ``e`` is a pure function of ``(seed, e, i)``,
so resumption would be exact), keeps the weights that did best on a fixed validation set,
and scores them on a fixed test set (the same for every seed, so seeds and cells are
compared on the same sequences). A loss or gradient that becomes non-finite is reported as
``diverged``, not raised.

Verdicts, on ``ratio = test loss / baseline``: ``solved`` at ``ratio <= 0.06`` (for the
adding problem that is MSE <= 0.01, issue #8's goal; for the copy task a mean cross-entropy
of at most 0.06·log 8 ≈ 0.125 nats on each recalled symbol), ``learning`` below 0.9 (the
network carries *some* information over ``T`` steps: remembering just one of the two added
values gives ratio 0.5), ``at baseline`` otherwise.

Cells (:data:`CELL_SPECS`): ``elman`` (tanh), ``elman-relu`` (ReLU, default initialisation),
``irnn`` (ReLU with ``W_hh = I``, Le et al. 2015), ``jordan``, ``lstm`` and ``gru``, each
with the optimiser, learning rate and clipping threshold that trained it fastest in short
measured runs (the comment above :data:`CELL_SPECS` has the figures).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Iterable, Iterator
from typing import Any, Literal, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.config import ConfigError, RecurrentConfig, validate_choice, validate_positive
from rnnkit.layers.recurrent import Recurrent
from rnnkit.training.config import TrainConfig
from rnnkit.training.loop import StepOutput, TrainingError, fit, seed_everything
from rnnkit.training.progress import Progress

__all__ = [
    "ADDING_BASELINE",
    "CELL_SPECS",
    "COPY_CLASSES",
    "COPY_SYMBOLS",
    "LEARNING_RATIO",
    "SOLVED_RATIO",
    "TASKS",
    "CellSpec",
    "ProbeData",
    "ProbeModel",
    "ProbeResult",
    "adding_problem",
    "baseline",
    "copy_baseline",
    "copy_task",
    "make_data",
    "parse_cells",
    "probe",
    "probe_loss",
    "verdict",
]

Task = Literal["adding", "copy"]
TASKS: tuple[str, ...] = ("adding", "copy")

# Var(U1 + U2) for two independent U(0, 1): the MSE of always predicting their mean, 1.
ADDING_BASELINE = 1.0 / 6.0
# Copy task (Arjovsky et al. 2016): 8 symbols (1..8), blank 0, delimiter 9; 10 to remember.
COPY_SYMBOLS = 8
COPY_CLASSES = COPY_SYMBOLS + 2
COPY_BLANK = 0
COPY_DELIMITER = COPY_SYMBOLS + 1
COPY_RECALL = 10

# ratio = test loss / baseline. 0.06 of 1/6 is exactly issue #8's goal for the adding
# problem (MSE <= 0.01); the same share is used for the copy task.
SOLVED_RATIO = 0.06
LEARNING_RATIO = 0.9

# Keys of the random streams (np.random.SeedSequence entropy): training batches use
# (seed, _TRAIN, epoch), validation (seed, _VALID, 0); the test set is (_TEST_SEED, _TEST, 0)
# whatever the seed, so every run is scored on the same sequences.
_TRAIN, _VALID, _TEST = 0, 1, 2
_TEST_SEED = 20160101
_EVAL_CHUNK = 500


# --- task generators ---------------------------------------------------------------------


class ProbeData(NamedTuple):
    """Inputs and targets of a probe task (NumPy).

    Attributes:
        inputs: Adding: (N, T, 2) float32, channel 0 the values, channel 1 the markers.
            Copy: (N, T + 20, 10) float32, one-hot symbols.
        targets: Adding: (N,) float32, the sum of the two marked values. Copy: (N, T + 20)
            int64 class indices (blank 0, symbols 1..8).
    """

    inputs: np.ndarray
    targets: np.ndarray


def _check_count(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError(f"expected a positive int, got {n!r}", key="n")


def _check_length(task: str, length: int) -> int:
    minimum = 2 if task == "adding" else 1
    if isinstance(length, bool) or not isinstance(length, int) or length < minimum:
        what = "two halves to mark" if task == "adding" else "the delimiter"
        raise ConfigError(
            f"expected an int >= {minimum} ({task}: the sequence needs {what}), got {length!r}",
            key="length",
        )
    return length


def adding_problem(n: int, length: int, rng: np.random.Generator) -> ProbeData:
    """``n`` sequences of the adding problem of length ``length`` (Le et al. 2015).

    Each sequence has values from U(0, 1) in channel 0 and, in channel 1, a marker that is 1
    at one step drawn from the first half (``[0, T//2)``) and one drawn from the second half
    (``[T//2, T)``), 0 elsewhere. The target is the sum of the two marked values.

    Args:
        n: Number of sequences.
        length: ``T`` >= 2.
        rng: Source of randomness.

    Returns:
        A :class:`ProbeData` with inputs (N, T, 2) and targets (N,), both float32.

    Raises:
        ConfigError: ``n`` or ``length`` out of range.

    Shapes:
        -> inputs (N, T, 2), targets (N,).

    Example:
        >>> data = adding_problem(3, 6, np.random.default_rng(0))
        >>> data.inputs.shape, data.targets.shape, data.inputs.dtype
        ((3, 6, 2), (3,), dtype('float32'))
        >>> data.inputs[..., 1].sum(axis=1).tolist()
        [2.0, 2.0, 2.0]
        >>> marked = (data.inputs[..., 0] * data.inputs[..., 1]).sum(axis=1)
        >>> bool(np.allclose(marked, data.targets))
        True
    """
    _check_count(n)
    _check_length("adding", length)
    half = length // 2
    values = rng.random((n, length), dtype=np.float32)  # (N, T)
    first = rng.integers(0, half, size=n)  # (N,) in the first half
    second = rng.integers(half, length, size=n)  # (N,) in the second half
    rows = np.arange(n)
    markers = np.zeros((n, length), dtype=np.float32)  # (N, T)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    targets = values[rows, first] + values[rows, second]  # (N,)
    inputs = np.stack([values, markers], axis=-1)  # (N, T, 2)
    return ProbeData(inputs, targets.astype(np.float32))


def copy_task(n: int, length: int, rng: np.random.Generator) -> ProbeData:
    """``n`` sequences of the copy task with a delay of ``length`` (Arjovsky et al. 2016).

    Input (``T + 20`` steps): 10 symbols drawn from 1..8, ``T - 1`` blanks (0), the delimiter
    (9), 10 blanks. Target: blanks for the first ``T + 10`` steps, then the 10 symbols.

    Args:
        n: Number of sequences.
        length: ``T`` >= 1, the delay.
        rng: Source of randomness.

    Returns:
        A :class:`ProbeData` with one-hot inputs (N, T + 20, 10) float32 and class-index
        targets (N, T + 20) int64.

    Raises:
        ConfigError: ``n`` or ``length`` out of range.

    Shapes:
        -> inputs (N, T + 20, 10), targets (N, T + 20).

    Example:
        >>> data = copy_task(1, 3, np.random.default_rng(0))
        >>> data.inputs.shape
        (1, 23, 10)
        >>> seq = data.inputs[0].argmax(-1).tolist()
        >>> seq[10:] == [0, 0, 9] + [0] * 10, min(seq[:10]) >= 1
        (True, True)
        >>> data.targets[0].tolist() == [0] * 13 + seq[:10]
        True
    """
    _check_count(n)
    _check_length("copy", length)
    steps = length + 2 * COPY_RECALL
    symbols = rng.integers(1, COPY_SYMBOLS + 1, size=(n, COPY_RECALL))  # (N, 10)
    sequence = np.full((n, steps), COPY_BLANK, dtype=np.int64)  # (N, T + 20)
    sequence[:, :COPY_RECALL] = symbols
    sequence[:, COPY_RECALL + length - 1] = COPY_DELIMITER
    targets = np.full((n, steps), COPY_BLANK, dtype=np.int64)  # (N, T + 20)
    targets[:, steps - COPY_RECALL :] = symbols
    inputs = np.eye(COPY_CLASSES, dtype=np.float32)[sequence]  # (N, T + 20, 10)
    return ProbeData(inputs, targets)


def make_data(task: str, n: int, length: int, rng: np.random.Generator) -> ProbeData:
    """:func:`adding_problem` or :func:`copy_task` by name."""
    validate_choice("task", task, TASKS)
    return adding_problem(n, length, rng) if task == "adding" else copy_task(n, length, rng)


def copy_baseline(length: int) -> float:
    """Cross-entropy per step of the memoryless copy predictor: ``10·log(8)/(T + 20)``.

    It predicts blanks with certainty for the first ``T + 10`` steps (loss 0: the output is
    blank until the delimiter has been read), then a uniform guess over the 8 symbols
    (loss ``log 8`` each) for the 10 recalled steps.

    Example:
        >>> round(copy_baseline(100), 4)
        0.1733
    """
    _check_length("copy", length)
    return COPY_RECALL * math.log(COPY_SYMBOLS) / (length + 2 * COPY_RECALL)


def baseline(task: str, length: int) -> float:
    """The memoryless baseline loss: MSE 1/6 (adding), ``10·log(8)/(T+20)`` (copy).

    Example:
        >>> round(baseline("adding", 200), 4), round(baseline("copy", 200), 4)
        (0.1667, 0.0945)
    """
    validate_choice("task", task, TASKS)
    _check_length(task, length)
    return ADDING_BASELINE if task == "adding" else copy_baseline(length)


def verdict(ratio: float | None, diverged: bool = False) -> str:
    """``solved``, ``learning``, ``at baseline`` or ``diverged`` for a loss/baseline ratio.

    Example:
        >>> [verdict(r) for r in (0.01, 0.5, 1.02)], verdict(None, diverged=True)
        (['solved', 'learning', 'at baseline'], 'diverged')
    """
    if diverged or ratio is None or not math.isfinite(ratio):
        return "diverged"
    if ratio <= SOLVED_RATIO:
        return "solved"
    if ratio < LEARNING_RATIO:
        return "learning"
    return "at baseline"


# --- cells ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class CellSpec:
    """A named cell set-up of the probes and the training it gets by default.

    Attributes:
        name: What the table shows (``elman``, ``irnn``, ...).
        cell: The :class:`~rnnkit.config.RecurrentConfig` cell family.
        nonlinearity: Elman/Jordan activation.
        identity_init: IRNN initialisation (Le et al. 2015).
        optimizer: ``adam`` or ``sgd``.
        lr: Learning rate.
        clip_norm: Gradient-norm clipping threshold (Pascanu et al. 2013) when clipping is on.
        note: Where the set-up comes from.
    """

    name: str
    cell: str
    nonlinearity: str = "tanh"
    identity_init: bool = False
    optimizer: Literal["adam", "sgd"] = "adam"
    lr: float = 1e-3
    clip_norm: float = 1.0
    note: str = ""

    def recurrent_config(self, input_size: int, hidden_size: int) -> RecurrentConfig:
        """The layer's config (``nonlinearity``/``identity_init`` only where the cell has them)."""
        options: dict[str, Any] = {}
        if self.cell in ("elman", "jordan"):
            options["nonlinearity"] = self.nonlinearity
        if self.cell == "elman":
            options["identity_init"] = self.identity_init
        return RecurrentConfig(
            cell=self.cell, input_size=input_size, hidden_size=hidden_size, **options
        )


# Defaults measured on the 2-core CPU (adding problem, H=128, batch 50, 600 steps unless
# said): Adam 1e-2 with clipping at 1 solved T=100 with the GRU in 600 steps (T=200 in 400)
# and with the LSTM in ~1000 (after a plateau of ~800), where Adam 1e-3 left the LSTM at
# ratio 0.22 after 1500 steps at T=50. Le et al.'s IRNN recipe, SGD with clipping, stayed at
# the baseline for lr 0.01-0.1 at T=30-100 in 600 steps; Adam 1e-4 with clipping reached
# ratio 0.35 (T=30) and 0.69 (T=100), so both ReLU nets get it and differ only in their
# initialisation. Without clipping the IRNN diverged at step 2 under SGD with lr >= 0.03
# (``optimizer="sgd", lr=0.03, clip=False``). The tanh nets get the usual Adam 1e-3 (1e-2 did
# no better at T=30).
CELL_SPECS: dict[str, CellSpec] = {
    spec.name: spec
    for spec in (
        CellSpec("elman", "elman", note="tanh Elman net; Adam 1e-3, clip 1"),
        CellSpec(
            "elman-relu",
            "elman",
            nonlinearity="relu",
            lr=1e-4,
            note="ReLU Elman net, default init; Adam 1e-4, clip 1 (the IRNN's training)",
        ),
        CellSpec(
            "irnn",
            "elman",
            nonlinearity="relu",
            identity_init=True,
            lr=1e-4,
            note="Le et al. 2015: ReLU, W_hh = I, zero biases; Adam 1e-4, clip 1",
        ),
        CellSpec("jordan", "jordan", note="output recurrence (tanh); Adam 1e-3, clip 1"),
        CellSpec(
            "lstm",
            "lstm",
            lr=1e-2,
            note="forget bias 1 (Jozefowicz et al. 2015); Adam 1e-2, clip 1",
        ),
        CellSpec("gru", "gru", lr=1e-2, note="Adam 1e-2, clip 1"),
    )
}


def parse_cells(text: str) -> list[str]:
    """Cell-spec names from a comma-separated list, checked against :data:`CELL_SPECS`.

    Raises:
        ConfigError: An unknown name (with a close match when there is one) or an empty list.

    Example:
        >>> parse_cells("lstm, gru,irnn")
        ['lstm', 'gru', 'irnn']
    """
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise ConfigError(f"expected a comma-separated list of cells, got {text!r}", key="cell")
    for name in names:
        validate_choice("cell", name, tuple(CELL_SPECS))
    return names


# --- model and objective --------------------------------------------------------------------


class ProbeModel(nn.Module):
    """A recurrent layer and a linear head: the last step's scalar (adding) or 10 logits per
    step (copy).

    Args:
        task: ``"adding"`` or ``"copy"``.
        config: The recurrent layer (its ``input_size`` must be 2 for adding, 10 for copy).

    Shapes:
        x (B, T, I) -> adding: (B,); copy: (B, T, 10).

    Example:
        >>> model = ProbeModel("copy", RecurrentConfig(cell="gru", input_size=10, hidden_size=4))
        >>> tuple(model(torch.zeros(2, 7, 10)).shape)
        (2, 7, 10)
    """

    def __init__(self, task: str, config: RecurrentConfig) -> None:
        super().__init__()
        self.task = validate_choice("task", task, TASKS)
        expected = 2 if task == "adding" else COPY_CLASSES
        if config.input_size != expected:
            raise ConfigError(
                f"expected {expected} for the {task} task, got {config.input_size}",
                key="input_size",
            )
        self.rnn = Recurrent.from_config(config)
        self.head = nn.Linear(self.rnn.output_size, 1 if task == "adding" else COPY_CLASSES)

    def forward(self, x: Tensor) -> Tensor:
        out, _ = self.rnn(x)  # (B, T, H)
        if self.task == "adding":
            return self.head(out[:, -1]).squeeze(-1)  # (B,)
        return self.head(out)  # (B, T, 10)


def probe_loss(task: str, prediction: Tensor, targets: Tensor) -> Tensor:
    """MSE (adding) or cross-entropy averaged over every step of every sequence (copy).

    Shapes:
        adding: prediction (B,), targets (B,); copy: prediction (B, T, 10) logits, targets
        (B, T) -> scalar.
    """
    if task == "adding":
        return F.mse_loss(prediction.float(), targets)
    return F.cross_entropy(prediction.float().reshape(-1, COPY_CLASSES), targets.reshape(-1))


class _Batch(NamedTuple):
    inputs: Tensor
    targets: Tensor


def _batch(data: ProbeData) -> _Batch:
    return _Batch(torch.from_numpy(data.inputs), torch.from_numpy(data.targets))


class _FreshBatches:
    """``steps`` new random batches for one epoch: a pure function of ``(seed, epoch)``."""

    def __init__(self, task: str, length: int, batch_size: int, steps: int, seed: int, epoch: int):
        self.task, self.length, self.batch_size = task, length, batch_size
        self.steps, self.key = steps, (seed, _TRAIN, epoch)

    def __len__(self) -> int:
        return self.steps

    def __iter__(self) -> Iterator[_Batch]:
        rng = np.random.default_rng(self.key)
        for _ in range(self.steps):
            yield _batch(make_data(self.task, self.batch_size, self.length, rng))


def _fixed_set(task: str, length: int, size: int, key: tuple[int, int, int]) -> list[_Batch]:
    rng = np.random.default_rng(key)
    chunks = [min(_EVAL_CHUNK, size - start) for start in range(0, size, _EVAL_CHUNK)]
    return [_batch(make_data(task, n, length, rng)) for n in chunks]


class _ProbeObjective:
    """The probe's loss for :func:`fit`; counts the batches it was asked for."""

    def __init__(self, task: str) -> None:
        self.task = task
        self.batches = 0

    def loss(self, model: nn.Module, batch: _Batch, state: Any) -> StepOutput:
        self.batches += 1
        loss = probe_loss(self.task, model(batch.inputs), batch.targets)
        return StepOutput(loss, len(batch.inputs), None)

    def evaluate(self, model: nn.Module, batches: Iterable[_Batch]) -> dict[str, float]:
        total, count = 0.0, 0
        for batch in batches:
            loss = probe_loss(self.task, model(batch.inputs), batch.targets)
            total += float(loss) * len(batch.inputs)
            count += len(batch.inputs)
        return {"loss": total / max(count, 1)}


# --- the probe ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ProbeResult:
    """One cell trained and tested on one task.

    Attributes:
        cell: The cell spec's name.
        task: ``adding`` or ``copy``.
        length: ``T``.
        test_loss: MSE (adding) or mean cross-entropy (copy) on the fixed test set; None
            when training diverged.
        baseline: The memoryless baseline loss (:func:`baseline`).
        ratio: ``test_loss / baseline``; None when training diverged.
        verdict: ``solved``, ``learning``, ``at baseline`` or ``diverged`` (:func:`verdict`).
        diverged: The loss or gradient became non-finite.
        steps: Optimiser steps completed.
        seconds: Wall time of the whole probe (training, validation, test).
        stop_reason: Why training stopped (``max_time``, ``max_steps``, ``diverged``).
        hidden_size: Hidden units.
        batch_size: Sequences per step.
        optimizer: ``adam`` or ``sgd``.
        lr: Learning rate.
        clip_norm: Gradient-norm clipping threshold; None when clipping was off.
        seed: Seed of the initialisation and of the training batches.
        message: The divergence message, else empty.
    """

    cell: str
    task: str
    length: int
    test_loss: float | None
    baseline: float
    ratio: float | None
    verdict: str
    diverged: bool
    steps: int
    seconds: float
    stop_reason: str
    hidden_size: int
    batch_size: int
    optimizer: str
    lr: float
    clip_norm: float | None
    seed: int
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict."""
        return dataclasses.asdict(self)


@torch.no_grad()
def _test_loss(model: ProbeModel, objective: _ProbeObjective, batches: list[_Batch]) -> float:
    device = next(model.parameters()).device
    model.eval()
    moved = (_Batch(b.inputs.to(device), b.targets.to(device)) for b in batches)
    return objective.evaluate(model, moved)["loss"]


def probe(
    task: str,
    length: int,
    cell: str,
    *,
    hidden_size: int = 128,
    batch_size: int = 50,
    max_time: str | None = "2m",
    max_steps: int | None = None,
    optimizer: Literal["adam", "sgd"] | None = None,
    lr: float | None = None,
    clip: bool = True,
    clip_norm: float | None = None,
    seed: int = 0,
    steps_per_epoch: int = 100,
    val_size: int = 500,
    test_size: int = 2000,
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto",
    progress: Progress | None = None,
) -> ProbeResult:
    """Trains cell spec ``cell`` on ``task`` with delay ``length`` and scores it on a test set.

    Training draws a fresh batch every step, validates every ``steps_per_epoch`` steps on a
    fixed validation set and keeps the best weights; it stops at ``max_time`` of training
    time or ``max_steps`` steps, whichever comes first.

    Args:
        task: ``"adding"`` or ``"copy"``.
        length: ``T``: the adding problem's sequence length, the copy task's delay.
        cell: A name in :data:`CELL_SPECS` (``elman``, ``elman-relu``, ``irnn``, ``jordan``,
            ``lstm``, ``gru``).
        hidden_size: Hidden units.
        batch_size: Sequences per optimiser step.
        max_time: Training-time budget such as ``"2m"`` (validation and test not counted);
            None for no limit (then give ``max_steps``).
        max_steps: Optimiser-step limit, or None.
        optimizer: ``"adam"`` or ``"sgd"``; None takes the cell spec's.
        lr: Learning rate; None takes the cell spec's.
        clip: Clip the gradient norm (Pascanu et al. 2013); False trains without clipping.
        clip_norm: The clipping threshold; None takes the cell spec's. Only with ``clip``.
        seed: Seeds the initialisation and the training batches (the test set is fixed).
        steps_per_epoch: Steps between validations.
        val_size: Validation sequences (fixed per seed).
        test_size: Test sequences (fixed for all seeds).
        device: Where to train (``auto``: CUDA, then MPS, then CPU).
        progress: Progress reporter for :func:`fit`; None shows nothing.

    Returns:
        A :class:`ProbeResult`; a divergence is a result with ``diverged=True``.

    Raises:
        ConfigError: A bad task, length, cell or training setting.

    Example:
        >>> result = probe("adding", 5, "gru", hidden_size=8, max_time=None, max_steps=3,
        ...                steps_per_epoch=3, val_size=20, test_size=20)
        >>> result.cell, result.steps, result.baseline == ADDING_BASELINE, result.diverged
        ('gru', 3, True, False)
    """
    validate_choice("task", task, TASKS)
    _check_length(task, length)
    spec = CELL_SPECS[validate_choice("cell", cell, tuple(CELL_SPECS))]
    for name, value in (
        ("batch_size", batch_size),
        ("steps_per_epoch", steps_per_epoch),
        ("val_size", val_size),
        ("test_size", test_size),
    ):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"expected a positive int, got {value!r}", key=name)
        validate_positive(name, value)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"expected an int >= 0, got {seed!r}", key="seed")
    if optimizer is not None:
        validate_choice("optimizer", optimizer, ("adam", "sgd"))
    if max_time is None and max_steps is None:
        raise ConfigError("give max_time or max_steps: training needs a limit", key="max_time")
    if not clip and clip_norm is not None:
        raise ConfigError(f"clipping is off (clip=False), got clip_norm={clip_norm}", key="clip")
    threshold = (spec.clip_norm if clip_norm is None else clip_norm) if clip else None
    epochs = math.ceil(max_steps / steps_per_epoch) if max_steps is not None else 10**9
    train_config = TrainConfig(
        epochs=epochs,
        seed=seed,
        optimizer=spec.optimizer if optimizer is None else optimizer,
        lr=spec.lr if lr is None else lr,
        clip_norm=threshold,
        max_steps=max_steps,
        max_time=max_time,
        log_every=steps_per_epoch,
        device=device,
    )
    input_size = 2 if task == "adding" else COPY_CLASSES
    rnn_config = spec.recurrent_config(input_size, hidden_size)

    start = time.perf_counter()
    seed_everything(seed)  # the initialisation; fit re-seeds the same way before training
    model = ProbeModel(task, rnn_config)
    objective = _ProbeObjective(task)
    valid = _fixed_set(task, length, val_size, (seed, _VALID, 0))
    test = _fixed_set(task, length, test_size, (_TEST_SEED, _TEST, 0))

    def train_data(epoch: int) -> _FreshBatches:
        return _FreshBatches(task, length, batch_size, steps_per_epoch, seed, epoch)

    test_loss: float | None
    message = ""
    try:
        result = fit(model, train_data, valid, train_config, objective=objective, progress=progress)
        steps, stop_reason = result.steps, result.stop_reason
        test_loss = _test_loss(model, objective, test)
    except TrainingError as err:
        steps, stop_reason, message = objective.batches - 1, "diverged", str(err)
        test_loss = None
    if test_loss is not None and not math.isfinite(test_loss):
        stop_reason, message = "diverged", f"the test loss is {test_loss}"
        test_loss = None
    base = baseline(task, length)
    ratio = None if test_loss is None else test_loss / base
    return ProbeResult(
        cell=spec.name,
        task=task,
        length=length,
        test_loss=test_loss,
        baseline=base,
        ratio=ratio,
        verdict=verdict(ratio, diverged=test_loss is None),
        diverged=test_loss is None,
        steps=steps,
        seconds=time.perf_counter() - start,
        stop_reason=stop_reason,
        hidden_size=hidden_size,
        batch_size=batch_size,
        optimizer=train_config.optimizer,
        lr=train_config.lr,
        clip_norm=threshold,
        seed=seed,
        message=message,
    )
