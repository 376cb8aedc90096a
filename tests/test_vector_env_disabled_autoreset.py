"""TaskVectorEnv with ``autoreset_mode=AutoresetMode.DISABLED``: an ended episode is parked until reset.

Specification: a parked sub-environment ignores actions and reports nothing; ``reset()`` starts
every sub-environment's next episode, ``reset(options={"reset_mask": m})`` only those in ``m``;
the trials each one plays are its stream's in order (a single env reset after each episode),
with none drawn and thrown away.
"""

import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

from neurotasks.env import TaskEnv
from neurotasks.vector_env import TaskVectorEnv

TASK = "PerceptualDecision-v0"


def actions_for(rng, n, t, n_actions):
    return np.where((rng.random(n) < 0.1) & (t > 20), rng.integers(1, n_actions, n), 0)


def test_a_parked_sub_environment_reports_nothing_until_reset():
    env = TaskVectorEnv(2, TASK, autoreset_mode=AutoresetMode.DISABLED)
    env.reset(seed=0)
    obs, reward, terminated, _, _ = env.step(np.array([1, 0]))         # env 0 breaks fixation: its trial ends
    assert terminated.tolist() == [True, False]
    for _ in range(5):
        again, reward, terminated, truncated, info = env.step(np.array([1, 0]))
        assert reward[0] == 0.0 and not terminated[0] and not truncated[0]
        np.testing.assert_array_equal(again[0], obs[0])
        assert not info["_target"][0] and info["_target"][1]
    assert env.metadata["autoreset_mode"] is AutoresetMode.DISABLED
    assert TaskVectorEnv(2, TASK).metadata["autoreset_mode"] is AutoresetMode.NEXT_STEP


@pytest.mark.parametrize("task_id", [TASK, "ReadySetGo-v0", "FlipFlop-v0"])
def test_each_sub_environment_plays_its_stream_in_order(task_id):
    n, rng = 3, np.random.default_rng(0)
    env = TaskVectorEnv(n, task_id, autoreset_mode="Disabled")
    singles = [TaskEnv(task_id) for _ in range(n)]
    obs, _ = env.reset(seed=5)
    single_obs = [s.reset(seed=5 + i)[0] for i, s in enumerate(singles)]
    for _episode in range(4):
        np.testing.assert_array_equal(obs, np.stack(single_obs))
        alive, t = np.ones(n, bool), 0
        while alive.any():
            if env.single_action_space.shape:
                a = rng.uniform(-1, 1, (n, *env.single_action_space.shape)).astype(np.float32)
            else:
                a = actions_for(rng, n, t, env.single_action_space.n)
            obs, reward, terminated, truncated, _ = env.step(a)
            for i in np.flatnonzero(alive):
                o, r, term, trunc, _ = singles[i].step(a[i])
                np.testing.assert_array_equal(obs[i], o)
                assert reward[i] == pytest.approx(r) and terminated[i] == term and truncated[i] == trunc
            alive &= ~(terminated | truncated)
            t += 1
        obs, _ = env.reset()
        single_obs = [s.reset()[0] for s in singles]


def test_reset_mask_starts_only_the_masked_sub_environments():
    env = TaskVectorEnv(3, TASK, autoreset_mode=AutoresetMode.DISABLED)
    env.reset(seed=1)
    env.step(np.array([1, 1, 0]))                                      # envs 0 and 1 end
    obs, _ = env.reset(options={"reset_mask": np.array([True, False, False])})
    _, reward, terminated, _, info = env.step(np.array([1, 1, 1]))
    assert terminated.tolist() == [True, False, True]                  # env 1 is still parked
    reference = TaskEnv(TASK)
    reference.reset(seed=1)
    reference.step(1)
    np.testing.assert_array_equal(obs[0], reference.reset()[0])       # env 0: its stream's next trial


@pytest.mark.parametrize("options, error, message", [
    ({"reset_mask": np.array([True, False])}, ValueError, "array of 3 bools"),
    ({"reset_mask": [1, 0, 1]}, ValueError, "array of 3 bools"),
])
def test_reset_mask_errors(options, error, message):
    env = TaskVectorEnv(3, TASK, autoreset_mode=AutoresetMode.DISABLED)
    env.reset(seed=0)
    with pytest.raises(error, match=message):
        env.reset(options=options)


def test_reset_mask_needs_the_disabled_mode_a_first_reset_and_no_seed():
    mask = np.ones(2, bool)
    with pytest.raises(ValueError, match=r"needs autoreset_mode=AutoresetMode\.DISABLED"):
        TaskVectorEnv(2, TASK).reset(options={"reset_mask": mask})
    env = TaskVectorEnv(2, TASK, autoreset_mode=AutoresetMode.DISABLED)
    import gymnasium as gym

    with pytest.raises(gym.error.ResetNeeded):
        env.reset(options={"reset_mask": mask})
    env.reset(seed=0)
    with pytest.raises(ValueError, match="without seed or trial_streams"):
        env.reset(seed=1, options={"reset_mask": mask})


def test_an_unsupported_autoreset_mode_is_refused_by_name():
    with pytest.raises(ValueError, match="autoreset_mode must be one of"):
        TaskVectorEnv(2, TASK, autoreset_mode=AutoresetMode.SAME_STEP)
    with pytest.raises(ValueError, match="autoreset_mode must be one of"):
        TaskVectorEnv(2, TASK, autoreset_mode="sometimes")
