"""The loss-curve PNG of a run directory, drawn from its metrics records.

Drawn on a bare :class:`matplotlib.figure.Figure` (no pyplot): that needs no GUI backend and
no global figure state, so it works on headless machines and in threads alike.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> records = [{"kind": "step", "step": s, "loss": 2.0 / s} for s in range(1, 50)]
    >>> records.append({"kind": "epoch", "step": 49, "val_loss": 0.1})
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = plot_loss_curve(records, Path(d) / "loss.png")
    ...     path.read_bytes()[:4]
    b'\\x89PNG'
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rnnkit.atomic import atomic_write_bytes

__all__ = ["plot_loss_curve"]

# A y range wider than this many decades is drawn on a log scale: a loss that falls from
# 10 to 0.1 would otherwise show as a cliff followed by a flat line.
_LOG_SCALE_DECADES = 1.5


def plot_loss_curve(
    records: Sequence[Mapping[str, Any]], path: str | os.PathLike[str]
) -> Path | None:
    """Plots training loss per logged step and validation loss per epoch, against the step.

    Training points are the records with ``"kind": "step"`` and a ``"loss"``; validation
    points those with ``"kind": "epoch"`` and a ``"val_loss"``; both need a ``"step"``.
    Non-finite values (a diverged step) are left out. The y axis is logarithmic when the
    values span more than 1.5 decades. The PNG is written atomically.

    Args:
        records: Metrics records, as :meth:`rnnkit.training.rundir.RunDir.read_metrics` gives.
        path: The PNG file to create or replace. Its directory must exist.

    Returns:
        ``path``, or None when there is nothing to plot (no file is written then).

    Example:
        >>> plot_loss_curve([{"kind": "epoch", "step": 3, "accuracy": 0.5}], "x.png") is None
        True
    """
    train = _points(records, "step", "loss")
    val = _points(records, "epoch", "val_loss")
    if not train and not val:
        return None
    # Imported here: matplotlib takes a noticeable fraction of a second to import, and most
    # users of rnnkit.training (e.g. `rnnkit info`) never draw.
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4.5), layout="constrained")
    axes = figure.add_subplot()
    if train:
        axes.plot(*zip(*train, strict=True), label="training loss", linewidth=1, alpha=0.8)
    if val:
        axes.plot(*zip(*val, strict=True), label="validation loss", marker="o", linewidth=1.5)
    if _wants_log_scale([y for _, y in train + val]):
        axes.set_yscale("log")
    axes.set_xlabel("step")
    axes.set_ylabel("loss")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return atomic_write_bytes(path, buffer.getvalue())


def _points(records: Sequence[Mapping[str, Any]], kind: str, key: str) -> list[tuple[float, float]]:
    """(step, value) of the records of ``kind`` with a finite numeric ``key``, in order."""
    points = []
    for record in records:
        if record.get("kind") != kind:
            continue
        step, value = record.get("step"), record.get(key)
        if _is_number(step) and _is_number(value) and math.isfinite(value):
            points.append((float(step), float(value)))
    return points


def _wants_log_scale(values: Sequence[float]) -> bool:
    low, high = min(values), max(values)
    return low > 0 and math.log10(high / low) > _LOG_SCALE_DECADES


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
