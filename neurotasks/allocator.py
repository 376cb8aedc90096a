"""Keep freed memory for reuse, so building batch after batch does not fault pages in again.

With glibc's default (dynamic) settings, the arrays of one batch of trials are returned to the
operating system when they are freed, and the next batch's arrays fault fresh zeroed pages back
in: about 1.4 µs a 4 KiB page on this project's CPUs, roughly half the cost of
``task.trials(128)`` for most tasks. Fixing the two thresholds below (to glibc's own maximum
for the mmap one) keeps up to ``TRIM_THRESHOLD`` bytes of freed memory in the process for the
next batch, as allocators built for throughput (jemalloc, tcmalloc) do.

``import neurotasks`` calls :func:`keep_freed_memory` once. Set the environment variable
``NEUROTASKS_KEEP_FREED_MEMORY=0`` before the import to leave the allocator alone. Elsewhere than
glibc (macOS, Windows, musl) it does nothing.
"""

from __future__ import annotations

import os
import sys

#: Allocations up to this size come from the heap, not from fresh ``mmap`` pages.
MMAP_THRESHOLD = 32 << 20
#: Free memory at the top of the heap is given back to the system only beyond this size.
TRIM_THRESHOLD = 128 << 20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3          # glibc's mallopt parameter numbers

_applied: bool | None = None


def keep_freed_memory() -> bool:
    """Set glibc's trim and mmap thresholds (once per process). Returns whether they are set."""
    global _applied
    if _applied is not None:
        return _applied
    _applied = False
    if not sys.platform.startswith("linux") or os.environ.get("NEUROTASKS_KEEP_FREED_MEMORY", "1") == "0":
        return False
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt      # the C library this interpreter is linked with
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    _applied = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return _applied
