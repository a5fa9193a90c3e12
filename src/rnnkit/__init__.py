"""rnnkit: recurrent neural networks from the textbook equations to production."""

from rnnkit.cells import CELLS, Cell, ElmanCell, GRUCell, JordanCell, LSTMCell, make_cell
from rnnkit.config import ConfigError, RecurrentConfig
from rnnkit.layers import Recurrent
from rnnkit.state import JordanState, LSTMState, RNNState

__version__ = "0.1.0"

__all__ = [
    "CELLS",
    "Cell",
    "ConfigError",
    "ElmanCell",
    "GRUCell",
    "JordanCell",
    "JordanState",
    "LSTMCell",
    "LSTMState",
    "RNNState",
    "Recurrent",
    "RecurrentConfig",
    "__version__",
    "make_cell",
]
