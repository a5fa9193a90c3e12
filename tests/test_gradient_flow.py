"""Vanishing and exploding gradients: `rnnkit diagnose gradients`, its library side
(rnnkit.diagnostics.gradient_flow), and the training-time warning (rnnkit.training.grad_health)."""

from __future__ import annotations

import csv
import io
import json
import math
import random

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from torch import nn

import rnnkit
from rnnkit.cli import main
from rnnkit.cli.info import _describe
from rnnkit.config import ConfigError, RecurrentConfig, StackConfig
from rnnkit.diagnostics import gradient_flow as gf
from rnnkit.training import StreamTrainConfig, TrainConfig, fit, seed_everything
from rnnkit.training.grad_health import (
    JUMP,
    TINY,
    WINDOW,
    GradientWatch,
    gradient_warning,
)
from rnnkit.training.progress import LogProgress
from rnnkit.training.rundir import RunDir
from rnnkit.training.summary import summarize_run
from training_cases import SignClassifier, SignTask


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """The tiny models here train faster on one thread than on two busy cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# ---- autograd == reference engine -----------------------------------------------------------

FAMILIES = [
    ("elman", {}),
    ("elman", {"nonlinearity": "relu", "identity_init": True}),
    ("jordan", {"feedback": "both", "output_activation": "softmax", "output_size": 3}),
    ("jordan", {"nonlinearity": "relu", "output_activation": "identity"}),
    ("lstm", {}),
    ("lstm", {"peephole": True, "layer_norm": True}),
    ("gru", {}),
    ("gru", {"layer_norm": True}),
]


def _layer(cell: str, num_layers: int = 1, seed: int = 0, **options) -> rnnkit.Recurrent:
    config = RecurrentConfig(
        cell=cell, input_size=3, hidden_size=6, num_layers=num_layers, **options
    )
    layer = gf.build_layer(config, seed=seed)
    with torch.no_grad():  # larger than the init, so the curves are not all alike
        for p in layer.parameters():
            p.mul_(2.0)
    return layer


@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize(("cell", "options"), FAMILIES)
def test_autograd_and_the_reference_engine_agree(cell, options, num_layers):
    layer = _layer(cell, num_layers, **options)
    x = torch.from_numpy(np.random.default_rng(1).standard_normal((4, 15, 3)))
    v = gf._unit_vector(layer.output_size, 0)
    ours = gf.autograd_norms(layer, x, v)
    theirs = gf.reference_norms(layer, x.numpy(), v)
    assert ours.shape == theirs.shape == (4, 15)
    assert ours.min() > 0  # a nonzero signal at every step
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=0)
    if num_layers == 1:  # ‖v‖ = 1 reaches the last state unchanged
        np.testing.assert_allclose(ours[:, -1], 1.0, rtol=1e-12)
    flow = gf.measure(layer, x, name="x")
    assert flow.reference_error is not None and flow.reference_error < 1e-9
    np.testing.assert_allclose(flow.mean, ours[:, ::-1].mean(axis=0), rtol=1e-12)


def test_measure_leaves_the_layer_and_torch_threads_alone():
    layer = rnnkit.Recurrent("gru", input_size=3, hidden_size=4).train()
    before = {k: v.clone() for k, v in layer.state_dict().items()}
    threads = torch.get_num_threads()
    gf.measure(layer, torch.randn(2, 5, 3), name="gru")
    assert layer.training and threads == torch.get_num_threads()
    assert next(layer.parameters()).dtype == torch.float32
    assert all(torch.equal(before[k], v) for k, v in layer.state_dict().items())


# ---- the textbook case: W_hh = a·I, tanh' = 1 at every step ---------------------------------


def _scaled_identity(a: float, hidden: int = 5) -> rnnkit.Recurrent:
    """A tanh Elman layer with W_hh = a·I and zero input weights and biases: from h_0 = 0
    every h_t is 0, so ∂h_t/∂h_{t-1} = a·I exactly and g at lag k is a^k."""
    layer = rnnkit.Recurrent("elman", input_size=3, hidden_size=hidden).double()
    with torch.no_grad():
        for name, p in layer.cells[0].named_parameters():
            eye = torch.eye(hidden, dtype=torch.float64)  # float64: a = 0.9 exactly
            p.copy_(a * eye if name == "weight_hh" else torch.zeros_like(p))
    return layer


@pytest.mark.parametrize(("a", "vanish_lag"), [(0.5, 10), (0.9, 66)])
def test_the_decay_per_step_of_a_scaled_identity_is_a(a, vanish_lag):
    x = torch.from_numpy(np.random.default_rng(0).standard_normal((3, 100, 3)))
    flow = gf.measure(_scaled_identity(a), x, name=f"a={a}")
    assert abs(flow.rate - a) < 1e-9
    np.testing.assert_allclose(flow.mean, a ** np.arange(100), rtol=1e-9)
    np.testing.assert_allclose(flow.p10, flow.p90, rtol=1e-9)  # every sequence alike
    assert (flow.verdict, flow.vanish_lag, flow.explode_lag) == ("vanishing", vanish_lag, None)
    assert a**vanish_lag < gf.VANISH_RATIO <= a ** (vanish_lag - 1)


def test_a_scaled_identity_above_one_explodes():
    x = torch.zeros(2, 100, 3, dtype=torch.float64)
    flow = gf.measure(_scaled_identity(1.1), x, name="a=1.1")
    assert abs(flow.rate - 1.1) < 1e-9
    assert (flow.verdict, flow.vanish_lag, flow.explode_lag) == ("exploding", None, 73)
    assert 1.1**73 > gf.EXPLODE_RATIO >= 1.1**72
    short = gf.measure(_scaled_identity(1.1), x[:, :50], name="a=1.1, T=50")
    assert short.verdict == "stable"  # 1.1^49 ≈ 107: not yet 1e3 within 50 steps
    # 1e3^k overflows float64 beyond k = 102 in both engines alike; JSON stays valid
    huge = gf.measure(_scaled_identity(1e3), x[:, :120], name="a=1e3")
    assert (huge.verdict, huge.explode_lag) == ("exploding", 2) and huge.reference_error < 1e-12
    assert abs(huge.rate - 1e3) < 1e-6 * 1e3 and not np.isfinite(huge.mean[-1])
    assert json.loads(json.dumps(huge.to_dict(), allow_nan=False))["mean"][-1] is None


# ---- rate and verdicts on constructed curves ------------------------------------------------


def test_fit_rate_is_least_squares_over_the_lags_above_the_floor():
    assert abs(gf.fit_rate(0.7 ** np.arange(40)) - 0.7) < 1e-12
    curve = np.concatenate([0.5 ** np.arange(10), np.zeros(5)])  # the zeros are left out
    assert abs(gf.fit_rate(curve) - 0.5) < 1e-12
    assert abs(gf.fit_rate(np.array([1.0, 1e-40, 1e-80, 0.5])) - 0.5 ** (1 / 3)) < 1e-12
    assert gf.fit_rate(np.array([1.0, 0.0, np.nan])) == 0.0
    noisy = 0.8 ** np.arange(30) * np.exp(np.random.default_rng(0).normal(0, 0.05, 30))
    assert abs(gf.fit_rate(noisy) - 0.8) < 0.01


@pytest.mark.parametrize(
    ("curve", "expected"),
    [
        (0.5 ** np.arange(30), ("vanishing", 10, None)),
        (np.r_[np.ones(20), 1e-4 * np.ones(5)], ("vanishing", 20, None)),
        (np.r_[1.0, 0.0, 0.0], ("vanishing", 1, None)),
        (np.zeros(4), ("vanishing", 0, None)),
        (2.0 ** np.arange(30), ("exploding", None, 10)),
        (np.r_[1.0, np.inf], ("exploding", None, 1)),
        (np.r_[1.0, 1e4, 1e-4], ("exploding", 2, 1)),  # whichever comes first
        (np.r_[1.0, 1e-4, 1e4], ("vanishing", 1, 2)),
        (np.ones(50), ("stable", None, None)),
        (0.99 ** np.arange(100), ("stable", None, None)),
        (np.r_[1.0, 2e-3, 900.0], ("stable", None, None)),
    ],
)
def test_verdicts(curve, expected):
    assert gf.judge(curve) == expected


def test_summarize_takes_the_mean_and_spread_by_lag():
    norms = np.array([[0.25, 0.5, 1.0], [0.0, 1.0, 1.0], [1.0, 1.5, 1.0]])  # columns: t
    flow = gf.summarize("toy", norms, inputs="made up")
    np.testing.assert_allclose(flow.mean, [1.0, 1.0, 1.25 / 3])  # index: lag
    np.testing.assert_allclose(flow.p10, [1.0, 0.6, 0.05])
    assert flow.sequences == 3 and flow.length == 3 and flow.reference_error is None
    assert flow.at(2) == pytest.approx(1.25 / 3)
    with pytest.raises(ValueError, match="lag must be in"):
        flow.at(3)
    data = flow.to_dict()
    assert data["name"] == "toy" and data["verdict"] == "stable" and data["mean"][0] == 1.0
    exploded = gf.summarize("boom", np.array([[np.inf, 1.0]]))
    assert json.loads(json.dumps(exploded.to_dict(), allow_nan=False))["mean"] == [1.0, None]


def test_fresh_cells_at_their_initialisation():
    flows = {
        name: gf.measure_cell(name, length=40, hidden_size=16, batch=4, repeats=2)
        for name in gf.DEFAULT_CELLS
    }
    assert list(flows) == ["elman", "irnn", "jordan", "lstm", "gru"]
    for flow in flows.values():
        assert flow.sequences == 8 and flow.length == 40 and flow.at(0) == pytest.approx(1.0)
        assert flow.reference_error < 1e-9
        assert np.all(flow.p10 <= flow.p90) and np.all(flow.mean >= 0.9 * flow.p10)
    # torch's default init (uniform ±1/sqrt(H)) makes a tanh Elman net forget fast; IRNN's
    # identity carries the gradient far better.
    assert flows["elman"].verdict == "vanishing" and flows["elman"].rate < 0.7
    assert flows["irnn"].rate > 0.95 and flows["irnn"].verdict == "stable"
    # Same seed, same numbers; the global RNG is not touched.
    state = torch.get_rng_state()
    again = gf.measure_cell("gru", length=40, hidden_size=16, batch=4, repeats=2)
    assert torch.equal(state, torch.get_rng_state())
    np.testing.assert_array_equal(again.mean, flows["gru"].mean)
    config = RecurrentConfig(cell="lstm", input_size=2, hidden_size=5, num_layers=2)
    deep = gf.measure_cell(config, length=10, batch=2, repeats=1)
    assert deep.name == "lstm" and deep.reference_error < 1e-9 and deep.at(0) > 1.0


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: gf.measure_cell("lstn", length=10), r"cell: .*did you mean 'lstm'"),
        (lambda: gf.measure_cell("lstm", length=1), "length: expected an int of at least 2"),
        (lambda: gf.measure_cell("lstm", length=10, batch=0), "batch: expected a positive"),
        (
            lambda: gf.measure_cell(
                RecurrentConfig(cell="gru", input_size=2, hidden_size=3, bidirectional=True),
                length=10,
            ),
            "bidirectional: gradient flow needs a unidirectional stack",
        ),
    ],
)
def test_errors_are_config_errors(call, match):
    with pytest.raises(ConfigError, match=match):
        call()


# ---- the command line -----------------------------------------------------------------------


def _run(*args: str):
    return CliRunner().invoke(main, ["diagnose", "gradients", *args])


def test_cli_table_plot_and_json(tmp_path):
    plot = tmp_path / "grads.png"
    small = ["--length", "30", "--hidden-size", "8", "--batch", "4", "--repeats", "1"]
    result = _run("--cell", "elman,lstm", *small, "--plot", str(plot))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("gradient flow ‖∂E_T/∂h_t‖ by lag k = T - t (T=30, hidden 8")
    assert lines[1].split() == [
        "cell", "rate/step", "verdict", "lag@1e-3", "g@0", "g@10", "g@25", "g@29", "ref-err"
    ]  # fmt: skip
    assert lines[2].split()[0] == "elman" and lines[3].split()[0] == "lstm"
    assert lines[2].split()[4] == "1.0e+00"
    assert lines[-1] == f"plot: {plot}"
    assert plot.read_bytes()[:4] == b"\x89PNG" and plot.stat().st_size > 5000

    result = _run("--cell", "gru", *small, "--json")
    assert result.exit_code == 0, result.output
    (record,) = [json.loads(line) for line in result.output.splitlines()]
    assert record["type"] == "gradients" and record["name"] == "gru"
    assert record["verdict"] in ("vanishing", "stable", "exploding")
    assert len(record["mean"]) == 30 and record["sequences"] == 4


def test_cli_errors_are_one_clean_line(tmp_path):
    result = _run("--cell", "elman,lstn", "--length", "10")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output.startswith("error: cell: expected one of 'elman', 'elman-relu'")
    assert "did you mean 'lstm'" in result.output
    result = _run("--length", "1")
    assert result.exit_code == 2
    assert result.output == "error: length: expected an int of at least 2 steps, got 1\n"
    result = _run("--run", str(tmp_path), "--cell", "gru", "--length", "5")
    assert result.exit_code == 2 and "--run measures the run's own model; drop --cell" in (
        result.output
    )
    result = _run("--run", str(tmp_path / "nope"), "--length", "5")
    assert result.exit_code == 1 and result.output.startswith("error: ")
    assert "Traceback" not in result.output


def test_cli_lists_diagnose():
    result = CliRunner().invoke(main, ["diagnose", "--help"])
    assert result.exit_code == 0 and "gradients" in result.output


# ---- a trained run --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lm_run(tmp_path_factory):
    from rnnkit.models import LMModelConfig
    from rnnkit.tasks import lm

    root = tmp_path_factory.mktemp("lm")
    rng = random.Random(0)
    words = ["the", "cat", "sat", "on", "a", "mat", "and", "dog", "ran"]
    lines = [" ".join(rng.choice(words) for _ in range(8)) for _ in range(60)]
    (root / "text.txt").write_text("\n".join(lines) + "\n")
    config = lm.LMConfig(
        data=lm.LMDataConfig(data=str(root / "text.txt"), level="char", batch_size=4),
        model=LMModelConfig(
            embedding_size=8,
            rnn=StackConfig(cell="gru", hidden_size=12, num_layers=2),
        ),
        train=StreamTrainConfig(epochs=1, max_steps=2, bptt=10, device="cpu"),
    )
    lm.train(config, root / "run")
    return root / "run"


def test_a_language_model_run_on_its_validation_text(lm_run):
    result = _run("--run", str(lm_run), "--length", "20", "--batch", "3", "--repeats", "2")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "6 sequences of validation text windows" in lines[0]
    assert lines[2].startswith("gru x2 (run)")
    result = _run("--run", str(lm_run), "--length", "20", "--batch", "3", "--json")
    (record,) = [json.loads(line) for line in result.output.splitlines()]
    assert record["reference_error"] < 1e-9 and record["sequences"] == 12
    assert record["mean"][0] > 1.0  # two layers: the lower one's gradient counts too
    result = _run("--run", str(lm_run), "--length", "100000")
    assert result.exit_code == 2 and "fewer than 100000" in result.output


def test_a_classifier_run_on_its_test_examples(tmp_path):
    from rnnkit.models.classifier import ClassifierModelConfig
    from rnnkit.tasks import classify as clf
    from rnnkit.tasks.classify.data import ClassifyDataConfig

    rng = random.Random(0)
    for split, count in (("train", 40), ("test", 20)):
        with (tmp_path / f"{split}.csv").open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["text", "label"])
            for _ in range(count):
                words = [rng.choice(["good", "bad", "film", "plot"]) for _ in range(12)]
                writer.writerow([" ".join(words), rng.choice(["pos", "neg"])])
    config = clf.ClassifyConfig(
        data=ClassifyDataConfig(
            data=str(tmp_path / "train.csv"), test=str(tmp_path / "test.csv"), batch_size=8
        ),
        model=ClassifierModelConfig(embedding_size=8, rnn=StackConfig(cell="lstm", hidden_size=6)),
        train=TrainConfig(epochs=1, max_steps=1, device="cpu"),
    )
    clf.train(config, tmp_path / "clf")
    result = _run("--run", str(tmp_path / "clf"), "--length", "10", "--batch", "4")
    assert result.exit_code == 0, result.output
    assert "16 sequences of test examples" in result.output
    result = _run("--run", str(tmp_path / "clf"), "--length", "50")
    assert result.exit_code == 2 and "no test example has 50 steps" in result.output


def test_model_stack_and_embed_reject_what_they_cannot_measure():
    with pytest.raises(ConfigError, match="supports language-model"):
        gf.model_stack(nn.Linear(2, 2))
    with pytest.raises(ConfigError, match="no token embedding"):
        gf.embed(nn.Linear(2, 2), torch.zeros(2, 3, dtype=torch.long))


# ---- during training: grad_health ------------------------------------------------------------


def test_healthy_norms_give_no_warning():
    rng = np.random.default_rng(0)
    assert gradient_warning([]) is None
    assert gradient_warning(list(np.exp(rng.normal(0, 1, 500)))) is None  # noisy but sane
    assert gradient_warning([5.0] * 5 + [400.0]) is None  # too early to call a jump
    # a run of tiny norms broken by one that is not tiny starts over
    assert gradient_warning([1e-7] * (WINDOW - 1) + [2e-6] + [1e-7] * (WINDOW - 1)) is None
    assert gradient_warning([1.0] * 20 + [JUMP * 0.99]) is None


def test_a_spike_is_exploding_with_the_remedy():
    norms = [1.0, 2.0, 1.5] * 10 + [300.0, 1.0]
    message = gradient_warning(norms)
    assert message.startswith("exploding gradients: the gradient norm jumped to 300 at step 31")
    assert "200x the median (1.5) of the 30 steps before" in message
    assert "lower --clip-norm, lower the learning rate, or use an LSTM/GRU" in message
    assert "identity initialisation (IRNN) and clipping" in message
    assert "at step 131" in gradient_warning(norms, steps=range(101, 101 + len(norms)))
    assert gradient_warning([1.0] * 12 + [float("inf")]).startswith(
        "exploding gradients: the gradient norm is inf at step 13"
    )


def test_steady_growth_by_orders_of_magnitude_is_exploding():
    norms = [1.0] * 10 + [1.1**k for k in range(1, 100)]  # never 100x the recent median
    message = gradient_warning(norms)
    assert message.startswith("exploding gradients: the gradient norm grew to")
    assert "over the first 10 steps" in message


def test_tiny_norms_for_a_window_are_vanishing():
    norms = [1e-3] * 5 + [TINY / 10] * WINDOW
    message = gradient_warning(norms)
    assert message.startswith(
        f"vanishing gradients: the gradient norm stayed below 1e-06 for {WINDOW} steps in a "
        f"row (steps 6-{WINDOW + 5})"
    )
    assert "LSTM/GRU" in message and "forget-gate bias" in message and "--bptt" in message
    assert gradient_warning([TINY / 10] * (WINDOW - 1)) is None


def test_the_watch_warns_once_per_kind():
    watch = GradientWatch()
    said = [watch.add(n, s) for s, n in enumerate([1.0] * 12 + [1e3, 1e4], start=1)]
    assert [s is not None for s in said] == [False] * 12 + [True, False]
    assert watch.check(1e6, 15)[0] == "exploding"  # check() itself still reports
    said = [watch.add(1e-9, s) for s in range(16, 16 + WINDOW + 3)]
    assert sum(s is not None for s in said) == 1 and said[WINDOW - 1].startswith("vanishing")
    with pytest.raises(ValueError, match="steps has 1 entries, norms 2"):
        gradient_warning([1.0, 2.0], steps=[1])


class _SpikyTask(SignTask):
    """SignTask whose loss is scaled by 1e4 on two training steps: two gradient spikes."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def loss(self, model, batch, state):
        self.calls += 1
        out = super().loss(model, batch, state)
        scale = 1e4 if self.calls in (11, 12) else 1.0
        return out._replace(loss=out.loss * scale)


