"""Synthetic reviews for the classification tests: two sentiment words among filler."""

from __future__ import annotations

import csv
import random
from pathlib import Path

from rnnkit.config import StackConfig
from rnnkit.models.classifier import ClassifierModelConfig
from rnnkit.tasks import classify as clf
from rnnkit.tasks.classify.data import ClassifyDataConfig
from rnnkit.training.config import TrainConfig

POSITIVE = ["good", "great", "wonderful", "excellent", "superb", "lovely", "enjoyable", "moving"]
NEGATIVE = ["bad", "awful", "terrible", "boring", "poor", "dull", "horrible", "weak"]
FILLER = [
    "the",
    "movie",
    "was",
    "a",
    "film",
    "plot",
    "actors",
    "and",
    "it",
    "really",
    "quite",
    "very",
    "story",
]


def reviews(count: int, seed: int) -> list[tuple[str, str]]:
    """Reviews whose label is carried by two sentiment words among filler words."""
    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        label = rng.choice(["pos", "neg"])
        words = [rng.choice(FILLER) for _ in range(rng.randint(3, 15))]
        for _ in range(2):
            cue = rng.choice(POSITIVE if label == "pos" else NEGATIVE)
            words.insert(rng.randrange(len(words) + 1), cue)
        rows.append((" ".join(words).capitalize() + ".", label))
    return rows


def write_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["review", "sentiment"])
        writer.writerows(rows)
    return path


def review_files(root: Path) -> dict[str, Path]:
    """A training and a test CSV of synthetic reviews under ``root``."""
    return {
        "train": write_csv(root / "train.csv", reviews(400, seed=1)),
        "test": write_csv(root / "test.csv", reviews(120, seed=2)),
    }


def small_config(files: dict[str, Path], **model) -> clf.ClassifyConfig:
    return clf.ClassifyConfig(
        data=ClassifyDataConfig(
            data=str(files["train"]),
            test=str(files["test"]),
            text_col="review",
            label_col="sentiment",
            batch_size=16,
        ),
        model=ClassifierModelConfig(
            embedding_size=16,
            **model,
            rnn=StackConfig(cell="gru", hidden_size=24, bidirectional=True),
        ),
        train=TrainConfig(epochs=6, lr=1e-2, monitor="val_acc", mode="max", log_every=1000),
    )
