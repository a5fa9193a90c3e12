"""Architecture rules of DESIGN.md (docs/architecture.md), checked by parsing (never
importing) src/rnnkit.

Dependency direction (A <- B: B may import A):

    config <- state <- cells <- layers <- models --+
    config <- training ----------------------------+-- tasks <- cli
    config <- data --------------------------------+
    config <- reference  (numpy only, never torch)
    atomic <- training, data, diagnostics, tasks, cli  (atomic writes; standard library only)

Also: no job package under tasks/ imports another, and the skeleton (tasks/common) imports no
job; `reference` never imports torch, and only `cli` (and `__main__`) touches argv or stdout:
no `print(...)`, `sys.argv` or `sys.stdout` anywhere else. A top-level unit that is not in
ALLOWED below is an error: add it to DESIGN.md and to this table first.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = "rnnkit"
SRC = Path(__file__).resolve().parents[1] / "src" / PACKAGE

# The top-level units: a module `src/rnnkit/X.py` or a subpackage `src/rnnkit/X/`.
# `__init__` is the package root (`import rnnkit`, `from rnnkit import name`).
UNITS = frozenset(
    {
        "atomic",
        "config",
        "state",
        "cells",
        "layers",
        "models",
        "training",
        "data",
        "tasks",
        "diagnostics",
        "reference",
        "cli",
        "__init__",
        "__main__",
    }
)
# Nobody imports `__main__`; "everything" means every other unit.
_EVERYTHING = UNITS - {"__main__"}

# For each unit, the rnnkit units it may import (besides itself).
ALLOWED: dict[str, frozenset[str]] = {
    "atomic": frozenset(),  # atomic file writes, standard library only: any writer may use it
    "config": frozenset(),
    "state": frozenset({"config"}),
    "cells": frozenset({"config", "state"}),
    "layers": frozenset({"config", "state", "cells"}),
    "models": frozenset({"config", "state", "cells", "layers"}),
    "training": frozenset({"config", "atomic"}),
    "data": frozenset({"config", "atomic"}),
    "reference": frozenset({"config"}),
    "diagnostics": frozenset(
        {"atomic", "config", "state", "cells", "layers", "models", "reference", "training"}
    ),
    "tasks": _EVERYTHING - {"cli"},
    "cli": _EVERYTHING,
    "__init__": _EVERYTHING,
    "__main__": _EVERYTHING,
}
assert set(ALLOWED) == UNITS

# Units that may print or touch sys.argv / sys.stdout.
MAY_USE_STDOUT = frozenset({"cli", "__main__"})
# Units that must never import torch.
NO_TORCH = frozenset({"reference"})


def unit_of(relpath: str) -> str:
    """Top-level unit of a file given relative to src/rnnkit, e.g. 'cells/lstm.py' -> 'cells'."""
    first = Path(relpath).parts[0]
    return first.removesuffix(".py")


def _module_parts(relpath: str) -> list[str]:
    """Dotted module name of a file as parts: 'cells/__init__.py' -> ['rnnkit', 'cells']."""
    parts = [PACKAGE, *Path(relpath).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts.pop()
    return parts


def _target_unit(parts: list[str]) -> str:
    """Unit named by an absolute module path inside rnnkit (parts[0] == 'rnnkit')."""
    return parts[1] if len(parts) > 1 else "__init__"


def imported_modules(tree: ast.AST, relpath: str) -> list[tuple[int, list[str], str]]:
    """(line, module parts, import text) for every rnnkit import in a parsed file.

    Absolute imports (`rnnkit.X...`) and relative ones (resolved against the file's own
    package) both give the absolute parts (`['rnnkit', 'X', ...]`); `from P import a, b`
    gives `P.a` and `P.b`. A relative import that climbs above the package gives
    `['<outside>']`.
    """
    is_package_init = Path(relpath).name == "__init__.py"
    own_package = _module_parts(relpath) if is_package_init else _module_parts(relpath)[:-1]
    found: list[tuple[int, list[str], str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == PACKAGE:
                    found.append((node.lineno, parts, f"import {alias.name}"))
        elif isinstance(node, ast.ImportFrom):
            text = f"from {'.' * node.level}{node.module or ''} import ..."
            if node.level == 0:
                base = (node.module or "").split(".")
                if base[0] != PACKAGE:
                    continue
            else:
                if node.level - 1 >= len(own_package):
                    found.append((node.lineno, ["<outside>"], text))
                    continue
                base = own_package[: len(own_package) - (node.level - 1)]
                if node.module:
                    base = base + node.module.split(".")
            found += [(node.lineno, [*base, alias.name], text) for alias in node.names]
    return found


def imported_units(tree: ast.AST, relpath: str) -> list[tuple[int, str, str]]:
    """(line, unit, import text) for every rnnkit import in a parsed file: the top-level unit
    X of each module :func:`imported_modules` gives. `from rnnkit import name` maps to the
    unit `name` when that is a unit, else to the package root `__init__`; an import that
    climbs above the package to '<outside>'."""
    found = []
    for line, parts, text in imported_modules(tree, relpath):
        names_from_root = len(parts) == 2 and text.startswith("from")  # from rnnkit import a
        if parts == ["<outside>"]:
            found.append((line, "<outside>", text))
        elif len(parts) == 1 or (names_from_root and parts[1] not in UNITS):
            found.append((line, "__init__", text))
        else:
            found.append((line, parts[1], text))
    return found


def _job_of(parts: list[str]) -> str | None:
    """The package under tasks/ that module parts name (a job, or 'common'), else None."""
    if len(parts) > 2 and parts[:2] == [PACKAGE, "tasks"] and (SRC / "tasks" / parts[2]).is_dir():
        return parts[2]
    return None


def job_problems(tree: ast.AST, relpath: str, where: str) -> list[str]:
    """No job imports another job; the skeleton (tasks/common) imports no job."""
    own = _job_of(_module_parts(relpath))
    if own is None:
        return []
    problems = []
    for line, parts, text in imported_modules(tree, relpath):
        target = _job_of(parts)
        if target is None or target in (own, "common"):
            continue
        who = "the skeleton (tasks/common)" if own == "common" else f"job {own!r}"
        problems.append(f"{where}:{line}: {who} may not import job {target!r} ({text!r})")
    return problems


def _imports_torch(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            if any(a.name.split(".")[0] == "torch" for a in node.names):
                lines.append(node.lineno)
        elif (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and (node.module or "").split(".")[0] == "torch"
        ):
            lines.append(node.lineno)
    return lines


def _stdout_uses(tree: ast.AST) -> list[tuple[int, str]]:
    uses = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "print"
        ):
            uses.append((node.lineno, "print(...)"))
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "sys"
            and node.attr in {"argv", "stdout"}
        ):
            uses.append((node.lineno, f"sys.{node.attr}"))
    return uses


def check_source(source: str, relpath: str) -> list[str]:
    """All rule violations in one file's source; `relpath` is relative to src/rnnkit."""
    where = f"src/{PACKAGE}/{relpath}"
    unit = unit_of(relpath)
    if unit not in UNITS:
        return [f"{where}: unit {unit!r} is not in DESIGN.md's layout (add it there and here)"]
    try:
        tree = ast.parse(source, filename=where)
    except SyntaxError as exc:
        return [f"{where}:{exc.lineno}: syntax error: {exc.msg}"]

    problems = []
    for line, target, text in imported_units(tree, relpath):
        if target == unit:
            continue
        if target not in UNITS:
            problems.append(f"{where}:{line}: {text!r} names unknown unit {target!r}")
        elif target not in ALLOWED[unit]:
            problems.append(f"{where}:{line}: {unit} may not import {target} ({text!r})")
    problems += job_problems(tree, relpath, where)
    if unit in NO_TORCH:
        for line in _imports_torch(tree):
            problems.append(f"{where}:{line}: {unit} must not import torch (numpy only)")
    if unit not in MAY_USE_STDOUT:
        for line, what in _stdout_uses(tree):
            problems.append(f"{where}:{line}: {what} outside cli (library code never prints)")
    return problems


