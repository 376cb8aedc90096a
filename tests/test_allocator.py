"""neurotasks.allocator: glibc keeps freed memory for the next batch; an environment variable opts out."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = "import neurotasks.allocator as a, neurotasks; print(a._applied)"


def run(env_value: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "NEUROTASKS_KEEP_FREED_MEMORY"}
    if env_value is not None:
        env["NEUROTASKS_KEEP_FREED_MEMORY"] = env_value
    return subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True,
                          check=True).stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_import_sets_the_thresholds_once():
    assert run(None) == "True"
    from neurotasks import allocator
    assert allocator.keep_freed_memory() is allocator.keep_freed_memory()     # idempotent


def test_environment_variable_opts_out():
    assert run("0") == "False"
