"""``Forecaster``: a look-back window in, the next ``H`` steps out (many-to-one and delayed
many-to-many forecasting).

A window ``x_1 .. x_L`` (``x_t ∈ R^C``, the target channels first, then covariates) is first
shifted per channel (instance normalisation), a recurrent model forecasts the shifted future,
and the shift is added back:

    s = x_L (``last``, SegRNN/NLinear)  or  s = (1/L) Σ_t x_t (``mean``, RevIN without affine)
    z_t = x_t - s
    ẑ_{L+1} .. ẑ_{L+H} = model(z_1 .. z_L)
    x̂_{L+h} = ẑ_{L+h} + s

Only the location moves: the Gaussian ``σ`` is not rescaled, quantiles shift with the mean.

Four models (``kind``), any rnnkit cell in each:

- ``direct`` (many-to-one): ``o_L = Recurrent(z)``; all ``H`` steps from one linear head,
  ``ẑ = (o_L W_outᵀ + b_out)`` reshaped to (H, C). Bidirectional stacks use the forward
  output at ``L`` next to the backward output at step 1.
- ``seq2seq`` (delayed many-to-many, Sutskever et al. 2014): an encoder reads ``z``; a decoder
  of the same cell starts from its final state and runs ``H`` steps on
  ``u_h = [ẑ_{L+h-1} ; e_h]`` (``ẑ_L = z_L``, the last observation; ``e_h`` a learned step
  embedding); ``ẑ_{L+h} = o_h W_outᵀ + b_out``. It always rolls out its own forecasts, in
  training too (no teacher forcing), so training and use see the same inputs (the exposure
  bias of Bengio et al. 2015 does not arise).
- ``autoregressive`` (output recurrence): one stack reads ``z`` and keeps going,
  ``ẑ_{t+1} = head(o_t)``, next input ``ẑ_{t+1}``. With ``cell="jordan"`` the top cell's own
  output layer is the forecast, ``y_t = h_t W_hyᵀ + b_hy (+ y_{t-1} W_ooᵀ)`` with identity
  ψ and ``output_size`` = the predicted channels, so the forecast fed back as the next input
  is exactly the Jordan (1986) output ``y_t``, which also feeds the cell itself.
- ``segment`` (SegRNN, Lin et al. 2023, arXiv 2308.11200): ``z`` is cut into ``n = ⌈L/w⌉``
  segments of ``w`` steps (left-padded by repeating ``z_1``), each embedded by
  ``ReLU(seg W_eᵀ + b_e) ∈ R^d``; the stack reads the ``n`` embeddings to a final state
  ``h_n``; then parallel multi-step forecasting (PMF): for each of ``M = ⌈H/w⌉`` output
  segments one step of the *same* stack from ``h_n`` on ``[p_m ; c_k]`` (position and channel
  embeddings) gives ``o_m``, and ``ŝeg_m = o_m W_outᵀ + b_out ∈ R^w``; the ``M`` segments are
  concatenated and cropped to ``H``.

Channels. ``channel_independent=True`` runs every target channel as its own univariate
series ``(B*C, L, 1)`` through shared weights (SegRNN, PatchTST: Nie et al. 2023);
covariates are then not read (each channel's forecast depends only on its own history, so
forecasting the covariates would be wasted work); ``segment`` adds a learned channel
embedding. ``channel_independent=False`` reads all ``C_in`` channels per step and forecasts
the ``C_out = num_targets`` target channels jointly (``segment``: a segment is ``w * C_in``
values, the decoder query is the position embedding alone; ``autoregressive``: it must
forecast every input channel to feed them back, and returns the target ones).

Linear skip (``linear_skip``, ``direct`` and ``segment``): a linear map of each target
channel's normalised window is added to the point forecast, and the recurrent model's head
starts at zero,

    ẑ_{L+1..L+H} = z_{1..L} W_skip + b_skip + model(z)         (W_skip: L x H, per channel)

so the forecaster starts as the linear baseline (the forecasting job fits ``W_skip`` in
closed form on the training windows before the first step) and the recurrent model learns
what the linear map misses. The skip map is kept fixed: trained on with the rest at the
recurrent model's rate, the ridge fit's 336 x 720 weights (ETTh1, horizon 720) overfitted:
the training loss fell from 0.57 to 0.43 in six epochs while validation MSE stayed at 1.41-1.45,
and test MSE ended at 0.491 against the fit's own 0.434.

Outputs (``output``): ``point`` (train with MSE), ``gaussian`` (``μ`` and
``σ = softplus(·) + 1e-4``, Gaussian NLL; Nix & Weigend 1994) or ``quantile`` (``Q`` quantiles
trained with the pinball loss, Koenker & Bassett 1978). Quantiles are built around the point
quantile by cumulative softplus increments, so they never cross.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Literal, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.config import (
    ConfigError,
    StackConfig,
    check_field_types,
    validate_choice,
    validate_fraction,
    validate_positive,
)
from rnnkit.layers import Recurrent
from rnnkit.models.pooling import pool
from rnnkit.state import State, map_state

__all__ = [
    "KINDS",
    "NORMALIZATIONS",
    "OUTPUTS",
    "ForecastOutput",
    "Forecaster",
    "ForecasterModelConfig",
    "forecast_loss",
    "prediction_interval",
    "window_shift",
]

Kind = Literal["direct", "seq2seq", "autoregressive", "segment"]
Output = Literal["point", "gaussian", "quantile"]
Normalize = Literal["last", "mean", "none"]
KINDS: tuple[str, ...] = ("direct", "seq2seq", "autoregressive", "segment")
OUTPUTS: tuple[str, ...] = ("point", "gaussian", "quantile")
NORMALIZATIONS: tuple[str, ...] = ("last", "mean", "none")
# Width of the seq2seq decoder's step embedding e_h: it only has to tell H steps apart.
STEP_EMBEDDING_SIZE = 16
MIN_SCALE = 1e-4  # keeps the Gaussian NLL finite when the model grows over-confident
_UNIDIRECTIONAL_KINDS = ("seq2seq", "autoregressive", "segment")


def _default_rnn() -> StackConfig:
    return StackConfig(cell="gru", hidden_size=128)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ForecasterModelConfig:
    """Which forecasting model, its recurrent stack, normalisation and output distribution.

    The number of channels, the look-back ``L`` and the horizon ``H`` come from the data.

    Attributes:
        kind: ``direct``, ``seq2seq``, ``autoregressive`` or ``segment`` (module docstring).
        rnn: The recurrent stack. What it reads is derived by :class:`Forecaster` from the
            kind and the channels; ``seq2seq``,
            ``autoregressive`` and ``segment`` need it unidirectional. For
            ``autoregressive`` with ``cell="jordan"`` the top layer's ``output_size`` and
            ``output_activation`` are set by the model (the forecast, identity); lower layers
            keep the configured ones. Decoders that run one step per call (``seq2seq``,
            ``autoregressive`` after the window) draw a new ``recurrent_dropout`` mask per
            step, not one per sequence.
        segment_length: ``w``, steps per segment (``segment`` only).
        channel_independent: One shared univariate model for every target channel (True),
            or all channels in, all targets out jointly (False).
        normalize: ``last``, ``mean`` or ``none``: what is subtracted from each channel of a
            window and added back to its forecast.
        output: ``point``, ``gaussian`` or ``quantile``.
        quantiles: Levels, strictly increasing in (0, 1) (``quantile`` only). The point
            forecast is the level nearest 0.5 (the median when 0.5 is listed; the lower one
            of two equally near).
        head_dropout: On the vector the head reads (the encoder summary, or each decoder output).
        linear_skip: Add a linear map of each target channel's normalised window to the point
            forecast, fixed, with the recurrent head starting at zero (``direct`` and
            ``segment``; module docstring): the model starts as the linear baseline and
            learns what it misses.

    Raises:
        ConfigError: A value is out of range, or the kind cannot use the stack as given.

    Example:
        >>> cfg = ForecasterModelConfig(kind="direct", output="quantile", quantiles=(0.1, 0.9))
        >>> cfg.rnn.cell, cfg.rnn.hidden_size
        ('gru', 128)
        >>> try:
        ...     ForecasterModelConfig(quantiles=(0.5, 0.2))
        ... except ConfigError as err:
        ...     print(err)
        quantiles: expected strictly increasing levels in (0, 1), got (0.5, 0.2)
    """

    kind: Kind = "segment"
    rnn: StackConfig = dataclasses.field(default_factory=_default_rnn)
    segment_length: int = 24
    channel_independent: bool = True
    normalize: Normalize = "last"
    output: Output = "point"
    quantiles: tuple[float, ...] = (0.05, 0.5, 0.95)
    head_dropout: float = 0.0
    linear_skip: bool = False

    def __post_init__(self) -> None:
        check_field_types(self)
        validate_choice("kind", self.kind, KINDS)
        validate_choice("normalize", self.normalize, NORMALIZATIONS)
        validate_choice("output", self.output, OUTPUTS)
        validate_positive("segment_length", self.segment_length)
        validate_fraction("head_dropout", self.head_dropout)
        _check_levels(self.quantiles)
        self._check_rnn()
        if self.linear_skip and self.kind not in ("direct", "segment"):
            # Their decoders feed their own forecasts back: the skip would have to join every
            # step's output, not only the final forecast.
            raise ConfigError(
                f"linear_skip needs kind 'direct' or 'segment', got {self.kind!r}",
                key="linear_skip",
            )

    def _check_rnn(self) -> None:
        rnn = self.rnn
        if rnn.bidirectional and self.kind in _UNIDIRECTIONAL_KINDS:
            # A decoder continues the encoder's state forward in time; a backward state has
            # no "next step" to continue from.
            raise ConfigError(
                f"kind={self.kind!r} needs a unidirectional stack, got bidirectional=True",
                key="rnn.bidirectional",
            )
        if self.kind != "autoregressive" or rnn.cell != "jordan":
            return
        if self.head_dropout:
            raise ConfigError(
                "kind='autoregressive' with cell='jordan' has no head to drop into (the "
                f"cell's output layer is the forecast); got {self.head_dropout}; use rnn.dropout "
                "or rnn.recurrent_dropout",
                key="head_dropout",
            )
        if rnn.num_layers == 1 and rnn.output_size is not None:
            raise ConfigError(
                "a one-layer jordan stack's output is the forecast, so its size is set by the "
                f"model; leave it None, got {rnn.output_size}",
                key="rnn.output_size",
            )
        if rnn.num_layers == 1 and rnn.output_activation not in ("tanh", "identity"):
            raise ConfigError(
                "a one-layer jordan stack's output is the forecast, which is linear "
                f"('identity'); got {rnn.output_activation!r}",
                key="rnn.output_activation",
            )


def _check_levels(levels: tuple[float, ...]) -> None:
    inside = all(0.0 < q < 1.0 for q in levels)
    increasing = all(a < b for a, b in zip(levels, levels[1:], strict=False))
    if not levels or not inside or not increasing:
        raise ConfigError(
            f"expected strictly increasing levels in (0, 1), got {levels}", key="quantiles"
        )


class ForecastOutput(NamedTuple):
    """A forecast of the target channels.

    Attributes:
        mean: (B, H, C_out) point forecast: the mean, or the point quantile for ``quantile``.
        scale: (B, H, C_out) Gaussian standard deviation > 0 (``gaussian`` only).
        quantiles: (B, H, C_out, Q) increasing along Q (``quantile`` only).
        levels: The Q quantile levels of ``quantiles`` (``quantile`` only); the loss and
            the intervals need them.
    """

    mean: Tensor
    scale: Tensor | None = None
    quantiles: Tensor | None = None
    levels: tuple[float, ...] | None = None


class Forecaster(nn.Module):
    """Forecasts the next ``H`` steps of the target channels from an ``L``-step window.

    Args:
        num_inputs: ``C_in``, channels per step: the targets first, then covariates.
        num_targets: ``C_out``, the first channels of the input, which are forecast.
        lookback: ``L``, steps per input window.
        horizon: ``H``, steps forecast.
        config: The model (see :class:`ForecasterModelConfig` and the module docstring).

    Shapes:
        x (B, L, C_in) -> ForecastOutput: mean (B, H, C_out), scale (B, H, C_out) or None,
        quantiles (B, H, C_out, Q) or None.

    Example:
        >>> _ = torch.manual_seed(0)
        >>> cfg = ForecasterModelConfig(kind="segment", segment_length=4, output="quantile",
        ...     rnn=StackConfig(cell="gru", hidden_size=8))
        >>> model = Forecaster(num_inputs=3, num_targets=2, lookback=10, horizon=6, config=cfg)
        >>> x = torch.randn(5, 10, 3)
        >>> out = model(x)
        >>> tuple(out.mean.shape), tuple(out.quantiles.shape), out.scale is None
        ((5, 6, 2), (5, 6, 2, 3), True)
        >>> bool((out.quantiles.diff(dim=-1) > 0).all())
        True
        >>> shifted = model(x + 10.0)  # "last" normalisation: a level shift moves the forecast
        >>> torch.allclose(shifted.mean, out.mean + 10.0, atol=1e-4)
        True
    """

    def __init__(
        self,
        num_inputs: int,
        num_targets: int,
        lookback: int,
        horizon: int,
        config: ForecasterModelConfig,
    ) -> None:
        super().__init__()
        for name, value in (
            ("num_inputs", num_inputs),
            ("num_targets", num_targets),
            ("lookback", lookback),
            ("horizon", horizon),
        ):
            if not isinstance(value, int) or isinstance(value, bool):
                raise ConfigError(f"expected an int, got {value!r}", key=name)
            validate_positive(name, value)
        if num_targets > num_inputs:
            raise ConfigError(
                f"the targets are the first channels of the input: expected at most "
                f"num_inputs={num_inputs}, got {num_targets}",
                key="num_targets",
            )
        self.config = config
        self.num_inputs, self.num_targets = num_inputs, num_targets
        self.lookback, self.horizon = lookback, horizon
        self.distribution = _Distribution(config.output, config.quantiles)
        self.model = _build(config, num_inputs, num_targets, lookback, horizon, self.distribution)
        self.skip: nn.Linear | None = None
        if config.linear_skip:
            self.skip = nn.Linear(lookback, horizon)  # per channel: (..., L) -> (..., H)
            nn.init.zeros_(self.skip.weight)
            nn.init.zeros_(self.skip.bias)
            self.skip.requires_grad_(False)  # the closed-form fit, kept (module docstring)
            nn.init.zeros_(self.model.head.weight)
            nn.init.zeros_(self.model.head.bias)

    def forward(self, x: Tensor) -> ForecastOutput:
        """The forecast of the window's next ``H`` steps; see the class docstring for shapes."""
        self._check_input(x)
        if self.config.channel_independent:
            x = x[..., : self.num_targets]  # covariates are not read (module docstring)
        shift = window_shift(x, self.config.normalize)  # (B, 1, C)
        z = x - shift
        raw = self._forecast(z)  # (B, H, C', P)
        raw = raw[:, :, : self.num_targets]  # joint autoregressive forecasts covariates too
        if self.skip is not None:
            linear = self.skip(z[..., : self.num_targets].transpose(1, 2)).transpose(1, 2)
            point, size = self.distribution.point, self.distribution.size
            raw = raw + F.pad(linear[..., None], (point, size - point - 1))  # at the point
        return self.distribution(raw, shift[..., : self.num_targets])

    def _forecast(self, z: Tensor) -> Tensor:
        """Raw head outputs (B, H, C', P) for the normalised window z (B, L, C)."""
        if not self.config.channel_independent:
            return self.model(z)
        B, L, C = z.shape
        series = z.transpose(1, 2).reshape(B * C, L, 1)  # one univariate series per channel
        raw = self.model(series)  # (B*C, H, 1, P)
        return raw.view(B, C, self.horizon, -1).transpose(1, 2)  # (B, H, C, P)

    def _check_input(self, x: Tensor) -> None:
        want = (self.lookback, self.num_inputs)
        if not isinstance(x, Tensor) or x.dim() != 3 or tuple(x.shape[1:]) != want:
            shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(
                f"x must be a (batch, lookback={self.lookback}, channels={self.num_inputs}) "
                f"tensor, got {shape}"
            )
        if not x.is_floating_point():
            raise ValueError(f"x must be a float tensor, got {x.dtype}")

    def extra_repr(self) -> str:
        cfg = self.config
        return (
            f"kind={cfg.kind!r}, inputs={self.num_inputs}, targets={self.num_targets}, "
            f"lookback={self.lookback}, horizon={self.horizon}, output={cfg.output!r}, "
            f"channel_independent={cfg.channel_independent}, normalize={cfg.normalize!r}"
        )


