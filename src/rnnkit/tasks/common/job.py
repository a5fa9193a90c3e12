"""The job declaration: what each job says about itself, and nothing the skeleton does.

A job (language modeling, classification, forecasting, ...) is a :class:`Job` subclass in
its own ``tasks/<job>/`` package. It declares:

- ``name`` (the run kind written in ``config.json``), ``title``, ``config`` (a frozen
  dataclass with ``data``, ``model`` and ``train`` sections) and ``presets``;
- how the training data is read and the artifacts are fitted from it (:meth:`prepare`:
  vocabulary, classes, scaler...), saved in a run (:meth:`save_artifacts`) and read back
  (:meth:`read_artifacts`);
- how the model is built from the config and the artifacts (:meth:`build_model`; sizes
  that come from data are arguments here, never config fields);
- what :func:`rnnkit.training.fit` gets (:meth:`plan`: batches, objective);
- the task object a trained run becomes (:meth:`task`), which answers
  :class:`~rnnkit.tasks.common.predictor.Predictor`'s ``predict``;
- what its train summary adds (:meth:`details`, :meth:`describe`).

:func:`rnnkit.tasks.common.trainer.train` and :func:`rnnkit.tasks.common.runs.load` run every
job with these, so resuming, loading, presets, the run-kind check and the distributed
prepare-write-barrier-read protocol are written once. ``docs/architecture.md`` shows a whole
job in one page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, NamedTuple

from torch import nn

from rnnkit.training.loop import FitResult, Objective
from rnnkit.training.rundir import RunDir

__all__ = ["FitPlan", "Job", "Notify", "Prepared"]

Notify = Callable[[str, Any], None]
"""``notify(topic, value)``: something a job tells the user while it trains (pretrained-vector
coverage, say); the command line prints ``topic: value``."""


class Prepared(NamedTuple):
    """The training data as a job reads it, with the artifacts fitted on (or read for) it.

    Attributes:
        artifacts: What a run keeps besides its weights to use the model (vocabulary,
            classes, scaler, ...): exactly what :meth:`Job.read_artifacts` gives back.
        data: Whatever the job's :meth:`Job.plan` makes batches from.
    """

    artifacts: Any
    data: Any


class FitPlan(NamedTuple):
    """What :func:`rnnkit.training.fit` gets: training batches (or ``epoch -> batches``),
    validation batches (or None), the objective, and optional learning-rate groups."""

    train: Any
    valid: Any
    objective: Objective
    lr_groups: list[tuple[list[nn.Parameter], float]] | None = None


class Job:
    """A job's declaration; subclass it in ``tasks/<job>/job.py`` (see the module docstring).

    Class attributes:
        name: The run kind, written as ``"task"`` in ``config.json`` (``"lm"``).
        title: What a run of it is called in messages (``"language model"``).
        config: The config dataclass; it has ``task`` (a ``Literal`` of ``name``), ``data``
            (with ``batch_size``), ``model`` and ``train`` (a ``TrainConfig``) fields.
        presets: Named set-ups, nested dicts merged over the config's defaults.
    """

    name: ClassVar[str]
    title: ClassVar[str]
    config: ClassVar[type]
    presets: ClassVar[Mapping[str, Mapping[str, Any]]] = {}

    def adopt(self, config: Any) -> Any:
        """The config a new run is created with: ``config`` itself, unless the job takes part
        of it from elsewhere (a pretrained model's sizes, say). Called before anything is
        written."""
        return config

    def prepare(self, config: Any, artifacts: Any | None) -> Prepared:
        """Reads the training data; fits the artifacts on it, or, when ``artifacts`` are given
        (a resumed run, a rank after 0), uses those.

        Raises:
            RnnkitError: The data is missing or does not fit the config.
        """
        raise NotImplementedError

    def save_artifacts(self, run: RunDir, artifacts: Any) -> None:
        """Writes ``artifacts`` into a new run (JSON or plain files; never pickles)."""
        raise NotImplementedError

    def read_artifacts(self, run: RunDir, config: Any) -> Any:
        """The artifacts :meth:`save_artifacts` wrote."""
        raise NotImplementedError

    def build_model(self, config: Any, artifacts: Any) -> nn.Module:
        """A fresh model of the sizes ``config`` chooses and ``artifacts`` imply."""
        raise NotImplementedError

    def plan(
        self,
        config: Any,
        prepared: Prepared,
        model: nn.Module,
        run: RunDir,
        *,
        fresh: bool,
        notify: Notify | None = None,
    ) -> FitPlan:
        """Batches and objective for :func:`rnnkit.training.fit`.

        ``fresh`` is true in the process that starts a new run (not a resumed one, and rank 0
        of a data-parallel one): there the job may set first weights (pretrained vectors, a
        language model's layers), which ``fit`` hands to the other ranks, write what it
        learned about them into ``run``, and ``notify`` the user."""
        raise NotImplementedError

    def task(self, config: Any, artifacts: Any, model: nn.Module, run: RunDir | None) -> Any:
        """The task object of a trained model (puts it in eval mode)."""
        raise NotImplementedError

    def check_flags(self, config: Any, given: Sequence[str]) -> None:
        """Refuses options the user gave (``dotted.key=value``, from flags, ``--set`` or a
        config file) that ``config`` cannot honour together. Nothing by default.

        Raises:
            ConfigError: Such an option, named.
        """

    def finish(self, task: Any, prepared: Prepared, run: RunDir) -> None:
        """After training, on the process that writes the run: anything the run keeps that
        needs the trained model (interval calibration, say). Nothing by default."""

    def details(self, task: Any, result: FitResult) -> dict[str, Any]:
        """The job's own entries of the train summary's ``details`` (JSON-able)."""
        return {}

    def describe(self, summary: Mapping[str, Any]) -> list[str]:
        """Lines the text summary prints about the job's ``details``."""
        return []

    def export(self, task: Any, run: RunDir) -> Any:
        """The :class:`rnnkit.tasks.common.onnx_export.ExportPlan` of a trained run: its
        graphs and the files a user needs beside them. None by default: not exportable."""
        return None

    def upgrade(self, raw: dict[str, Any]) -> dict[str, Any]:
        """A ``config.json`` written by an earlier rnnkit, in today's shape (see
        :func:`rnnkit.tasks.common.runs.upgrade_config`, which runs first for every job)."""
        return raw
