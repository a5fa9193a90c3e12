"""``rnnkit datasets``: the benchmark dataset registry: list, info, verify, download.

Every verb takes ``--json``: one JSON object per line, the last a ``{"type": "summary"}``.
Errors are :class:`rnnkit.data.DataError`, which the root group prints as ``error: ...``
with exit code 1.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click

from rnnkit.data import (
    REGISTRY,
    DatasetSpec,
    VerifyResult,
    data_roots,
    download,
    get_spec,
    local_files,
    verify,
)


def _emit(record: dict[str, Any]) -> None:
    click.echo(json.dumps(record))


def _location(name: str) -> dict[str, Any]:
    """Where a dataset's files are: status found/partial/missing and their directories."""
    found = [path for _, path in local_files(name) if path is not None]
    total = len(get_spec(name).files)
    status = "found" if len(found) == total else "partial" if found else "missing"
    dirs = sorted({str(path.parent) for path in found})
    return {"status": status, "files": total, "found": len(found), "location": dirs}


def _how_to_get(name: str) -> str:
    return f"set RNNKIT_DATA or run `rnnkit datasets download {name}`"


@click.group("datasets")
def datasets() -> None:
    """The benchmark datasets: where they are, whether their files are intact, downloads.

    Files are looked up under each directory of $RNNKIT_DATA, then the user cache
    ($RNNKIT_CACHE, else $XDG_CACHE_HOME/rnnkit, else ~/.cache/rnnkit).
    """


@datasets.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line; summary last.")
def list_datasets(as_json: bool) -> None:
    """List the registered datasets with their task, metric and where their files are."""
    counts = {"found": 0, "partial": 0, "missing": 0}
    for name, spec in REGISTRY.items():
        where = _location(name)
        counts[where["status"]] += 1
        if as_json:
            _emit(
                {
                    "type": "dataset",
                    "name": name,
                    "task": spec.task,
                    "metric": spec.metric,
                    "format": spec.format,
                    **where,
                }
            )
            continue
        click.echo(f"{name:16s} {spec.task}")
        click.echo(f"{'':16s} metric: {spec.metric}")
        if where["status"] == "found":
            click.echo(f"{'':16s} found:  {', '.join(where['location'])}")
        elif where["status"] == "partial":
            click.echo(
                f"{'':16s} partial: {where['found']} of {where['files']} files, under "
                f"{', '.join(where['location'])}"
            )
        else:
            click.echo(f"{'':16s} missing ({_how_to_get(name)})")
    roots = [str(root) for root in data_roots()]
    if as_json:
        _emit({"type": "summary", "datasets": len(REGISTRY), **counts, "roots": roots})
    else:
        click.echo(
            f"{len(REGISTRY)} datasets: {counts['found']} found, {counts['partial']} partial, "
            f"{counts['missing']} missing; searched {', '.join(roots)}"
        )


def _file_record(name: str, result: VerifyResult) -> dict[str, Any]:
    file = result.file
    return {
        "type": "file",
        "dataset": name,
        "file": file.path,
        "split": file.split,
        "kind": file.kind,
        "url": file.url,
        "path": None if result.path is None else str(result.path),
        "status": result.status,
        "expected": result.expected,
        "got": result.got,
    }


def _tally(results: Iterable[VerifyResult]) -> dict[str, Any]:
    statuses = [result.status for result in results]
    verified, missing, mismatch = (statuses.count(s) for s in ("ok", "missing", "mismatch"))
    return {
        "files": len(statuses),
        "verified": verified,
        "missing": missing,
        "mismatch": mismatch,
        "ok": missing == 0 and mismatch == 0,
    }


def _echo_result(result: VerifyResult, width: int) -> None:
    label = {"ok": "ok", "missing": "MISSING", "mismatch": "MISMATCH"}[result.status]
    where = "" if result.path is None else f"  {result.path}"
    click.echo(f"  {label:8s} {result.file.path:{width}s}{where}".rstrip())
    if result.status == "mismatch":
        click.echo(f"           expected sha256 {result.expected}")
        click.echo(f"           got      sha256 {result.got}")


