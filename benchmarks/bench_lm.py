"""Language-model benchmarks (issue #5): quality within a time budget, and training throughput.

Three benchmarks, each one command:

``quality PRESET --minutes M --out RUN``
    Trains ``rnnkit lm train --preset PRESET --max-time Mm`` and evaluates the best weights on
    the validation split and, where the corpus has one, the test split (``eval_batch_size``
    from the preset). Prints wall time, tokens/s and parameter count; ``--json`` writes them.

``throughput [--rounds R] [--steps S]``
    ``lm train``'s training loop (``rnnkit.training.fit`` with the ptb-small model, SGD,
    clipping, metrics, state carry) against a bare torch loop over the same windows
    (``nn.Embedding`` + ``nn.LSTM`` + ``nn.Linear``, the same sizes, SGD and
    ``clip_grad_norm_``), interleaved round by round; tokens/s medians and the per-round
    ratio. Both models are built once; each round continues training them.

Usage::

    python -m benchmarks.bench_lm quality ptb-small --minutes 30 --out runs/bench-ptb-small
    python -m benchmarks.bench_lm quality shakespeare-char --minutes 30 --out runs/bench-shakespeare
    python -m benchmarks.bench_lm quality ptb-small --set model.tie_weights=true ...
    python -m benchmarks.bench_lm throughput --rounds 7 --json docs/results/lm-throughput.json
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from benchmarks.common import add_quality_arguments, commit, emit
from rnnkit.config import ConfigError, apply_overrides, from_dict
from rnnkit.data.corpus import batchify, load_lm_corpus, tokenize
from rnnkit.data.vocab import Vocabulary
from rnnkit.tasks import lm
from rnnkit.training.config import TrainConfig
from rnnkit.training.loop import fit, seed_everything
from rnnkit.training.progress import make_progress


def quality(
    preset: str, minutes: float, out: Path, as_json: Path | None, overrides: list[str]
) -> dict[str, Any]:
    config = from_dict(lm.LMConfig, lm.preset_config(preset))
    config = apply_overrides(config, [*overrides, f"train.max_time={minutes}m"])
    wall = time.perf_counter()
    task, result = lm.train(config, out, overwrite=True, progress=make_progress("log", sys.stderr))
    wall = time.perf_counter() - wall
    tokens = sum(r["items"] for r in task.run.read_metrics() if r["kind"] == "step")
    report: dict[str, Any] = {
        "benchmark": f"quality/{preset}",
        "preset": preset,
        "overrides": overrides,
        "minutes": minutes,
        "commit": commit(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "machine": platform.machine(),
        "parameters": task.model.parameter_count(),
        "epochs": result.epochs,
        "steps": result.steps,
        "stop_reason": result.stop_reason,
        "train_time_s": result.train_time,
        "wall_time_s": wall,
        "train_tokens_per_s": tokens / result.train_time,
        "best_epoch": result.best_epoch,
    }
    for split in ("valid", "test"):
        try:
            text = lm.split_text(config, split)
        except ConfigError:
            continue
        metrics = task.evaluate(text)
        report[f"{split}_loss"] = metrics["loss"]
        report[f"{split}_ppl"] = metrics["ppl"]
        report[f"{split}_bits"] = metrics["bpt"]
    emit(report, as_json)
    return report


class BareLM(nn.Module):
    """The baseline: embedding + nn.LSTM + linear, nothing else."""

    def __init__(self, vocab: int, embed: int, hidden: int, layers: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, layers, batch_first=True)
        self.decoder = nn.Linear(hidden, vocab)

    def forward(self, x: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
        out, state = self.lstm(self.embedding(x), state)
        return self.decoder(out), state


def _bare_round(model: BareLM, batches: list[lm.LMBatch], lr: float) -> float:
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    state = None
    tic = time.perf_counter()
    for batch in batches:
        logits, state = model(batch.inputs, state)
        state = tuple(s.detach() for s in state)
        loss = F.cross_entropy(logits.flatten(0, 1), batch.targets.flatten())
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        float(loss.detach())  # both loops read the loss every step
    return time.perf_counter() - tic


def _rnnkit_round(model: nn.Module, batches: list[lm.LMBatch]) -> float:
    train = TrainConfig(
        epochs=1, optimizer="sgd", lr=1.0, clip_norm=5.0, device="cpu", log_every=50
    )
    tic = time.perf_counter()
    fit(model, batches, None, train, objective=lm.LMObjective())
    return time.perf_counter() - tic


def throughput(rounds: int, steps: int, as_json: Path | None) -> dict[str, Any]:
    config = from_dict(lm.LMConfig, lm.preset_config("ptb-small"))
    corpus = load_lm_corpus(dataset="ptb")
    tokens = tokenize(corpus.train, "word")
    vocab = Vocabulary.build(tokens, eos="<eos>")
    stream = batchify(torch.tensor(vocab.encode(tokens)), config.data.batch_size)
    batches = lm.stream_batches(stream, 35, 35)[:steps]
    n_tokens = sum(b.targets.numel() for b in batches)
    seed_everything(0)
    # Both models are built once and keep training round after round: the comparison is the
    # training step, not model construction.
    bare = BareLM(len(vocab), 200, 200, 2)
    ours = lm.build_model(config, len(vocab))
    times: dict[str, list[float]] = {"rnnkit lm train": [], "bare torch loop": []}
    _bare_round(bare, batches[:5], 1.0)  # warm-up, both
    _rnnkit_round(ours, batches[:5])
    for _ in range(rounds):
        times["rnnkit lm train"].append(_rnnkit_round(ours, batches))
        times["bare torch loop"].append(_bare_round(bare, batches, 1.0))
    ratios = [
        b / a for a, b in zip(times["rnnkit lm train"], times["bare torch loop"], strict=True)
    ]
    report = {
        "benchmark": "throughput/ptb-small",
        "commit": commit(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "rounds": rounds,
        "steps_per_round": len(batches),
        "tokens_per_round": n_tokens,
        "tokens_per_s": {k: n_tokens / statistics.median(v) for k, v in times.items()},
        "ratio_per_round": ratios,
        "ratio_median": statistics.median(ratios),
    }
    emit(report, as_json)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    q = sub.add_parser("quality")
    add_quality_arguments(q, sorted(lm.PRESETS), minutes=30.0)
    t = sub.add_parser("throughput")
    t.add_argument("--rounds", type=int, default=7)
    t.add_argument("--steps", type=int, default=150)
    t.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.command == "quality":
        quality(args.preset, args.minutes, args.out, args.json, args.overrides)
    else:
        throughput(args.rounds, args.steps, args.json)


if __name__ == "__main__":
    main()
