"""Helpers every task benchmark shares: the code version, printing a report, preset flags."""

from __future__ import annotations

import argparse
import functools
import json
import subprocess
from pathlib import Path
from typing import Any

try:  # Unix only; read inside timed regions, so imported once here
    import resource
except ImportError:  # pragma: no cover - Windows
    resource = None  # type: ignore[assignment]

__all__ = [
    "add_quality_arguments",
    "train_preset",
    "commit",
    "emit",
    "environment",
    "keep_freed_pages",
    "page_faults",
]


def keep_freed_pages() -> bool:
    """Ask glibc to keep freed memory in this process: True if it did (Linux with glibc).

    By default glibc returns large freed blocks to the kernel, so a training step that
    allocates its activations afresh faults those pages in again, up to 16,000 page faults
    per step for the benchmark LSTMs. The ``rnnkit`` command does this at start-up
    (:mod:`rnnkit.cli.malloc`); a benchmark asks for it when it should time compute alone.
    """
    from rnnkit.cli.malloc import keep_freed_memory

    return keep_freed_memory()


def page_faults() -> int:
    """Minor page faults of this process so far (0 where ``resource`` is unavailable)."""
    if resource is None:
        return 0
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


@functools.cache
def commit() -> str:
    """The short hash of the commit whose ``rnnkit`` is imported, ``-dirty`` when that
    checkout has uncommitted changes (``unknown`` outside git). Asked once per process: a
    long benchmark calls it when it starts, so a commit made while it runs is not recorded
    as the code it ran.

    Asked of the package's own directory, not the working directory: a benchmark run from
    a worktree at a fixed commit (``PYTHONPATH=worktree/src``) records that commit.
    """
    from importlib.util import find_spec

    spec = find_spec("rnnkit")  # found, not imported: no torch in a process that needs none
    if spec is None or spec.origin is None:
        return "unknown"
    result = subprocess.run(
        ["git", "describe", "--always", "--dirty", "--abbrev=7", "--exclude", "*"],
        capture_output=True,
        text=True,
        cwd=Path(spec.origin).parent,
    )
    return result.stdout.strip() or "unknown"


def environment() -> dict[str, Any]:
    """Where a figure was measured: commit, UTC time, torch version and threads, machine."""
    import platform
    import time

    import torch

    return {
        "commit": commit(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "machine": platform.machine(),
    }


def emit(report: dict[str, Any], path: Path | None) -> None:
    """Prints ``report`` as indented JSON and, with ``path``, writes it there too."""
    text = json.dumps(report, indent=2)
    print(text)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")


def add_quality_arguments(
    parser: argparse.ArgumentParser, presets: list[str], minutes: float
) -> None:
    """``PRESET --minutes M --out RUN [--json FILE] [--set KEY=VALUE ...]``."""
    parser.add_argument("preset", choices=presets)
    parser.add_argument("--minutes", type=float, default=minutes)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="Config override on top of the preset (repeatable).",
    )


def train_preset(
    job: Any, preset: str, minutes: float, seed: int, overrides: list[str], out: Path
) -> tuple[Any, Any, float]:
    """Trains ``preset`` of the job package ``job`` (``rnnkit.tasks.tag``, ...) within
    ``minutes`` of training into ``out``, progress logged to stderr: the task, the fit
    result and the wall seconds of training. Reads the commit first: the code this process
    loaded, before a commit can move the checkout on."""
    import sys
    import time

    from rnnkit.config import apply_overrides, from_dict
    from rnnkit.training.progress import make_progress

    commit()
    config = from_dict(job.JOB.config, job.preset_config(preset))
    settings = [f"train.max_time={minutes * 60:.0f}s", f"train.seed={seed}", *overrides]
    config = apply_overrides(config, settings)
    wall = time.perf_counter()
    task, result = job.train(config, out, overwrite=True, progress=make_progress("log", sys.stderr))
    return task, result, time.perf_counter() - wall
