"""Gradient flow through time: how much of a loss at the last step reaches each earlier state.

The course's argument, measured. Backpropagation through time multiplies the gradient by one
Jacobian ``∂h_t/∂h_{t-1}`` per step, so a loss ``E_T`` at the last step reaches the state
``h_t`` of ``k = T - t`` steps earlier through a product of ``k`` Jacobians: when their norms
stay below 1 the signal decays geometrically (vanishing gradients, and a plain RNN cannot
learn dependencies more than a few dozen steps long), above 1 it grows (exploding gradients,
which clipping tames). LSTM and GRU were designed to keep it near 1.

What is measured, for one :class:`rnnkit.Recurrent` stack on inputs ``x`` (N, T, I):

    E_T = Σ_b v · y_T^(b)          y_T: the last step's output; v: a fixed random unit vector
    g_t^(b) = ‖∂E_T / ∂h_t^(b)‖     for t = 1..T, sequence b; lag k = T - t

``h_t`` is the state the recurrence carries, the stack's first state field, which is also the
cell's output: ``h_t`` for Elman, LSTM and GRU, the fed-back output ``y_t`` for Jordan. For an
LSTM the memory cell ``c_t`` is *not* included: ``g_t`` is the gradient reaching ``h_t``
(through ``c_t`` as well, but measured at ``h_t``), the same quantity as the reference
engine's ``dh_norm``. For a stack of ``L`` layers, ``g_t`` is the norm over all layers'
states at step ``t`` together, ``sqrt(Σ_l ‖∂E_T/∂h_t^l‖²)``. Since ‖v‖ = 1, ``g`` at lag 0 is
exactly 1 for one layer.

``g`` is computed twice: by torch autograd (the stack run step by step through its cells, a
zero "probe" added to every state so that its gradient is ``∂E_T/∂h_t``), and by the NumPy
reference engine's hand-written BPTT (``backward(..., per_step=True)`` returns ``dh_norm``).
Both run in float64, which also keeps a signal of 1e-100 from underflowing; the report
carries the largest relative difference of the two, entry by entry (every sequence and lag
where the norm is above 1e-30), which is at rounding level.

From the curve of the mean over sequences, ``ḡ_k``:

- ``rate``: ``exp(slope)`` of the least-squares line through ``log ḡ_k`` against ``k``, over
  the lags where ``ḡ_k > 1e-30``: the average factor per step (< 1 vanishing, > 1 exploding);
  0.0 when fewer than two lags are above that floor (the signal died at once);
- ``vanish_lag`` / ``explode_lag``: the first lag where ``ḡ_k / ḡ_0`` falls below 1e-3 /
  rises above 1e3 (None if never within the measured lags);
- ``verdict``: ``"vanishing"`` or ``"exploding"`` by whichever of those lags comes first,
  ``"stable"`` when neither happens.

Inputs: a fresh cell (:func:`measure_cell`) is measured at its initialisation on standard
normal inputs. A trained model's stack (:func:`measure`, with :func:`model_stack` and
:func:`embed`) is measured in evaluation mode (no dropout) on its own data, which
``rnnkit diagnose gradients --run`` picks: for a language model, windows of T tokens at
random places of the validation text; for a classifier, the first T steps of test examples
(validation examples when the run has none) that are at least T steps long. Either way
``E_T`` is the projection above, not the task's loss (a classifier may pool over every step):
what is measured is how far back the stack carries a gradient, not what the task asks of it.
Forecaster runs are not supported (their stack sits inside one of several strategies), nor
are bidirectional stacks (their backward direction never sees a loss at the last step).

Example:
    >>> flow = measure_cell("elman", length=30, hidden_size=16, batch=8, repeats=1)
    >>> flow.name, flow.verdict, round(flow.at(0), 6), flow.reference_error < 1e-10
    ('elman', 'vanishing', 1.0, True)
    >>> 0.0 < flow.rate < 1.0 and flow.vanish_lag is not None
    True
"""

from __future__ import annotations

import contextlib
import copy
import io
import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import Tensor

from rnnkit.atomic import atomic_write_bytes
from rnnkit.config import ConfigError, RecurrentConfig, validate_choice, validate_positive
from rnnkit.layers import Recurrent
from rnnkit.reference import FAMILIES, params_from_torch

