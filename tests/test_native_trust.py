"""The compiled-kernel cache is not trusted by file name (issue #26): a library planted under
the predictable name, a file others may write, a link, or a cache of another user's is never
loaded; the kernels are rebuilt or built privately instead."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from rnnkit.cells import native
from rnnkit.cells.native import trust

COMPILER = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
pytestmark = pytest.mark.skipif(COMPILER is None, reason="no C compiler")


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("RNNKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("RNNKIT_NATIVE", raising=False)
    return tmp_path / "cache" / "native"


def _library(cache: Path) -> Path:
    """Builds the kernels into ``cache`` (not loading them) and returns the library."""
    assert COMPILER is not None
    path, note = native._build(COMPILER)
    assert path.parent == cache and note == ""
    return path


def _plant(path: Path, mark: Path) -> None:
    """A library whose constructor leaves ``mark``: loading it would run it."""
    source = path.with_name("planted.c")
    source.write_text(
        "#include <stdio.h>\n__attribute__((constructor)) static void planted(void) {"
        f' FILE *f = fopen("{mark}", "w"); if (f) fclose(f); }}\n'
    )
    assert COMPILER is not None
    subprocess.run([COMPILER, "-shared", "-fPIC", "-o", str(path), str(source)], check=True)
    os.chmod(path, 0o755)


@pytest.mark.parametrize("digest", ["kept", "removed"])
def test_a_library_planted_under_the_cached_name_is_rebuilt_not_loaded(cache, tmp_path, digest):
    library = _library(cache)
    mark = tmp_path / "planted-ran"
    _plant(library, mark)
    if digest == "removed":
        trust.digest_path(library).unlink()
    loaded = native._load()
    assert loaded.kernels is not None and not mark.exists()
    reason = "digest does not match" if digest == "kept" else "no recorded digest"
    assert loaded.status == f"on ({library}; rebuilt: the cached library had {reason})"
    assert trust.check_library(library) is None


def test_a_cached_library_others_may_write_or_a_link_is_rebuilt(cache, tmp_path):
    library = _library(cache)
    os.chmod(library, 0o775)
    assert native._load().status.endswith("rebuilt: the cached library had writable by others)")
    elsewhere = tmp_path / "elsewhere.so"
    shutil.copy(library, elsewhere)
    library.unlink()
    library.symlink_to(elsewhere)
    assert native._load().status.endswith("had not a regular file)")
    assert not library.is_symlink() and trust.check_library(library) is None


def test_a_good_cached_library_is_loaded_as_it_is(cache):
    library = _library(cache)
    before = os.stat(library)
    assert native._load().status == f"on ({library})"
    after = os.stat(library)
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)


def test_a_cache_directory_others_may_write_is_tightened(cache):
    cache.mkdir(parents=True)
    os.chmod(cache, 0o777)
    library = _library(cache)
    assert stat.S_IMODE(os.stat(cache).st_mode) == 0o755
    assert stat.S_IMODE(os.stat(library).st_mode) == 0o755


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0, reason="needs root to chown")
def test_a_cache_of_another_users_is_not_used(cache, tmp_path):
    library = _library(cache)
    mark = tmp_path / "planted-ran"
    _plant(library, mark)
    trust.record_digest(library, library)  # even with a digest that matches the plant
    os.chown(cache, 65534, 65534)
    loaded = native._load()
    assert loaded.kernels is not None and not mark.exists()
    assert f"built privately, the cache was not used: {cache} belongs" in loaded.status
    private = Path(loaded.status.removeprefix("on (").split(";")[0])
    assert private.parent != cache and not private.parent.exists()  # removed once loaded


def test_loading_the_kernels_leaves_the_process_floats_alone(cache):
    # Linked with -ffast-math, GCC before 13 put crtfastmath.o in the library, and loading it
    # turned on flush-to-zero for the whole process: 5e-324 * 1.0 became 0.0 everywhere.
    program = (
        "import numpy as np; from rnnkit.cells import native; "
        "assert native.kernels() is not None; print(np.float64(5e-324) * 1.0)"
    )
    env = os.environ | {"RNNKIT_CACHE": str(cache.parent)}
    done = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "5e-324"