def source_files() -> list[Path]:
    return sorted(SRC.rglob("*.py")) if SRC.is_dir() else []


def test_dependency_rules_hold_for_the_package():
    problems = []
    for path in source_files():
        relpath = path.relative_to(SRC).as_posix()
        problems += check_source(path.read_text(encoding="utf-8"), relpath)
    assert not problems, "architecture rules broken:\n" + "\n".join(problems)


# --- the checker itself must be able to fail -------------------------------------------------


@pytest.mark.parametrize(
    ("relpath", "source", "expected"),
    [
        ("cells/foo.py", "from rnnkit.models import Tagger\n", "cells may not import models"),
        ("cells/foo.py", "from ..layers import Recurrent\n", "cells may not import layers"),
        ("cells/foo.py", "import rnnkit.tasks.lm\n", "cells may not import tasks"),
        ("training/loop.py", "from rnnkit import data\n", "training may not import data"),
        ("training/loop.py", "from .. import models\n", "training may not import models"),
        ("state.py", "from rnnkit import LSTM\n", "state may not import __init__"),
        ("tasks/lm.py", "from rnnkit.cli import main\n", "tasks may not import cli"),
        ("layers/x.py", "from rnnkit.utils import f\n", "unknown unit 'utils'"),
        ("state.py", "from .. import x\n", "unknown unit '<outside>'"),
        ("reference/lstm.py", "import torch.nn as nn\n", "reference must not import torch"),
        ("reference/lstm.py", "from torch import nn\n", "reference must not import torch"),
        ("layers/x.py", "def f():\n    print('hi')\n", "print(...) outside cli"),
        ("training/loop.py", "import sys\nsys.stdout.write('x')\n", "sys.stdout outside cli"),
        ("utils.py", "", "unit 'utils' is not in DESIGN.md's layout"),
        ("tasks/lm/job.py", "from rnnkit.tasks.classify import JOB\n", "job 'lm' may not import"),
        ("tasks/classify/x.py", "from rnnkit.tasks import lm\n", "job 'classify' may not import"),
        ("tasks/classify/x.py", "from ...tasks.forecast.data import P\n", "import job 'forecast'"),
        ("tasks/common/x.py", "import rnnkit.tasks.lm.task\n", "skeleton (tasks/common) may not"),
        ("tasks/common/x.py", "from ..lm import LMConfig\n", "may not import job 'lm'"),
    ],
)
def test_checker_reports_violation(relpath, source, expected):
    problems = check_source(source, relpath)
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(
    ("relpath", "source"),
    [
        ("cells/lstm.py", "from ..state import LSTMState\nfrom . import base\n"),
        ("cells/__init__.py", "from .lstm import LSTMCell\nfrom rnnkit.config import C\n"),
        ("layers/recurrent.py", "import torch\nfrom rnnkit.cells.base import Cell\n"),
        ("reference/lstm.py", "import numpy as np\nfrom ..config import ReferenceConfig\n"),
        ("tasks/lm.py", "from rnnkit import data, models, training\nfrom .. import __version__\n"),
        ("cli.py", "import sys\nprint(sys.argv)\nfrom rnnkit.tasks import lm\n"),
        ("__main__.py", "from rnnkit.cli import main\nmain()\n"),
        ("config.py", "import json\nimport dataclasses\n"),
        ("tasks/lm/job.py", "from rnnkit.tasks import common\nfrom ..common import Job\n"),
        ("tasks/lm/job.py", "from rnnkit.tasks.lm.task import T\nfrom . import tokens\n"),
        ("tasks/__init__.py", "from rnnkit.tasks.common import load\n"),
    ],
)
def test_checker_accepts_allowed_imports(relpath, source):
    assert check_source(source, relpath) == []
