"""Forecaster: shapes over the whole matrix, normalisation, channel handling, the Jordan
output recurrence, losses and intervals against hand-computed values, and learning a sine."""

from __future__ import annotations

import functools
import math

import pytest
import torch

from rnnkit.config import ConfigError, RecurrentConfig, StackConfig, from_dict, to_dict
from rnnkit.models.forecaster import (
    KINDS,
    OUTPUTS,
    Forecaster,
    ForecasterModelConfig,
    ForecastOutput,
    forecast_loss,
    prediction_interval,
)

CELLS = [
    {"cell": "gru"},
    {"cell": "lstm"},
    {"cell": "elman"},
    {"cell": "jordan"},
]
# Deeper and optioned stacks, on top of the plain cells.
STACKS = [
    {"cell": "lstm", "num_layers": 2, "layer_norm": True},
    {"cell": "jordan", "num_layers": 2, "feedback": "both"},
    {"cell": "elman", "nonlinearity": "relu", "recurrent_dropout": 0.1},
]
L, H, W = 7, 5, 3  # W divides neither L nor H


def _ids(rnn: dict) -> str:
    return "-".join(str(v) for v in rnn.values())


def _model(
    kind: str,
    *,
    inputs: int = 3,
    targets: int = 2,
    lookback: int = L,
    horizon: int = H,
    hidden: int = 6,
    seed: int = 0,
    **changes,
) -> Forecaster:
    torch.manual_seed(seed)
    rnn = {"cell": "gru", **changes.pop("rnn", {})}
    config = ForecasterModelConfig(
        kind=kind,
        rnn=StackConfig(hidden_size=hidden, **rnn),
        segment_length=W,
        **changes,
    )
    return Forecaster(inputs, targets, lookback, horizon, config)


# ---- shapes, every kind x output x channel mode x cell ---------------------------------------
@pytest.mark.parametrize("rnn", CELLS + STACKS, ids=_ids)
@pytest.mark.parametrize("independent", [True, False], ids=["independent", "joint"])
@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_output_and_cell_forecasts_and_trains(kind, output, independent, rnn):
    model = _model(kind, output=output, channel_independent=independent, rnn=rnn)
    x = torch.randn(4, L, 3)
    out = model(x)
    assert out.mean.shape == (4, H, 2)
    assert out.mean.isfinite().all()
    if output == "gaussian":
        assert out.scale.shape == (4, H, 2) and out.scale.gt(0).all()
    else:
        assert out.scale is None
    if output == "quantile":
        assert out.quantiles.shape == (4, H, 2, 3) and out.levels == (0.05, 0.5, 0.95)
        assert out.quantiles.diff(dim=-1).gt(0).all()
        torch.testing.assert_close(out.mean, out.quantiles[..., 1])
    else:
        assert out.quantiles is None and out.levels is None
    forecast_loss(out, torch.randn(4, H, 2)).backward()
    # Every parameter reaches the loss (no dead embedding, no unused head).
    dead = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.any()]
    assert not dead


def test_bidirectional_direct_model_reads_both_ends():
    model = _model("direct", rnn={"bidirectional": True}).double()
    x = torch.randn(2, L, 3, dtype=torch.double, requires_grad=True)
    model(x).mean.sum().backward()
    # "last" normalisation zeroes the gradient through step L's own value; the backward
    # direction's summary is its output at step 1, so step 1 must matter.
    assert x.grad[:, 0].abs().sum() > 0
    assert model.model.head.in_features == 2 * 6


def test_segment_pads_the_window_and_crops_the_forecast():
    model = _model("segment", lookback=10, horizon=4)
    seg = model.model
    assert (seg.segments_in, seg.pad, seg.segments_out) == (4, 2, 2)  # 10 -> 12 = 4*3; 4 -> 6
    assert model(torch.randn(3, 10, 3)).mean.shape == (3, 4, 2)


# ---- instance normalisation -----------------------------------------------------------------
@pytest.mark.parametrize("independent", [True, False], ids=["independent", "joint"])
@pytest.mark.parametrize("output", ["gaussian", "quantile"])
@pytest.mark.parametrize("normalize", ["last", "mean"])
@pytest.mark.parametrize("kind", KINDS)
def test_a_level_shift_of_the_window_shifts_the_forecast_by_the_same_amount(
    kind, normalize, output, independent
):
    model = _model(
        kind, normalize=normalize, output=output, channel_independent=independent
    ).double()
    x = torch.randn(3, L, 3, dtype=torch.double)
    c = torch.tensor([3.7, -1.2, 0.5], dtype=torch.double)  # one constant per channel
    base, moved = model(x), model(x + c)
    torch.testing.assert_close(moved.mean, base.mean + c[:2], atol=1e-5, rtol=0)
    if output == "gaussian":  # only the location moves; the spread is not rescaled
        torch.testing.assert_close(moved.scale, base.scale, atol=1e-9, rtol=0)
    else:
        torch.testing.assert_close(moved.quantiles, base.quantiles + c[:2, None], atol=1e-5, rtol=0)


