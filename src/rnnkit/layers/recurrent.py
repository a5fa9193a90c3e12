"""``Recurrent``: any cell family run over time, stacked and/or bidirectional.

Dispatch: a stack of standard cells (tanh/relu Elman, plain LSTM, plain GRU, no recurrent
dropout) goes to torch's fused kernels (:mod:`rnnkit.layers.fused`); every other cell runs the
shared time loop with hand-written BPTT (:mod:`rnnkit.layers.loop`). Both paths use the same
parameters and give the same numbers.

One exception: a batch of *variable lengths* that needs gradients runs the loop on the CPU.
torch's CPU kernels take variable lengths as a packed sequence, and their backward over one
is 4-20x slower than over the same batch unpacked (2-core machine, H=128, T=230: a BiLSTM
step of 128 reviews took 10.5 s packed, 0.7 s in the loop); cuDNN has no such problem.
"""

from __future__ import annotations

import dataclasses
import re
from collections import OrderedDict
from typing import Any, Literal

import torch
from torch import Tensor, nn

from rnnkit.cells import gemm, make_cell
from rnnkit.config import RecurrentConfig
from rnnkit.layers.fused import flatten_for_cudnn, run_fused
from rnnkit.layers.loop import run_loop
from rnnkit.layers.scan import run_scan
from rnnkit.layers.stacked import run_stack
from rnnkit.state import State

__all__ = ["Engine", "Recurrent"]

Engine = Literal["auto", "fused", "loop", "scan"]
# Hidden size, per backend of the loop's products (rnnkit.cells.gemm.BACKEND) and fused mode,
# from which the hand-written loop trains a GRU or Elman layer faster than torch's (unfused)
# CPU kernels, measured over batches of 16-128 on the 2-core machines with
# benchmarks/bench_dispatch.py (docs/benchmarks.md): GRU from 384 on the AMD machine (oneDNN),
# from 512 on the Intel machine (MKL), where at 384 the two were even (0.90-1.05).
LOOP_WINS_ON_CPU_FROM = {
    "onednn": {"GRU": 384, "RNN_TANH": 512, "RNN_RELU": 512},
    "mkl": {"GRU": 512, "RNN_TANH": 512, "RNN_RELU": 512},
}
_CELL_KEY = re.compile(r"cells\.(\d+)\.(\w+)$")
_TORCH_KEY = re.compile(r"(\w+?)_l(\d+)(_reverse)?$")


