"""The training loop on small real models: it learns, and every knob does what it says."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from rnnkit.config import ConfigError
from rnnkit.training.config import StreamTrainConfig, TrainConfig, parse_duration
from rnnkit.training.loop import StepOutput, TrainingError, fit, seed_everything
from rnnkit.training.optim import clip_gradients, make_optimizer, make_schedule
from rnnkit.training.tbptt import run_window, windows
from training_cases import CharModel, SignClassifier, SignTask, StreamTask, parameters_of


def _train_sign(config: TrainConfig, seed: int = 0, task: SignTask | None = None):
    task = task or SignTask()
    seed_everything(seed)
    model = SignClassifier()
    result = fit(model, task.train_batches, task.val, config, objective=task)
    return model, result


def test_fit_learns_the_sign_task_and_keeps_the_best_weights():
    config = TrainConfig(epochs=8, lr=0.01, monitor="val_accuracy", mode="max", device="cpu")
    model, result = _train_sign(config)
    assert result.stop_reason == "completed" and result.epochs == 8
    accuracies = [r["val_accuracy"] for r in result.history]
    assert result.best_metric == max(accuracies) > 0.9
    # The model holds the best epoch's weights, not the last one's.
    task = SignTask()
    with torch.no_grad():
        assert task.evaluate(model.eval(), task.val)["accuracy"] == result.best_metric
    assert result.history[0]["train_loss"] > result.history[-1]["train_loss"]


def test_same_seed_same_numbers_and_another_seed_differs():
    config = TrainConfig(epochs=2, lr=0.01, device="cpu")
    a, _ = _train_sign(config, seed=3)
    b, _ = _train_sign(config, seed=3)
    c, _ = _train_sign(config, seed=4)
    for key, value in parameters_of(a).items():
        assert torch.equal(value, parameters_of(b)[key]), key
    assert not all(torch.equal(v, parameters_of(c)[k]) for k, v in parameters_of(a).items())


def test_accumulating_two_half_batches_equals_one_full_batch():
    kwargs = dict(epochs=1, optimizer="sgd", lr=0.1, clip_norm=None, device="cpu")
    full, _ = _train_sign(TrainConfig(**kwargs), task=SignTask(batch_size=32))
    halves, result = _train_sign(TrainConfig(**kwargs, accumulate=2), task=SignTask(batch_size=16))
    assert result.steps == 6  # 192 examples, 12 half-batches, 6 optimiser steps
    for key, value in parameters_of(full).items():
        torch.testing.assert_close(parameters_of(halves)[key], value, rtol=1e-5, atol=1e-6)


def test_clip_gradients_records_the_pre_clip_norm_and_rescales():
    p, q = torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(1))
    p.grad, q.grad = torch.tensor([3.0, 0.0]), torch.tensor([4.0])
    assert clip_gradients([p, q], max_norm=2.5, max_value=None) == 5.0
    total = math.sqrt(float(p.grad.square().sum() + q.grad.square().sum()))
    assert total == pytest.approx(2.5, rel=1e-5)
    clip_gradients([p, q], max_norm=None, max_value=1.0)
    assert float(q.grad) == 1.0


def test_epoch_records_hold_grad_norms_and_clipped_share():
    config = TrainConfig(epochs=1, lr=0.01, clip_norm=1e-3, device="cpu")
    _, result = _train_sign(config)
    record = result.history[0]
    assert record["clipped_share"] == 1.0  # every step is above a tiny threshold
    assert record["grad_norm_max"] >= record["grad_norm_mean"] > 1e-3


def test_max_steps_stops_and_still_evaluates():
    config = TrainConfig(epochs=5, lr=0.01, max_steps=3, device="cpu")
    _, result = _train_sign(config)
    assert result.stop_reason == "max_steps" and result.steps == 3
    assert result.best_metric is not None  # the partial epoch was validated
    # ... and the record is in the result (summaries report it before any epoch ends).
    assert result.history == [] and result.partial is not None
    assert result.partial["kind"] == "partial" and result.partial["step"] == 3
    assert result.validations() == [result.partial]
    assert result.partial["val_loss"] == result.best_metric


def test_max_time_budget_stops_at_a_step_boundary():
    config = TrainConfig(epochs=1000, lr=0.01, max_time="0.5s", device="cpu")
    _, result = _train_sign(config)
    assert result.stop_reason == "max_time"
    assert 0.5 <= result.train_time < 5.0


def test_early_stopping_after_patience_epochs_without_improvement():
    # lr=0 never improves after the first epoch.
    config = TrainConfig(epochs=10, optimizer="sgd", lr=1e-12, patience=2, device="cpu")
    _, result = _train_sign(config)
    assert result.stop_reason == "early_stopping"
    assert result.best_epoch == 0 and result.epochs == 3


class _NanAfter(SignTask):
    def __init__(self, good_steps: int) -> None:
        super().__init__()
        self.calls, self.good_steps = 0, good_steps

    def loss(self, model, batch, state):
        self.calls += 1
        out = super().loss(model, batch, state)
        return out if self.calls <= self.good_steps else out._replace(loss=out.loss * math.nan)


def test_non_finite_loss_stops_with_the_step_named():
    task = _NanAfter(good_steps=4)
    with pytest.raises(TrainingError, match=r"diverged at step 5 \(epoch 1\): the loss is nan"):
        fit(
            SignClassifier(),
            task.train_batches,
            task.val,
            TrainConfig(device="cpu"),
            objective=task,
        )


def test_step_schedule_follows_zaremba():
    opt = make_optimizer([torch.nn.Parameter(torch.zeros(1))], TrainConfig(optimizer="sgd", lr=1.0))
    schedule = make_schedule(opt, TrainConfig(schedule="step", lr_decay=0.5, decay_after=4))
    rates = []
    for _ in range(7):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        schedule.after_epoch(None)
    assert rates == [1.0, 1.0, 1.0, 1.0, 0.5, 0.25, 0.125]


def test_cosine_schedule_warms_up_then_decays_to_min_lr():
    config = TrainConfig(optimizer="sgd", lr=1.0, schedule="cosine", warmup_steps=4, min_lr=0.1)
    opt = make_optimizer([torch.nn.Parameter(torch.zeros(1))], config)
    schedule = make_schedule(opt, config, total_steps=14)
    rates = []
    for _ in range(14):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        schedule.after_step()
    assert rates[:4] == pytest.approx([0.25, 0.5, 0.75, 1.0])
    assert rates[4] == pytest.approx(1.0) and rates[9] == pytest.approx(0.55)
    assert rates[-1] == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.9)))


def test_plateau_schedule_decays_when_the_metric_stalls():
    config = TrainConfig(optimizer="sgd", lr=1.0, schedule="plateau", plateau_patience=1)
    opt = make_optimizer([torch.nn.Parameter(torch.zeros(1))], config)
    schedule = make_schedule(opt, config)
    for metric in (3.0, 2.0, 2.5, 2.6):
        schedule.after_epoch(metric)
    assert opt.param_groups[0]["lr"] == 0.5


def test_config_errors_name_the_field():
    with pytest.raises(ConfigError, match="bptt_stride"):
        StreamTrainConfig(bptt=10, bptt_stride=20)
    with pytest.raises(ConfigError, match="max_time: expected a duration"):
        TrainConfig(max_time="ten minutes")
    with pytest.raises(ConfigError, match="bf16 autocast needs a CUDA device"):
        _train_sign(TrainConfig(bf16=True, device="cpu"))
    assert parse_duration("1h2m3s") == 3723.0


def test_windows_cover_the_stream_once():
    for length, k1, k2 in [(10, 3, 3), (10, 3, 5), (35, 7, 20), (5, 5, 5)]:
        counted = []
        for w in windows(length, k1, k2):
            counted.extend(range(w.start + w.loss_from, w.stop))
            assert w.stop - w.start <= k2
        assert counted == list(range(length))


@pytest.mark.parametrize("k1,k2", [(5, 5), (3, 7)])
def test_tbptt_windows_reproduce_the_full_forward(k1, k2):
    torch.manual_seed(0)
    model = CharModel(vocab=7).eval()
    x = torch.randint(0, 7, (3, 23))
    full, _ = model(x)
    state, pieces = None, []
    for w in windows(23, k1, k2):
        out, state = run_window(model, x, state, w)
        pieces.append(out)
    torch.testing.assert_close(torch.cat(pieces, dim=1), full, rtol=1e-5, atol=1e-6)


def test_tbptt_truncates_the_gradient_at_the_window_start():
    model = CharModel(vocab=7)
    x = torch.randint(0, 7, (2, 12))
    embedded = model.embed(x).detach().requires_grad_(True)
    w1, w2 = windows(12, 6)
    _, state = model.rnn(embedded[:, w1.start : w1.stop])
    state = type(state)(*(t.detach() for t in state))
    out, _ = model.rnn(embedded[:, w2.start : w2.stop], state=state)
    out.sum().backward()
    assert embedded.grad[:, :6].abs().sum() == 0 and embedded.grad[:, 6:].abs().sum() > 0


def test_stream_training_carries_the_state_and_learns():
    task = StreamTask()
    seed_everything(0)
    model = CharModel(task.vocab)
    seen_states = []

    class Spy(StreamTask):
        def loss(self, model, batch, state):
            seen_states.append(state)
            return task.loss(model, batch, state)

    config = TrainConfig(epochs=6, lr=0.02, device="cpu")
    result = fit(model, task.train_batches, task.train_batches, config, objective=Spy())
    assert seen_states[0] is None  # each epoch starts fresh ...
    assert seen_states[1] is not None and not seen_states[1].h.requires_grad  # ... then carries
    losses = [r["val_loss"] for r in result.history]
    assert losses[-1] < 0.5 * losses[0]


def test_objective_without_the_monitored_metric_is_a_config_error():
    task = SignTask()
    with pytest.raises(ConfigError, match="reports no 'val_f1'"):
        fit(
            SignClassifier(),
            task.train_batches,
            task.val,
            TrainConfig(epochs=1, monitor="val_f1", device="cpu"),
            objective=task,
        )


def test_step_output_loss_is_a_mean_weighted_by_count_in_the_epoch_record():
    class Fixed(SignTask):
        def loss(self, model, batch, state):
            x, y = batch
            base = F.cross_entropy(model(x), y)
            return StepOutput(base * 0 + float(len(y)), len(y))  # loss = batch size

    task = Fixed(n=200, batch_size=64)  # train batches of 64, 64, 22
    _, result = _train_sign(TrainConfig(epochs=1, device="cpu"), task=task)
    expected = (64 * 64 + 64 * 64 + 22 * 22) / 150
    assert result.history[0]["train_loss"] == pytest.approx(expected)
