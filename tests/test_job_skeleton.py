"""A new job from the skeleton alone: per-step tagging of numeric sequences (one label per
step, the synced many-to-many), declared here, trained and reloaded through the generic
command line and ``rnnkit.load``. The job is the part above the dashed line."""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Literal

import torch
import torch.nn.functional as F
from click.testing import CliRunner
from torch import nn

import rnnkit
from rnnkit.cli import main
from rnnkit.cli.predict import job_group
from rnnkit.config import StackConfig
from rnnkit.layers import Recurrent
from rnnkit.tasks.common import FitPlan, Job, Prepared, register
from rnnkit.training import StepOutput, TrainConfig


@dataclasses.dataclass(frozen=True, kw_only=True)
class StepData:
    """Attributes:
    data: JSON Lines of {"x": [numbers], "y": [labels]}, one sequence a line.
    batch_size: Sequences per batch."""

    data: str | None = None
    batch_size: int = 16


@dataclasses.dataclass(frozen=True, kw_only=True)
class StepTagConfig:
    task: Literal["steptag"] = "steptag"
    data: StepData = dataclasses.field(default_factory=StepData)
    model: StackConfig = dataclasses.field(
        default_factory=lambda: StackConfig(cell="gru", hidden_size=16, bidirectional=True)
    )
    train: TrainConfig = dataclasses.field(default_factory=lambda: TrainConfig(lr=1e-2))


class Tagger(nn.Module):
    def __init__(self, stack: StackConfig, tags: int) -> None:
        super().__init__()
        self.rnn = Recurrent.from_config(stack.reading(1))
        self.head = nn.Linear(self.rnn.output_size, tags)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, T) -> (B, T, tags)
        return self.head(self.rnn(x[..., None])[0])


class TagObjective:
    def loss(self, model: Tagger, batch: tuple, state: Any) -> StepOutput:
        x, y = batch
        return StepOutput(F.cross_entropy(model(x).flatten(0, 1), y.flatten()), y.numel(), None)

    def evaluate(self, model: Tagger, batches: list) -> dict[str, float]:
        x, y = (torch.cat(parts) for parts in zip(*batches, strict=True))
        logits = model(x)
        loss = F.cross_entropy(logits.flatten(0, 1), y.flatten())
        return {"loss": float(loss), "acc": float((logits.argmax(-1) == y).float().mean())}


class StepTagTask:
    def __init__(self, config: StepTagConfig, tags: list[str], model: Tagger) -> None:
        self.config, self.tags, self.model = config, tags, model.eval()

    @torch.no_grad()
    def predict(self, inputs: list[list[float]]) -> list[list[str]]:
        return [[self.tags[i] for i in self.model(torch.tensor([x]))[0].argmax(-1)] for x in inputs]


class StepTagging(Job):
    name, title, config = "steptag", "step tagger", StepTagConfig

    def prepare(self, config: StepTagConfig, tags: list[str] | None) -> Prepared:
        rows = [json.loads(line) for line in open(config.data.data)]  # noqa: SIM115
        tags = tags or sorted({t for row in rows for t in row["y"]})
        x = torch.tensor([row["x"] for row in rows])
        y = torch.tensor([[tags.index(t) for t in row["y"]] for row in rows])
        return Prepared(tags, (x, y))

    def save_artifacts(self, run: Any, tags: list[str]) -> None:
        run.write_extra("tags", tags)

    def read_artifacts(self, run: Any, config: StepTagConfig) -> list[str]:
        return run.read_extra("tags")

    def build_model(self, config: StepTagConfig, tags: list[str]) -> Tagger:
        return Tagger(config.model, len(tags))

    def plan(self, config: StepTagConfig, prepared: Prepared, model: Tagger, run, **_) -> FitPlan:
        x, y, b = *prepared.data, config.data.batch_size
        batches = [(x[i : i + b], y[i : i + b]) for i in range(0, len(x), b)]
        return FitPlan(batches[1:], batches[:1], TagObjective())

    def task(self, config: StepTagConfig, tags: list[str], model: Tagger, run: Any) -> StepTagTask:
        return StepTagTask(config, tags, model)


# ------------------------------------------------------------------------------------------
JOB = register(StepTagging())
main.add_command(job_group(JOB))


def test_a_job_declared_on_the_skeleton_trains_and_reloads_through_the_cli(tmp_path):
    """Tag each step "up" when the running sum of the sequence so far is positive: the tag
    depends on the past, so a recurrent model is needed and a per-step one is not enough."""
    gen = torch.Generator().manual_seed(0)
    with open(tmp_path / "seqs.jsonl", "w") as f:
        for _ in range(160):
            x = torch.randn(12, generator=gen)
            tags = ["up" if s > 0 else "down" for s in x.cumsum(0)]
            f.write(json.dumps({"x": x.tolist(), "y": tags}) + "\n")
    run = tmp_path / "run"
    args = ["steptag", "train", "--data", str(tmp_path / "seqs.jsonl"), "--out", str(run)]
    result = CliRunner().invoke(main, [*args, "--epochs", "15", "--json", "--progress", "none"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.splitlines()[-1])
    assert summary["task"] == "steptag" and summary["best_epoch"] >= 1
    assert summary["validation"]["acc"] > 0.85  # a per-step guess from x_t alone gets ~0.7

    task = rnnkit.load(run)
    assert isinstance(task, StepTagTask) and task.tags == ["down", "up"]
    assert task.predict([[1.0, -3.0, 1.0, 3.0, 1.0]]) == [["up", "down", "down", "up", "up"]]
    answer = CliRunner().invoke(main, ["steptag", "predict", str(run), "[2.0, -1.0, -3.0]"])
    assert answer.exit_code == 0, answer.output
    assert json.loads(answer.output) == ["up", "up", "down"]
