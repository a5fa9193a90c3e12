"""How much memory a read may take: refuse up front, with a message, what cannot fit.

A file bigger than the memory left would otherwise fill it, swap, and end in the kernel's
out-of-memory killer (no message at all) or a ``MemoryError`` deep inside a reader.
"""

from __future__ import annotations

from pathlib import Path

from rnnkit.data.errors import DataError

__all__ = ["available_memory", "check_fits"]

_MEMINFO = Path("/proc/meminfo")


def available_memory() -> int | None:
    """Bytes the kernel says a new allocation can get without swapping (Linux's
    ``MemAvailable``), or None where that is not known."""
    try:
        for line in _MEMINFO.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024  # the file counts kB
    except (OSError, ValueError, IndexError):
        return None
    return None


def check_fits(needed: int, *, file: Path | str, what: str) -> None:
    """Raises a DataError naming ``file`` when ``needed`` bytes exceed the memory available.

    Example:
        >>> check_fits(1, file="small.txt", what="reading it")  # fits anywhere
    """
    available = available_memory()
    if available is not None and needed > available:
        raise DataError(
            f"{what} needs at least {_size(needed)} of memory; {_size(available)} is available",
            file=file,
        )


def _size(n: int) -> str:
    if n >= 2**30:
        return f"{n / 2**30:.1f} GiB"
    return f"{n / 2**20:.0f} MiB" if n >= 2**20 else f"{n:,} bytes"
