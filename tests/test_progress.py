"""What the user sees while training: log lines off a terminal, a tqdm bar on one."""

from __future__ import annotations

import io

from rnnkit.training import TrainConfig, fit, make_progress, seed_everything
from rnnkit.training.progress import BarProgress, LogProgress, Progress
from training_cases import SignClassifier, SignTask


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _train(progress) -> None:
    task = SignTask()
    seed_everything(0)
    config = TrainConfig(epochs=2, lr=0.01, log_every=2, device="cpu")
    fit(SignClassifier(), task.train_batches, task.val, config, objective=task, progress=progress)


def test_log_lines_when_not_a_terminal():
    stream = io.StringIO()
    progress = make_progress("auto", stream)
    assert isinstance(progress, LogProgress)
    _train(progress)
    lines = stream.getvalue().splitlines()
    steps = [line for line in lines if " step " in line]
    epochs = [line for line in lines if line.startswith("epoch") and "val_loss" in line]
    assert len(steps) == 6  # 6 steps per epoch, a line every 2 steps, 2 epochs
    assert steps[0].startswith("epoch 1 step 2/6") and "loss " in steps[0] and "/s" in steps[0]
    assert len(epochs) == 2 and "val_accuracy" in epochs[1]


def test_a_bar_on_a_terminal_and_nothing_when_asked():
    terminal = _Terminal()
    progress = make_progress("auto", terminal)
    assert isinstance(progress, BarProgress)
    _train(progress)
    out = terminal.getvalue()
    assert "epoch 1/2" in out and "loss=" in out and "step/s" in out and "grad=" in out
    assert "val_loss" in out  # the epoch summary survives the bar
    assert type(make_progress("none", terminal)) is Progress
