"""ONNX export of a trained run: the graphs a job declares, written, described and checked.

A job says which graphs its network becomes (:class:`Graph`: a module to trace, its inputs
with their named dimensions, its outputs) and which of the run's files a user needs beside
them (:class:`ExportPlan`); this module writes each graph, a manifest (``export.json``) and a
page for people (``README.md``), and checks every graph in onnxruntime against PyTorch.

The exporter path, named: ``torch.onnx.export(dynamo=True)`` (torch.export, then onnxscript's
translation), with every recurrent layer switched to its ``scan`` engine
(:mod:`rnnkit.layers.scan`): each direction of each layer becomes one ONNX ``Scan`` whose body
is the cell's own step in plain torch operations. Not ``torch.nn.LSTM`` traced into ONNX's
``LSTM`` op (only three cell families have one, and not Jordan, peephole or layer norm), and
not the TorchScript exporter (deprecated since torch 2.9). Any batch size and sequence length
run through the same graph; padding is masked inside it, as in the model.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import io
import json
import logging
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from rnnkit import __version__
from rnnkit.atomic import atomic_write_bytes, atomic_write_text
from rnnkit.config import ConfigError
from rnnkit.layers import Recurrent
from rnnkit.training.files import read_run_file
from rnnkit.training.rundir import RunDir, RunDirError

__all__ = [
    "CHECK_SIZES",
    "ExportPlan",
    "Graph",
    "Port",
    "check_graph",
    "export_run",
    "require_onnx",
    "run_files",
    "write_export",
]

OPSET = 18
TOLERANCE = 1e-4
# (batch, length) of the parity check: two of each, so neither dimension is fixed in the graph.
CHECK_SIZES = ((2, 3), (5, 11))


@dataclasses.dataclass(frozen=True)
class Port:
    """One input or output of a graph, as the manifest describes it.

    ``shape`` names each dimension: a name (``"batch"``, ``"time"``) is free, an int fixed.
    """

    name: str
    dtype: str
    shape: tuple[str | int, ...]
    meaning: str


@dataclasses.dataclass(frozen=True)
class Graph:
    """A graph to export: ``module(*inputs) -> outputs`` in the order of ``inputs``/``outputs``.

    ``sample(batch, length)`` makes a valid input tuple of those sizes (random ids, lengths
    with padding, ...): the example traced, and the inputs of the parity check.
    """

    name: str
    module: nn.Module
    inputs: tuple[Port, ...]
    outputs: tuple[Port, ...]
    sample: Callable[[int, int], tuple[Tensor, ...]]
    meaning: str


@dataclasses.dataclass(frozen=True)
class ExportPlan:
    """What a job exports: its graphs, the run's files copied beside them, and notes.

    ``files`` maps a file name in the export folder to ``(bytes, meaning)``.
    """

    job: str
    graphs: tuple[Graph, ...]
    files: Mapping[str, tuple[bytes, str]]
    notes: tuple[str, ...] = ()


def run_files(run: RunDir, meanings: Mapping[str, str]) -> dict[str, tuple[bytes, str]]:
    """The run's files named in ``meanings`` that it has, with what each is for."""
    return {
        name: (read_run_file(run.path / name, RunDirError), meaning)
        for name, meaning in meanings.items()
        if (run.path / name).is_file()
    }


def require_onnx() -> None:
    """Fail in one line, saying how to install them, when onnx or onnxruntime is missing."""
    for module in ("onnx", "onnxruntime", "onnxscript"):
        try:
            __import__(module)
        except ImportError:
            raise ConfigError(
                f"ONNX export needs the package {module!r}: pip install 'rnnkit[onnx]'",
                key="format",
            ) from None


@contextlib.contextmanager
def scanning(module: nn.Module) -> Iterator[None]:
    """Within this block every recurrent layer of ``module`` runs its ``scan`` engine."""
    layers = [m for m in module.modules() if isinstance(m, Recurrent)]
    engines = [layer.engine for layer in layers]
    for layer in layers:
        layer.engine = "scan"
    try:
        yield
    finally:
        for layer, engine in zip(layers, engines, strict=True):
            layer.engine = engine


