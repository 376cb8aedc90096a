"""Reaching1DWithSelfDistraction-v0: NeuroGym's numbers (32 ring units, target gain 0.3 under the cursor's 1,
steps of 0.05 rad from pi, reward max(1 - distance, -0.1)) and the closed loop: what the agent sees follows
its own cursor."""

from __future__ import annotations

import numpy as np
import pytest

import neurotasks
from neurotasks.env import TaskEnv
from neurotasks.tasks.reaching_self_distraction import N_RING, START, STEP, TARGET_GAIN, circular_distance

ID = "Reaching1DWithSelfDistraction-v0"
THETA = np.arange(32) * (2 * np.pi / 32)


def seen(target: float, cursor: float, reaching: bool) -> np.ndarray:
    return (reaching * 0.3 * np.cos(THETA - target) + np.cos(THETA - cursor)).astype(np.float32)


def test_neurogyms_numbers_and_the_batch_of_an_unmoved_cursor():
    assert (N_RING, START, STEP, TARGET_GAIN) == (32, np.pi, 0.05, 0.3)
    task = neurotasks.make_task(ID)
    batch = task.trials(500, rng=0)
    assert batch.n_steps == 10 and np.all(batch.periods["reach"] == [5, 10])
    target = batch.params["target"]
    assert target.min() >= 0 and target.max() < 2 * np.pi
    np.testing.assert_allclose(batch.inputs[7, 2], seen(target[7], np.pi, False), atol=1e-6)
    np.testing.assert_allclose(batch.inputs[7, 6], seen(target[7], np.pi, True), atol=1e-6)
    assert np.all(batch.mask == 0) and np.all(batch.gt == 0)
    np.testing.assert_array_equal(batch.params["ground_truth"], np.where(target > np.pi, 0, 1))


def test_the_observation_follows_the_agents_cursor_and_the_reward_its_distance():
    env = TaskEnv(ID)
    obs, _ = env.reset(seed=1)
    target = env.trial["params"]["target"]
    np.testing.assert_array_equal(obs, env.trial["inputs"][0])
    cursor = np.pi
    for t, action in enumerate([1, 1, 2, 0, 1, 1, 1, 2, 1]):
        cursor += {0: 0.0, 1: STEP, 2: -STEP}[action]
        obs, reward, terminated, _, _ = env.step(action)
        np.testing.assert_allclose(obs, seen(target, cursor, t + 1 >= 5), atol=1e-5)
        expected = max(1.0 - circular_distance(cursor - target), -0.1) if t >= 5 else 0.0
        assert reward == pytest.approx(expected) and not terminated
    _, _, terminated, _, info = env.step(1)
    cursor += STEP
    assert terminated and info["error"] == pytest.approx(circular_distance(cursor - target))
    assert info["correct"] == float(info["error"] <= 0.25)


def test_reaching_the_target_is_paid_and_scored():
    env = TaskEnv(ID)
    env.reset(seed=2)
    while abs(env.trial["params"]["target"] - (np.pi + 0.25)) > 0.1:    # a target the cursor can reach
        for _ in range(10):
            env.step(0)
        env.reset()
    total, terminated = 0.0, False
    while not terminated:
        _, reward, terminated, _, info = env.step(1)
        total += reward
    assert info["correct"] == 1.0 and info["is_success"] and info["performance"] > 0.9 and total > 4.0


def test_outputs_are_refused_and_actions_replay():
    task = neurotasks.make_task(ID)
    batch = task.trials(8, rng=3)
    with pytest.raises(ValueError, match="no supervised target"):
        task.evaluate(batch, outputs=batch.targets)
    replay = task.evaluate(batch, actions=np.ones((8, 10), dtype=np.int64))
    end = np.mod(np.pi + 10 * STEP, 2 * np.pi)
    np.testing.assert_allclose(replay["error"], circular_distance(end - batch.params["target"]))


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"step": 0.0}, r"step must be in \(0, pi\]"),
    ({"success_error": -1.0}, r"success_error must be in \[0, pi\]"),
    ({"reach": 0.0}, "reach must be a positive duration"),
])
def test_bad_arguments_are_refused_by_name(kwargs, message):
    with pytest.raises(ValueError, match=message):
        neurotasks.make_task(ID, **kwargs)
