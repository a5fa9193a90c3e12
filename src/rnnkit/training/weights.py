"""Tensors to and from safetensors files: a run's ``model.safetensors`` and a checkpoint's
tensor files, written atomically and read with checks (no pickles: loading never runs code).
"""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import safetensors
import safetensors.torch
import torch
from torch import nn

from rnnkit.atomic import replace_atomically
from rnnkit.config import RnnkitError
from rnnkit.training.files import check_run_file

__all__ = [
    "CheckpointError",
    "atomic_save_safetensors",
    "load_model_weights",
    "read_safetensors",
    "save_model_weights",
]

MAX_LISTED = 5  # names listed in one error message before "and N more"


class CheckpointError(RnnkitError):
    """A checkpoint or weights file is missing, corrupted or does not match what loads it.

    Args:
        problem: What is wrong, with the expected and the actual value where there are two.
        path: The file (or directory) concerned; the message starts with it.

    Example:
        >>> str(CheckpointError("missing file", path="ckpt/step-00000010/rng.json"))
        'ckpt/step-00000010/rng.json: missing file'
    """

    def __init__(self, problem: str, *, path: str | os.PathLike[str] | None = None) -> None:
        super().__init__(f"{os.fspath(path)}: {problem}" if path is not None else problem)
        self.path = Path(path) if path is not None else None
        self.problem = problem


def save_model_weights(path: str | os.PathLike[str], model: nn.Module) -> Path:
    """Saves ``model.state_dict()`` to a safetensors file atomically.

    Tensors that are the same tensor under several names (weight tying: an embedding shared
    with the output layer) are stored once, under the alphabetically first name, as
    ``safetensors.torch.save_model`` does; the header metadata maps each dropped name to the
    kept one. Files from ``save_model`` load with :func:`load_model_weights` and vice versa.

    Args:
        path: The ``.safetensors`` file to create or replace. Its directory must exist.
        model: The model to save.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Example:
        >>> import tempfile, torch
        >>> from pathlib import Path
        >>> from safetensors import safe_open
        >>> emb, out = torch.nn.Embedding(5, 4), torch.nn.Linear(4, 5)
        >>> out.weight = emb.weight  # tied
        >>> model = torch.nn.ModuleDict({"emb": emb, "out": out})
        >>> with tempfile.TemporaryDirectory() as d:
        ...     p = save_model_weights(Path(d) / "model.safetensors", model)
        ...     with safe_open(p, "pt") as f:
        ...         sorted(f.keys())
        ['emb.weight', 'out.bias']
    """
    state = _tensor_state(model)
    groups = _alias_groups(state)
    kept = {group[0]: state[group[0]] for group in groups}
    metadata = {"format": "pt"}
    metadata.update({alias: group[0] for group in groups for alias in group[1:]})
    return atomic_save_safetensors(path, kept, metadata=metadata)


def load_model_weights(path: str | os.PathLike[str], model: nn.Module) -> None:
    """Loads a safetensors file written by :func:`save_model_weights` into ``model``, in place.

    Every parameter and buffer of the model must be in the file (a tied weight once, under any
    of its names) with the model's shape, and the file must have nothing else; values are
    cast to the model's dtype and copied to its device. Tied weights stay tied.

    Args:
        path: The ``.safetensors`` file.
        model: The model to fill; it must have the architecture that was saved.

    Raises:
        CheckpointError: The file is missing or unreadable, or names or shapes differ; the
            model is unchanged then.

    Example:
        >>> import tempfile, torch
        >>> from pathlib import Path
        >>> with tempfile.TemporaryDirectory() as d:
        ...     p = save_model_weights(Path(d) / "model.safetensors", torch.nn.Linear(2, 3))
        ...     try:
        ...         load_model_weights(p, torch.nn.Linear(2, 4))
        ...     except CheckpointError as error:
        ...         print(error.problem.replace("; ", "\\n"))
        parameter 'weight': expected shape (4, 2) (the model), got (3, 2) (the file)
        parameter 'bias': expected shape (4,) (the model), got (3,) (the file)
    """
    state = read_model_state(Path(path), model)
    model.load_state_dict(state, strict=True)


