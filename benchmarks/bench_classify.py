"""Classification benchmarks (issue #6): accuracy within a time budget, and packing throughput.

``quality PRESET --minutes M --out RUN [--embeddings-from DATASET]``
    Trains ``rnnkit classify train --preset PRESET --max-time Mm`` and evaluates the best
    weights once on the reported split: IMDB's 25k test reviews, SST-2's dev set, beside the
    run's TF-IDF baseline (issue #27; a stacked run's network is on top of it). Prints the
    accuracy with its 95% (Wilson) interval, macro-F1, the wall time of each phase
    (word2vec, training, evaluation) and the parameter count; ``--json`` writes them. With
    ``--embeddings-from DATASET``, word2vec vectors are first trained (``rnnkit embed
    train``'s code) on the training texts of DATASET, never its test texts (for the run's
    own dataset: the training split after the validation share is held out), and loaded
    with ``--embeddings``; their time counts in the budget (the classifier gets M minutes
    minus it).

``packing [--rounds R] [--steps S]``
    Training throughput on IMDB of the same model (the ``imdb`` preset's) over four ways of
    batching the same reviews: length-bucketed batches with lengths (rnnkit's default),
    the same bucketed batches through torch's packed kernel (what ``engine="auto"`` did
    before it sent variable-length CPU batches to the loop), randomly drawn batches with
    lengths (no bucketing), and randomly drawn batches padded to their longest review and
    run over every step (a plain padded pipeline). Interleaved round by round; medians of
    real (unpadded) tokens per second.

Usage::

    python -m benchmarks.bench_classify quality imdb --minutes 20 --out runs/bench-imdb
    python -m benchmarks.bench_classify quality sst2 --minutes 20 --out runs/bench-sst2
    python -m benchmarks.bench_classify packing --rounds 5 --json docs/results/packing.json
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from benchmarks.common import add_quality_arguments, emit, environment
from rnnkit.config import apply_overrides, from_dict
from rnnkit.data.batching import LabelledBatch
from rnnkit.data.embeddings import save_vectors
from rnnkit.data.token_cache import tokenize_many
from rnnkit.data.word2vec import Word2VecConfig, train_word2vec
from rnnkit.tasks import classify as clf
from rnnkit.tasks.classify import data as cdata
from rnnkit.training.loop import seed_everything
from rnnkit.training.progress import make_progress


def _pretrain_vectors(
    config: clf.ClassifyConfig, dataset: str, out: Path, dim: int
) -> tuple[Path, float]:
    """word2vec on ``dataset``'s training texts (labels unused); returns the file and time."""
    start = time.perf_counter()
    if dataset == config.data.dataset:
        train, _ = cdata.load_splits(config.data, config.train.seed)
    else:
        from rnnkit.data.registry import locate

        data = cdata.ClassifyDataConfig(dataset=dataset)
        train = cdata.load_split(data, locate(dataset, "train"), labelled=False)
    sentences = tokenize_many(train.inputs, config.text)
    w2v = Word2VecConfig(dim=dim, min_count=5, workers=2, epochs=5)
    words, vectors = train_word2vec(sentences, w2v)
    path = save_vectors(out.with_suffix(".vectors.txt"), words, vectors)
    return path, time.perf_counter() - start


