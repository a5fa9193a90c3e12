"""The attention heat map of one translation: which source token each target token was
written from.

Drawn on a bare :class:`matplotlib.figure.Figure` rendered by Agg (no pyplot, nothing left
open, works headless) and written atomically, as the other plots of rnnkit are.
"""

from __future__ import annotations

import io
from pathlib import Path

from matplotlib.figure import Figure

from rnnkit.atomic import atomic_write_bytes
from rnnkit.tasks.translate.task import Alignment

__all__ = ["plot_attention"]

_INCHES_PER_TOKEN = 0.32
_DPI = 120


def plot_attention(path: Path, alignment: Alignment, title: str | None = None) -> Path:
    """A PNG of ``alignment.weights``: one row per target token (top to bottom, ``</s>``
    last), one column per source token, darker where the decoder attended more. Rows sum
    to one. Returns ``path``."""
    rows, columns = alignment.weights.shape
    width = max(4.0, 1.6 + _INCHES_PER_TOKEN * columns)
    height = max(3.0, 1.4 + _INCHES_PER_TOKEN * rows)
    figure = Figure(figsize=(width, height), layout="constrained")
    axes = figure.add_subplot()
    image = axes.imshow(alignment.weights, cmap="Greys", vmin=0.0, vmax=1.0, aspect="auto")
    axes.set_xticks(range(columns), alignment.source, rotation=60, ha="right")
    axes.set_yticks(range(rows), alignment.target)
    axes.set_xlabel("source")
    axes.set_ylabel("translation")
    if title:
        axes.set_title(title, fontsize=9)
    figure.colorbar(image, ax=axes, fraction=0.04, label="attention weight")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=_DPI)
    return atomic_write_bytes(path, buffer.getvalue())
