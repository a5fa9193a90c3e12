"""Three-way gradient check: reference BPTT, finite differences, rnnkit's torch engine, torch.nn.

:func:`check` builds a small random :class:`rnnkit.Recurrent` in float64 (input 3, hidden 4,
batch 2, 5 steps, lengths ``[5, 3]``, a random initial state) and differentiates a fixed
random projection of everything the layer returns,

    E = Σ outputs ⊙ P + Σ_k final_k ⊙ Q_k        (P, Q standard normal, fixed by ``seed``)

with respect to every parameter, the input ``x`` and every initial-state field. For each of
them it reports the max relative error (:func:`rnnkit.reference.relative_error`) of

    (a) the reference engine's hand-written BPTT vs central finite differences of the
        reference forward (the derivation is right),
    (b) the reference vs rnnkit's torch engine with ``engine="loop"`` (autograd through the
        generic time loop: the torch cells compute the same function),
    (c) rnnkit with ``engine="auto"`` (torch's fused kernel) vs ``torch.nn.LSTM/GRU/RNN`` on
        the same weights, for the cells torch has (plain LSTM and GRU, tanh/relu Elman);
        None for the others.

A check passes when every error is at most :data:`TOLERANCE`.

Example:
    >>> report = check("gru", num_layers=2, bidirectional=True)
    >>> report.passed, report.rows[0].name, report.rows[-1].name
    (True, 'weight_ih_l0', 'h0')
    >>> [row.name for row in check("jordan", feedback="output").rows]
    ['weight_ih_l0', 'bias_ih_l0', 'weight_hy_l0', 'bias_hy_l0', 'weight_oo_l0', 'x', 'y0']
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnnkit.config import ConfigError, RecurrentConfig
from rnnkit.layers import Recurrent
from rnnkit.reference import numerical_gradient, relative_error, stack

__all__ = [
    "TOLERANCE",
    "GradcheckReport",
    "GradcheckRow",
    "all_configurations",
    "check",
    "check_all",
]

TOLERANCE = 1e-6
"""Largest accepted relative error (float64)."""

INPUT_SIZE, HIDDEN_SIZE, BATCH, STEPS = 3, 4, 2, 5
LENGTHS = (5, 3)
EPS = 1e-6  # finite-difference step; central differences err by O(eps²) + O(ε_machine/eps)

# torch.nn classes by rnnkit's fused_mode (the cell's own claim of which kernel computes it).
_TORCH_NN: dict[str, tuple[type[torch.nn.RNNBase], dict[str, str]]] = {
    "LSTM": (torch.nn.LSTM, {}),
    "GRU": (torch.nn.GRU, {}),
    "RNN_TANH": (torch.nn.RNN, {"nonlinearity": "tanh"}),
    "RNN_RELU": (torch.nn.RNN, {"nonlinearity": "relu"}),
}
# The reference reads a cell's structure from its parameter names and takes only these options.
_REFERENCE_OPTIONS = {
    "elman": ("nonlinearity",),
    "jordan": ("nonlinearity", "output_activation"),
    "lstm": (),
    "gru": (),
}
# Fields of RecurrentConfig that check() sets itself or does not support.
_NOT_CELL_OPTIONS = frozenset(
    {"cell", "input_size", "hidden_size", "num_layers", "bidirectional", "dropout"}
)


@dataclass(frozen=True)
class GradcheckRow:
    """The errors for one gradient.

    Attributes:
        name: ``torch.nn``'s parameter name (``weight_hh_l1_reverse``), ``"x"``, or an
            initial-state field with a ``0`` suffix (``"h0"``, ``"c0"``, ``"y0"``).
        ref_vs_fd: reference BPTT vs central finite differences.
        ref_vs_rnnkit: reference vs rnnkit's torch loop (autograd).
        rnnkit_vs_torch: rnnkit's fused path vs ``torch.nn``, or None where torch has no such
            cell.
        passed: every error is at most the report's tolerance.
    """

    name: str
    ref_vs_fd: float
    ref_vs_rnnkit: float
    rnnkit_vs_torch: float | None
    passed: bool

    @property
    def max_error(self) -> float:
        """The largest of the errors that apply."""
        errors = (self.ref_vs_fd, self.ref_vs_rnnkit, self.rnnkit_vs_torch)
        return max(e for e in errors if e is not None)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (keys: parameter, ref_vs_fd, ref_vs_rnnkit, rnnkit_vs_torch,
        passed)."""
        return {
            "parameter": self.name,
            "ref_vs_fd": self.ref_vs_fd,
            "ref_vs_rnnkit": self.ref_vs_rnnkit,
            "rnnkit_vs_torch": self.rnnkit_vs_torch,
            "passed": self.passed,
        }


