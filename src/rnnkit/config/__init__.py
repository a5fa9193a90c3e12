"""Configs: frozen dataclasses with strict dict/JSON round trips and dotted overrides.

Every rnnkit config is a frozen dataclass. This module converts configs to plain dicts and
JSON and back, strictly: unknown keys, missing keys and wrong types are errors that name the
dotted key path, what was expected and what was got, because a silently ignored typo in a
config costs a whole training run. It imports only the standard library, so every other
module may depend on it (it is the root of the dependency graph, see DESIGN.md).

Supported field annotations: ``int``, ``float`` (ints accepted and converted), ``bool`` (ints
rejected), ``str``, ``Literal[...]``, ``X | None``, ``tuple[X, ...]`` and fixed-length tuples,
and nested dataclasses.

Example:
    >>> cfg = RecurrentConfig(input_size=8, hidden_size=16)
    >>> cfg = apply_overrides(cfg, ["cell=gru", "num_layers=2"])
    >>> (cfg.cell, cfg.num_layers)
    ('gru', 2)
    >>> from_json(RecurrentConfig, to_json(cfg)) == cfg
    True
"""

from rnnkit.config.codec import (
    apply_overrides,
    check_field_types,
    from_dict,
    from_json,
    merge_dicts,
    to_dict,
    to_json,
)
from rnnkit.config.errors import ConfigError, RnnkitError
from rnnkit.config.recurrent import (
    CellType,
    Feedback,
    Nonlinearity,
    OutputActivation,
    RecurrentConfig,
    StackConfig,
)
from rnnkit.config.validate import validate_choice, validate_fraction, validate_positive

# Errors print as raised from their public module (``rnnkit.config.ConfigError: ...``).
RnnkitError.__module__ = ConfigError.__module__ = __name__

__all__ = [
    "CellType",
    "ConfigError",
    "Feedback",
    "Nonlinearity",
    "OutputActivation",
    "RecurrentConfig",
    "RnnkitError",
    "StackConfig",
    "apply_overrides",
    "check_field_types",
    "from_dict",
    "from_json",
    "merge_dicts",
    "to_dict",
    "to_json",
    "validate_choice",
    "validate_fraction",
    "validate_positive",
]