def forecast_loss(output: ForecastOutput, target: Tensor) -> Tensor:
    """The training loss of a forecast, averaged over every element.

    - point: ``(1/N) Σ (y - ŷ)²`` (MSE);
    - gaussian: ``(1/N) Σ ½ (log σ² + (y - μ)² / σ²)`` (torch's ``gaussian_nll_loss``,
      without the constant);
    - quantile: ``(1/(N Q)) Σ_τ Σ max(τ (y - q_τ), (τ - 1)(y - q_τ))`` (pinball loss).

    Args:
        output: A :class:`ForecastOutput`.
        target: The observed future of the target channels.

    Shapes:
        target (B, H, C_out), like ``output.mean`` -> scalar.

    Example:
        >>> out = ForecastOutput(torch.zeros(1, 1, 1), quantiles=torch.tensor([[[[0.0, 1.0]]]]),
        ...     levels=(0.1, 0.9))
        >>> round(forecast_loss(out, torch.full((1, 1, 1), 2.0)).item(), 6)  # (0.1*2 + 0.9*1) / 2
        0.55
    """
    if target.shape != output.mean.shape:
        raise ValueError(
            f"target must have the forecast's shape {tuple(output.mean.shape)}, got "
            f"{tuple(target.shape)}"
        )
    if output.quantiles is not None:
        return _pinball(output.quantiles, output.levels, target)
    if output.scale is not None:
        # eps = MIN_SCALE²: the head already keeps σ ≥ MIN_SCALE, so torch's clamp never bites.
        var = output.scale.square()
        return F.gaussian_nll_loss(output.mean, target, var, full=False, eps=MIN_SCALE**2)
    return F.mse_loss(output.mean, target)