@dataclass(frozen=True)
class GradcheckReport:
    """The result of :func:`check`: one :class:`GradcheckRow` per gradient.

    Attributes:
        cell: the cell family.
        options: the cell options the check was asked for (defaults left out).
        num_layers: ``L``.
        bidirectional: whether ``D = 2``.
        seed: the seed of the weights, inputs and projection.
        tolerance: the largest accepted error.
        rows: parameters in ``state_dict`` order, then ``x``, then the initial-state fields.
    """

    cell: str
    options: Mapping[str, Any]
    num_layers: int
    bidirectional: bool
    seed: int
    tolerance: float
    rows: tuple[GradcheckRow, ...] = field(default=())

    @property
    def passed(self) -> bool:
        """Whether every row passed."""
        return all(row.passed for row in self.rows)

    @property
    def max_error(self) -> float:
        """The largest error of any row and any comparison."""
        return max((row.max_error for row in self.rows), default=0.0)

    @property
    def title(self) -> str:
        """A one-line description: ``lstm num_layers=2 bidirectional=True peephole=True``."""
        words = [self.cell, f"num_layers={self.num_layers}", f"bidirectional={self.bidirectional}"]
        words += [f"{k}={v}" for k, v in self.options.items()]
        return " ".join(words)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the configuration, the verdict and every row."""
        return {
            "cell": self.cell,
            "options": dict(self.options),
            "num_layers": self.num_layers,
            "bidirectional": self.bidirectional,
            "seed": self.seed,
            "tolerance": self.tolerance,
            "passed": self.passed,
            "max_error": self.max_error,
            "rows": [row.to_dict() for row in self.rows],
        }


def _config(
    cell: str, num_layers: int, bidirectional: bool, cell_options: Mapping[str, Any]
) -> RecurrentConfig:
    """Validate the request through RecurrentConfig, so errors name the offending option."""
    allowed = sorted({f.name for f in fields(RecurrentConfig)} - _NOT_CELL_OPTIONS)
    for name in cell_options:
        if name not in allowed:
            raise ConfigError(f"not a cell option; expected one of {', '.join(allowed)}", key=name)
    if cell_options.get("recurrent_dropout"):
        # A random mask per call would make the three engines differ by design.
        raise ConfigError(
            "gradcheck runs without dropout, got a nonzero value", key="recurrent_dropout"
        )
    return RecurrentConfig(
        cell=cell,
        input_size=INPUT_SIZE,
        hidden_size=HIDDEN_SIZE,
        num_layers=num_layers,
        bidirectional=bidirectional,
        **cell_options,
    )


def _torch_name(name: str, k: int, directions: int) -> str:
    """Cell ``k``'s parameter ``name`` under torch.nn's naming (``weight_hh_l1_reverse``)."""
    return f"{name}_l{k // directions}{'_reverse' if k % directions else ''}"


def _random_weights(layer: Recurrent, rng: np.random.Generator) -> None:
    """Every parameter uniform in [-0.5, 0.5] (layer-norm gains around 1), so no option hides
    behind its initialization (zero biases, unit gains, a forget bias of 1)."""
    values = {}
    for name, p in layer.state_dict().items():
        value = rng.uniform(-0.5, 0.5, size=tuple(p.shape))
        if name.startswith("ln_") and "_weight" in name:
            value += 1.0
        values[name] = torch.from_numpy(value)
    layer.load_state_dict(values)


def _projection_loss(
    out: torch.Tensor, final: tuple, proj: np.ndarray, proj_final: tuple
) -> torch.Tensor:
    loss = (out * torch.from_numpy(proj)).sum()
    for f, q in zip(final, proj_final, strict=True):
        loss = loss + (f * torch.from_numpy(q)).sum()
    return loss


def _autograd(
    run: Callable[[torch.Tensor, tuple[torch.Tensor, ...]], tuple[torch.Tensor, tuple]],
    named: Mapping[str, torch.nn.Parameter],
    x: np.ndarray,
    state0: tuple[np.ndarray, ...],
    state_names: tuple[str, ...],
    proj: np.ndarray,
    proj_final: tuple[np.ndarray, ...],
) -> dict[str, np.ndarray]:
    """Gradients of the projection loss by autograd, keyed like the report's rows."""
    xt = torch.tensor(x, requires_grad=True)
    st = tuple(torch.tensor(s, requires_grad=True) for s in state0)
    out, final = run(xt, st)
    _projection_loss(out, final, proj, proj_final).backward()
    grads = {name: p.grad.detach().numpy().copy() for name, p in named.items()}
    grads["x"] = xt.grad.numpy()
    grads.update({name: s.grad.numpy() for name, s in zip(state_names, st, strict=True)})
    return grads


