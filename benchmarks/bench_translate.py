"""Translation benchmarks (issue #25): Multi30k and eng-fra.

``quality PRESET --minutes M --out RUN [--seed N] [--beam K] [--set KEY=VALUE ...] [--json FILE]``
trains the preset within M minutes (best epoch by validation loss), then translates every
test set of the run's dataset greedily and with beam search (``--beam``, length penalty 1):
sacreBLEU BLEU and chrF against the references of the run's form (raw sentences: ``13a``
tokenisation; the organisers' tokenised lower-cased text: none, as ``multi-bleu.perl``
counts), for Multi30k BLEU on lower-cased Moses-tokenised text (as the published baselines
were scored), the length ratio, the references' perplexity, training target tokens per
second and beam-search sentences per second.

Run it alone: the figures are wall time on the machine's cores.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from benchmarks.common import (
    add_quality_arguments,
    emit,
    environment,
    keep_freed_pages,
    train_preset,
)
from rnnkit.tasks import translate
from rnnkit.tasks.translate import data as tdata


def _test_sets(task: translate.TranslatorTask) -> dict[str, Any]:
    data = task.config.data
    if data.dataset == "multi30k":
        return {
            name: (tdata.load_test(data, name), tdata.tokenised_references(data, name))
            for name in tdata.MULTI30K_TESTS[:3]
        }
    return {"test": (tdata.load_test(data), None)}


def quality(
    preset: str,
    minutes: float,
    seed: int,
    beam: int,
    out: Path,
    as_json: Path | None,
    overrides: list[str],
) -> dict[str, Any]:
    task, result, train_wall = train_preset(translate, preset, minutes, seed, overrides, out)
    train_pairs, _ = tdata.load_splits(task.config.data, seed)
    target_tokens = sum(len(task.sides.tgt.encode(t)) + 1 for t in train_pairs.tgt)
    scores: dict[str, Any] = {}
    for name, (pairs, references) in _test_sets(task).items():
        greedy, _ = task.evaluate(pairs, references)
        started = time.perf_counter()
        beamed, _ = task.evaluate(pairs, references, beam=beam)
        beam_s = time.perf_counter() - started
        scores[name] = {
            "sentences": len(pairs.src),
            "greedy": greedy,
            f"beam{beam}": beamed,
            f"beam{beam}_sentences_per_s": len(pairs.src) / beam_s,
        }
    summary = {
        "benchmark": f"quality/{preset}",
        "preset": preset,
        "seed": seed,
        "overrides": overrides,
        "minutes": minutes,
        **environment(),
        "parameters": sum(p.numel() for p in task.model.parameters()),
        "epochs": result.epochs,
        "steps": result.steps,
        "stop_reason": result.stop_reason,
        "best_epoch": result.best_epoch,
        "best_val_loss": result.best_metric,
        "train_time_s": result.train_time,
        "train_wall_s": train_wall,
        "train_target_tokens_per_s": target_tokens * result.epochs / result.train_time,
        "test": scores,
    }
    emit(summary, as_json)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    q = sub.add_parser("quality")
    add_quality_arguments(q, sorted(translate.PRESETS), minutes=60.0)
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--beam", type=int, default=5)
    args = parser.parse_args()
    keep_freed_pages()  # as the rnnkit command does: training steps stop faulting pages in
    quality(args.preset, args.minutes, args.seed, args.beam, args.out, args.json, args.overrides)


if __name__ == "__main__":
    main()
