"""TaskEnv: any Task as a Gymnasium environment, one step at a time.

The environment draws trials from its own ``np_random`` in chunks of ``trial_chunk`` (one
``task.trials`` call each, so resets cost almost nothing) and steps through them row by row.
Rewards and outcomes come from the task's response rule, the same vectorised code the native
vector environment and ``task.evaluate(actions=...)`` run, so all three always agree.

A copy (``copy.deepcopy``, ``pickle``) continues exactly as the original: the per-trial views
into the environment's chunk of trials are not copied but made again from the copied chunk.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from neurotasks.registry import make_task
from neurotasks.rendering import render_ansi, render_rgb
from neurotasks.rules import reward_table
from neurotasks.task import Task

RENDER_MODES = ("rgb_array", "ansi")


def make_spaces(task: Task) -> tuple[spaces.Box, spaces.Space]:
    """Observation and action spaces of one environment of ``task``."""
    low, high = task.observation_range
    observation = spaces.Box(low=np.float32(low), high=np.float32(high), shape=(len(task.input_names),),
                             dtype=np.float32)
    if task.rule.action_kind == "discrete":
        action: spaces.Space = spaces.Discrete(len(task.action_names))
    else:
        lo, hi = task.output_range
        action = spaces.Box(low=np.float32(lo), high=np.float32(hi), shape=(len(task.output_names),),
                            dtype=np.float32)
    return observation, action


def resolve_task(task: str | Task, task_kwargs: dict[str, Any]) -> Task:
    """A task id (made with ``task_kwargs``) or a ready Task (then no kwargs are allowed)."""
    if isinstance(task, Task):
        if task_kwargs:
            raise TypeError(f"task arguments {sorted(task_kwargs)} given with a ready Task instance; "
                            "pass a task id instead, or set them when making the Task")
        return task
    return make_task(task, **task_kwargs)


#: Steps of trials an environment keeps drawn ahead (sets the default ``trial_chunk``).
CHUNK_STEPS = 2048


def default_trial_chunk(task: Task) -> int:
    """Trials per ``task.trials`` call: about CHUNK_STEPS steps' worth, between 4 and 64.

    Derived from the task alone (a fixed-seed probe of its trial lengths), so a single env and
    every sub-environment of a vector env of the same task draw identical chunks.
    """
    mean_steps = float(task.trials(32, 0).lengths.mean())
    return int(np.clip(CHUNK_STEPS // max(mean_steps, 1.0), 4, 64))


def check_env_options(task: Task, trials_per_episode: int | None, rewards: Mapping[str, float] | None,
                      render_mode: str | None, trial_chunk: int) -> dict[str, float]:
    """Validate the environment's own arguments; returns the full rewards table."""
    if trials_per_episode is not None and (
            isinstance(trials_per_episode, bool) or not isinstance(trials_per_episode, (int, np.integer))
            or trials_per_episode < 1):
        raise ValueError(f"trials_per_episode must be a positive int or None, got {trials_per_episode!r}")
    if render_mode is not None and render_mode not in RENDER_MODES:
        raise ValueError(f"render_mode must be one of {(None, *RENDER_MODES)}, got {render_mode!r}")
    if isinstance(trial_chunk, bool) or not isinstance(trial_chunk, (int, np.integer)) or trial_chunk < 1:
        raise ValueError(f"trial_chunk must be a positive int, got {trial_chunk!r}")
    return reward_table(task.rule.default_rewards, rewards)


#: Seeds are ints in [0, SEED_LIMIT): NumPy's SeedSequence mixes a seed into a pool of 128 bits,
#: so a larger seed cannot make a generator that a smaller one does not.
SEED_LIMIT = 2**128


def check_seed(seed: Any, name: str = "seed") -> int | None:
    """``seed`` (a Python or NumPy int in [0, 2**128), or None) as a Python int (or None).

    Gymnasium's own rule (a non-negative Python int), widened to NumPy integers and narrowed to
    what a generator can use: bools, negatives, seeds of 2**128 or more and non-integers are
    refused, naming ``name``.
    """
    if seed is None:
        return None
    if isinstance(seed, np.ndarray) and seed.ndim == 0:
        seed = seed[()]                              # a 0-d array: its scalar
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"{name} must be an int (Python or NumPy) or None, got {type(seed).__name__} {seed!r}")
    value = int(seed)
    if not 0 <= value < SEED_LIMIT:
        raise ValueError(f"{name} must be in [0, 2**128), got {value}")
    return value


