"""Keep freed memory in the process: the ``rnnkit`` command's one setting of the C allocator.

Why: glibc's malloc hands large freed blocks back to the kernel (``munmap``, heap trimming),
so a training step that allocates its activations afresh faults those pages in again.
``torch.nn.LSTM``'s CPU kernel does so every step: about 16,000 page faults a step at B=64,
T=100, H=256 on the development machine, a quarter of its step time (docs/benchmarks.md).
Told to keep freed memory (no mmap for large blocks, no trimming), glibc reuses the pages, and
``rnnkit lm train --preset shakespeare-char --max-steps 300`` trained in 120 s (twice) instead
of 143-151 s with this setting turned off.
The cost is that the process keeps its peak memory until it exits, which suits a command that
trains or evaluates and then ends. This is what a caching allocator (jemalloc, tcmalloc)
gives; library code never changes the allocator of a program that imports it, only the
``rnnkit`` command does, and ``RNNKIT_KEEP_FREED_MEMORY=0`` turns it off.
"""

from __future__ import annotations

import ctypes
import os
import sys

__all__ = ["ENV", "keep_freed_memory", "keep_freed_memory_unless_disabled"]

ENV = "RNNKIT_KEEP_FREED_MEMORY"

# mallopt parameters, from <malloc.h>
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3
_SETTINGS = (
    (_M_MMAP_THRESHOLD, 1 << 30),  # blocks up to 1 GiB come from the heap, not fresh mmaps
    (_M_TRIM_THRESHOLD, 1 << 31),  # never give the heap's top back below 2 GiB free
    (_M_TOP_PAD, 1 << 28),  # grow the heap 256 MiB at a time
)


def keep_freed_memory() -> bool:
    """Ask glibc to keep freed memory in this process; True if it did (Linux with glibc)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        # The process's own symbols: the C library is loaded already (find_library would
        # spawn ldconfig at every start of the command).
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # another C library (musl has no mallopt)
        return False
    return all(mallopt(option, value) == 1 for option, value in _SETTINGS)


def keep_freed_memory_unless_disabled() -> bool:
    """:func:`keep_freed_memory`, unless ``RNNKIT_KEEP_FREED_MEMORY=0`` is set."""
    if os.environ.get(ENV, "1").strip() == "0":
        return False
    return keep_freed_memory()
