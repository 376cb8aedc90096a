"""TrialSampler with its block memory reused vs built in fresh memory, in CPU time per trial.

    python benchmarks/bench_sampler_memory.py                 # dt = 100 ms (NeuroGym's), 3 rounds
    python benchmarks/bench_sampler_memory.py --dt 20 --keep-freed-memory

Reuse is what the sampler does; "fresh" forces a new set of arrays for every block, which is what
it did before (each block's pages faulted in anew unless glibc is tuned by
``neurotasks.keep_freed_memory()``). The two alternate within each round, so a slow spell of the
shared machine hits both; CPU time (``time.process_time``) is less moved by other processes than
wall time.
"""

from __future__ import annotations

import argparse
import time

import neurotasks
from neurotasks.work_arrays import WorkArrays


def trials_per_cpu_second(task: neurotasks.Task, reuse: bool, seconds: float) -> float:
    sampler = neurotasks.TrialSampler(task, 128, rng=0)
    if not reuse:
        sampler._free_work = WorkArrays         # a fresh set of arrays for every block
    for _ in range(50):                         # warm-up
        batch = sampler()
    start, n = time.process_time(), 0
    while time.process_time() - start < seconds:
        batch = sampler()
        n += len(batch)
    return n / (time.process_time() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dt", type=float, default=100.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=1.5, help="CPU seconds per measurement")
    parser.add_argument("--keep-freed-memory", action="store_true", help="tune glibc first")
    args = parser.parse_args()
    if args.keep_freed_memory:
        print("keep_freed_memory():", neurotasks.keep_freed_memory())
    task = neurotasks.make_task("PerceptualDecision-v0", dt=args.dt)
    for r in range(args.rounds):
        reused = trials_per_cpu_second(task, True, args.seconds)
        fresh = trials_per_cpu_second(task, False, args.seconds)
        print(f"round {r + 1}: reused {reused:,.0f}  fresh {fresh:,.0f}  trials per CPU-second "
              f"({reused / fresh:.2f}x)")


if __name__ == "__main__":
    main()
