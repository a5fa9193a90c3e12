"""Recurrent layers: cells run over time, stacked and bidirectional."""

from rnnkit.layers.recurrent import Engine, Recurrent

__all__ = ["Engine", "Recurrent"]