@pytest.mark.parametrize("kind", KINDS)
def test_without_normalisation_a_level_shift_is_not_simply_passed_through(kind):
    model = _model(kind, normalize="none").double()
    x = torch.randn(3, L, 3, dtype=torch.double)
    moved = model(x + 3.7).mean - 3.7
    assert (moved - model(x).mean).abs().max() > 1e-3


def test_mean_normalisation_subtracts_the_window_mean_and_adds_it_back():
    # A constant window is all zeros once normalised, so every window of constant channels
    # forecasts (its constant + the forecast of the zero window).
    model = _model("direct", normalize="mean").double()
    zero = model(torch.zeros(1, L, 3, dtype=torch.double)).mean
    levels = torch.tensor([2.0, -5.0, 9.0], dtype=torch.double)
    flat = model(levels.expand(1, L, 3)).mean
    torch.testing.assert_close(flat, zero + levels[:2], atol=1e-12, rtol=0)


# ---- channels -------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["direct", "seq2seq", "autoregressive"])
def test_channel_independent_model_forecasts_each_channel_alone(kind):
    model = _model(kind, output="quantile").double().eval()
    single = Forecaster(1, 1, L, H, model.config).double().eval()
    single.load_state_dict(model.state_dict())  # the same shared weights fit any channel count
    x = torch.randn(3, L, 3, dtype=torch.double)
    out = model(x)
    for c in range(2):
        alone = single(x[..., c : c + 1])
        torch.testing.assert_close(out.quantiles[:, :, c], alone.quantiles[:, :, 0])


@pytest.mark.parametrize("kind", KINDS)
def test_covariates_matter_only_to_joint_models(kind):
    x = torch.randn(3, L, 3, dtype=torch.double)
    other = x.clone()
    other[..., 2] = torch.randn(3, L, dtype=torch.double)  # channel 2 is the covariate
    independent = _model(kind).double()
    torch.testing.assert_close(independent(other).mean, independent(x).mean)
    joint = _model(kind, channel_independent=False).double()
    assert (joint(other).mean - joint(x).mean).abs().max() > 1e-6


def test_segment_channel_embedding_tells_channels_apart():
    model = _model("segment").double()
    x = torch.randn(3, L, 1, dtype=torch.double).expand(3, L, 3)  # the same series everywhere
    out = model(x).mean
    assert (out[..., 0] - out[..., 1]).abs().max() > 1e-6
    model.model.channel.data[1] = model.model.channel.data[0]
    out = model(x).mean
    torch.testing.assert_close(out[..., 0], out[..., 1])


# ---- the Jordan output recurrence -----------------------------------------------------------
@pytest.mark.parametrize("layers", [1, 2])
def test_jordan_autoregressive_feeds_its_own_output_back_as_the_next_input(layers):
    rnn = {"cell": "jordan", "num_layers": layers, "feedback": "both"}
    model = _model("autoregressive", inputs=1, targets=1, normalize="none", rnn=rnn).double()
    *lower, top = model.model.layers
    cell = top.cells[0]
    assert (cell.output_size, cell.output_activation) == (1, "identity")
    x = torch.randn(2, L, 1, dtype=torch.double)
    forecast = model(x).mean  # (2, H, 1)

    # Replay by hand: read the window, then each forecast y_t is the next input x_{t+1}, and
    # the top cell's state is that same y_t.
    def step(inputs, states):
        finals = []
        for layer, state in zip([*lower, top], states, strict=True):
            inputs, final = layer(inputs, state=state)
            finals.append(final)
        return inputs, finals

    out, states = step(x, [None] * layers)
    expected = [out[:, -1]]
    for _ in range(H - 1):
        assert torch.equal(states[-1].y[0], expected[-1])  # the state is the output
        out, states = step(expected[-1][:, None], states)
        expected.append(out[:, 0])
    torch.testing.assert_close(forecast, torch.stack(expected, dim=1), atol=1e-12, rtol=0)
    # Feeding the last observation instead (no output recurrence) gives another forecast.
    _, states = step(x, [None] * layers)
    out, _ = step(x[:, -1:], states)
    assert (out[:, 0] - forecast[:, 1]).abs().max() > 1e-6


