"""Where a job's examples come from, checked the same way in every job: a registry dataset
(its splits known) or the user's files, and a seeded validation share carved from training
when no validation file is given."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from rnnkit.config import ConfigError, validate_choice

__all__ = ["check_source", "held_out"]


def check_source(data: Any, datasets: Sequence[str]) -> None:
    """Checks a data config's ``dataset``, ``data``, ``valid``, ``test`` and ``inputs``: a
    dataset is one of ``datasets``, brings its own splits, and holds text.

    Raises:
        ConfigError: The first rule broken, naming the flag.
    """
    if data.dataset is None:
        return
    validate_choice("dataset", data.dataset, tuple(datasets))
    if data.data is not None:
        raise ConfigError("give --dataset or --data, not both", key="data")
    for name in ("valid", "test"):
        if getattr(data, name) is not None:
            raise ConfigError(
                f"dataset {data.dataset!r} brings its own splits; --{name} goes with --data FILE",
                key=name,
            )
    if data.inputs != "text":
        raise ConfigError(f"dataset {data.dataset!r} holds text", key="inputs")


def held_out(size: int, fraction: float, seed: int, what: str) -> tuple[list[int], list[int]]:
    """The indices kept for training and those held out for validation: a seeded random
    ``fraction`` of ``size`` items (``what`` names them in the error), each list in order.

    Raises:
        ConfigError: Either side would be empty.

    Example:
        >>> held_out(5, 0.4, seed=0, what="sentences")
        ([0, 3, 4], [1, 2])
    """
    count = round(size * fraction)
    if count < 1 or count >= size:
        raise ConfigError(
            f"holding out {fraction} of {size} {what} leaves an empty split; give --valid FILE "
            "or change --valid-fraction",
            key="valid_fraction",
        )
    order = list(range(size))
    random.Random(seed).shuffle(order)
    return sorted(order[count:]), sorted(order[:count])
