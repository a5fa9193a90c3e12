"""Numeric sequences as the classifier and the tagger read them: a (T, F) array per example,
standardised per feature by a scaler fitted on the training steps only (kept in a run as
``scaler.json``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from rnnkit.config import ConfigError

__all__ = ["Scaler", "as_steps"]


@dataclasses.dataclass(frozen=True)
class Scaler:
    """Per-feature standardisation ``(x - mean) / std``, fitted on training steps only.

    Example:
        >>> s = Scaler.fit([np.array([[0.0, 1.0], [2.0, 1.0]])])
        >>> s.mean, s.std, s.transform(np.array([[2.0, 1.0]])).tolist()
        ((1.0, 1.0), (1.0, 1.0), [[1.0, 0.0]])
    """

    mean: tuple[float, ...]
    std: tuple[float, ...]

    @classmethod
    def fit(cls, sequences: Sequence[np.ndarray]) -> Scaler:
        steps = np.concatenate([np.asarray(s, dtype=np.float64) for s in sequences])
        std = steps.std(axis=0)
        std[std == 0] = 1.0  # a constant feature stays as it is, shifted to zero
        return cls(tuple(steps.mean(axis=0).tolist()), tuple(std.tolist()))

    def transform(self, sequence: np.ndarray) -> np.ndarray:
        if sequence.shape[1] != len(self.mean):
            raise ConfigError(
                f"expected {len(self.mean)} features per step (as in training), got "
                f"{sequence.shape[1]}",
                key="features",
            )
        mean, std = np.asarray(self.mean), np.asarray(self.std)
        return ((sequence - mean) / std).astype(np.float32)

    def to_dict(self) -> dict[str, list[float]]:
        return {"mean": list(self.mean), "std": list(self.std)}

    @classmethod
    def from_dict(cls, obj: Any) -> Scaler:
        """The scaler :meth:`to_dict` gave.

        Raises:
            ConfigError: Not ``{"mean": [...], "std": [...]}`` of finite numbers, one of
                each per feature, every std above zero.

        Example:
            >>> Scaler.from_dict({"mean": [0.5], "std": [2.0]}).std
            (2.0,)
        """
        if not isinstance(obj, dict) or set(obj) != {"mean", "std"}:
            got = sorted(obj) if isinstance(obj, dict) else type(obj).__name__
            raise ConfigError(f"expected the keys ['mean', 'std'], got {got}", key="scaler")
        mean, std = (_finite_numbers(obj[name], name) for name in ("mean", "std"))
        if len(mean) != len(std) or not mean:
            message = f"expected one mean and one std per feature, got {len(mean)} and {len(std)}"
            raise ConfigError(message, key="std")
        if min(std) <= 0:
            raise ConfigError(f"expected every std > 0, got {min(std)}", key="std")
        return cls(mean, std)


def _finite_numbers(items: Any, name: str) -> tuple[float, ...]:
    if not isinstance(items, list) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) and np.isfinite(v) for v in items
    ):
        raise ConfigError(f"expected a list of finite numbers, got {str(items)[:60]}", key=name)
    return tuple(float(v) for v in items)


def as_steps(x: Any, index: int) -> np.ndarray:
    """``x`` (a list of steps, each a number or a list of features) as a (T, F) float32 array.

    Raises:
        ConfigError: Not such an array, or no step (``key`` names the input's index).
    """
    array = np.asarray(x, dtype=np.float32)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or len(array) == 0:
        raise ConfigError(
            f"expected a (time, features) array with at least one step, got shape {array.shape}",
            key=f"[{index}]",
        )
    return array
