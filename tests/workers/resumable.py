"""Worker for the kill-and-resume tests: train the char stream model in a run directory.

    python tests/workers/resumable.py RUN_DIR [--resume] [--kill-at STEP] [--sigint-at STEP]
        [--device cpu|cuda]

``--kill-at N`` sends SIGKILL to this process during step N (no chance to clean up);
``--sigint-at N`` sends SIGINT (Ctrl-C) during step N. Prints the stop reason last.
"""

import argparse
import dataclasses
import os
import signal
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/training_cases.py

from rnnkit.training.config import TrainConfig  # noqa: E402
from rnnkit.training.loop import fit, seed_everything  # noqa: E402
from rnnkit.training.rundir import RunDir  # noqa: E402
from training_cases import CharModel, StreamTask  # noqa: E402

CONFIG = TrainConfig(
    epochs=3, lr=0.02, checkpoint_every=4, device="cpu", seed=5, log_every=2, clip_norm=1.0
)


class Task(StreamTask):
    def __init__(self, kill_at, sigint_at):
        super().__init__(rows=4, bptt=10)
        self.calls, self.kill_at, self.sigint_at = 0, kill_at, sigint_at

    def loss(self, model, batch, state):
        self.calls += 1
        if self.calls == self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        if self.calls == self.sigint_at:
            os.kill(os.getpid(), signal.SIGINT)
        return super().loss(model, batch, state)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("run")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--kill-at", type=int)
    parser.add_argument("--sigint-at", type=int)
    parser.add_argument("--device", default=CONFIG.device)
    args = parser.parse_args()
    config = dataclasses.replace(CONFIG, device=args.device)
    torch.set_num_threads(1)
    task = Task(args.kill_at, args.sigint_at)
    seed_everything(config.seed)
    model = CharModel(task.vocab, recurrent_dropout=0.1)  # dropout: the RNG must resume too
    if args.resume:
        run = RunDir.open(args.run)
    else:
        run = RunDir.create(args.run, config={"task": "test", "train": {"epochs": 3}})
    result = fit(
        model,
        task.train_batches,
        task.train_batches,
        config,
        objective=task,
        run=run,
        resume=args.resume,
    )
    print(result.stop_reason, result.steps)


if __name__ == "__main__":
    main()
