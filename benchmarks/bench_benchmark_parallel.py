"""Does ``neurotasks benchmark`` gain from Ray? 4 cells on Ray against the same 4 cells one after another.

    .venv/bin/python benchmarks/bench_benchmark_parallel.py                  # 4 cells, 1 round
    .venv/bin/python benchmarks/bench_benchmark_parallel.py --rounds 3 --max-trials 20000
    .venv/bin/python benchmarks/bench_benchmark_parallel.py --task ParametricWorkingMemory-v0 --max-trials 6400

The cells are ``--task`` (PerceptualDecision-v0) × ``--model`` (eirnn) × seeds 0-3 with the fast preset
and a fixed budget of training trials (the criterion may stop a seed earlier; both sides train the very
same cells). Ray's start, its workers' imports and its stop cost about 12 s whatever the cells: with
cells of ~10 s (PerceptualDecision-v0 stops at its criterion after ~35k trials) that overhead is
most of the parallel side, with cells of a minute or more, as the decision benchmark's cells are, it is
not. The
sequential side calls ``agents.benchmark.cells.run_cell`` four times in this process, torch already
imported; the parallel side is ``agents.benchmark.runner.run_cells`` as the command runs it, timed from
before ``ray.init`` to after ``ray.shutdown``: starting Ray, its workers importing torch, the cells,
stopping Ray. Each round trains into fresh folders, sequential first, then parallel; with several
rounds the median ratio is the result (the machine is shared: its speed drifts). The bar on 2 cores:
parallel ≤ 0.65 × sequential.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from agents.benchmark.cells import Budget, Cell, run_cell
from agents.benchmark.runner import machine_cpus, run_cells

BAR = 0.65


def cells_for(seeds: int, task: str = "PerceptualDecision-v0", model: str = "eirnn") -> list[Cell]:
    return [Cell(task, model, seed) for seed in range(seeds)]


def cell_seconds(out: Path, cells: list[Cell]) -> list[float]:
    """Each cell's own training time, from its metrics.json."""
    return [json.loads((c.folder(out) / "metrics.json").read_text(encoding="utf-8"))["wall_s"] for c in cells]


def one_round(root: Path, cells: list[Cell], budget: Budget) -> dict[str, float]:
    sequential_out, parallel_out = root / "sequential", root / "parallel"
    started = time.perf_counter()
    for cell in cells:
        outcome = run_cell(cell, budget, sequential_out)
        if outcome["status"] != "finished":
            raise RuntimeError(f"{cell.name} failed: {outcome['error']}")
    sequential = time.perf_counter() - started
    started = time.perf_counter()
    outcomes = run_cells(cells, budget, parallel_out)
    parallel = time.perf_counter() - started
    failed = [f"{c.name}: {o['error']}" for c, o in outcomes.items() if o["status"] != "finished"]
    if failed:
        raise RuntimeError("; ".join(failed))
    return {"sequential_s": sequential, "parallel_s": parallel, "ratio": parallel / sequential,
            "sequential_training_s": sum(cell_seconds(sequential_out, cells)),
            "parallel_training_s": sum(cell_seconds(parallel_out, cells))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=4, help="cells (seeds) on each side (default 4)")
    parser.add_argument("--max-trials", type=int, default=40_000, help="training trials per cell (default 40000)")
    parser.add_argument("--rounds", type=int, default=1, help="sequential-then-parallel rounds (default 1)")
    parser.add_argument("--task", default="PerceptualDecision-v0", help="task of every cell")
    parser.add_argument("--model", default="eirnn", help="model of every cell")
    args = parser.parse_args()
    import torch  # noqa: F401  (the sequential side does not pay torch's import; Ray's workers do)

    cells, budget = cells_for(args.cells, args.task, args.model), Budget(max_trials=args.max_trials)
    print(f"{args.cells} cells ({args.task} × {args.model} × seeds 0-{args.cells - 1}, {args.max_trials:,} "
          f"trials each, fast preset) on {machine_cpus()} CPUs")
    ratios = []
    for index in range(args.rounds):
        with tempfile.TemporaryDirectory(prefix="bench-parallel-") as root:
            r = one_round(Path(root), cells, budget)
        ratios.append(r["ratio"])
        print(f"round {index + 1}: sequential {r['sequential_s']:.1f} s (training {r['sequential_training_s']:.1f} s), "
              f"Ray {r['parallel_s']:.1f} s with start and stop (training {r['parallel_training_s']:.1f} s "
              f"summed over cells): {r['ratio']:.2f}x")
    ratio = statistics.median(ratios)
    print(f"parallel / sequential: {ratio:.2f} (median of {len(ratios)}; bar <= {BAR}: "
          f"{'met' if ratio <= BAR else 'NOT met'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
