"""Tagging benchmarks (issue #24): CoNLL-2003 English named entities.

``quality PRESET --minutes M --out RUN [--seed N] [--set KEY=VALUE ...] [--json FILE]`` trains
the preset within M minutes (best epoch chosen on eng.testa), then reports entity F1 on
eng.testa and eng.testb (conlleval-compatible, with seqeval), training sentences per second,
and tagging speed: sentences per second of ``TaggerTask.predict`` on eng.testb's sentences
as raw text (tokenised, tagged, entities with offsets and confidence; what ``rnnkit tag
predict`` does), and of Viterbi-only decoding of the same sentences pre-tokenised.

``speed --rounds R --steps S`` times what the CRF costs: training steps (forward, loss,
backward, Adam) of the conll2003 preset's model with a CRF and with a softmax output, on
the same batches of eng.train, alternating in each round; and decoding eng.testb (Viterbi
against an argmax per word). Medians over rounds, sentences per second.

Run it alone: the figures are wall time on the machine's cores.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
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
from rnnkit.config import from_dict
from rnnkit.data.registry import locate
from rnnkit.tasks import tag
from rnnkit.tasks.tag import data as tdata
from rnnkit.tasks.tag.batches import make_batches
from rnnkit.tasks.tag.objective import TagObjective, emissions
from rnnkit.training.loop import seed_everything


def quality(
    preset: str, minutes: float, seed: int, out: Path, as_json: Path | None, overrides: list[str]
) -> dict[str, Any]:
    task, result, train_wall = train_preset(tag, preset, minutes, seed, overrides, out)
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


def speed(rounds: int, steps: int, as_json: Path | None) -> dict[str, Any]:
    import torch

    config = from_dict(tag.TagConfig, tag.preset_config("conll2003"))
    artifacts, splits = tag.JOB.prepare(config, None)
    read = tdata.load_split(config.data, locate("conll2003", "test"), scheme=artifacts.scheme)
    test = tdata.encode(
        read,
        config.data,
        words=artifacts.words,
        chars=artifacts.chars,
        scaler=None,
        tags=artifacts.tags,
        scheme=artifacts.learned,
    )
    models = {}
    for output in ("crf", "softmax"):
        seed_everything(0)
        cfg = dataclasses.replace(config, model=dataclasses.replace(config.model, output=output))
        models[output] = tag.build_model(cfg, artifacts)
    optims = {k: torch.optim.Adam(m.parameters(), lr=1e-3) for k, m in models.items()}
    objective = TagObjective(artifacts.tags, artifacts.learned)
    size = config.data.batch_size
    decode_batches = make_batches(
        test, config.data.eval_batch_size, pad_id=0, bucket=True, shuffle=False
    )
    train_rates: dict[str, list[float]] = {k: [] for k in models}
    decode_rates: dict[str, list[float]] = {k: [] for k in models}
    for r in range(rounds):
        batches = make_batches(splits.train, size, pad_id=0, bucket=True, shuffle=True, seed=r)[
            :steps
        ]
        sentences = sum(len(b.lengths) for b in batches)
        for name, model in models.items():
            model.train()
            start = time.perf_counter()
            for batch in batches:
                optims[name].zero_grad()
                objective.loss(model, batch, None).loss.backward()
                optims[name].step()
            train_rates[name].append(sentences / (time.perf_counter() - start))
            model.eval()
            start = time.perf_counter()
            with torch.no_grad():
                for batch in decode_batches:
                    model.decode(emissions(model, batch), batch.lengths)
            decode_rates[name].append(len(test.inputs) / (time.perf_counter() - start))
            print(
                f"round {r}: {name:8s} train {train_rates[name][-1]:7,.0f} sentences/s  "
                f"decode {decode_rates[name][-1]:7,.0f} sentences/s",
                file=sys.stderr,
            )
    train_median = {k: statistics.median(v) for k, v in train_rates.items()}
    decode_median = {k: statistics.median(v) for k, v in decode_rates.items()}
    summary = {
        "benchmark": "speed/conll2003",
        **environment(),
        "batch_size": size,
        "steps_per_round": steps,
        "rounds": rounds,
        "train_sentences_per_s": train_rates,
        "decode_sentences_per_s": decode_rates,
        "median_train_sentences_per_s": train_median,
        "median_decode_sentences_per_s": decode_median,
        "crf_train_time_ratio": train_median["softmax"] / train_median["crf"],
        "crf_decode_time_ratio": decode_median["softmax"] / decode_median["crf"],
    }
    emit(summary, as_json)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    q = sub.add_parser("quality")
    add_quality_arguments(q, sorted(tag.PRESETS), minutes=30.0)
    q.add_argument("--seed", type=int, default=0)
    p = sub.add_parser("speed")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--json", type=Path)
    args = parser.parse_args()
    keep_freed_pages()  # as the rnnkit command does: training steps stop faulting pages in
    if args.command == "quality":
        quality(args.preset, args.minutes, args.seed, args.out, args.json, args.overrides)
    else:
        speed(args.rounds, args.steps, args.json)


if __name__ == "__main__":
    main()
