"""Named set-ups of a task: nested dicts merged over the task config's defaults."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rnnkit.config import ConfigError, merge_dicts, to_dict

__all__ = ["preset_config", "preset_dict"]


def preset_dict(defaults: Any, presets: Mapping[str, Mapping[str, Any]], name: str | None) -> dict:
    """The config ``defaults`` as a nested dict, with preset ``name`` merged in (None: none).

    Raises:
        ConfigError: ``name`` is not one of ``presets``.

    Example:
        >>> from rnnkit.training.config import TrainConfig
        >>> preset_dict(TrainConfig(), {"fast": {"lr": 0.1}}, "fast")["lr"]
        0.1
    """
    base = to_dict(defaults)
    if name is None:
        return base
    if name not in presets:
        known = ", ".join(sorted(presets)) or "none"
        raise ConfigError(f"expected one of {known}, got {name!r}", key="preset")
    return merge_dicts(base, dict(presets[name]))


def preset_config(job: Any, name: str | None) -> dict[str, Any]:
    """The defaults of ``job.config`` with ``job``'s preset ``name`` merged in, as a nested
    dict (None: the defaults alone).

    Raises:
        ConfigError: ``name`` is not one of the job's presets.
    """
    return preset_dict(job.config(), job.presets, name)
