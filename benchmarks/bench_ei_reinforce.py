"""Where an ei-reinforce training iteration's time goes: the environment's share (goal: under 10 %).

    python benchmarks/bench_ei_reinforce.py [--task PerceptualDecision-v0] [--updates 20] [--trials-per-update 64]
                                            [--profile] [--out results.json]

One iteration (one update of ``agents.rl.reinforce_runs.ReinforceRun``, built as ``neurotasks train ID --agent
ei-reinforce`` builds it, default hyperparameters, one torch thread) is: a rollout of one trial in each of
``trials_per_update`` sub-environments of the native vector env (``env.reset`` + one ``env.step`` per time step,
the policy's Euler step between them), then the policy re-run over the recording with autograd, the baseline,
both backward passes and Adam. The env's share is the time inside ``env.reset``/``env.step`` over the whole
iteration, measured by the rollout's own stopwatch. Beside it: the rest of the rollout (the policy stepping, the
noise) and the update. The first update is a warm-up and not counted. ``--profile`` runs the counted updates
under cProfile and prints the functions the env's time goes to.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import tempfile
import time
from pathlib import Path

import torch

import neurotasks
from agents.atomic import write_json_atomic
from agents.rl import reinforce_presets, reinforce_rollout
from agents.rl.reinforce_runs import ReinforceRun


def iteration_shares(task_id: str, updates: int, trials_per_update: int | None, profile: bool) -> dict:
    """Time ``updates`` updates (after one warm-up) of a fresh default run on ``task_id``."""
    torch.set_num_threads(1)
    task = neurotasks.make_task(task_id)
    hp = reinforce_presets.resolve({} if trials_per_update is None else {"trials_per_update": trials_per_update})
    with tempfile.TemporaryDirectory() as folder:
        run = ReinforceRun(task, hp, Path(folder), 0, task.criterion, torch.device("cpu"), True, False)
        rollout_s = []
        collect = reinforce_rollout.collect

        def timed_collect(*args, **kwargs):
            start = time.perf_counter()
            roll = collect(*args, **kwargs)
            rollout_s.append((time.perf_counter() - start, roll.env_seconds, roll.mask.shape[1]))
            return roll

        import agents.rl.reinforce_runs as module
        module.collect = timed_collect
        try:
            run.update()                                              # warm-up
            rollout_s.clear()
            profiler = cProfile.Profile() if profile else None
            start = time.perf_counter()
            if profiler:
                profiler.enable()
            for _ in range(updates):
                run.update()
            if profiler:
                profiler.disable()
            total = time.perf_counter() - start
        finally:
            module.collect = collect
            run.env.close()
    rollout = sum(r[0] for r in rollout_s)
    env = sum(r[1] for r in rollout_s)
    steps = sum(r[2] for r in rollout_s)
    result = {"task": task_id, "updates": updates, "trials_per_update": hp["trials_per_update"],
              "n_units": run.network.n_units, "seconds": total, "update_ms": 1e3 * total / updates,
              "env_ms": 1e3 * env / updates, "policy_steps_ms": 1e3 * (rollout - env) / updates,
              "backward_ms": 1e3 * (total - rollout) / updates, "env_share": env / total,
              "time_steps_per_update": steps / updates, "env_step_us": 1e6 * env / steps,
              "trials_per_s": updates * hp["trials_per_update"] / total}
    if profiler:
        text = io.StringIO()
        stats = pstats.Stats(profiler, stream=text).sort_stats("cumulative")
        stats.print_stats(r"vector_env|rules|reinforce_rollout|reinforce_policy", 25)
        result["profile"] = text.getvalue()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="PerceptualDecision-v0")
    parser.add_argument("--updates", type=int, default=20)
    parser.add_argument("--trials-per-update", type=int, default=None, help="default: the preset's")
    parser.add_argument("--profile", action="store_true", help="print where the env's time goes (cProfile)")
    parser.add_argument("--out", type=Path, default=None, help="also write the numbers to this JSON file")
    args = parser.parse_args(argv)
    r = iteration_shares(args.task, args.updates, args.trials_per_update, args.profile)
    print(f"{r['task']}: {r['trials_per_update']} trials/update, {r['n_units']} units, "
          f"{r['time_steps_per_update']:.0f} time steps/update")
    print(f"  update {r['update_ms']:.1f} ms = env {r['env_ms']:.1f} ms ({100 * r['env_share']:.1f} %, "
          f"{r['env_step_us']:.0f} us per vector step) + policy steps {r['policy_steps_ms']:.1f} ms "
          f"+ replay/backward/Adam {r['backward_ms']:.1f} ms;  {r['trials_per_s']:.0f} trials/s")
    print(f"  env share {100 * r['env_share']:.1f} % (goal < 10 %)")
    if "profile" in r:
        print(r["profile"])
    if args.out is not None:
        write_json_atomic(args.out, r)
    return 0


if __name__ == "__main__":
    sys.exit(main())
