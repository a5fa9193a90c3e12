"""The files a new run's config names are kept as absolute paths.

A run is used again from other directories: ``--resume``, ``lm eval --split valid`` and
``forecast eval`` read the training, validation and test files its ``config.json`` names,
and a path kept as typed (``data/lm.txt``) would point nowhere from anywhere else. So every
file field below becomes absolute (``~`` expanded, links kept as typed) before the config is
saved. ``init.embeddings`` may also be a packaged set's name (``glove-6b-50d``): it is made
absolute only when it is an existing file. A field holding several paths (``init.context_lms``)
has each made absolute.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

__all__ = ["FILE_FIELDS", "absolute_paths"]

# Dotted config fields that name a file or a run directory, in any job that has them.
FILE_FIELDS = (
    "data.data",
    "data.valid",
    "data.test",
    "init.embeddings",
    "init.init_from",
    "init.init_from_backward",
    "init.context_lms",
)
_NAMES_ALLOWED = frozenset({"init.embeddings"})


def absolute_paths(config: Any) -> Any:
    """``config`` with each of :data:`FILE_FIELDS` it has made absolute.

    Example:
        >>> import dataclasses, os
        >>> @dataclasses.dataclass(frozen=True)
        ... class Data:
        ...     data: str | None = None
        >>> @dataclasses.dataclass(frozen=True)
        ... class Config:
        ...     data: Data = Data()
        >>> absolute_paths(Config(Data("lm.txt"))).data.data == os.path.join(os.getcwd(), "lm.txt")
        True
    """
    for dotted in FILE_FIELDS:
        section_name, field = dotted.split(".")
        section = getattr(config, section_name, None)
        value = getattr(section, field, None)
        if isinstance(value, tuple):
            made = tuple(_absolute(v, dotted) for v in value)
        elif isinstance(value, str) and value:
            made = _absolute(value, dotted)
        else:
            continue
        section = dataclasses.replace(section, **{field: made})
        config = dataclasses.replace(config, **{section_name: section})
    return config


def _absolute(value: str, dotted: str) -> str:
    path = os.path.expanduser(value)
    if dotted in _NAMES_ALLOWED and not os.path.exists(path):
        return value  # a name, not a file
    return os.path.abspath(path)