def check_action(space: spaces.Space, action: Any) -> Any:
    """``action`` as an int (Discrete) or a float32 array (Box); ValueError if it is not in ``space``
    (a bool, or an array of them, is not an action: ``True`` would otherwise pass for 1)."""
    raw = None
    if isinstance(space, spaces.Discrete):
        try:
            # int, numpy integer, 0-d integer array (numpy bools and bool arrays raise TypeError)
            index = None if isinstance(action, bool) else operator.index(action)
        except TypeError:
            index = None
        if index is not None and 0 <= index < space.n:
            return index
    else:
        try:
            raw = np.asarray(action)
        except (TypeError, ValueError):             # ragged nested sequences, objects refusing conversion
            pass
        # Numbers only: bools, strings, objects and complex numbers are refused, not converted.
        array = raw.astype(space.dtype, copy=False) if raw is not None and raw.dtype.kind in "iuf" else None
        # Within the (finite) bounds: NaN and infinities fail the comparisons. One expression
        # instead of Box.contains, which costs as much as the rest of a step.
        if array is not None and array.shape == space.shape \
                and bool(((array >= space.low) & (array <= space.high)).all()):
            return array
    if isinstance(action, (bool, np.bool_)) or getattr(action, "dtype", None) == np.bool_ or (
            raw is not None and raw.dtype == np.bool_):
        raise ValueError(f"action {action!r} is a bool, not an action of {space} (use ints or floats)")
    raise ValueError(f"action {action!r} is outside the action space {space}")


def tabulate_outcomes(rule, batch, rewards: Mapping[str, float], n_actions: int) -> dict[str, np.ndarray]:
    """Every outcome of a stateless discrete rule for every (trial, step, action): arrays (B, T, A).

    One vectorised call of the rule's own ``step`` replaces a call per environment step, so a
    single environment steps by table look-up yet obeys exactly the rule the vector env runs.
    """
    n, n_steps = len(batch), batch.n_steps
    shape = (n, n_steps, n_actions)
    table = {key: np.broadcast_to(value[:, None, None], shape).ravel()
             for key, value in rule.trial_table(batch).items()}
    t = np.broadcast_to(np.arange(n_steps)[None, :, None], shape).ravel()
    action = np.broadcast_to(np.arange(n_actions)[None, None, :], shape).ravel()
    # A stateless rule reads neither targets nor mask (its outcome is a function of trial, t, action).
    res = rule.step(table, rule.new_accumulator(t.size), t, action, None, None, rewards, batch.dt)
    return {key: np.asarray(value).reshape(shape) for key, value in res.items()}