def _pinball(quantiles: Tensor, levels: tuple[float, ...] | None, target: Tensor) -> Tensor:
    if levels is None or len(levels) != quantiles.size(-1):
        raise ValueError(
            f"a quantile forecast needs one level per quantile ({quantiles.size(-1)}), got "
            f"levels={levels}"
        )
    tau = quantiles.new_tensor(levels)  # (Q,)
    error = target.unsqueeze(-1) - quantiles  # (B, H, C, Q)
    return torch.maximum(tau * error, (tau - 1) * error).mean()


def prediction_interval(output: ForecastOutput, level: float) -> tuple[Tensor, Tensor] | None:
    """Lower and upper bounds that hold the future with probability ``level`` (central).

    - gaussian: ``μ ± z σ`` with ``z = Φ⁻¹((1 + level) / 2)``;
    - quantile: the bounds are forecast quantiles, so the level is fixed by the configured
      ones: the innermost pair ``q_lo, q_hi`` with ``lo ≤ (1 - level)/2`` and
      ``hi ≥ (1 + level)/2`` (level 0.9 needs quantiles at or below 0.05 and at or above
      0.95); the interval's own level, ``hi - lo``, may be wider than asked;
    - point: None (a point forecast has no spread).

    Args:
        output: A :class:`ForecastOutput`.
        level: In (0, 1), e.g. 0.9.

    Returns:
        ``(lower, upper)``, each (B, H, C_out), or None for a point forecast.

    Raises:
        ConfigError: ``level`` is outside (0, 1), or wider than the quantiles cover.

    Shapes:
        output.mean (B, H, C_out) -> lower, upper (B, H, C_out).

    Example:
        >>> out = ForecastOutput(torch.zeros(1, 1, 1), scale=torch.full((1, 1, 1), 2.0))
        >>> lower, upper = prediction_interval(out, 0.95)
        >>> round(lower.item(), 3), round(upper.item(), 3)
        (-3.92, 3.92)
    """
    if not (isinstance(level, float | int) and 0.0 < level < 1.0):
        raise ConfigError(f"expected a probability in (0, 1), got {level!r}", key="level")
    if output.quantiles is not None:
        return _quantile_interval(output.quantiles, output.levels, level)
    if output.scale is None:
        return None
    unit = torch.tensor(1.0, dtype=torch.float64)
    z = torch.distributions.Normal(0 * unit, unit).icdf(0.5 + level / 2 * unit).item()
    return output.mean - z * output.scale, output.mean + z * output.scale


