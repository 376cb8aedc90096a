"""Copies of an environment (``copy.deepcopy``, ``pickle``) continue step for step exactly as the
original: the same observations, rewards, terminations, truncations and infos, for every task,
for the single env and the native vector env, whenever the copy is made (before the first
reset, just after it, mid-trial, just after a refill of trials) and across several refills after it.

One trial per chunk (``trial_chunk=1``) makes a refill of every trial, so a short run crosses
several of them.
"""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

from neurotasks.env import TaskEnv
from neurotasks.vector_env import TaskVectorEnv
from tests.conftest import sample_actions
from tests.test_envs_generic import assert_same

COPIES: dict[str, Callable[[Any], Any]] = {"deepcopy": copy.deepcopy,
                                           "pickle": lambda env: pickle.loads(pickle.dumps(env))}
SEED = 3
#: Refills that a copy made just after a refill lives through (the run stops after them).
MIN_REFILLS_AFTER = 3
MAX_STEPS = 5000


def draw_state(env: Any) -> Any:
    """The state of every generator the environment draws trials from: it changes exactly when
    trials are drawn (a refill)."""
    base = env.unwrapped
    if isinstance(base, TaskVectorEnv):
        return [g.bit_generator.state for g in base._rngs]
    return base.np_random.bit_generator.state


class Runner:
    """Steps an env with a fixed action sequence, resetting a single env when its episode ends
    (a vector env autoresets), and records every output."""

    def __init__(self, env: Any, actions: np.ndarray) -> None:
        self.env, self.actions = env, actions
        self.vector = isinstance(env.unwrapped, TaskVectorEnv)

    def step(self, i: int) -> tuple:
        if self.vector:
            return self.env.step(self.actions[i])
        action = self.actions[i]
        out = self.env.step(int(action) if isinstance(self.env.action_space, gym.spaces.Discrete) else action)
        if out[2] or out[3]:
            return (*out, self.env.reset())
        return out


def make(kind: str, task_id: str) -> tuple[Any, np.ndarray]:
    """An env of ``kind`` and the actions to step it with."""
    rng = np.random.default_rng(11)
    if kind == "single":
        env = gym.make(task_id, trials_per_episode=3, trial_chunk=1)
        return env, sample_actions(env.action_space, MAX_STEPS, rng, respond_prob=0.03)
    env = TaskVectorEnv(3, task_id, trials_per_episode=2, trial_chunk=1, max_episode_steps=150)
    actions = np.stack([sample_actions(env.single_action_space, 3, rng, respond_prob=0.03) for _ in range(MAX_STEPS)])
    return env, actions


def same(a: Any, b: Any, where: str, b_pickled: bytes | None = None) -> None:
    """``assert_same(a, b)``, skipped when their pickles are equal (fast, and equal pickles mean
    equal values; unequal ones can still hold equal values, shared differently)."""
    if pickle.dumps(a) != (pickle.dumps(b) if b_pickled is None else b_pickled):
        assert_same(a, b, where)


@pytest.mark.parametrize("kind", ["single", "vector"])
def test_copies_continue_as_the_original(task_id, kind):
    env, actions = make(kind, task_id)
    fresh = {name: fn(env) for name, fn in COPIES.items()}        # before the first reset
    start = env.reset(seed=SEED)
    for name, clone in fresh.items():
        same(clone.reset(seed=SEED), start, f"fresh {name} copy, reset")

    runner = Runner(env, actions)
    copies: list[tuple[str, int, Any]] = [(f"fresh {name}", 0, clone) for name, clone in fresh.items()]
    # Where copies are made, and how (both ways where it matters most: before the first reset
    # and just after a refill; one way each at the other points, to keep the test short).
    taken = {"after reset": (0, ["deepcopy"]), "mid-trial": (5, ["pickle"])}
    outputs, refills_after = [], 0
    for i in range(MAX_STEPS):
        for label, (at, names) in taken.items():
            if at == i:
                copies += [(f"{label} {name}", i, COPIES[name](env)) for name in names]
        before = draw_state(env)
        outputs.append(runner.step(i))
        if draw_state(env) != before:                               # step i drew trials
            if "after a refill" not in taken and i >= 5:
                taken["after a refill"] = (i + 1, list(COPIES))
            elif "after a refill" in taken:
                refills_after += 1
                if refills_after == MIN_REFILLS_AFTER:
                    break
    assert refills_after == MIN_REFILLS_AFTER, f"fewer than {MIN_REFILLS_AFTER} refills after the copy"
    pickled = [pickle.dumps(out) for out in outputs]
    for label, at, clone in copies:
        replay = Runner(clone, actions)
        for i in range(at, len(outputs)):
            same(replay.step(i), outputs[i], f"{label} copy, step {i}", pickled[i])


@pytest.mark.parametrize("name", list(COPIES))
def test_vector_env_copy_is_independent_of_the_original(name):
    """A copy owns its arrays: stepping the copy (past refills) leaves the original's next steps
    unchanged, and the copy's flat views point into the copy's own buffers."""
    env = TaskVectorEnv(4, "PerceptualDecision-v0", trial_chunk=2)
    env.reset(seed=0)
    zeros = np.zeros(4, np.int64)
    for _ in range(50):
        env.step(zeros)
    clone = COPIES[name](env)
    assert np.shares_memory(clone._flat, clone._stream) and not np.shares_memory(clone._flat, env._stream)
    for key, table in clone._tables.items():
        assert np.shares_memory(clone._flat_tables[key], table), key
    twin = copy.deepcopy(env)
    for _ in range(300):
        clone.step(zeros)
    for _ in range(300):
        assert_same(env.step(zeros), twin.step(zeros))


def test_single_env_copy_rebuilds_its_trial_views():
    """The rows a copy of ``TaskEnv`` steps through are views into its own chunk of trials."""
    env = TaskEnv("PerceptualDecision-v0")
    env.reset(seed=0)
    env.step(0)
    clone = pickle.loads(pickle.dumps(env))
    assert all(np.shares_memory(row, clone._chunk[0]) for row in clone._obs_rows)
    assert not any(np.shares_memory(row, env._chunk[0]) for row in clone._obs_rows)
