"""Configs as plain dicts and JSON, strictly: unknown keys, missing keys and wrong types are
errors naming the dotted key path; dotted ``key=value`` overrides parsed per annotation.

Supported field annotations: ``int``, ``float`` (ints accepted and converted), ``bool`` (ints
rejected), ``str``, ``Literal[...]``, ``X | None``, ``tuple[X, ...]`` and fixed-length tuples,
and nested dataclasses (of exactly the annotated class).
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal, TypeVar

from rnnkit.config.errors import (
    ConfigError,
    did_you_mean,
    got,
    join,
    one_of,
    type_error,
    unknown_key,
)

__all__ = [
    "apply_overrides",
    "check_field_types",
    "from_dict",
    "from_json",
    "merge_dicts",
    "to_dict",
    "to_json",
]

T = TypeVar("T")

_UNION_ORIGINS = (typing.Union, types.UnionType)
_NONE_WORDS = ("none", "null")
_TRUE_WORDS = ("true", "1", "yes")
_FALSE_WORDS = ("false", "0", "no")


def check_field_types(cfg: Any) -> None:
    """Checks (and normalizes, e.g. ``0`` -> ``0.0``) every field of a frozen config dataclass.

    Call it first in ``__post_init__``: direct construction bypasses :func:`from_dict`, so
    this is where a config built in Python gets the same type checks as one read from JSON.

    Raises:
        ConfigError: A field's value does not match its annotation.
    """
    for name, tp in _field_types(type(cfg)).items():
        value = _convert(tp, getattr(cfg, name), name)
        object.__setattr__(cfg, name, value)  # frozen: the sanctioned way to normalize


def to_dict(cfg: Any) -> dict[str, Any]:
    """Converts a config dataclass to a plain dict, recursively.

    Nested dataclasses become dicts and tuples become lists, so the result is JSON-ready.
    Keys follow field order. Fields declared with ``init=False`` are derived, so they are
    left out (``from_dict`` could not accept them back).

    Args:
        cfg: A dataclass instance.

    Returns:
        A new dict; mutating it does not touch ``cfg``.

    Raises:
        TypeError: ``cfg`` is not a dataclass instance.

    Example:
        >>> from rnnkit.config import RecurrentConfig
        >>> d = to_dict(RecurrentConfig(input_size=8, hidden_size=16))
        >>> d["cell"], d["hidden_size"], d["output_size"]
        ('lstm', 16, None)
    """
    if not dataclasses.is_dataclass(cfg) or isinstance(cfg, type):
        raise TypeError(f"to_dict expects a dataclass instance, got {got(cfg)}")
    return {f.name: _to_plain(getattr(cfg, f.name)) for f in dataclasses.fields(cfg) if f.init}


def _to_plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_dict(value)
    if isinstance(value, tuple | list):
        return [_to_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _to_plain(v) for k, v in value.items()}
    return value


def from_dict(cls: type[T], data: Mapping[str, Any], *, path: str = "") -> T:
    """Builds config ``cls`` from a mapping, strictly.

    Every key must be a field of ``cls``, every required field must be present, and every
    value is checked against the field's annotation (ints become floats for float fields,
    lists become tuples, dicts become nested dataclasses).

    Args:
        cls: A dataclass type.
        data: Field values, e.g. parsed JSON.
        path: Dotted key path of ``data`` inside a larger config, used in error messages.

    Returns:
        A new ``cls`` instance.

    Raises:
        ConfigError: An unknown key (with the closest valid key), a missing required key,
            or a value of the wrong type; the message names the dotted key path.

    Example:
        >>> from rnnkit.config import RecurrentConfig
        >>> from_dict(RecurrentConfig, {"input_size": 4, "hidden_size": 8}).hidden_size
        8
        >>> try:
        ...     from_dict(RecurrentConfig, {"input_size": 4, "hiden_size": 8})
        ... except ConfigError as err:
        ...     print(err)  # doctest: +ELLIPSIS
        hiden_size: unknown key (did you mean 'hidden_size'?); valid keys: cell, input_size, ...
    """
    if not isinstance(data, Mapping):
        message = f"expected a mapping for {cls.__name__}, got {got(data)}"
        raise ConfigError(message, key=path or None)
    field_types = _field_types(cls)
    for key in data:
        if key not in field_types:
            raise unknown_key(join(path, str(key)), key, field_types)
    kwargs = {
        name: _convert(tp, data[name], join(path, name))
        for name, tp in field_types.items()
        if name in data
    }
    _check_required(cls, kwargs, path)
    return _construct(cls, kwargs, path)


def _check_required(cls: type, kwargs: Mapping[str, Any], path: str) -> None:
    for f in dataclasses.fields(cls):
        no_default = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if f.init and no_default and f.name not in kwargs:
            expected = _describe(_field_types(cls)[f.name])
            raise ConfigError(f"missing required key (expected {expected})", key=join(path, f.name))


def _construct(cls: type[T], kwargs: Mapping[str, Any], path: str) -> T:
    try:
        return cls(**kwargs)
    except ConfigError as err:
        # __post_init__ only knows its own field names; put them under this config's path.
        raise err.under(path) from err


def to_json(cfg: Any) -> str:
    """Serializes a config dataclass to JSON (2-space indent, keys in field order).

    Args:
        cfg: A dataclass instance.

    Returns:
        The JSON text, without a trailing newline.

    Raises:
        ConfigError: A value has no standard JSON form (NaN, infinity, non-JSON type).

    Example:
        >>> from rnnkit.config import RecurrentConfig
        >>> to_json(RecurrentConfig(input_size=1, hidden_size=2)).splitlines()[:3]
        ['{', '  "cell": "lstm",', '  "input_size": 1,']
    """
    try:
        # allow_nan=False: NaN/Infinity are not JSON, and other tools would reject the file.
        return json.dumps(to_dict(cfg), indent=2, sort_keys=False, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"cannot encode config as JSON: {err}") from err


def from_json(cls: type[T], text: str) -> T:
    """Parses JSON text into config ``cls`` with the checks of :func:`from_dict`.

    Args:
        cls: A dataclass type.
        text: A JSON object.

    Returns:
        A new ``cls`` instance.

    Raises:
        ConfigError: Invalid JSON (with line and column), a duplicate key, or any error of
            :func:`from_dict`.

    Example:
        >>> from rnnkit.config import RecurrentConfig
        >>> from_json(RecurrentConfig, '{"input_size": 3, "hidden_size": 5}').input_size
        3
        >>> try:
        ...     from_json(RecurrentConfig, '{"input_size": }')
        ... except ConfigError as err:
        ...     print(err)
        invalid JSON at line 1, column 16: Expecting value
    """
    try:
        data = json.loads(text, object_pairs_hook=_reject_duplicates)
    except json.JSONDecodeError as err:
        message = f"invalid JSON at line {err.lineno}, column {err.colno}: {err.msg}"
        raise ConfigError(message) from err
    return from_dict(cls, data)


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads keeps the last of duplicate keys silently; a strict config must not.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ConfigError("duplicate key in JSON object", key=key)
        result[key] = value
    return result


def merge_dicts(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``top`` laid over it, nested mappings merged key by key (a new dict).

    How config layers combine: defaults, then a preset, then a config file.

    Example:
        >>> merge_dicts({"train": {"lr": 1.0, "epochs": 3}}, {"train": {"lr": 0.5}})
        {'train': {'lr': 0.5, 'epochs': 3}}
    """
    merged = dict(base)
    for key, value in top.items():
        both = isinstance(value, Mapping) and isinstance(merged.get(key), Mapping)
        merged[key] = merge_dicts(merged[key], value) if both else value
    return merged


