"""TaskVecEnv: stable-baselines3's ``VecEnv`` over the native ``TaskVectorEnv``.

SB3 cannot take a Gymnasium ``VectorEnv``; its own ``DummyVecEnv`` steps one ``gym.Env`` at a
time in Python and ``SubprocVecEnv`` pays a pipe round trip per step. This adapter lets SB3 step
every sub-environment with the vector env's array operations, and speaks SB3's contract exactly
as ``DummyVecEnv([gym.make(id) ...])`` seeded alike does (the tests check it step for step):

* ``reset()`` returns the observations only; seeds (``seed(s)``: sub-environment i gets ``s + i``)
  and options (``set_options``) are used at the next ``reset()`` only.
* ``step_async(actions)`` / ``step_wait()`` -> ``(obs, rewards, dones, infos)``, ``rewards``
  float32, ``dones = terminated | truncated``.
* Auto-reset in the same step: where an episode ends, ``obs`` is the first observation of the next
  episode and ``infos[i]["terminal_observation"]`` the last one of the episode that ended;
  ``infos[i]["TimeLimit.truncated"]`` says whether it was cut by ``max_episode_steps`` rather
  than terminated. (The vector env itself resets at the next step, Gymnasium's default
  ``NEXT_STEP`` mode; the adapter does that reset at once, see ``finish_episodes``.)
* ``infos``: a list of one dict per sub-environment, built cheaply with only what SB3 reads: empty
  while an episode runs; at its end ``terminal_observation``, ``TimeLimit.truncated`` and, when the
  episode ended with a trial, ``is_success`` (the logger's success rate). Episode returns and
  lengths are VecMonitor's to add (``make_vec_env`` wraps the adapter in one).

The sub-environments are rows of one vector env, not objects: ``get_attr`` returns the vector
env's attribute for every index (``observation_space`` and ``action_space`` as one
sub-environment's), ``set_attr`` and ``env_method`` act on the vector env once and need every
index, and no sub-environment is wrapped (``env_is_wrapped`` is False).

Imports stable-baselines3, so it lives in ``agents``, never in ``neurotasks``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.vec_env import VecEnv, VecMonitor
from stable_baselines3.common.vec_env.base_vec_env import VecEnvIndices, VecEnvStepReturn

from neurotasks.task import Task
from neurotasks.vector_env import TaskVectorEnv

#: SB3 asks a VecEnv's sub-environments for these; a vector env's own are batched.
_SINGLE_SPACES = {"observation_space": "single_observation_space", "action_space": "single_action_space"}


class TaskVecEnv(VecEnv):
    """An SB3 ``VecEnv`` of ``n_envs`` environments of ``task``, stepped by one ``TaskVectorEnv``.

    Args:
        task: a task id, a Task, or a ready ``TaskVectorEnv`` (unwrapped; then ``n_envs`` must be
            None or its ``num_envs`` and no other arguments are allowed).
        n_envs: the number of environments (default 1).
        **env_kwargs: arguments of ``TaskVectorEnv`` (``trials_per_episode``, ``rewards``,
            ``max_episode_steps``, ``render_mode``, task arguments such as ``dt``).
    """

    def __init__(self, task: str | Task | TaskVectorEnv = "PerceptualDecision-v0", n_envs: int | None = None,
                 **env_kwargs: Any) -> None:
        if isinstance(task, TaskVectorEnv):
            if env_kwargs:
                raise TypeError(f"environment arguments {sorted(env_kwargs)} given with a ready TaskVectorEnv; "
                                "set them when making it")
            if n_envs is not None and n_envs != task.num_envs:
                raise ValueError(f"n_envs={n_envs!r} does not match the TaskVectorEnv's num_envs={task.num_envs}")
            vector_env = task
        elif isinstance(task, gym.vector.VectorEnv):
            raise TypeError(f"task must be a task id, a Task or an unwrapped TaskVectorEnv, got {task!r}")
        else:
            vector_env = TaskVectorEnv(1 if n_envs is None else n_envs, task, **env_kwargs)
        self.vector_env = vector_env                # before VecEnv.__init__, which reads render_mode through it
        super().__init__(vector_env.num_envs, vector_env.single_observation_space,
                         vector_env.single_action_space)
        self._actions: np.ndarray | None = None

    # ------------------------------------------------------------------ stepping
    def reset(self) -> np.ndarray:
        seeds = self._seeds
        seed = None if all(s is None for s in seeds) else list(seeds)
        options = self._options
        if any(o != options[0] for o in options):
            raise ValueError("TaskVecEnv resets every sub-environment with the same options; set_options "
                             "got different options for different sub-environments")
        obs, _ = self.vector_env.reset(seed=seed, options=options[0] or None)
        self._reset_seeds()
        self._reset_options()
        self.reset_infos = [{} for _ in range(self.num_envs)]
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self) -> VecEnvStepReturn:
        if self._actions is None:
            raise RuntimeError("step_wait() called without a step_async(actions) before it")
        actions, self._actions = self._actions, None
        obs, reward, terminated, truncated, info = self.vector_env.step(actions)
        dones = terminated | truncated
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        ended = dones.nonzero()[0]
        if ended.size:
            obs = self.finish_episodes(obs, ended, terminated, truncated, info, infos)
        return obs, reward.astype(np.float32), dones, infos

    def finish_episodes(self, obs: np.ndarray, ended: np.ndarray, terminated: np.ndarray, truncated: np.ndarray,
                        info: dict[str, Any], infos: list[dict[str, Any]]) -> np.ndarray:
        """Fill the ``infos`` of the sub-environments whose episode just ended (indices ``ended``),
        reset them now, and return the observations with theirs replaced by the next episode's first.

        The vector env would reset them at the next step (ignoring their actions then); this does
        exactly what that step does for them, now, as SB3 expects. It works on the vector env's
        state directly (``_start_trials`` and the autoreset flags), the one place the adapter does.
        """
        terminal = list(obs[ended])                           # views of a copy: the rows the episodes ended on
        cut = (truncated[ended] & ~terminated[ended]).tolist()
        for i, row, was_cut in zip(ended.tolist(), terminal, cut, strict=True):
            infos[i] = {"terminal_observation": row, "TimeLimit.truncated": was_cut}
        if "_is_success" in info:                             # a trial ended too (not a bare truncation)
            with_trial = info["_is_success"][ended]
            for i, success in zip(ended[with_trial].tolist(), info["is_success"][ended[with_trial]].tolist(),
                                  strict=True):
                infos[i]["is_success"] = bool(success)
        env = self.vector_env
        resetting = env._resetting                            # == ended: every sub-environment whose episode ended
        if env.trials_per_episode != 1:
            env._n_trials[resetting] = 0
        if env.max_episode_steps:
            env._episode_steps[resetting] = 0
        env._start_trials(resetting)
        env._autoreset[resetting] = False
        env._resetting = resetting[:0]
        env._any_autoreset = False
        return env._observe()

    def close(self) -> None:
        self.vector_env.close()

    # ------------------------------------------------------------------ sub-environments
    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        """The vector env's ``attr_name`` once per index (one sub-environment's space for
        ``observation_space`` and ``action_space``); AttributeError if it has none."""
        value = getattr(self.vector_env, _SINGLE_SPACES.get(attr_name, attr_name))
        return [value] * len(self._checked_indices(indices))

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        """Set ``attr_name`` of the vector env, for every sub-environment at once."""
        self._all_indices(indices, "set_attr")
        setattr(self.vector_env, attr_name, value)

    def env_method(self, method_name: str, *method_args: Any, indices: VecEnvIndices = None,
                   **method_kwargs: Any) -> list[Any]:
        """Call the vector env's ``method_name`` once, for every sub-environment at once; its
        result once per index."""
        n = len(self._all_indices(indices, "env_method"))
        return [getattr(self.vector_env, method_name)(*method_args, **method_kwargs)] * n

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        """False for every index: the sub-environments are rows of one vector env, never wrapped."""
        return [False] * len(self._checked_indices(indices))

    def get_images(self) -> Sequence[np.ndarray | None]:
        """The vector env's frames: sub-environment 0's (as Gymnasium's vector envs render)."""
        if self.render_mode != "rgb_array":
            raise ValueError(f"get_images needs render_mode='rgb_array', not {self.render_mode!r}")
        return list(self.vector_env.render())

    def _checked_indices(self, indices: VecEnvIndices) -> list[int]:
        chosen = list(self._get_indices(indices))
        bad = [i for i in chosen if not 0 <= i < self.num_envs]
        if bad:
            raise IndexError(f"indices {bad} out of range for {self.num_envs} environments")
        return chosen

    def _all_indices(self, indices: VecEnvIndices, what: str) -> list[int]:
        chosen = self._checked_indices(indices)
        if set(chosen) != set(range(self.num_envs)):
            raise ValueError(f"{what} acts on every sub-environment at once (they share one TaskVectorEnv); "
                             f"indices must be None or all of them, got {chosen}")
        return chosen


def make_vec_env(task: str | Task = "PerceptualDecision-v0", n_envs: int = 1, *, seed: int | None = None,
                 monitor: bool = True, **env_kwargs: Any) -> VecEnv:
    """``n_envs`` environments of ``task`` as one SB3 VecEnv over the native vector env, as SB3's
    ``make_vec_env`` makes them: seeded with ``seed + i`` at the first reset, and (``monitor``)
    wrapped in a ``VecMonitor`` that adds episode returns and lengths (SB3's logger reads
    ``is_success`` from the infos themselves)."""
    envs: VecEnv = TaskVecEnv(task, n_envs, **env_kwargs)
    if seed is not None:
        envs.seed(seed)
    if monitor:
        envs = VecMonitor(envs)
    return envs