def _dynamic_shapes(graph: Graph) -> tuple[dict[int, Any], ...]:
    """torch.export's dimensions: one ``Dim`` per free name, shared by every input."""
    dims: dict[str, Any] = {}
    shapes = []
    for spec in graph.inputs:
        axes = {}
        for axis, size in enumerate(spec.shape):
            if isinstance(size, str):
                axes[axis] = dims.setdefault(size, torch.export.Dim(size, min=1))
        shapes.append(axes)
    # torch.export sees a forward(a, b, *rest) as three arguments, the last a tuple
    fixed = [
        p
        for p in inspect.signature(graph.module.forward).parameters.values()
        if p.kind is not inspect.Parameter.VAR_POSITIONAL
    ]
    if len(fixed) < len(shapes):
        shapes[len(fixed) :] = [tuple(shapes[len(fixed) :])]
    return tuple(shapes)


def export_graph(graph: Graph, path: Path) -> None:
    """Trace ``graph`` and write it to ``path`` (atomically: a temporary name, then moved)."""
    module = graph.module.eval()
    example = graph.sample(3, 7)
    tmp = path.with_name(f".{path.name}.tmp")
    # scan traces its body with dynamo, whose cache of an earlier export's step can fix a
    # dimension that should be free (seen: a tagger's characters after a forecaster)
    torch._dynamo.reset()
    with _quiet(), scanning(module), torch.no_grad():
        program = torch.onnx.export(
            module,
            example,
            dynamo=True,
            dynamic_shapes=_dynamic_shapes(graph),
            input_names=[spec.name for spec in graph.inputs],
            output_names=[spec.name for spec in graph.outputs],
            opset_version=OPSET,
            external_data=False,
        )
        program.save(str(tmp))
    _check_free_dimensions(graph, tmp)
    tmp.replace(path)


