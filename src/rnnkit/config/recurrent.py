"""The recurrent stack's config: which cell, its sizes, and cell-specific options."""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

from rnnkit.config.codec import check_field_types
from rnnkit.config.errors import ConfigError
from rnnkit.config.validate import validate_fraction, validate_positive

__all__ = [
    "CellType",
    "Feedback",
    "Nonlinearity",
    "OutputActivation",
    "RecurrentConfig",
    "StackConfig",
]

CellType = Literal["elman", "jordan", "lstm", "gru"]
Nonlinearity = Literal["tanh", "relu"]
Feedback = Literal["hidden", "output", "both"]
OutputActivation = Literal["identity", "tanh", "sigmoid", "softmax"]


# Options that only some cells use. Each must stay at its default for the other cells, so a
# config never carries a setting that is silently ignored. Order = order of cell_options().
_CELL_OPTIONS: dict[str, tuple[str, ...]] = {
    "elman": ("nonlinearity", "identity_init"),
    "jordan": ("nonlinearity", "output_size", "feedback", "output_activation"),
    "lstm": ("peephole", "layer_norm", "forget_bias"),
    "gru": ("layer_norm",),
}
# The inverse: option -> the cells that use it.
_OPTION_CELLS: dict[str, tuple[str, ...]] = {
    option: tuple(c for c, opts in _CELL_OPTIONS.items() if option in opts)
    for options in _CELL_OPTIONS.values()
    for option in options
}


@dataclasses.dataclass(frozen=True, kw_only=True)
class _CellChoice:
    cell: CellType = "lstm"


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Reads(_CellChoice):
    input_size: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class StackConfig(_CellChoice):
    """A stack of recurrent layers as a user chooses it: which cell, its sizes, its options.

    What it reads (the input size) is not a choice: it comes from the data or from the layer
    below, and :meth:`reading` adds it when the stack is built. Jobs keep this class in their
    configs; :class:`RecurrentConfig` is it with the input size, what a layer is built from.

    Field names follow ``torch.nn.RNN/LSTM/GRU`` where torch has the concept. Fields are
    keyword-only, so the field order (which is also the JSON key order) can put ``cell`` first.

    Attributes:
        cell: Cell family: ``"elman"``, ``"jordan"`` (output recurrence), ``"lstm"``, ``"gru"``.
        hidden_size: Hidden units per direction and layer.
        num_layers: Stacked layers (>= 1).
        bidirectional: Also run each layer right to left and concatenate both directions.
        dropout: Dropout on the outputs of every layer except the last, in [0, 1).
        recurrent_dropout: Dropout on the recurrent (hidden-to-hidden) connection, one mask
            per sequence (Gal & Ghahramani 2016), in [0, 1).
        nonlinearity: Hidden activation of elman and jordan cells: ``"tanh"`` or ``"relu"``.
        identity_init: Elman only: recurrent weights start as the identity matrix (IRNN,
            Le et al. 2015).
        output_size: Jordan only: size of the output fed back; None means ``hidden_size``.
        feedback: Jordan only: where ``y_{t-1}`` feeds in: ``"hidden"`` (``W_oh``),
            ``"output"`` (``W_oo``) or ``"both"``.
        output_activation: Jordan only: activation of the output ``y_t``.
        peephole: LSTM only: gates also see the cell state (Gers & Schmidhuber 2000).
        layer_norm: LSTM and GRU only: layer-normalize the gate pre-activations
            (Ba et al. 2016).
        forget_bias: LSTM only: initial forget-gate bias; 1.0 keeps memory early in training
            (Jozefowicz et al. 2015).

    Raises:
        ConfigError: A field has the wrong type or range, or sets an option the chosen cell
            does not use.

    Example:
        >>> stack = StackConfig(cell="gru", hidden_size=4, num_layers=2)
        >>> stack.reading(3).input_size, stack.reading(3).num_layers
        (3, 2)
    """

    hidden_size: int
    num_layers: int = 1
    bidirectional: bool = False
    dropout: float = 0.0
    recurrent_dropout: float = 0.0
    nonlinearity: Nonlinearity = "tanh"
    identity_init: bool = False
    output_size: int | None = None
    feedback: Feedback = "hidden"
    output_activation: OutputActivation = "tanh"
    peephole: bool = False
    layer_norm: bool = False
    forget_bias: float = 1.0

    def __post_init__(self) -> None:
        check_field_types(self)
        for name in ("hidden_size", "num_layers"):
            validate_positive(name, getattr(self, name))
        if self.output_size is not None:
            validate_positive("output_size", self.output_size)
        validate_fraction("dropout", self.dropout)
        validate_fraction("recurrent_dropout", self.recurrent_dropout)
        self._check_cell_options()

    def _check_cell_options(self) -> None:
        defaults = {f.name: f.default for f in dataclasses.fields(self)}
        for option, cells in _OPTION_CELLS.items():
            if self.cell not in cells and getattr(self, option) != defaults[option]:
                where = " or ".join(f"cell={c!r}" for c in cells)
                raise ConfigError(f"applies only to {where}, got cell={self.cell!r}", key=option)

    def stack_fields(self) -> dict[str, Any]:
        """The user's choices as keyword arguments (a :class:`RecurrentConfig`'s, less its
        input size)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(StackConfig)}

    def reading(self, input_size: int) -> RecurrentConfig:
        """This stack reading ``input_size`` features per step: what a layer is built from."""
        return RecurrentConfig(input_size=input_size, **self.stack_fields())

    def cell_options(self) -> dict[str, Any]:
        """Returns the options the chosen cell uses, as keyword arguments for it.

        For jordan, ``output_size`` is resolved (None becomes ``hidden_size``).

        Returns:
            elman: nonlinearity, identity_init; jordan: nonlinearity, output_size, feedback,
            output_activation; lstm: peephole, layer_norm, forget_bias; gru: layer_norm.

        Example:
            >>> StackConfig(hidden_size=4).cell_options()
            {'peephole': False, 'layer_norm': False, 'forget_bias': 1.0}
            >>> StackConfig(cell="jordan", hidden_size=4).cell_options()["output_size"]
            4
        """
        options = {name: getattr(self, name) for name in _CELL_OPTIONS[self.cell]}
        if self.cell == "jordan" and self.output_size is None:
            options["output_size"] = self.hidden_size
        return options


# The bases put ``input_size`` right after ``cell`` in the field (and JSON key) order, as it
# stood before StackConfig existed: the MRO is RecurrentConfig, StackConfig, _Reads, _CellChoice.
@dataclasses.dataclass(frozen=True, kw_only=True)
class RecurrentConfig(StackConfig, _Reads):
    """A :class:`StackConfig` with what it reads: the config a :class:`rnnkit.Recurrent`
    layer is built from (``Recurrent.from_config``).

    Attributes:
        input_size: Features per input time step.

    Example:
        >>> cfg = RecurrentConfig(cell="elman", input_size=3, hidden_size=4, nonlinearity="relu")
        >>> cfg.cell_options()
        {'nonlinearity': 'relu', 'identity_init': False}
        >>> try:
        ...     RecurrentConfig(cell="gru", input_size=3, hidden_size=4, peephole=True)
        ... except ConfigError as err:
        ...     print(err)
        peephole: applies only to cell='lstm', got cell='gru'
    """

    def __post_init__(self) -> None:
        super().__post_init__()
        validate_positive("input_size", self.input_size)

    def stack(self) -> StackConfig:
        """The user's choices without the input size."""
        return StackConfig(**self.stack_fields())