def test_jordan_autoregressive_probabilistic_output_is_the_cells_output_layer():
    rnn = {"cell": "jordan"}
    model = _model("autoregressive", output="gaussian", channel_independent=False, rnn=rnn).double()
    # Joint: forecasts all 3 channels (to feed them back) with (mean, raw scale) each.
    assert model.model.layers[-1].cells[0].output_size == 3 * 2
    assert not hasattr(model.model, "head")
    out = model(torch.randn(2, L, 3, dtype=torch.double))
    assert out.mean.shape == (2, H, 2) and out.scale.gt(0).all()


# ---- output distributions ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("levels", "point"), [((0.1, 0.3, 0.8, 0.9), 1), ((0.25, 0.75), 0), ((0.2, 0.5, 0.6), 1)]
)
def test_the_point_forecast_is_the_quantile_nearest_the_median(levels, point):
    model = _model("direct", output="quantile", quantiles=levels)
    with torch.no_grad():
        model.model.head.bias.normal_(0, 5)  # large raw values: still no crossing
    out = model(torch.randn(5, L, 3))
    assert out.quantiles.shape[-1] == len(levels) and out.levels == levels
    assert out.quantiles.diff(dim=-1).gt(0).all()
    torch.testing.assert_close(out.mean, out.quantiles[..., point])


def test_forecast_loss_matches_hand_computed_values():
    mean = torch.tensor([[[1.0], [2.0]]])  # (1, 2, 1)
    target = torch.tensor([[[0.0], [4.0]]])
    assert forecast_loss(ForecastOutput(mean), target).item() == pytest.approx(2.5)  # (1+4)/2

    q = torch.tensor([0.0, 1.0, 2.0]).view(1, 1, 1, 3)
    out = ForecastOutput(torch.ones(1, 1, 1), quantiles=q, levels=(0.1, 0.5, 0.9))
    # y = 1.5: errors 1.5, 0.5, -0.5 -> 0.1*1.5, 0.5*0.5, (0.9-1)*(-0.5) = 0.15, 0.25, 0.05
    loss = forecast_loss(out, torch.full((1, 1, 1), 1.5))
    assert loss.item() == pytest.approx((0.15 + 0.25 + 0.05) / 3)

    mu, sigma = torch.tensor([[[0.0], [1.0]]]), torch.tensor([[[2.0], [0.5]]])
    y = torch.tensor([[[1.0], [0.0]]])
    nll = forecast_loss(ForecastOutput(mu, scale=sigma), y)
    by_hand = (0.5 * (math.log(4.0) + 1 / 4) + 0.5 * (math.log(0.25) + 1 / 0.25)) / 2
    assert nll.item() == pytest.approx(by_hand)
    torch_nll = torch.nn.functional.gaussian_nll_loss(mu, y, sigma**2)
    torch.testing.assert_close(nll, torch_nll)
    with pytest.raises(ValueError, match="forecast's shape"):
        forecast_loss(ForecastOutput(mean), target[:, :1])


def test_prediction_intervals():
    mean, scale = torch.full((1, 1, 1), 1.0), torch.full((1, 1, 1), 2.0)
    lower, upper = prediction_interval(ForecastOutput(mean, scale=scale), 0.9)
    z = 1.6448536269514722  # Φ⁻¹(0.95)
    assert lower.item() == pytest.approx(1 - 2 * z) and upper.item() == pytest.approx(1 + 2 * z)

    levels = (0.05, 0.1, 0.5, 0.9, 0.95)
    q = torch.arange(5.0).view(1, 1, 1, 5)
    out = ForecastOutput(q[..., 2], quantiles=q, levels=levels)
    assert [t.item() for t in prediction_interval(out, 0.8)] == [1.0, 3.0]  # 0.1 .. 0.9
    assert [t.item() for t in prediction_interval(out, 0.5)] == [1.0, 3.0]  # innermost cover
    assert [t.item() for t in prediction_interval(out, 0.9)] == [0.0, 4.0]
    with pytest.raises(ConfigError, match="at or below 0.025"):
        prediction_interval(out, 0.95)
    assert prediction_interval(ForecastOutput(mean), 0.9) is None
    with pytest.raises(ConfigError, match="level"):
        prediction_interval(ForecastOutput(mean, scale=scale), 1.0)


