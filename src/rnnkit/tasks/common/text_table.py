"""Plain-text tables for reports the command line prints (metrics, confusion matrices)."""

from __future__ import annotations

__all__ = ["table_lines"]


def table_lines(header: list[str], rows: list[list[str]]) -> list[str]:
    """Lines of a text table: first column left-aligned, the others right-aligned.

    Example:
        >>> print("\\n".join(table_lines(["model", "mse"], [["gru", "0.25"], ["naive", "1.5"]])))
        model   mse
        gru    0.25
        naive   1.5
    """
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    lines = []
    for row in [header, *rows]:
        cells = [row[0].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
        lines.append("  ".join(cells))
    return lines