def atomic_save_safetensors(
    path: str | os.PathLike[str],
    tensors: Mapping[str, torch.Tensor],
    metadata: Mapping[str, str] | None = None,
) -> Path:
    """Saves ``tensors`` to a safetensors file at ``path`` atomically.

    safetensors refuses tensors that share memory and non-contiguous tensors; both are made
    safe here by copying (a tensor that shares storage with one already being saved is cloned),
    so callers may pass views or aliases of a model's parameters. Use
    :func:`save_model_weights` for a model: it stores a tied weight
    once instead of twice.

    Args:
        path: The file to create or replace. Its directory must exist.
        tensors: Name -> dense tensor (any device; written from CPU memory).
        metadata: Optional string -> string header metadata.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Example:
        >>> import tempfile, torch
        >>> from pathlib import Path
        >>> from safetensors.torch import load_file
        >>> w = torch.arange(6.0).reshape(2, 3)
        >>> with tempfile.TemporaryDirectory() as d:
        ...     p = atomic_save_safetensors(Path(d) / "t.safetensors", {"w": w, "wt": w.t()})
        ...     loaded = load_file(p)
        >>> torch.equal(loaded["wt"], w.t())
        True
    """
    prepared = _safetensors_ready(tensors)
    meta = _string_metadata(metadata)

    def write(temp: Path) -> None:
        try:
            safetensors.torch.save_file(prepared, temp, metadata=meta)
        except safetensors.SafetensorError as exc:  # its I/O errors, as OSError says them
            code = re.search(r"(?:os error |code: )(\d+)", str(exc))
            number = int(code.group(1)) if code else errno.EIO
            raise OSError(number, os.strerror(number), os.fspath(path)) from exc

    return replace_atomically(Path(path), write)


