"""The models and agents a benchmark can run: one table from a name to how a cell trains and scores it.

A benchmark "model" is a name in :data:`ENTRANTS`. An entry that can run has a ``train`` function
(it writes an ordinary run folder: config.json, weights, history.csv, metrics.json) and an
``evaluate`` function (the trained network's per-trial behaviour on a batch, through
``task.evaluate``, for the psychometric fit). An entry whose code has not landed yet is listed
without ``train`` and with ``pending`` saying what it waits for; naming it gives a clear error,
nothing is faked; switching it on is setting its ``train`` here.

The supervised models (``eirnn``, ``rnn``, ``gru``, ``lstm``, ``lowrank``) train through
``agents.train(task, model=NAME)`` with the model's defaults for the task; ``ppo`` and
``recurrent-ppo`` through ``agents.rl.sb3_runs.train_agent`` (the same budgets: ``max_trials``
counts episodes, one trial each; the supervised ``preset`` does not apply), scored by their
deterministic actions replayed through ``task.evaluate(actions=...)``; ``ei-reinforce`` through
``agents.rl.reinforce_runs.train_reinforce``, scored by actions drawn from its policy (a policy that responds
by a hazard has fixate as its most probable action at every step).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from agents.benchmark.cells import Budget

#: ``train(task_id, run_folder, seed=..., budget=..., figures=..., threads=...)``: trains into (or resumes) the
#: folder, with ``threads`` torch threads (the CPUs the cell was given).
TrainFn = Callable[..., None]
#: ``evaluate(run_folder, task, batch, seed)``: ``task.evaluate``'s per-trial table for the trained network.
EvaluateFn = Callable[[Path, Any, Any, int], Mapping[str, np.ndarray]]



def evaluate_outputs(run_folder: Path, task: Any, batch: Any, seed: int) -> Mapping[str, np.ndarray]:
    """A supervised network's behaviour: ``agents.load`` the run, simulate it (with its noise), decode the outputs."""
    from agents.runs import load
    from agents.simulation import simulate_outputs

    return task.evaluate(batch, outputs=simulate_outputs(load(run_folder), batch, noise=True, seed=seed))


def supervised(model: str, model_args: Mapping[str, Any] | None = None) -> TrainFn:
    """A cell trainer for a model of the supervised trainer (BPTT to the task's criterion, ``agents.train``)."""

    def train(task_id: str, out: Path, *, seed: int, budget: Budget, figures: bool, threads: int) -> None:
        from agents.training.trainer import train as train_by_bptt

        train_by_bptt(task_id, model=model, model_args=dict(model_args or {}), preset=budget.preset, out=out,
                      seed=seed, max_minutes=budget.max_minutes, max_trials=budget.max_trials, quiet=False,
                      progress=False, figures=figures, threads=threads)

    train.__qualname__ = f"supervised({model!r})"
    return train


def reinforcement(agent: str) -> TrainFn:
    """A cell trainer for an SB3 agent (``agents.rl.sb3_runs.train_agent``: PPO, RecurrentPPO)."""

    def train(task_id: str, out: Path, *, seed: int, budget: Budget, figures: bool, threads: int) -> None:
        from agents.rl.sb3_runs import train_agent  # one thread whatever the cell has: the policies are small

        train_agent(task_id, agent, out=out, seed=seed, max_trials=budget.max_trials, max_minutes=budget.max_minutes,
                    quiet=False, progress=False, figures=figures)

    train.__qualname__ = f"reinforcement({agent!r})"
    return train


def evaluate_actions(run_folder: Path, task: Any, batch: Any, seed: int) -> Mapping[str, np.ndarray]:
    """An SB3 agent's behaviour: its deterministic actions on every step of the batch, through the env's rule."""
    from agents.rl.acting import policy_actions
    from agents.rl.sb3_runs import load_agent

    return task.evaluate(batch, actions=policy_actions(load_agent(run_folder), batch))


def train_reward_based_ei(task_id: str, out: Path, *, seed: int, budget: Budget, figures: bool, threads: int) -> None:
    """A cell trainer for ``ei-reinforce``: the E/I network from reward alone (REINFORCE with a baseline, Song,
    Yang & Wang 2017; ``agents.rl.reinforce_runs.train_reinforce``), its default preset, the same budgets (a
    trial is one trial of the vector env). One thread whatever the cell has, as the SB3 agents: the rollout
    steps the env one time step at a time."""
    from agents.rl.reinforce_runs import train_reinforce

    train_reinforce(task_id, out=out, seed=seed, max_trials=budget.max_trials, max_minutes=budget.max_minutes,
                    quiet=False, progress=False, figures=figures)