def _echo_spec(spec: DatasetSpec) -> None:
    click.echo(f"{spec.name}: {spec.task}")
    for label, value in (
        ("description", spec.description),
        ("source", spec.source),
        ("format", spec.format),
        ("metric", spec.metric),
        ("split", spec.split),
    ):
        click.echo(f"  {label + ':':13s}{value}")
    click.echo("  files:")


@datasets.command("info")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line; summary last.")
def info(name: str, as_json: bool) -> None:
    """Show everything the registry knows about NAME, and each file's local copy and sha256."""
    spec = get_spec(name)
    results = verify(name)
    if as_json:
        fields = {k: getattr(spec, k) for k in ("name", "task", "description", "source")}
        _emit(
            {
                "type": "dataset",
                **fields,
                "format": spec.format,
                "metric": spec.metric,
                "split": spec.split,
            }
        )
        for result in results:
            _emit(_file_record(name, result))
        _emit({"type": "summary", "dataset": name, **_tally(results)})
        return
    _echo_spec(spec)
    for result in results:
        file = result.file
        split = f"split {file.split}" if file.split else file.kind
        click.echo(f"    {file.path} ({split})")
        click.echo(f"      sha256 {file.sha256}")
        if file.raw_sha256:
            click.echo(f"      sha256 {file.raw_sha256} (decompressed)")
        click.echo(f"      url    {file.url or 'none (a repack made for the benchmark copy)'}")
        status = result.status if result.path is None else f"{result.status}, {result.path}"
        click.echo(f"      local  {status}")


@datasets.command("verify")
@click.argument("names", nargs=-1, metavar="[NAME]...")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line; summary last.")
@click.pass_context
def verify_command(ctx: click.Context, names: tuple[str, ...], as_json: bool) -> None:
    """Check the sha256 of every file of the NAMEd datasets (all when none is named).

    Exit 0 when every file is present and intact, 1 when any is missing or mismatched.
    """
    specs = [get_spec(name) for name in names] if names else list(REGISTRY.values())
    everything: list[VerifyResult] = []
    incomplete = []
    for spec in specs:
        results = verify(spec.name)
        everything += results
        if any(result.status != "ok" for result in results):
            incomplete.append(spec.name)
        if as_json:
            for result in results:
                _emit(_file_record(spec.name, result))
            continue
        click.echo(spec.name)
        width = max(len(result.file.path) for result in results)
        for result in results:
            _echo_result(result, width)
    tally = _tally(everything)
    if as_json:
        _emit({"type": "summary", "datasets": len(specs), **tally})
    else:
        click.echo(
            f"verify: {tally['files']} files in {len(specs)} dataset"
            f"{'' if len(specs) == 1 else 's'}: {tally['verified']} ok, "
            f"{tally['missing']} missing, {tally['mismatch']} mismatched"
        )
        for name in incomplete:
            click.echo(f"  to fix {name}: {_how_to_get(name)}")
    ctx.exit(0 if tally["ok"] else 1)


@datasets.command("download")
@click.argument("name")
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to download into (default: the user cache directory).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line; summary last.")
def download_command(name: str, root: Path | None, as_json: bool) -> None:
    """Download the files of NAME that are not on this machine, checking each sha256.

    Files already under $RNNKIT_DATA or the cache are left alone. Refused when
    RNNKIT_OFFLINE=1. A progress bar goes to stderr when it is a terminal.
    """
    results = download(name, root=root, progress=sys.stderr.isatty())
    for result in results:
        if as_json:
            _emit(
                {
                    "type": "file",
                    "dataset": name,
                    "file": result.file.path,
                    "path": str(result.path),
                    "status": result.status,
                }
            )
        else:
            click.echo(f"  {result.status:10s} {result.file.path}  {result.path}")
    statuses = [result.status for result in results]
    counts = {"downloaded": statuses.count("downloaded"), "present": statuses.count("present")}
    if as_json:
        _emit({"type": "summary", "dataset": name, **counts, "ok": True})
    else:
        click.echo(
            f"download {name}: {counts['downloaded']} downloaded, {counts['present']} already "
            "present"
        )