class Recurrent(nn.Module):
    """A recurrent layer stack: ``outputs, state = layer(x, lengths=None, state=None)``.

    Args:
        cell: ``"elman"``, ``"jordan"``, ``"lstm"`` or ``"gru"``.
        input_size: ``I``, features per step.
        hidden_size: ``H``, units per layer and direction.
        num_layers: ``L``, stacked layers.
        bidirectional: also read each sequence right to left (``D = 2``).
        dropout: dropout on the outputs of every layer but the last (training only).
        recurrent_dropout: variational dropout on the recurrent input, one mask per sequence
            (Gal & Ghahramani 2016); training only.
        engine: ``"auto"`` picks the fused kernel when the cell allows it; ``"loop"`` forces
            the generic loop (same numbers, for checks and comparisons); ``"fused"`` demands
            the kernel and fails for cells it cannot run; ``"scan"`` runs each direction as
            one torch ``scan`` of the cell's plain-torch step (while exporting only: what ONNX
            export traces, :mod:`rnnkit.layers.scan`).
        **cell_options: options of the cell family (``nonlinearity``, ``identity_init``,
            ``output_size``, ``feedback``, ``output_activation``, ``peephole``, ``layer_norm``,
            ``forget_bias``); see :class:`rnnkit.config.RecurrentConfig`.

    ``state_dict`` keys are ``torch.nn``'s (``weight_ih_l0``, ``bias_hh_l1_reverse``, ...),
    with extra parameters named the same way (``weight_ci_l0``, ``weight_hy_l0``), so
    ``layer.load_state_dict(torch.nn.LSTM(...).state_dict())`` works, and the other way round.

    Shapes:
        x (B, T, I) batch-first; lengths (B,) integers in [1, T], or None;
        state fields (L*D, B, K) with K = H (``output_size`` for Jordan), or None for zeros
        -> outputs (B, T, D*K), zero past each sequence's length; final state fields
        (L*D, B, K), each sequence's state at its own last step.

    Example:
        >>> import torch
        >>> layer = Recurrent("lstm", input_size=3, hidden_size=4, num_layers=2, bidirectional=True)
        >>> out, state = layer(torch.randn(2, 5, 3), lengths=torch.tensor([5, 3]))
        >>> tuple(out.shape), tuple(state.h.shape), bool(out[1, 3:].eq(0).all())
        ((2, 5, 8), (4, 2, 4), True)
    """

    def __init__(
        self,
        cell: str = "lstm",
        input_size: int | None = None,
        hidden_size: int | None = None,
        num_layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        engine: Engine = "auto",
        **cell_options: Any,
    ) -> None:
        super().__init__()
        if input_size is None or hidden_size is None:
            raise TypeError("Recurrent needs input_size and hidden_size")
        config = RecurrentConfig(
            cell=cell,
            input_size=input_size,
            hidden_size=hidden_size,
            num_layers=num_layers,
            bidirectional=bidirectional,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            **cell_options,
        )
        self.config = config
        directions = 2 if bidirectional else 1
        cells = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else directions * cells[-1].output_size
            for _ in range(directions):
                cells.append(
                    make_cell(
                        cell,
                        layer_input,
                        hidden_size,
                        recurrent_dropout=recurrent_dropout,
                        **config.cell_options(),
                    )
                )
        self.cells = nn.ModuleList(cells)
        self.engine = self._check_engine(engine)
        self.register_state_dict_post_hook(_to_torch_keys)
        self.register_load_state_dict_pre_hook(_from_torch_keys)

    @classmethod
    def from_config(cls, config: RecurrentConfig, engine: Engine = "auto") -> Recurrent:
        """Build from a :class:`~rnnkit.config.RecurrentConfig`."""
        fields = dataclasses.asdict(config)
        return cls(fields.pop("cell"), engine=engine, **fields)

    # ---- properties -------------------------------------------------------------------
    @property
    def num_layers(self) -> int:
        return self.config.num_layers

    @property
    def num_directions(self) -> int:
        return 2 if self.config.bidirectional else 1

    @property
    def output_size(self) -> int:
        """Width of the outputs: ``D * H`` (``D * output_size`` for Jordan)."""
        return self.num_directions * self.cells[-1].output_size

    @property
    def uses_fused(self) -> bool:
        """Whether forward runs torch's fused kernel (else the hand-written loop).

        ``engine="auto"`` takes the kernel whenever the cell allows it, except for wide GRU and
        Elman layers on the CPU: torch's CPU kernels for those two are not fused, and the loop
        trains them faster from ``hidden_size`` 512 (384 for GRU where the loop's products
        run on oneDNN: :data:`LOOP_WINS_ON_CPU_FROM`, docs/benchmarks.md).
        """
        cell = self.cells[0]
        if self.engine in ("loop", "scan") or cell.fused_mode is None:
            return False
        if self.engine == "fused" or cell.fused_mode == "LSTM":
            return True
        on_cpu = cell.weight_ih.device.type == "cpu"
        threshold = LOOP_WINS_ON_CPU_FROM[gemm.BACKEND][cell.fused_mode]
        return not (on_cpu and cell.hidden_size >= threshold)

    def _packed_backward_on_cpu(self, x: Tensor, lengths: Tensor | None) -> bool:
        """Whether ``auto`` should avoid the kernel: variable lengths, gradients, on the CPU."""
        return (
            self.engine == "auto"
            and lengths is not None
            and x.device.type == "cpu"
            and torch.is_grad_enabled()
            and (x.requires_grad or any(p.requires_grad for p in self.parameters()))
        )

    def _check_engine(self, engine: str) -> str:
        if engine not in ("auto", "fused", "loop", "scan"):
            raise ValueError(f"engine must be 'auto', 'fused', 'loop' or 'scan', got {engine!r}")
        if engine == "fused" and self.cells[0].fused_mode is None:
            raise ValueError(
                f"engine='fused' needs a standard cell (tanh/relu elman, plain lstm or gru, no "
                f"recurrent_dropout); this one is {self.cells[0].extra_repr()!r}"
            )
        return engine

    def _apply(self, fn: Any, recurse: bool = True) -> Recurrent:
        # Every move (.to, .cuda, .double, ...) goes through here: re-lay the weights out
        # for cuDNN afterwards, as torch.nn.RNNBase does.
        result = super()._apply(fn, recurse)
        self.flatten_parameters()
        return result

    def flatten_parameters(self) -> None:
        """On a GPU, put the fused path's weights into one cuDNN buffer (else a no-op).

        Called after every ``.to(...)``; call it yourself after replacing parameters by hand.
        """
        flatten_for_cudnn(
            list(self.cells), num_layers=self.num_layers, bidirectional=self.config.bidirectional
        )

    # ---- forward ----------------------------------------------------------------------
    def init_state(self, batch: int) -> State:
        """Zero initial state, fields (L*D, B, K)."""
        cell = self.cells[0]
        zeros = cell.init_state(batch)
        return type(zeros)(*(z.expand(len(self.cells), -1, -1).contiguous() for z in zeros))

    def forward(
        self, x: Tensor, lengths: Tensor | None = None, state: State | None = None
    ) -> tuple[Tensor, State]:
        """Run the stack over a batch; see the class docstring for shapes."""
        self._check_input(x)
        lengths = _check_lengths(lengths, x)
        state = self.init_state(x.size(0)) if state is None else self._check_state(state, x)
        if self.uses_fused and not self._packed_backward_on_cpu(x, lengths):
            return run_fused(
                list(self.cells),
                x,
                lengths,
                state,
                num_layers=self.num_layers,
                bidirectional=self.config.bidirectional,
                dropout=self.config.dropout,
                training=self.training,
            )
        out, final = run_stack(
            list(self.cells),
            x.transpose(0, 1),  # time-major inside the loop: one contiguous (B, K) slab per step
            lengths,
            state,
            num_layers=self.num_layers,
            dropout=self.config.dropout,
            training=self.training,
            loop=run_scan if self.engine == "scan" else run_loop,
        )
        return out.transpose(0, 1), final

    def _check_input(self, x: Tensor) -> None:
        if not isinstance(x, Tensor) or x.dim() != 3:
            shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"x must be a (batch, time, features) tensor, got {shape}")
        if x.size(-1) != self.config.input_size:
            raise ValueError(
                f"x has {x.size(-1)} features per step, expected input_size="
                f"{self.config.input_size}"
            )
        if x.size(1) == 0 or x.size(0) == 0:
            raise ValueError(
                f"x must have at least one sequence and one step, got {tuple(x.shape)}"
            )
        weight = self.cells[0].weight_ih
        # Under CUDA autocast (--bf16) a layer before this one may hand over bf16 inputs.
        autocast = x.is_cuda and torch.is_autocast_enabled("cuda")
        if (x.dtype != weight.dtype and not autocast) or x.device != weight.device:
            raise ValueError(
                f"x is {x.dtype} on {x.device} but the layer's parameters are {weight.dtype} on "
                f"{weight.device}; convert one of them (e.g. layer.to(x))"
            )

    def _check_state(self, state: State, x: Tensor) -> State:
        expected = self.init_state(1)
        if type(state) is not type(expected):
            raise ValueError(
                f"state must be a {type(expected).__name__} for cell={self.config.cell!r}, "
                f"got {type(state).__name__}"
            )
        want = (len(self.cells), x.size(0), expected[0].size(-1))
        for name, field in zip(state._fields, state, strict=True):
            if tuple(field.shape) != want:
                raise ValueError(
                    f"state.{name} must have shape (num_layers*directions, batch, size) = "
                    f"{want}, got {tuple(field.shape)}"
                )
        return state

    def extra_repr(self) -> str:
        return f"engine={self.engine!r}, uses_fused={self.uses_fused}"