def _quantile_interval(
    quantiles: Tensor, levels: tuple[float, ...] | None, level: float
) -> tuple[Tensor, Tensor]:
    if levels is None:
        raise ValueError("a quantile forecast needs its levels to give an interval")
    tol = 1e-9  # (1 - 0.9) / 2 is 0.04999999999999999 in floats
    lows = [i for i, q in enumerate(levels) if q <= (1 - level) / 2 + tol]
    highs = [i for i, q in enumerate(levels) if q >= (1 + level) / 2 - tol]
    if not lows or not highs:
        raise ConfigError(
            f"a central {level} interval needs quantiles at or below {(1 - level) / 2:.4g} and "
            f"at or above {(1 + level) / 2:.4g}; the forecast has {levels}",
            key="level",
        )
    return quantiles[..., lows[-1]], quantiles[..., highs[0]]


# ---- normalisation and output distribution ---------------------------------------------------
def window_shift(x: Tensor, how: str) -> Tensor:
    """What instance normalisation subtracts from each channel of each window: x (B, L, C)
    -> (B, 1, C)."""
    if how == "last":
        return x[:, -1:]
    if how == "mean":
        return x.mean(dim=1, keepdim=True)
    return torch.zeros_like(x[:, -1:])


class _Distribution:
    """Turns ``P`` raw head values per forecast element into the output distribution.

    point: P = 1, ``ŷ = r``; gaussian: P = 2, ``μ = r_0``, ``σ = softplus(r_1) + 1e-4``;
    quantile: P = Q, the point quantile ``q_k = r_k`` and its neighbours at cumulative
    softplus distances, ``q_{j+1} = q_j + softplus(r_{j+1})`` above ``k`` and
    ``q_{j-1} = q_j - softplus(r_{j-1})`` below, so quantiles never cross.
    """

    def __init__(self, output: str, levels: tuple[float, ...]) -> None:
        self.output = output
        self.levels = levels if output == "quantile" else None
        self.size = {"point": 1, "gaussian": 2}.get(output, len(levels))
        # Index of the raw value that is the point forecast, also what autoregressive
        # decoders feed back: the mean, or the quantile nearest 0.5 (the lower one on ties).
        self.point = 0 if self.levels is None else _nearest_half(self.levels)

    def __call__(self, raw: Tensor, shift: Tensor) -> ForecastOutput:
        """raw (B, H, C, P), shift (B, 1, C) -> the forecast in the data's units."""
        if self.output == "gaussian":
            scale = F.softplus(raw[..., 1]) + MIN_SCALE
            return ForecastOutput(raw[..., 0] + shift, scale=scale)
        if self.output == "quantile":
            k = self.point
            centre = raw[..., k : k + 1]  # (B, H, C, 1)
            up = F.softplus(raw[..., k + 1 :]).cumsum(-1)
            down = F.softplus(raw[..., :k]).flip(-1).cumsum(-1).flip(-1)
            quantiles = torch.cat([centre - down, centre, centre + up], -1) + shift[..., None]
            return ForecastOutput(quantiles[..., k], quantiles=quantiles, levels=self.levels)
        return ForecastOutput(raw[..., 0] + shift)


