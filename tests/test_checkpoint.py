"""Tests for rnnkit.training.checkpoint: exact resumption, tied weights, clear errors.

The round trips check numbers: a model and optimizer restored from a checkpoint continue
training to bit-identical parameters, schedules to identical learning rates, and the RNGs to
identical draws.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import numpy as np
import pytest
import safetensors.torch
import torch
from torch import nn

from rnnkit.config import RnnkitError
from rnnkit.training import checkpoint
from rnnkit.training.checkpoint import (
    Checkpoint,
    CheckpointError,
    load_checkpoint,
    save_checkpoint,
)
from rnnkit.training.weights import load_model_weights, save_model_weights

# --- small real models ----------------------------------------------------------------------


class Tiny(nn.Module):
    """An LSTM with a linear read-out: the shapes of a real sequence model, tiny."""

    def __init__(self, hidden: int = 8, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.rnn = nn.LSTM(3, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


class TiedLM(nn.Module):
    """Embedding shared with the output layer (Press & Wolf 2017 weight tying)."""

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.embedding = nn.Embedding(11, 6)
        self.rnn = nn.GRU(6, 6, batch_first=True)
        self.output = nn.Linear(6, 11)
        self.output.weight = self.embedding.weight

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(self.embedding(tokens))
        return self.output(out)


def batches(n: int, seed: int = 123) -> list[tuple[torch.Tensor, torch.Tensor]]:
    gen = torch.Generator().manual_seed(seed)
    return [
        (torch.randn(4, 5, 3, generator=gen), torch.randn(4, 2, generator=gen)) for _ in range(n)
    ]


def train(model: nn.Module, optimizer: torch.optim.Optimizer, data) -> None:
    for x, y in data:
        optimizer.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        optimizer.step()


def save(directory: Path, model: nn.Module, optimizer=None, scheduler=None, step=1, **kwargs):
    optimizer = optimizer or torch.optim.SGD(model.parameters(), lr=0.1)
    progress = kwargs.pop("progress", {"step": step, "epoch": 0})
    return save_checkpoint(
        directory,
        model=model,
        optimizer=optimizer,
        scheduler=scheduler,
        progress=progress,
        **kwargs,
    )


def names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


# --- optimizer round trip -------------------------------------------------------------------

OPTIMIZERS = {
    "sgd_nesterov": lambda p: torch.optim.SGD(
        p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3
    ),
    "sgd_plain": lambda p: torch.optim.SGD(p, lr=0.05),  # an empty optimizer state
    "adam": lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.99)),
    "adam_amsgrad": lambda p: torch.optim.Adam(p, lr=0.01, amsgrad=True),
    "adamw": lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1),
}


@pytest.mark.parametrize("kind", sorted(OPTIMIZERS))
def test_optimizer_round_trip_continues_bit_identically(tmp_path, kind):
    data = batches(6)
    model = Tiny()
    optimizer = OPTIMIZERS[kind](model.parameters())
    train(model, optimizer, data[:3])
    save(tmp_path, model, optimizer, step=3)
    train(model, optimizer, data[3:])  # the uninterrupted run

    fresh = Tiny(seed=99)
    fresh_optimizer = OPTIMIZERS[kind](fresh.parameters())
    load_checkpoint(tmp_path, model=fresh, optimizer=fresh_optimizer)
    train(fresh, fresh_optimizer, data[3:])  # the resumed run

    for (name, a), b in zip(model.named_parameters(), fresh.parameters(), strict=True):
        assert torch.equal(a, b), f"{kind}: {name} differs after resuming"
    assert fresh_optimizer.param_groups[0]["lr"] == optimizer.param_groups[0]["lr"]
    if kind == "adam":
        assert fresh_optimizer.param_groups[0]["betas"] == (0.8, 0.99)  # a tuple again


def test_non_tensor_optimizer_state_round_trips(tmp_path):
    model = Tiny()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    state = optimizer.state_dict()
    state["state"] = {0: {"momentum_buffer": None, "count": 3}}
    optimizer.load_state_dict(state)
    save(tmp_path, model, optimizer)
    fresh = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    load_checkpoint(tmp_path, model=model, optimizer=fresh)
    assert fresh.state_dict()["state"] == {0: {"momentum_buffer": None, "count": 3}}


def test_optimizer_files_layout(tmp_path):
    model = Tiny()
    optimizer = torch.optim.Adam(model.parameters())
    train(model, optimizer, batches(1))
    generation = save(tmp_path, model, optimizer)
    with safetensors.safe_open(generation / "optimizer.safetensors", "pt") as f:
        keys = set(f.keys())
    assert {"state.0.exp_avg", "state.0.exp_avg_sq", "state.0.step", "state.5.exp_avg"} <= keys
    info = json.loads((generation / "optimizer.json").read_text())
    assert info["class"] == "Adam"
    group = info["state_dict"]["param_groups"][0]
    assert group["betas"] == {"__tuple__": [0.9, 0.999]}
    assert group["params"] == [0, 1, 2, 3, 4, 5]


# --- scheduler round trip -------------------------------------------------------------------


def _sequential(opt):
    lr = torch.optim.lr_scheduler
    warmup = lr.LinearLR(opt, start_factor=0.1, total_iters=3)
    cosine = lr.CosineAnnealingLR(opt, T_max=10)
    return lr.SequentialLR(opt, [warmup, cosine], milestones=[3])


SCHEDULERS = {
    "step": lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5),
    "plateau": lambda opt: torch.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=1),
    "warmup_cosine": _sequential,
    "lambda": lambda opt: torch.optim.lr_scheduler.LambdaLR(opt, lambda epoch: 0.9**epoch),
}
# Worsening then flat validation losses, so that reduce-on-plateau acts.
LOSSES = [1.0, 0.9, 0.95, 0.97, 0.99, 0.99, 0.99, 0.99, 0.99, 0.99]


def _advance(scheduler, optimizer, epochs) -> list[float]:
    lrs = []
    for epoch in epochs:
        optimizer.step()
        if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            scheduler.step(LOSSES[epoch])
        else:
            scheduler.step()
        lrs.append(optimizer.param_groups[0]["lr"])
    return lrs


@pytest.mark.parametrize("kind", sorted(SCHEDULERS))
def test_scheduler_round_trip(tmp_path, kind):
    model = Tiny()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = SCHEDULERS[kind](optimizer)
    _advance(scheduler, optimizer, range(4))
    save(tmp_path, model, optimizer, scheduler, step=4)
    expected = _advance(scheduler, optimizer, range(4, 10))

    fresh_optimizer = torch.optim.SGD(Tiny().parameters(), lr=0.1)
    fresh_scheduler = SCHEDULERS[kind](fresh_optimizer)
    load_checkpoint(tmp_path, model=Tiny(), optimizer=fresh_optimizer, scheduler=fresh_scheduler)
    assert _advance(fresh_scheduler, fresh_optimizer, range(4, 10)) == expected
    assert len(set(expected)) > 1, "the schedule must change the lr in the window tested"
    assert fresh_scheduler.state_dict() == scheduler.state_dict()


def test_lambda_scheduler_state_holds_no_function(tmp_path):
    model = Tiny()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = SCHEDULERS["lambda"](optimizer)
    generation = save(tmp_path, model, optimizer, scheduler)
    stored = json.loads((generation / "scheduler.json").read_text())
    assert stored["class"] == "LambdaLR"
    assert stored["state_dict"]["lr_lambdas"] == [None]  # torch drops plain functions


def test_plateau_infinity_survives(tmp_path):
    model = Tiny()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    generation = save(tmp_path, model, optimizer, SCHEDULERS["plateau"](optimizer))
    assert "Infinity" in (generation / "scheduler.json").read_text()
    fresh = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer)
    fresh.best = 0.0
    load_checkpoint(tmp_path, model=model, optimizer=optimizer, scheduler=fresh)
    assert fresh.best == math.inf


class FunctionState:
    def state_dict(self):
        return {"gamma": 0.5, "hooks": [1, {"fn": len}]}

    def load_state_dict(self, state):
        raise AssertionError("never called")


def test_unstorable_scheduler_state_fails_before_writing(tmp_path):
    model = Tiny()
    with pytest.raises(CheckpointError) as info:
        save(tmp_path / "ckpt", model, scheduler=FunctionState(), step=7)
    message = str(info.value)
    assert "step-00000007/scheduler.json" in message
    assert "'hooks.1.fn'" in message and "function" in message
    assert not (tmp_path / "ckpt").exists() or names(tmp_path / "ckpt") == []


def test_scheduler_mismatches(tmp_path):
    model = Tiny()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    save(tmp_path / "none", model, optimizer, scheduler=None)
    with pytest.raises(CheckpointError, match="scheduler.json: the checkpoint has no scheduler"):
        load_checkpoint(tmp_path / "none", model=model, scheduler=SCHEDULERS["step"](optimizer))
    save(tmp_path / "step", model, optimizer, SCHEDULERS["step"](optimizer))
    with pytest.raises(CheckpointError, match="written for a StepLR scheduler, got LambdaLR"):
        load_checkpoint(tmp_path / "step", model=model, scheduler=SCHEDULERS["lambda"](optimizer))


# --- RNG round trip -------------------------------------------------------------------------


def _draws():
    return torch.rand(5).tolist(), random.random(), np.random.rand(3).tolist(), np.random.randn()


def test_rng_round_trip(tmp_path):
    torch.manual_seed(1)
    random.seed(2)
    np.random.seed(3)
    np.random.randn()  # a cached Gaussian is part of NumPy's state too
    save(tmp_path, Tiny(seed=4))
    expected = _draws()
    _draws()  # move every generator on
    load_checkpoint(tmp_path, model=Tiny())
    assert _draws() == expected


def test_rng_not_restored_when_asked(tmp_path):
    model = Tiny()
    save(tmp_path, model)
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    load_checkpoint(tmp_path, model=model, restore_rng=False)
    assert torch.equal(torch.rand(3), expected)


# --- tied weights ---------------------------------------------------------------------------


def test_tied_weights_saved_once_and_still_tied_after_load(tmp_path):
    model = TiedLM()
    path = save_model_weights(tmp_path / "model.safetensors", model)
    with safetensors.safe_open(path, "pt") as f:
        assert sorted(f.keys()) == sorted(set(model.state_dict()) - {"output.weight"})
        assert f.metadata()["output.weight"] == "embedding.weight"
    fresh = TiedLM(seed=1)
    load_model_weights(path, fresh)
    assert fresh.output.weight is fresh.embedding.weight
    for name, value in model.state_dict().items():
        assert torch.equal(fresh.state_dict()[name], value), name


def test_tied_weights_checkpoint_resumes_bit_identically(tmp_path):
    tokens = torch.randint(0, 11, (6, 4, 5), generator=torch.Generator().manual_seed(0))

    def steps(model, optimizer, chunk):
        for t in chunk:
            optimizer.zero_grad()
            logits = model(t[:, :-1])
            nn.functional.cross_entropy(logits.reshape(-1, 11), t[:, 1:].reshape(-1)).backward()
            optimizer.step()

    model = TiedLM()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    steps(model, optimizer, tokens[:3])
    save(tmp_path, model, optimizer)
    steps(model, optimizer, tokens[3:])
    fresh = TiedLM(seed=5)
    fresh_optimizer = torch.optim.Adam(fresh.parameters(), lr=0.01)
    load_checkpoint(tmp_path, model=fresh, optimizer=fresh_optimizer)
    steps(fresh, fresh_optimizer, tokens[3:])
    assert fresh.output.weight is fresh.embedding.weight
    for a, b in zip(model.parameters(), fresh.parameters(), strict=True):
        assert torch.equal(a, b)


def test_interoperates_with_safetensors_save_model(tmp_path):
    model = TiedLM()
    theirs = tmp_path / "theirs.safetensors"
    safetensors.torch.save_model(model, str(theirs))
    fresh = TiedLM(seed=3)
    load_model_weights(theirs, fresh)
    assert torch.equal(fresh.embedding.weight, model.embedding.weight)
    ours = save_model_weights(tmp_path / "ours.safetensors", model)
    again = TiedLM(seed=4)
    safetensors.torch.load_model(again, str(ours))
    assert torch.equal(again.output.weight, model.output.weight)


def test_tied_names_that_differ_in_the_file_are_an_error(tmp_path):
    model = TiedLM()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    state["output.weight"] += 1
    path = tmp_path / "model.safetensors"
    safetensors.torch.save_file(state, str(path))
    with pytest.raises(CheckpointError, match="tied in the model but differ in the file"):
        load_model_weights(path, TiedLM())


# --- extra tensors and progress -------------------------------------------------------------


def test_progress_and_extra_tensors_round_trip(tmp_path):
    model = Tiny()
    carried = (torch.randn(1, 4, 8), torch.randn(1, 4, 8))
    progress = {
        "step": 12,
        "epoch": 2,
        "best": {"val_loss": math.inf, "epoch": None},
        "window": (3, 4),
        "name": "ünïcode",
    }
    extras = {
        "carry.h": carried[0],
        "carry.c": carried[1],
        "best.head.weight": model.head.weight,  # shares memory with the model: stored anyway
    }
    generation = save(tmp_path, model, progress=progress, tensors=extras)
    loaded = load_checkpoint(tmp_path, model=Tiny(seed=1), map_location="cpu")
    assert isinstance(loaded, Checkpoint)
    assert loaded.path == generation
    assert loaded.progress == {**progress, "window": [3, 4]}  # tuples come back as lists
    assert set(loaded.tensors) == set(extras)
    for name, value in extras.items():
        assert torch.equal(loaded.tensors[name], value)
    info = json.loads((generation / "progress.json").read_text())
    assert info["format"] == 1
    assert info["rnnkit_version"] == checkpoint._rnnkit_version()


@pytest.mark.parametrize(
    ("progress", "error", "match"),
    [
        ({"epoch": 1}, ValueError, r"progress\['step'\]: expected a non-negative int, got None"),
        ({"step": -1}, ValueError, "non-negative int, got -1"),
        ({"step": True}, ValueError, "non-negative int, got True"),
        ({"step": 1, "t": torch.ones(1)}, CheckpointError, "progress key 't'.*pass it in tensors"),
        ({"step": 1, "d": {2: "x"}}, CheckpointError, "progress key 'd.2'"),
        ({"step": 1, "o": [object()]}, CheckpointError, "progress key 'o.0'"),
    ],
)
def test_bad_progress(tmp_path, progress, error, match):
    with pytest.raises(error, match=match):
        save(tmp_path, Tiny(), progress=progress)
    assert not tmp_path.exists() or names(tmp_path) == []


def test_bad_arguments(tmp_path):
    model = Tiny()
    with pytest.raises(ValueError, match="keep: expected an int >= 1, got 0"):
        save(tmp_path, model, keep=0)
    with pytest.raises(TypeError, match="optimizer: expected a torch.optim.Optimizer"):
        save_checkpoint(tmp_path, model=model, optimizer=None, scheduler=None, progress={"step": 1})
    with pytest.raises(TypeError, match="scheduler: expected an object with state_dict"):
        save(tmp_path, model, scheduler=object())


# --- generations: latest, keep, failures ----------------------------------------------------


def test_keep_prunes_old_generations(tmp_path):
    model = Tiny()
    for step in range(1, 6):
        save(tmp_path, model, step=step, keep=2)
    assert names(tmp_path) == ["latest", "step-00000004", "step-00000005"]
    assert (tmp_path / "latest").read_text() == "step-00000005\n"
    assert load_checkpoint(tmp_path, model=Tiny()).progress["step"] == 5


def test_saving_an_earlier_step_drops_the_abandoned_future(tmp_path):
    model = Tiny()
    for step in (10, 20, 30):
        save(tmp_path, model, step=step, keep=3)
    # Resumed from step 20 (say `latest` was lost), training saves step 25.
    save(tmp_path, model, step=25, keep=3)
    assert names(tmp_path) == ["latest", "step-00000010", "step-00000020", "step-00000025"]


def test_same_step_twice_replaces_the_generation(tmp_path):
    model = Tiny()
    save(tmp_path, model, step=3, progress={"step": 3, "v": 1})
    save(tmp_path, model, step=3, progress={"step": 3, "v": 2})
    assert names(tmp_path) == ["latest", "step-00000003"]
    assert load_checkpoint(tmp_path, model=model).progress["v"] == 2


def test_failure_while_writing_keeps_previous_generation(tmp_path):
    model = Tiny()
    save(tmp_path, model, step=1)
    with pytest.raises(TypeError, match="expected a Tensor"):
        # Fails inside the generation directory, after the model files were written.
        save(tmp_path, model, step=2, tensors={"bad": "not a tensor"})
    assert names(tmp_path) == ["latest", "step-00000001"]  # no temp directory left
    assert load_checkpoint(tmp_path, model=Tiny(seed=2)).progress["step"] == 1


def test_leftovers_of_interrupted_saves_are_cleaned(tmp_path):
    model = Tiny()
    save(tmp_path, model, step=1)
    (tmp_path / "step-00000002.tmp-0a1b2c3d").mkdir()
    (tmp_path / "step-00000001.old-deadbeef").mkdir()
    save(tmp_path, model, step=2)
    assert names(tmp_path) == ["latest", "step-00000001", "step-00000002"]


def test_missing_latest_falls_back_to_newest_generation(tmp_path):
    model = Tiny()
    save(tmp_path, model, step=1)
    save(tmp_path, model, step=2)
    (tmp_path / "latest").unlink()  # as after a crash between the rename and `latest`
    assert load_checkpoint(tmp_path, model=model).progress["step"] == 2


@pytest.mark.parametrize("setup", ["no directory", "empty directory"])
def test_no_checkpoint(tmp_path, setup):
    directory = tmp_path / "ckpt"
    if setup == "empty directory":
        directory.mkdir()
    with pytest.raises(CheckpointError, match=f"no checkpoint in {directory}"):
        load_checkpoint(directory, model=Tiny())


def test_checkpoint_error_is_an_rnnkit_error():
    assert issubclass(CheckpointError, RnnkitError)
    assert CheckpointError("x").exit_code == 1


# --- corruption and mismatch: a clear error naming the file, the model untouched ------------


def _truncate_half(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _set_progress(**changes):
    def edit(path: Path) -> None:
        info = json.loads(path.read_text())
        info.update(changes)
        path.write_text(json.dumps(info))

    return edit


CORRUPTIONS = {
    "truncated model": ("model.safetensors", _truncate_half, "truncated or corrupted"),
    "garbage model": ("model.safetensors", lambda p: p.write_bytes(b"\x00" * 40), "corrupted"),
    "truncated optimizer": ("optimizer.safetensors", _truncate_half, "truncated or corrupted"),
    "garbage optimizer json": ("optimizer.json", lambda p: p.write_text("{'no"), "invalid JSON"),
    "truncated scheduler json": ("scheduler.json", _truncate_half, "invalid JSON at line"),
    "garbage rng": ("rng.safetensors", lambda p: p.write_bytes(b"junk"), "corrupted"),
    "binary rng json": ("rng.json", lambda p: p.write_bytes(b"\xff\xfe"), "not UTF-8"),
    "bad rng json": ("rng.json", lambda p: p.write_text('{"python": 1, "numpy": {}}'), "RNG"),
    "truncated extras": ("tensors.safetensors", _truncate_half, "truncated or corrupted"),
    "garbage progress": ("progress.json", lambda p: p.write_text("]"), "invalid JSON"),
    "deleted rng json": ("rng.json", Path.unlink, "missing file"),
    "deleted model": ("model.safetensors", Path.unlink, "missing file"),
    "deleted progress": ("progress.json", Path.unlink, "missing file"),
    "major version": (
        "progress.json",
        _set_progress(rnnkit_version="99.0.0"),
        r"written by rnnkit 99\.0\.0, this is \d+\..*major version",
    ),
    "format": ("progress.json", _set_progress(format=2), "checkpoint format 2, this rnnkit"),
    "dangling tensor reference": (
        "optimizer.json",
        lambda p: p.write_text(
            p.read_text().replace('"state.0.momentum_buffer"', '"state.9.nothing"')
        ),
        "names tensor 'state.9.nothing'",
    ),
}


@pytest.mark.parametrize("case", sorted(CORRUPTIONS))
def test_corrupted_checkpoint_names_the_file(tmp_path, case):
    filename, damage, problem = CORRUPTIONS[case]
    model = Tiny()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = SCHEDULERS["step"](optimizer)
    train(model, optimizer, batches(1))
    generation = save(tmp_path, model, optimizer, scheduler, tensors={"h": torch.ones(3)})
    damage(generation / filename)

    fresh = Tiny(seed=1)
    before = {k: v.clone() for k, v in fresh.state_dict().items()}
    fresh_optimizer = torch.optim.SGD(fresh.parameters(), lr=0.1, momentum=0.9)
    with pytest.raises(CheckpointError, match=problem) as info:
        load_checkpoint(
            tmp_path,
            model=fresh,
            optimizer=fresh_optimizer,
            scheduler=SCHEDULERS["step"](fresh_optimizer),
        )
    assert str(info.value).startswith(str(generation / filename) + ": "), str(info.value)
    for name, value in fresh.state_dict().items():
        assert torch.equal(value, before[name]), "a failed load must not change the model"
    assert fresh_optimizer.state_dict()["state"] == {}


def test_wrong_shape_message(tmp_path):
    save(tmp_path, Tiny(hidden=8))
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(tmp_path, model=Tiny(hidden=16))
    message = str(info.value)
    assert message.startswith(str(tmp_path / "step-00000001" / "model.safetensors") + ": ")
    assert (
        "parameter 'rnn.weight_hh_l0': expected shape (64, 16) (the model), got (32, 8) (the file)"
    ) in message


def test_missing_and_unexpected_parameters(tmp_path):
    path = save_model_weights(tmp_path / "model.safetensors", Tiny())
    bigger = nn.Sequential()
    bigger.add_module("rnn", nn.LSTM(3, 8, batch_first=True))
    bigger.add_module("extra", nn.Linear(8, 2))
    with pytest.raises(CheckpointError) as info:
        load_model_weights(path, bigger)
    message = str(info.value)
    assert "missing parameter(s) 'extra.weight', 'extra.bias' (in the model, not the file)" in (
        message
    )
    assert "unexpected parameter(s) 'head.bias', 'head.weight' (in the file, not the model)" in (
        message
    )


def test_optimizer_mismatches(tmp_path):
    model = Tiny()
    save(tmp_path, model, torch.optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(CheckpointError, match="optimizer.json: written for a SGD optimizer, got"):
        load_checkpoint(tmp_path, model=model, optimizer=torch.optim.Adam(model.parameters()))
    only_head = torch.optim.SGD(model.head.parameters(), lr=0.1)
    with pytest.raises(CheckpointError, match=r"sizes \[6\] in the file, \[2\] in the optimizer"):
        load_checkpoint(tmp_path, model=model, optimizer=only_head)


@pytest.mark.parametrize(
    ("content", "match"),
    [("../../etc\n", "expected a generation name"), ("step-00000009\n", "does not exist")],
)
def test_bad_latest(tmp_path, content, match):
    save(tmp_path, Tiny())
    (tmp_path / "latest").write_text(content)
    with pytest.raises(CheckpointError, match=f"latest: .*{match}"):
        load_checkpoint(tmp_path, model=Tiny())


def test_nothing_is_ever_unpickled():
    import ast
    import inspect

    from rnnkit import atomic
    from rnnkit.training import rundir, weights

    for module in (checkpoint, rundir, atomic, weights):
        tree = ast.parse(inspect.getsource(module))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "load":
                assert not (isinstance(node.value, ast.Name) and node.value.id == "torch")
            if isinstance(node, ast.Import | ast.ImportFrom):
                modules = [a.name for a in node.names] + [getattr(node, "module", "") or ""]
                assert "pickle" not in modules, module.__name__
