"""Tagging benchmarks (issue #24): CoNLL-2003 English named entities.

``quality PRESET --minutes M --out RUN [--seed N] [--set KEY=VALUE ...] [--json FILE]`` trains
the preset within M minutes (best epoch chosen on eng.testa), then reports entity F1 on
eng.testa and eng.testb (conlleval-compatible, with seqeval), training sentences per second,
and tagging speed: sentences per second of ``TaggerTask.predict`` on eng.testb's sentences
as raw text (tokenised, tagged, entities with offsets and confidence; what ``rnnkit tag
predict`` does), and of Viterbi-only decoding of the same sentences pre-tokenised.

Run it alone: the figures are wall time on the machine's cores.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.common import add_quality_arguments, emit, environment
from rnnkit.config import apply_overrides, from_dict
from rnnkit.data.registry import locate
from rnnkit.tasks import tag
from rnnkit.training.progress import make_progress


def quality(
    preset: str, minutes: float, seed: int, out: Path, as_json: Path | None, overrides: list[str]
) -> dict[str, Any]:
    config = from_dict(tag.TagConfig, tag.preset_config(preset))
    settings = [f"train.max_time={minutes * 60:.0f}s", f"train.seed={seed}", *overrides]
    config = apply_overrides(config, settings)
    wall = time.perf_counter()
    task, result = tag.train(config, out, overwrite=True, progress=make_progress("log", sys.stderr))
    train_wall = time.perf_counter() - wall
    scores = {}
    for split in ("valid", "test"):
        sentences = task.load_sentences(locate("conll2003", split))
        report, _ = task.evaluate(sentences)
        scores[split] = {
            "source": sentences.source,
            "f1": report.overall.f1,
            "precision": report.overall.precision,
            "recall": report.overall.recall,
            "token_accuracy": report.token_accuracy,
            "per_type_f1": {k: v.f1 for k, v in report.per_type.items()},
        }
    test = task.load_sentences(locate("conll2003", "test"))
    texts = [" ".join(tokens) for tokens in test.inputs]
    started = time.perf_counter()
    task.predict(texts)
    predict_s = time.perf_counter() - started
    started = time.perf_counter()
    task.decode(test.inputs)
    decode_s = time.perf_counter() - started
    train_sentences = len(task.load_sentences(locate("conll2003", "train")).inputs)
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
        "best_val_f1": result.best_metric,
        "train_time_s": result.train_time,
        "train_wall_s": train_wall,
        "train_sentences_per_s": train_sentences * result.epochs / result.train_time,
        "dev": scores["valid"],
        "test": scores["test"],
        "predict_raw_text_sentences_per_s": len(texts) / predict_s,
        "decode_sentences_per_s": len(texts) / decode_s,
    }
    emit(summary, as_json)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    q = sub.add_parser("quality")
    add_quality_arguments(q, sorted(tag.PRESETS), minutes=30.0)
    q.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    quality(args.preset, args.minutes, args.seed, args.out, args.json, args.overrides)


if __name__ == "__main__":
    main()