def _nearest_half(levels: tuple[float, ...]) -> int:
    return min(range(len(levels)), key=lambda i: (abs(levels[i] - 0.5), i))


# ---- the four models: normalised series (N, L, K) -> raw outputs (N, H, K', P) ----------------
def _build(
    config: ForecasterModelConfig,
    num_inputs: int,
    num_targets: int,
    lookback: int,
    horizon: int,
    distribution: _Distribution,
) -> nn.Module:
    joint = not config.channel_independent
    channels_in = num_inputs if joint else 1
    channels_out = num_targets if joint else 1
    P = distribution.size
    if config.kind == "direct":
        return _Direct(config, channels_in, channels_out, horizon, P)
    if config.kind == "seq2seq":
        return _Seq2Seq(config, channels_in, channels_out, horizon, distribution)
    if config.kind == "autoregressive":
        return _Autoregressive(config, channels_in, horizon, distribution)
    # Channel-independent: one channel per series, and the channel embedding tells them apart.
    channels = None if joint else num_targets
    return _Segment(config, channels_in, channels_out, lookback, horizon, P, channels)


def _stack(rnn: StackConfig, input_size: int, **changes: object) -> Recurrent:
    return Recurrent.from_config(dataclasses.replace(rnn.reading(input_size), **changes))


