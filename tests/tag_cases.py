"""Generated tagged sentences and a small tagger config, shared by the tagging tests."""

from __future__ import annotations

import random
from pathlib import Path

from rnnkit.config import StackConfig
from rnnkit.models.tagger import TaggerModelConfig
from rnnkit.tasks.tag.config import TagConfig, TagDataConfig
from rnnkit.training.config import TrainConfig

FIRST = ["Anna", "Boris", "Carla", "Dmitri", "Elena", "Farid", "Greta", "Hiro"]
LAST = ["Smith", "Ivanov", "Rossi", "Tanaka", "Okafor", "Berg", "Novak", "Lund"]
PLACES = ["Paris", "Lagos", "Osaka", "Quito", "Oslo", "Lima", "Perth", "Riga"]
VERBS = ["visited", "left", "praised", "reached", "saw"]


def sentence(rng: random.Random) -> tuple[list[str], list[str]]:
    """A generated sentence in BIO: a person (one or two words) does something to a place,
    or a person meets a person."""
    tokens, tags = [], []

    def person() -> None:
        words = [rng.choice(FIRST)] + ([rng.choice(LAST)] if rng.random() < 0.6 else [])
        tokens.extend(words)
        tags.extend(["B-PER"] + ["I-PER"] * (len(words) - 1))

    person()
    tokens.append(rng.choice(VERBS))
    tags.append("O")
    if rng.random() < 0.5:
        tokens.append(rng.choice(PLACES))
        tags.append("B-LOC")
    else:
        person()
    tokens.append(".")
    tags.append("O")
    return tokens, tags


def write_conll(path: Path, count: int, seed: int) -> Path:
    rng = random.Random(seed)
    lines = []
    for _ in range(count):
        tokens, tags = sentence(rng)
        lines += [f"{t}\t{g}" for t, g in zip(tokens, tags, strict=True)] + [""]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def tiny_config(tmp_path: Path, **train: object) -> TagConfig:
    data = TagDataConfig(
        data=str(write_conll(tmp_path / "train.tsv", 300, 0)),
        valid=str(write_conll(tmp_path / "dev.tsv", 60, 1)),
        batch_size=16,
    )
    model = TaggerModelConfig(
        embedding_size=24,
        char_embedding_size=8,
        char_size=8,
        casing_size=4,
        rnn=StackConfig(cell="lstm", hidden_size=24, bidirectional=True),
    )
    settings = {"epochs": 12, "lr": 0.01, "monitor": "val_f1", "mode": "max", **train}
    return TagConfig(data=data, model=model, train=TrainConfig(**settings))
