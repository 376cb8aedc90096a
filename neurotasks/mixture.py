"""A mixture of tasks: one stream of trials of several tasks, for multitask training.

Yang et al. (2019) trained one network on 20 tasks, telling it which task a trial belongs to
through rule inputs. ``TaskMixture`` makes batches that mix any tasks trial by trial: every
trial is a whole trial of one task, laid out on the union of the tasks' channels (by name), with
one rule input per task on for the whole trial (``rule_inputs=True``; Yang's tasks carry their
own rule inputs, so ``neurotasks.tasks.yang19.yang19_mixture`` leaves them out). Channels a task
does not have are 0 with mask 0, so each trial is constrained only on its own task's outputs;
trials are padded to the longest in the batch (mask 0, ``gt`` -1).

Each batch holds each task in exact proportion (largest remainders when ``n p`` is not whole),
in a shuffled order; the trials of each task are drawn by the task itself, so each is exactly a
trial of ``task.trials`` and scored by that task's rule (``evaluate``, ``score``).
``MixtureSampler`` serves batches for a training loop, ``MixtureEnv`` steps through a mixed
stream of trials as a Gymnasium environment.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from neurotasks.batch import TrialBatch
from neurotasks.env import TaskEnv, make_spaces
from neurotasks.registry import make_task
from neurotasks.task import Task, as_generator

#: ``params["task"]``: the index of each trial's task in ``TaskMixture.tasks``.
TASK_PARAM = "task"


class TaskMixture:
    """Trials of several tasks mixed within every batch.

    Args:
        tasks: Task instances or task ids (made with ``task_kwargs``), all at the same ``dt``,
            no id twice.
        proportions: the share of each task (non-negative, not all 0; normalised); equal by default.
        rule_inputs: add an input per task, ``rule:<task id>``, 1 on its trials' real steps.
        **task_kwargs: arguments for the tasks given by id (``dt``...).

    Attributes: ``tasks``, ``ids``, ``proportions`` (summing to 1), ``input_names`` and
    ``output_names`` (the union of the tasks' channels, in order of first appearance, then the
    rule inputs), ``dt``.
    """

    def __init__(self, tasks: Sequence[Task | str], proportions: Sequence[float] | None = None, *,
                 rule_inputs: bool = True, **task_kwargs: Any) -> None:
        if isinstance(tasks, (str, Task)) or not isinstance(tasks, Sequence) or len(tasks) == 0:
            raise ValueError(f"tasks must be a non-empty list of tasks or task ids, got {tasks!r}")
        made = []
        for task in tasks:
            if isinstance(task, str):
                made.append(make_task(task, **task_kwargs))
            elif isinstance(task, Task):
                made.append(task)
            else:
                raise TypeError(f"tasks must hold Tasks or task ids, got {type(task).__name__}")
        self.tasks: tuple[Task, ...] = tuple(made)
        self.ids = tuple(t.id for t in self.tasks)
        repeated = sorted({i for i in self.ids if self.ids.count(i) > 1})
        if repeated:
            raise ValueError(f"tasks must not repeat a task id, got {repeated} more than once")
        dts = sorted({t.dt for t in self.tasks})
        if len(dts) > 1:
            raise ValueError(f"the tasks of a mixture must share one dt, got dt values {dts}")
        self.dt = dts[0]
        self.proportions = _proportions(proportions, len(self.tasks))
        self.rule_inputs = bool(rule_inputs)
        self.rule_names = tuple(f"rule:{i}" for i in self.ids) if self.rule_inputs else ()
        self.input_names = (*_union(t.input_names for t in self.tasks), *self.rule_names)
        self.output_names = _union(t.output_names for t in self.tasks)
        self.period_names = _union(t.period_names for t in self.tasks)
        self._in = [np.array([self.input_names.index(c) for c in t.input_names]) for t in self.tasks]
        self._out = [np.array([self.output_names.index(c) for c in t.output_names]) for t in self.tasks]
        self._params = [t.param_names for t in self.tasks]

    def __len__(self) -> int:
        return len(self.tasks)

    def __repr__(self) -> str:
        shares = ", ".join(f"{i}: {p:.3g}" for i, p in zip(self.ids, self.proportions, strict=True))
        return f"TaskMixture({{{shares}}}, rule_inputs={self.rule_inputs})"

    # ------------------------------------------------------------------ trials
    def counts(self, n: int) -> np.ndarray:
        """Trials of each task in a batch of ``n``: ``n p`` rounded down, the remaining trials to the
        largest remainders (the first tasks on ties), so the counts add up to ``n``."""
        n = _positive_int(n, "n")
        exact = n * self.proportions
        counts = np.floor(exact + 1e-9).astype(np.int64)
        short = n - int(counts.sum())
        if short > 0:
            order = np.argsort(-(exact - counts), kind="stable")
            counts[order[:short]] += 1
        return counts

    def schedule(self, n: int, rng: np.random.Generator | int | None = None) -> np.ndarray:
        """(n,) task index of each trial: ``counts(n)`` of each, in a random order."""
        return as_generator(rng).permutation(np.repeat(np.arange(len(self.tasks)), self.counts(n)))

    def trials(self, n: int, rng: np.random.Generator | int | None = None) -> TrialBatch:
        """``n`` trials mixed in exact proportions, as one TrialBatch on the mixture's channels.

        ``params`` holds every task's parameters (NaN, -1 or False on the trials of tasks without
        them) and ``task``, the index of each trial's task; ``periods`` every task's periods (an
        empty span at the trial's end on the trials of tasks without them). Task-specific
        ``extras`` are left out. The same as ``batches(1, n, rng)[0]``.
        """
        return self.batches(1, n, rng)[0]

    def batches(self, n_batches: int, n: int, rng: np.random.Generator | int | None = None) -> list[TrialBatch]:
        """``n_batches`` batches of ``n`` mixed trials, each with ``counts(n)`` trials of each task.

        Each task's trials for all the batches are drawn by one ``task.trials`` call (its fixed cost
        shared), then each batch gets its share, in its own random order.
        """
        n_batches = _positive_int(n_batches, "n_batches")
        rng = as_generator(rng)
        counts = self.counts(n)
        orders = [rng.permutation(np.repeat(np.arange(len(self.tasks)), counts)) for _ in range(n_batches)]
        drawn = {k: self.tasks[k].trials(int(c) * n_batches, rng) for k, c in enumerate(counts) if c}
        out = []
        for j, order in enumerate(orders):
            parts = {k: b.select(slice(j * counts[k], (j + 1) * counts[k]), copy=False) for k, b in drawn.items()}
            out.append(self._assemble(order, parts))
        return out

    def _assemble(self, order: np.ndarray, parts: Mapping[int, TrialBatch]) -> TrialBatch:
        """One mixed batch: trial i is the next trial of ``parts[order[i]]``, on the mixture's channels."""
        rows = {k: np.flatnonzero(order == k) for k in parts}
        n_steps = max(b.n_steps for b in parts.values())
        n = len(order)
        inputs = np.zeros((n, n_steps, len(self.input_names)), np.float32)
        targets = np.zeros((n, n_steps, len(self.output_names)), np.float32)
        mask = np.zeros_like(targets)
        gt = np.full((n, n_steps), -1, np.int64)
        lengths = np.zeros(n, np.int64)
        for k, b in parts.items():
            _put(inputs, rows[k], self._in[k], b.inputs)
            _put(targets, rows[k], self._out[k], b.targets)
            _put(mask, rows[k], self._out[k], b.mask)
            gt[rows[k], :b.n_steps] = b.gt
            lengths[rows[k]] = b.lengths
            if self.rule_inputs:
                inputs[rows[k], :b.n_steps, len(self.input_names) - len(self) + k] = b.valid
        periods = {name: np.repeat(lengths[:, None], 2, axis=1) for name in self.period_names}
        for k, b in parts.items():
            for name, span in b.periods.items():
                periods[name][rows[k]] = span
        params = {TASK_PARAM: order.astype(np.int64), **_merged_params(parts, rows, n)}
        return TrialBatch(inputs=inputs, targets=targets, mask=mask, gt=gt, lengths=lengths, periods=periods,
                          params=params, dt=self.dt)

    def task_batch(self, batch: TrialBatch, k: int) -> tuple[np.ndarray, TrialBatch]:
        """The rows of task ``k`` in a mixed ``batch``, and those trials as that task's own TrialBatch
        (its channels, periods and parameters, trimmed of padding)."""
        rows = np.flatnonzero(batch.params[TASK_PARAM] == k)
        part = batch.select(rows)
        task = self.tasks[k]
        params = {name: part.params[name] for name in self._params[k]}
        own = TrialBatch(inputs=np.ascontiguousarray(part.inputs[:, :, self._in[k]]),
                         targets=np.ascontiguousarray(part.targets[:, :, self._out[k]]),
                         mask=np.ascontiguousarray(part.mask[:, :, self._out[k]]), gt=part.gt, lengths=part.lengths,
                         periods={name: part.periods[name] for name in task.period_names}, params=params, dt=part.dt)
        return rows, own

    # ------------------------------------------------------------------ scoring
    def evaluate(self, batch: TrialBatch, outputs: np.ndarray | None = None,
                 actions: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Per-trial behaviour, each trial decoded by its own task's rule (``Task.evaluate``).

        ``outputs`` (B, T, n_out) on the mixture's output channels, or ``actions`` (B, T[, ...]) in
        the tasks' (shared) action space. Fields a task does not report are NaN (or -1) on its
        trials; ``task`` is each trial's task index.
        """
        if (outputs is None) == (actions is None):
            raise ValueError("evaluate needs exactly one of outputs= or actions=")
        given = np.asarray(outputs if outputs is not None else actions)
        if given.shape[:2] != (len(batch), batch.n_steps):
            raise ValueError(f"{'outputs' if outputs is not None else 'actions'} must have shape (B, T, ...) = "
                             f"({len(batch)}, {batch.n_steps}, ...), got {given.shape}")
        if outputs is not None and given.shape[2:] != (len(self.output_names),):
            raise ValueError(f"outputs must have shape (B, T, n_out) = ({len(batch)}, {batch.n_steps}, "
                             f"{len(self.output_names)}), got {given.shape}")
        parts = {}
        for k in np.unique(batch.params[TASK_PARAM]):
            rows, own = self.task_batch(batch, int(k))
            mine = given[rows, :own.n_steps]
            if outputs is not None:
                parts[int(k)] = (rows, self.tasks[k].evaluate(own, outputs=mine[:, :, self._out[k]]))
            else:
                parts[int(k)] = (rows, self.tasks[k].evaluate(own, actions=mine))
        out: dict[str, np.ndarray] = {TASK_PARAM: batch.params[TASK_PARAM].copy()}
        for rows, result in parts.values():
            for key, value in result.items():
                if key not in out:
                    value = np.asarray(value)
                    fill = np.nan if value.dtype.kind == "f" else (-1 if value.dtype.kind in "iu" else False)
                    out[key] = np.full(len(batch), fill, dtype=value.dtype)
                out[key][rows] = value
        return out

    def score(self, batch: TrialBatch, evaluation: Mapping[str, np.ndarray]) -> dict[str, float]:
        """``percent_correct`` over all trials, ``<task id>/percent_correct`` for each task present
        (its own ``Task.score`` keys, prefixed), and ``min_task_percent_correct``, the worst task."""
        correct = np.asarray(evaluation["correct"], dtype=float)
        keep = ~np.isnan(correct)
        out = {"percent_correct": float(100.0 * correct[keep].mean()) if keep.any() else float("nan")}
        worst = math.inf
        for k in np.unique(batch.params[TASK_PARAM]):
            rows, own = self.task_batch(batch, int(k))
            mine = {key: np.asarray(value)[rows] for key, value in evaluation.items()}
            for key, value in self.tasks[k].score(own, mine).items():
                out[f"{self.ids[k]}/{key}"] = value
            if math.isfinite(out[f"{self.ids[k]}/percent_correct"]):
                worst = min(worst, out[f"{self.ids[k]}/percent_correct"])
        out["min_task_percent_correct"] = float(worst) if math.isfinite(worst) else float("nan")
        return out


class MixtureSampler:
    """Batches of ``batch_size`` fresh mixed trials from ``mixture``, drawn from ``rng``: each batch
    holds ``mixture.counts(batch_size)`` trials of each task. ``sampler()`` or ``next(sampler)``.

    ``block``: batches drawn at once (``mixture.batches``), sharing each task's fixed cost per call;
    a seeded sampler gives the same batches for the same ``block``.
    """

    def __init__(self, mixture: TaskMixture, batch_size: int, rng: np.random.Generator | int | None = None, *,
                 block: int = 8) -> None:
        if not isinstance(mixture, TaskMixture):
            raise TypeError(f"mixture must be a TaskMixture, got {type(mixture).__name__}")
        self.mixture = mixture
        self.batch_size = _positive_int(batch_size, "batch_size")
        self.block = _positive_int(block, "block")
        self.rng = as_generator(rng)
        self._ready: list[TrialBatch] = []

    def __call__(self) -> TrialBatch:
        if not self._ready:
            self._ready = self.mixture.batches(self.block, self.batch_size, self.rng)[::-1]
        return self._ready.pop()

    def __iter__(self) -> MixtureSampler:
        return self

    def __next__(self) -> TrialBatch:
        return self()

    def __repr__(self) -> str:
        return f"MixtureSampler({self.mixture!r}, batch_size={self.batch_size}, block={self.block})"


class MixtureEnv(gym.Env):
    """A mixture of tasks as one ``gymnasium.Env``: each trial is a trial of one task, stepped by that
    task's own ``TaskEnv`` (so rewarded exactly as there), its observation laid out on the mixture's
    input channels (with its rule input on).

    Args:
        mixture: a TaskMixture whose tasks share one action space.
        trials_per_episode: trials per episode (default 1); None: an endless stream.
        rewards: reward overrides, passed to every task's environment.
        block: trials are scheduled ``block`` at a time in exact proportions (``mixture.schedule``).

    ``info`` carries the task's ``target`` and ``mask`` on the mixture's outputs, its ``gt`` and
    ``period``, ``task`` (the task id) and, when a trial ends, its outcome.
    """

    metadata = {"render_modes": [], "render_fps": 50}

    def __init__(self, mixture: TaskMixture, *, trials_per_episode: int | None = 1,
                 rewards: Mapping[str, float] | None = None, block: int = 100) -> None:
        if not isinstance(mixture, TaskMixture):
            raise TypeError(f"mixture must be a TaskMixture, got {type(mixture).__name__}")
        if trials_per_episode is not None:
            trials_per_episode = _positive_int(trials_per_episode, "trials_per_episode")
        self.mixture = mixture
        self.trials_per_episode = trials_per_episode
        self.block = _positive_int(block, "block")
        self._envs = [TaskEnv(task, rewards=rewards) for task in mixture.tasks]
        action_spaces = [env.action_space for env in self._envs]
        if any(space != action_spaces[0] for space in action_spaces[1:]):
            shown = ", ".join(f"{i}: {s}" for i, s in zip(mixture.ids, action_spaces, strict=True))
            raise ValueError(f"the tasks of a MixtureEnv must share one action space, got {shown}")
        self.action_space = action_spaces[0]
        n_in = len(mixture.input_names)
        low, high = np.zeros(n_in, np.float32), np.zeros(n_in, np.float32)
        for k, task in enumerate(mixture.tasks):
            box, _ = make_spaces(task)
            np.minimum.at(low, mixture._in[k], box.low)
            np.maximum.at(high, mixture._in[k], box.high)
        if mixture.rule_inputs:
            high[n_in - len(mixture):] = 1.0
        self.observation_space = spaces.Box(low, high, dtype=np.float32)
        self._schedule: list[int] = []
        self._task = -1
        self._episode_over = True

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if seed is not None or self._task < 0:          # a new seed, or the first reset: new streams
            seeds = self.np_random.integers(0, 2**63, size=len(self._envs))
            self._fresh = [int(s) for s in seeds]
            self._schedule = []
        self._n_trials = 0
        self._episode_over = False
        return self._start_trial(), {}

    def _start_trial(self) -> np.ndarray:
        """The first observation of the next scheduled trial."""
        if not self._schedule:
            self._schedule = self.mixture.schedule(self.block, self.np_random).tolist()[::-1]
        self._task = k = self._schedule.pop()
        env = self._envs[k]
        seed = self._fresh[k]
        self._fresh[k] = None
        obs, _ = env.reset(seed=seed) if seed is not None else env.reset()
        return self._observe(obs)

    def _observe(self, obs: np.ndarray) -> np.ndarray:
        full = np.zeros(len(self.mixture.input_names), np.float32)
        full[self.mixture._in[self._task]] = obs
        if self.mixture.rule_inputs:
            full[len(full) - len(self.mixture) + self._task] = 1.0
        return full

    def step(self, action):
        if self._episode_over:
            raise gym.error.ResetNeeded("call reset() before step() (the episode is over or has not begun)")
        k = self._task
        obs, reward, done, _, info = self._envs[k].step(action)
        out = self.mixture._out[k]
        for key in ("target", "mask"):
            full = np.zeros(len(self.mixture.output_names), np.float32)
            full[out] = info[key]
            info[key] = full
        info["task"] = self.mixture.ids[k]
        terminated = False
        if done:
            self._n_trials += 1
            if self.trials_per_episode is not None and self._n_trials >= self.trials_per_episode:
                terminated = self._episode_over = True
                obs = self._observe(obs)
            else:
                obs = self._start_trial()
        else:
            obs = self._observe(obs)
        return obs, float(reward), terminated, False, info

def _proportions(proportions: Sequence[float] | None, n: int) -> np.ndarray:
    if proportions is None:
        return np.full(n, 1.0 / n)
    try:
        p = np.asarray(proportions, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise ValueError(f"proportions must be a list of numbers, got {proportions!r}") from None
    if p.shape != (n,):
        raise ValueError(f"proportions must give one number per task ({n}), got {len(p)}")
    if not np.all(np.isfinite(p)) or np.any(p < 0) or p.sum() <= 0:
        raise ValueError(f"proportions must be finite, non-negative and not all 0, got {proportions!r}")
    return p / p.sum()


def _put(dest: np.ndarray, rows: np.ndarray, columns: np.ndarray, src: np.ndarray) -> None:
    """dest[rows, :T, columns] = src (B_k, T, C_k): a slice when the columns are consecutive (every
    task of a family sharing its channels), else through a (B_k, T, C) staging array."""
    n_steps = src.shape[1]
    if len(columns) and np.array_equal(columns, np.arange(columns[0], columns[0] + len(columns))):
        dest[rows, :n_steps, columns[0]:columns[0] + len(columns)] = src
        return
    staged = np.zeros((len(rows), n_steps, dest.shape[2]), dest.dtype)
    staged[:, :, columns] = src
    dest[rows, :n_steps] = staged


def _union(groups) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for names in groups:
        for name in names:
            seen.setdefault(name, None)
    return tuple(seen)


def _merged_params(parts: Mapping[int, TrialBatch], rows: Mapping[int, np.ndarray], n: int) -> dict[str, np.ndarray]:
    """Every task's parameters on all ``n`` trials: NaN (floats), -1 (ints) or False where absent."""
    merged: dict[str, np.ndarray] = {}
    for k, b in parts.items():
        for name, value in b.params.items():
            if name not in merged:
                dtype = np.result_type(*(p.params[name].dtype for p in parts.values() if name in p.params))
                fill = np.nan if dtype.kind == "f" else (False if dtype.kind == "b" else -1)
                merged[name] = np.full(n, fill, dtype=dtype)
            merged[name][rows[k]] = value
    return merged


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)