def evaluate_policy(run_folder: Path, task: Any, batch: Any, seed: int, noise: bool = True
                    ) -> Mapping[str, np.ndarray]:
    """``ei-reinforce``'s behaviour as it validates, with its recurrent noise (seeded; ``noise=False``: without):
    actions drawn from a softmax policy, a Gaussian policy's mean actions; replayed through the env's rule with
    the run's rewards."""
    import torch

    from agents.rl.reinforce_policy import policy_actions
    from agents.rl.reinforce_runs import load_policy
    from agents.runs import RunDir

    network, readout = load_policy(run_folder)
    actions, _ = policy_actions(network, batch, noise=noise, generator=torch.Generator().manual_seed(seed),
                                sample=readout.kind == "categorical", readout=readout)
    return task.evaluate(batch, actions=actions, rewards=RunDir(run_folder).config.get("rewards"))


@dataclass(frozen=True)
class Entrant:
    """One model or agent of the benchmark."""

    name: str
    kind: str                               #: "supervised" (BPTT on the targets) or "rl" (reward only)
    summary: str
    train: TrainFn | None = None            #: None: not available yet
    evaluate: EvaluateFn = evaluate_outputs
    pending: str = ""                       #: what must land before ``train`` is set
    requires: tuple[str, ...] = ("torch", "safetensors", "scipy")   #: modules a cell of it imports

    @property
    def available(self) -> bool:
        return self.train is not None


ENTRANTS: dict[str, Entrant] = {e.name: e for e in (
    Entrant("eirnn", "supervised", "excitatory/inhibitory rate RNN with Dale's law (Song, Yang & Wang 2016)",
            train=supervised("eirnn")),
    Entrant("rnn", "supervised", "leaky rate RNN without Dale's law (Yang et al. 2019)", train=supervised("rnn")),
    Entrant("gru", "supervised", "PyTorch GRU with a linear readout", train=supervised("gru")),
    Entrant("lstm", "supervised", "PyTorch LSTM with a linear readout", train=supervised("lstm")),
    Entrant("lowrank", "supervised", "rank-r rate RNN, W = m nᵀ / N (Mastrogiuseppe & Ostojic 2018)",
            train=supervised("lowrank")),
    Entrant("ppo", "rl", "stable-baselines3 PPO, MLP policy (RL-Zoo hyperparameters)", train=reinforcement("ppo"),
            evaluate=evaluate_actions, requires=("torch", "safetensors", "scipy", "stable_baselines3")),
    Entrant("recurrent-ppo", "rl", "sb3-contrib RecurrentPPO, LSTM policy (RL-Zoo hyperparameters)",
            train=reinforcement("recurrent-ppo"), evaluate=evaluate_actions,
            requires=("torch", "safetensors", "scipy", "stable_baselines3", "sb3_contrib")),
    Entrant("ei-reinforce", "rl", "E/I rate RNN with Dale's law trained from reward alone, REINFORCE with a GRU "
            "baseline (Song, Yang & Wang 2017)", train=train_reward_based_ei, evaluate=evaluate_policy),
)}


def available(kind: str | None = None) -> list[str]:
    """Names of the entrants that can run now (of one ``kind`` if given), in table order."""
    return [e.name for e in ENTRANTS.values() if e.available and (kind is None or e.kind == kind)]


def resolve(name: str) -> Entrant:
    """The entrant called ``name``; a ValueError listing the available ones if it is unknown or not available yet."""
    entrant = ENTRANTS.get(name)
    ready = ", ".join(available()) or "none"
    if entrant is None:
        waiting = [n for n in ENTRANTS if not ENTRANTS[n].available]
        later = f" (not yet available: {', '.join(waiting)})" if waiting else ""
        raise ValueError(f"unknown model {name!r}; available models: {ready}{later}")
    if not entrant.available:
        raise ValueError(f"model {name!r} is not available yet (it needs {entrant.pending}); "
                         f"available models: {ready}")
    return entrant
