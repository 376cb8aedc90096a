"""The speed benchmark says whether glibc's allocator was tuned, and tunes it only when asked
(``--keep-freed-memory``): its figures with and without ``neurotasks.keep_freed_memory()``."""

from __future__ import annotations

import platform
import subprocess
import sys
import textwrap

from neurotasks import speed

RUN = textwrap.dedent('''
    import argparse, sys
    from neurotasks import speed
    parser = argparse.ArgumentParser()
    speed.add_arguments(parser)
    args = parser.parse_args(sys.argv[1:])
    # Stand-ins for the measurements: what the run would report about the allocator.
    speed.run_benchmarks = lambda config, python, progress: {"machine": speed.machine()}
    speed.format_report = lambda results: f"allocator_tuned={results['machine']['allocator_tuned']}"
    speed.run_from_args(args)
''')


def run(*args: str) -> str:
    return subprocess.run([sys.executable, "-c", RUN, *args], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_the_report_says_whether_the_allocator_was_tuned():
    assert speed.machine()["allocator_tuned"] is False        # nothing in this process asked for it
    assert run("--quick") == "allocator_tuned=False"
    expected = str(sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc")   # glibc only
    assert run("--quick", "--keep-freed-memory") == f"allocator_tuned={expected}"
