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
from rnnkit.data.casing import casing_ids
from rnnkit.data.tags import convert
from rnnkit.layers import Recurrent
from rnnkit.models.classifier import ClassifierModelConfig, SequenceClassifier
from rnnkit.models.forecaster import Forecaster, ForecasterModelConfig
from rnnkit.tasks import tag
from rnnkit.tasks.classify.export import ClassifierGraph
from rnnkit.tasks.common.onnx_export import TOLERANCE, Graph, Port, check_graph, export_graph
from rnnkit.tasks.common.samples import padded_ids, padded_lengths
from rnnkit.tasks.forecast.export import ForecasterGraph
from rnnkit.tasks.tag.data import word_key
from tag_cases import tiny_config

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


def _viterbi(emissions: np.ndarray, crf: dict) -> list[int]:
    """The best tag path of one sentence's emissions (T, K) under crf.json's scores."""
    transitions, score = np.array(crf["transitions"]), np.array(crf["start"]) + emissions[0]
    back = []
    for row in emissions[1:]:
        total = score[:, None] + transitions  # (from, to)
        back.append(total.argmax(0))
        score = total.max(0) + row
    path = [int((score + np.array(crf["end"])).argmax())]
    for pointers in reversed(back):
        path.append(int(pointers[path[-1]]))
    return path[::-1]


def test_tagger_exports_emissions_and_crf_scores_that_decode_as_predict(tmp_path):
    task, _ = tag.train(tiny_config(tmp_path, epochs=1), tmp_path / "run")
    manifest = _export_path(tmp_path / "run", tmp_path / "out")
    assert [p["name"] for p in manifest["graphs"][0]["inputs"]] == [
        "words",
        "lengths",
        "casing",
        "chars",
    ]
    assert {"crf.json", "casing.json", "chars.json", "vocab.json"} <= set(manifest["files"])
    tokens = ["Angela", "Merkel", "met", "Emmanuel", "Macron", "in", "Paris", "."]
    tagged = task.predict([tokens])[0]["tags"]
    words = task.artifacts.words.encode(word_key(t, task.config.data) for t in tokens)
    chars = [task.artifacts.chars.encode(t[: task.config.data.max_word_len]) for t in tokens]
    char_ids = np.zeros((1, len(tokens), max(map(len, chars))), dtype=np.int64)
    for i, c in enumerate(chars):
        char_ids[0, i, : len(c)] = c
    session = ort.InferenceSession(str(tmp_path / "out" / "tagger.onnx"))
    (emissions,) = session.run(
        None,
        {
            "words": np.array([words], dtype=np.int64),
            "lengths": np.array([len(tokens)], dtype=np.int64),
            "casing": np.array([casing_ids(tokens)], dtype=np.int64),
            "chars": char_ids,
        },
    )
    crf = json.loads((tmp_path / "out" / "crf.json").read_text())
    learned = [task.artifacts.tags[k] for k in _viterbi(emissions[0], crf)]
    assert convert(learned, task.artifacts.learned, task.scheme) == tagged


def _export_path(run: Path, out: Path) -> dict:
    result = CliRunner().invoke(main, ["export", str(run), "--out", str(out), "--check", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)
