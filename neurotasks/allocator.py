"""An opt-in allocator tuning for programs that build batch after batch: ``keep_freed_memory()``.

With glibc's default (dynamic) settings, the large arrays of one batch of trials are returned
to the operating system when they are freed, and the next batch's arrays fault fresh zeroed
pages back in: about 1.4 µs a 4 KiB page on this project's CPUs, a large part of the cost of
``task.trials(1024)`` or of a ``TrialSampler`` block. Fixing the two thresholds below (to
glibc's own maximum for the mmap one) keeps up to ``TRIM_THRESHOLD`` bytes of freed memory in
the process for the next batch, as allocators built for throughput (jemalloc, tcmalloc) do.

These settings belong to the whole process (every library in it allocates through them), so a
library must not change them on its own: ``import neurotasks`` leaves them alone, and the
package reuses its own buffers where it can instead (the vector environment's stream of steps,
for one). A program that wants the rest of the speed, such as a training script, asks for it:

    import neurotasks
    neurotasks.keep_freed_memory()      # once, at start-up; True if the thresholds are set

It costs memory: up to ``TRIM_THRESHOLD`` bytes freed by any part of the program stay mapped.
Elsewhere than glibc (macOS, Windows, musl) it does nothing and returns False.
"""

from __future__ import annotations

import sys

#: Allocations up to this size come from the heap, not from fresh ``mmap`` pages.
MMAP_THRESHOLD = 32 << 20
#: Free memory at the top of the heap is given back to the system only beyond this size.
TRIM_THRESHOLD = 128 << 20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3          # glibc's mallopt parameter numbers

_applied: bool | None = None                           # None: never asked in this process


def keep_freed_memory() -> bool:
    """Set glibc's trim and mmap thresholds for this process (once; later calls return the first
    answer). Returns whether they are set: False where the C library is not glibc."""
    global _applied
    if _applied is not None:
        return _applied
    _applied = False
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt      # the C library this interpreter is linked with
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    _applied = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return _applied


def freed_memory_kept() -> bool:
    """Whether ``keep_freed_memory()`` has set the thresholds in this process (for reports)."""
    return bool(_applied)
