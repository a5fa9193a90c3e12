"""Translation benchmarks (issue #25): Multi30k and eng-fra.

``quality PRESET --minutes M --out RUN [--seed N] [--beam K] [--set KEY=VALUE ...] [--json FILE]``
trains the preset within M minutes (best epoch by validation loss), then translates every
test set of the run's dataset greedily and with beam search (``--beam``, length penalty 1):
sacreBLEU BLEU and chrF against the references of the run's form (raw sentences: ``13a``
tokenisation; the organisers' tokenised lower-cased text: none, as ``multi-bleu.perl``
counts), for Multi30k BLEU on lower-cased Moses-tokenised text (as the published baselines
were scored), the length ratio, the references' perplexity, training target tokens per
second and beam-search sentences per second.

``speed [--rounds R] [--steps S]`` times ``translate train``'s training step (``fit`` with
the ``multi30k`` preset's model, objective and optimiser) against the same model written in
bare torch (``benchmarks/bare_seq2seq.py``) on the same Multi30k batches, interleaved round
by round: target tokens per second and the per-round ratio.

``decode RUN [--beam K]`` times beam search on test_2016_flickr (or the run's test set):
batched (every live hypothesis of many sentences in one decoder step) against one sentence
at a time, and checks that both give the same translations.

Run it alone: the figures are wall time on the machine's cores.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

import torch

import rnnkit
from benchmarks.bare_seq2seq import BareSeq2Seq, bare_round
from benchmarks.common import (
    add_quality_arguments,
    emit,
    environment,
    keep_freed_pages,
    train_preset,
)
from rnnkit.config import from_dict
from rnnkit.tasks import translate
from rnnkit.tasks.translate import data as tdata
from rnnkit.tasks.translate.batches import make_batches
from rnnkit.tasks.translate.objective import TranslateObjective
from rnnkit.training.config import TrainConfig
from rnnkit.training.loop import fit, seed_everything


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


def speed(rounds: int, steps: int, as_json: Path | None) -> dict[str, Any]:
    config = from_dict(translate.TranslateConfig, translate.preset_config("multi30k"))
    sides, (train, _) = translate.JOB.prepare(config, None)
    eos = sides.tgt.vocab.eos_id
    batches = make_batches(
        train, config.data.batch_size, eos_id=eos, bucket=True, shuffle=True, seed=0
    )[:steps]
    n_tokens = sum(int((b.tgt_out != 0).sum()) for b in batches)
    seed_everything(0)
    ours = translate.build_model(config, sides)
    m = config.model
    bare = BareSeq2Seq(
        len(sides.src.vocab), len(sides.tgt.vocab), m.embedding_size, m.encoder.hidden_size,
        m.dropout,
    )  # fmt: skip
    counts = [sum(p.numel() for p in net.parameters()) for net in (ours, bare)]
    if counts[0] != counts[1]:
        raise SystemExit(f"the two models differ: {counts[0]:,} against {counts[1]:,} parameters")
    train_config = TrainConfig(
        epochs=1, lr=config.train.lr, clip_norm=config.train.clip_norm, device="cpu", log_every=50
    )
    objective = TranslateObjective(config.label_smoothing)
    adam = torch.optim.Adam(bare.parameters(), lr=config.train.lr)

    def rnnkit_round(part: list[Any]) -> float:
        tic = time.perf_counter()
        fit(ours, part, None, train_config, objective=objective)
        return time.perf_counter() - tic

    def bare_part(part: list[Any]) -> float:
        return bare_round(bare, adam, part, config.label_smoothing, config.train.clip_norm)

    rnnkit_round(batches[:5])  # warm-up, both
    bare_part(batches[:5])
    times: dict[str, list[float]] = {"rnnkit translate train": [], "bare torch loop": []}
    for _ in range(rounds):
        times["rnnkit translate train"].append(rnnkit_round(batches))
        times["bare torch loop"].append(bare_part(batches))
    ratios = [
        b / a
        for a, b in zip(times["rnnkit translate train"], times["bare torch loop"], strict=True)
    ]
    report = {
        "benchmark": "speed/multi30k",
        **environment(),
        "parameters": counts[0],
        "rounds": rounds,
        "steps_per_round": len(batches),
        "target_tokens_per_round": n_tokens,
        "target_tokens_per_s": {k: n_tokens / statistics.median(v) for k, v in times.items()},
        "ratio_per_round": ratios,
        "ratio_median": statistics.median(ratios),
    }
    emit(report, as_json)
    return report


def decode(run: Path, beam: int, as_json: Path | None) -> dict[str, Any]:
    task = rnnkit.load(run)
    pairs, _ = next(iter(_test_sets(task).values()))
    task.translate(pairs.src[:16], beam=beam)  # warm-up
    tic = time.perf_counter()
    batched = task.translate(pairs.src, beam=beam)
    batched_s = time.perf_counter() - tic
    tic = time.perf_counter()
    alone = [task.translate([text], beam=beam)[0] for text in pairs.src]
    alone_s = time.perf_counter() - tic
    same = sum(a[0].text == b[0].text for a, b in zip(alone, batched, strict=True))
    report = {
        "benchmark": f"decode/beam{beam}",
        **environment(),
        "run": str(run),
        "test": pairs.source,
        "sentences": len(pairs.src),
        "eval_batch_size": task.config.data.eval_batch_size,
        "sentences_per_s": {
            "batched": len(pairs.src) / batched_s,
            "one at a time": len(pairs.src) / alone_s,
        },
        "speedup": alone_s / batched_s,
        "same_translation": same,
    }
    emit(report, as_json)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    q = sub.add_parser("quality")
    add_quality_arguments(q, sorted(translate.PRESETS), minutes=60.0)
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--beam", type=int, default=5)
    s = sub.add_parser("speed")
    s.add_argument("--rounds", type=int, default=5)
    s.add_argument("--steps", type=int, default=40)
    s.add_argument("--json", type=Path)
    d = sub.add_parser("decode")
    d.add_argument("run", type=Path)
    d.add_argument("--beam", type=int, default=5)
    d.add_argument("--json", type=Path)
    args = parser.parse_args()
    keep_freed_pages()  # as the rnnkit command does: training steps stop faulting pages in
    if args.command == "quality":
        quality(
            args.preset, args.minutes, args.seed, args.beam, args.out, args.json, args.overrides
        )
    elif args.command == "speed":
        speed(args.rounds, args.steps, args.json)
    else:
        decode(args.run, args.beam, args.json)


if __name__ == "__main__":
    main()
