"""Nested containers of tensors (batches, recurrent states, optimizer states), handled without
knowing their type, and the one codec that stores them as JSON beside a safetensors file.

``training`` is model-agnostic: a batch may be a tuple, a dict, a NamedTuple or a dataclass
of tensors, a recurrent state is a NamedTuple such as ``LSTMState(h, c)``, and an optimizer's
state is a dict keyed by parameter index. :func:`tree_map` maps over the tensors inside and
keeps the structure. :func:`encode` turns such a value into plain JSON and named tensors, and
:func:`decode` brings it back exactly: JSON has no tuples, no int keys and no tensors, so those
are tagged, a tag being a one-key object:

- ``{"__tuple__": [...]}``: a tuple;
- ``{"__int_keys__": {"0": ...}}``: a dict keyed by ints (the optimizer's state);
- ``{"__tensor__": "state.0.exp_avg"}``: a tensor, by its name in the companion file;
- ``{"__namedtuple__": ["module:Class", [...]]}``: a NamedTuple (a recurrent state), of a
  state type only (:func:`register_state_type`);
- ``{"__dict__": {...}}``: a dict whose one key happens to be a tag.

Example:
    >>> from rnnkit.state import LSTMState
    >>> tensors: dict = {}
    >>> spec = encode({"carry": LSTMState(torch.ones(1), torch.zeros(1)), "n": (1, 2)}, tensors)
    >>> spec["n"], sorted(tensors)
    ({'__tuple__': [1, 2]}, ['carry.0', 'carry.1'])
    >>> decode(spec, tensors)["carry"].h
    tensor([1.])

A checkpoint is data: reading one never imports anything. A NamedTuple's name is looked up
among the modules already loaded (``sys.modules``, through their namespaces, no attribute
hooks), and the class found must be a state type: one that says so
(``__checkpoint_state__ = True``, as rnnkit's recurrent states do) or that a program
registered with :func:`register_state_type`. A crafted ``progress.json`` naming ``os:system``
or a module planted beside the run is refused, not imported.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from collections.abc import Callable, Mapping
from typing import Any

import torch

__all__ = [
    "MalformedError",
    "UnstorableError",
    "decode",
    "encode",
    "flatten",
    "plain_json",
    "register_state_type",
    "tree_map",
    "unflatten",
]

TUPLE, INT_KEYS, TENSOR, DICT = "__tuple__", "__int_keys__", "__tensor__", "__dict__"
NAMEDTUPLE = "__namedtuple__"
TAGS = frozenset({TUPLE, INT_KEYS, TENSOR, DICT, NAMEDTUPLE})

# What marks a NamedTuple class as one a checkpoint may hold.
STATE_MARK = "__checkpoint_state__"


def register_state_type(cls: type) -> type:
    """Allows NamedTuple class ``cls`` in checkpoints (a model's own recurrent state type);
    usable as a class decorator. rnnkit's state types are allowed already.

    Raises:
        TypeError: ``cls`` is not a NamedTuple class.
    """
    if not _is_namedtuple_class(cls):
        raise TypeError(f"{cls!r} is not a NamedTuple class")
    setattr(cls, STATE_MARK, True)
    return cls


def _is_state_type(cls: object) -> bool:
    return _is_namedtuple_class(cls) and vars(cls).get(STATE_MARK) is True


def _is_namedtuple_class(cls: object) -> bool:
    return isinstance(cls, type) and issubclass(cls, tuple) and hasattr(cls, "_fields")


def _type_name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


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


# --- the codec ------------------------------------------------------------------------------


class UnstorableError(Exception):
    """A value at ``key`` (dotted path) has no JSON form."""

    def __init__(self, key: str, what: str) -> None:
        super().__init__(key, what)
        self.key = key
        self.what = what


class MalformedError(Exception):
    """The JSON form at ``key`` is not what :func:`encode` writes."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(key, problem)
        self.key = key
        self.problem = problem


def encode(value: Any, tensors: dict[str, torch.Tensor] | None, key: str = "") -> Any:
    """The JSON form of ``value``; each tensor goes into ``tensors`` under its dotted key
    (``tensors=None``: a tensor is an error, for state that must be plain JSON).

    Raises:
        UnstorableError: A value has no JSON form (a function, a set, a non-str, non-int key).
    """
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list):
        return [encode(v, tensors, _join(key, i)) for i, v in enumerate(value)]
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        name = _type_name(type(value))
        if not _is_state_type(type(value)):
            raise UnstorableError(
                key,
                f"a {name} (a NamedTuple that is not a registered state type: "
                "rnnkit.training.tree.register_state_type)",
            )
        items = [encode(v, tensors, _join(key, i)) for i, v in enumerate(value)]
        return {NAMEDTUPLE: [name, items]}
    if isinstance(value, tuple):
        return {TUPLE: [encode(v, tensors, _join(key, i)) for i, v in enumerate(value)]}
    if isinstance(value, dict):
        return _encode_dict(value, tensors, key)
    if isinstance(value, torch.Tensor):
        if tensors is None:
            raise UnstorableError(key, "a tensor (this state must be plain JSON)")
        tensors[key] = value.detach().contiguous()
        return {TENSOR: key}
    what = "a function" if callable(value) else f"a {type(value).__name__}"
    raise UnstorableError(key, f"{what}, which has no JSON form")