__all__ = [
    "CELL_SPECS",
    "DEFAULT_CELLS",
    "EXPLODE_RATIO",
    "FLOOR",
    "VANISH_RATIO",
    "GradientFlow",
    "autograd_norms",
    "build_layer",
    "cell_config",
    "embed",
    "fit_rate",
    "judge",
    "measure",
    "measure_cell",
    "model_stack",
    "plot_gradient_flow",
    "reference_norms",
    "summarize",
]

Verdict = Literal["vanishing", "stable", "exploding"]

# Cell specs by name: RecurrentConfig fields besides the sizes.
CELL_SPECS: dict[str, dict[str, Any]] = {
    "elman": {"cell": "elman"},  # tanh
    "elman-relu": {"cell": "elman", "nonlinearity": "relu"},  # default (uniform) init
    # IRNN (Le, Jaitly & Hinton 2015): ReLU, W_hh = I, zero biases.
    "irnn": {"cell": "elman", "nonlinearity": "relu", "identity_init": True},
    "jordan": {"cell": "jordan"},
    "lstm": {"cell": "lstm"},
    "gru": {"cell": "gru"},
}
# The same names as ``rnnkit diagnose memory``; the default is the five (the ReLU
# Elman net with identity initialisation stands for ReLU).
DEFAULT_CELLS: tuple[str, ...] = ("elman", "irnn", "jordan", "lstm", "gru")

FLOOR = 1e-30
"""Lags whose mean gradient norm is at most this are left out of the rate fit."""
VANISH_RATIO = 1e-3
"""``g_k / g_0`` below this: the signal has vanished."""
EXPLODE_RATIO = 1e3
"""``g_k / g_0`` above this: the signal has exploded."""

# The reference engine's options per family (it reads the rest from the parameter names).
_REFERENCE_OPTIONS = {
    "elman": ("nonlinearity",),
    "jordan": ("nonlinearity", "output_activation"),
    "lstm": (),
    "gru": (),
}


