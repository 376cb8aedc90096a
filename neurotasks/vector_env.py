"""TaskVectorEnv: n environments of one task stepped together with array operations only.

Each sub-environment has its own generator and draws its trials exactly as a single
``TaskEnv`` does (``task.trials(trial_chunk, rng_i)`` per chunk), so ``reset(seed=s)`` gives
sub-environment i the trials, noise and rewards of ``gym.make(id)`` reset with seed ``s + i``.

Each sub-environment's trials are laid out as one stream of steps (end to end, no padding) in
its row of a shared (n, S, ...) buffer. A step reads every sub-environment's current step with
one fancy index and scores all actions with one call of the task's response rule. When a
sub-environment runs out of trials, it and every other one running low draw their next chunks
from their own generators in one ``task.trials_from`` build (each sub-environment's rows equal
its own ``trials`` call), so the arrays are built for hundreds of sub-environments at once;
Python runs per sub-environment only for its few draws and block copies.

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
from neurotasks.env import RENDER_MODES, check_env_options, default_trial_chunk, make_spaces, resolve_task
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
                 render_mode: str | None = None, trial_chunk: int | None = None,
                 max_episode_steps: int | None = None, **task_kwargs: Any) -> None:
        if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
            raise ValueError(f"num_envs must be a positive int, got {num_envs!r}")
        if max_episode_steps is not None and (not isinstance(max_episode_steps, (int, np.integer))
                                              or max_episode_steps < 1):
            raise ValueError(f"max_episode_steps must be a positive int or None, got {max_episode_steps!r}")
        self.task = resolve_task(task, task_kwargs)
        if trial_chunk is None:
            trial_chunk = default_trial_chunk(self.task)
        self.rewards = check_env_options(self.task, trials_per_episode, rewards, render_mode, trial_chunk)
        self.num_envs = int(num_envs)
        self.trials_per_episode = trials_per_episode
        self.max_episode_steps = max_episode_steps
        self.render_mode = render_mode
        self.trial_chunk = int(trial_chunk)
        self._rule = self.task.rule
        self._period_names = np.array([*self.task.period_names, None], dtype=object)
        self.single_observation_space, self.single_action_space = make_spaces(self.task)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._env = np.arange(self.num_envs)
        self._rngs: list[np.random.Generator] | None = None
        # Top up a sub-environment when it has this many trials left, with others running low,
        # and build at most _max_group sub-environments' chunks in one call.
        self._low_water = max(1, self.trial_chunk // 4)
        self._table_capacity = self.trial_chunk + self._low_water + 1
        self._max_group = max(1, 4096 // self.trial_chunk)

    # ------------------------------------------------------------------ trial streams
    # Each sub-environment's trials sit end to end in its row of two (n, capacity, ...) stream
    # buffers: "inputs" (the observation) and "record", one float32 row per step of what
    # ``info`` and the rule read (targets, mask, gt, period index; small ints are exact in
    # float32), so a step gathers each with one index. The last step of a row is blank. Per-trial
    # tables (start step, length, periods, params, the rule's table packed in one float64 row)
    # have a row per sub-environment too. When a sub-environment runs out of trials, every
    # sub-environment with at most ``_low_water`` trials left is topped up with it, in one
    # ``task.trials_from`` build: its remaining trials move to the front of its row, and its next
    # chunk goes after them.
    def _refill(self, need: np.ndarray) -> None:
        """Top up the sub-environments in ``need`` (bool; out of trials) and those running low."""
        left = self._n_table - self._k                   # trials left, the current one included
        group = np.flatnonzero(need | (left <= self._low_water))
        for start in range(0, len(group), self._max_group):
            self._top_up(group[start:start + self._max_group])

    def _top_up(self, group: np.ndarray) -> None:
        """Compact the rows of ``group`` (sub-environment indices) and append a chunk to each."""
        k = np.minimum(self._k[group], self._n_table[group])     # first trial to keep
        keep = self._n_table[group] - k
        shift = self._filled[group].copy()                # the step the first kept trial starts at
        if keep.any():
            shift[keep > 0] = self._trial["start"][group, np.minimum(k, self._table_capacity - 1)][keep > 0]
        self._compact(group, k, keep, shift)
        self._k[group] -= k
        self._start[group] -= shift
        self._filled[group] -= shift
        self._n_table[group] = keep

        batch = self.task.trials_from([self._rngs[i] for i in group], self.trial_chunk, clear_padding=False)
        g, chunk = len(group), self.trial_chunk
        lengths = batch.lengths.reshape(g, chunk)
        totals = lengths.sum(axis=1)
        needed = int((self._filled[group] + totals).max()) + 1            # + the blank step
        if needed > self._capacity:
            self._grow(max(needed, int(1.25 * self._capacity)))
        # Steps: the batch's real steps, in order (one take per field: many times faster than a
        # boolean index), then one block copy per sub-environment into its row after what it keeps.
        real = np.flatnonzero((np.arange(batch.n_steps)[None, :] < batch.lengths[:, None]).ravel())
        ends = np.cumsum(totals)
        blocks = [(int(i), int(f), int(e - t), int(e)) for i, f, t, e in zip(group, self._filled[group], totals, ends,
                                                                               strict=True)]
        n_out = batch.targets.shape[2]
        record = np.empty((len(real), 2 * n_out + 2), np.float32)
        np.take(batch.targets.reshape(-1, n_out), real, axis=0, out=record[:, :n_out])
        np.take(batch.mask.reshape(-1, n_out), real, axis=0, out=record[:, n_out:2 * n_out])
        record[:, -2] = np.take(batch.gt.reshape(-1), real)
        record[:, -1] = np.take(batch.period_of_steps().reshape(-1), real)
        values = {"inputs": np.take(batch.inputs.reshape(-1, batch.inputs.shape[2]), real, axis=0),
                  "record": record}
        for key, steps in values.items():
            stream = self._stream[key]
            for i, filled, start, end in blocks:
                stream[i, filled:filled + end - start] = steps[start:end]
        # Per-trial tables: the new trials after the kept ones. The rule's table is packed into
        # one float64 row per trial (exact for its ints and bools) so a step reads it with one index.
        starts = self._filled[group][:, None] + np.cumsum(lengths, axis=1) - lengths
        per_trial = {"start": starts.ravel(), "length": batch.lengths,
                     "spans": np.stack([batch.periods[p] for p in self.task.period_names], axis=1)}
        rule_table = self._rule.trial_table(batch)
        self._rule_columns, column = {}, 0
        for key, value in rule_table.items():
            width = int(np.prod(np.shape(value)[1:], dtype=int))
            self._rule_columns[key] = (column, column + width, np.shape(value)[1:])
            column += width
        packed = np.concatenate([np.asarray(v, np.float64).reshape(len(batch), -1) for v in rule_table.values()],
                                axis=1)
        rows, cols = group[:, None], keep[:, None] + np.arange(chunk)
        for store, table in ((self._trial, per_trial), (self._table, {"packed": packed}),
                             (self._params, batch.params)):
            for key, value in table.items():
                value = np.asarray(value)
                value = value.reshape(g, chunk, *value.shape[1:])
                if key not in store:
                    store[key] = np.zeros((self.num_envs, self._table_capacity, *value.shape[2:]), value.dtype)
                store[key][rows, cols] = value
        self._n_table[group] += chunk
        self._filled[group] += totals

    def _compact(self, group: np.ndarray, k: np.ndarray, keep: np.ndarray, shift: np.ndarray) -> None:
        """Move trials ``k...`` of each row in ``group`` (``keep`` of them, from step ``shift``) to the front."""
        if not keep.any():
            return
        rows = group[:, None]
        dest = np.arange(int(keep.max()))
        src = np.minimum(k[:, None] + dest, self._table_capacity - 1)
        for store in (self._trial, self._table, self._params):
            for value in store.values():
                value[rows, dest] = value[rows, src]
        self._trial["start"][rows, dest] -= shift[:, None]
        for i, start, end in zip(group.tolist(), shift.tolist(), self._filled[group].tolist(), strict=True):
            if start:
                for value in self._stream.values():
                    value[i, :end - start] = value[i, start:end]      # numpy copies overlapping slices safely

    def _at(self, key: str, position: np.ndarray) -> np.ndarray:
        """Every sub-environment's value of stream ``key`` at its ``position`` (one flat take)."""
        return np.take(self._flat[key], self._row_offset + position, axis=0)

    def _make_streams(self, shapes: dict[str, tuple[tuple[int, ...], Any]], steps: int) -> None:
        """(n, steps, ...) stream buffers, the last step of each row blank: 0 everywhere, no period
        (what a sub-environment being reset reports in ``info``)."""
        old = getattr(self, "_stream", {})
        self._stream, self._flat = {}, {}
        for key, (shape, dtype) in shapes.items():
            new = np.zeros((self.num_envs, steps, *shape), dtype)
            if key in old:
                new[:, : old[key].shape[1]] = old[key]
            if key == "record":                       # the blank step has no period
                new[:, -1, -1] = len(self.task.period_names)
            self._stream[key], self._flat[key] = new, new.reshape(-1, *shape)
        self._capacity = steps
        self._row_offset = self._env * steps
        self._blank = steps - 1

    def _grow(self, steps: int) -> None:
        self._make_streams({key: (v.shape[2:], v.dtype) for key, v in self._stream.items()}, steps)

    def _start_trials(self, rows: np.ndarray) -> None:
        """Move the sub-environments in ``rows`` (bool mask) to their next trial."""
        self._k[rows] += 1
        need = rows & (self._k >= self._n_table)
        if need.any():
            self._refill(need)
        self._entry = self._env * self._table_capacity + self._k     # flat index into (n, capacity) tables
        entry = self._entry[rows]
        self._t[rows] = 0
        self._start[rows] = _take(self._trial["start"], entry)
        self._length[rows] = _take(self._trial["length"], entry)
        self._rule.reset_accumulator(self._acc, rows)

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
            probe = self.task.trials(32, 0)
            # Room for the trials a row keeps plus a new chunk, at a generous mean length (rows grow
            # when a chunk needs more): the streams are the env's memory, and a step reads one
            # scattered row of each per sub-environment, so smaller is faster too.
            steps = int(1.25 * self._table_capacity * probe.lengths.mean()) + int(probe.lengths.max()) + 1
            self._stream = {}
            self._make_streams({"inputs": (probe.inputs.shape[2:], np.float32),
                                "record": ((2 * probe.targets.shape[2] + 2,), np.float32)}, steps)
            self._trial, self._table, self._params = {}, {}, {}
            self._n_table = np.zeros(n, np.int64)
            self._filled = np.zeros(n, np.int64)
            self._k = np.full(n, -1, np.int64)
            self._t = np.zeros(n, np.int64)
            self._start = np.zeros(n, np.int64)
            self._length = np.zeros(n, np.int64)
            self._acc = self._rule.new_accumulator(n)
            self._start_trials(np.ones(n, bool))           # the first build makes every table
        else:
            self._start_trials(np.ones(n, bool))
        self._acc = self._rule.new_accumulator(n)
        self._n_trials = np.zeros(n, np.int64)
        self._episode_steps = np.zeros(n, np.int64)
        self._autoreset = np.zeros(n, bool)
        return self._at("inputs", self._start), {}

    def step(self, actions):
        if self._rngs is None:
            raise gym.error.ResetNeeded("call reset() before step()")
        actions = np.asarray(actions)
        self._check_actions(actions)
        n, t = self.num_envs, self._t
        stepping = ~self._autoreset
        # Sub-environments being reset this step read their row's blank step: they report nothing.
        position = self._start + t if not self._autoreset.any() else np.where(stepping, self._start + t, self._blank)
        index = self._row_offset + position
        record = np.take(self._flat["record"], index, axis=0)
        n_out = (record.shape[1] - 2) // 2
        target, mask = record[:, :n_out], record[:, n_out:2 * n_out]
        packed = _take(self._table["packed"], self._entry)                  # the current trials' rule table
        table = {key: packed[:, a] if shape == () else packed[:, a:b].reshape(-1, *shape)
                 for key, (a, b, shape) in self._rule_columns.items()}
        res = self._rule.step(table, self._acc, t, actions, target, mask, self.rewards, self.task.dt)
        ended = res["done"] & stepping
        info = self._step_info(stepping, ended, res, target, mask, record)
        self._n_trials += ended
        self._episode_steps += stepping
        terminated = ended & (self._n_trials >= self.trials_per_episode) if self.trials_per_episode else \
            np.zeros(n, bool)
        # As gymnasium's TimeLimit: truncated once the step budget is spent, terminated or not.
        truncated = stepping & (self._episode_steps >= self.max_episode_steps) if self.max_episode_steps else \
            np.zeros(n, bool)
        reward = res["reward"] if stepping.all() else np.where(stepping, res["reward"], 0.0)

        # Observation: the trial's next step (its last one where the trial has ended), or the
        # first step of the next trial where a trial ended without ending the episode -- as
        # TaskEnv does, which cannot know that a TimeLimit will truncate it.
        self._t = np.where(stepping & ~ended, t + 1, t)
        offset = np.minimum(t + 1, self._length - 1)
        next_trial = (ended & ~terminated) | self._autoreset
        if next_trial.any():
            self._n_trials[self._autoreset] = 0
            self._episode_steps[self._autoreset] = 0
            self._start_trials(next_trial)            # may move other rows' trials: read _start after
            offset[next_trial] = 0
        next_position = self._start + offset
        self._autoreset = terminated | truncated
        return self._at("inputs", next_position), reward, terminated, truncated, info

    def _check_actions(self, actions: np.ndarray) -> None:
        space = self.single_action_space
        if isinstance(space, gym.spaces.Discrete):
            ok = actions.shape == (self.num_envs,) and actions.dtype.kind in "iu" \
                and actions.min() >= 0 and actions.max() < space.n
        else:
            ok = actions.shape == (self.num_envs, *space.shape) and np.all(np.isfinite(actions)) \
                and np.all(actions >= space.low) and np.all(actions <= space.high)
        if not ok:
            raise ValueError(f"actions must be an array in {self.action_space}, got {actions!r}")

    def _step_info(self, stepping, ended, res, target, mask, record) -> dict[str, Any]:
        """Gymnasium's vector info layout: ``info[key]`` arrays with ``info["_" + key]`` masks
        (one mask array serves every key it applies to)."""
        if not stepping.any():
            return {}
        info: dict[str, Any] = {
            "target": target, "gt": record[:, -2].astype(np.int64), "mask": mask,
            "period": self._period_names[record[:, -1].astype(np.intp)],
            "_target": stepping, "_gt": stepping, "_mask": stepping, "_period": stepping}
        if ended.any():
            rows = np.flatnonzero(ended)
            entry = self._entry[rows]
            trial: dict[str, Any] = {}
            for key, value in self._params.items():
                trial[key] = np.zeros(self.num_envs, value.dtype)
                trial[key][rows], trial["_" + key] = _take(value, entry), ended
            info["trial"], info["_trial"] = trial, ended
            for key in (*self._rule.outcome_fields, "is_success"):
                info[key], info["_" + key] = _only(ended, res[key]), ended
        return info

    def render(self):
        if self.render_mode is None:
            return None
        if self._rngs is None:
            raise gym.error.ResetNeeded("call reset() before render()")
        # Render sub-environment 0, as Gymnasium's vector envs render their first env by default.
        fn = render_ansi if self.render_mode == "ansi" else render_rgb
        return (fn(self.task, self._current_batch(0), 0, int(self._t[0])),)

    def _current_batch(self, i: int) -> TrialBatch:
        """Sub-environment ``i``'s current trial as a one-trial TrialBatch."""
        k, start, length = int(self._k[i]), int(self._start[i]), int(self._length[i])
        steps = slice(start, start + length)
        record = self._stream["record"][i:i + 1, steps]
        n_out = (record.shape[2] - 2) // 2
        spans = self._trial["spans"][i, k]
        return TrialBatch(
            inputs=self._stream["inputs"][i:i + 1, steps], targets=record[:, :, :n_out].copy(),
            mask=record[:, :, n_out:2 * n_out].copy(), gt=record[:, :, -2].astype(np.int64),
            lengths=np.array([length]), params={key: v[i, k:k + 1] for key, v in self._params.items()},
            periods={name: spans[None, j] for j, name in enumerate(self.task.period_names)}, dt=self.task.dt)


def _take(table: np.ndarray, entry: np.ndarray) -> np.ndarray:
    """Rows of an (n, capacity, ...) per-trial table at flat indices ``env * capacity + k``."""
    return np.take(table.reshape(-1, *table.shape[2:]), entry, axis=0)



def _only(keep: np.ndarray, values: np.ndarray) -> np.ndarray:
    """A new (n,) array: ``values`` where ``keep``, 0 (False) elsewhere, in the dtype of ``values``."""
    if values.dtype == bool:
        return values & keep
    return np.where(keep, values, values.dtype.type(0))