def _check_lengths(lengths: Tensor | None, x: Tensor) -> Tensor | None:
    """Validate ``lengths`` (B,) and return it as int64 on the CPU, or None if all are T."""
    if lengths is None:
        return None
    lengths = torch.as_tensor(lengths)
    B, T = x.size(0), x.size(1)
    if lengths.dim() != 1 or lengths.size(0) != B:
        raise ValueError(
            f"lengths must have shape ({B},), one per sequence, got {tuple(lengths.shape)}"
        )
    if lengths.is_floating_point() or lengths.dtype == torch.bool:
        raise ValueError(f"lengths must be integers, got {lengths.dtype}")
    if torch.compiler.is_exporting():  # no values while tracing: the graph masks every step
        return lengths.to(torch.int64)
    lengths = lengths.to("cpu", torch.int64)
    low, high = int(lengths.min()), int(lengths.max())
    if low < 1 or high > T:
        raise ValueError(
            f"lengths must lie in [1, {T}] (the time dimension of x), got [{low}, {high}]"
        )
    return None if low == T else lengths


# ---- state_dict keys: cells.{k}.{name} <-> torch.nn's {name}_l{layer}[_reverse] -----------
def _to_torch_keys(module: Recurrent, state_dict: dict[str, Any], prefix: str, _meta: Any) -> None:
    D = module.num_directions
    renamed = OrderedDict()
    for key in list(state_dict):
        value = state_dict.pop(key)
        match = _CELL_KEY.match(key[len(prefix) :]) if key.startswith(prefix) else None
        if match:
            k, name = int(match.group(1)), match.group(2)
            key = f"{prefix}{name}_l{k // D}{'_reverse' if k % D else ''}"
        renamed[key] = value
    state_dict.update(renamed)


def _from_torch_keys(
    module: Recurrent, state_dict: dict[str, Any], prefix: str, *_args: Any
) -> None:
    D = module.num_directions
    for key in list(state_dict):
        if not key.startswith(prefix):
            continue
        match = _TORCH_KEY.match(key[len(prefix) :])
        if match and "." not in key[len(prefix) :]:
            name, layer, reverse = match.group(1), int(match.group(2)), bool(match.group(3))
            k = layer * D + int(reverse)
            state_dict[f"{prefix}cells.{k}.{name}"] = state_dict.pop(key)
