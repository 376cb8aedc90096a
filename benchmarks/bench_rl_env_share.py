"""Where an RL training iteration's time goes: the environment's share of PPO / RecurrentPPO training.

    python benchmarks/bench_rl_env_share.py [--task PerceptualDecision-v0] [--agents ppo recurrent-ppo]
                                            [--iterations 3]

Each agent is built exactly as ``neurotasks train ID --agent NAME`` builds it (the shipped RL-Zoo
hyperparameters, the native vector env through ``agents.rl.vec_env.TaskVecEnv``, one torch thread)
and trained for ``--iterations`` PPO iterations (a rollout of ``n_steps`` × ``n_envs`` steps, then
``n_epochs`` of minibatch updates) with ``model.learn``. The env's time is what ``step_wait`` and
``reset`` take (trial draws, rewards, autoreset, SB3's episode bookkeeping), timed inside the same
run; the rest is the policy's forward passes while acting, the rollout buffer and the gradient
updates. The first iteration is a warm-up and is not counted. An untrained agent acts almost at
random, so a new trial starts nearly every step: the regime in which the env costs the most. The
report also gives the env alone stepped with the same number of uniform random actions drawn up
front (the env's cost without the policy), beside the share.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import neurotasks
from agents.atomic import write_json_atomic
from agents.rl import sb3_runs, zoo
from agents.rl.vec_env import TaskVecEnv


class TimedVecEnv(TaskVecEnv):
    """The native adapter with a stopwatch around the calls SB3 makes into the env."""

    env_seconds = 0.0

    def _timed(self, call):
        start = time.perf_counter()
        try:
            return call()
        finally:
            self.env_seconds += time.perf_counter() - start

    def step_wait(self):
        return self._timed(super().step_wait)

    def reset(self):
        return self._timed(super().reset)


def env_share(task_id: str, agent: str, iterations: int) -> dict[str, float]:
    """Train ``agent`` on ``task_id`` for ``iterations`` counted PPO iterations (after one warm-up)."""
    spec = zoo.agent_spec(agent)
    hp = zoo.resolve(spec, task_id)
    task = neurotasks.make_task(task_id)
    env = TimedVecEnv(task, hp["n_envs"])
    model = sb3_runs.build_model(spec, hp, env, seed=0, device=torch.device("cpu"))
    per_iteration = hp["n_envs"] * hp["n_steps"]
    model.learn(per_iteration)                                       # warm-up: first rollout and update
    env.env_seconds = 0.0
    start = time.perf_counter()
    model.learn(per_iteration * iterations, reset_num_timesteps=False)
    total = time.perf_counter() - start
    in_env = env.env_seconds
    steps = per_iteration * iterations
    alone = random_steps_seconds(task, hp["n_envs"], hp["n_steps"] * iterations)
    return {"iterations": iterations, "env_steps": steps, "seconds": total, "env_seconds": in_env,
            "env_share": in_env / total, "env_steps_per_s_in_training": steps / total,
            "env_alone_random_seconds": alone, "env_alone_random_steps_per_s": steps / alone}


def random_steps_seconds(task, n_envs: int, n_steps: int) -> float:
    """Wall time of ``n_steps`` steps of the adapter under uniform random actions drawn before the timing."""
    env = TaskVecEnv(task, n_envs)
    env.seed(1)
    env.reset()
    actions = np.random.default_rng(1).integers(0, env.action_space.n, (n_steps, n_envs))
    start = time.perf_counter()
    for row in actions:
        env.step(row)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="PerceptualDecision-v0")
    parser.add_argument("--agents", nargs="+", default=["ppo", "recurrent-ppo"])
    parser.add_argument("--iterations", type=int, default=3, help="timed PPO iterations per agent (default 3)")
    parser.add_argument("--json", help="also write the numbers as JSON to this path")
    args = parser.parse_args()
    if args.iterations < 1:
        parser.error("--iterations must be >= 1")
    torch.set_num_threads(1)
    results = {}
    print(f"{args.task}: share of an RL training iteration spent in the env (native vector env, 1 torch thread)")
    print(f"{'agent':<15} {'iters':>5} {'env-steps':>9} {'total s':>8} {'env s':>7} {'env share':>9} "
          f"{'steps/s training':>16} {'steps/s env alone (random)':>26}")
    for agent in args.agents:
        r = results[agent] = env_share(args.task, agent, args.iterations)
        print(f"{agent:<15} {r['iterations']:>5} {r['env_steps']:>9,} {r['seconds']:>8.2f} {r['env_seconds']:>7.2f} "
              f"{100 * r['env_share']:>8.1f}% {r['env_steps_per_s_in_training']:>16,.0f} "
              f"{r['env_alone_random_steps_per_s']:>26,.0f}")
    if args.json:
        write_json_atomic(args.json, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