def _encode_dict(value: dict, tensors: dict[str, torch.Tensor] | None, key: str) -> Any:
    if all(type(k) is int for k in value) and value:
        items = {str(k): encode(v, tensors, _join(key, k)) for k, v in value.items()}
        return {INT_KEYS: items}
    bad = [k for k in value if not isinstance(k, str)]
    if bad:
        raise UnstorableError(_join(key, bad[0]), f"a dict key of type {type(bad[0]).__name__}")
    items = {k: encode(v, tensors, _join(key, k)) for k, v in value.items()}
    # A one-key dict whose key is a tag would read back as a tagged value: escape it.
    return {DICT: items} if len(items) == 1 and next(iter(items)) in TAGS else items


def decode(
    value: Any,
    tensors: Mapping[str, torch.Tensor],
    used: set[str] | None = None,
    key: str = "",
) -> Any:
    """Inverse of :func:`encode`; records the names of the tensors it takes in ``used``.

    Raises:
        MalformedError: A tag is malformed, names a missing tensor or a class that is not a
            registered state type.
    """
    used = set() if used is None else used
    if isinstance(value, list):
        return [decode(v, tensors, used, _join(key, i)) for i, v in enumerate(value)]
    if not isinstance(value, dict):
        return value
    if len(value) != 1 or next(iter(value)) not in TAGS:
        return {k: decode(v, tensors, used, _join(key, k)) for k, v in value.items()}
    tag, inner = next(iter(value.items()))
    if tag == TUPLE and isinstance(inner, list):
        return tuple(decode(v, tensors, used, _join(key, i)) for i, v in enumerate(inner))
    if tag == INT_KEYS and isinstance(inner, dict) and all(_is_int_text(k) for k in inner):
        return {int(k): decode(v, tensors, used, _join(key, k)) for k, v in inner.items()}
    if tag == DICT and isinstance(inner, dict):
        return {k: decode(v, tensors, used, _join(key, k)) for k, v in inner.items()}
    if tag == TENSOR and isinstance(inner, str):
        if inner not in tensors:
            raise MalformedError(key, f"names tensor {inner!r}, which is not in the tensor file")
        used.add(inner)
        return tensors[inner]
    if tag == NAMEDTUPLE and isinstance(inner, list) and len(inner) == 2:
        cls = _namedtuple_class(inner[0], key)
        return cls(*(decode(v, tensors, used, _join(key, i)) for i, v in enumerate(inner[1])))
    raise MalformedError(key, f"malformed {tag!r} value")


