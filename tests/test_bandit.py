"""Bandit-v0: Wang et al. (2018)'s two-armed bandits (p_1 ~ U[0, 1], p_2 = 1 - p_1, kept for 100 trials),
NeuroGym's fixed arms, and the stream of blocks carried across chunks by the environments."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import neurotasks
from neurotasks.env import TaskEnv
from neurotasks.tasks.bandit import WANG_BLOCK_TRIALS

ID = "Bandit-v0"


def env_trials(env: TaskEnv, n: int, action: int = 1) -> list[dict]:
    """The info of ``n`` single-step trials pulled with ``action``."""
    out = []
    for _ in range(n):
        _, reward, _, _, info = env.step(action)
        out.append({**info, "reward": reward})
    return out


def test_wang_blocks_keep_dependent_probabilities_for_100_trials():
    assert WANG_BLOCK_TRIALS == 100
    task = neurotasks.make_task(ID)
    batch = task.trials(20_000, rng=0)
    p1, p2, k = batch.params["p_1"], batch.params["p_2"], batch.params["block_trial"]
    np.testing.assert_allclose(p1 + p2, 1.0)
    np.testing.assert_array_equal(k, np.arange(20_000) % 100)
    blocks = p1.reshape(200, 100)
    assert np.all(blocks == blocks[:, :1])                          # constant within a block
    assert len(np.unique(blocks[:, 0])) == 200                      # redrawn at every block
    firsts = np.sort(blocks[:, 0])                                  # U[0, 1]: Kolmogorov-Smirnov distance
    assert np.max(np.abs(firsts - (np.arange(200) + 0.5) / 200)) < 0.1
    paid = batch.params["paid_1"]
    for low, high in ((0.0, 0.3), (0.7, 1.0)):                      # Bernoulli(p): pays at rate p
        sel = (p1 >= low) & (p1 < high)
        assert paid[sel].mean() == pytest.approx(p1[sel].mean(), abs=0.03)
    np.testing.assert_array_equal(batch.params["ground_truth"], (p2 > p1).astype(int))
    np.testing.assert_array_equal(batch.gt[:, 0], np.where(p2 > p1, 2, 1))


def test_fixed_arms_are_neurogyms_bandit_with_the_best_arm_as_target():
    task = neurotasks.make_task(ID, n_arms=3, arm_probs=[0.2, 0.9, 0.5])
    batch = task.trials(5000, rng=1)
    np.testing.assert_array_equal(batch.params["p_2"], 0.9)
    assert batch.params["paid_2"].mean() == pytest.approx(0.9, abs=0.015)
    assert batch.params["paid_1"].mean() == pytest.approx(0.2, abs=0.015)
    np.testing.assert_array_equal(batch.targets[:, 0], np.tile([0.0, 1.0, 0.0], (5000, 1)))
    assert np.all(batch.gt == 2) and np.all(batch.mask == 1) and np.all(batch.inputs == 1)
    assert task.action_names == ("none", "arm_1", "arm_2", "arm_3") and batch.n_steps == 1
    evaluation = task.evaluate(batch, outputs=batch.targets)
    assert task.score(batch, evaluation)["percent_correct"] == 100.0
    np.testing.assert_array_equal(evaluation["rewarded"], batch.params["paid_2"])


def test_a_pull_pays_what_the_trial_drew_and_none_pays_nothing():
    env = TaskEnv(ID, trials_per_episode=None)
    env.reset(seed=3)
    for action in (1, 2, 0, 2, 1):
        trial = env.trial["params"]
        _, reward, terminated, _, info = env.step(action)
        paid = bool(trial[f"paid_{action}"]) if action else False
        assert reward == (1.0 if paid else 0.0) and not terminated
        assert info["choice"] == action - 1 and info["rewarded"] == float(paid)
        assert info["correct"] == float(action - 1 == trial["ground_truth"])


def test_the_env_carries_blocks_across_chunks_and_reseeding_restarts_them():
    env = TaskEnv(ID, trials_per_episode=None, trial_chunk=16)
    env.reset(seed=4)
    infos = env_trials(env, 250)
    p = np.array([i["trial"]["p_1"] for i in infos])
    k = np.array([i["trial"]["block_trial"] for i in infos])
    np.testing.assert_array_equal(k, np.arange(250) % 100)          # 16-trial chunks, 100-trial blocks
    for b in range(3):
        block = p[100 * b:100 * (b + 1)]
        assert np.all(block == block[0])
    assert p[99] != p[100] and p[199] != p[200]
    env.reset(seed=4)
    again = env_trials(env, 3)
    assert [i["trial"] for i in again] == [i["trial"] for i in infos[:3]]


def test_episodes_of_a_block_see_one_set_of_arms():
    env = gym.make(ID, trials_per_episode=100)
    env.reset(seed=5)
    seen = set()
    terminated = False
    while not terminated:
        _, _, terminated, _, info = env.step(1)
        seen.add(info["trial"]["p_1"])
    assert len(seen) == 1 and info["trial"]["block_trial"] == 99


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"n_arms": 1}, "n_arms must be an int in"),
    ({"n_arms": True}, "n_arms must be an int in"),
    ({"arm_probs": [0.5, 1.5]}, "arm_probs must be finite numbers in"),
    ({"arm_probs": [0.5, 0.5, 0.5]}, r"arm_probs must hold one probability per arm \(2\)"),
    ({"n_arms": 3}, r"dependent=True \(p_2 = 1 - p_1\) needs n_arms=2"),
    ({"block_trials": 0}, "block_trials must be a positive int"),
    ({"dependent": 1}, "dependent must be True or False"),
])
def test_bad_arguments_are_refused_by_name(kwargs, message):
    with pytest.raises(ValueError, match=message):
        neurotasks.make_task(ID, **kwargs)


def test_stream_values_cannot_be_forced():
    task = neurotasks.make_task(ID)
    with pytest.raises(ValueError, match="p_1 is derived by Bandit-v0"):
        task.trials(4, rng=0, p_1=0.5)
    batch = task.trials(4, rng=0, draw_paid_1=0.0, draw_p_1=0.25)
    assert np.all(batch.params["paid_1"] == (batch.params["p_1"] > 0)) and batch.params["p_1"][0] == 0.25