class TaskEnv(gym.Env):
    """A neurotasks Task as a ``gymnasium.Env``.

    Args:
        task: a task id (``"PerceptualDecision-v0"``) or a Task instance.
        trials_per_episode: trials per episode (default 1); ``None`` runs an endless stream
            (use ``max_episode_steps`` in ``gym.make`` to truncate it).
        rewards: overrides of the task's reward table, e.g. ``{"abort": -1.0}``.
        render_mode: None, ``"rgb_array"`` (a raster of the current trial) or ``"ansi"``.
        trial_chunk: trials drawn per ``task.trials`` call (the env's trials are the rows of
            ``task.trials(trial_chunk, env.np_random)``, then of the next call, and so on);
            default: about 2048 steps' worth (see ``default_trial_chunk``).
        **task_kwargs: arguments of the task (``dt``, ``coherences``...).

    Observation: ``Box(float32, (n_in,))``, the task's input channels. Action: ``Discrete(1 +
    n_choices)`` (0 = fixate) for decision tasks, ``Box(float32, (n_out,))`` for continuous ones.
    ``info`` each step: ``target``, ``gt``, ``mask`` and ``period`` of the step just acted on;
    at a trial's end also ``trial`` (its parameters), the outcome (``choice``, ``correct``,
    ``rt``...) and ``is_success``.
    """

    metadata = {"render_modes": list(RENDER_MODES), "render_fps": 50}

    def __init__(self, task: str | Task = "PerceptualDecision-v0", *, trials_per_episode: int | None = 1,
                 rewards: Mapping[str, float] | None = None, render_mode: str | None = None,
                 trial_chunk: int | None = None, **task_kwargs: Any) -> None:
        self.task = resolve_task(task, task_kwargs)
        if trial_chunk is None:
            trial_chunk = default_trial_chunk(self.task)
        self.rewards = check_env_options(self.task, trials_per_episode, rewards, render_mode, trial_chunk)
        self.trials_per_episode = trials_per_episode
        self.render_mode = render_mode
        self.trial_chunk = int(trial_chunk)
        self.observation_space, self.action_space = make_spaces(self.task)
        self._rule = self.task.rule
        self._tabulate = self._rule.stateless and isinstance(self.action_space, spaces.Discrete) \
            and getattr(self._rule, "observe", None) is None       # observe reads the rule's state (_row, _acc)
        self._n_actions = self.action_space.n if isinstance(self.action_space, spaces.Discrete) else 0
        self._period_names = self.task.period_names
        # The two hooks of agent-dependent tasks (both None for every other task, whose steps
        # never look at them): a TrialStream task's ``chain``, which continues this env's stream
        # of trials from its ``_carry`` chunk after chunk (neurotasks/tasks/trial_stream.py),
        # and a rule's ``observe``, which rewrites an observation from the rule's state (the
        # second-stage state the first choice led to, a cursor the actions moved).
        self._chain = getattr(self.task, "chain", None)
        self._carry = None
        self._rewrite = getattr(self._rule, "observe", None)
        self._batch = None
        self._episode_over = True

    # ------------------------------------------------------------------ trials
    def _next_trial(self) -> None:
        """Move to the next trial of the chunk, drawing a new chunk when this one is used up."""
        if self._batch is None or self._k + 1 >= len(self._batch):
            batch = self._batch = self.task.trials(self.trial_chunk, self.np_random)
            if self._chain is not None:
                self._carry = self._chain(batch, self.task.new_carry(1) if self._carry is None else self._carry)
            self._table = self._rule.trial_table(batch)
            names = np.array([*self._period_names, None], dtype=object)
            self._period_of_step = names[batch.period_of_steps()]
            self._outcomes = tabulate_outcomes(self._rule, batch, self.rewards, self.action_space.n) \
                if self._tabulate else None
            # Private copies, so the rows handed out are fresh for the caller and never read back.
            self._chunk = (batch.inputs.copy(), batch.targets.copy(), batch.mask.copy())
            self._k = 0
        else:
            self._k += 1
        self._load_trial()
        self._acc = self._rule.new_accumulator(1)
        self._t = 0

    def _load_trial(self) -> None:
        """The current trial's per-step values, as lists of views into the chunk (made again in a copy)."""
        k = self._k
        length = self._length = int(self._batch.lengths[k])
        # Per-step values as Python lists, made once per trial so a step is a few look-ups.
        if self._tabulate:
            self._reward_at = self._outcomes["reward"][k, :length].tolist()   # [t][action] Python floats
            self._done_at = self._outcomes["done"][k, :length].tolist()
        else:
            self._row = {key: value[k:k + 1] for key, value in self._table.items()}
        inputs, targets, mask = self._chunk
        self._obs_rows = list(inputs[k, :length])
        self._target_rows = list(targets[k, :length])
        self._mask_rows = list(mask[k, :length])
        self._gt_list = self._batch.gt[k, :length].tolist()
        self._period_list = self._period_of_step[k, :length].tolist()

    #: What ``_load_trial`` makes from the chunk: left out of a copy's state and made again.
    _PER_TRIAL = ("_reward_at", "_done_at", "_row", "_obs_rows", "_target_rows", "_mask_rows", "_gt_list",
                  "_period_list")

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for key in self._PER_TRIAL:
            state.pop(key, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if self._batch is not None:
            self._load_trial()

    @property
    def trial(self) -> dict[str, Any]:
        """The current trial: unpadded arrays, periods and parameters."""
        if self._batch is None:
            raise gym.error.ResetNeeded("call reset() first")
        return self._batch.trial(self._k)

    # ------------------------------------------------------------------ gymnasium API
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        seed = check_seed(seed)
        super().reset(seed=seed)
        if seed is not None:
            self._batch = None  # a new seed starts a new stream of trials
            self._carry = None
        self._n_trials = 0
        self._episode_over = False
        self._next_trial()
        return self._observation(0), {}

    def _observation(self, t: int) -> np.ndarray:
        """Step ``t``'s observation of the current trial (rewritten by the rule's ``observe`` hook, if any)."""
        if self._rewrite is None:
            return self._obs_rows[t]
        return self._rewrite(self._row, self._acc, np.array([t]), self._obs_rows[t][None].copy())[0]

    def step(self, action):
        if self._batch is None:
            raise gym.error.ResetNeeded("call reset() before step()")
        if self._episode_over:
            raise gym.error.ResetNeeded("the episode is over (terminated); call reset() before step() again")
        if not (type(action) is int and 0 <= action < self._n_actions):   # fast path for plain ints
            action = check_action(self.action_space, action)
        t = self._t
        if self._tabulate:
            reward, done = self._reward_at[t][action], self._done_at[t][action]
            res = None
        else:
            res = self._rule.step_one(self._row, self._acc, t, action, self._target_rows[t], self._mask_rows[t],
                                      self.rewards, self.task.dt)
            reward, done = res["reward"], res["done"]
        info: dict[str, Any] = {
            "target": self._target_rows[t],
            "gt": self._gt_list[t],
            "mask": self._mask_rows[t],
            "period": self._period_list[t],
        }
        terminated = False
        if done:
            info["trial"] = {key: value[self._k].item() for key, value in self._batch.params.items()}
            for key in self._rule.outcome_fields:
                info[key] = self._outcomes[key][self._k, t, action].item() if res is None else res[key]
            info["is_success"] = bool(self._outcomes["is_success"][self._k, t, action]) if res is None \
                else res["is_success"]
            self._n_trials += 1
            if self.trials_per_episode is not None and self._n_trials >= self.trials_per_episode:
                terminated = True
                self._episode_over = True
                obs = self._observation(min(t + 1, self._length - 1)).copy()   # may have been returned already
            else:
                self._next_trial()
                obs = self._observation(0)
        else:
            self._t = t + 1
            obs = self._obs_rows[t + 1] if self._rewrite is None else self._observation(t + 1)
        return obs, reward, terminated, False, info

    def render(self):
        if self.render_mode is None:
            return None
        if self._batch is None:
            raise gym.error.ResetNeeded("call reset() before render()")
        if self.render_mode == "ansi":
            return render_ansi(self.task, self._batch, self._k, self._t)
        return render_rgb(self.task, self._batch, self._k, self._t)