class _Direct(nn.Module):
    """Many-to-one: the encoder's last output, one linear map to all H steps."""

    def __init__(
        self,
        config: ForecasterModelConfig,
        channels_in: int,
        channels_out: int,
        horizon: int,
        params: int,
    ) -> None:
        super().__init__()
        self.shape = (horizon, channels_out, params)
        self.rnn = _stack(config.rnn, channels_in)
        self.dropout = nn.Dropout(config.head_dropout)
        self.head = nn.Linear(self.rnn.output_size, math.prod(self.shape))

    def forward(self, z: Tensor) -> Tensor:
        outputs, _ = self.rnn(z)  # (N, L, D*K)
        summary = pool(outputs, None, "last", self.rnn.num_directions)  # (N, D*K)
        return self.head(self.dropout(summary)).view(z.size(0), *self.shape)  # (N, H, K', P)


class _Seq2Seq(nn.Module):
    """Encoder-decoder; the decoder rolls out its own point forecasts."""

    def __init__(
        self,
        config: ForecasterModelConfig,
        channels_in: int,
        channels_out: int,
        horizon: int,
        distribution: _Distribution,
    ) -> None:
        super().__init__()
        self.horizon, self.channels_out = horizon, channels_out
        self.point, self.params = distribution.point, distribution.size
        self.encoder = _stack(config.rnn, channels_in)
        self.decoder = _stack(config.rnn, channels_out + STEP_EMBEDDING_SIZE)
        self.steps = nn.Embedding(horizon, STEP_EMBEDDING_SIZE)
        self.dropout = nn.Dropout(config.head_dropout)
        self.head = nn.Linear(self.decoder.output_size, channels_out * self.params)

    def forward(self, z: Tensor) -> Tensor:
        N = z.size(0)
        _, state = self.encoder(z)
        previous = z[:, -1, : self.channels_out]  # ẑ_L = z_L: the targets come first
        raws = []
        for h in range(self.horizon):
            step = self.steps.weight[h].expand(N, -1)  # (N, E)
            u = torch.cat([previous, step], dim=-1)[:, None]  # (N, 1, K' + E)
            out, state = self.decoder(u, state=state)
            raw = self.head(self.dropout(out[:, 0])).view(N, self.channels_out, self.params)
            raws.append(raw)
            previous = raw[..., self.point]  # no teacher forcing: its own forecast
        return torch.stack(raws, dim=1)  # (N, H, K', P)


