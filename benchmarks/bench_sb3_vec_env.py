"""PPO's rollout collection on neurotasks through three SB3 VecEnvs: the native adapter
(``agents.rl.vec_env.TaskVecEnv``), ``DummyVecEnv`` and ``SubprocVecEnv`` of ``gym.make`` envs.

    python benchmarks/bench_sb3_vec_env.py [--task PerceptualDecision-v0] [--envs 8 32] [--rounds 5]

For each number of envs and each VecEnv (all wrapped in a ``VecMonitor``), an untrained PPO
(``MlpPolicy``, SB3's default network, one torch thread) collects rollouts of ``--n-steps`` steps
per env with ``model.collect_rollouts``, as ``learn`` does, without the update: env-steps/s =
n_steps × n_envs / seconds. An untrained policy acts at random, so fixation breaks and a new trial
starts almost every step (the regime RL training starts in). Each VecEnv is also stepped alone with
pre-drawn random actions, so the rest of the rollout's time is the policy's and the buffer's. The
VecEnvs alternate within each round, so a slow spell of a shared machine hits them all alike;
figures are medians over rounds.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecEnv, VecMonitor

import neurotasks  # noqa: F401  (registers the tasks)
from agents.rl.vec_env import TaskVecEnv

KINDS: dict[str, Callable[[str, int], VecEnv]] = {
    "TaskVecEnv (native)": lambda task, n: TaskVecEnv(task, n),
    "DummyVecEnv": lambda task, n: DummyVecEnv([lambda: gym.make(task) for _ in range(n)]),
    # The "neurotasks:" prefix imports the package in each worker (forkserver starts them afresh).
    "SubprocVecEnv": lambda task, n: SubprocVecEnv([lambda: gym.make(f"neurotasks:{task}") for _ in range(n)]),
}


def rollout_timer(envs: VecEnv, n_steps: int) -> Callable[[], float]:
    """A function that collects one PPO rollout on ``envs`` and returns its wall time."""
    model = PPO("MlpPolicy", envs, n_steps=n_steps, batch_size=n_steps, seed=0, device="cpu")
    model.set_logger(Logger(folder=None, output_formats=[]))        # SB3's default makes a temp folder
    _, callback = model._setup_learn(total_timesteps=10**9, callback=None)
    callback.on_training_start(locals(), globals())

    def collect() -> float:
        start = time.perf_counter()
        model.collect_rollouts(model.env, callback, model.rollout_buffer, n_rollout_steps=n_steps)
        return time.perf_counter() - start

    return collect


def env_timer(envs: VecEnv, n_steps: int) -> Callable[[], float]:
    """A function that steps ``envs`` ``n_steps`` times with pre-drawn random actions and returns its wall time."""
    actions = list(np.random.default_rng(1).integers(0, envs.action_space.n, (n_steps, envs.num_envs)))
    envs.reset()

    def run() -> float:
        start = time.perf_counter()
        for action in actions:
            envs.step(action)
        return time.perf_counter() - start

    return run


def measure(task: str, n_envs: int, n_steps: int, rounds: int) -> list[dict[str, float | str]]:
    made = {name: VecMonitor(make(task, n_envs)) for name, make in KINDS.items()}
    try:
        timers = {name: (rollout_timer(envs, n_steps), env_timer(envs, n_steps)) for name, envs in made.items()}
        for rollout, alone in timers.values():                  # warm up
            rollout()
            alone()
        seconds: dict[str, list[tuple[float, float]]] = {name: [] for name in made}
        for _ in range(rounds):
            for name, (rollout, alone) in timers.items():
                seconds[name].append((rollout(), alone()))
    finally:
        for envs in made.values():
            envs.close()
    steps = n_steps * n_envs
    return [{"n_envs": n_envs, "vec_env": name, "rollout": steps / statistics.median(r for r, _ in value),
             "env": steps / statistics.median(e for _, e in value)} for name, value in seconds.items()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="PerceptualDecision-v0")
    parser.add_argument("--envs", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--n-steps", type=int, default=128, help="rollout steps per env (PPO's n_steps)")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    if args.n_steps < 2 or args.rounds < 1 or min(args.envs) < 1:
        parser.error("--n-steps must be >= 2, --rounds >= 1 and every --envs >= 1")
    torch.set_num_threads(1)
    rows = [row for n in args.envs for row in measure(args.task, n, args.n_steps, args.rounds)]
    print(f"PPO rollout collection on {args.task}, untrained MlpPolicy, n_steps={args.n_steps}, "
          f"median of {args.rounds} rounds (env-steps/s)")
    print(f"{'envs':>5}  {'VecEnv':<22}{'PPO rollout':>13}{'÷ Dummy':>9}{'env alone':>12}{'÷ Dummy':>9}")
    for row in rows:
        dummy = next(r for r in rows if r["n_envs"] == row["n_envs"] and r["vec_env"] == "DummyVecEnv")
        print(f"{row['n_envs']:>5}  {row['vec_env']:<22}{row['rollout']:>13,.0f}"
              f"{row['rollout'] / dummy['rollout']:>8.1f}x{row['env']:>12,.0f}{row['env'] / dummy['env']:>8.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