@dataclass(frozen=True, eq=False)
class GradientFlow:
    """The gradient norm ``‖∂E_T/∂h_t‖`` of one stack against the lag ``k = T - t``.

    Attributes:
        name: the cell spec (``"irnn"``) or a description of the model.
        mean: (T,) mean over sequences at lag ``k`` (index ``k``; index 0 is the last step).
        p10: (T,) 10th percentile over sequences.
        p90: (T,) 90th percentile over sequences.
        rate: fitted factor per step, ``exp(slope of log mean against k)``.
        verdict: ``"vanishing"``, ``"stable"`` or ``"exploding"``.
        vanish_lag: first lag where ``mean / mean[0] < 1e-3``, or None.
        explode_lag: first lag where ``mean / mean[0] > 1e3``, or None.
        sequences: how many sequences the statistics are over.
        reference_error: largest relative difference between autograd and the reference
            engine (per sequence), or None when the reference was not run.
        inputs: what the inputs were (``"standard normal"``, ``"validation text"``, ...).
    """

    name: str
    mean: np.ndarray
    p10: np.ndarray
    p90: np.ndarray
    rate: float
    verdict: Verdict
    vanish_lag: int | None
    explode_lag: int | None
    sequences: int
    reference_error: float | None
    inputs: str

    @property
    def length(self) -> int:
        """``T``, the number of steps (lags 0..T-1)."""
        return len(self.mean)

    def at(self, lag: int) -> float:
        """The mean gradient norm at lag ``k`` (0 is the last step)."""
        if not 0 <= lag < self.length:
            raise ValueError(f"lag must be in [0, {self.length - 1}], got {lag}")
        return float(self.mean[lag])

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: the summary numbers, then the curves (lists indexed by lag)."""
        return {
            "name": self.name,
            "length": self.length,
            "sequences": self.sequences,
            "inputs": self.inputs,
            "rate": self.rate,
            "verdict": self.verdict,
            "vanish_lag": self.vanish_lag,
            "explode_lag": self.explode_lag,
            "reference_error": self.reference_error,
            "mean": _finite_or_none(self.mean),
            "p10": _finite_or_none(self.p10),
            "p90": _finite_or_none(self.p90),
        }


# ---- layers ---------------------------------------------------------------------------------


def cell_config(
    cell: str | RecurrentConfig, *, input_size: int, hidden_size: int
) -> RecurrentConfig:
    """The :class:`RecurrentConfig` of a cell spec (a :data:`CELL_SPECS` name), or ``cell``
    itself when it is already a config (its sizes are kept).

    Raises:
        ConfigError: an unknown cell name (the message lists the known ones) or bad sizes.

    Example:
        >>> cfg = cell_config("irnn", input_size=3, hidden_size=4)
        >>> cfg.cell, cfg.nonlinearity, cfg.identity_init
        ('elman', 'relu', True)
    """
    if isinstance(cell, RecurrentConfig):
        return cell
    validate_choice("cell", cell, tuple(CELL_SPECS))
    return RecurrentConfig(input_size=input_size, hidden_size=hidden_size, **CELL_SPECS[cell])


def build_layer(config: RecurrentConfig, *, seed: int = 0) -> Recurrent:
    """A fresh float64 :class:`Recurrent` in evaluation mode, initialised from ``seed``
    (without touching torch's global random state)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        layer = Recurrent.from_config(config)
    return layer.double().eval()


def model_stack(model: Any) -> Recurrent:
    """The recurrent stack of a trained model: ``model.rnn`` (language models, classifiers).

    Raises:
        ConfigError: the model keeps no single stack there (a forecaster's stack sits inside
            one of several strategies and reads windows built by the task; not supported).
    """
    rnn = getattr(model, "rnn", None)
    if not isinstance(rnn, Recurrent):
        raise ConfigError(
            f"a {type(model).__name__} has no recurrent stack at .rnn; gradient flow "
            "supports language-model (lm) and classifier (classify) runs",
            key="run",
        )
    return rnn


def embed(model: Any, inputs: Tensor) -> Tensor:
    """What a language model or classifier feeds its stack, in evaluation mode: the token
    embeddings of ``inputs`` (B, T) int64, or a numeric classifier's input projection of
    ``inputs`` (B, T, F). Returned as float64 (B, T, E), without gradient.

    Raises:
        ConfigError: the model has no embedding (or numeric projection) for these inputs.
    """
    with torch.no_grad():
        if not inputs.is_floating_point():
            embedding = getattr(model, "embedding", None)
            if not isinstance(embedding, torch.nn.Embedding):
                raise ConfigError(f"a {type(model).__name__} has no token embedding", key="run")
            return embedding(inputs).double()
        projection = getattr(model, "projection", None)
        if getattr(model, "embedding", None) is not None or not isinstance(
            projection, torch.nn.Linear
        ):
            raise ConfigError(f"a {type(model).__name__} takes no numeric inputs", key="run")
        return projection(inputs.to(projection.weight.dtype)).double()


def _check_layer(layer: Recurrent) -> None:
    if layer.config.bidirectional:
        raise ConfigError(
            "gradient flow needs a unidirectional stack: the backward direction of a "
            "bidirectional one never sees a loss at the last step",
            key="bidirectional",
        )


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """Torch and BLAS on one thread each, restored after.

    Why: every step multiplies matrices of a few dozen rows, where extra threads only
    synchronise, and torch's OpenMP and NumPy's OpenBLAS threads fight over the cores when
    one process runs both (DESIGN.md). On the 2-core machine, with another process busy,
    the five default cells at T = 100 took 1.5 s this way against 10-11 s with two threads.
    threadpoolctl comes with scikit-learn (a dependency); without it BLAS keeps its threads.
    """
    threads = torch.get_num_threads()
    try:
        from threadpoolctl import threadpool_limits

        blas: contextlib.AbstractContextManager = threadpool_limits(limits=1, user_api="blas")
    except ImportError:  # pragma: no cover - scikit-learn brings it
        blas = contextlib.nullcontext()
    torch.set_num_threads(1)
    try:
        with blas:
            yield
    finally:
        torch.set_num_threads(threads)


def _unit_vector(width: int, seed: int) -> np.ndarray:
    v = np.random.default_rng([seed, 1]).standard_normal(width)
    return v / np.linalg.norm(v)


# ---- the two engines ------------------------------------------------------------------------


def autograd_norms(layer: Recurrent, x: Tensor, v: np.ndarray) -> np.ndarray:
    """``‖∂E_T/∂h_t‖`` by torch autograd, ``E_T = Σ_b v · y_T^(b)``.

    The stack runs step by step through its cells; after every step a zero probe is added to
    each layer's first state field (the state that is carried and read by the layer above),
    so the probe's gradient is the whole gradient reaching that state.

    Shapes:
        x (N, T, I) in the layer's dtype, v (K,) -> (N, T), column ``t`` for ``h_{t+1}``.
    """
    _check_layer(layer)
    cells = list(layer.cells)
    N, T = x.shape[:2]
    width = cells[0].init_state(1)[0].shape[-1]
    probes = x.new_zeros(len(cells), T, N, width, requires_grad=True)  # (L, T, N, K)
    # unbind, not probes[l, t]: indexing inside an autograd loop costs a full-size zero
    # tensor per step in backward (DESIGN.md's pitfall).
    probe = [p.unbind(0) for p in probes.unbind(0)]
    states = [cell.init_state(N) for cell in cells]
    with _one_thread(), torch.enable_grad():
        for t, x_t in enumerate(x.unbind(1)):
            u = x_t
            for k, cell in enumerate(cells):
                _, state = cell(u, states[k])
                state = state._replace(**{state._fields[0]: state[0] + probe[k][t]})
                states[k] = state
                u = state[0]  # the output is the first state field, for every family
        energy = (u * torch.from_numpy(v).to(u)).sum()  # u: the top layer's y_T
        (grad,) = torch.autograd.grad(energy, probes)
    return grad.detach().pow(2).sum(dim=(0, 3)).sqrt().T.cpu().numpy().astype(np.float64)


def reference_norms(layer: Recurrent, x: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``‖∂E_T/∂h_t‖`` from the NumPy reference engine's BPTT (``dh_norm``), layer by layer.

    Each layer's backward gets the gradient of its outputs from the layer above (its ``dx``),
    so its ``dh_norm`` is the whole gradient reaching its state.

    Shapes:
        x (N, T, I) float64, v (K,) -> (N, T).
    """
    _check_layer(layer)
    config = layer.config
    family = FAMILIES[config.cell]
    options = {name: getattr(config, name) for name in _REFERENCE_OPTIONS[config.cell]}
    caches = []
    u = np.asarray(x, dtype=np.float64)
    # An exploding gradient may overflow float64: inf (or NaN from inf * 0) is the answer then.
    with _one_thread(), np.errstate(over="ignore", invalid="ignore"):
        for cell in layer.cells:
            params = {k: a.astype(np.float64) for k, a in params_from_torch(cell).items()}
            u, _, cache = family.forward(params, u, **options)
            caches.append((params, cache))
        dout = np.zeros_like(u)
        dout[:, -1] = v  # E_T = Σ_b v · y_T
        squares = np.zeros(u.shape[:2])
        for params, cache in reversed(caches):
            _, dout, _, _, dh_norm = family.backward(params, cache, dout, per_step=True)
            squares += dh_norm.T**2  # (N, T)
    return np.sqrt(squares)


# ---- the curve, its rate and its verdict ----------------------------------------------------


def fit_rate(curve: np.ndarray, floor: float = FLOOR) -> float:
    """``exp(slope)`` of the least-squares line through ``log curve[k]`` against ``k``,
    over the lags where the curve is finite and above ``floor``; 0.0 with fewer than two.

    Example:
        >>> round(fit_rate(0.8 ** np.arange(50)), 12)
        0.8
        >>> fit_rate(np.array([1.0, 0.0, 0.0]))
        0.0
    """
    curve = np.asarray(curve, dtype=np.float64)
    lags = np.flatnonzero(np.isfinite(curve) & (curve > floor))
    if len(lags) < 2:
        return 0.0
    slope = np.polyfit(lags.astype(np.float64), np.log(curve[lags]), 1)[0]
    return float(np.exp(slope))


def judge(curve: np.ndarray) -> tuple[Verdict, int | None, int | None]:
    """``(verdict, vanish_lag, explode_lag)`` of a curve indexed by lag (see the module
    docstring).

    Example:
        >>> judge(0.5 ** np.arange(20))
        ('vanishing', 10, None)
        >>> judge(1.5 ** np.arange(20))
        ('exploding', None, 18)
        >>> judge(np.ones(20))
        ('stable', None, None)
    """
    curve = np.asarray(curve, dtype=np.float64)
    if not curve[0] > 0:
        return "vanishing", 0, None  # nothing reaches even the last step
    with np.errstate(invalid="ignore", over="ignore"):
        ratio = curve / curve[0]
    below = np.flatnonzero(ratio < VANISH_RATIO)
    above = np.flatnonzero(ratio > EXPLODE_RATIO)
    vanish = int(below[0]) if len(below) else None
    explode = int(above[0]) if len(above) else None
    if vanish is not None and (explode is None or vanish < explode):
        return "vanishing", vanish, explode
    if explode is not None:
        return "exploding", vanish, explode
    return "stable", None, None


def summarize(
    name: str,
    norms: np.ndarray,
    *,
    reference: np.ndarray | None = None,
    inputs: str = "",
) -> GradientFlow:
    """A :class:`GradientFlow` from per-sequence norms (N, T) (column ``t`` for ``h_{t+1}``),
    and optionally the reference engine's (N, T) for the agreement check."""
    by_lag = np.asarray(norms, dtype=np.float64)[:, ::-1]  # column k: lag k
    with np.errstate(invalid="ignore"):  # an exploded (infinite) norm is a value too
        mean = by_lag.mean(axis=0)
        p10, p90 = np.percentile(by_lag, [10, 90], axis=0)
    verdict, vanish, explode = judge(mean)
    error = None if reference is None else _elementwise_error(norms, reference)
    return GradientFlow(
        name=name,
        mean=mean,
        p10=p10,
        p90=p90,
        rate=fit_rate(mean),
        verdict=verdict,
        vanish_lag=vanish,
        explode_lag=explode,
        sequences=len(by_lag),
        reference_error=error,
        inputs=inputs,
    )


# ---- measuring ------------------------------------------------------------------------------


def measure(
    layer: Recurrent,
    x: Tensor,
    *,
    name: str,
    seed: int = 0,
    reference: bool = True,
    inputs: str = "",
) -> GradientFlow:
    """The gradient flow of ``layer`` on inputs ``x``, by autograd (and the reference engine).

    The layer is copied to float64 in evaluation mode (the original is left untouched).

    Args:
        layer: a unidirectional :class:`Recurrent` stack.
        x: inputs (N, T, I), any float dtype; T >= 2.
        name: the name the report carries.
        seed: seed of the loss's direction ``v``.
        reference: also compute ``g`` with the reference engine and report the agreement.
        inputs: what ``x`` is, for the report.

    Raises:
        ConfigError: a bidirectional stack, or fewer than 2 steps.

    Shapes:
        x (N, T, I) -> curves (T,) indexed by lag.
    """
    _check_layer(layer)
    if x.dim() != 3 or x.shape[1] < 2:
        raise ConfigError(f"expected inputs (N, T >= 2, I), got {tuple(x.shape)}", key="length")
    layer = copy.deepcopy(layer).double().eval()
    x = x.detach().double()
    v = _unit_vector(layer.output_size, seed)
    norms = autograd_norms(layer, x, v)
    ref = reference_norms(layer, x.cpu().numpy(), v) if reference else None
    return summarize(name, norms, reference=ref, inputs=inputs)


def measure_cell(
    cell: str | RecurrentConfig,
    *,
    length: int,
    hidden_size: int = 64,
    input_size: int | None = None,
    batch: int = 32,
    repeats: int = 4,
    seed: int = 0,
    reference: bool = True,
) -> GradientFlow:
    """The gradient flow of a fresh layer at its initialisation on standard normal inputs.

    ``repeats`` batches of ``batch`` sequences are drawn; the rows are independent, so they
    run as one batch of ``batch * repeats``. The same ``seed`` gives every cell the same
    inputs.

    Args:
        cell: a :data:`CELL_SPECS` name (``"elman"``, ``"elman-relu"``, ``"irnn"``, ``"jordan"``,
            ``"lstm"``, ``"gru"``) or any unidirectional :class:`RecurrentConfig` (its own
            sizes are then used).
        length: ``T``, at least 2.
        hidden_size: ``H`` for a named cell.
        input_size: ``I`` for a named cell; None means ``hidden_size``.
        batch: sequences per batch.
        repeats: batches.
        seed: seed of the weights, the inputs and the loss's direction.
        reference: also run the reference engine and report the agreement.

    Raises:
        ConfigError: an unknown cell name, ``length < 2``, or a size that is not positive.
    """
    if isinstance(length, bool) or not isinstance(length, int) or length < 2:
        raise ConfigError(f"expected an int of at least 2 steps, got {length!r}", key="length")
    for arg, value in (("batch", batch), ("repeats", repeats), ("hidden_size", hidden_size)):
        validate_positive(arg, value)
    config = cell_config(
        cell,
        input_size=hidden_size if input_size is None else input_size,
        hidden_size=hidden_size,
    )
    layer = build_layer(config, seed=seed)
    rng = np.random.default_rng([seed, 0])
    x = torch.from_numpy(rng.standard_normal((batch * repeats, length, config.input_size)))
    name = cell if isinstance(cell, str) else config.cell
    return measure(layer, x, name=name, seed=seed, reference=reference, inputs="standard normal")


# ---- plot -----------------------------------------------------------------------------------


def plot_gradient_flow(
    flows: Sequence[GradientFlow], path: str | os.PathLike[str], *, title: str = ""
) -> Path:
    """A log-scale PNG of every flow's mean ``‖∂E_T/∂h_t‖`` against the lag, one line per
    flow with its 10-90 percentile band shaded; written atomically.

    Drawn on a bare :class:`matplotlib.figure.Figure` (no pyplot, rendered by Agg), so it
    works on headless machines. Zeros (a gradient that died) and overflows are left off the
    log axis.

    Example:
        >>> import tempfile
        >>> flow = summarize("toy", np.array([[0.5, 1.0], [0.25, 1.0]]))
        >>> with tempfile.TemporaryDirectory() as d:
        ...     plot_gradient_flow([flow], Path(d) / "g.png").read_bytes()[:4]
        b'\\x89PNG'
    """
    from matplotlib.figure import Figure  # imported here: a noticeable fraction of a second

    figure = Figure(figsize=(8, 5), layout="constrained")
    axes = figure.add_subplot()
    axes.set_yscale("log")

    def positive(a: np.ndarray) -> np.ndarray:
        return np.where(np.isfinite(a) & (a > 0), a, np.nan)

    for flow in flows:
        lags = np.arange(flow.length)
        label = f"{flow.name} (x{flow.rate:.3g}/step, {flow.verdict})"
        (line,) = axes.plot(lags, positive(flow.mean), label=label, linewidth=1.5)
        axes.fill_between(
            lags, positive(flow.p10), positive(flow.p90), color=line.get_color(), alpha=0.2
        )
    axes.axhline(VANISH_RATIO, color="grey", linestyle=":", linewidth=1)
    axes.set_xlabel("lag k = T - t (steps back from the loss)")
    axes.set_ylabel("‖∂E_T / ∂h_t‖  (mean, 10-90% band)")
    axes.set_title(title or "gradient flow through time")
    axes.grid(True, which="major", alpha=0.3)
    axes.legend(loc="best", fontsize="small")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return atomic_write_bytes(path, buffer.getvalue())


def _elementwise_error(a: np.ndarray, b: np.ndarray) -> float:
    """``max |a - b| / max(|a|, |b|)`` over the entries where either is above :data:`FLOOR`:
    the two engines agree at every lag, not only where the signal is large. Entries that
    overflowed in both (inf, or NaN from inf * 0) agree; in only one, the error is inf."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if np.any(np.isfinite(a) != np.isfinite(b)):  # one overflowed and the other did not
        return math.inf
    finite = np.isfinite(a)
    scale = np.maximum(np.abs(a), np.abs(b))
    keep = finite & (scale > FLOOR)
    if not keep.any():
        return 0.0
    return float((np.abs(a[keep] - b[keep]) / scale[keep]).max())


def _finite_or_none(values: np.ndarray) -> list[float | None]:
    """JSON has no infinity or NaN: those entries become None."""
    return [float(x) if math.isfinite(x) else None for x in values]