class _Autoregressive(nn.Module):
    """One stack over the window and on into the future, each forecast its next input.

    For Jordan cells the top layer is a separate one-layer Jordan stack whose output
    (``output_size = K * P``, identity) is the forecast itself; the configured layers below
    it keep their own output size, which is what gives a deep Jordan stack a memory wider
    than the forecast (a one-layer Jordan cell remembers only its previous output).
    """

    def __init__(
        self,
        config: ForecasterModelConfig,
        channels: int,
        horizon: int,
        distribution: _Distribution,
    ) -> None:
        super().__init__()
        rnn = config.rnn
        self.horizon, self.channels = horizon, channels
        self.point, self.params = distribution.point, distribution.size
        self.between = rnn.dropout  # between the lower stack and the Jordan top layer
        self.jordan = rnn.cell == "jordan"
        if not self.jordan:
            self.layers = nn.ModuleList([_stack(rnn, channels)])
            self.dropout = nn.Dropout(config.head_dropout)
            self.head = nn.Linear(self.layers[0].output_size, channels * self.params)
            return
        layers = []
        if rnn.num_layers > 1:
            layers.append(_stack(rnn, channels, num_layers=rnn.num_layers - 1))
        top_input = layers[0].output_size if layers else channels
        top = _stack(
            rnn,
            top_input,
            num_layers=1,
            dropout=0.0,
            output_size=channels * self.params,
            output_activation="identity",
        )
        self.layers = nn.ModuleList([*layers, top])

    def forward(self, z: Tensor) -> Tensor:
        N = z.size(0)
        outputs, state = self._run(z, None)  # read the window: (N, L, W)
        raws = [self._raw(outputs[:, -1])]  # o_L forecasts step L+1
        for _ in range(self.horizon - 1):
            x = raws[-1][..., self.point][:, None]  # (N, 1, K): the forecast is the next input
            out, state = self._run(x, state)
            raws.append(self._raw(out[:, 0]))
        return torch.stack(raws, dim=1).view(N, self.horizon, self.channels, self.params)

    def _run(self, x: Tensor, states: list[State] | None) -> tuple[Tensor, list[State]]:
        finals = []
        for i, layer in enumerate(self.layers):
            if i and self.between:
                x = F.dropout(x, self.between, self.training)
            x, final = layer(x, state=None if states is None else states[i])
            finals.append(final)
        return x, finals

    def _raw(self, o: Tensor) -> Tensor:
        """(N, W) -> (N, K, P); a Jordan output already is the forecast."""
        if not self.jordan:
            o = self.head(self.dropout(o))
        return o.view(-1, self.channels, self.params)


