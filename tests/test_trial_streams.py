"""TaskVectorEnv.trial_streams(): the streams' state as JSON, from which reset restarts them exactly."""

import json

import numpy as np
import pytest

from neurotasks.vector_env import TaskVectorEnv

TASKS = ["PerceptualDecision-v0", "ParametricWorkingMemory-v0", "ReadySetGo-v0", "FlipFlop-v0"]


def play(env, steps, rng):
    """``steps`` steps of random actions (fixating mostly): the observations and rewards."""
    seen = []
    for _ in range(steps):
        if env.single_action_space.shape:
            actions = rng.uniform(-1, 1, (env.num_envs, *env.single_action_space.shape)).astype(np.float32)
        else:
            actions = np.where(rng.random(env.num_envs) < 0.05, rng.integers(1, env.single_action_space.n,
                                                                              env.num_envs), 0)
        obs, reward, terminated, truncated, _ = env.step(actions)
        seen.append((obs.copy(), reward.copy(), terminated.copy(), truncated.copy()))
    return seen


def assert_same(a, b):
    for (o1, r1, t1, u1), (o2, r2, t2, u2) in zip(a, b, strict=True):
        np.testing.assert_array_equal(o1, o2)
        np.testing.assert_array_equal(r1, r2)
        np.testing.assert_array_equal(t1, t2)
        np.testing.assert_array_equal(u1, u2)


@pytest.mark.parametrize("task_id", TASKS)
@pytest.mark.parametrize("trial_chunk", [2, 5])
def test_a_restored_env_continues_as_the_original(task_id, trial_chunk):
    env = TaskVectorEnv(6, task_id, trial_chunk=trial_chunk)
    env.reset(seed=3)
    play(env, 150, np.random.default_rng(0))          # some trials in, chunks drawn and compacted
    state = json.loads(json.dumps(env.trial_streams()))    # through JSON, as a checkpoint keeps it
    obs, _ = env.reset()
    original = play(env, 300, np.random.default_rng(1))
    again = TaskVectorEnv(6, task_id, trial_chunk=trial_chunk)
    obs2, _ = again.reset(options={"trial_streams": state})
    np.testing.assert_array_equal(obs, obs2)
    assert_same(original, play(again, 300, np.random.default_rng(1)))


def test_a_fresh_env_state_restarts_its_first_trials():
    env = TaskVectorEnv(3, "PerceptualDecision-v0")
    env.reset(seed=0)
    state = env.trial_streams()
    assert [s["offset"] for s in state["streams"]] == [1, 1, 1]     # reset() would start each one's 2nd trial
    first = TaskVectorEnv(3, "PerceptualDecision-v0")
    first.reset(seed=0)
    first.step(np.ones(3, np.int64))                   # break fixation: every trial ends
    obs, _, _, _, _ = first.step(np.zeros(3, np.int64))     # autoreset: the 2nd trials' first step
    again = TaskVectorEnv(3, "PerceptualDecision-v0")
    np.testing.assert_array_equal(again.reset(options={"trial_streams": state})[0], obs)


@pytest.mark.parametrize("name", ["PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64"])
def test_every_numpy_bit_generator_state_goes_through_json(name):
    from neurotasks.trial_streams import generators_from, streams_state

    bit = getattr(np.random, name)(7)
    rng = np.random.Generator(bit)
    rng.random(3)
    state = json.loads(json.dumps(streams_state("X-v0", 4, [bit.state], [2])))
    (back,), offsets = generators_from(state, "X-v0", 1, 4)
    assert offsets.tolist() == [2]
    np.testing.assert_array_equal(back.random(5), rng.random(5))


def errors_env():
    env = TaskVectorEnv(2, "PerceptualDecision-v0", trial_chunk=4)
    env.reset(seed=0)
    return env, env.trial_streams()


@pytest.mark.parametrize("change, message", [
    (lambda s: s.update(version=9), "version 9"),
    (lambda s: s.update(task="Other-v0"), "not of 'PerceptualDecision-v0'"),
    (lambda s: s.update(trial_chunk=8), "trial_chunk=8"),
    (lambda s: s["streams"].pop(), "must hold 2 streams"),
    (lambda s: s["streams"][1].update(offset=4), r"\['offset'\] must be an int in \[0, 4\)"),
    (lambda s: s["streams"][0]["state"].update(bit_generator="Mersenne"), "bit generator 'Mersenne'"),
    (lambda s: s["streams"][0]["state"].update(state={"x": 1}), r"\[0\]\['state'\] is not a PCG64 state"),
])
def test_a_state_that_does_not_fit_is_refused_by_name(change, message):
    env, state = errors_env()
    change(state)
    with pytest.raises(ValueError, match=message):
        env.reset(options={"trial_streams": state})


def test_reset_option_errors():
    env, state = errors_env()
    with pytest.raises(ValueError, match="either seed or options"):
        env.reset(seed=1, options={"trial_streams": state})
    with pytest.raises(ValueError, match="unknown key"):
        env.reset(options={"streams": state})
    with pytest.raises(TypeError, match="options must be a dict"):
        env.reset(options=[1])
    with pytest.raises(TypeError, match="trial_streams\\(\\) returns"):
        env.reset(options={"trial_streams": [1]})


def test_trial_streams_needs_a_reset_first():
    import gymnasium as gym

    with pytest.raises(gym.error.ResetNeeded):
        TaskVectorEnv(2, "PerceptualDecision-v0").trial_streams()
