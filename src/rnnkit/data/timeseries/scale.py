"""Scaling a series: :class:`SeriesScaler` is a per-column affine map (``standard``,
``minmax`` or ``none``) fitted on the training rows only, applied to every part and undone
for forecasts, and saved to and loaded from a JSON-safe dict."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

from rnnkit.config import ConfigError, validate_choice
from rnnkit.data.errors import DataError
from rnnkit.data.readers import _check_names

__all__ = ["SeriesScaler"]

ScaleKind = Literal["standard", "minmax", "none"]

_SCALES = ("standard", "minmax", "none")


@dataclasses.dataclass(frozen=True, eq=False)
class SeriesScaler:
    """Per-column affine scaling: ``(x - center) / scale``, and back.

    ``standard`` centres on the mean and divides by the (population) standard deviation,
    as LTSF's ``StandardScaler``; ``minmax`` maps the fitted range to [0, 1]; ``none`` is the
    identity. Fit it on the training rows only, so no statistic of the validation or test
    parts leaks into training.

    Attributes:
        kind: ``standard``, ``minmax`` or ``none``.
        center: Subtracted from each column. Shape (C,).
        scale: Then divided by; positive. Shape (C,).
        columns: The column names, in order.

    Example:
        >>> import numpy as np
        >>> scaler = SeriesScaler.fit(np.array([[1.0, 5], [3, 5]]), ["a", "b"], "standard")
        >>> scaler.center.tolist(), scaler.scale.tolist()
        ([2.0, 5.0], [1.0, 1.0])
        >>> scaler.transform(np.array([[3.0, 6]])).tolist()
        [[1.0, 1.0]]
        >>> scaler.inverse(np.array([[1.0]]), columns=["b"]).tolist()
        [[6.0]]
    """

    kind: ScaleKind
    center: np.ndarray
    scale: np.ndarray
    columns: list[str]

    def __post_init__(self) -> None:
        validate_choice("scale", self.kind, _SCALES)
        columns = _check_names("columns", self.columns)
        for name in ("center", "scale"):
            array = np.array(getattr(self, name), dtype=np.float64)  # a copy
            if array.shape != (len(columns),) or not np.isfinite(array).all():
                raise ConfigError(
                    f"expected {len(columns)} finite numbers (one per column), got "
                    f"{array.tolist()!r}",
                    key=name,
                )
            array.flags.writeable = False
            object.__setattr__(self, name, array)
        if (self.scale <= 0).any():
            raise ConfigError(f"expected positive numbers, got {self.scale.tolist()}", key="scale")
        object.__setattr__(self, "columns", columns)

    @classmethod
    def fit(cls, values: np.ndarray, columns: Sequence[str], kind: ScaleKind) -> SeriesScaler:
        """Fits the statistics of each column of ``values``, ignoring NaN.

        A constant column gets scale 1 (it is only shifted), so nothing is divided by zero.

        Args:
            values: The rows to fit on (the training part).
            columns: A name per column.
            kind: ``standard``, ``minmax`` or ``none``.

        Raises:
            ConfigError: Unknown ``kind`` (key ``scale``); ``values`` not 2-D with a column
                per name.
            DataError: A column with no value in ``values`` (named).

        Shapes:
            values: (N, C)
        """
        validate_choice("scale", kind, _SCALES)
        names = _check_names("columns", columns)
        data = np.asarray(values, dtype=np.float64)
        if data.ndim != 2 or data.shape[1] != len(names) or data.shape[0] == 0:
            raise ConfigError(
                f"expected values of shape (N >= 1, {len(names)}), got {data.shape}",
                key="values",
            )
        if kind == "none":
            return cls(kind, np.zeros(len(names)), np.ones(len(names)), names)
        empty = np.isnan(data).all(axis=0)
        if empty.any():
            name = names[int(empty.argmax())]
            raise DataError("no value in the rows the scaler is fitted on", field=name)
        low, high = np.nanmin(data, axis=0), np.nanmax(data, axis=0)
        if kind == "minmax":
            center, scale = low, high - low
        else:
            center, scale = np.nanmean(data, axis=0), np.nanstd(data, axis=0)
        constant = high == low
        center = np.where(constant, low, center)  # exactly the value: it maps to 0
        return cls(kind, center, np.where(constant, 1.0, scale), names)

    def _indices(self, columns: Sequence[str] | None) -> np.ndarray | slice:
        if columns is None:
            return slice(None)
        names = _check_names("columns", columns)
        unknown = [name for name in names if name not in self.columns]
        if unknown:
            raise ConfigError(
                f"{', '.join(unknown)} not scaled by this scaler; it has {', '.join(self.columns)}",
                key="columns",
            )
        return np.array([self.columns.index(name) for name in names])

    def _check_last(self, values: np.ndarray, width: int) -> None:
        if values.ndim == 0 or values.shape[-1] != width:
            raise ConfigError(
                f"expected a last dimension of {width} (columns), got shape {values.shape}",
                key="values",
            )

    def transform(self, values: np.ndarray) -> np.ndarray:
        """Scales values; NaN stays NaN.

        Shapes:
            values: (..., C) -> (..., C) float32
        """
        data = np.asarray(values, dtype=np.float64)
        self._check_last(data, len(self.columns))
        return ((data - self.center) / self.scale).astype(np.float32)

    def inverse(self, values: np.ndarray, columns: Sequence[str] | None = None) -> np.ndarray:
        """Undoes :meth:`transform`, for every column or for the named ones only.

        Args:
            values: Scaled values.
            columns: The columns the last dimension holds, in order (e.g. the forecast
                targets); None: all of them.

        Raises:
            ConfigError: A column this scaler does not know; a last dimension that does not
                match.

        Shapes:
            values: (..., C) or (..., len(columns)) -> the same, float64
        """
        index = self._indices(columns)
        center, scale = self.center[index], self.scale[index]
        data = np.asarray(values, dtype=np.float64)
        self._check_last(data, center.shape[0])
        return data * scale + center

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: ``{"kind", "columns", "center", "scale"}`` with lists of floats."""
        return {
            "kind": self.kind,
            "columns": list(self.columns),
            "center": [float(v) for v in self.center],
            "scale": [float(v) for v in self.scale],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SeriesScaler:
        """The scaler :meth:`to_dict` gave.

        Raises:
            ConfigError: A key missing or unknown; lists of the wrong length; a
                non-positive or non-finite scale.
        """
        keys = {"kind", "columns", "center", "scale"}
        if not isinstance(data, Mapping) or set(data) != keys:
            got = sorted(data) if isinstance(data, Mapping) else type(data).__name__
            raise ConfigError(f"expected the keys {sorted(keys)}, got {got}", key="scaler")
        for name in ("center", "scale"):
            items = data[name]
            if not isinstance(items, list) or not all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in items
            ):
                raise ConfigError(f"expected a list of numbers, got {items!r}", key=name)
        return cls(data["kind"], np.array(data["center"]), np.array(data["scale"]), data["columns"])