class _Energy:
    """The projection loss of the reference stack, as a function of its input, its initial
    state, or one cell's parameters.

    Perturbing cell ``k = l*D + d`` changes only that cell and the layers above it, so
    :meth:`of_cell` re-runs just those (through :func:`stack.forward` and
    :func:`stack.reverse_within_lengths`, the stack's own semantics) and reuses the rest:
    finite differences, one forward per perturbed element, are most of :func:`check`'s time.
    """

    def __init__(
        self,
        cell: str,
        params_list: list[dict[str, np.ndarray]],
        x: np.ndarray,
        state0: tuple[np.ndarray, ...],
        lengths: np.ndarray,
        num_layers: int,
        directions: int,
        options: Mapping[str, Any],
        proj: np.ndarray,
        proj_final: tuple[np.ndarray, ...],
    ) -> None:
        self.cell, self.params_list, self.x, self.state0 = cell, params_list, x, state0
        self.lengths, self.L, self.D, self.options = lengths, num_layers, directions, options
        self.proj, self.proj_final = proj, proj_final
        _, _, self.cache = self._stack(params_list, x, state0, num_layers, directions)
        # Unperturbed per-layer inputs u_l, per-cell outputs (in input order) and final states.
        self.inputs: list[np.ndarray] = []
        self.outs: list[np.ndarray] = []
        self.finals: list[tuple[np.ndarray, ...]] = []
        u = x
        for layer in range(num_layers):
            self.inputs.append(u)
            for d in range(directions):
                k = layer * directions + d
                out, final = self._cell(k, params_list[k], u)
                self.outs.append(out)
                self.finals.append(final)
            u = np.concatenate(self.outs[layer * directions :], axis=-1)

    def _stack(self, plist: list, u: np.ndarray, s0: tuple, layers: int, directions: int):
        return stack.forward(
            self.cell,
            plist,
            u,
            s0,
            num_layers=layers,
            bidirectional=directions == 2,
            lengths=self.lengths,
            **self.options,
        )

    def _cell(
        self, k: int, params: dict, u: np.ndarray, s0: tuple[np.ndarray, ...] | None = None
    ) -> tuple[np.ndarray, tuple]:
        """Cell ``k`` alone over its layer's input ``u`` from ``s0`` (its own initial state,
        fields (B, K); the given one when None): (outputs in input order, final state)."""
        reverse = k % self.D == 1
        source = stack.reverse_within_lengths(u, self.lengths) if reverse else u
        s0 = tuple(f[k] for f in self.state0) if s0 is None else s0
        out, final, _ = self._stack([params], source, tuple(f[None] for f in s0), 1, 1)
        out = stack.reverse_within_lengths(out, self.lengths) if reverse else out
        return out, tuple(f[0] for f in final)

    def _total(self, outputs: np.ndarray, finals: list[tuple[np.ndarray, ...]]) -> float:
        total = (outputs * self.proj).sum()
        for k, final in enumerate(finals):
            total += sum((f * q[k]).sum() for f, q in zip(final, self.proj_final, strict=True))
        return float(total)

    def __call__(self, x: np.ndarray) -> float:
        """The loss of a full forward from input ``x``."""
        out, final, _ = self._stack(self.params_list, x, self.state0, self.L, self.D)
        return self._total(out, [tuple(f[k] for f in final) for k in range(self.L * self.D)])

    def of_cell(
        self,
        k: int,
        params: dict[str, np.ndarray] | None = None,
        s0: tuple[np.ndarray, ...] | None = None,
    ) -> float:
        """The loss with cell ``k``'s parameters and/or initial state (fields (B, K))
        replaced; None keeps the given one."""
        layer, D = k // self.D, self.D
        params = self.params_list[k] if params is None else params
        out, final = self._cell(k, params, self.inputs[layer], s0)
        outs = list(self.outs[layer * D : (layer + 1) * D])
        outs[k % D] = out
        finals = list(self.finals)
        finals[k] = final
        z = np.concatenate(outs, axis=-1)
        above = self.L - layer - 1
        if above:
            first = (layer + 1) * D
            s0 = tuple(f[first:] for f in self.state0)
            z, upper, _ = self._stack(self.params_list[first:], z, s0, above, D)
            finals[first:] = [tuple(f[j] for f in upper) for j in range(above * D)]
        return self._total(z, finals)