def apply_overrides(cfg: T, overrides: Iterable[str]) -> T:
    """Returns a copy of ``cfg`` with ``dotted.key=value`` overrides applied.

    Values are parsed per the target field's type: bools accept true/false/yes/no/1/0 (any
    case), optional fields accept ``none``/``null``, tuples accept comma-separated items
    (optionally in brackets), strings are taken verbatim. All overrides are applied before
    the config is validated, so their order does not matter (``cell=gru peephole=false``
    works on an LSTM config with peepholes).

    Args:
        cfg: A dataclass instance.
        overrides: Strings like ``"model.hidden_size=128"``.

    Returns:
        A new instance of ``type(cfg)``; ``cfg`` is unchanged.

    Raises:
        ConfigError: A malformed override (no ``=``), an unknown key (with the closest valid
            key), an unparsable value, or an invalid resulting config.

    Example:
        >>> from rnnkit.config import RecurrentConfig
        >>> cfg = RecurrentConfig(input_size=8, hidden_size=16)
        >>> new = apply_overrides(cfg, ["bidirectional=yes", "dropout=0.2", "num_layers=2"])
        >>> new.bidirectional, new.dropout, new.num_layers
        (True, 0.2, 2)
    """
    if isinstance(overrides, str):
        # A lone string is iterable too; iterating it would yield one-character overrides.
        raise ConfigError(
            f"expected an iterable of 'key=value' strings, got {got(overrides)}", key="overrides"
        )
    data = to_dict(cfg)
    for override in overrides:
        keys, raw = _split_override(override)
        _set_override(type(cfg), data, keys, raw, "")
    return from_dict(type(cfg), data)


