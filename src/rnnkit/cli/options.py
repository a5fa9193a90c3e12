"""Command-line flags generated from config dataclasses: the flags *are* the field names.

``@config_options(LMConfig)`` gives a command one ``--field-name`` flag per leaf field of the
(nested) config (a name that two nested configs share is prefixed by as much of its path as
tells them apart: ``--encoder-hidden-size``, ``--decoder-hidden-size``), plus ``--config
FILE`` (TOML or JSON, nested like the run directory's ``config.json``, so ``--config
RUN/config.json`` repeats a run) and ``--set dotted.key=value`` for anything else.
:func:`build_config` merges them: defaults < file < ``--set`` < flags. Unknown keys in the
file are errors; values are parsed and checked by :mod:`rnnkit.config`, so a bad value is
one clean usage error naming the field.
"""

from __future__ import annotations

import dataclasses
import json
import re
import tomllib
import types
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal, TypeVar

import click

from rnnkit.config import ConfigError, apply_overrides, from_dict, merge_dicts

__all__ = ["build_config", "config_options", "given_overrides", "read_config_file"]

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


@dataclasses.dataclass(frozen=True)
class _Leaf:
    path: str  # dotted path in the config, e.g. "train.lr"
    name: str  # the field name, e.g. "lr"
    type: Any
    help: str
    param: str = ""  # the command's parameter (and flag) name, e.g. "lr" or "encoder_lr"


def _leaves(cls: type) -> list[_Leaf]:
    """The leaf fields of config ``cls`` with their parameter names: the field name when no
    other leaf has it, else the shortest end of its path that no other leaf's path shares
    (``model.encoder.hidden_size`` -> ``encoder_hidden_size``)."""
    leaves = list(_walk(cls))
    params = {}
    for leaf in leaves:
        parts = leaf.path.split(".")
        for depth in range(1, len(parts) + 1):
            tail = parts[-depth:]
            clashes = [o for o in leaves if o is not leaf and o.path.split(".")[-depth:] == tail]
            if not clashes:
                params[leaf.path] = "_".join(tail)
                break
    return [dataclasses.replace(leaf, param=params[leaf.path]) for leaf in leaves]


def _walk(cls: type, prefix: str = "") -> Iterator[_Leaf]:
    hints = typing.get_type_hints(cls)
    docs = _attribute_docs(cls)
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        tp = hints[f.name]
        path = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(tp):
            yield from _walk(tp, path + ".")
        else:
            yield _Leaf(path, f.name, tp, docs.get(f.name, ""))


def _attribute_docs(cls: type) -> dict[str, str]:
    """``name: text`` entries of the class docstring's ``Attributes:`` section."""
    doc = cls.__doc__ or ""
    section = doc.split("Attributes:", 1)[1] if "Attributes:" in doc else ""
    section = re.split(r"\n\s*\n\s*(?:Example|Raises|Note)s?:", section)[0]
    docs: dict[str, str] = {}
    current = None
    for line in section.splitlines():
        match = re.match(r"\s{4,8}(\w+): (.*)", line)
        if match and (current is None or len(line) - len(line.lstrip()) <= 8):
            current = match.group(1)
            docs[current] = match.group(2).strip()
        elif current and line.strip():
            docs[current] += " " + line.strip()
    return docs


def _choices(tp: Any) -> list[str] | None:
    args = typing.get_args(tp)
    if typing.get_origin(tp) is Literal:
        return [str(a) for a in args]
    if typing.get_origin(tp) in (typing.Union, types.UnionType) and type(None) in args:
        inner = [a for a in args if a is not type(None)]
        if len(inner) == 1 and typing.get_origin(inner[0]) is Literal:
            return [str(a) for a in typing.get_args(inner[0])] + ["none"]
    return None


# Short spellings people type for a flag (``--data train.conll --val dev.conll``).
_ALIASES: dict[str, tuple[str, ...]] = {"valid": ("--val",)}


