"""Native kernels for the time loop, in C: the LSTM step's elementwise work, in-place tanh, and
whole LSTM and Jordan sequences.

``lstm.c``, ``lstm_sequence.c``, ``squash.c`` and ``jordan.c`` (next to this file, with their
headers) are compiled into one library with the system C compiler (``$CC``, else ``cc``) the
first time a loop needs it, into the user cache (``native/`` under ``$RNNKIT_CACHE``, else
``$XDG_CACHE_HOME/rnnkit``, else ``~/.cache/rnnkit``), keyed by the sources, the compiler and
the CPU, so later processes load it in milliseconds (after the checks of :mod:`.trust`: a
library is code, loaded only from a directory and a file of this user's that match the digest
recorded when it was built; anything else is rebuilt). Building takes 0.45-0.75 s. Where there
is no compiler, or the build fails, or ``RNNKIT_NATIVE=0``, :func:`kernels` returns None and
the cells run their torch code, which stays the definition the tests check these kernels
against. :func:`status` says which happened.

The kernels take float32 rows of contiguous (B, K) arrays on the CPU; the cells check that
before calling, and fall back to torch otherwise.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from rnnkit.cells import gemm
from rnnkit.cells.native import trust

__all__ = [
    "Kernels",
    "kernels",
    "pointers",
    "sequences",
    "status",
    "steps_only",
    "switched_off",
    "usable",
]

SOURCES = tuple(
    Path(__file__).with_name(name) for name in ("lstm.c", "lstm_sequence.c", "squash.c", "jordan.c")
)
HEADERS = tuple(Path(__file__).with_name(name) for name in ("lstm.h", "blas.h", "squash.h"))
# -ffast-math lets the compiler reorder sums and vectorise; -fno-finite-math-only keeps NaN
# NaN through squash.h's clamps (which it would otherwise turn into min/max instructions that
# drop NaN); -fopenmp shares torch's OpenMP runtime (same soname, already loaded), so
# torch.set_num_threads governs both.
COMPILE_FLAGS = (
    "-O3",
    "-march=native",
    "-ffast-math",
    "-fno-finite-math-only",
    "-fopenmp",
    "-fPIC",
)
# Linked in a step of its own, without -ffast-math: with it, GCC (before 13) links
# crtfastmath.o into the library, whose constructor turns on flush-to-zero for the whole
# process the moment the library is loaded (every float of the user's program after it).
LINK_FLAGS = ("-shared", "-fopenmp")
FLAGS = (*COMPILE_FLAGS, "--link", *LINK_FLAGS)  # what the cache key records
PEEPHOLE, LAYER_NORM = 1, 2
# The whole-sequence loops, each returning 0 or 1 (out of memory); called on Kernels.library.
_SEQUENCES = (
    "jordan_forward",
    "jordan_backward",
    "lstm_sequence_forward",
    "lstm_sequence_backward",
)


@dataclass
class _Loaded:
    kernels: Kernels | None
    status: str


_loaded: _Loaded | None = None


class Kernels:
    """ctypes bindings of ``lstm_forward``, ``lstm_backward`` (``lstm.c``) and ``squash_tanh``
    (``squash.c``); the whole-sequence loops (``jordan.c``, ``lstm_sequence.c``) are called on
    ``library`` by :mod:`rnnkit.cells.jordan_native` and :mod:`rnnkit.cells.lstm_sequence`."""

    def __init__(self, library: ctypes.CDLL) -> None:
        self.library = library
        library.squash_tanh.restype = None
        for name in _SEQUENCES:
            getattr(library, name).restype = ctypes.c_int
        library.squash_tanh.argtypes = [ctypes.c_int64, ctypes.c_void_p]
        for name, result in (("lstm_forward", None), ("lstm_backward", ctypes.c_int)):
            fn = getattr(library, name)
            fn.restype = result
            fn.argtypes = [
                ctypes.c_int64,
                ctypes.c_int64,
                ctypes.c_int,
                ctypes.c_float,
                ctypes.c_void_p,
                ctypes.c_void_p,
            ]

    def forward(
        self, flags: int, eps: float, inputs: list[Tensor | None], outputs: list[Tensor | None]
    ) -> None:
        """``lstm_forward`` over the rows of ``outputs[1]`` (c_t, (B, H))."""
        B, H = outputs[1].shape  # type: ignore[union-attr]
        self.library.lstm_forward(B, H, flags, eps, pointers(inputs), pointers(outputs))

    def backward(
        self, flags: int, inputs: list[Tensor | None], outputs: list[Tensor | None]
    ) -> None:
        """``lstm_backward`` over the rows of ``inputs[0]`` (dy, (B, H))."""
        B, H = inputs[0].shape  # type: ignore[union-attr]
        if self.library.lstm_backward(B, H, flags, 0.0, pointers(inputs), pointers(outputs)):
            raise MemoryError(f"lstm_backward could not allocate its scratch (B={B}, H={H})")

    def tanh_(self, x: Tensor) -> Tensor:
        """``x <- tanh(x)`` for a contiguous float32 CPU tensor of any shape; returns ``x``."""
        self.library.squash_tanh(x.numel(), x.data_ptr())
        return x


# ctypes makes a new array type for each length it sees, and such a type is a reference cycle
# that only the cyclic GC frees; kept here, each length's type is made once.
_ARRAY_TYPES: dict[int, type[ctypes.Array[ctypes.c_void_p]]] = {}


def pointers(tensors: list[Tensor | None]) -> ctypes.Array[ctypes.c_void_p]:
    """The tensors' data addresses as a C array of pointers (NULL for None)."""
    n = len(tensors)
    if n not in _ARRAY_TYPES:
        _ARRAY_TYPES[n] = ctypes.c_void_p * n
    return _ARRAY_TYPES[n](*(None if t is None else t.data_ptr() for t in tensors))