def _split_override(override: str) -> tuple[list[str], str]:
    if not isinstance(override, str):
        raise ConfigError(
            f"expected a 'dotted.key=value' string, got {got(override)}", key="overrides"
        )
    key, sep, raw = override.partition("=")
    keys = key.strip().split(".")
    if not sep or not all(keys):
        raise ConfigError(f"malformed override {override!r}: expected 'dotted.key=value'")
    return keys, raw


def _set_override(cls: type, data: dict[str, Any], keys: list[str], raw: str, path: str) -> None:
    name, rest = keys[0], keys[1:]
    field_types = _field_types(cls)
    full = join(path, name)
    if name not in field_types:
        raise unknown_key(full, name, field_types)
    if not rest:
        data[name] = _parse(field_types[name], raw, full)
        return
    sub_cls = _dataclass_arm(field_types[name])
    if sub_cls is None:
        message = f"is {_describe(field_types[name])}, not a nested config; cannot set {rest[0]!r}"
        raise ConfigError(message, key=full)
    if data.get(name) is None:
        # An optional nested config that is unset starts empty; from_dict fills defaults later.
        data[name] = {}
    _set_override(sub_cls, data[name], rest, raw, full)


def _field_types(cls: type) -> dict[str, Any]:
    """Resolved annotations of the init fields, in field order (cached: classes don't change)."""
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise TypeError(f"expected a dataclass type, got {got(cls)}")
    # get_type_hints resolves string annotations (`from __future__ import annotations`).
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.init}


def _convert(tp: Any, value: Any, path: str) -> Any:
    """Checks a Python value (e.g. from JSON) against annotation ``tp``; returns it converted."""
    origin = typing.get_origin(tp)
    if origin is Literal:
        return _literal(tp, value, path, _convert)
    if origin in _UNION_ORIGINS:
        if value is None:
            return _none_if_allowed(tp, value, path)
        return _union(tp, value, path, _convert)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise type_error(path, _describe(tp), value)
        return _tuple(tp, value, path, _convert)
    if _is_dataclass_type(tp):
        if type(value) is tp:
            return value
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            # A subclass carries fields the annotated class has not (a RecurrentConfig's input
            # size where a StackConfig is expected): it would not read back from its JSON.
            raise ConfigError(
                f"expected a {tp.__name__}, got a {type(value).__name__}", key=path or None
            )
        return from_dict(tp, value, path=path)
    return _convert_scalar(tp, value, path)


def _convert_scalar(tp: Any, value: Any, path: str) -> Any:
    _require_scalar(tp, path)
    # bool subclasses int, but True as a size or a rate is almost always a mistake.
    if isinstance(value, bool) and tp is not bool:
        raise type_error(path, _describe(tp), value)
    if tp is float and isinstance(value, int):
        return float(value)
    if not isinstance(value, tp):
        raise type_error(path, _describe(tp), value)
    return value


