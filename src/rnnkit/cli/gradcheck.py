"""``rnnkit cells`` and ``rnnkit gradcheck``: the cell families and their gradients, checked."""

from __future__ import annotations

import json
from collections.abc import Iterable
from types import ModuleType
from typing import TYPE_CHECKING, Any, get_args

import click

from rnnkit.config import CellType, ConfigError

if TYPE_CHECKING:
    from rnnkit.diagnostics.gradcheck import GradcheckReport

CELL_NAMES = get_args(CellType)


def _gradcheck_lib() -> ModuleType:
    """Imported on use: torch takes ~2 s to load, and ``rnnkit --version`` needs none of it."""
    from rnnkit.diagnostics import gradcheck

    return gradcheck


@click.command("cells")
def list_cells() -> None:
    """List the recurrent cell families and whether torch has a fused kernel for them."""
    from rnnkit.cells import CELLS, gemm, make_cell, native

    for name, cls in CELLS.items():
        kernel = make_cell(name, 1, 1).fused_mode or "none (hand-written BPTT loop)"
        summary = (cls.__doc__ or "").strip().split(":")[0].split(",")[0]
        click.echo(f"{name:7s} fused kernel: {kernel:32s} {summary}")
    click.echo(
        "\nIn the hand-written loop, the native C kernels (the LSTM step; tanh for the other"
        f" cells; whole LSTM and Jordan sequences) are {native.status()}"
    )
    sequences_in_c = gemm.BACKEND == "mkl" and gemm.mkl_packed() is not None
    click.echo(
        f"Its float32 CPU products run on {'MKL' if gemm.BACKEND == 'mkl' else 'oneDNN'}"
        f" (CPU vendor {gemm.cpu_vendor() or 'unknown'}); full-length LSTM and Jordan sequences"
        f" {'run in C where the kernels are on' if sequences_in_c else 'step in Python'}."
    )


def _fmt(error: float | None) -> str:
    return "-" if error is None else f"{error:.2e}"


def _echo_table(report: GradcheckReport) -> None:
    click.echo(report.title)
    header = ("parameter", "ref-vs-FD", "ref-vs-rnnkit", "rnnkit-vs-torch.nn", "ok")
    width = max(len(header[0]), *(len(row.name) for row in report.rows))
    line = f"  {{:{width}s}}  {{:>10s}}  {{:>13s}}  {{:>18s}}  {{}}"
    click.echo(line.format(*header))
    for row in report.rows:
        errors = (row.ref_vs_fd, row.ref_vs_rnnkit, row.rnnkit_vs_torch)
        verdict = "ok" if row.passed else "FAIL"
        click.echo(line.format(row.name, *map(_fmt, errors), verdict))
    click.echo(f"  {'passed' if report.passed else 'FAILED'} (max error {_fmt(report.max_error)})")
    click.echo()


def _run_checks(reports: Iterable[GradcheckReport], as_json: bool) -> int:
    """Show each report as it comes; return the exit code (0 all passed, 1 otherwise)."""
    count = failed = 0
    worst = 0.0
    for report in reports:
        count += 1
        failed += not report.passed
        worst = max(worst, report.max_error)
        if as_json:
            click.echo(json.dumps({"type": "check", **report.to_dict()}))
        else:
            _echo_table(report)
    summary = {
        "type": "summary",
        "checks": count,
        "passed": count - failed,
        "failed": failed,
        "max_error": worst,
        "tolerance": _gradcheck_lib().TOLERANCE,
        "ok": failed == 0,
    }
    if as_json:
        click.echo(json.dumps(summary))
    else:
        verdict = "all passed" if failed == 0 else f"{failed} FAILED"
        click.echo(
            f"gradcheck: {count} check{'' if count == 1 else 's'}, {verdict}; "
            f"max relative error {worst:.2e} "
            f"(tolerance {_gradcheck_lib().TOLERANCE:.0e})"
        )
    return 0 if failed == 0 else 1


@click.command("gradcheck")
@click.option("--cell", type=click.Choice(sorted(CELL_NAMES)), help="Cell family to check.")
@click.option("--num-layers", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--bidirectional", is_flag=True, help="Check a bidirectional stack.")
@click.option("--nonlinearity", type=click.Choice(["tanh", "relu"]), help="elman, jordan.")
@click.option("--feedback", type=click.Choice(["hidden", "output", "both"]), help="jordan.")
@click.option(
    "--output-activation",
    type=click.Choice(["identity", "tanh", "sigmoid", "softmax"]),
    help="jordan.",
)
@click.option("--output-size", type=click.IntRange(min=1), help="jordan.")
@click.option("--peephole", is_flag=True, help="lstm: peephole connections.")
@click.option("--layer-norm", is_flag=True, help="lstm, gru: layer-normalized gates.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line; summary last.")
@click.option(
    "--all", "run_all", is_flag=True, help="Every cell and option, 1-2 layers, uni/bidirectional."
)
@click.pass_context
def gradcheck(
    ctx: click.Context,
    cell: str | None,
    num_layers: int,
    bidirectional: bool,
    as_json: bool,
    run_all: bool,
    **options: Any,
) -> None:
    """Check every gradient of a small random float64 model three ways.

    Per parameter (and the input and the initial state), the max relative error of
    (a) the NumPy reference's BPTT vs central finite differences, (b) the reference vs
    rnnkit's torch loop (autograd), (c) rnnkit's fused path vs torch.nn where torch has the
    cell. Exit 0 when all are within 1e-6, 1 when any is above.
    """
    options = {k: v for k, v in options.items() if v not in (None, False)}
    if run_all:
        given = [
            name
            for name, value in (
                ("--cell", cell),
                ("--num-layers", num_layers != 1),
                ("--bidirectional", bidirectional),
            )
            if value
        ] + ["--" + name.replace("_", "-") for name in options]
        if given:
            raise click.UsageError(f"--all runs every cell and option; drop {', '.join(given)}")
        ctx.exit(_run_checks(_gradcheck_lib().iter_all(), as_json))
    if cell is None:
        raise click.UsageError("Missing option '--cell' (or give --all).")
    try:
        report = _gradcheck_lib().check(
            cell, num_layers=num_layers, bidirectional=bidirectional, **options
        )
    except ConfigError as err:
        flag = f"--{err.key.replace('_', '-')}: " if err.key else ""
        raise click.UsageError(f"{flag}{err.message}") from err
    ctx.exit(_run_checks([report], as_json))