def _option(leaf: _Leaf) -> click.Option:
    flag = "--" + leaf.param.replace("_", "-")
    aliases = _ALIASES.get(leaf.param, ())
    if leaf.type is bool:
        return click.Option(
            [f"{flag}/--no-{leaf.param.replace('_', '-')}"], default=None, help=leaf.help
        )
    choices = _choices(leaf.type)
    if choices:
        return click.Option([flag], type=click.Choice(choices), default=None, help=leaf.help)
    metavar = re.sub(r"typing\.|<class '(\w+)'>", r"\1", str(leaf.type)).upper()
    names = [flag, *aliases, leaf.param]
    return click.Option(names, type=str, default=None, metavar=metavar, help=leaf.help)


def config_options(cls: type, *, exclude: tuple[str, ...] = ()) -> Callable[[F], F]:
    """Decorator: one flag per leaf field of ``cls`` (minus the dotted paths in ``exclude``),
    ``--config`` and ``--set``."""
    leaves = [leaf for leaf in _leaves(cls) if leaf.path not in exclude]

    def decorate(command: F) -> F:
        params = getattr(command, "__click_params__", [])
        params.extend(reversed([_option(leaf) for leaf in leaves]))
        params.append(
            click.Option(
                ["--set", "overrides"],
                multiple=True,
                metavar="KEY=VALUE",
                help="Set any config field by its dotted path (repeatable).",
            )
        )
        params.append(
            click.Option(
                ["--config", "config_file"],
                type=click.Path(dir_okay=False, path_type=Path),
                help="TOML or JSON config file (e.g. a run's config.json); flags win.",
            )
        )
        command.__click_params__ = params  # type: ignore[attr-defined]
        return command

    return decorate


# A config is a few kilobytes; a file of megabytes is not one.
_MAX_CONFIG = 1 << 20


def read_config_file(path: Path) -> dict[str, Any]:
    """The mapping in a ``.toml`` or ``.json`` config file.

    Raises:
        ConfigError: Missing file, unknown suffix, or a syntax error (with its position).
    """
    if not path.is_file():
        raise ConfigError(f"{path}: no such config file")
    if path.stat().st_size > _MAX_CONFIG:
        raise ConfigError(f"{path}: {path.stat().st_size:,} bytes, too large for a config file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: not UTF-8 text (byte {err.start})") from None
    try:
        if path.suffix == ".toml":
            return tomllib.loads(text)
        if path.suffix == ".json":
            data = json.loads(text)
            if not isinstance(data, dict):
                raise ConfigError(f"{path}: expected a JSON object, got {type(data).__name__}")
            return data
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: invalid TOML: {err}") from err
    except json.JSONDecodeError as err:
        raise ConfigError(f"{path}: invalid JSON at line {err.lineno}: {err.msg}") from err
    except RecursionError:  # nesting no config has, that the parsers cannot follow
        raise ConfigError(f"{path}: nested too deeply to be a config") from None
    raise ConfigError(f"{path}: expected a .toml or .json file, got {path.suffix!r}")


def build_config(cls: type[T], params: dict[str, Any], *, base: dict[str, Any] | None = None) -> T:
    """The config from a command's parameters; consumes the ones ``config_options`` added.

    Args:
        cls: The config dataclass.
        params: The command's keyword arguments; the config's flags, ``config_file`` and
            ``overrides`` are popped from it, other keys are left for the command.
        base: Task defaults (e.g. a preset) applied under the file and the flags.

    Raises:
        ConfigError: Unknown key, bad value, or invalid combination, naming the field.
    """
    file = params.pop("config_file", None)
    overrides = given_overrides(cls, params)
    data = dict(base or {})
    if file is not None:
        data = merge_dicts(data, read_config_file(file))
    config = from_dict(cls, data)
    return apply_overrides(config, overrides) if overrides else config


def given_overrides(cls: type, params: dict[str, Any]) -> list[str]:
    """``dotted.path=value`` for every ``--set`` and every config flag the user gave.

    Pops the config's flags and ``overrides`` from ``params`` (``--set`` items first, so
    flags win over them).
    """
    overrides = list(params.pop("overrides", ()) or ())
    for leaf in _leaves(cls):
        if leaf.param not in params:
            continue
        value = params.pop(leaf.param)
        if value is not None:
            raw = ("true" if value else "false") if isinstance(value, bool) else str(value)
            overrides.append(f"{leaf.path}={raw}")
    return overrides