class _Segment(nn.Module):
    """SegRNN: segment embeddings in, parallel multi-step forecasting (PMF) out.

    Encoder and decoder share one stack, as in SegRNN's reference code: the decoder is one
    more step of the same recurrence, taken ``M`` times in parallel from the final state.
    """

    def __init__(
        self,
        config: ForecasterModelConfig,
        channels_in: int,
        channels_out: int,
        lookback: int,
        horizon: int,
        params: int,
        channels: int | None,
    ) -> None:
        super().__init__()
        w, d = config.segment_length, config.rnn.hidden_size
        self.w, self.horizon, self.channels = w, horizon, channels
        self.segments_in = math.ceil(lookback / w)  # n
        self.segments_out = math.ceil(horizon / w)  # M
        self.pad = self.segments_in * w - lookback
        self.shape = (channels_out, params)
        self.embed = nn.Sequential(nn.Linear(w * channels_in, d), nn.ReLU())
        self.rnn = _stack(config.rnn, d)
        # SegRNN: the query is [position (d/2) ; channel (d/2)], both N(0, 1) at init; a joint
        # model has no channel to name, so its position embedding takes all d.
        position = d if channels is None else d // 2
        self.position = nn.Parameter(torch.randn(self.segments_out, position))
        self.channel = (
            None if channels is None else nn.Parameter(torch.randn(channels, d - position))
        )
        self.dropout = nn.Dropout(config.head_dropout)
        self.head = nn.Linear(self.rnn.output_size, w * channels_out * params)

    def forward(self, z: Tensor) -> Tensor:
        N, _, K = z.shape
        if self.pad:  # repeat the first value so that w divides the window
            z = torch.cat([z[:, :1].expand(N, self.pad, K), z], dim=1)
        segments = z.reshape(N, self.segments_in, self.w * K)  # (N, n, w*K)
        _, state = self.rnn(self.embed(segments))  # fields (layers, N, S)
        M = self.segments_out
        state = map_state(lambda s: s.repeat_interleave(M, dim=1), state)  # (layers, N*M, S)
        out, _ = self.rnn(self._queries(N, z), state=state)  # (N*M, 1, W)
        raw = self.head(self.dropout(out[:, 0]))  # (N*M, w*K'*P)
        return raw.view(N, M * self.w, *self.shape)[:, : self.horizon]  # (N, H, K', P)

    def _queries(self, N: int, z: Tensor) -> Tensor:
        """Decoder inputs: (N*M, 1, d), segment m of series n at row n*M + m."""
        M = self.segments_out
        query = self.position.expand(N, M, -1)  # (N, M, d or d/2)
        if self.channel is not None:
            # series n is channel n % C: Forecaster flattens (B, C) batch-major
            ids = torch.arange(N, device=z.device) % self.channels
            channel = self.channel[ids][:, None].expand(N, M, -1)  # (N, M, d - d/2)
            query = torch.cat([query, channel], dim=-1)
        return query.reshape(N * M, 1, -1)
