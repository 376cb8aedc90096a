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
        self._any_autoreset = False
        self._timeout_fields = ("reward", "done", *self._rule.outcome_fields, "is_success")
        self._outcome_dtypes: dict[str, np.dtype] = {}
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
    # have a row per sub-environment too. A sub-environment's state is a few flat indices into
    # these: ``_pos``, the step its agent acts on next; ``_first`` and ``_last``, its trial's
    # first and last steps; ``_entry``, its trial's row in the tables.
    #
    # When a sub-environment runs out of trials, every sub-environment with at most
    # ``_low_water`` trials left is topped up with it, in one ``task.drafts_from`` build: its
    # remaining trials move to the front of its row, and its next chunk goes after them.
    def _refill(self) -> None:
        """Top up the sub-environments that are out of trials, and those running low."""
        group = np.flatnonzero(self._n_table - self._k <= self._low_water)   # trials left, the current one included
        for start in range(0, len(group), self._max_group):
            self._top_up(group[start:start + self._max_group])

    def _top_up(self, group: np.ndarray) -> None:
        """Compact the rows of ``group`` (sub-environment indices) and append a chunk to each."""
        k = np.minimum(self._k[group], self._n_table[group])     # first trial to keep
        keep = self._n_table[group] - k
        shift = self._filled[group].copy()                # the step the first kept trial starts at
        kept = keep > 0
        if kept.any():
            shift[kept] = self._trial["start"][group[kept], k[kept]]
            self._compact(group, k, keep, shift)
        for state in (self._pos, self._first, self._last):
            state[group] -= shift
        self._k[group] -= k
        self._entry[group] -= k
        self._filled[group] -= shift
        self._n_table[group] = keep

        rngs = [self._rngs[i] for i in group]
        batch = self.task.drafts_from(rngs, self.trial_chunk)
        g, chunk = len(group), self.trial_chunk
        lengths = batch.lengths.reshape(g, chunk)
        totals = lengths.sum(axis=1)
        needed = int((self._filled[group] + totals).max()) + 1            # + the blank step
        if needed > self._capacity:
            self._grow(max(needed, int(1.25 * self._capacity)))
        # The batch's real steps, in order: one take per field (many times faster than a boolean
        # index), the input noise added where they lie end to end, then one block copy per
        # sub-environment into its row after what it keeps.
        real = np.flatnonzero((np.arange(batch.n_steps)[None, :] < batch.lengths[:, None]).ravel())
        inputs = np.take(batch.inputs.reshape(-1, batch.inputs.shape[2]), real, axis=0)
        if self.task.input_noise:
            self.task.add_input_noise(inputs, totals, rngs)
        np.clip(inputs, *self.task.observation_range, out=inputs)
        n_out = batch.targets.shape[2]
        record = np.empty((len(real), 2 * n_out + 2), np.float32)
        for column, values in ((0, batch.targets), (n_out, batch.mask)):
            _columns(record, column, n_out)[...] = _columns(np.take(values.reshape(-1, n_out), real, axis=0), 0, n_out)
        record[:, -2] = np.take(batch.gt.reshape(-1), real)
        record[:, -1] = np.take(batch.period_of_steps().reshape(-1), real)
        ends = np.cumsum(totals).tolist()
        for key, steps in (("inputs", inputs), ("record", record)):
            stream = self._stream[key]
            for i, filled, total, end in zip(group.tolist(), self._filled[group].tolist(), totals.tolist(), ends,
                                             strict=True):
                stream[i, filled:filled + total] = steps[end - total:end]
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
        tables = {"packed": np.concatenate([np.asarray(v, np.float64).reshape(len(batch), -1)
                                            for v in rule_table.values()], axis=1)}
        if self._rule.quiet_action is not None:
            # What the quiet action at each trial's last step brings: a row per trial, in float64
            # (exact for the outcome's ints and bools), read by ``_score``.
            last = batch.lengths - 1
            res = self._rule.step(rule_table, None, last, np.full(len(batch), self._rule.quiet_action), None, None,
                                  self.rewards, self.task.dt)
            tables["timeout"] = np.stack([np.asarray(res[key], np.float64) for key in self._timeout_fields], axis=1)
        rows, cols = group[:, None], keep[:, None] + np.arange(chunk)
        for store, table in ((self._trial, per_trial), (self._table, tables), (self._params, batch.params)):
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
        if old:                                       # flat indices move with their rows
            for state in (self._pos, self._first, self._last):
                state += self._env * (steps - self._capacity)
        self._capacity = steps
        self._row_offset = self._env * steps
        self._blank = self._row_offset + steps - 1

    def _grow(self, steps: int) -> None:
        self._make_streams({key: (v.shape[2:], v.dtype) for key, v in self._stream.items()}, steps)

    def _start_trials(self, rows: np.ndarray) -> None:
        """Move the sub-environments in ``rows`` (indices) to the first step of their next trial."""
        self._k[rows] += 1
        self._entry[rows] += 1
        if (self._k[rows] >= self._n_table[rows]).any():
            self._refill()
        entry = self._entry[rows]
        first = self._row_offset[rows] + _take(self._trial["start"], entry)
        self._first[rows] = first
        self._last[rows] = first + _take(self._trial["length"], entry) - 1
        self._pos[rows] = first
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
            self._outcome_dtypes = self._dtypes_of_outcome(probe)
            self._n_table = np.zeros(n, np.int64)
            self._filled = np.zeros(n, np.int64)
            self._k = np.full(n, -1, np.int64)
            self._entry = self._env * self._table_capacity - 1
            self._pos, self._first, self._last = (np.zeros(n, np.int64) for _ in range(3))
        self._acc = self._rule.new_accumulator(n)
        self._start_trials(self._env)                # the first build makes every table
        self._n_trials = np.zeros(n, np.int64)
        self._episode_steps = np.zeros(n, np.int64)
        self._autoreset = np.zeros(n, bool)
        return np.take(self._flat["inputs"], self._pos, axis=0), {}

    def step(self, actions):
        if self._rngs is None:
            raise gym.error.ResetNeeded("call reset() before step()")
        actions = np.asarray(actions)
        self._check_actions(actions)
        n = self.num_envs
        resetting = np.flatnonzero(self._autoreset) if self._any_autoreset else None
        stepping = ~self._autoreset
        # Sub-environments being reset this step read their row's blank step: they report nothing.
        position = self._pos if resetting is None else np.where(self._autoreset, self._blank, self._pos)
        record = np.take(self._flat["record"], position, axis=0)
        reward, ended, outcome = self._score(actions, position, record, stepping)
        info = self._step_info(stepping, ended, outcome, record)

        terminated = np.zeros(n, bool)
        truncated = np.zeros(n, bool)
        if ended.size:
            self._n_trials[ended] += 1
            if self.trials_per_episode:
                terminated[ended[self._n_trials[ended] >= self.trials_per_episode]] = True
        if self.max_episode_steps:
            # As gymnasium's TimeLimit: truncated once the step budget is spent, terminated or not.
            self._episode_steps += stepping
            np.greater_equal(self._episode_steps, self.max_episode_steps, out=truncated)
            truncated &= stepping

        # The next observation: the trial's next step; its last one where the episode has ended;
        # the first step of the next trial where a trial ended without ending the episode (as
        # TaskEnv does, which cannot know that a TimeLimit will truncate it) and where a
        # sub-environment was being reset.
        self._pos += 1
        moving = ended
        if ended.size or resetting is not None:
            moving = ended[~terminated[ended]]
            np.minimum(self._pos, self._last, out=self._pos)             # stays put where a trial ended
            if resetting is not None:
                self._n_trials[resetting] = 0
                self._episode_steps[resetting] = 0
                moving = np.concatenate((moving, resetting))     # disjoint: those being reset did not step
            if moving.size:
                self._start_trials(moving)
        self._autoreset = terminated | truncated
        self._any_autoreset = bool(self._autoreset.any())
        return np.take(self._flat["inputs"], self._pos, axis=0), reward, terminated, truncated, info

    def _score(self, actions: np.ndarray, position: np.ndarray, record: np.ndarray,
               stepping: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """(reward (n,), the sub-environments whose trial ended, their outcome fields).

        A rule with a ``quiet_action`` is run only where another action is taken; where the quiet
        action is taken at a trial's last step, the outcome is read from the trial's ``timeout``
        row, worked out when the trial was drawn; elsewhere nothing happens. Other rules are run
        on every sub-environment.
        """
        rule, n = self._rule, self.num_envs
        if rule.quiet_action is None:
            n_out = (record.shape[1] - 2) // 2
            res = rule.step(self._rule_table(self._entry), self._acc, position - self._first, actions,
                            record[:, :n_out], record[:, n_out:2 * n_out], self.rewards, self.task.dt)
            reward = res["reward"] if stepping.all() else np.where(stepping, res["reward"], 0.0)
            ended = np.flatnonzero(res["done"] & stepping)
            return reward, ended, {key: value[ended] for key, value in res.items()}
        quiet = actions == rule.quiet_action
        if not stepping.all():
            quiet |= ~stepping                       # sub-environments being reset do nothing
        ending = quiet & (position == self._last)
        acting = np.flatnonzero(~quiet)
        reward = np.zeros(n)
        parts = []
        if ending.any():
            rows = np.flatnonzero(ending)
            timeout = _take(self._table["timeout"], self._entry[rows])
            reward[rows] = timeout[:, 0]
            parts.append((rows, {key: timeout[:, j] for j, key in enumerate(self._timeout_fields)}))
        if acting.size:
            res = rule.step(self._rule_table(self._entry[acting]), None, position[acting] - self._first[acting],
                            actions[acting], None, None, self.rewards, self.task.dt)
            reward[acting] = res["reward"]
            done = res["done"]
            if not done.all():
                acting, res = acting[done], {key: value[done] for key, value in res.items()}
            parts.append((acting, res))
        if not parts:
            return reward, acting, {}
        if len(parts) == 1:
            return reward, *parts[0]
        (a, x), (b, y) = parts
        return reward, np.concatenate((a, b)), {key: np.concatenate((x[key], y[key])) for key in self._timeout_fields}

    def _dtypes_of_outcome(self, probe: TrialBatch) -> dict[str, np.dtype]:
        """The dtype of each field the rule's ``step`` returns (as stepped on ``probe``'s first steps)."""
        space, n = self.single_action_space, len(probe)
        res = self._rule.step(self._rule.trial_table(probe), self._rule.new_accumulator(n), np.zeros(n, np.int64),
                              np.zeros((n, *space.shape), space.dtype), probe.targets[:, 0], probe.mask[:, 0],
                              self.rewards, self.task.dt)
        return {key: np.asarray(value).dtype for key, value in res.items()}

    def _rule_table(self, entry: np.ndarray) -> dict[str, np.ndarray]:
        """The rule's table of the trials at ``entry`` (flat indices into the per-trial tables)."""
        packed = _take(self._table["packed"], entry)
        return {key: packed[:, a] if shape == () else packed[:, a:b].reshape(-1, *shape)
                for key, (a, b, shape) in self._rule_columns.items()}

    def _check_actions(self, actions: np.ndarray) -> None:
        space = self.single_action_space
        if isinstance(space, gym.spaces.Discrete):
            # As unsigned, a negative action is huge: one comparison checks both bounds.
            ok = actions.shape == (self.num_envs,) and actions.dtype.kind in "iu" \
                and actions.view(actions.dtype.str.replace("i", "u")).max() < space.n
        else:
            ok = actions.shape == (self.num_envs, *space.shape) and np.all(np.isfinite(actions)) \
                and np.all(actions >= space.low) and np.all(actions <= space.high)
        if not ok:
            raise ValueError(f"actions must be an array in {self.action_space}, got {actions!r}")

    def _step_info(self, stepping: np.ndarray, ended: np.ndarray, outcome: dict[str, np.ndarray],
                   record: np.ndarray) -> dict[str, Any]:
        """Gymnasium's vector info layout: ``info[key]`` arrays with ``info["_" + key]`` masks
        (one mask array serves every key it applies to)."""
        if self._any_autoreset and not stepping.any():
            return {}
        n_out = (record.shape[1] - 2) // 2
        info: dict[str, Any] = {
            "target": record[:, :n_out], "gt": record[:, -2].astype(np.int64), "mask": record[:, n_out:2 * n_out],
            "period": self._period_names[record[:, -1].astype(np.intp)],
            "_target": stepping, "_gt": stepping, "_mask": stepping, "_period": stepping}
        if ended.size:
            at_end = np.zeros(self.num_envs, bool)
            at_end[ended] = True
            entry = self._entry[ended]
            trial: dict[str, Any] = {}
            for key, value in self._params.items():
                trial[key] = np.zeros(self.num_envs, value.dtype)
                trial[key][ended], trial["_" + key] = _take(value, entry), at_end
            info["trial"], info["_trial"] = trial, at_end
            for key in (*self._rule.outcome_fields, "is_success"):
                info[key] = np.zeros(self.num_envs, self._outcome_dtypes[key])
                info[key][ended], info["_" + key] = outcome[key], at_end
        return info

    def render(self):
        if self.render_mode is None:
            return None
        if self._rngs is None:
            raise gym.error.ResetNeeded("call reset() before render()")
        # Render sub-environment 0, as Gymnasium's vector envs render their first env by default.
        fn = render_ansi if self.render_mode == "ansi" else render_rgb
        return (fn(self.task, self._current_batch(0), 0, int(self._pos[0] - self._first[0])),)

    def _current_batch(self, i: int) -> TrialBatch:
        """Sub-environment ``i``'s current trial as a one-trial TrialBatch."""
        k, first = int(self._k[i]), int(self._first[i]) - int(self._row_offset[i])
        steps = slice(first, first + int(self._last[i] - self._first[i]) + 1)
        record = self._stream["record"][i:i + 1, steps]
        n_out = (record.shape[2] - 2) // 2
        spans = self._trial["spans"][i, k]
        return TrialBatch(
            inputs=self._stream["inputs"][i:i + 1, steps], targets=record[:, :, :n_out].copy(),
            mask=record[:, :, n_out:2 * n_out].copy(), gt=record[:, :, -2].astype(np.int64),
            lengths=np.array([steps.stop - steps.start]),
            params={key: v[i, k:k + 1] for key, v in self._params.items()},
            periods={name: spans[None, j] for j, name in enumerate(self.task.period_names)}, dt=self.task.dt)


def _take(table: np.ndarray, entry: np.ndarray) -> np.ndarray:
    """Rows of an (n, capacity, ...) per-trial table at flat indices ``env * capacity + k``."""
    return np.take(table.reshape(-1, *table.shape[2:]), entry, axis=0)



def _columns(array: np.ndarray, start: int, width: int) -> np.ndarray:
    """Columns ``start:start + width`` of a C-contiguous (N, C) float32 array as one (N,) array of
    opaque items: copying into it moves ``4 width`` bytes per row at once (assigning to a column
    slice instead loops over the ``width`` floats of every row, several times slower)."""
    item = np.dtype({"names": ["v"], "formats": [f"V{4 * width}"], "offsets": [4 * start],
                     "itemsize": 4 * array.shape[1]})
    return array.view(item)["v"][:, 0]