# ---- config ---------------------------------------------------------------------------------
def _rnn(**changes) -> RecurrentConfig:
    return StackConfig(**{"hidden_size": 4, **changes})


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"kind": "transformer"}, "kind"),
        ({"quantiles": (0.5, 0.2)}, "quantiles"),
        ({"quantiles": (0.1, 0.1)}, "quantiles"),
        ({"quantiles": (0.5, 1.0)}, "quantiles"),
        ({"quantiles": ()}, "quantiles"),
        ({"segment_length": 0}, "segment_length"),
        ({"normalize": "revin"}, "normalize"),
        ({"output": "mixture"}, "output"),
        ({"head_dropout": 1.0}, "head_dropout"),
        ({"channel_independent": 1}, "channel_independent"),
        ({"kind": "seq2seq", "rnn": _rnn(bidirectional=True)}, "rnn.bidirectional"),
        ({"kind": "segment", "rnn": _rnn(bidirectional=True)}, "rnn.bidirectional"),
        (
            {"kind": "autoregressive", "head_dropout": 0.1, "rnn": _rnn(cell="jordan")},
            "head_dropout",
        ),
        ({"kind": "autoregressive", "rnn": _rnn(cell="jordan", output_size=2)}, "rnn.output_size"),
        (
            {"kind": "autoregressive", "rnn": _rnn(cell="jordan", output_activation="sigmoid")},
            "rnn.output_activation",
        ),
    ],
)
def test_bad_config_values_are_config_errors_naming_the_field(changes, key):
    with pytest.raises(ConfigError) as err:
        ForecasterModelConfig(**changes)
    assert err.value.key == key


def test_config_round_trips_and_model_arguments_are_checked():
    cfg = ForecasterModelConfig(kind="seq2seq", output="quantile", quantiles=(0.1, 0.9))
    assert from_dict(ForecasterModelConfig, to_dict(cfg)) == cfg
    assert cfg.rnn.cell == "gru" and cfg.rnn.hidden_size == 128 and not cfg.rnn.bidirectional
    with pytest.raises(ConfigError, match="num_targets"):
        Forecaster(2, 3, L, H, cfg)
    with pytest.raises(ConfigError, match="horizon"):
        Forecaster(2, 1, L, 0, cfg)
    model = _model("direct")
    with pytest.raises(ValueError, match="lookback=7, channels=3"):
        model(torch.randn(2, L + 1, 3))


# ---- learning -------------------------------------------------------------------------------
@functools.cache
def _sine_windows(lookback: int = 40, horizon: int = 10) -> tuple[torch.Tensor, ...]:
    """Train and held-out windows of a noisy sine (period 20, noise 0.1); no overlap."""
    g = torch.Generator().manual_seed(0)
    t = torch.arange(1200, dtype=torch.float32)
    series = torch.sin(2 * math.pi * t / 20) + 0.1 * torch.randn(1200, generator=g)
    windows = series.unfold(0, lookback + horizon, 1)[..., None]  # (n, L+H, 1)
    split = int(0.7 * len(windows))
    train, test = windows[:split], windows[split + lookback + horizon :]
    return train[:, :lookback], train[:, lookback:], test[:, :lookback], test[:, lookback:]


@pytest.mark.parametrize(
    ("kind", "rnn", "lr", "bound"),
    [
        ("direct", {"cell": "gru"}, 1e-2, 0.1),
        ("seq2seq", {"cell": "gru"}, 1e-2, 0.1),
        ("autoregressive", {"cell": "gru"}, 1e-2, 0.1),
        ("segment", {"cell": "gru"}, 1e-2, 0.1),
        # A one-layer Jordan stack remembers only its last forecast (a scalar here), too
        # little to place a sine's phase; the lower Jordan layer gives it a 32-wide memory.
        ("autoregressive", {"cell": "jordan", "num_layers": 2, "feedback": "both"}, 3e-3, 0.5),
    ],
    ids=["direct", "seq2seq", "autoregressive", "segment", "autoregressive-jordan"],
)
def test_each_kind_learns_a_noisy_sine_far_better_than_the_last_value(kind, rnn, lr, bound):
    x, y, x_test, y_test = _sine_windows()
    torch.manual_seed(0)
    config = ForecasterModelConfig(
        kind=kind, segment_length=8, rnn=StackConfig(hidden_size=32, **rnn)
    )
    model = Forecaster(1, 1, 40, 10, config)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(1)
    steps = 300 if rnn["cell"] == "jordan" else 200
    for _ in range(steps):
        batch = torch.randint(0, len(x), (64,), generator=g)
        loss = forecast_loss(model(x[batch]), y[batch])
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # Pascanu et al. 2013
        optimizer.step()
    model.eval()
    with torch.no_grad():
        mse = (model(x_test).mean - y_test).square().mean().item()
    naive = (x_test[:, -1:] - y_test).square().mean().item()  # about 1.13
    assert mse < bound * naive
