"""Recurrent cells: one time step of each family, one file each."""

from __future__ import annotations

from typing import Any

from rnnkit.cells.base import Cell
from rnnkit.cells.elman import ElmanCell
from rnnkit.cells.gru import GRUCell
from rnnkit.cells.jordan import JordanCell
from rnnkit.cells.lstm import LSTMCell

CELLS: dict[str, type[Cell]] = {
    "elman": ElmanCell,
    "jordan": JordanCell,
    "lstm": LSTMCell,
    "gru": GRUCell,
}

__all__ = ["CELLS", "Cell", "ElmanCell", "GRUCell", "JordanCell", "LSTMCell", "make_cell"]


def make_cell(kind: str, input_size: int, hidden_size: int, **options: Any) -> Cell:
    """Build a cell by family name (``"elman"``, ``"jordan"``, ``"lstm"``, ``"gru"``).

    Example:
        >>> make_cell("gru", 3, 4, layer_norm=True).fused_mode is None
        True
    """
    if kind not in CELLS:
        raise ValueError(f"cell must be one of {', '.join(map(repr, CELLS))}, got {kind!r}")
    return CELLS[kind](input_size, hidden_size, **options)
