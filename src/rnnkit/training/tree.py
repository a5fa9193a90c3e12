"""Nested containers of tensors (batches, recurrent states), handled without knowing their type.

``training`` is model-agnostic: a batch may be a tuple, a dict, a NamedTuple or a dataclass
of tensors, and a recurrent state is a NamedTuple such as ``LSTMState(h, c)``. These helpers
map over the tensors inside, keep the structure, and turn it into named tensors plus a JSON
description, so a carried state can go into a safetensors checkpoint and come back.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable
from typing import Any

import torch

__all__ = ["flatten", "tree_map", "unflatten"]


def tree_map(fn: Callable[[torch.Tensor], Any], tree: Any) -> Any:
    """Applies ``fn`` to every tensor in ``tree``; other leaves are returned as they are.

    Example:
        >>> from collections import namedtuple
        >>> State = namedtuple("State", "h c")
        >>> tree_map(lambda t: t * 2, {"s": State(torch.ones(1), torch.zeros(1)), "n": 3})
        {'s': State(h=tensor([2.]), c=tensor([0.])), 'n': 3}
    """
    if isinstance(tree, torch.Tensor):
        return fn(tree)
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):  # NamedTuple
        return type(tree)(*(tree_map(fn, item) for item in tree))
    if isinstance(tree, list | tuple):
        return type(tree)(tree_map(fn, item) for item in tree)
    if isinstance(tree, dict):
        return {key: tree_map(fn, value) for key, value in tree.items()}
    if dataclasses.is_dataclass(tree) and not isinstance(tree, type):
        changes = {f.name: tree_map(fn, getattr(tree, f.name)) for f in dataclasses.fields(tree)}
        return dataclasses.replace(tree, **changes)
    return tree


def flatten(tree: Any, prefix: str = "state") -> tuple[dict[str, torch.Tensor], Any]:
    """Splits ``tree`` into named tensors and a JSON-able description of its structure.

    Supports tensors, None, tuples, lists, str-keyed dicts and NamedTuples (restored by their
    importable ``module:qualname``; nothing is unpickled).

    Example:
        >>> tensors, spec = flatten((torch.ones(2), None))
        >>> sorted(tensors), spec
        (['state.0'], {'tuple': [{'tensor': 'state.0'}, None]})
        >>> unflatten(tensors, spec)
        (tensor([1., 1.]), None)
    """
    tensors: dict[str, torch.Tensor] = {}

    def walk(node: Any, name: str) -> Any:
        if node is None:
            return None
        if isinstance(node, torch.Tensor):
            tensors[name] = node.detach().contiguous()
            return {"tensor": name}
        if isinstance(node, tuple) and hasattr(node, "_fields"):
            cls = type(node)
            items = [walk(item, f"{name}.{i}") for i, item in enumerate(node)]
            return {"namedtuple": f"{cls.__module__}:{cls.__qualname__}", "items": items}
        if isinstance(node, list | tuple):
            kind = "list" if isinstance(node, list) else "tuple"
            return {kind: [walk(item, f"{name}.{i}") for i, item in enumerate(node)]}
        if isinstance(node, dict) and all(isinstance(k, str) for k in node):
            return {"dict": {k: walk(v, f"{name}.{k}") for k, v in node.items()}}
        raise TypeError(f"cannot store a {type(node).__name__} in a checkpoint ({name})")

    return tensors, walk(tree, prefix)


def unflatten(tensors: dict[str, torch.Tensor], spec: Any) -> Any:
    """Inverse of :func:`flatten`.

    Raises:
        ValueError: The description names a tensor that is missing, or a class that is not an
            importable NamedTuple.
    """
    if spec is None:
        return None
    if "tensor" in spec:
        if spec["tensor"] not in tensors:
            raise ValueError(f"tensor {spec['tensor']!r} is missing")
        return tensors[spec["tensor"]]
    if "namedtuple" in spec:
        cls = _namedtuple_class(spec["namedtuple"])
        return cls(*(unflatten(tensors, item) for item in spec["items"]))
    if "list" in spec:
        return [unflatten(tensors, item) for item in spec["list"]]
    if "tuple" in spec:
        return tuple(unflatten(tensors, item) for item in spec["tuple"])
    if "dict" in spec:
        return {k: unflatten(tensors, v) for k, v in spec["dict"].items()}
    raise ValueError(f"unknown structure {spec!r}")


def _namedtuple_class(path: str) -> type:
    module_name, _, qualname = path.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    if not (isinstance(obj, type) and issubclass(obj, tuple) and hasattr(obj, "_fields")):
        raise ValueError(f"{path!r} is not an importable NamedTuple class")
    return obj
