"""Run directories: the unit a user keeps from a training run.

A run directory holds::

    config.json          the full config of the run
    model.safetensors    the final (or best) weights
    <name>.json          task extras, e.g. vocab.json, scaler.json
    <name>.<ext>         binary task extras of plain data, e.g. tokenizer.model
    metrics.jsonl        one JSON object per line: per logged step ("kind": "step") and per
                         epoch ("kind": "epoch"), each with its "step"
    loss.png             the loss curve
    checkpoint/          generations for --resume (see rnnkit.training.checkpoint)

Every file except the metrics log is replaced atomically. The metrics log is appended one
line per record with a single write followed by fsync, so a crash can only leave a torn
*last* line, which reading ignores and the next append repairs.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as d:
    ...     run = RunDir.create(Path(d) / "run", config={"hidden_size": 64})
    ...     run.log_metrics({"kind": "step", "step": 1, "loss": 2.5})
    ...     run.log_metrics({"kind": "step", "step": 2, "loss": 2.1})
    ...     run.truncate_metrics(after_step=1)  # resuming from a checkpoint at step 1
    ...     RunDir.open(run.path).read_config(), run.read_metrics()
    ({'hidden_size': 64}, [{'kind': 'step', 'step': 1, 'loss': 2.5}])
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from torch import nn

from rnnkit.atomic import atomic_write_bytes, atomic_write_json, named
from rnnkit.config import RnnkitError
from rnnkit.training.files import read_run_file
from rnnkit.training.runlock import LOCK_NAME
from rnnkit.training.weights import load_model_weights, save_model_weights

from . import plots

T = TypeVar("T")

__all__ = ["RunDir", "RunDirError"]

_EXTRA_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
_BINARY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*\.[A-Za-z0-9]+")
_RESERVED_EXTRAS = frozenset({"config"})
# The temporary file of an atomic write (rnnkit.atomic) that a killed process never renamed.
_LEFTOVER = re.compile(r"\..+\.[0-9a-f]{8}\.tmp")


class RunDirError(RnnkitError):
    """A run directory is missing, not a run directory, in the way, or has a malformed file.

    Args:
        problem: What is wrong and, where it helps, what to do.
        path: The directory or file concerned; the message starts with it.

    Example:
        >>> str(RunDirError("no such run directory", path="runs/lm"))
        'runs/lm: no such run directory'
    """

    def __init__(self, problem: str, *, path: str | os.PathLike[str] | None = None) -> None:
        super().__init__(f"{os.fspath(path)}: {problem}" if path is not None else problem)
        self.path = Path(path) if path is not None else None
        self.problem = problem


class RunDir:
    """A run directory at ``path``; use :meth:`create` or :meth:`open` to get one.

    Args:
        path: The directory. The constructor checks nothing; :meth:`open` does.
    """

    CONFIG = "config.json"
    MODEL = "model.safetensors"
    METRICS = "metrics.jsonl"
    CHECKPOINT = "checkpoint"
    PLOT = "loss.png"

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = Path(path)
        # Whether metrics.jsonl is known to end with a complete line (see log_metrics).
        self._metrics_tail_ok = False

    def __repr__(self) -> str:
        return f"RunDir({os.fspath(self._path)!r})"

    # --- creating and opening --------------------------------------------------------------

    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        *,
        config: Mapping[str, Any],
        overwrite: bool = False,
    ) -> RunDir:
        """Creates a run directory (and its parents) and writes ``config.json``.

        Args:
            path: The directory; it may exist if it is empty.
            config: The run's config as a JSON-able mapping (``rnnkit.config.to_dict``).
            overwrite: Replace an existing run directory: everything in it is deleted. Only a
                directory with a ``config.json`` is replaced, so a mistyped ``--out`` cannot
                wipe an unrelated directory.

        Returns:
            The new run directory.

        Raises:
            RunDirError: ``path`` holds a run and ``overwrite`` is False (the stub of a failed
                start aside: :meth:`check_new`), or it is not a run directory, or a file.
            TypeError: ``config`` is not a JSON-able mapping (nothing is changed then).

        Example:
            >>> import tempfile, torch
            >>> with tempfile.TemporaryDirectory() as d:
            ...     _ = RunDir.create(d, config={"lr": 0.1}).save_model(torch.nn.Linear(1, 1))
            ...     try:
            ...         RunDir.create(d, config={"lr": 0.2})
            ...     except RunDirError as error:
            ...         print(error.problem)
            a run directory already exists here; pass --resume to continue it, --overwrite to replace it, or choose another --out
        """  # noqa: E501
        path = Path(path)
        config = _json_ready_config(config)
        if cls.check_new(path, overwrite=overwrite):
            _clear_except(path, keep=(cls.CONFIG, LOCK_NAME))
        path.mkdir(parents=True, exist_ok=True)
        run = cls(path)
        # Written last: on --overwrite this replaces the old config only after the old run's
        # files are gone, so a crash midway leaves a directory --overwrite accepts again.
        atomic_write_json(run.config_path, config)
        return run

    @classmethod
    def check_new(cls, path: str | os.PathLike[str], *, overwrite: bool) -> bool:
        """Whether a new run at ``path`` replaces what is there (nothing, or an empty
        directory: False). It may replace a run with ``overwrite``, and without it the stub of
        a start that failed (``config.json``, no checkpoint, no weights) as older versions
        left one. Whether another process is writing it is the caller's to check
        (:class:`~rnnkit.training.runlock.RunLock`).

        Raises:
            RunDirError: ``path`` is a file, a directory that is not a run, or a run and
                ``overwrite`` is False.
        """
        path = Path(path)
        if path.exists() and not path.is_dir():
            raise RunDirError("exists and is not a directory; choose another --out", path=path)
        if not (path.is_dir() and any(p.name != LOCK_NAME for p in path.iterdir())):
            return False
        if not _is_stub(path):
            _check_replaceable(path, overwrite)
        return True

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> RunDir:
        """Opens an existing run directory.

        Args:
            path: The directory; it must exist and contain ``config.json``.

        Returns:
            The run directory.

        Raises:
            RunDirError: The directory or its ``config.json`` is missing.

        Example:
            >>> RunDir.open("no/such/run")
            Traceback (most recent call last):
            ...
            rnnkit.training.rundir.RunDirError: no/such/run: no such run directory
        """
        path = Path(path)
        if not path.exists():
            raise RunDirError("no such run directory", path=path)
        if not path.is_dir():
            raise RunDirError("not a directory (a run directory was expected)", path=path)
        if not os.path.lexists(path / cls.CONFIG):  # what it is, reading it will say
            raise RunDirError(f"not a run directory: {cls.CONFIG} is missing", path=path)
        return cls(path)

    def remove_leftovers(self) -> list[Path]:
        """Deletes the temporary files of writes that a killed process never finished
        (``.model.safetensors.1f2e3d4c.tmp`` in the run, ``.latest.1f2e3d4c.tmp`` in its
        checkpoint directory) and returns them. Only a process that holds the run's lock may
        call it: another writer's temporary file is not a leftover."""
        gone = []
        folders = [self._path, self.checkpoint_dir]
        for folder in (f for f in folders if f.is_dir() and not f.is_symlink()):
            for entry in folder.iterdir():
                if _LEFTOVER.fullmatch(entry.name) and entry.is_file() and not entry.is_symlink():
                    entry.unlink(missing_ok=True)
                    gone.append(entry)
        return gone

    # --- paths -----------------------------------------------------------------------------

    @property
    def path(self) -> Path:
        """The run directory."""
        return self._path

    @property
    def config_path(self) -> Path:
        """``config.json``."""
        return self._path / self.CONFIG

    @property
    def model_path(self) -> Path:
        """``model.safetensors``, the final weights."""
        return self._path / self.MODEL

    @property
    def metrics_path(self) -> Path:
        """``metrics.jsonl``, the metrics log."""
        return self._path / self.METRICS

    @property
    def checkpoint_dir(self) -> Path:
        """``checkpoint/``, for resuming (see :mod:`rnnkit.training.checkpoint`)."""
        return self._path / self.CHECKPOINT

    @property
    def plot_path(self) -> Path:
        """``loss.png``, the loss curve."""
        return self._path / self.PLOT

    # --- JSON files ------------------------------------------------------------------------

    def read_config(self) -> dict[str, Any]:
        """Reads ``config.json``.

        Returns:
            The config as a dict (turn it into a config dataclass with
            ``rnnkit.config.from_dict``).

        Raises:
            RunDirError: The file is missing, not valid JSON (the message gives line and
                column), or not a JSON object.
        """
        return _read_json_object(self.config_path)

    def write_extra(self, name: str, obj: Any) -> Path:
        """Writes a task extra, e.g. the vocabulary, as ``<name>.json`` atomically.

        Args:
            name: A file stem of letters, digits, ``_`` and ``-`` (``"vocab"``), not
                ``"config"``.
            obj: A JSON-able object.

        Returns:
            The file written.

        Example:
            >>> import tempfile
            >>> with tempfile.TemporaryDirectory() as d:
            ...     run = RunDir.create(d, config={})
            ...     run.write_extra("scaler", {"mean": 1.5, "std": 0.5}).name
            ...     run.read_extra("scaler")
            'scaler.json'
            {'mean': 1.5, 'std': 0.5}
        """
        return atomic_write_json(self._extra_path(name), obj)

    def read_extra(self, name: str) -> Any:
        """Reads a task extra written by :meth:`write_extra`.

        Args:
            name: The file stem given to :meth:`write_extra`.

        Returns:
            The JSON value.

        Raises:
            RunDirError: The file is missing or not valid JSON.
        """
        return _read_json(self._extra_path(name))

    def read_extra_as(self, name: str, parse: Callable[[Any], T]) -> T:
        """:meth:`read_extra`, then ``parse`` (a ``from_dict``) on the value; what ``parse``
        rejects (a :class:`~rnnkit.config.RnnkitError` or a ``ValueError``) becomes a
        RunDirError naming the file, since the file, not the user's command, is wrong.

        Example:
            >>> import tempfile
            >>> from pathlib import Path
            >>> run = RunDir(Path(tempfile.mkdtemp()))
            >>> _ = run.write_extra("scaler", {"mean": []})
            >>> def parse(data):
            ...     raise ValueError("expected the keys ['mean', 'std']")
            >>> try:
            ...     run.read_extra_as("scaler", parse)
            ... except RunDirError as err:
            ...     print(str(err).split("/")[-1])
            scaler.json: expected the keys ['mean', 'std']
        """
        data = self.read_extra(name)
        try:
            return parse(data)
        except (RnnkitError, ValueError) as err:
            raise RunDirError(str(err), path=self._extra_path(name)) from None

    def write_binary_extra(self, filename: str, data: bytes) -> Path:
        """Writes a binary task extra of plain data (never a pickle) atomically.

        For what a library saves in its own format, e.g. a sentencepiece model as
        ``tokenizer.model``; JSON extras go through :meth:`write_extra`.

        Args:
            filename: ``stem.ext`` of letters, digits, ``_`` and ``-``; not ``.json`` and
                not one of the run's own files (``model.safetensors``, ``loss.png``, ...).
            data: The complete content.

        Returns:
            The file written.

        Example:
            >>> import tempfile
            >>> with tempfile.TemporaryDirectory() as d:
            ...     run = RunDir.create(d, config={})
            ...     run.write_binary_extra("tokenizer.model", b"\\x0a\\x02").name
            ...     run.read_binary_extra("tokenizer.model")
            'tokenizer.model'
            b'\\n\\x02'
        """
        return atomic_write_bytes(self._binary_extra_path(filename), data)

    def read_binary_extra(self, filename: str) -> bytes:
        """Reads a binary task extra written by :meth:`write_binary_extra`.

        Raises:
            RunDirError: The file is missing, not a regular file, or too large.
        """
        return read_run_file(self._binary_extra_path(filename), RunDirError)

    def _binary_extra_path(self, filename: str) -> Path:
        own = {self.CONFIG, self.MODEL, self.METRICS, self.PLOT}
        if not isinstance(filename, str) or not _BINARY_NAME.fullmatch(filename):
            raise ValueError(
                "filename: expected a simple file name such as 'tokenizer.model' (letters, "
                f"digits, '_', '-', one extension), got {filename!r}"
            )
        if filename in own or filename.endswith(".json"):
            raise ValueError(
                f"filename: {filename!r} is reserved (the run's own files, and JSON extras "
                "through write_extra)"
            )
        return self._path / filename

    def _extra_path(self, name: str) -> Path:
        if not isinstance(name, str) or not _EXTRA_NAME.fullmatch(name):
            raise ValueError(
                "name: expected a simple file stem such as 'vocab' (letters, digits, '_', '-'),"
                f" got {name!r}"
            )
        if name in _RESERVED_EXTRAS:
            raise ValueError(f"name: {name!r} is reserved ({name}.json belongs to the run)")
        return self._path / f"{name}.json"

    # --- weights ---------------------------------------------------------------------------

    def save_model(self, model: nn.Module) -> Path:
        """Saves the model's weights to ``model.safetensors`` atomically (tied weights once).

        Args:
            model: The model.

        Returns:
            The file written.
        """
        return save_model_weights(self.model_path, model)

    def load_model(self, model: nn.Module) -> None:
        """Loads ``model.safetensors`` into ``model`` in place (see ``load_model_weights``).

        Args:
            model: A model of the architecture that was saved.

        Raises:
            rnnkit.training.checkpoint.CheckpointError: The file is missing or corrupted, or
                its names or shapes differ from the model's.
        """
        load_model_weights(self.model_path, model)

    # --- metrics ---------------------------------------------------------------------------

    def log_metrics(self, record: Mapping[str, Any]) -> None:
        """Appends one record to ``metrics.jsonl`` as one line, and fsyncs it.

        A torn last line left by a crash is repaired first (dropped, or completed with a
        newline if it is a whole record), so the log never has a bad line in the middle.

        Args:
            record: A JSON-able mapping, normally with ``"kind"`` and ``"step"``.
                Non-finite floats are written as ``NaN``/``Infinity``.
        """
        if not isinstance(record, Mapping):
            raise TypeError(f"record: expected a mapping, got {type(record).__name__}")
        try:
            # No indent: json.dumps then never emits a newline (strings escape it).
            line = json.dumps(dict(record), ensure_ascii=False, allow_nan=True)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"record: not JSON-able ({exc})") from None
        if not self._metrics_tail_ok:
            self._repair_metrics_tail()
        try:
            with open(self.metrics_path, "ab") as file:
                file.write((line + "\n").encode("utf-8"))  # one write: a crash tears only it
                file.flush()
                os.fsync(file.fileno())
        except OSError as exc:  # a full disk: say which file
            raise named(exc, self.metrics_path) from None
        self._metrics_tail_ok = True

    def read_metrics(self) -> list[dict[str, Any]]:
        """Reads ``metrics.jsonl``; a missing file reads as no records.

        Returns:
            The records in order. A torn last line (from a crash while appending) is ignored.

        Raises:
            RunDirError: A line other than the last is not a JSON object (names the line).
        """
        return [record for _, _, record in self._metric_lines()]

    def truncate_metrics(self, after_step: int) -> None:
        """Keeps only the records up to ``after_step``; the file is rewritten atomically.

        Used on resume, so that the steps after the checkpoint are not logged twice. A record
        is kept when its ``"step"`` is ``<= after_step``; a record without a ``"step"`` is kept
        when it comes before the first record that is dropped.

        Args:
            after_step: The last step to keep (the checkpoint's step).

        Raises:
            RunDirError: A line is malformed, or a ``"step"`` is not a number.
        """
        if type(after_step) is not int:
            raise TypeError(f"after_step: expected int, got {type(after_step).__name__}")
        if not self.metrics_path.exists():
            return
        kept: list[bytes] = []
        cut = False
        for number, raw, record in self._metric_lines():
            step = record.get("step")
            if step is None:
                keep = not cut
            elif not _is_number(step):
                raise RunDirError(
                    f"line {number}: 'step' must be a number, got {step!r}", path=self.metrics_path
                )
            else:
                keep = step <= after_step
                cut = cut or not keep
            if keep:
                kept.append(raw + b"\n")
        atomic_write_bytes(self.metrics_path, b"".join(kept))
        self._metrics_tail_ok = True

    def plot_loss_curve(self) -> Path | None:
        """Draws ``loss.png`` from the metrics log (see :func:`~.plots.plot_loss_curve`).

        Returns:
            The PNG written, or None when the log has no loss to plot.
        """
        return plots.plot_loss_curve(self.read_metrics(), self.plot_path)

    def _metric_lines(self) -> list[tuple[int, bytes, dict[str, Any]]]:
        """(line number, raw line without newline, record) of every good line."""
        try:
            data = self.metrics_path.read_bytes()
        except FileNotFoundError:
            return []
        lines = data.split(b"\n")
        filled = [i for i, raw in enumerate(lines) if raw.strip()]
        last = filled[-1] if filled else -1
        found = []
        for index in filled:
            record, problem = _parse_record(lines[index])
            if problem is None:
                found.append((index + 1, lines[index], record))
            elif index != last:
                raise RunDirError(
                    f"line {index + 1}: {problem}; only the last line may be incomplete",
                    path=self.metrics_path,
                )
        return found

    def _repair_metrics_tail(self) -> None:
        try:
            with open(self.metrics_path, "rb") as file:
                size = file.seek(0, os.SEEK_END)
                if size == 0:
                    return
                file.seek(size - 1)
                if file.read(1) == b"\n":
                    return
        except FileNotFoundError:
            return
        # The last line lacks its newline: keep it only if it is a whole record.
        good = b"".join(raw + b"\n" for _, raw, _ in self._metric_lines())
        atomic_write_bytes(self.metrics_path, good)


