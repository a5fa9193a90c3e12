"""``rnnkit export RUN --format onnx --out DIR``: a trained run's network for other runtimes."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command("export")
@click.argument("run", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["onnx"]),
    default="onnx",
    show_default=True,
    help="What to write (ONNX graphs, with a manifest and the run's vocabulary or scaler).",
)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Folder to write.")
@click.option(
    "--check",
    is_flag=True,
    help="Run every graph in onnxruntime at two batch sizes and two lengths and compare with "
    "PyTorch (fails above 1e-4).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as one JSON object.")
def export(run: Path, fmt: str, out: Path, check: bool, as_json: bool) -> None:
    """Export a trained run's network (every job's graphs; see docs/export.md)."""
    from rnnkit.tasks.common.onnx_export import export_run

    manifest = export_run(run, out, check=check)
    if as_json:
        click.echo(json.dumps(manifest))
        return
    for graph in manifest["graphs"]:
        checked = graph.get("check")
        note = ""
        if checked:
            note = f"  (onnxruntime = PyTorch within {checked['max_abs_difference']:.2g})"
        click.echo(f"wrote {out / graph['file']}{note}")
    click.echo(f"wrote {out / 'export.json'} and {out / 'README.md'} (inputs, outputs, files)")