def quality(
    preset: str,
    minutes: float,
    out: Path,
    as_json: Path | None,
    overrides: list[str],
    embeddings_from: str | None,
) -> dict[str, Any]:
    config = from_dict(clf.ClassifyConfig, clf.preset_config(preset))
    config = apply_overrides(config, overrides)
    wall = time.perf_counter()
    w2v_time = 0.0
    if embeddings_from is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        vectors, w2v_time = _pretrain_vectors(
            config, embeddings_from, out, config.model.embedding_size
        )
        config = apply_overrides(config, [f"init.embeddings={vectors}"])
    budget = max(minutes * 60 - w2v_time, 60.0)
    config = apply_overrides(config, [f"train.max_time={budget:.0f}s"])
    task, result = clf.train(config, out, overwrite=True, progress=make_progress("log", sys.stderr))
    train_wall = time.perf_counter() - wall - w2v_time
    evaluated = time.perf_counter()
    examples = task.load_examples()  # the dataset's reported split, read once
    report, loss, comparison = task.evaluate_against_baseline(examples)
    eval_time = time.perf_counter() - evaluated
    low, high = clf.accuracy_interval(report.accuracy, report.count)
    summary = {
        "benchmark": f"quality/{preset}",
        "preset": preset,
        "overrides": overrides,
        "embeddings_from": embeddings_from,
        "minutes": minutes,
        **environment(),
        "parameters": sum(p.numel() for p in task.model.parameters()),
        "epochs": result.epochs,
        "steps": result.steps,
        "stop_reason": result.stop_reason,
        "best_epoch": result.best_epoch,
        "best_val_acc": result.best_metric,
        "word2vec_time_s": w2v_time,
        "train_time_s": result.train_time,
        "train_wall_s": train_wall,
        "eval_time_s": eval_time,
        "reported_split": examples.source,
        "examples": report.count,
        "accuracy": report.accuracy,
        "accuracy_ci95": [low, high],
        "macro_f1": report.macro_f1,
        "loss": loss,
        "stacked": task.stacked_on is not None,
        "baseline": None if comparison is None else comparison.to_dict(),
    }
    emit(summary, as_json)
    return summary


# --- packing ----------------------------------------------------------------------------------


def _step(model: torch.nn.Module, opt: torch.optim.Optimizer, batch: LabelledBatch, lengths: bool):
    logits = model(batch.inputs, batch.lengths if lengths else None)  # (B, 2)
    loss = F.cross_entropy(logits, batch.labels)
    opt.zero_grad()
    loss.backward()
    opt.step()


def packing(rounds: int, steps: int, as_json: Path | None) -> dict[str, Any]:
    config = from_dict(clf.ClassifyConfig, clf.preset_config("imdb"))
    train, _ = cdata.load_splits(config.data, 0)
    tokens = tokenize_many(train.inputs, config.text)
    vocab = cdata.build_vocab(tokens, config.data)
    labels = cdata.encode_labels(train.labels or [], cdata.label_order(train.labels or []), "")
    encoded = clf.Encoded(cdata.encode_tokens(tokens, vocab, config.data), labels)
    size = config.data.batch_size
    batchings = {  # name: (bucket, pass lengths, engine)
        "bucketed+lengths": (True, True, "auto"),
        "bucketed+torch-packed": (True, True, "fused"),
        "random+lengths": (False, True, "auto"),
        "random+padded": (False, False, "auto"),
    }
    seed_everything(0)
    model = clf.build_model(config, 2, vocab, None).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    rates: dict[str, list[float]] = {name: [] for name in batchings}
    for r in range(rounds):
        for name, (bucket, lengths, engine) in batchings.items():
            model.rnn.engine = engine  # same weights, another kernel
            batches = clf.make_batches(
                encoded, size, pad_id=vocab.pad_id, bucket=bucket, shuffle=True, seed=r
            )[:steps]
            real = sum(int(b.lengths.sum()) for b in batches)
            start = time.perf_counter()
            for batch in batches:
                _step(model, opt, batch, lengths)
            rates[name].append(real / (time.perf_counter() - start))
            print(f"round {r}: {name:17s} {rates[name][-1]:9,.0f} real tokens/s", file=sys.stderr)
    medians = {name: statistics.median(v) for name, v in rates.items()}
    summary = {
        "benchmark": "packing/imdb",
        **environment(),
        "batch_size": size,
        "steps_per_round": steps,
        "rounds": rounds,
        "real_tokens_per_s": rates,
        "median_real_tokens_per_s": medians,
        "speedup_vs_random_padded": medians["bucketed+lengths"] / medians["random+padded"],
        "speedup_vs_random_lengths": medians["bucketed+lengths"] / medians["random+lengths"],
        "speedup_vs_torch_packed": medians["bucketed+lengths"] / medians["bucketed+torch-packed"],
    }
    emit(summary, as_json)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    q = sub.add_parser("quality")
    add_quality_arguments(q, sorted(clf.PRESETS), minutes=20.0)
    q.add_argument("--embeddings-from", choices=sorted(cdata.DATASETS))
    p = sub.add_parser("packing")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.command == "quality":
        quality(
            args.preset,
            args.minutes,
            args.out,
            args.json,
            args.overrides,
            args.embeddings_from,
        )
    else:
        packing(args.rounds, args.steps, args.json)


if __name__ == "__main__":
    main()