def _parse(tp: Any, raw: str, path: str) -> Any:
    """Parses an override's value string per annotation ``tp``."""
    origin = typing.get_origin(tp)
    if origin is Literal:
        return _literal(tp, raw, path, _parse)
    if origin in _UNION_ORIGINS:
        if raw.strip().lower() in _NONE_WORDS:
            return _none_if_allowed(tp, raw, path)
        return _union(tp, raw, path, _parse)
    if origin is tuple:
        return _tuple(tp, _split_items(raw), path, _parse)
    if _is_dataclass_type(tp):
        raise ConfigError(
            f"is a nested config; override its fields, e.g. '{path}.<field>=value'", key=path
        )
    return _parse_scalar(tp, raw, path)


def _parse_scalar(tp: Any, raw: str, path: str) -> Any:
    _require_scalar(tp, path)
    if tp is str:
        return raw  # verbatim: spaces may be meaningful in a string value
    if tp is bool:
        return _parse_bool(raw, path)
    try:
        return tp(raw)
    except ValueError:
        raise type_error(path, _describe(tp), raw) from None


def _parse_bool(raw: str, path: str) -> bool:
    word = raw.strip().lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    raise type_error(path, "bool (true/false, yes/no, 1/0)", raw)


def _split_items(raw: str) -> list[str]:
    text = raw.strip()
    if text[:1] + text[-1:] in ("[]", "()"):
        text = text[1:-1].strip()
    return [item.strip() for item in text.split(",")] if text else []


def _literal(tp: Any, value: Any, path: str, convert: Callable[..., Any]) -> Any:
    for allowed in typing.get_args(tp):
        try:
            if convert(type(allowed), value, path) == allowed:
                return allowed
        except ConfigError:
            continue
    hint = did_you_mean(value, typing.get_args(tp))
    raise ConfigError(f"expected {_describe(tp)}, got {got(value)}{hint}", key=path)


def _none_if_allowed(tp: Any, value: Any, path: str) -> None:
    if type(None) not in typing.get_args(tp):
        raise type_error(path, _describe(tp), value)
    return None


def _union(tp: Any, value: Any, path: str, convert: Callable[..., Any]) -> Any:
    errors = []
    for arm in typing.get_args(tp):
        if arm is type(None):
            continue
        try:
            return convert(arm, value, path)
        except ConfigError as err:
            errors.append(err)
    # An error from deeper inside (a nested field, a tuple item) is more precise than ours.
    deeper = [err for err in errors if err.key != path]
    if deeper:
        raise deeper[0]
    raise type_error(path, _describe(tp), value)


def _tuple(
    tp: Any, items: list[Any] | tuple[Any, ...], path: str, convert: Callable[..., Any]
) -> tuple[Any, ...]:
    args = typing.get_args(tp)
    if len(args) == 2 and args[1] is Ellipsis:
        item_types = [args[0]] * len(items)
    elif len(args) == len(items):
        item_types = list(args)
    else:
        raise type_error(path, _describe(tp), items)
    return tuple(
        convert(t, v, f"{path}[{i}]")
        for i, (t, v) in enumerate(zip(item_types, items, strict=True))
    )


def _require_scalar(tp: Any, path: str) -> None:
    if tp not in (int, float, bool, str):
        # A programming error in a config class, not a user error: hence TypeError.
        raise TypeError(
            f"{path}: unsupported field annotation {tp!r} (use int, float, bool, "
            "str, Literal, X | None, tuple[X, ...] or a dataclass)"
        )


def _is_dataclass_type(tp: Any) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def _dataclass_arm(tp: Any) -> type | None:
    """The dataclass in ``tp`` (itself, or the dataclass arm of ``X | None``), else None."""
    if _is_dataclass_type(tp):
        return tp
    if typing.get_origin(tp) in _UNION_ORIGINS:
        arms = [a for a in typing.get_args(tp) if _is_dataclass_type(a)]
        return arms[0] if len(arms) == 1 else None
    return None


def _describe(tp: Any) -> str:
    """Human-readable form of an annotation, for 'expected ...' in messages."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is Literal:
        return one_of(args)
    if origin in _UNION_ORIGINS:
        return " or ".join(_describe(a) for a in args)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return f"a list of {_describe(args[0])}"
        return f"a list of {len(args)} items ({', '.join(_describe(a) for a in args)})"
    if tp is type(None):
        return "None"
    if _is_dataclass_type(tp):
        return f"a mapping for {tp.__name__}"
    return getattr(tp, "__name__", repr(tp))