def plain_json(value: Any, key: str = "") -> Any:
    """``value`` as plain JSON (tuples become lists): what a progress record may hold.

    Raises:
        UnstorableError: A tensor, a non-str key, or a value with no JSON form.
    """
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [plain_json(v, _join(key, i)) for i, v in enumerate(value)]
    if isinstance(value, Mapping):
        bad = [k for k in value if not isinstance(k, str)]
        if bad:
            raise UnstorableError(_join(key, bad[0]), f"a key of type {type(bad[0]).__name__}")
        return {k: plain_json(v, _join(key, k)) for k, v in value.items()}
    what = "a tensor (pass it in tensors=)" if isinstance(value, torch.Tensor) else None
    raise UnstorableError(key, what or f"a {type(value).__name__}, which has no JSON form")


# --- a carried state in a checkpoint ---------------------------------------------------------


def flatten(tree: Any, prefix: str = "state") -> tuple[dict[str, torch.Tensor], Any]:
    """Splits ``tree`` into named tensors (``<prefix>.<path>``) and its JSON description
    (:func:`encode`'s form).

    Example:
        >>> tensors, spec = flatten((torch.ones(2), None))
        >>> sorted(tensors), spec
        (['state.0'], {'__tuple__': [{'__tensor__': 'state.0'}, None]})
        >>> unflatten(tensors, spec)
        (tensor([1., 1.]), None)
    """
    tensors: dict[str, torch.Tensor] = {}
    try:
        return tensors, encode(tree, tensors, prefix)
    except UnstorableError as err:
        raise TypeError(f"cannot store {err.key} in a checkpoint: it is {err.what}") from None


def unflatten(tensors: Mapping[str, torch.Tensor], spec: Any, key: str = "") -> Any:
    """Inverse of :func:`flatten`; also reads the description rnnkit 0.1.0 wrote
    (``{"tensor": ...}``, ``{"namedtuple": ..., "items": ...}``, ``{"tuple": ...}``, ...).
    ``key`` is where ``spec`` sits, for messages.

    Raises:
        ValueError: The description names a missing tensor or a class that is not a
            registered state type, or is malformed.
    """
    try:
        if _is_legacy(spec):
            return _legacy_unflatten(tensors, spec)
        return decode(spec, tensors, None, key)
    except MalformedError as err:
        raise ValueError(f"{err.key or key or '<root>'}: {err.problem}") from None


_LEGACY_KEYS = ({"tensor"}, {"namedtuple", "items"}, {"list"}, {"tuple"}, {"dict"})


def _is_legacy(spec: Any) -> bool:
    return isinstance(spec, dict) and set(spec) in _LEGACY_KEYS


def _legacy_unflatten(tensors: Mapping[str, torch.Tensor], spec: Any) -> Any:
    if spec is None:
        return None
    if "tensor" in spec:
        if spec["tensor"] not in tensors:
            raise MalformedError("", f"tensor {spec['tensor']!r} is missing")
        return tensors[spec["tensor"]]
    if "namedtuple" in spec:
        cls = _namedtuple_class(spec["namedtuple"], "")
        return cls(*(_legacy_unflatten(tensors, item) for item in spec["items"]))
    if "list" in spec:
        return [_legacy_unflatten(tensors, item) for item in spec["list"]]
    if "tuple" in spec:
        return tuple(_legacy_unflatten(tensors, item) for item in spec["tuple"])
    return {k: _legacy_unflatten(tensors, v) for k, v in spec["dict"].items()}


def _namedtuple_class(path: Any, key: str) -> type:
    """The state type named ``path`` (``module:Qual.Name``) among the loaded modules; nothing
    is imported and no attribute hook runs (a checkpoint is data)."""
    if not isinstance(path, str):
        raise MalformedError(key, f"expected a 'module:Class' name, got {path!r}")
    module_name, _, qualname = path.partition(":")
    found: Any = sys.modules.get(module_name)
    for part in qualname.split(".") if found is not None else ():
        found = vars(found).get(part) if hasattr(found, "__dict__") else None
    if not _is_state_type(found):
        raise MalformedError(key, f"names {path!r}, which is not a state type of a loaded module")
    return found


def _is_int_text(text: str) -> bool:
    return re.fullmatch(r"-?\d+", text) is not None


def _join(key: str, part: object) -> str:
    return f"{key}.{part}" if key else str(part)
