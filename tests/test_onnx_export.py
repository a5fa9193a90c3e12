"""ONNX export: every cell family through the scan engine, each job's graphs, parity with
PyTorch in onnxruntime (two batch sizes, two lengths, padding), the command line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from rnnkit.cli import main
from rnnkit.config import StackConfig
from rnnkit.layers import Recurrent
from rnnkit.models.classifier import ClassifierModelConfig, SequenceClassifier
from rnnkit.models.forecaster import Forecaster, ForecasterModelConfig
from rnnkit.tasks.classify.export import ClassifierGraph
from rnnkit.tasks.common.onnx_export import TOLERANCE, Graph, Port, check_graph, export_graph
from rnnkit.tasks.common.samples import padded_ids, padded_lengths
from rnnkit.tasks.forecast.export import ForecasterGraph

ort = pytest.importorskip("onnxruntime")
OLD_RUNS = Path(__file__).parent / "fixtures" / "runs-1838b87"

CELLS = [
    {"cell": "lstm"},
    {"cell": "lstm", "peephole": True, "layer_norm": True},
    {"cell": "gru", "layer_norm": True},
    {"cell": "elman", "nonlinearity": "relu"},
    {"cell": "jordan", "output_size": 5, "feedback": "both"},
]


class _Layer(torch.nn.Module):
    def __init__(self, layer: Recurrent) -> None:
        super().__init__()
        self.layer = layer

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out, state = self.layer(x, lengths)
        return (out, *state)


def _layer_graph(layer: Recurrent) -> Graph:
    fields = type(layer.init_state(1))._fields
    return Graph(
        name="layer",
        module=_Layer(layer),
        inputs=(
            Port("x", "float32", ("batch", "time", 4), ""),
            Port("lengths", "int64", ("batch",), ""),
        ),
        outputs=(Port("out", "float32", (), ""),)
        + tuple(Port(f"final_{f}", "float32", (), "") for f in fields),
        sample=lambda B, T: (torch.randn(B, T, 4), padded_lengths(B, T)),
        meaning="",
    )


@pytest.mark.parametrize("options", CELLS, ids=lambda o: "-".join(map(str, o.values())))
def test_every_cell_exports_and_matches_pytorch_with_padding(options, tmp_path):
    torch.manual_seed(0)
    layer = Recurrent(input_size=4, hidden_size=6, num_layers=2, bidirectional=True, **options)
    graph = _layer_graph(layer.eval())
    export_graph(graph, tmp_path / "layer.onnx")
    assert check_graph(graph, tmp_path / "layer.onnx") <= TOLERANCE
    assert layer.engine == "auto"  # the scan engine was only for the export


def test_scan_engine_is_for_export_only():
    layer = Recurrent("gru", input_size=3, hidden_size=5, engine="scan")
    with pytest.raises(ValueError, match="for export"):
        layer(torch.randn(2, 4, 3))


def test_stacked_classifier_with_attention_pooling(tmp_path):
    torch.manual_seed(0)
    config = ClassifierModelConfig(
        embedding_size=8,
        pooling="attention",
        attention_size=6,
        stacked=True,
        rnn=StackConfig(cell="gru", hidden_size=6, bidirectional=True),
    )
    model = SequenceClassifier(3, config, vocab_size=30).eval()
    torch.nn.init.normal_(model.head.weight)  # stacked heads start at zero: make it count
    graph = Graph(
        name="classifier",
        module=ClassifierGraph(model, stacked=True),
        inputs=(
            Port("inputs", "int64", ("batch", "time"), ""),
            Port("lengths", "int64", ("batch",), ""),
            Port("offsets", "float32", ("batch", 3), ""),
        ),
        outputs=(Port("logits", "float32", (), ""), Port("probabilities", "float32", (), "")),
        sample=lambda B, T: (*_ids(B, T), torch.randn(B, 3)),
        meaning="",
    )
    export_graph(graph, tmp_path / "c.onnx")
    assert check_graph(graph, tmp_path / "c.onnx") <= TOLERANCE


def _ids(B: int, T: int) -> tuple[torch.Tensor, torch.Tensor]:
    lengths = padded_lengths(B, T)
    return padded_ids(lengths, T, 30, 0), lengths


@pytest.mark.parametrize("output", ["gaussian", "quantile"])
def test_forecaster_distributions(output, tmp_path):
    torch.manual_seed(0)
    config = ForecasterModelConfig(
        kind="direct", output=output, rnn=StackConfig(cell="lstm", hidden_size=8)
    )
    model = Forecaster(num_inputs=3, num_targets=2, lookback=12, horizon=4, config=config)
    outputs = ("mean", "scale" if output == "gaussian" else "quantiles")
    graph = Graph(
        name="forecaster",
        module=ForecasterGraph(model.eval()),
        inputs=(Port("window", "float32", ("batch", 12, 3), ""),),
        outputs=tuple(Port(name, "float32", (), "") for name in outputs),
        sample=lambda B, _T: (torch.randn(B, 12, 3),),
        meaning="",
    )
    export_graph(graph, tmp_path / "f.onnx")
    assert check_graph(graph, tmp_path / "f.onnx") <= TOLERANCE


def _export(run: str, out: Path) -> dict:
    result = CliRunner().invoke(
        main, ["export", str(OLD_RUNS / run), "--out", str(out), "--check", "--json"]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.mark.parametrize(
    ("run", "graphs", "files"),
    [
        ("classify", ["classifier"], {"vocab.json", "labels.json", "config.json"}),
        ("forecast", ["forecaster"], {"scaler.json", "config.json", "calibration.json"}),
        ("lm", ["lm_sequence", "lm_step"], {"vocab.json", "config.json"}),
    ],
)
def test_cli_exports_each_job_and_checks_it(run, graphs, files, tmp_path):
    manifest = _export(run, tmp_path / "out")
    assert [g["name"] for g in manifest["graphs"]] == graphs
    for graph in manifest["graphs"]:
        assert graph["check"]["max_abs_difference"] <= TOLERANCE
        assert (tmp_path / "out" / graph["file"]).is_file()
    assert set(manifest["files"]) == files
    for name in files:  # copied byte for byte
        assert (tmp_path / "out" / name).read_bytes() == (OLD_RUNS / run / name).read_bytes()
    assert json.loads((tmp_path / "out" / "export.json").read_text()) == manifest
    assert "## `" in (tmp_path / "out" / "README.md").read_text()


def test_exported_classifier_answers_as_predict(tmp_path):
    import rnnkit

    _export("classify", tmp_path / "out")
    task = rnnkit.load(OLD_RUNS / "classify")
    texts = ["A wonderful, moving film.", "Dull and far too long", "ok"]
    ids = task.encode(texts)
    T = max(len(x) for x in ids)
    inputs = np.full((len(ids), T), task.vocab.pad_id, dtype=np.int64)
    for row, x in enumerate(ids):
        inputs[row, : len(x)] = x
    lengths = np.array([len(x) for x in ids], dtype=np.int64)
    session = ort.InferenceSession(str(tmp_path / "out" / "classifier.onnx"))
    (probs,) = session.run(["probabilities"], {"inputs": inputs, "lengths": lengths})
    np.testing.assert_allclose(probs, task.predict_proba(texts), atol=1e-5)


def test_lm_step_graph_reproduces_the_sequence_graph(tmp_path):
    _export("lm", tmp_path / "out")
    manifest = json.loads((tmp_path / "out" / "export.json").read_text())
    step_inputs = [t["name"] for t in manifest["graphs"][1]["inputs"]]
    sequence = ort.InferenceSession(str(tmp_path / "out" / "lm_sequence.onnx"))
    step = ort.InferenceSession(str(tmp_path / "out" / "lm_step.onnx"))
    tokens = np.array([[3, 1, 4, 1, 5, 9]], dtype=np.int64)
    (whole,) = sequence.run(None, {"tokens": tokens, "lengths": np.array([6], dtype=np.int64)})
    state = {
        t["name"]: np.zeros((t["shape"][0], 1, t["shape"][2]), dtype=np.float32)
        for t in manifest["graphs"][1]["inputs"][1:]
    }
    for t in range(tokens.shape[1]):
        log_probs, *new = step.run(None, {"token": tokens[:, t], **state})
        state = dict(zip(step_inputs[1:], new, strict=True))
        np.testing.assert_allclose(log_probs, whole[:, t], atol=1e-5)


def test_export_refuses_to_write_into_the_run(tmp_path):
    result = CliRunner().invoke(
        main, ["export", str(OLD_RUNS / "classify"), "--out", str(OLD_RUNS / "classify")]
    )
    assert result.exit_code == 2
    assert "another folder than the run" in result.output


def test_export_of_a_missing_run_is_one_line(tmp_path):
    result = CliRunner().invoke(main, ["export", str(tmp_path / "nope"), "--out", str(tmp_path)])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
