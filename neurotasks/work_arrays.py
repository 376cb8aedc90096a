"""WorkArrays: large arrays kept from one call to the next, so repeated builds reuse their memory.

With glibc's default (dynamic) settings, large arrays made and freed call after call are given
back to the operating system, and the next call faults fresh zeroed pages in: about 1.4 µs a
4 KiB page, a large part of a refill of the vector environment. Code that builds the same
kind of arrays again and again (the vector environment's refills, ``add_normals``) takes them
from a ``WorkArrays`` it keeps instead, which needs no process-wide allocator setting (see
``neurotasks.allocator`` for the opt-in one).
"""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np

#: references to a kept array while ``in_use`` looks at it: the dict's, the loop's, getrefcount's argument
_OWN_REFERENCES = 3


class WorkArrays:
    """Work arrays kept from one call to the next: ``work(name, shape, dtype)`` is a view of the
    array kept under ``name``, grown (by at least a quarter) when it is too small.

    Large arrays made and freed call after call are given back to the system by glibc's default
    allocator and fault fresh pages in on the next call; arrays kept here are not. Their
    contents are undefined between calls (their owner leaves them out of its pickled state).
    """

    def __init__(self) -> None:
        self._arrays: dict[str, np.ndarray] = {}
        self._arange = np.arange(0, dtype=np.intp)

    def __call__(self, name: str, shape: int | tuple[int, ...], dtype: Any = np.float32) -> np.ndarray:
        shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
        size, dtype = math.prod(shape), np.dtype(dtype)
        kept = self._arrays.get(name)
        if kept is None or kept.dtype != dtype or kept.size < size:
            grown = 0 if kept is None or kept.dtype != dtype else kept.size + kept.size // 4
            kept = self._arrays[name] = np.empty(max(size, grown), dtype)
        return kept[:size].reshape(shape)

    def in_use(self) -> bool:
        """Whether an array this object handed out (or a view of one) is still referenced elsewhere.

        A view keeps a reference to the array it was cut from, so an array referenced only by this
        object has no live view: its memory can be handed out again without changing anything a
        caller still holds.
        """
        return any(sys.getrefcount(kept) > _OWN_REFERENCES for kept in self._arrays.values())

    def arange(self, n: int) -> np.ndarray:
        """``np.arange(n)`` (intp) as a view of a kept one: do not write to it."""
        if self._arange.size < n:
            self._arange = np.arange(max(n, self._arange.size + self._arange.size // 4), dtype=np.intp)
        return self._arange[:n]
