"""TaskVectorEnv: n environments of one task stepped together with array operations only.

Each sub-environment has its own generator and draws its trials exactly as a single
``TaskEnv`` does (``task.trials(trial_chunk, rng_i)`` per chunk), so ``reset(seed=s)`` gives
sub-environment i the trials, noise and rewards of ``gym.make(id)`` reset with seed ``s + i``.
The chunks of all sub-environments live in one padded buffer of shape (n, chunk, T, ...):
a step gathers every sub-environment's current row with one fancy index and scores all actions
with one call of the task's response rule. Python runs per sub-environment only when one of
them has used up its chunk (once every ``trial_chunk`` trials).

Autoreset follows Gymnasium's default (``AutoresetMode.NEXT_STEP``): the step after an
episode ends resets that sub-environment, ignores its action and returns reward 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from neurotasks.batch import TrialBatch
from neurotasks.env import RENDER_MODES, check_env_options, make_spaces, resolve_task
from neurotasks.rendering import render_ansi, render_rgb
from neurotasks.task import Task


class TaskVectorEnv(VectorEnv):
    """``num_envs`` environments of one task, stepped in lock-step without a Python loop per env.

    Takes the arguments of :class:`neurotasks.env.TaskEnv` plus ``num_envs`` and
    ``max_episode_steps`` (truncation per sub-environment, as ``gym.make``'s TimeLimit does).
    """

    metadata = {"render_modes": list(RENDER_MODES), "render_fps": 50, "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(self, num_envs: int = 1, task: str | Task = "PerceptualDecision-v0", *,
                 trials_per_episode: int | None = 1, rewards: Mapping[str, float] | None = None,
                 render_mode: str | None = None, trial_chunk: int = 16, max_episode_steps: int | None = None,
                 **task_kwargs: Any) -> None:
        if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
            raise ValueError(f"num_envs must be a positive int, got {num_envs!r}")
        if max_episode_steps is not None and (not isinstance(max_episode_steps, (int, np.integer))
                                              or max_episode_steps < 1):
            raise ValueError(f"max_episode_steps must be a positive int or None, got {max_episode_steps!r}")
        self.task = resolve_task(task, task_kwargs)
        self.rewards = check_env_options(self.task, trials_per_episode, rewards, render_mode, trial_chunk)
        self.num_envs = int(num_envs)
        self.trials_per_episode = trials_per_episode
        self.max_episode_steps = max_episode_steps
        self.render_mode = render_mode
        self.trial_chunk = int(trial_chunk)
        self._rule = self.task.rule
        self.single_observation_space, self.single_action_space = make_spaces(self.task)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._rngs: list[np.random.Generator] | None = None
        self._capacity = 0   # padded steps per trial in the buffers

    # ------------------------------------------------------------------ trial buffers
    def _allocate(self, n_steps: int) -> None:
        """(Re)allocate the chunk buffers for trials of up to ``n_steps`` steps, keeping contents."""
        n, k, task = self.num_envs, self.trial_chunk, self.task
        old = getattr(self, "_buf", None)
        self._buf = {
            "inputs": np.zeros((n, k, n_steps, len(task.input_names)), np.float32),
            "targets": np.zeros((n, k, n_steps, len(task.output_names)), np.float32),
            "mask": np.zeros((n, k, n_steps, len(task.output_names)), np.float32),
            "gt": np.full((n, k, n_steps), -1, np.int64),
            "period": np.full((n, k, n_steps), -1, np.int64),
        }
        if old is not None:
            for key, arr in old.items():
                self._buf[key][:, :, : arr.shape[2]] = arr
        self._capacity = n_steps

    def _refill(self, i: int) -> None:
        """Draw sub-environment ``i``'s next chunk of trials from its own generator."""
        batch: TrialBatch = self.task.trials(self.trial_chunk, self._rngs[i])
        n_steps = batch.n_steps
        if n_steps > self._capacity:
            self._allocate(n_steps)
        buf = self._buf
        for key, arr in (("inputs", batch.inputs), ("targets", batch.targets), ("mask", batch.mask),
                         ("gt", batch.gt), ("period", batch.period_of_steps())):
            buf[key][i, :, :n_steps] = arr
            buf[key][i, :, n_steps:] = -1 if key in ("gt", "period") else 0
        table = self._rule.trial_table(batch)
        if not hasattr(self, "_table"):
            self._table = {key: np.zeros((self.num_envs, self.trial_chunk, *v.shape[1:]), v.dtype)
                           for key, v in table.items()}
            self._params = {key: np.zeros((self.num_envs, self.trial_chunk), v.dtype)
                            for key, v in batch.params.items()}
        for key, value in table.items():
            self._table[key][i] = value
        for key, value in batch.params.items():
            self._params[key][i] = value
        self._k[i] = 0

    def _start_trials(self, rows: np.ndarray) -> None:
        """Move the sub-environments in ``rows`` (bool mask) to their next trial."""
        self._k[rows] += 1
        self._t[rows] = 0
        self._rule.reset_accumulator(self._acc, rows)
        for i in np.flatnonzero(rows & (self._k >= self.trial_chunk)):
            self._refill(i)

    def _row(self) -> tuple[np.ndarray, np.ndarray]:
        return np.arange(self.num_envs), self._k

    def _observe(self, t: np.ndarray) -> np.ndarray:
        env, k = self._row()
        return self._buf["inputs"][env, k, t]

    # ------------------------------------------------------------------ gymnasium API
    def reset(self, *, seed: int | Sequence[int | None] | None = None, options: dict[str, Any] | None = None):
        if seed is None and self._rngs is not None:
            seeds: list[int | None] | None = None
        elif seed is None or isinstance(seed, (int, np.integer)):
            seeds = [None if seed is None else int(seed) + i for i in range(self.num_envs)]
        else:
            seeds = list(seed)
            if len(seeds) != self.num_envs:
                raise ValueError(f"seed must be an int or a list of {self.num_envs} seeds, got {len(seeds)}")
        n = self.num_envs
        if seeds is not None:  # new generators: start new streams of trials
            self._rngs = [seeding.np_random(s)[0] for s in seeds]
            self._capacity = 0
            for attr in ("_buf", "_table", "_params"):
                self.__dict__.pop(attr, None)
            self._k = np.zeros(n, np.int64)
            for i in range(n):
                self._refill(i)
            self._k[:] = -1
        self._t = np.zeros(n, np.int64)
        self._acc = self._rule.new_accumulator(n)
        self._start_trials(np.ones(n, bool))
        self._n_trials = np.zeros(n, np.int64)
        self._episode_steps = np.zeros(n, np.int64)
        self._autoreset = np.zeros(n, bool)
        return self._observe(self._t).copy(), {}

    def step(self, actions):
        if self._rngs is None:
            raise gym.error.ResetNeeded("call reset() before step()")
        actions = np.asarray(actions)
        self._check_actions(actions)
        n = self.num_envs
        env, k = self._row()
        t = self._t
        stepping = ~self._autoreset
        res = self._rule.step({key: v[env, k] for key, v in self._table.items()}, self._acc, t, actions,
                              self._buf["targets"][env, k, t], self._buf["mask"][env, k, t], self.rewards,
                              self.task.dt)
        ended = stepping & res["done"]
        info = self._step_info(stepping, ended, res, env, k, t)
        self._n_trials += ended
        self._episode_steps += stepping
        terminated = ended & (self._n_trials >= self.trials_per_episode) if self.trials_per_episode else \
            np.zeros(n, bool)
        # As gymnasium's TimeLimit: truncated once the step budget is spent, terminated or not.
        truncated = stepping & (self._episode_steps >= self.max_episode_steps) if self.max_episode_steps else \
            np.zeros(n, bool)
        reward = np.where(stepping, res["reward"], 0.0)

        # Observation: the trial's next step (its last one where the trial has ended), replaced
        # below by the first step of the next trial where a trial ended without ending the
        # episode -- as TaskEnv does, which cannot know that a TimeLimit will truncate it.
        length = self._table["length"][env, k]
        obs = self._observe(np.minimum(t + 1, length - 1))
        advance = stepping & ~ended
        self._t = np.where(advance, t + 1, t)
        next_trial = (ended & ~terminated) | self._autoreset
        if self._autoreset.any():
            self._n_trials[self._autoreset] = 0
            self._episode_steps[self._autoreset] = 0
        if next_trial.any():
            self._start_trials(next_trial)
            fresh = self._observe(self._t)
            obs = np.where(next_trial[:, None], fresh, obs)
        self._autoreset = terminated | truncated
        return obs.copy(), reward, terminated, truncated, info

    def _check_actions(self, actions: np.ndarray) -> None:
        space = self.single_action_space
        if isinstance(space, gym.spaces.Discrete):
            ok = actions.shape == (self.num_envs,) and np.issubdtype(actions.dtype, np.integer) \
                and actions.min() >= 0 and actions.max() < space.n
        else:
            ok = actions.shape == (self.num_envs, *space.shape) and np.all(np.isfinite(actions)) \
                and np.all(actions >= space.low) and np.all(actions <= space.high)
        if not ok:
            raise ValueError(f"actions must be an array in {self.action_space}, got {actions!r}")

    def _step_info(self, stepping, ended, res, env, k, t) -> dict[str, Any]:
        """Gymnasium's vector info layout: ``info[key]`` arrays with ``info["_" + key]`` masks."""
        names = np.asarray((*self.task.period_names, ""), dtype=object)
        if not stepping.any():
            return {}
        on = stepping[:, None]
        info: dict[str, Any] = {
            "target": np.where(on, self._buf["targets"][env, k, t], 0), "_target": stepping.copy(),
            "gt": np.where(stepping, self._buf["gt"][env, k, t], 0), "_gt": stepping.copy(),
            "mask": np.where(on, self._buf["mask"][env, k, t], 0), "_mask": stepping.copy(),
            "period": np.where(stepping, names[self._buf["period"][env, k, t]], None), "_period": stepping.copy(),
        }
        if ended.any():
            trial = {}
            for key, value in self._params.items():
                trial[key] = np.where(ended, value[env, k], np.zeros((), value.dtype))
                trial["_" + key] = ended.copy()
            info["trial"], info["_trial"] = trial, ended.copy()
            for key in (*self._rule.outcome_fields, "is_success"):
                value = res[key]
                info[key] = np.where(ended, value, np.zeros((), value.dtype))
                info["_" + key] = ended.copy()
        return info

    def render(self):
        if self.render_mode is None:
            return None
        if self._rngs is None:
            raise gym.error.ResetNeeded("call reset() before render()")
        # Render sub-environment 0, as Gymnasium's vector envs render their first env by default.
        batch = self._current_batch(0)
        fn = render_ansi if self.render_mode == "ansi" else render_rgb
        return (fn(self.task, batch, 0, int(self._t[0])),)

    def _current_batch(self, i: int) -> TrialBatch:
        k = int(self._k[i])
        length = int(self._table["length"][i, k])
        spans = np.zeros((1, len(self.task.period_names), 2), np.int64)
        period = self._buf["period"][i, k, :length]
        for j, _ in enumerate(self.task.period_names):
            steps = np.flatnonzero(period == j)
            spans[0, j] = (steps[0], steps[-1] + 1) if steps.size else (length, length)
        return TrialBatch(
            inputs=self._buf["inputs"][i, k:k + 1, :length], targets=self._buf["targets"][i, k:k + 1, :length],
            mask=self._buf["mask"][i, k:k + 1, :length], gt=self._buf["gt"][i, k:k + 1, :length],
            lengths=np.array([length]), params={key: v[i, k:k + 1] for key, v in self._params.items()},
            periods={name: spans[:, j] for j, name in enumerate(self.task.period_names)}, dt=self.task.dt)