def _check_free_dimensions(graph: Graph, path: Path) -> None:
    """Every dimension the graph declares free is free in the file (torch.export may fix a
    dimension it could not keep symbolic; the parity check alone might not see it)."""
    import onnx

    inputs = {x.name: x for x in onnx.load(str(path), load_external_data=False).graph.input}
    for spec in graph.inputs:
        dims = inputs[spec.name].type.tensor_type.shape.dim
        for axis, (want, got) in enumerate(zip(spec.shape, dims, strict=True)):
            if isinstance(want, str) and not got.dim_param:
                path.unlink()
                raise ConfigError(
                    f"the exported {graph.name} graph fixed dimension {axis} ({want}) of "
                    f"{spec.name} at {got.dim_value}",
                    key="format",
                )


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The exporter prints its progress and warns about torchvision: keep both off the
    command line's output (errors still raise)."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def check_graph(graph: Graph, path: Path, seed: int = 0) -> float:
    """The largest absolute difference between onnxruntime and PyTorch over every output, at
    each of :data:`CHECK_SIZES` (padding included where the graph takes lengths)."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    generator = torch.Generator().manual_seed(seed)
    worst = 0.0
    for batch, length in CHECK_SIZES:
        with torch.random.fork_rng():
            torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=generator)))
            inputs = graph.sample(batch, length)
        with torch.no_grad():
            expected = _as_tuple(graph.module(*inputs))
        feed = {spec.name: x.numpy() for spec, x in zip(graph.inputs, inputs, strict=True)}
        got = session.run([spec.name for spec in graph.outputs], feed)
        for want, have in zip(expected, got, strict=True):
            worst = max(worst, float(np.max(np.abs(want.float().numpy() - have), initial=0.0)))
    return worst


def _as_tuple(out: Tensor | Sequence[Tensor]) -> tuple[Tensor, ...]:
    return (out,) if isinstance(out, Tensor) else tuple(out)


def export_run(path: str | Path, out: str | Path, *, check: bool = False) -> dict[str, Any]:
    """Export the run at ``path`` into the folder ``out`` (see :func:`write_export`).

    Raises:
        ConfigError: onnx is not installed, the job has no export, or ``out`` is the run.
        RunDirError: ``path`` is not a run.
    """
    from rnnkit.tasks.common.runs import load, open_run

    require_onnx()
    run, job = open_run(path)
    out = Path(out)
    if out.resolve() == run.path.resolve():
        raise ConfigError("--out must be another folder than the run itself", key="out")
    plan = job.export(load(path), run)
    if plan is None:
        raise ConfigError(f"{job.name} runs have no ONNX export yet", key="format")
    return write_export(plan, out, check=check)


def write_export(plan: ExportPlan, out: Path, *, check: bool) -> dict[str, Any]:
    """Write every graph, the files, ``export.json`` and ``README.md`` into ``out``; with
    ``check``, run each graph in onnxruntime and record its largest difference from PyTorch.

    Returns the manifest. Raises :class:`ConfigError` when a check exceeds the tolerance.
    """
    require_onnx()
    out.mkdir(parents=True, exist_ok=True)
    graphs = []
    for graph in plan.graphs:
        path = out / f"{graph.name}.onnx"
        export_graph(graph, path)
        entry = _describe_graph(graph, path.name)
        if check:
            entry["check"] = _checked(graph, path)
        graphs.append(entry)
    for name, (data, _) in plan.files.items():
        atomic_write_bytes(out / name, data)
    manifest = _manifest(plan, graphs)
    atomic_write_text(out / "export.json", json.dumps(manifest, indent=2) + "\n")
    atomic_write_text(out / "README.md", readme(manifest))
    return manifest


def _checked(graph: Graph, path: Path) -> dict[str, Any]:
    worst = check_graph(graph, path)
    if not worst <= TOLERANCE:
        raise ConfigError(
            f"the exported {graph.name} graph differs from PyTorch by {worst:.3g} "
            f"(more than {TOLERANCE:g})",
            key="check",
        )
    return {"max_abs_difference": worst, "sizes": [list(s) for s in CHECK_SIZES]}


def _describe_graph(graph: Graph, file: str) -> dict[str, Any]:
    return {
        "name": graph.name,
        "file": file,
        "meaning": graph.meaning,
        "inputs": [_describe_tensor(t) for t in graph.inputs],
        "outputs": [_describe_tensor(t) for t in graph.outputs],
    }


def _describe_tensor(spec: Port) -> dict[str, Any]:
    shape = list(spec.shape)
    return {"name": spec.name, "dtype": spec.dtype, "shape": shape, "meaning": spec.meaning}


def _manifest(plan: ExportPlan, graphs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "job": plan.job,
        "rnnkit": __version__,
        "exporter": f"torch {torch.__version__} torch.onnx.export(dynamo=True), opset {OPSET}; "
        "recurrent layers as ONNX Scan",
        "graphs": graphs,
        "files": {name: meaning for name, (_, meaning) in plan.files.items()},
        "notes": list(plan.notes),
    }


def readme(manifest: Mapping[str, Any]) -> str:
    """The manifest as a page for people: each graph's inputs and outputs, the files, notes."""
    lines = [
        f"# ONNX export of an rnnkit {manifest['job']} run",
        "",
        f"Written by rnnkit {manifest['rnnkit']} ({manifest['exporter']}). "
        "Every dimension with a name is free: any batch size and any sequence length.",
        "",
    ]
    for graph in manifest["graphs"]:
        lines += [f"## `{graph['file']}`", "", graph["meaning"], ""]
        for kind in ("inputs", "outputs"):
            lines += [f"| {kind[:-1]} | type | shape | meaning |", "| --- | --- | --- | --- |"]
            for t in graph[kind]:
                shape = ", ".join(str(s) for s in t["shape"])
                lines.append(f"| `{t['name']}` | {t['dtype']} | ({shape}) | {t['meaning']} |")
            lines.append("")
        if "check" in graph:
            lines += [
                f"Checked in onnxruntime against PyTorch at (batch, length) "
                f"{', '.join(str(tuple(s)) for s in graph['check']['sizes'])}: largest "
                f"difference {graph['check']['max_abs_difference']:.2g}.",
                "",
            ]
    if manifest["files"]:
        lines += ["## Files", ""]
        lines += [f"- `{name}`: {meaning}" for name, meaning in manifest["files"].items()]
        lines.append("")
    if manifest["notes"]:
        lines += ["## Notes", ""] + [f"- {note}" for note in manifest["notes"]] + [""]
    return "\n".join(lines)