# ---------------------------------------------------------------------------------------------
# Internals
# ---------------------------------------------------------------------------------------------


def _json_ready_config(config: object) -> dict[str, Any]:
    if not isinstance(config, Mapping):
        raise TypeError(f"config: expected a mapping, got {type(config).__name__}")
    config = dict(config)
    try:
        json.dumps(config, allow_nan=True)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"config: not JSON-able ({exc})") from None
    return config


def _check_replaceable(path: Path, overwrite: bool) -> None:
    if not overwrite:
        raise RunDirError(
            "a run directory already exists here; pass --resume to continue it, "
            "--overwrite to replace it, or choose another --out",
            path=path,
        )
    if not (path / RunDir.CONFIG).is_file():
        raise RunDirError(
            f"not empty and not a run directory (no {RunDir.CONFIG}); refusing to overwrite "
            "it, choose another --out",
            path=path,
        )


def _is_stub(path: Path) -> bool:
    """A run whose start failed before its first checkpoint: a config, nothing to resume."""
    return (
        (path / RunDir.CONFIG).is_file()
        and not (path / RunDir.MODEL).exists()
        and not (path / RunDir.CHECKPOINT / "latest").exists()
    )


def _clear_except(path: Path, keep: tuple[str, ...]) -> None:
    for entry in path.iterdir():
        if entry.name in keep:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def _read_json(path: Path) -> Any:
    try:
        text = read_run_file(path, RunDirError).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RunDirError(f"not UTF-8 text (byte {exc.start})", path=path) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise RunDirError(
            f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", path=path
        ) from None


def _read_json_object(path: Path) -> dict[str, Any]:
    data = _read_json(path)
    if not isinstance(data, dict):
        raise RunDirError(f"expected a JSON object, got a {type(data).__name__}", path=path)
    return data


def _parse_record(raw: bytes) -> tuple[dict[str, Any], None] | tuple[None, str]:
    """(record, None) for a good line, (None, problem) for a bad one."""
    try:
        record = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return None, f"not UTF-8 text (byte {exc.start})"
    except json.JSONDecodeError as exc:
        return None, f"invalid JSON at column {exc.colno}: {exc.msg}"
    if not isinstance(record, dict):
        return None, f"expected a JSON object, got a {type(record).__name__}"
    return record, None


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
