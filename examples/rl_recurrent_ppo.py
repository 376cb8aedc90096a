"""Train a recurrent PPO agent (sb3-contrib's RecurrentPPO, MlpLstmPolicy) on PerceptualDecision-v0.

    python examples/rl_recurrent_ppo.py                      # to the task's criterion (at most 1e6 steps)
    python examples/rl_recurrent_ppo.py --timesteps 100000   # a shorter try
    python examples/rl_recurrent_ppo.py --out runs/rppo      # the same command again resumes the run

The agent learns from reward alone, on the default task (dt 20 ms, catch trials, NeuroGym's
rewards: -0.1 for breaking fixation, +1 correct, 0 wrong or no answer). It must hold fixation
while the noisy evidence is on, then answer once the start cue goes off. Its LSTM has to carry
the evidence over the stimulus, which lasts 80-1500 ms.

Training is ``agents.rl.sb3_runs.train_agent``: the hyperparameters shipped in
``agents/rl/hyperparams/ppo_lstm.yml`` (RL-Zoo's format), a run folder like a supervised run's
(config.json, model.safetensors, history.csv of validations on the condition grid, metrics.json,
figures), stopping at the task's criterion (mean percent correct of the last 5 validations > 85).

After training it plays fresh trials (a different seed, deterministic actions) and prints the
percent correct among answered trials (chance: 50 %), how often it broke fixation or did not
answer, and the percent correct per coherence: a psychometric curve from reward alone.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np

import neurotasks
from agents.rl.acting import policy_actions
from agents.rl.sb3_runs import load_agent, train_agent

TASK_ID = "PerceptualDecision-v0"


def evaluate(model, n_trials: int, seed: int) -> dict[str, np.ndarray]:
    """Play ``n_trials`` fresh trials with deterministic actions, scored by the environment's reward rule;
    one row per trial: coherence, catch, choice, correct, aborted."""
    task = neurotasks.make_task(TASK_ID)
    batch = task.trials(n_trials, seed)
    table = task.evaluate(batch, actions=policy_actions(model, batch))
    return {"coherence": batch.params["coherence"], "catch": batch.params["catch"].astype(bool),
            "choice": table["choice"], "correct": table["correct"], "aborted": table["aborted"].astype(bool)}


def percent(values: np.ndarray) -> str:
    """Mean of 0/1 values as a percentage ("n/a" for no values: e.g. no answered trial yet)."""
    return f"{100 * np.mean(values):5.1f} %" if len(values) else "  n/a"


def report(table: dict[str, np.ndarray]) -> str:
    catch, aborted, choice = table["catch"], table["aborted"], table["choice"]
    task = ~catch
    answered = task & (choice >= 0)
    no_response = task & ~aborted & (choice < 0)
    lines = [
        f"trials: {len(catch)} ({task.sum()} with a stimulus, {catch.sum()} catch)",
        f"percent correct among answered trials: {percent(table['correct'][answered])} "
        f"(chance 50 %; {answered.sum()} answered)",
        f"broke fixation (aborted): {percent(aborted[task])} of stimulus trials; "
        f"no response: {percent(no_response[task])}",
        f"catch trials held to the end: {percent(~aborted[catch])}" if catch.any() else "",
        "percent correct per coherence (answered trials):",
    ]
    for c in np.unique(table["coherence"][task]):
        sel = answered & (table["coherence"] == c)
        lines.append(f"  coherence {c:5.1f} %: {percent(table['correct'][sel])} of {sel.sum():3d}")
    return "\n".join(line for line in lines if line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timesteps", type=int, default=None,
                        help="at most this many environment steps (default: the shipped n_timesteps, 1e6)")
    parser.add_argument("--seed", type=int, default=0, help="seeds the environments, the network and PPO")
    parser.add_argument("--out", default=None, help="the run folder (default: a temporary one)")
    parser.add_argument("--eval-trials", type=int, default=500, help="fresh trials to evaluate on")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        out = args.out or f"{scratch}/run"
        run = train_agent(TASK_ID, "recurrent-ppo", out=out, seed=args.seed, max_timesteps=args.timesteps,
                          figures=args.out is not None)
        metrics = run.metrics
        print(f"trained RecurrentPPO on {TASK_ID} for {metrics['timesteps']} steps ({metrics['trials']} trials) in "
              f"{metrics['wall_s']:.0f} s (seed {args.seed}); stopped: {metrics['stopped']}")
        if metrics["criterion_met"]:
            print(f"criterion ({metrics['criterion']}) met after {metrics['timesteps_to_criterion']} steps, "
                  f"{metrics['trials_to_criterion']} trials, {metrics['wall_s_to_criterion']:.0f} s")
        if args.out is not None:
            print(f"run folder: {run.path}")
        table = evaluate(load_agent(run.path), args.eval_trials, seed=args.seed + 10_000)
    print(report(table))
    print(f"total wall time {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
