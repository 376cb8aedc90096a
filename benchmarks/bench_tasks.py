"""Time neurotasks (and NeuroGym side by side when $NEUROGYM_PYTHON is set).

    python benchmarks/bench_tasks.py [--json results.json] [--neurogym-python PATH]

The measurements live in ``neurotasks.speed`` so ``neurotasks speed`` runs the very same code.
"""

from neurotasks.speed import main

if __name__ == "__main__":
    raise SystemExit(main())
