"""Checkpoints for exact resumption: weights, optimizer, scheduler, RNG states and progress.

A checkpoint directory holds *generations*, one directory per save, plus a ``latest`` file
naming the newest complete one::

    checkpoint/
      latest                     "step-00001200"
      step-00001000/  step-00001200/
        model.safetensors        model weights (rnnkit.training.weights); a tied weight once
        optimizer.safetensors    every tensor of optimizer.state_dict()["state"] as
                                 "state.<param_index>.<name>"
        optimizer.json           the rest of the optimizer state (param_groups, None buffers)
        scheduler.json           the scheduler's state_dict, or null
        rng.safetensors          torch CPU (and CUDA) generator states
        rng.json                 Python ``random`` and NumPy global generator states
        progress.json            the caller's progress (epoch, step, ...), rnnkit version, format
        tensors.safetensors      the caller's extra tensors (carried state, best weights, ...)

A generation is built under a temporary name and renamed into place (see
:func:`~rnnkit.atomic.atomic_directory`), and ``latest`` is replaced atomically only
afterwards, so ``latest`` always names a complete generation. Nothing is ever unpickled:
tensors are safetensors, everything else JSON. Values JSON has no type for (tuples, dicts
keyed by int such as the optimizer state, tensors as references into the companion
safetensors file) are tagged by :mod:`rnnkit.training.tree`, the one codec of every state a
checkpoint holds, so that ``load_state_dict`` receives exactly what ``state_dict`` gave.

Loading checks every file before changing anything: a missing, truncated or corrupted file,
a model of other shapes or parameter names, an optimizer or scheduler of another class, or a
checkpoint from another rnnkit major version raises :class:`CheckpointError` naming the file
and the problem.

Example:
    >>> import tempfile, torch
    >>> from pathlib import Path
    >>> model = torch.nn.Linear(3, 2)
    >>> opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     gen = save_checkpoint(Path(d), model=model, optimizer=opt, scheduler=None,
    ...                           progress={"epoch": 1, "step": 10})
    ...     fresh = torch.nn.Linear(3, 2)
    ...     ckpt = load_checkpoint(Path(d), model=fresh)
    >>> gen.name, ckpt.progress["step"], torch.equal(fresh.weight, model.weight)
    ('step-00000010', 10, True)
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
import os
import random
import re
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import torch
from torch import nn

from rnnkit.atomic import atomic_directory, atomic_write_json, atomic_write_text
from rnnkit.training import tree
from rnnkit.training.files import read_run_file
from rnnkit.training.weights import (
    CheckpointError,
    atomic_save_safetensors,
    listed,
    read_model_state,
    read_safetensors,
    save_model_weights,
    type_name,
)

__all__ = [
    "FORMAT",
    "Checkpoint",
    "CheckpointError",
    "capture_rng_state",
    "load_checkpoint",
    "parse_rng_state",
    "restore_rng_state",
    "save_checkpoint",
]

FORMAT = 1
"""Version of the checkpoint layout; bumped when a reader of the old layout would misread."""

LATEST = "latest"
MODEL = "model.safetensors"
OPTIMIZER_TENSORS = "optimizer.safetensors"
OPTIMIZER_JSON = "optimizer.json"
SCHEDULER_JSON = "scheduler.json"
RNG_TENSORS = "rng.safetensors"
RNG_JSON = "rng.json"
PROGRESS_JSON = "progress.json"
EXTRA_TENSORS = "tensors.safetensors"
_FILES = (
    MODEL,
    OPTIMIZER_TENSORS,
    OPTIMIZER_JSON,
    SCHEDULER_JSON,
    RNG_TENSORS,
    RNG_JSON,
    PROGRESS_JSON,
    EXTRA_TENSORS,
)

_GENERATION = re.compile(r"step-(\d{8,})")
# Leftovers of an interrupted atomic_directory (see its crash windows).
_LEFTOVER = re.compile(r"step-\d{8,}\.(?:tmp|old)-[0-9a-f]+")
_NO_TENSORS: Mapping[str, torch.Tensor] = MappingProxyType({})


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    """What :func:`load_checkpoint` returns besides the state it restored in place.

    Attributes:
        progress: The ``progress`` mapping given to :func:`save_checkpoint`.
        tensors: The extra ``tensors`` given to :func:`save_checkpoint`, on ``map_location``.
        path: The generation directory that was loaded.
    """

    progress: dict[str, Any]
    tensors: dict[str, torch.Tensor]
    path: Path


# ---------------------------------------------------------------------------------------------
# Checkpoints
# ---------------------------------------------------------------------------------------------


def save_checkpoint(
    directory: str | os.PathLike[str],
    *,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: object | None,
    progress: Mapping[str, Any],
    tensors: Mapping[str, torch.Tensor] = _NO_TENSORS,
    keep: int = 2,
) -> Path:
    """Writes a new checkpoint generation, points ``latest`` at it and prunes old ones.

    The generation ``directory/step-<8-digit progress["step"]>`` is built under a temporary
    name and renamed into place; ``latest`` is replaced afterwards; then all but the newest
    ``keep`` generations up to this step are deleted, as are generations of a *later* step
    (left by a run that was resumed from an earlier checkpoint, so they belong to an abandoned
    future) and leftovers of interrupted saves. A crash at any point leaves ``latest`` naming
    a complete generation. The RNG states are captured at the time of the call.

    Args:
        directory: The checkpoint directory (created if missing), e.g. ``run/checkpoint``.
        model: The model; tied weights are stored once (see :func:`save_model_weights`).
        optimizer: The optimizer.
        scheduler: Anything with ``state_dict()``/``load_state_dict()`` whose state is JSON
            (lists, tuples, dicts, numbers, strings, None), e.g. any ``torch.optim.lr_scheduler``;
            or None.
        progress: JSON-able progress: must have ``"step"`` (a non-negative int); typically
            also epoch, best metric, elapsed time.
        tensors: Extra tensors to keep, e.g. a recurrent state carried across windows or the
            best weights for early stopping.
        keep: How many generations to keep (at least 1).

    Returns:
        The new generation directory.

    Raises:
        CheckpointError: Some state cannot be stored (the message names the file and the key);
            nothing is written then.

    Example:
        >>> import tempfile, torch
        >>> from pathlib import Path
        >>> model = torch.nn.Linear(2, 1)
        >>> opt = torch.optim.Adam(model.parameters())
        >>> with tempfile.TemporaryDirectory() as d:
        ...     for step in (1, 2, 3):
        ...         _ = save_checkpoint(Path(d), model=model, optimizer=opt, scheduler=None,
        ...                             progress={"step": step}, keep=2)
        ...     sorted(p.name for p in Path(d).iterdir())
        ['latest', 'step-00000002', 'step-00000003']
    """
    step = _validate_save_arguments(optimizer, scheduler, progress, keep)
    directory = Path(directory)
    generation = directory / f"step-{step:08d}"
    files = _checkpoint_payload(generation, model, optimizer, scheduler, progress, tensors)
    directory.mkdir(parents=True, exist_ok=True)
    with atomic_directory(generation) as temp:
        for name, write in files.items():
            write(temp / name)
    atomic_write_text(directory / LATEST, generation.name + "\n")
    _prune(directory, step, keep)
    return generation


def load_checkpoint(
    directory: str | os.PathLike[str],
    *,
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler: object | None = None,
    restore_rng: bool = True,
    map_location: str | torch.device = "cpu",
) -> Checkpoint:
    """Restores the generation named by ``directory/latest`` into the given objects.

    Every file of the generation is checked before anything is changed; then the weights are
    copied into ``model``, and the optimizer, scheduler and global RNG states (torch CPU and,
    when present in both the file and this machine, CUDA; Python ``random``; NumPy) are
    restored. With the same data order, training continues with the same numbers as if it had
    never stopped.

    Args:
        directory: The checkpoint directory given to :func:`save_checkpoint`.
        model: The model to fill (same architecture as saved).
        optimizer: The optimizer to restore (same class and parameter groups), or None to
            load weights only.
        scheduler: The scheduler to restore (same class), or None.
        restore_rng: Whether to restore the global RNG states.
        map_location: Device for the returned extra tensors and the optimizer state read from
            the file (``optimizer.load_state_dict`` then moves it to the parameters' device).

    Returns:
        The progress, extra tensors and generation path.

    Raises:
        CheckpointError: No checkpoint, or a file is missing, corrupted or does not match.
    """
    generation = _latest_generation(Path(directory))
    progress = _read_progress(generation / PROGRESS_JSON)
    _require_files(generation)
    device = str(map_location)
    model_state = read_model_state(generation / MODEL, model)
    optimizer_state = _read_optimizer_state(generation, optimizer, device)
    scheduler_state = _read_scheduler_state(generation / SCHEDULER_JSON, scheduler)
    rng = _read_rng(generation)
    extras = read_safetensors(generation / EXTRA_TENSORS, device)

    model.load_state_dict(model_state, strict=True)
    if optimizer is not None:
        _apply(optimizer.load_state_dict, optimizer_state, generation / OPTIMIZER_JSON)
    if scheduler is not None:
        _apply(scheduler.load_state_dict, scheduler_state, generation / SCHEDULER_JSON)
    if restore_rng:
        restore_rng_state(rng)
    return Checkpoint(progress=progress, tensors=extras, path=generation)


# ---------------------------------------------------------------------------------------------
# Saving internals
# ---------------------------------------------------------------------------------------------


def _validate_save_arguments(
    optimizer: object, scheduler: object, progress: object, keep: object
) -> int:
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer: expected a torch.optim.Optimizer, got {type_name(optimizer)}")
    if scheduler is not None and not _has_state_methods(scheduler):
        raise TypeError(
            f"scheduler: expected an object with state_dict() and load_state_dict() or None, "
            f"got {type_name(scheduler)}"
        )
    if not isinstance(progress, Mapping):
        raise TypeError(f"progress: expected a mapping, got {type_name(progress)}")
    step = progress.get("step")
    if type(step) is not int or step < 0:
        raise ValueError(f"progress['step']: expected a non-negative int, got {step!r}")
    if type(keep) is not int or keep < 1:
        raise ValueError(f"keep: expected an int >= 1, got {keep!r}")
    return step


def _has_state_methods(obj: object) -> bool:
    return callable(getattr(obj, "state_dict", None)) and callable(
        getattr(obj, "load_state_dict", None)
    )


def _checkpoint_payload(
    generation: Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: object | None,
    progress: Mapping[str, Any],
    tensors: Mapping[str, torch.Tensor],
) -> dict[str, Callable[[Path], Any]]:
    """One writer per file. All state is captured and encoded here, before anything is
    written, so that a value that cannot be stored fails the save with nothing on disk."""
    optimizer_tensors: dict[str, torch.Tensor] = {}
    optimizer_json = {
        "class": type(optimizer).__name__,
        "state_dict": _encode_for(
            generation / OPTIMIZER_JSON, optimizer.state_dict(), optimizer_tensors
        ),
    }
    scheduler_json = None
    if scheduler is not None:
        scheduler_json = {
            "class": type(scheduler).__name__,
            "state_dict": _encode_for(generation / SCHEDULER_JSON, scheduler.state_dict(), None),
        }
    progress_json = {
        "format": FORMAT,
        "rnnkit_version": _rnnkit_version(),
        "progress": _plain_json_for(generation / PROGRESS_JSON, progress),
    }
    rng_tensors, rng_json = capture_rng_state()
    extras = dict(tensors)
    return {
        MODEL: lambda p: save_model_weights(p, model),
        OPTIMIZER_TENSORS: lambda p: atomic_save_safetensors(p, optimizer_tensors),
        OPTIMIZER_JSON: lambda p: atomic_write_json(p, optimizer_json),
        SCHEDULER_JSON: lambda p: atomic_write_json(p, scheduler_json),
        RNG_TENSORS: lambda p: atomic_save_safetensors(p, rng_tensors),
        RNG_JSON: lambda p: atomic_write_json(p, rng_json),
        EXTRA_TENSORS: lambda p: atomic_save_safetensors(p, extras),
        # Last, so that a generation with a progress file was written completely.
        PROGRESS_JSON: lambda p: atomic_write_json(p, progress_json),
    }


def _prune(directory: Path, step: int, keep: int) -> None:
    generations = _generations(directory)
    older_or_same = [path for s, path in generations if s <= step]
    abandoned = [path for s, path in generations if s > step]
    for path in older_or_same[:-keep] + abandoned:
        shutil.rmtree(path, ignore_errors=True)
    for entry in directory.iterdir():
        if _LEFTOVER.fullmatch(entry.name) and entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)


def _generations(directory: Path) -> list[tuple[int, Path]]:
    """(step, path) of the generation directories, oldest first."""
    found = []
    for entry in directory.iterdir():
        match = _GENERATION.fullmatch(entry.name)
        if match and entry.is_dir():
            found.append((int(match.group(1)), entry))
    return sorted(found)


def parse_rng_state(
    tensors: Mapping[str, torch.Tensor], info: Mapping[str, Any], path: Path
) -> dict[str, Any]:
    """The states :func:`capture_rng_state` gave, checked, ready for :func:`restore_rng_state`.

    Raises:
        CheckpointError: A state is missing or malformed (``path`` names where it came from).
    """
    if "torch.cpu" not in tensors:
        raise CheckpointError("missing tensor 'torch.cpu'", path=path)
    try:
        python_state = tree.decode(info["python"], {}, set(), "python")
        n = info["numpy"]
        numpy_state = (
            n["bit_generator"],
            np.asarray(n["key"], dtype=np.uint32),
            n["pos"],
            n["has_gauss"],
            n["cached_gaussian"],
        )
        random.Random().setstate(python_state)
        np.random.RandomState().set_state(numpy_state)
    except (tree.MalformedError, KeyError, TypeError, ValueError, OverflowError) as exc:
        raise CheckpointError(f"malformed RNG state ({exc!r})", path=path) from None
    try:
        torch.Generator().set_state(tensors["torch.cpu"])
    except (RuntimeError, TypeError) as exc:
        raise CheckpointError(f"malformed torch RNG state ({exc})", path=path) from None
    return {"torch": dict(tensors), "python": python_state, "numpy": numpy_state}


def capture_rng_state() -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """This process's RNG states as a checkpoint stores them: (tensors, JSON-able info)."""
    tensors = {"torch.cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        for index, state in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"torch.cuda.{index}"] = state
    name, key, pos, has_gauss, cached_gaussian = np.random.get_state()
    numpy_state = {
        "bit_generator": str(name),
        "key": [int(k) for k in key],
        "pos": int(pos),
        "has_gauss": int(has_gauss),
        "cached_gaussian": float(cached_gaussian),
    }
    return tensors, {"python": tree.encode(random.getstate(), None), "numpy": numpy_state}


def _rnnkit_version() -> str:
    try:
        return importlib.metadata.version("rnnkit")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"  # running from a source tree that was never installed


def _encode_for(path: Path, value: Any, tensors: dict[str, torch.Tensor] | None) -> Any:
    try:
        return tree.encode(value, tensors)
    except tree.UnstorableError as exc:
        raise CheckpointError(
            f"cannot store the value at key {exc.key or '<root>'!r} as JSON: {exc.what}",
            path=path,
        ) from None


def _plain_json_for(path: Path, value: Any) -> Any:
    """``value`` as plain JSON (tuples become lists), or CheckpointError naming the key."""
    try:
        return tree.plain_json(value)
    except tree.UnstorableError as exc:
        raise CheckpointError(
            f"cannot store progress key {exc.key!r} as JSON: {exc.what}", path=path
        ) from None


# ---------------------------------------------------------------------------------------------
# Loading internals: read and check everything, change nothing
# ---------------------------------------------------------------------------------------------


def _latest_generation(directory: Path) -> Path:
    if not directory.is_dir():
        raise CheckpointError(f"no checkpoint in {directory} (no such directory)")
    latest = directory / LATEST
    if not latest.exists():
        generations = _generations(directory)
        if not generations:
            raise CheckpointError(f"no checkpoint in {directory}")
        # A crash between the first generation's rename and writing `latest`; generations
        # only ever appear complete, so the newest one is good.
        return generations[-1][1]
    name = read_run_file(latest, CheckpointError, limit=1024).decode("utf-8", "replace").strip()
    if not _GENERATION.fullmatch(name):
        raise CheckpointError(
            f"expected a generation name such as 'step-00000100', got {name[:80]!r}", path=latest
        )
    generation = directory / name
    if not generation.is_dir():
        raise CheckpointError(f"names generation {name!r}, which does not exist", path=latest)
    return generation


def _require_files(generation: Path) -> None:
    missing = [name for name in _FILES if not (generation / name).is_file()]
    if missing:
        also = f"; also missing: {', '.join(missing[1:])}" if len(missing) > 1 else ""
        raise CheckpointError(
            f"missing file (the checkpoint is incomplete){also}", path=generation / missing[0]
        )


def _read_json(path: Path) -> Any:
    try:
        return json.loads(read_run_file(path, CheckpointError).decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise CheckpointError(
            f"not UTF-8 text (byte {exc.start}); the file is corrupted", path=path
        ) from None
    except json.JSONDecodeError as exc:
        raise CheckpointError(
            f"invalid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg}); "
            "the file is truncated or corrupted",
            path=path,
        ) from None


def _read_progress(path: Path) -> dict[str, Any]:
    data = _read_json(path)
    if not isinstance(data, dict):
        raise CheckpointError(f"expected a JSON object, got {type_name(data)}", path=path)
    version = data.get("rnnkit_version")
    if not isinstance(version, str):
        raise CheckpointError(f"'rnnkit_version': expected a string, got {version!r}", path=path)
    _check_major_version(version, path)
    if data.get("format") != FORMAT:
        raise CheckpointError(
            f"checkpoint format {data.get('format')!r}, this rnnkit reads format {FORMAT}",
            path=path,
        )
    progress = data.get("progress")
    if not isinstance(progress, dict):
        raise CheckpointError(
            f"'progress': expected a JSON object, got {type_name(progress)}", path=path
        )
    return progress


def _check_major_version(written: str, path: Path) -> None:
    current = _rnnkit_version()
    if current == "unknown":
        return  # nothing to compare against in an uninstalled source tree
    match = re.match(r"(\d+)\.", written)
    if match is None:
        raise CheckpointError(
            f"'rnnkit_version': expected a version such as '0.1.0', got {written!r}", path=path
        )
    major, current_major = int(match.group(1)), int(current.split(".")[0])
    if major != current_major:
        raise CheckpointError(
            f"written by rnnkit {written}, this is {current}; checkpoints do not carry across "
            f"major versions (resume it with rnnkit {major}.x, or start a new run)",
            path=path,
        )


def _read_optimizer_state(
    generation: Path, optimizer: torch.optim.Optimizer | None, device: str
) -> dict[str, Any] | None:
    json_path, tensor_path = generation / OPTIMIZER_JSON, generation / OPTIMIZER_TENSORS
    info = _read_object(json_path, ("class", "state_dict"))
    tensors = read_safetensors(tensor_path, device)
    if optimizer is None:
        return None
    if info["class"] != type(optimizer).__name__:
        raise CheckpointError(
            f"written for a {info['class']} optimizer, got {type(optimizer).__name__}",
            path=json_path,
        )
    state = _decode_with(json_path, tensor_path, info["state_dict"], tensors)
    _check_param_groups(json_path, state, optimizer)
    return state


def _check_param_groups(path: Path, state: Any, optimizer: torch.optim.Optimizer) -> None:
    if not (
        isinstance(state, dict)
        and isinstance(state.get("state"), dict)
        and isinstance(state.get("param_groups"), list)
    ):
        raise CheckpointError("'state_dict': expected 'state' and 'param_groups'", path=path)
    saved = [
        len(g["params"]) if isinstance(g, dict) and isinstance(g.get("params"), list) else None
        for g in state["param_groups"]
    ]
    ours = [len(g["params"]) for g in optimizer.param_groups]
    if saved != ours:
        raise CheckpointError(
            f"parameter groups of sizes {saved} in the file, {ours} in the optimizer "
            "(a different model or optimizer setup)",
            path=path,
        )
    groups = zip(state["param_groups"], optimizer.param_groups, strict=True)  # same count
    for index, (group, own) in enumerate(groups):
        if "lr" not in group:
            raise CheckpointError(f"param_groups.{index}: missing 'lr'", path=path)
        for key in own.keys() & group.keys() - {"params"}:
            if not _same_kind(group[key], own[key]):
                raise CheckpointError(
                    f"param_groups.{index}.{key}: expected a value like {own[key]!r}, "
                    f"got {group[key]!r}",
                    path=path,
                )


def _same_kind(saved: Any, ours: Any) -> bool:
    """Whether a hyperparameter read from a file has the kind of value the optimizer holds
    (a number for a number, a pair for a pair, ...): torch checks none of them on loading,
    and a wrong one fails steps later, deep inside the update."""
    if isinstance(ours, bool) or ours is None or isinstance(ours, str):
        return ours is None or type(saved) is type(ours)
    if isinstance(ours, int | float):
        return isinstance(saved, int | float) and not isinstance(saved, bool) and saved == saved
    if isinstance(ours, list | tuple):
        return (
            isinstance(saved, list | tuple)
            and len(saved) == len(ours)
            and all(_same_kind(a, b) for a, b in zip(saved, ours, strict=True))
        )
    return True  # tensors and anything newer: torch's own checks


def _read_scheduler_state(path: Path, scheduler: object | None) -> dict[str, Any] | None:
    info = _read_json(path)
    if scheduler is None:
        return None
    if info is None:
        raise CheckpointError(
            f"the checkpoint has no scheduler state, but a {type(scheduler).__name__} was given",
            path=path,
        )
    info = _read_object(path, ("class", "state_dict"), data=info)
    if info["class"] != type(scheduler).__name__:
        raise CheckpointError(
            f"written for a {info['class']} scheduler, got {type(scheduler).__name__}", path=path
        )
    return _decode_with(path, None, info["state_dict"], {})


def _read_object(path: Path, keys: tuple[str, ...], data: Any = None) -> dict[str, Any]:
    data = _read_json(path) if data is None else data
    if not isinstance(data, dict):
        raise CheckpointError(f"expected a JSON object, got {type_name(data)}", path=path)
    missing = [key for key in keys if key not in data]
    if missing:
        raise CheckpointError(f"missing key(s) {listed(missing)}", path=path)
    return data


def _decode_with(
    json_path: Path,
    tensor_path: Path | None,
    value: Any,
    tensors: Mapping[str, torch.Tensor],
) -> Any:
    used: set[str] = set()
    try:
        decoded = tree.decode(value, tensors, used)
    except tree.MalformedError as exc:
        raise CheckpointError(f"at key {exc.key!r}: {exc.problem}", path=json_path) from None
    unused = sorted(set(tensors) - used)
    if unused and tensor_path is not None:
        raise CheckpointError(
            f"tensor(s) {listed(unused)} are not named by {json_path.name}", path=tensor_path
        )
    return decoded


def _read_rng(generation: Path) -> dict[str, Any]:
    """The RNG states, each checked by loading it into a scratch generator."""
    json_path, tensor_path = generation / RNG_JSON, generation / RNG_TENSORS
    tensors = read_safetensors(tensor_path, "cpu")
    if "torch.cpu" not in tensors:
        raise CheckpointError("missing tensor 'torch.cpu'", path=tensor_path)
    info = _read_object(json_path, ("python", "numpy"))
    return parse_rng_state(tensors, info, json_path)


def restore_rng_state(rng: Mapping[str, Any]) -> None:
    """Sets this process's RNGs to states from :func:`parse_rng_state`."""
    torch.set_rng_state(rng["torch"]["torch.cpu"])
    if torch.cuda.is_available():
        # A checkpoint from a machine with other GPUs restores the devices both have.
        for index in range(torch.cuda.device_count()):
            state = rng["torch"].get(f"torch.cuda.{index}")
            if state is not None:
                torch.cuda.set_rng_state(state, device=index)
    random.setstate(rng["python"])
    np.random.set_state(rng["numpy"])


def _apply(load_state_dict: Callable[[Any], Any], state: Any, path: Path) -> None:
    try:
        load_state_dict(state)
    # torch validates the structure inside load_state_dict and reports it with these types.
    except (KeyError, TypeError, ValueError, RuntimeError, IndexError) as exc:
        raise CheckpointError(f"cannot restore this state ({exc!r})", path=path) from None
