"""NeuroGym's side of the benchmark: run with an interpreter that can ``import neurogym``.

    $NEUROGYM_PYTHON benchmarks/neurogym_peer.py      # JSON on stdout

Measures, on ``PerceptualDecisionMaking-v0`` at NeuroGym's defaults (dt = 100 ms):

* ``ngym.Dataset(env_id, batch_size=128, seq_len=100)``: each batch call slices ``seq_len`` steps
  out of a cache of ``cache_len`` steps per environment, refilling the cache trial by trial
  (``env.new_trial()``) when it runs out. We count the trials it generates by wrapping every
  environment's ``new_trial``, and the steps it generates (each trial's ``ob``). Steps that never
  reach a batch (the refill triggers on ``seq_end >= cache_len``, so the cache's last slice is
  dropped, and the trial that overruns the cache is cut) are thrown away: ``trials_delivered_per_s``
  counts trials in proportion to the steps that do reach a batch.
* one ``ngym.make(env_id)`` environment (``gym.make``-wrapped, as NeuroGym users get it), always
  fixating (action 0); NeuroGym's envs never terminate, so it never resets.
* the same environment under uniform random actions (``env_random``), drawn before the timing and
  read from a list, as ``neurotasks.speed`` does for ours; ``steps_per_trial`` says how often a new
  trial starts (NeuroGym's default does not abort a trial when fixation breaks).

With ``--serve`` it instead answers ``env STEPS``, ``random STEPS`` and ``dataset FILLS`` requests
on stdin with timed blocks, so the caller can alternate them with its own blocks (see ``serve``).

Self-contained on purpose: it runs in NeuroGym's environment (gymnasium 0.29), where neurotasks
cannot be imported. The timing helper mirrors ``neurotasks.speed.median_time``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

ENV_ID = "PerceptualDecisionMaking-v0"
#: Pre-drawn random actions the env cycles through (as neurotasks.speed.RANDOM_ACTIONS).
RANDOM_ACTIONS = 1 << 16


def random_actions(env) -> itertools.cycle:
    """An endless cycle over pre-drawn uniform random actions of ``env`` (Discrete), as Python ints."""
    import numpy as np

    space = env.action_space
    return itertools.cycle((space.start + np.random.default_rng(1).integers(0, space.n, RANDOM_ACTIONS)).tolist())


def median_time(fn: Callable[[], Any], *, repeats: int, min_time: float, warmup: int = 1,
                calls_multiple: int = 1) -> tuple[float, int, list[float]]:
    """(median seconds per call, calls per block, seconds of each block). As neurotasks.speed.median_time,
    with the calls per block a multiple of ``calls_multiple``."""
    for _ in range(warmup):
        fn()
    calls = calls_multiple
    while True:
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            break
        calls *= 2
    blocks = [elapsed]
    for _ in range(repeats - 1):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        blocks.append(time.perf_counter() - start)
    return statistics.median(blocks) / calls, calls, blocks


def counted_dataset(ngym, *, batch_size: int, seq_len: int) -> tuple[Any, dict[str, int]]:
    """An ``ngym.Dataset`` whose environments count the trials and steps they generate."""
    dataset = ngym.Dataset(ENV_ID, batch_size=batch_size, seq_len=seq_len)
    counts = {"trials": 0, "steps": 0}
    for env in dataset.envs:
        inner = env.unwrapped
        original = inner.new_trial

        def counted(*args, _inner=inner, _original=original, **kwargs):
            trial = _original(*args, **kwargs)
            counts["trials"] += 1
            counts["steps"] += _inner.ob.shape[0]
            return trial

        inner.new_trial = counted   # Dataset calls env.new_trial; the wrappers forward to the instance attribute
    return dataset, counts


def bench_dataset(ngym, *, batch_size: int, seq_len: int, repeats: int, min_time: float) -> dict[str, Any]:
    """Trials generated and delivered per second by ``ngym.Dataset``."""
    dataset, counts = counted_dataset(ngym, batch_size=batch_size, seq_len=seq_len)
    # A cache fill serves (cache_len // seq_len - 1) calls (see Dataset.__next__): time whole fills.
    calls_per_fill = max(1, dataset._cache_len // seq_len - 1)
    for _ in range(2 * calls_per_fill):   # warm up, and start on a fill boundary
        dataset()
    rates = []
    delivered_fraction = []

    def one_call() -> None:
        dataset()

    # Time blocks ourselves so each block's generated trials are counted with its own time.
    _, calls, _ = median_time(one_call, repeats=1, min_time=min_time, warmup=0, calls_multiple=calls_per_fill)
    for _ in range(repeats):
        counts["trials"] = counts["steps"] = 0
        start = time.perf_counter()
        for _ in range(calls):
            dataset()
        seconds = time.perf_counter() - start
        delivered_steps = calls * seq_len * batch_size
        rates.append((counts["trials"] / seconds, counts["steps"] / seconds, delivered_steps / seconds,
                      counts["steps"] / counts["trials"]))
        delivered_fraction.append(delivered_steps / counts["steps"])
    trials_per_s, steps_per_s, delivered_steps_per_s, steps_per_trial = (statistics.median(column)
                                                                        for column in zip(*rates, strict=True))
    fraction = statistics.median(delivered_fraction)
    return {"batch_size": batch_size, "seq_len": seq_len, "cache_len": dataset._cache_len,
            "calls_per_block": calls, "trials_generated_per_s": trials_per_s,
            "trials_delivered_per_s": trials_per_s * fraction, "steps_generated_per_s": steps_per_s,
            "steps_delivered_per_s": delivered_steps_per_s, "delivered_fraction": fraction,
            "steps_per_trial": steps_per_trial}


def bench_env(ngym, *, block: int, repeats: int, min_time: float) -> dict[str, Any]:
    """steps/s of one ``ngym.make`` environment, always fixating."""
    env = ngym.make(ENV_ID)
    env.reset(seed=0)
    step, reset = env.step, env.reset

    def run() -> None:
        for _ in range(block):
            _, _, terminated, truncated, _ = step(0)
            if terminated or truncated:
                reset()

    seconds, _, _ = median_time(run, repeats=repeats, min_time=min_time)
    return {"steps_per_s": block / seconds, "wrappers": str(env), "dt": float(env.unwrapped.dt)}


def bench_env_random(ngym, *, block: int, repeats: int, min_time: float) -> dict[str, Any]:
    """steps/s of one ``ngym.make`` environment under pre-drawn uniform random actions, and the
    steps per trial they lead to (counted on an untimed pass)."""
    env = ngym.make(ENV_ID)
    env.reset(seed=0)
    step, reset = env.step, env.reset
    actions = random_actions(env)
    trials = 0
    for _ in range(block):                           # untimed: count the trials started
        _, _, terminated, truncated, info = step(next(actions))
        trials += bool(info.get("new_trial", False))
        if terminated or truncated:
            reset()

    def run() -> None:
        for _ in range(block):
            _, _, terminated, truncated, _ = step(next(actions))
            if terminated or truncated:
                reset()

    seconds, _, _ = median_time(run, repeats=repeats, min_time=min_time)
    return {"steps_per_s": block / seconds, "steps_per_trial": block / max(1, trials)}


def serve(ngym, *, batch_size: int, seq_len: int) -> None:
    """Timed blocks on request, for measurements interleaved with the caller's own.

    Reads lines from stdin and answers each with one JSON line: ``env STEPS`` -> ``{"seconds"}``,
    the wall time of STEPS steps of one ``ngym.make`` environment (always fixating, the same
    environment throughout); ``random STEPS`` -> the same under random actions (pre-drawn, one
    cycle of them throughout); ``dataset FILLS`` -> ``{"seconds", "trials", "steps",
    "delivered_steps"}`` for FILLS cache fills' worth of ``Dataset`` calls. An empty line or
    ``quit`` ends it.
    """
    env = ngym.make(ENV_ID)
    env.reset(seed=0)
    step, reset = env.step, env.reset
    actions = random_actions(env)
    dataset, counts = counted_dataset(ngym, batch_size=batch_size, seq_len=seq_len)
    calls_per_fill = max(1, dataset._cache_len // seq_len - 1)
    for _ in range(2 * calls_per_fill):                # warm up, and start on a fill boundary
        dataset()
    print(json.dumps({"ready": True, "dt": float(env.unwrapped.dt)}), flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            break
        if words[0] not in ("env", "random", "dataset") or len(words) != 2:
            print(json.dumps({"error": f"unknown request {line.strip()!r}"}), flush=True)
            continue
        n = int(words[1])
        counts["trials"] = counts["steps"] = 0
        start = time.perf_counter()
        if words[0] == "env":
            for _ in range(n):
                _, _, terminated, truncated, _ = step(0)
                if terminated or truncated:
                    reset()
            print(json.dumps({"seconds": time.perf_counter() - start}), flush=True)
        elif words[0] == "random":
            for _ in range(n):
                _, _, terminated, truncated, _ = step(next(actions))
                if terminated or truncated:
                    reset()
            print(json.dumps({"seconds": time.perf_counter() - start}), flush=True)
        else:
            for _ in range(n * calls_per_fill):
                dataset()
            print(json.dumps({"seconds": time.perf_counter() - start, "trials": counts["trials"],
                              "steps": counts["steps"], "delivered_steps": n * calls_per_fill * seq_len * batch_size}),
                  flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true",
                        help="answer 'env STEPS', 'random STEPS' and 'dataset FILLS' requests on stdin with "
                             "timed blocks (JSON lines)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--min-time", type=float, default=0.1)
    parser.add_argument("--env-block", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seq-len", type=int, default=100)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")        # NeuroGym warns on attribute forwarding; stdout stays JSON
    import gymnasium
    import neurogym as ngym

    if args.serve:
        serve(ngym, batch_size=args.batch_size, seq_len=args.seq_len)
        return 0
    env = bench_env(ngym, block=args.env_block, repeats=args.repeats, min_time=args.min_time)
    env_random = bench_env_random(ngym, block=args.env_block, repeats=args.repeats, min_time=args.min_time)
    dataset = bench_dataset(ngym, batch_size=args.batch_size, seq_len=args.seq_len, repeats=args.repeats,
                            min_time=args.min_time)
    result = {"neurogym": ngym.__version__, "gymnasium": gymnasium.__version__, "python": platform.python_version(),
              "env_id": ENV_ID, "dt": env.pop("dt"), "dataset": dataset, "env": env,
              "env_random": env_random}
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