def check(
    cell: str,
    *,
    num_layers: int = 1,
    bidirectional: bool = False,
    seed: int = 0,
    **cell_options: Any,
) -> GradcheckReport:
    """Check every gradient of a small random layer three ways (see the module docstring).

    Args:
        cell: ``"elman"``, ``"jordan"``, ``"lstm"`` or ``"gru"``.
        num_layers: ``L``.
        bidirectional: check a bidirectional stack.
        seed: seed of the weights, the input, the initial state and the loss projection.
        **cell_options: the cell's options (``nonlinearity``, ``feedback``,
            ``output_activation``, ``output_size``, ``peephole``, ``layer_norm``, ...).

    Returns:
        A :class:`GradcheckReport`; ``report.passed`` tells whether all errors are within
        :data:`TOLERANCE`.

    Raises:
        ConfigError: an option that is unknown, or that the cell does not take (the message
            names it), or a nonzero ``recurrent_dropout``.

    Shapes:
        x (2, 5, 3) with lengths [5, 3]; state fields (L*D, 2, K); outputs (2, 5, D*K).

    Example:
        >>> report = check("lstm", peephole=True)
        >>> report.passed, report.max_error < 1e-6
        (True, True)
        >>> [(row.name, row.rnnkit_vs_torch) for row in report.rows][-2:]
        [('h0', None), ('c0', None)]
    """
    config = _config(cell, num_layers, bidirectional, cell_options)
    D = 2 if bidirectional else 1
    rng = np.random.default_rng(seed)
    loop = Recurrent.from_config(config, engine="loop").double()
    _random_weights(loop, rng)
    zeros = loop.init_state(BATCH)
    state_names = tuple(f"{name}0" for name in zeros._fields)
    x = rng.standard_normal((BATCH, STEPS, INPUT_SIZE))
    state0 = tuple(rng.standard_normal(tuple(z.shape)) * 0.5 for z in zeros)
    lengths = np.array(LENGTHS)
    proj = rng.standard_normal((BATCH, STEPS, loop.output_size))
    proj_final = tuple(rng.standard_normal(tuple(z.shape)) for z in zeros)

    # (a) the reference engine: hand-written BPTT, and finite differences of its forward
    params_list = stack.params_from_layer(loop)
    ref_options = {name: getattr(config, name) for name in _REFERENCE_OPTIONS[cell]}
    energy = _Energy(
        cell, params_list, x, state0, lengths, num_layers, D, ref_options, proj, proj_final
    )
    grads_list, dx, dstate0 = stack.backward(energy.cache, proj, proj_final)
    reference: dict[str, np.ndarray] = {}
    numeric: dict[str, np.ndarray] = {}
    for k, (params, grads) in enumerate(zip(params_list, grads_list, strict=True)):
        for name, value in params.items():
            key = _torch_name(name, k, D)
            reference[key] = grads[name]
            numeric[key] = numerical_gradient(
                lambda a, k=k, name=name: energy.of_cell(k, {**params_list[k], name: a}),
                value,
                EPS,
            )
    reference["x"] = dx
    numeric["x"] = numerical_gradient(energy, x, EPS)
    for i, name in enumerate(state_names):
        reference[name] = dstate0[i]
        numeric[name] = np.stack(
            [
                numerical_gradient(
                    lambda a, k=k, i=i: energy.of_cell(
                        k, s0=tuple(a if j == i else f[k] for j, f in enumerate(state0))
                    ),
                    state0[i][k],
                    EPS,
                )
                for k in range(len(state0[i]))
            ]
        )

    # (b) rnnkit's generic loop, gradients by autograd
    length_tensor = torch.from_numpy(lengths)

    def run_rnnkit(layer: Recurrent) -> Callable:
        return lambda xt, st: layer(xt, lengths=length_tensor, state=type(zeros)(*st))

    def named(module: torch.nn.Module) -> dict[str, torch.nn.Parameter]:
        return dict(module.state_dict(keep_vars=True))

    ours = _autograd(run_rnnkit(loop), named(loop), x, state0, state_names, proj, proj_final)

    # (c) rnnkit's fused path vs torch.nn, where torch has the cell
    theirs: dict[str, np.ndarray] | None = None
    fused_ours: dict[str, np.ndarray] | None = None
    mode = loop.cells[0].fused_mode
    if mode is not None:
        fused = Recurrent.from_config(config, engine="auto").double()
        fused.load_state_dict(loop.state_dict())
        cls, kwargs = _TORCH_NN[mode]
        nn_module = cls(
            INPUT_SIZE,
            HIDDEN_SIZE,
            num_layers=num_layers,
            bidirectional=bidirectional,
            batch_first=True,
            **kwargs,
        ).double()
        nn_module.load_state_dict(loop.state_dict())

        def run_torch(xt: torch.Tensor, st: tuple) -> tuple[torch.Tensor, tuple]:
            packed = pack_padded_sequence(xt, length_tensor, batch_first=True, enforce_sorted=False)
            out, final = nn_module(packed, st if len(st) == 2 else st[0])
            out, _ = pad_packed_sequence(out, batch_first=True, total_length=STEPS)
            return out, final if isinstance(final, tuple) else (final,)

        fused_ours = _autograd(
            run_rnnkit(fused), named(fused), x, state0, state_names, proj, proj_final
        )
        theirs = _autograd(
            run_torch, dict(nn_module.named_parameters()), x, state0, state_names, proj, proj_final
        )

    rows = []
    for name in reference:
        a = relative_error(reference[name], numeric[name])
        b = relative_error(reference[name], ours[name])
        c = None
        if theirs is not None and fused_ours is not None:
            c = relative_error(fused_ours[name], theirs[name])
        worst = max(e for e in (a, b, c) if e is not None)
        rows.append(GradcheckRow(name, a, b, c, passed=worst <= TOLERANCE))
    return GradcheckReport(
        cell=cell,
        options=dict(cell_options),
        num_layers=num_layers,
        bidirectional=bidirectional,
        seed=seed,
        tolerance=TOLERANCE,
        rows=tuple(rows),
    )