def usable(*tensors: Tensor) -> bool:
    """Whether the kernels can read these tensors in place: float32, CPU, contiguous."""
    return all(
        t.dtype == torch.float32 and t.device.type == "cpu" and t.is_contiguous() for t in tensors
    )


def kernels() -> Kernels | None:
    """The compiled kernels, building them on first use; None where they cannot be had."""
    global _loaded
    if _loaded is None:
        _loaded = _load()
    return _loaded.kernels


def status() -> str:
    """One line on the native kernels: where they were loaded from, or why they are off."""
    kernels()
    assert _loaded is not None
    return _loaded.status


@contextmanager
def switched_off(reason: str) -> Iterator[None]:
    """Within the block :func:`kernels` returns None and the cells run their torch code
    (benchmarks and tests compare the two ways in one process); ``status`` says ``reason``."""
    global _loaded
    kept = _loaded
    _loaded = _Loaded(None, f"off ({reason})")
    try:
        yield
    finally:
        _loaded = kept


_steps_only = False


def sequences() -> Kernels | None:
    """The kernels, for the whole-sequence loops (``lstm_sequence.c``, ``jordan.c``), which
    multiply through MKL's packed GEMM; None where :func:`kernels` is None, within
    :func:`steps_only`, or where gemm's backend is not MKL or MKL's packed GEMM is missing."""
    if _steps_only or gemm.BACKEND != "mkl" or gemm.mkl_packed() is None:
        return None
    return kernels()


@contextmanager
def steps_only() -> Iterator[None]:
    """Within the block the loop steps through its cells in Python (on the step kernels where
    it can) instead of running whole sequences in C: benchmarks and tests compare the two."""
    global _steps_only
    kept = _steps_only
    _steps_only = True
    try:
        yield
    finally:
        _steps_only = kept


def _load() -> _Loaded:
    if os.environ.get("RNNKIT_NATIVE", "1") == "0":
        return _Loaded(None, "off (RNNKIT_NATIVE=0)")
    compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        return _Loaded(None, "off: no C compiler found (torch code is used)")
    try:
        path, note = _build(compiler)
        library = ctypes.CDLL(str(path))
        if note.startswith(_PRIVATE):  # loaded: the file can go (the mapping stays)
            shutil.rmtree(path.parent, ignore_errors=True)
        return _Loaded(Kernels(library), f"on ({path}{note})")
    except (OSError, subprocess.SubprocessError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        names = ", ".join(source.name for source in SOURCES)
        return _Loaded(None, f"off: building {names} failed ({first})")


def _cache_dir() -> Path:
    """``native/`` in the user cache, found as rnnkit.data.registry.cache_dir finds it."""
    if os.environ.get("RNNKIT_CACHE"):
        return Path(os.environ["RNNKIT_CACHE"]).expanduser() / "native"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rnnkit" / "native"


def _build(compiler: str) -> tuple[Path, str]:
    """The library for these sources, compiler and CPU, compiled unless the cache holds one
    that :func:`trust.check_library` accepts; also a note for ``status`` (why it was rebuilt,
    or why the cache was not used)."""
    version = subprocess.run(
        [compiler, "--version"], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    key = hashlib.sha256()
    sources = [source.read_bytes() for source in (*SOURCES, *HEADERS)]
    for part in (*sources, " ".join(FLAGS).encode(), version.encode(), _cpu_id()):
        key.update(part)
    name = f"kernels-{key.hexdigest()[:16]}.so"
    directory, note = _trusted_directory()
    target = directory / name
    if os.path.lexists(target):
        problem = trust.check_library(target)
        if problem is None:
            return target, note
        note += f"; rebuilt: the cached library had {problem}"
        os.unlink(target)
    _compile(compiler, target)
    return target, note


_PRIVATE = "; built privately, the cache was not used: "


def _trusted_directory() -> tuple[Path, str]:
    """The cache's ``native/`` when it is this user's alone, else a new private directory."""
    directory = _cache_dir()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    problem = trust.check_directory(directory)
    if problem is None:
        return directory, ""
    private = Path(tempfile.mkdtemp(prefix="rnnkit-native-"))
    return private, f"{_PRIVATE}{problem}"


def _compile(compiler: str, target: Path) -> None:
    # Built beside the target and renamed: a concurrent process never loads half a file.
    fd, tmp = tempfile.mkstemp(suffix=".so", dir=target.parent)
    os.close(fd)
    objects = Path(tempfile.mkdtemp(prefix=".objects-", dir=target.parent))
    try:
        built = []
        for source in SOURCES:
            built.append(str(objects / f"{source.stem}.o"))
            _run_compiler([compiler, *COMPILE_FLAGS, "-c", str(source), "-o", built[-1]])
        _run_compiler([compiler, *LINK_FLAGS, "-o", tmp, *built, "-lm"])
        trust.record_digest(Path(tmp), target)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(objects, ignore_errors=True)
        if os.path.exists(tmp):
            os.unlink(tmp)


def _run_compiler(command: list[str]) -> None:
    try:
        subprocess.run(command, capture_output=True, text=True, check=True, timeout=120)
    except subprocess.CalledProcessError as error:
        raise subprocess.SubprocessError(error.stderr.strip() or "compiler failed") from error


def _cpu_id() -> bytes:
    """What -march=native depends on: the machine and its CPU flags."""
    flags = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            flags = next((line for line in cpuinfo if line.startswith("flags")), "")
    except OSError:
        pass
    return f"{platform.machine()} {platform.processor()} {flags}".encode()
