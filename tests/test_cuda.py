"""On a CUDA GPU: device choice, every cell on the GPU, bf16 autocast, resume and the CLI.

Skipped where torch sees no CUDA device (the development machine and CI). They ran on an
H100 through the device tool on 2026-11-22 (docs/benchmarks.md, "On a GPU"), except the last,
``test_eval_on_the_gpu_gives_the_cpu_loss``, written after the session's GPU time was spent.
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load_file

import rnnkit
from cases import CELL_CASES, case_id, make_layer, perturb_
from rnnkit.cli import main
from rnnkit.training.config import TrainConfig
from rnnkit.training.loop import fit, resolve_device, seed_everything
from training_cases import SignClassifier, SignTask

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

CUDA = torch.device("cuda")
RESUMABLE = Path(__file__).parent / "workers" / "resumable.py"


def test_auto_and_cuda_resolve_to_the_gpu():
    assert resolve_device("auto").type == "cuda"
    assert resolve_device("cuda").type == "cuda"


@pytest.mark.parametrize(
    "cell, kind", [("lstm", torch.nn.LSTM), ("gru", torch.nn.GRU), ("elman", torch.nn.RNN)]
)
def test_standard_cells_run_on_cudnn_and_equal_torch_nn(cell, kind):
    torch.manual_seed(0)
    layer = rnnkit.Recurrent(cell, input_size=8, hidden_size=16, num_layers=2).to(CUDA)
    reference = kind(8, 16, num_layers=2, batch_first=True).to(CUDA)
    reference.load_state_dict(layer.state_dict())
    x = torch.randn(4, 9, 8, device=CUDA)
    assert layer.uses_fused
    torch.testing.assert_close(layer(x)[0], reference(x)[0])


def _run_layer(layer: rnnkit.Recurrent, x: torch.Tensor, lengths: torch.Tensor | None):
    x = x.detach().clone().requires_grad_(True)
    outputs, state = layer(x, lengths=lengths)
    loss = outputs.square().sum() + sum(s.square().sum() for s in state)
    loss.backward()
    grads = {n: p.grad.detach().cpu() for n, p in layer.named_parameters()}
    return outputs.detach().cpu(), [s.detach().cpu() for s in state], x.grad.cpu(), grads


@pytest.mark.parametrize("case", CELL_CASES, ids=case_id)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_every_cell_on_the_gpu_equals_the_cpu_in_float64(case, bidirectional):
    cell, options = case
    torch.manual_seed(0)
    layer = make_layer(cell, options, num_layers=2, bidirectional=bidirectional).double()
    perturb_(layer)
    # Recurrent dropout draws its masks from each device's own generator: compare without it.
    # (cuDNN has no backward in eval mode, so the others compare in training mode.)
    layer.train("recurrent_dropout" not in options)
    x = torch.randn(3, 6, 3, dtype=torch.float64)
    lengths = torch.tensor([6, 2, 4])
    cpu = _run_layer(layer, x, lengths)
    layer.zero_grad(set_to_none=True)
    gpu = _run_layer(layer.to(CUDA), x.to(CUDA), lengths)
    torch.testing.assert_close(gpu[0], cpu[0], rtol=1e-9, atol=1e-10)
    for g, c in zip(gpu[1], cpu[1], strict=True):
        torch.testing.assert_close(g, c, rtol=1e-9, atol=1e-10)
    torch.testing.assert_close(gpu[2], cpu[2], rtol=1e-9, atol=1e-10)
    for name, grad in cpu[3].items():
        torch.testing.assert_close(gpu[3][name], grad, rtol=1e-8, atol=1e-9, msg=name)


def test_the_fast_path_keeps_its_weights_in_one_cudnn_buffer():
    layer = rnnkit.Recurrent("lstm", input_size=8, hidden_size=16, num_layers=2, bidirectional=True)
    params = list(layer.parameters())
    optimizer = torch.optim.SGD(layer.parameters(), lr=0.1)
    layer.to(CUDA)
    assert [id(p) for p in layer.parameters()] == [id(p) for p in params]  # optimiser still valid
    assert len({p.untyped_storage().data_ptr() for p in layer.parameters()}) == 1
    x = torch.randn(4, 9, 8, device=CUDA)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "weights are not part of single contiguous chunk"
        layer(x)[0].sum().backward()
    optimizer.step()
    assert len({p.untyped_storage().data_ptr() for p in layer.parameters()}) == 1


@pytest.mark.parametrize(
    "cell, options",
    [
        ("lstm", {}),
        ("lstm", {"peephole": True}),
        ("lstm", {"layer_norm": True}),
        ("gru", {}),
        ("jordan", {"feedback": "both"}),
        ("elman", {"recurrent_dropout": 0.2}),
    ],
    ids=["lstm", "peephole", "layer_norm", "gru", "jordan", "elman-rdrop"],
)
def test_bf16_autocast_is_close_to_float32_and_keeps_float32_gradients(cell, options):
    torch.manual_seed(0)
    layer = make_layer(cell, options, input_size=32, hidden_size=64).to(CUDA)
    layer.train("recurrent_dropout" not in options)  # the same numbers in both runs
    x = torch.randn(8, 20, 32, device=CUDA)
    full = _run_layer(layer, x, None)
    layer.zero_grad(set_to_none=True)
    with torch.autocast(device_type="cuda", dtype=torch.bfloat16):
        half = _run_layer(layer, x, None)
    assert all(p.dtype == torch.float32 for p in layer.parameters())
    assert all(g.dtype == torch.float32 for g in half[3].values())
    # bf16 keeps 8 bits of mantissa: agreement to a few percent, relative to the whole tensor
    # (layer norm's weight gradients came out 5.2% off on an H100).
    pairs = [(half[0], full[0]), (half[2], full[2])]
    pairs += [(half[3][name], grad) for name, grad in full[3].items()]
    for got, want in pairs:
        error = (got.float() - want).norm() / want.norm()
        assert error < 8e-2, float(error)
    # A bf16 input (from a layer before this one under autocast) is accepted too.
    with torch.autocast(device_type="cuda", dtype=torch.bfloat16):
        outputs, _ = layer(x.bfloat16())
    error = (outputs.float() - full[0].to(CUDA)).norm() / full[0].norm()
    assert error < 5e-2, float(error)


@pytest.mark.parametrize("cell", ["lstm", "jordan"])
def test_fit_on_the_gpu_with_bf16_learns_the_sign_task(cell):
    seed_everything(0)
    task = SignTask(n=512)
    model = SignClassifier(cell=cell)
    config = TrainConfig(epochs=6, lr=0.01, device="cuda", bf16=True, seed=0)
    result = fit(model, task.train_batches, task.val, config, objective=task)
    assert next(model.parameters()).device.type == "cuda"
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert result.history[-1]["val_accuracy"] > 0.85


def test_a_gpu_run_killed_and_resumed_ends_with_the_same_weights(tmp_path):
    def train(run: Path, *args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, str(RESUMABLE), str(run), "--device", "cuda", *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=300)

    straight = train(tmp_path / "straight")
    assert straight.returncode == 0, straight.stderr
    assert train(tmp_path / "killed", "--kill-at", "7").returncode == -9
    resumed = train(tmp_path / "killed", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    want = load_file(tmp_path / "straight" / "model.safetensors")
    got = load_file(tmp_path / "killed" / "model.safetensors")
    for key, value in want.items():  # GPU kernels may sum in another order: close, not equal
        torch.testing.assert_close(got[key], value, rtol=1e-5, atol=1e-6, msg=key)


def test_cli_trains_on_the_gpu_and_the_run_loads_anywhere(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("the cat sat on the mat .\nthe dog sat on the log .\n" * 60)
    out = tmp_path / "run"
    args = [
        "lm",
        "train",
        "--data",
        str(corpus),
        "--level",
        "word",
        "--out",
        str(out),
        "--hidden-size",
        "32",
        "--embedding-size",
        "16",
        "--epochs",
        "2",
        "--device",
        "cuda",
        "--bf16",
        "--progress",
        "none",
        "--json",
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.splitlines()[-1])
    assert summary["steps"] > 0 and summary["device"] == "cuda:0"
    assert json.loads((out / "config.json").read_text())["train"]["device"] == "cuda"
    sample = CliRunner().invoke(main, ["lm", "sample", str(out), "--length", "8", "--seed", "1"])
    assert sample.exit_code == 0 and sample.output.strip()
    task = rnnkit.load(out)
    assert all(t.device.type == "cpu" for t in load_file(out / "model.safetensors").values())
    assert task is not None


def test_eval_on_the_gpu_gives_the_cpu_loss(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("the cat sat on the mat .\nthe dog sat on the log .\n" * 60)
    out = tmp_path / "run"
    train = ["lm", "train", "--data", str(corpus), "--level", "word", "--out", str(out)]
    train += ["--hidden-size", "16", "--epochs", "1", "--progress", "none"]
    assert CliRunner().invoke(main, train).exit_code == 0
    losses = {}
    for device in ("cpu", "cuda"):
        result = CliRunner().invoke(
            main, ["lm", "eval", str(out), "--split", "valid", "--device", device, "--json"]
        )
        assert result.exit_code == 0, result.output
        losses[device] = json.loads(result.output.splitlines()[-1])["loss"]
    assert losses["cuda"] == pytest.approx(losses["cpu"], rel=1e-3)  # TF32 on cuDNN
    assert next(rnnkit.load(out, "cuda").model.parameters()).is_cuda