def test_the_training_loop_warns_once_and_info_reports_it(tmp_path):
    stream = io.StringIO()
    task = _SpikyTask()
    seed_everything(0)
    config = TrainConfig(epochs=2, lr=0.01, log_every=100, device="cpu", clip_norm=1.0)
    run = RunDir.create(tmp_path / "run", config={"task": "test", "train": {"epochs": 2}})
    fit(
        SignClassifier(),
        task.train_batches,
        task.val,
        config,
        objective=task,
        run=run,
        progress=LogProgress(stream),
    )
    warnings = [line for line in stream.getvalue().splitlines() if line.startswith("warning")]
    assert len(warnings) == 1, stream.getvalue()
    assert warnings[0].startswith("warning: exploding gradients: the gradient norm jumped to")
    assert "at step 11," in warnings[0]  # the first 10 steps are the baseline
    summary = summarize_run(run.path)
    assert summary["grad_warning"] == warnings[0].removeprefix("warning: ")
    assert any(line.startswith("warning    exploding gradients") for line in _describe(summary))
    result = CliRunner().invoke(main, ["info", str(run.path)])
    assert result.exit_code == 0 and "\nwarning    exploding gradients:" in result.output


def test_info_of_a_healthy_run_has_no_warning_line(tmp_path):
    run = RunDir.create(tmp_path / "run", config={"task": "test"})
    for step in range(1, 61):
        run.log_metrics({"kind": "step", "step": step, "grad_norm": 1.0 + step % 3})
    summary = summarize_run(run.path)
    assert summary["grad_warning"] is None
    assert not any(line.startswith("warning") for line in _describe(summary))
    assert math.isfinite(summary["grad_norm"]["max"])
