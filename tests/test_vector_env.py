"""The native vector environment: Gymnasium's autoreset semantics, seeding, truncation, errors."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

from neurotasks.vector_env import TaskVectorEnv
from neurotasks.work_arrays import WorkArrays
from tests.test_envs_generic import assert_same


def test_make_vec_picks_the_native_vector_env():
    env = gym.make_vec("PerceptualDecision-v0", num_envs=4)
    assert isinstance(env.unwrapped, TaskVectorEnv)
    assert env.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    obs, info = env.reset(seed=0)
    assert obs.shape == (4, 3) and obs.dtype == np.float32 and env.observation_space.contains(obs)


def test_next_step_autoreset():
    env = TaskVectorEnv(2, "PerceptualDecision-v0", catch_prob=0.0)
    env.reset(seed=0)
    actions = np.array([1, 0])           # env 0 breaks fixation at once
    _, reward, terminated, truncated, info = env.step(actions)
    assert reward[0] == -0.1 and terminated[0] and not terminated[1]
    assert info["_trial"].tolist() == [True, False] and info["aborted"][0]
    obs, reward, terminated, truncated, info = env.step(np.array([1, 0]))
    assert reward[0] == 0.0 and not terminated[0]         # the reset step ignores the action
    assert not info["_target"][0] and info["_target"][1]


def test_seed_lists_and_continuing_streams():
    a = TaskVectorEnv(3, "PerceptualDecision-v0")
    b = TaskVectorEnv(3, "PerceptualDecision-v0")
    assert_same(a.reset(seed=[5, 6, 7]), b.reset(seed=5))
    for _ in range(40):
        assert_same(a.step(np.zeros(3, np.int64)), b.step(np.zeros(3, np.int64)))
    assert_same(a.reset(), b.reset())          # no seed: both continue their streams
    with pytest.raises(ValueError, match="seed"):
        a.reset(seed=[1, 2])


def test_numpy_seeds_and_seed_arrays():
    reference = TaskVectorEnv(3, "PerceptualDecision-v0").reset(seed=5)
    for seed in (np.int64(5), np.uint16(5), np.array(5), np.arange(5, 8), [np.int64(5), 6, np.uint8(7)], (5, 6, 7)):
        assert_same(TaskVectorEnv(3, "PerceptualDecision-v0").reset(seed=seed), reference)
    env = TaskVectorEnv(3, "PerceptualDecision-v0")
    env.reset(seed=2**128 - 3)                   # the last sub-environment gets 2**128 - 1
    env.reset(seed=[None, 1, None])              # None: fresh entropy for that sub-environment


@pytest.mark.parametrize(("seed", "error", "match"), [
    (True, TypeError, "seed must be an int"), (np.True_, TypeError, "seed must be an int"),
    (2.0, TypeError, "seed must be an int"), ("123", TypeError, "seed must be an int"),
    ({1, 2, 3}, TypeError, "seed must be an int"), (-1, ValueError, r"seed must be in"),
    (2**128 - 2, ValueError, r"seed must be below 2\*\*128 - 2"), ([1, True, 2], TypeError, r"seed\[1\]"),
    ([1, 2, -3], ValueError, r"seed\[2\]"), ([1, 2, 2**128], ValueError, r"seed\[2\]"),
    ([1, 2, 3.0], TypeError, r"seed\[2\]"), ([1, 2], ValueError, "list of 3 seeds")])
def test_bad_seeds_are_refused(seed, error, match):
    env = TaskVectorEnv(3, "PerceptualDecision-v0")
    with pytest.raises(error, match=match):
        env.reset(seed=seed)


def test_bool_actions_are_refused():
    env = TaskVectorEnv(2, "PerceptualDecision-v0")
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"actions .*bools are not actions"):
        env.step(np.array([True, False]))
    box = TaskVectorEnv(2, "DelayedReach-v0")
    box.reset(seed=0)
    with pytest.raises(ValueError, match=r"actions .*bools are not actions"):
        box.step(np.zeros((2, *box.single_action_space.shape), bool))
    box.step(np.zeros((2, *box.single_action_space.shape), np.float32))


def test_truncation_by_max_episode_steps():
    env = gym.make_vec("PerceptualDecision-v0", num_envs=2, trials_per_episode=None, max_episode_steps=30)
    env.reset(seed=0)
    for _ in range(29):
        _, _, terminated, truncated, _ = env.step(np.zeros(2, np.int64))
        assert not terminated.any() and not truncated.any()
    _, _, terminated, truncated, _ = env.step(np.zeros(2, np.int64))
    assert truncated.all() and not terminated.any()


def test_errors():
    with pytest.raises(ValueError, match="num_envs"):
        TaskVectorEnv(0)
    with pytest.raises(ValueError, match="max_episode_steps"):
        TaskVectorEnv(2, max_episode_steps=0)
    env = TaskVectorEnv(2)
    with pytest.raises(gym.error.ResetNeeded):
        env.step(np.zeros(2, np.int64))
    env.reset(seed=0)
    with pytest.raises(ValueError, match="actions"):
        env.step(np.array([0, 3]))
    with pytest.raises(ValueError, match="actions"):
        env.step(np.zeros(3, np.int64))
    with pytest.raises(ValueError, match="actions"):
        env.step(np.zeros(2))                  # floats are not Discrete actions


def test_render_first_env():
    env = TaskVectorEnv(2, render_mode="rgb_array")
    env.reset(seed=0)
    (frame,) = env.render()
    single = gym.make("PerceptualDecision-v0", render_mode="rgb_array")
    single.reset(seed=0)
    np.testing.assert_array_equal(frame, single.render())


@pytest.mark.parametrize("task_id", ["PerceptualDecision-v0", "DelayedReach-v0", "FlipFlop-v0", "ReadySetGo-v0"])
@pytest.mark.parametrize("trial_chunk", [1, 3])
def test_top_ups_keep_every_stream_equal_to_its_single_env(task_id, trial_chunk):
    """Tiny chunks: rows are topped up in groups and compacted many times, and each sub-environment
    still steps through exactly the trials, noise and rewards of a single env seeded like it."""
    n = 5
    kwargs = {"trial_chunk": trial_chunk, "trials_per_episode": None, "max_episode_steps": 150}
    native = gym.make_vec(task_id, num_envs=n, vectorization_mode="vector_entry_point", **kwargs)
    sync = gym.make_vec(task_id, num_envs=n, vectorization_mode="sync", **kwargs)
    assert_same(native.reset(seed=3), sync.reset(seed=3))
    space = native.single_action_space
    rng = np.random.default_rng(0)
    for step in range(400):
        if isinstance(space, gym.spaces.Discrete):       # mostly fixate, so trials run their course
            action = np.where(rng.random(n) < 0.9, 0, rng.integers(0, space.n, n))
        else:
            action = rng.uniform(space.low, space.high, (n, *space.shape)).astype(space.dtype)
        assert_same(native.step(action), sync.step(action), f"step {step}")


def test_growing_the_stream_mid_run_changes_nothing():
    """Flat positions and trial bounds move with their rows when the stream grows."""
    kwargs = {"trials_per_episode": 2}
    native = gym.make_vec("PerceptualDecision-v0", num_envs=3, vectorization_mode="vector_entry_point", **kwargs)
    sync = gym.make_vec("PerceptualDecision-v0", num_envs=3, vectorization_mode="sync", **kwargs)
    assert_same(native.reset(seed=4), sync.reset(seed=4))
    rng = np.random.default_rng(2)
    for step in range(300):
        if step in (50, 51, 170):
            native.unwrapped._grow(native.unwrapped._capacity + 7 * step)
        action = np.where(rng.random(3) < 0.9, 0, rng.integers(0, 3, 3))
        assert_same(native.step(action), sync.step(action), f"step {step}")


@pytest.mark.parametrize("dtype", [np.int32, np.uint8, np.int64])
def test_any_integer_actions(dtype):
    env = TaskVectorEnv(2, "PerceptualDecision-v0")
    env.reset(seed=0)
    env.step(np.array([0, 2], dtype))
    if np.issubdtype(dtype, np.signedinteger):
        with pytest.raises(ValueError, match="actions"):
            env.step(np.array([0, -1], dtype))


def test_work_arrays_are_kept_grown_and_typed():
    work = WorkArrays()
    a = work("x", (10, 3))
    assert a.shape == (10, 3) and a.dtype == np.float32
    b = work("x", (4, 2))                               # smaller: a view of the same memory
    assert b.shape == (4, 2) and np.shares_memory(a, b)
    c = work("x", (11, 3))                              # larger: grown by at least a quarter
    assert c.shape == (11, 3) and not np.shares_memory(a, c)
    assert work("x", 37).base is c.base                 # 37 <= 1.25 * 30 elements: no new array
    d = work("x", 5, np.int64)                          # another dtype: a new array
    assert d.dtype == np.int64 and d.shape == (5,)
    np.testing.assert_array_equal(work.arange(6), np.arange(6))
    assert work.arange(3).base is work.arange(6).base


def test_refills_reuse_the_same_work_arrays():
    """Refill after refill builds its rows of steps in the same kept arrays (no fresh memory),
    once they have grown to the largest refill."""
    env = TaskVectorEnv(64, "PerceptualDecision-v0", trial_chunk=4)
    env.reset(seed=0)
    zeros = np.zeros(64, np.int64)
    for _ in range(500):                             # many refills: the arrays reach their size
        env.step(zeros)
    kept = {name: array.ctypes.data for name, array in env._work._arrays.items()}
    assert {"steps", "inputs", "taken", "gt", "normal_radius"} <= set(kept)
    draws = env._rngs[0].bit_generator.state
    for _ in range(300):
        env.step(zeros)
    assert env._rngs[0].bit_generator.state != draws    # there were refills
    assert {name: array.ctypes.data for name, array in env._work._arrays.items()} == kept
