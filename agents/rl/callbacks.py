"""The SB3 callback that turns ``model.learn`` into a run: counting trials, validating, stopping.

SB3's on-policy loop is: collect a rollout (``on_rollout_start``, ``on_step`` per env step,
``on_rollout_end``), then update the policy from it, and again. Everything a run does between
updates happens at a rollout's start, where the policy is the one just updated and no rollout is
half collected: validate when due, check the criterion and the budgets, write the checkpoint.
Stopping is the only thing SB3 lets a callback do from ``on_step`` (return False), so a stop
decided at a rollout's start is carried out by the very next ``on_step``, whose single env step
is discarded (not counted, never trained on).
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback


class RunHooks(Protocol):
    """What the callback calls (implemented by :class:`agents.rl.sb3_runs.AgentRun`)."""

    def at_boundary(self, updates_done: int) -> str | None:
        """Between two updates: validate, checkpoint; the stop reason, or None to train on."""

    def count_step(self, n_envs: int, dones: np.ndarray, rewards: np.ndarray) -> None:
        """One env step of every sub-environment (``dones``: the trials that ended)."""

    def rollout_collected(self, timesteps: int) -> None:
        """A rollout is complete (the update from it follows)."""


class RunCallback(BaseCallback):
    """Drives a run from inside ``model.learn``; ``stop_reason`` says why learning stopped."""

    def __init__(self, run: RunHooks) -> None:
        super().__init__(verbose=0)
        self.run = run
        self.stop_reason: str | None = None
        self._collected = False

    def _on_rollout_start(self) -> None:
        updates_done = 1 if self._collected else 0        # the rollout collected last has been trained on
        self._collected = False
        self.stop_reason = self.run.at_boundary(updates_done)

    def _on_step(self) -> bool:
        if self.stop_reason is not None:
            return False
        locals_: dict[str, Any] = self.locals
        self.run.count_step(self.training_env.num_envs, np.asarray(locals_["dones"]), np.asarray(locals_["rewards"]))
        return True

    def _on_rollout_end(self) -> None:
        self._collected = True
        self.run.rollout_collected(self.model.num_timesteps)
