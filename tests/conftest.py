import os
import sys
from pathlib import Path

import pytest

# NumPy (OpenBLAS) and torch fight over the 2 cores when one process uses both (DESIGN.md).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).parent))  # tests/cases.py

# Worker scripts run in subprocesses (torchrun, SIGKILL tests), and fixtures hold the scripts
# that made them; neither are test modules.
collect_ignore = ["workers", "fixtures"]

# Read once, before any test changes the environment.
REAL_DATA = os.environ.get("RNNKIT_DATA")


@pytest.fixture
def real_data(monkeypatch, tmp_path) -> Path:
    """The benchmark data directory from $RNNKIT_DATA; skips when it is unset or absent.

    Only that directory counts: the user cache is hidden behind an empty temporary one.
    """
    if not REAL_DATA or not Path(REAL_DATA).is_dir():
        pytest.skip("RNNKIT_DATA does not point at the benchmark data directory")
    monkeypatch.setenv("RNNKIT_DATA", REAL_DATA)
    monkeypatch.setenv("RNNKIT_CACHE", str(tmp_path / "cache"))
    return Path(REAL_DATA)


@pytest.fixture
def isolated_data_env(tmp_path, monkeypatch) -> None:
    """No test sees the user's cache, RNNKIT_DATA or RNNKIT_OFFLINE unless it asks."""
    for name in ("RNNKIT_DATA", "RNNKIT_OFFLINE", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RNNKIT_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="session")
def tiny_lm_run(tmp_path_factory) -> Path:
    """A finished word language model of a few steps, with one checkpoint (read-only: copy it
    before changing anything)."""
    from click.testing import CliRunner

    from rnnkit.cli import main

    root = tmp_path_factory.mktemp("tiny-lm")
    words = ["the", "cat", "sat", "on", "a", "mat", "and", "dog", "ran", "far", "away"]
    lines = (" ".join(words[(i * 7 + j) % len(words)] for j in range(12)) for i in range(120))
    text = root / "text.txt"
    text.write_text("\n".join(lines) + "\n")
    run = root / "run"
    args = ["lm", "train", "--data", str(text), "--level", "word", "--hidden-size", "8"]
    args += ["--embedding-size", "8", "--epochs", "1", "--max-steps", "3", "--out", str(run)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return run
