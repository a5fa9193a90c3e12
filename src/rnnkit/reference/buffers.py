"""Work arrays kept between calls of the reference engine's sequence-level fast path.

Why: a training step of the fast path fills a few large arrays (an LSTM at B=64, T=100,
I=H=256: about 90 MB of activations and gradients) and drops them when its cache goes. glibc
then gives those pages back to the kernel, and the next step faults them in again: about
6,000 page faults per step on the development machine, where a step that faulted nothing took
13-17% less time (docs/benchmarks.md). A GPU framework keeps its memory in a caching allocator
for the same reason; this pool is that, for the few arrays the fast path allocates.

An array is handed out again only once nothing else refers to it: no cache, no view of it
(a NumPy view holds its base), no caller. CPython's reference count says exactly that; the
pool checks, once, that the count behaves as expected on this interpreter and otherwise
always allocates afresh. Arrays that leave the engine (outputs, gradients, final states) are
never taken from the pool.

Example:
    >>> import numpy as np
    >>> from rnnkit.reference.buffers import BufferPool
    >>> pool = BufferPool()
    >>> a = pool.empty((2, 3), np.float32)
    >>> b = pool.empty((2, 3), np.float32)  # a is still referenced: a new array
    >>> a is b
    False
    >>> del a
    >>> c = pool.empty((2, 3), np.float32)  # the first one is free again
    >>> pool.in_pool, pool.nbytes
    (2, 48)
"""

from __future__ import annotations

import sys
import threading

import numpy as np
import numpy.typing as npt

__all__ = ["POOL", "BufferPool"]


def _references(arrays: list[np.ndarray], k: int) -> int:
    """The reference count of ``arrays[k]`` as seen from here (no local name binds it)."""
    return sys.getrefcount(arrays[k])


def _free_count() -> int | None:
    """The count :func:`_references` gives for an array held only by the pool's list.

    None when a view does not raise it by exactly one: then reuse would not be safe to
    decide from the count, and the pool never reuses.
    """
    arrays = [np.empty(1)]
    free = _references(arrays, 0)
    view = arrays[0][:]
    used = _references(arrays, 0)
    del view
    return free if used == free + 1 and _references(arrays, 0) == free else None


class BufferPool:
    """Uninitialised arrays by shape and dtype, reused once nothing refers to them.

    Args:
        max_bytes: the most memory the pool keeps; beyond it the least recently handed out
            arrays leave the pool (those still in use live on with their users).
    """

    def __init__(self, max_bytes: int = 1 << 30) -> None:
        self.max_bytes = max_bytes
        self._arrays: list[np.ndarray] = []  # least recently handed out first
        self._lock = threading.Lock()
        self._free = _free_count()

    @property
    def nbytes(self) -> int:
        """Bytes of the arrays the pool holds, in use or free."""
        return sum(a.nbytes for a in self._arrays)

    @property
    def in_pool(self) -> int:
        """How many arrays the pool holds."""
        return len(self._arrays)

    def empty(self, shape: tuple[int, ...], dtype: npt.DTypeLike) -> np.ndarray:
        """Like ``np.empty(shape, dtype)``; a free pooled array of that shape when there is one.

        The caller must write every element before reading it, as with ``np.empty``.
        """
        shape, dtype = tuple(int(n) for n in shape), np.dtype(dtype)
        with self._lock:
            for k in range(len(self._arrays)):
                candidate = self._arrays[k]
                if candidate.shape != shape or candidate.dtype != dtype:
                    continue
                del candidate  # the check below must see only the list's reference
                if self._free is not None and _references(self._arrays, k) == self._free:
                    array = self._arrays.pop(k)
                    self._arrays.append(array)  # now the most recently handed out
                    return array
            array = np.empty(shape, dtype)
            if array.nbytes <= self.max_bytes:
                self._arrays.append(array)
                self._shrink()
            return array

    def clear(self) -> None:
        """Forget every pooled array (their memory goes once their users drop them)."""
        with self._lock:
            self._arrays.clear()

    def _shrink(self) -> None:
        total = self.nbytes
        while total > self.max_bytes and self._arrays:
            total -= self._arrays.pop(0).nbytes


# The fast path's pool: ``POOL.max_bytes`` caps what it keeps, ``POOL.clear()`` lets it go.
POOL = BufferPool()