def all_configurations() -> list[tuple[str, dict[str, Any]]]:
    """Every cell and option combination :func:`check_all` covers, as ``(cell, options)``.

    Elman tanh/relu; Jordan feedback hidden/output/both × every output activation; LSTM
    plain/peephole/layer norm; GRU plain/layer norm.

    Example:
        >>> len(all_configurations()), all_configurations()[0]
        (19, ('elman', {'nonlinearity': 'tanh'}))
    """
    configs: list[tuple[str, dict[str, Any]]] = [
        ("elman", {"nonlinearity": n}) for n in ("tanh", "relu")
    ]
    configs += [
        ("jordan", {"feedback": fb, "output_activation": act})
        for fb in ("hidden", "output", "both")
        for act in ("identity", "tanh", "sigmoid", "softmax")
    ]
    configs += [("lstm", {}), ("lstm", {"peephole": True}), ("lstm", {"layer_norm": True})]
    configs += [("gru", {}), ("gru", {"layer_norm": True})]
    return configs


def iter_all(seed: int = 0) -> Iterator[GradcheckReport]:
    """:func:`check_all`, one report at a time (so a caller can show progress)."""
    shapes = itertools.product((1, 2), (False, True))
    for (num_layers, bidirectional), (cell, options) in itertools.product(
        list(shapes), all_configurations()
    ):
        yield check(cell, num_layers=num_layers, bidirectional=bidirectional, seed=seed, **options)


def check_all(seed: int = 0) -> tuple[GradcheckReport, ...]:
    """:func:`check` for every configuration of :func:`all_configurations`, each with
    ``num_layers`` 1 and 2 and ``bidirectional`` False and True (76 checks).

    About 20 s on a 2-core CPU (finite differences of the reference are most of it).
    """
    return tuple(iter_all(seed))