def _safetensors_ready(tensors: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Dense, contiguous tensors with no two sharing storage (what safetensors accepts)."""
    if not isinstance(tensors, Mapping):
        raise TypeError(
            f"tensors: expected a mapping of str to Tensor, got {type(tensors).__name__}"
        )
    ready: dict[str, torch.Tensor] = {}
    seen_storages: set[tuple[torch.device, int]] = set()
    for name, tensor in tensors.items():
        if not isinstance(name, str):
            raise TypeError(f"tensors: keys must be str, got {name!r} ({type(name).__name__})")
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(f"tensors[{name!r}]: expected a Tensor, got {type(tensor).__name__}")
        tensor = tensor.detach()
        if tensor.layout != torch.strided:
            tensor = tensor.to_dense()
        storage = (tensor.device, tensor.untyped_storage().data_ptr())
        if storage in seen_storages and tensor.numel() > 0:
            tensor = tensor.clone()  # safetensors rejects aliases; a copy stores the same values
        else:
            seen_storages.add(storage)
        ready[name] = tensor.contiguous()
    return ready


def _string_metadata(metadata: Mapping[str, str] | None) -> dict[str, str] | None:
    if metadata is None:
        return None
    bad = [k for k, v in metadata.items() if not (isinstance(k, str) and isinstance(v, str))]
    if bad:
        raise TypeError(f"metadata: keys and values must be str, got a bad entry at {bad[0]!r}")
    return dict(metadata)


def read_safetensors(path: Path, device: str) -> dict[str, torch.Tensor]:
    check_run_file(path, CheckpointError)
    try:
        return safetensors.torch.load_file(path, device=device)
    # safetensors reports a bad header as SafetensorError, a bad device as a Rust panic or
    # ValueError, and I/O problems as OSError: all mean "this file cannot be used".
    except (safetensors.SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise CheckpointError(
            f"not a valid safetensors file ({exc}); the file is truncated or corrupted",
            path=path,
        ) from None


def _tensor_state(model: nn.Module) -> dict[str, torch.Tensor]:
    state = model.state_dict()
    for name, value in state.items():
        if not isinstance(value, torch.Tensor):
            raise TypeError(
                f"model: state entry {name!r} is {type_name(value)}, not a tensor "
                "(get_extra_state); safetensors stores tensors only"
            )
    return state


def _alias_groups(state: Mapping[str, torch.Tensor]) -> list[list[str]]:
    """Names grouped by identity of the tensor behind them, each group sorted, in order.

    Two names alias when they are the same view of the same memory (weight tying). Views of
    different parts of one buffer (cuDNN's flattened RNN weights) are separate tensors.
    """
    groups: dict[tuple[Any, ...], list[str]] = {}
    for name, tensor in state.items():
        if tensor.numel() == 0 or tensor.device.type == "meta":
            key: tuple[Any, ...] = ("alone", name)  # no memory to share
        else:
            key = (
                tensor.device,
                tensor.untyped_storage().data_ptr(),
                tensor.storage_offset(),
                tuple(tensor.shape),
                tensor.stride(),
                tensor.dtype,
            )
        groups.setdefault(key, []).append(name)
    return [sorted(group) for group in groups.values()]


def read_model_state(path: Path, model: nn.Module) -> dict[str, torch.Tensor]:
    """The file's tensors, checked against the model and keyed by every model name."""
    found = read_safetensors(path, "cpu")
    expected = _tensor_state(model)
    groups = _alias_groups(expected)
    _checklisted(path, found, expected, groups)
    _check_shapes(path, found, expected)
    _check_no_nan(path, found)
    full: dict[str, torch.Tensor] = {}
    for group in groups:
        present = [name for name in group if name in found]
        for other in present[1:]:
            if not torch.equal(found[present[0]], found[other]):
                raise CheckpointError(
                    f"parameters {present[0]!r} and {other!r} are tied in the model "
                    "but differ in the file",
                    path=path,
                )
        full.update(dict.fromkeys(group, found[present[0]]))
    return full


def _check_no_nan(path: Path, found: Mapping[str, torch.Tensor]) -> None:
    """No model answers anything but NaN from NaN weights (a diverged run or a damaged
    file); ``inf`` may be meant (a mask), NaN never is."""
    bad = [name for name, t in found.items() if t.is_floating_point() and bool(t.isnan().any())]
    if bad:
        raise CheckpointError(
            f"parameter(s) {listed(bad)} hold NaN: the run diverged or the file is damaged",
            path=path,
        )


def _checklisted(
    path: Path,
    found: Mapping[str, torch.Tensor],
    expected: Mapping[str, torch.Tensor],
    groups: list[list[str]],
) -> None:
    missing = [group[0] for group in groups if not any(name in found for name in group)]
    unexpected = [name for name in found if name not in expected]
    problems = []
    if missing:
        problems.append(f"missing parameter(s) {listed(missing)} (in the model, not the file)")
    if unexpected:
        problems.append(
            f"unexpected parameter(s) {listed(unexpected)} (in the file, not the model)"
        )
    if problems:
        raise CheckpointError(
            "the file does not match the model: " + "; ".join(problems), path=path
        )


def _check_shapes(
    path: Path, found: Mapping[str, torch.Tensor], expected: Mapping[str, torch.Tensor]
) -> None:
    problems = [
        f"parameter {name!r}: expected shape {tuple(expected[name].shape)} (the model), "
        f"got {tuple(found[name].shape)} (the file)"
        for name in expected  # the model's order, which is the order users know
        if name in found and found[name].shape != expected[name].shape
    ]
    if problems:
        more = len(problems) - MAX_LISTED
        text = "; ".join(problems[:MAX_LISTED]) + (f"; and {more} more" if more > 0 else "")
        raise CheckpointError(text, path=path)


def listed(names: list[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:MAX_LISTED])
    more = len(names) - MAX_LISTED
    return shown + (f" and {more} more" if more > 0 else "")


def type_name(value: object) -> str:
    return "None" if value is None else type(value).__name__
