"""TaskVectorEnv: n environments of one task stepped together with array operations only.

Each sub-environment has its own generator and draws its trials exactly as a single
``TaskEnv`` does (``task.trials(trial_chunk, rng_i)`` per chunk), so ``reset(seed=s)`` gives
sub-environment i the trials, noise and rewards of ``gym.make(id)`` reset with seed ``s + i``.

Each sub-environment's trials are laid out as one stream of steps (end to end, no padding) in
its row of a shared (n, S, width) buffer, a step being one float32 row of everything about it
(inputs, targets, mask, gt, period). A step of the vector env reads every sub-environment's
next row with one fancy index and runs the task's response rule once, on the sub-environments
where something happens. When a sub-environment runs out of trials, it and every other one
running low draw their next chunks from their own generators in one ``task.drafts_from`` build
(each sub-environment's trials equal its own ``trials`` call), so the arrays are built for
hundreds of sub-environments at once; Python runs per sub-environment only for its block copies
and its generator's calls. A refill lays its steps out and draws their noise in work arrays
kept for the next refill (``WorkArrays``), so refills reuse their memory without any
process-wide allocator setting.

Autoreset follows Gymnasium's default (``AutoresetMode.NEXT_STEP``): the step after an
episode ends resets that sub-environment, ignores its action and returns reward 0. With
``autoreset_mode=AutoresetMode.DISABLED`` a sub-environment whose episode ended is parked
instead: later steps ignore its action, show its last observation and report nothing (reward 0,
not terminated, info masked off) until ``reset()`` (all) or ``reset(options={"reset_mask": m})``
(those in ``m``) starts its next episode. A loop that plays one episode per sub-environment and
then resets them all (trial-aligned batches) thus draws no trial it throws away.

A copy (``copy.deepcopy``, ``pickle``) continues exactly as the original: the flat views of the
stream and of the per-trial tables are not copied (a copy of a view is a separate array, which
the copy's refills would never write) but made again from the copied arrays.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from neurotasks.batch import TrialBatch
from neurotasks.env import (
    RENDER_MODES,
    SEED_LIMIT,
    check_env_options,
    check_seed,
    default_trial_chunk,
    make_spaces,
    resolve_task,
)
from neurotasks.noise import add_normals
from neurotasks.rendering import render_ansi, render_rgb
from neurotasks.task import Task
from neurotasks.trial_streams import carry_from, generators_from, streams_state
from neurotasks.work_arrays import WorkArrays


class TaskVectorEnv(VectorEnv):
    """``num_envs`` environments of one task, stepped in lock-step without a Python loop per env.

    Takes the arguments of :class:`neurotasks.env.TaskEnv` plus ``num_envs`` and
    ``max_episode_steps`` (truncation per sub-environment, as ``gym.make``'s TimeLimit does).
    """

    metadata = {"render_modes": list(RENDER_MODES), "render_fps": 50, "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(self, num_envs: int = 1, task: str | Task = "PerceptualDecision-v0", *,
                 trials_per_episode: int | None = 1, rewards: Mapping[str, float] | None = None,
                 render_mode: str | None = None, trial_chunk: int | None = None,
                 max_episode_steps: int | None = None, autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
                 **task_kwargs: Any) -> None:
        if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
            raise ValueError(f"num_envs must be a positive int, got {num_envs!r}")
        modes = (AutoresetMode.NEXT_STEP, AutoresetMode.DISABLED)
        try:
            mode = AutoresetMode(autoreset_mode)
        except ValueError:
            mode = None
        if mode not in modes:
            raise ValueError(f"autoreset_mode must be one of {[m.value for m in modes]}, got {autoreset_mode!r}")
        self.metadata = {**self.metadata, "autoreset_mode": mode}
        self._parks = mode is AutoresetMode.DISABLED     # an ended episode waits for reset()
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
        self._stream_steps: int | None = None      # the stream's first size (from a probe of the task)
        # A step's row: inputs, then its record (targets, mask, gt, period index; small ints are
        # exact in float32), which is what ``info`` and the rule read.
        self._n_in, self._n_out = len(self.task.input_names), len(self.task.output_names)
        self._width = self._n_in + 2 * self._n_out + 2
        self._blank_record = np.zeros(self._width - self._n_in, np.float32)
        self._blank_record[-1] = len(self.task.period_names)          # no period
        self._timeout_fields = ("reward", "done", *self._rule.outcome_fields, "is_success")
        self._resetting = np.zeros(0, np.intp)     # sub-environments being reset at the next step
        self._any_autoreset = False
        # Top up a sub-environment when it has this many trials left, with others running low,
        # and build at most _max_group sub-environments' chunks in one call.
        self._low_water = max(1, self.trial_chunk // 4)
        self._table_capacity = self.trial_chunk + self._low_water + 1
        self._max_group = max(1, 4096 // self.trial_chunk)
        self._work = WorkArrays()                  # a refill's large arrays, reused by the next one
        # The hooks of agent-dependent tasks, as in TaskEnv (None for every other task, which never
        # pays for them): a TrialStream task's ``chain`` continues each sub-environment's stream from
        # its row of ``_carry`` at every refill (neurotasks/tasks/trial_stream.py); a rule's
        # ``observe`` rewrites each observation from the rule's state (the stage-2 state, a cursor).
        self._chain = getattr(self.task, "chain", None)
        self._carry: dict[str, np.ndarray] | None = None
        self._rewrite = getattr(self._rule, "observe", None)

    # ------------------------------------------------------------------ trial streams
    # Each sub-environment's trials sit end to end in its row of the (n, capacity, width) stream
    # of steps, whose last step is blank. Per-trial tables (n, K, ...) hold each trial's first
    # and last steps as flat stream indices ("bounds"; (0, -1) marks the slot after a row's last
    # trial), its periods ("spans"), and, as records so that one index reads all of a trial's
    # values, its params, its rule table and, for rules with a quiet action, what that action
    # brings at its last step ("timeout": the outcome and the params ``info`` reports).
    # A sub-environment's state is a few flat indices into these: ``_pos``, the step its agent
    # acts on next; ``_first`` and ``_last``, its trial's first and last steps; ``_entry``, its
    # trial's row of the tables (sub-environment i's rows start at i K).
    #
    # When a sub-environment runs out of trials, every sub-environment with at most
    # ``_low_water`` trials left is topped up with it, in one ``task.drafts_from`` build: its
    # remaining trials move to the front of its row, and its next chunk goes after them.
    def _refill(self) -> None:
        """Top up the sub-environments that are out of trials, and those running low."""
        k = self._entry - self._env * self._table_capacity               # each one's current trial
        group = (self._n_table - k <= self._low_water).nonzero()[0]     # trials left, the current one included
        for start in range(0, len(group), self._max_group):
            self._top_up(group[start:start + self._max_group])

    def _top_up(self, group: np.ndarray) -> None:
        """Compact the rows of ``group`` (sub-environment indices) and append a chunk to each."""
        k = np.minimum(self._entry[group] - group * self._table_capacity, self._n_table[group])  # first to keep
        keep = self._n_table[group] - k
        shift = self._filled[group].copy()                # the step the first kept trial starts at
        kept = keep > 0
        if kept.any():
            shift[kept] = self._tables["bounds"][group[kept], k[kept], 0] - self._row_offset[group[kept]]
            self._compact(group, k, keep, shift)
        for state in (self._pos, self._first, self._last):
            state[group] -= shift
        self._entry[group] -= k
        self._filled[group] -= shift
        self._n_table[group] = keep

        rngs = [self._rngs[i] for i in group]
        for i, rng in zip(group.tolist(), rngs, strict=True):   # where each chunk's trials start, and from what
            log = self._chunk_log[i]
            while len(log) > 1 and log[1][0] <= self._started[i]:
                log.pop(0)                           # every trial of the oldest chunk has been started
            carry = None if self._carry is None else {key: value[i].copy() for key, value in self._carry.items()}
            log.append((int(self._drawn[i]), rng.bit_generator.state, carry))
        self._drawn[group] += self.trial_chunk
        batch = self.task.drafts_from(rngs, self.trial_chunk)
        if self._chain is not None:                  # each stream goes on from where it stood
            carry = self._chain(batch, {key: value[group] for key, value in self._carry.items()})
            for key, value in carry.items():
                self._carry[key][group] = value
        g, chunk = len(group), self.trial_chunk
        lengths = batch.lengths.reshape(g, chunk)
        totals = lengths.sum(axis=1)
        needed = int((self._filled[group] + totals).max()) + 1            # + the blank step
        if needed > self._capacity:
            self._grow(max(needed, int(1.25 * self._capacity)))
        steps = self._rows_of_steps(batch, totals, rngs)
        ends = np.cumsum(totals).tolist()
        for i, filled, total, end in zip(group.tolist(), self._filled[group].tolist(), totals.tolist(), ends,
                                         strict=True):
            self._stream[i, filled:filled + total] = steps[end - total:end]
        # Per-trial tables: the new trials after the kept ones.
        firsts = (self._row_offset[group] + self._filled[group])[:, None] + np.cumsum(lengths, axis=1) - lengths
        rule_table = self._rule.trial_table(batch)
        params = _records(batch.params)
        tables = {"bounds": np.stack([firsts.ravel(), firsts.ravel() + batch.lengths - 1], axis=1),
                  "spans": np.stack([batch.periods[p] for p in self.task.period_names], axis=1),
                  "rule": _records(rule_table), "params": params}
        if self._rule.quiet_action is not None:
            res = self._rule.step(rule_table, None, batch.lengths - 1, np.full(len(batch), self._rule.quiet_action),
                                  None, None, self.rewards, self.task.dt)
            tables["timeout"] = _end_records(self._outcome_rows(res, slice(None)), params)
        rows, cols = group[:, None], keep[:, None] + np.arange(chunk)
        for key, value in tables.items():
            value = value.reshape(g, chunk, *value.shape[1:])
            if key not in self._tables:
                self._tables[key] = np.zeros((self.num_envs, self._table_capacity, *value.shape[2:]), value.dtype)
                self._link_views()
                if key == "timeout":
                    self._no_timeout = self._tables[key][0, :0].copy()
            _raw(self._tables[key])[rows, cols] = _raw(value)
        self._n_table[group] += chunk
        self._tables["bounds"][group, self._n_table[group]] = (0, -1)   # marks the end of each row's trials
        self._filled[group] += totals

    def _rows_of_steps(self, batch: TrialBatch, totals: np.ndarray, rngs: list[np.random.Generator]) -> np.ndarray:
        """The real steps of a drafted batch, in order, as stream rows (N, width): one take per
        field (many times faster than a boolean index), the input noise added where they lie
        end to end (each generator's in one block), the inputs clipped.

        Every array of (N, ...) here is a work array kept for the next refill (a view of it is
        returned), so refill after refill reuses the same memory instead of faulting fresh
        pages in."""
        work = self._work
        real = _real_steps(batch.lengths, batch.n_steps, work)
        n, n_in, n_out = len(real), self._n_in, self._n_out
        # mode="clip": the indices are in range, and numpy would otherwise buffer ``out``
        inputs = np.take(batch.inputs.reshape(-1, n_in), real, axis=0, out=work("inputs", (n, n_in)), mode="clip")
        if self.task.input_noise:                    # as Task.add_input_noise, with work arrays
            add_normals(rngs, totals * n_in, inputs.reshape(-1), self.task.input_noise_sd, work=work)
        np.clip(inputs, *self.task.observation_range, out=inputs)
        steps = work("steps", (n, self._width))
        _columns(steps, 0, n_in)[...] = _columns(inputs, 0, n_in)
        taken = work("taken", (n, n_out))
        for column, values in ((n_in, batch.targets), (n_in + n_out, batch.mask)):
            np.take(values.reshape(-1, n_out), real, axis=0, out=taken, mode="clip")
            _columns(steps, column, n_out)[...] = _columns(taken, 0, n_out)
        steps[:, -2] = np.take(batch.gt.reshape(-1), real, out=work("gt", n, np.int64), mode="clip")
        spans = np.stack([batch.periods[p] for p in self.task.period_names], axis=1)       # (B, P, 2)
        labels = np.tile(np.arange(spans.shape[1], dtype=np.float32), len(batch))
        steps[:, -1] = np.repeat(labels, (spans[:, :, 1] - spans[:, :, 0]).ravel())       # periods tile each trial
        return steps

    def _compact(self, group: np.ndarray, k: np.ndarray, keep: np.ndarray, shift: np.ndarray) -> None:
        """Move trials ``k...`` of each row in ``group`` (``keep`` of them, from step ``shift``) to the front."""
        rows = group[:, None]
        dest = np.arange(int(keep.max()))
        src = np.minimum(k[:, None] + dest, self._table_capacity - 1)
        for table in self._tables.values():
            raw = _raw(table)
            raw[rows, dest] = raw[rows, src]
        self._tables["bounds"][rows, dest] -= shift[:, None, None]
        stream = self._stream
        for i, start, end in zip(group.tolist(), shift.tolist(), self._filled[group].tolist(), strict=True):
            if start:
                stream[i, :end - start] = stream[i, start:end]      # numpy copies overlapping slices safely

    def _make_streams(self, steps: int) -> None:
        """The (n, steps, width) stream, the last step of each row blank (what a sub-environment
        being reset reports in ``info``); an old stream's steps are kept."""
        old = getattr(self, "_stream", None)
        new = np.zeros((self.num_envs, steps, self._width), np.float32)
        new[:, -1, self._n_in:] = self._blank_record
        if old is not None:
            new[:, :old.shape[1] - 1] = old[:, :-1]
            moved = self._env * (steps - self._capacity)             # flat indices move with their rows
            for state in (self._pos, self._first, self._last):
                state += moved
            bounds = self._tables["bounds"]
            drawn = bounds[:, :, 1] >= 0
            bounds[drawn] += np.broadcast_to(moved[:, None, None], bounds.shape)[drawn]
        self._stream = new
        self._capacity = steps
        self._row_offset = self._env * steps
        self._link_views()

    # ------------------------------------------------------------------ copies
    def _link_views(self) -> None:
        """The flat views: ``_flat``, the stream as (n S, width) rows, and ``_flat_tables``, each
        per-trial table as rows at flat index env K + k. They must be views (refills write the
        arrays they view), so they are made, never copied."""
        if getattr(self, "_stream", None) is not None:
            self._flat = self._stream.reshape(-1, self._width)
        if hasattr(self, "_tables"):
            self._flat_tables = {key: table.reshape(-1, *table.shape[2:]) for key, table in self._tables.items()}

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for key in ("_flat", "_flat_tables", "_work"):
            state.pop(key, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._work = WorkArrays()
        self._link_views()

    def _grow(self, steps: int) -> None:
        self._make_streams(steps)

    def _start_trials(self, rows: np.ndarray) -> None:
        """Move the sub-environments in ``rows`` (indices) to the first step of their next trial."""
        self._entry[rows] += 1
        self._started[rows] += 1
        bounds = self._flat_tables["bounds"][self._entry[rows]]
        if bounds.min() < 0:                         # a slot past a row's last trial: (0, -1)
            self._refill()
            bounds = self._flat_tables["bounds"][self._entry[rows]]
        first = bounds[:, 0]
        self._first[rows] = first
        self._last[rows] = bounds[:, 1]
        self._pos[rows] = first
        self._rule.reset_accumulator(self._acc, rows)

    def _observe(self) -> np.ndarray:
        """The observation at every sub-environment's ``_pos``. The rest of those steps' rows is
        kept as ``_record``, which the next step reports (blank where an episode just ended)."""
        row = np.take(self._flat, self._pos, axis=0)
        if self._any_autoreset:
            row[self._resetting, self._n_in:] = self._blank_record
        self._record = row[:, self._n_in:]
        if self._rewrite is not None:
            return self._rewrite(self._rule_table(self._entry), self._acc, self._pos - self._first, row[:, :self._n_in])
        return row[:, :self._n_in]                   # a view of a fresh array (a copy of its columns costs more)

    # ------------------------------------------------------------------ gymnasium API
    def reset(self, *, seed: int | Sequence[int | None] | None = None, options: dict[str, Any] | None = None):
        """Start a new trial in every sub-environment: of new streams (``seed``: see ``_check_seeds``),
        of the streams a ``trial_streams()`` left off (``options={"trial_streams": state}``), or
        of the current streams (neither)."""
        streams, mask = self._check_reset_options(seed, options)
        if mask is not None:
            return self._reset_some(mask.nonzero()[0])
        seeds = self._check_seeds(seed) if streams is None else None
        n = self.num_envs
        if seeds is not None or streams is not None:  # new generators: start new streams of trials
            if streams is not None:                   # checked whole before anything changes
                rngs, offsets = generators_from(streams, self.task.id, n, self.trial_chunk)
                carry = self._restored_carry(streams["streams"])
                self._rngs = rngs
            else:
                self._rngs, offsets = [seeding.np_random(s)[0] for s in seeds], np.zeros(n, np.int64)
                carry = self.task.new_carry(n) if self._chain is not None else None
            if self._stream_steps is None:
                probe = self.task.trials(32, 0)
                # Room for the trials a row keeps plus a new chunk, at a generous mean length (rows
                # grow when a chunk needs more): the stream is the env's memory, and a step reads one
                # scattered row of it per sub-environment, so smaller is faster too.
                self._stream_steps = (int(1.25 * self._table_capacity * probe.lengths.mean())
                                      + int(probe.lengths.max()) + 1)
            self._stream = None
            self._make_streams(self._stream_steps)
            # "bounds" first: every slot empty, so the first trials are drawn now.
            self._tables = {"bounds": np.full((n, self._table_capacity, 2), -1, np.int64)}
            self._link_views()
            self._n_table = np.zeros(n, np.int64)
            self._filled = np.zeros(n, np.int64)
            # The first chunk's first ``offsets`` trials are skipped (a restored stream's).
            self._entry = self._env * self._table_capacity - 1 + offsets
            self._started = offsets - 1              # each one's trials started, counted from its first chunk
            self._drawn = np.zeros(n, np.int64)      # and drawn
            # Per sub-environment: (first trial, generator state, carry) before each chunk still in play.
            self._chunk_log: list[list[tuple[int, dict, dict | None]]] = [[] for _ in range(n)]
            self._pos, self._first, self._last = (np.zeros(n, np.int64) for _ in range(3))
            self._carry = carry
        self._acc = self._rule.new_accumulator(n)
        self._start_trials(self._env)                # the first build makes every table
        self._n_trials = np.zeros(n, np.int64)
        self._episode_steps = np.zeros(n, np.int64)
        self._autoreset = np.zeros(n, bool)
        self._resetting = np.zeros(0, np.intp)
        self._any_autoreset = False
        return self._observe(), {}

    def _restored_carry(self, streams: Sequence[Mapping[str, Any]]) -> dict[str, np.ndarray] | None:
        """A TrialStream task's carry from saved streams (None for any other task); ValueError if they do not fit."""
        if self._chain is not None:
            return carry_from(streams, self.task.new_carry(self.num_envs))
        if any("carry" in stream for stream in streams):
            raise ValueError(f"options['trial_streams'] holds a carry, which {self.task.id}'s independent trials "
                             "do not have")
        return None

    def _reset_some(self, rows: np.ndarray):
        """Start the next episode of the sub-environments in ``rows`` (their streams continue)."""
        self._start_trials(rows)
        self._n_trials[rows] = 0
        self._episode_steps[rows] = 0
        self._autoreset[rows] = False
        self._resetting = self._autoreset.nonzero()[0]
        self._any_autoreset = self._resetting.size > 0
        return self._observe(), {}

    def _check_reset_options(self, seed: Any, options: Any) -> tuple[Any, np.ndarray | None]:
        """(the ``trial_streams`` of ``options``, its ``reset_mask`` as (n,) bools), each None if not
        given; errors for unknown options and for options that do not go together."""
        if options is None:
            return None, None
        if not isinstance(options, Mapping):
            raise TypeError(f"options must be a dict or None, got {type(options).__name__}")
        unknown = sorted(set(options) - {"trial_streams", "reset_mask"})
        if unknown:
            raise ValueError(f"options has unknown key(s) {unknown}; TaskVectorEnv.reset takes 'trial_streams' "
                             f"and 'reset_mask'")
        streams, mask = options.get("trial_streams"), options.get("reset_mask")
        if streams is not None and seed is not None:
            raise ValueError("give reset either seed or options['trial_streams'], not both")
        if mask is not None:
            if not self._parks:
                raise ValueError("options['reset_mask'] needs autoreset_mode=AutoresetMode.DISABLED (with the "
                                 "default NEXT_STEP mode, ended sub-environments reset themselves)")
            if seed is not None or streams is not None:
                raise ValueError("options['reset_mask'] resets sub-environments on their current streams: "
                                 "give it without seed or trial_streams")
            if self._rngs is None:
                raise gym.error.ResetNeeded("call reset() once before reset(options={'reset_mask': ...})")
            mask = np.asarray(mask)
            if mask.dtype != np.bool_ or mask.shape != (self.num_envs,):
                raise ValueError(f"options['reset_mask'] must be an array of {self.num_envs} bools, got {mask!r}")
        return streams, mask

    def trial_streams(self) -> dict[str, Any]:
        """Where every sub-environment's stream of trials stands: a JSON object from which
        ``reset(options={"trial_streams": it})`` (on an env of the same task, ``num_envs`` and
        ``trial_chunk``) starts the trials that ``reset()`` would start here now, and continues
        as this env would (:mod:`neurotasks.trial_streams`)."""
        if self._rngs is None:
            raise gym.error.ResetNeeded("call reset() before trial_streams()")
        states, offsets, carries = [], [], []
        for i, (log, rng) in enumerate(zip(self._chunk_log, self._rngs, strict=True)):
            following = int(self._started[i]) + 1
            if following >= self._drawn[i]:          # not drawn yet: the chunk the generator draws next
                states.append(rng.bit_generator.state)
                offsets.append(following - int(self._drawn[i]))
                carries.append(None if self._carry is None else {k: v[i] for k, v in self._carry.items()})
                continue
            first, state, carry = next(entry for entry in reversed(log) if entry[0] <= following)
            states.append(state)
            offsets.append(following - first)
            carries.append(carry)
        return streams_state(self.task.id, self.trial_chunk, states, offsets,
                             carries if self._carry is not None else None)

    def _check_seeds(self, seed: Any) -> list[int | None] | None:
        """Each sub-environment's seed (None: fresh entropy), or None to continue the streams.

        ``seed`` is None, an int s (sub-environment i gets s + i, all below 2**128), or a
        sequence of ``num_envs`` ints or Nones, each checked as ``TaskEnv.reset`` checks one.
        """
        n = self.num_envs
        if seed is None:
            return None if self._rngs is not None else [None] * n
        if isinstance(seed, np.ndarray) and seed.ndim == 0:
            seed = seed[()]                          # a 0-d array: its scalar
        if isinstance(seed, (bool, str, bytes)) or not isinstance(seed, (int, np.integer, Sequence, np.ndarray)):
            raise TypeError(f"seed must be an int, a sequence of {n} ints (or Nones) or None, "
                            f"got {type(seed).__name__} {seed!r}")
        if not isinstance(seed, (Sequence, np.ndarray)):
            first = check_seed(seed)
            if first + n > SEED_LIMIT:
                raise ValueError(f"seed must be below 2**128 - {n - 1} with {n} sub-environments (they get "
                                 f"seed, seed + 1, ...), got {first}")
            return [first + i for i in range(n)]
        seeds = list(seed)
        if len(seeds) != n:
            raise ValueError(f"seed must be an int or a list of {n} seeds, got {len(seeds)}")
        return [check_seed(s, f"seed[{i}]") for i, s in enumerate(seeds)]

    def step(self, actions):
        if self._rngs is None:
            raise gym.error.ResetNeeded("call reset() before step()")
        actions = np.asarray(actions)
        self._check_actions(actions)
        n, record = self.num_envs, self._record
        stepping = ~self._autoreset                  # sub-environments being reset report nothing
        reward, ended, outcome = self._score(actions, record, stepping)
        info = self._step_info(stepping, ended, outcome, record)

        terminated = np.zeros(n, bool)
        truncated = np.zeros(n, bool)
        moving = ended[:0]                           # sub-environments that start their next trial now
        if ended.size:
            if self.trials_per_episode == 1:         # (the default: no count to keep)
                terminated[ended] = True
            else:
                self._n_trials[ended] += 1
                if self.trials_per_episode:
                    terminated[ended[self._n_trials[ended] >= self.trials_per_episode]] = True
                moving = ended[~terminated[ended]]
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
        if ended.size:
            np.minimum(self._pos, self._last, out=self._pos)             # stays put where a trial ended
        if self._any_autoreset:
            resetting = self._resetting
            if self._parks:                          # parked: they stay put until reset
                self._pos[resetting] -= 1
            else:
                if self.trials_per_episode != 1:
                    self._n_trials[resetting] = 0
                if self.max_episode_steps:
                    self._episode_steps[resetting] = 0
                moving = np.concatenate((moving, resetting)) if moving.size else resetting   # disjoint
        if moving.size:
            self._start_trials(moving)
        if self._parks:                              # (parked ones report neither: they are not stepping)
            self._autoreset = self._autoreset | terminated | truncated
        else:
            self._autoreset = terminated | truncated
        self._resetting = self._autoreset.nonzero()[0]
        self._any_autoreset = self._resetting.size > 0
        return self._observe(), reward, terminated, truncated, info

    def _score(self, actions: np.ndarray, record: np.ndarray,
               stepping: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(reward (n,), the sub-environments whose trial ended, their ``_timeout_fields`` as a
        float64 row each).

        A rule with a ``quiet_action`` is run only where another action is taken; where the quiet
        action is taken at a trial's last step, the outcome is read from the trial's ``timeout``
        row, worked out when the trial was drawn; elsewhere nothing happens. Other rules are run
        on every sub-environment.
        """
        rule, n = self._rule, self.num_envs
        if rule.quiet_action is None:
            n_out = self._n_out
            res = rule.step(self._rule_table(self._entry), self._acc, self._pos - self._first, actions,
                            record[:, :n_out], record[:, n_out:2 * n_out], self.rewards, self.task.dt)
            reward = res["reward"] if stepping.all() else np.where(stepping, res["reward"], 0.0)
            ended = (res["done"] & stepping).nonzero()[0]
            return reward, ended, self._ended_records(res, ended, ended)
        quiet = actions == rule.quiet_action
        at_last = self._pos == self._last
        if self._any_autoreset:                      # sub-environments being reset do nothing
            quiet |= self._autoreset
            at_last &= stepping
        ending = (quiet & at_last).nonzero()[0]
        reward = np.zeros(n)
        if ending.size:
            outcome = self._rows("timeout", self._entry[ending])
            reward[ending] = outcome["outcome"]["reward"]
        else:                                        # most steps: nothing ends, nothing to read
            outcome = self._no_timeout
        acting = (~quiet).nonzero()[0]
        if not acting.size:
            return reward, ending, outcome
        res = rule.step(self._rule_table(self._entry[acting]), None, self._pos[acting] - self._first[acting],
                        actions[acting], None, None, self.rewards, self.task.dt)
        reward[acting] = res["reward"]
        done = res["done"].nonzero()[0]
        return reward, np.concatenate((ending, acting[done])), np.concatenate(
            (outcome, self._ended_records(res, done, acting[done])))

    def _outcome_rows(self, res: Mapping[str, np.ndarray], rows: np.ndarray | slice) -> np.ndarray:
        """``res``'s ``_timeout_fields`` at ``rows``, as records."""
        return _records({key: np.asarray(res[key])[rows] for key in self._timeout_fields})

    def _ended_records(self, res: Mapping[str, np.ndarray], rows: np.ndarray, envs: np.ndarray) -> np.ndarray:
        """The end records (outcome and params) of the trials of ``envs``, ``res`` (their rule's
        step) at ``rows``."""
        return _end_records(self._outcome_rows(res, rows), self._rows("params", self._entry[envs]))

    def _rows(self, key: str, entry: np.ndarray) -> np.ndarray:
        """Rows of per-trial table ``key`` at flat indices ``entry``, read as raw bytes (for
        records, several times faster than numpy's field-by-field take)."""
        table = self._flat_tables[key]
        return _raw(table)[entry].view(table.dtype)

    def _rule_table(self, entry: np.ndarray) -> dict[str, np.ndarray]:
        """The rule's table of the trials at ``entry`` (flat indices into the per-trial tables)."""
        rows = self._rows("rule", entry)
        return {key: rows[key] for key in rows.dtype.names}

    def _check_actions(self, actions: np.ndarray) -> None:
        space = self.single_action_space
        if isinstance(space, gym.spaces.Discrete):
            # As unsigned, a negative action is huge: one comparison checks both bounds.
            ok = actions.shape == (self.num_envs,) and actions.dtype.kind in "iu" \
                and actions.view(_UNSIGNED[actions.dtype.itemsize]).max() < space.n
        else:                                        # numbers only: bool arrays are not actions
            ok = actions.shape == (self.num_envs, *space.shape) and actions.dtype.kind in "iuf" \
                and np.all(np.isfinite(actions)) and np.all(actions >= space.low) and np.all(actions <= space.high)
        if not ok:
            kind = " (bools are not actions: use ints or floats)" if actions.dtype == np.bool_ else ""
            raise ValueError(f"actions must be an array in {self.action_space}{kind}, got {actions!r}")

    def _step_info(self, stepping: np.ndarray, ended: np.ndarray, outcome: np.ndarray,
                   record: np.ndarray) -> dict[str, Any]:
        """Gymnasium's vector info layout: ``info[key]`` arrays with ``info["_" + key]`` masks
        (one mask array serves every key it applies to)."""
        if len(self._resetting) == self.num_envs:
            return {}
        n, n_out = self.num_envs, self._n_out
        info: dict[str, Any] = {
            "target": record[:, :n_out], "gt": record[:, -2].astype(np.int64), "mask": record[:, n_out:2 * n_out],
            "period": self._period_names[record[:, -1].astype(np.intp)],
            "_target": stepping, "_gt": stepping, "_mask": stepping, "_period": stepping}
        if ended.size:
            # Zero records for every sub-environment, the ended ones' outcome and params put in at
            # once; each key is a field of them.
            ends = np.zeros(n, outcome.dtype)
            _raw(ends)[ended] = _raw(outcome)           # (raw bytes: a field-by-field copy costs more)
            results, params = ends["outcome"], ends["trial"]
            at_end = results["done"]
            for key in self._timeout_fields[2:]:
                info[key], info["_" + key] = results[key], at_end
            trial: dict[str, Any] = {}
            for key in params.dtype.names:
                trial[key], trial["_" + key] = params[key], at_end
            info["trial"], info["_trial"] = trial, at_end
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
        k, first = int(self._entry[i]) - i * self._table_capacity, int(self._first[i] - self._row_offset[i])
        steps = self._stream[i:i + 1, first:first + int(self._last[i] - self._first[i]) + 1]
        n_in, n_out = self._n_in, self._n_out
        spans = self._tables["spans"][i, k]
        params = self._tables["params"][i, k:k + 1]
        return TrialBatch(
            inputs=steps[:, :, :n_in].copy(), targets=steps[:, :, n_in:n_in + n_out].copy(),
            mask=steps[:, :, n_in + n_out:n_in + 2 * n_out].copy(), gt=steps[:, :, -2].astype(np.int64),
            lengths=np.array([steps.shape[1]]),
            params={key: params[key].copy() for key in params.dtype.names},
            periods={name: spans[None, j] for j, name in enumerate(self.task.period_names)}, dt=self.task.dt)


#: The unsigned integer dtype of each itemsize (an action array's view for the bounds check).
_UNSIGNED = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def _records(columns: Mapping[str, np.ndarray]) -> np.ndarray:
    """Per-trial arrays (B, ...) as one (B,) record array, a field each: one index reads a trial's
    values of them all, and each field, a view, keeps its dtype."""
    arrays = {key: np.asarray(value) for key, value in columns.items()}
    records = np.empty(len(next(iter(arrays.values()))), [(key, a.dtype, a.shape[1:]) for key, a in arrays.items()])
    for key, value in arrays.items():
        records[key] = value
    return records


def _raw(array: np.ndarray) -> np.ndarray:
    """A record array's items as opaque bytes (same memory), for copies that move whole items
    (several times faster than numpy's field-by-field copy of records); other arrays as they are."""
    return array.view(_opaque(array.dtype)) if array.dtype.names else array


@functools.cache
def _opaque(dtype: np.dtype) -> np.dtype:
    """The raw-bytes dtype of a record dtype (remembered: making one costs about a microsecond)."""
    return np.dtype((np.void, dtype.itemsize))


def _real_steps(lengths: np.ndarray, n_steps: int, work: WorkArrays) -> np.ndarray:
    """Flat indices of the real steps of trials padded to ``n_steps``, in order (from one
    ``np.repeat``, several times faster than a mask's nonzero)."""
    starts = np.cumsum(lengths) - lengths
    real = np.repeat(np.arange(len(lengths)) * n_steps - starts, lengths)
    real += work.arange(len(real))
    return real


def _end_records(outcome: np.ndarray, params: np.ndarray) -> np.ndarray:
    """Records of what ``info`` reports when a trial ends: its ``outcome`` and its ``trial`` params."""
    records = np.empty(len(outcome), [("outcome", outcome.dtype), ("trial", params.dtype)])
    records["outcome"], records["trial"] = outcome, params
    return records


def _columns(array: np.ndarray, start: int, width: int) -> np.ndarray:
    """Columns ``start:start + width`` of a C-contiguous (N, C) float32 array as one (N,) array of
    opaque items: copying into it moves ``4 width`` bytes per row at once (assigning to a column
    slice instead loops over the ``width`` floats of every row, several times slower)."""
    item = np.dtype({"names": ["v"], "formats": [f"V{4 * width}"], "offsets": [4 * start],
                     "itemsize": 4 * array.shape[1]})
    return array.view(item)["v"][:, 0]
