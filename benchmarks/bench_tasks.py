"""Benchmark neurotasks (and NeuroGym side by side when $NEUROGYM_PYTHON is set).

    python benchmarks/bench_tasks.py [--json results.json] [--neurogym-python PATH]

The measurements live in ``agents.benchmarking`` so ``neurotasks bench`` runs the very same code.
"""

from agents.benchmarking import main

if __name__ == "__main__":
    raise SystemExit(main())
