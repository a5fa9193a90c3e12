"""The cell families of the reference engine, by name."""

from __future__ import annotations

from types import ModuleType

from rnnkit.reference import elman, gru, jordan, lstm

__all__ = ["FAMILIES", "resolve_family"]

FAMILIES: dict[str, ModuleType] = {"elman": elman, "jordan": jordan, "lstm": lstm, "gru": gru}


def resolve_family(family: ModuleType | str) -> ModuleType:
    """The family module for a module or a name in :data:`FAMILIES`.

    Example:
        >>> resolve_family("gru").__name__
        'rnnkit.reference.gru'
    """
    if not isinstance(family, str):
        return family
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {sorted(FAMILIES)}, got {family!r}")
    return FAMILIES[family]
