"""neurotasks.allocator: importing (and using) neurotasks leaves glibc's allocator alone; the
explicit ``keep_freed_memory()`` call sets its thresholds.

Each check runs in a fresh interpreter and watches what glibc does with one 24 MiB ``malloc``
(``mallinfo2``): under glibc's default settings a block that large is mmapped on its own
(``hblkhd`` grows) and unmapped when freed; once ``keep_freed_memory()`` has set the thresholds
it comes from the heap (``hblkhd`` does not grow) and the heap keeps it after ``free``
(``arena`` does not shrink).
"""

from __future__ import annotations

import ctypes
import json
import platform
import subprocess
import sys
import textwrap

import pytest

GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc" \
    and hasattr(ctypes.CDLL(None), "mallinfo2")
needs_glibc = pytest.mark.skipif(not GLIBC, reason="glibc (2.33 or later, for mallinfo2) only")

PROBE = textwrap.dedent('''
    import ctypes, json, sys

    class MallInfo2(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in
                    ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
                     "fordblks", "keepcost")]

    libc = ctypes.CDLL(None)
    libc.mallinfo2.restype = MallInfo2
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    SIZE = 24 << 20

    def big_block():
        """Where a 24 MiB block comes from (growth of mmapped and heap bytes) and whether the heap
        keeps it once freed."""
        before = libc.mallinfo2()
        block = libc.malloc(SIZE)
        ctypes.memset(block, 1, SIZE)
        during = libc.mallinfo2()
        libc.free(block)
        after = libc.mallinfo2()
        mmapped = during.hblkhd - before.hblkhd >= SIZE
        return {"mmapped": mmapped, "kept": not mmapped and after.arena >= during.arena}

    import neurotasks
    from neurotasks import allocator
    result = {"called_at_import": allocator._applied is not None}
    if "use" in sys.argv:                        # build trials and step envs, as a program would
        import gymnasium as gym
        import numpy as np
        task = neurotasks.make_task("PerceptualDecision-v0")
        task.trials(1024, 0)
        sampler = neurotasks.TrialSampler(task, 64, 0)
        for _ in range(3):
            sampler()
        envs = gym.make_vec("PerceptualDecision-v0", num_envs=64, vectorization_mode="vector_entry_point")
        envs.reset(seed=0)
        for _ in range(300):
            envs.step(np.zeros(64, np.int64))
        result["called_by_use"] = allocator._applied is not None
    if "keep" in sys.argv:
        result["keep"] = [neurotasks.keep_freed_memory(), neurotasks.keep_freed_memory()]
        result["kept"] = allocator.freed_memory_kept()
    # Measured once, last: freeing an mmapped block raises glibc's dynamic mmap threshold, so a
    # second measurement would see the first one's effect.
    result["block"] = big_block()
    print(json.dumps(result))
''')


def probe(*args: str) -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


DEFAULT = {"mmapped": True, "kept": False}        # glibc's own behaviour for a 24 MiB block
TUNED = {"mmapped": False, "kept": True}


@needs_glibc
def test_import_leaves_the_allocator_alone():
    result = probe()
    assert result == {"called_at_import": False, "block": DEFAULT}


@needs_glibc
def test_using_the_package_leaves_the_allocator_alone():
    result = probe("use")
    assert result == {"called_at_import": False, "called_by_use": False, "block": DEFAULT}


@needs_glibc
def test_the_explicit_call_keeps_freed_memory():
    result = probe("keep")
    assert result["keep"] == [True, True]                     # set once; the second call answers alike
    assert result["kept"] is True
    assert result["block"] == TUNED


def test_the_package_exports_it():
    """(Not called here: it would change this test process's allocator.)"""
    import neurotasks
    from neurotasks import allocator

    assert neurotasks.keep_freed_memory is allocator.keep_freed_memory
    assert "keep_freed_memory" in neurotasks.__all__
