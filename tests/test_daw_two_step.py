"""DawTwoStep-v0: Daw et al. (2011)'s 0.7 / 0.3 transitions and reward probabilities drifting as Gaussian
walks (sd 0.025) reflected at 0.25 and 0.75; the stage-2 state follows the agent's own first choice."""

from __future__ import annotations

import numpy as np
import pytest

import neurotasks
from neurotasks.env import TaskEnv
from neurotasks.tasks.daw_two_step import COMMON_PROB, DRIFT_SD, OPTIONS, REWARD_BOUNDS, reflect

ID = "DawTwoStep-v0"


def probabilities(params) -> np.ndarray:
    return np.stack([np.asarray(params[f"p_{o}"]) for o in OPTIONS], axis=-1)


def test_the_papers_numbers():
    assert (COMMON_PROB, DRIFT_SD, REWARD_BOUNDS) == (0.7, 0.025, (0.25, 0.75))
    task = neurotasks.make_task(ID)
    batch = task.trials(20_000, rng=0)
    assert batch.params["common"].mean() == pytest.approx(0.7, abs=0.01)
    p = probabilities(batch.params)
    assert p.min() >= 0.25 and p.max() <= 0.75
    inside = (p[:-1] > 0.3) & (p[:-1] < 0.7)                      # far from the bounds: the walk's own steps
    assert np.diff(p, axis=0)[inside].std() == pytest.approx(0.025, rel=0.03)
    drifts = np.stack([batch.params[f"drift_{o}"] for o in OPTIONS], axis=-1)
    assert drifts.std() == pytest.approx(0.025, rel=0.02)
    assert np.all(np.abs(np.diff(p, axis=0)) <= np.abs(drifts[:-1]) + 1e-12)   # reflection never jumps
    # the walk visits the whole range (a stream of 20,000 trials)
    assert np.all(p.min(axis=0) < 0.27) and np.all(p.max(axis=0) > 0.73)


def test_reflection_folds_into_the_bounds():
    np.testing.assert_allclose(reflect(np.array([0.5, 0.8, 0.2, 1.3, -0.3, 0.75, 0.25]), 0.25, 0.75),
                               [0.5, 0.7, 0.3, 0.3, 0.7, 0.75, 0.25])


def test_the_batch_follows_the_ideal_model_based_choice():
    task = neurotasks.make_task(ID)
    batch = task.trials(3000, rng=1)
    p = probabilities(batch.params)
    value_1 = 0.7 * p[:, :2].max(1) + 0.3 * p[:, 2:].max(1)      # option 1 commonly leads to B
    value_2 = 0.7 * p[:, 2:].max(1) + 0.3 * p[:, :2].max(1)
    first = (value_2 > value_1).astype(int)
    np.testing.assert_array_equal(batch.params["ground_truth"], first)
    common = batch.params["common"]
    state = np.where(common, first, 1 - first)                   # 0: B, 1: C
    np.testing.assert_array_equal(batch.inputs[:, 0], np.tile([1.0, 0.0, 0.0], (3000, 1)))
    np.testing.assert_array_equal(batch.inputs[:, 1, 1:], np.stack([state == 0, state == 1], axis=1))
    second = np.where(state == 0, p[:, 1] > p[:, 0], p[:, 3] > p[:, 2]).astype(int)
    np.testing.assert_array_equal(batch.gt, np.stack([first + 1, second + 1], axis=1))
    evaluation = task.evaluate(batch, outputs=batch.targets)
    assert task.score(batch, evaluation)["percent_correct"] == 100.0
    np.testing.assert_array_equal(evaluation["state"], state)


@pytest.mark.parametrize("first", [1, 2])
def test_the_second_stage_shown_is_where_the_agents_choice_led(first):
    env = TaskEnv(ID, trials_per_episode=None)
    env.reset(seed=2)
    for _ in range(40):
        trial = env.trial["params"]
        obs, reward, _, _, info = env.step(first)
        assert reward == 0.0 and "choice" not in info
        state = (first - 1) if trial["common"] else 2 - first
        np.testing.assert_array_equal(obs, [0.0, state == 0, state == 1])
        _, reward, _, _, info = env.step(2)
        p = trial[f"p_{OPTIONS[2 * state + 1]}"]
        assert reward == float(trial["draw_paid"] < p) == info["rewarded"]
        assert (info["choice"], info["state"], info["choice_2"], info["common"]) == (first - 1, state, 1,
                                                                                      float(trial["common"]))


def test_choosing_nothing_aborts():
    env = TaskEnv(ID)
    env.reset(seed=3)
    _, reward, terminated, _, info = env.step(0)
    assert terminated and reward == -0.1 and info["aborted"] and info["choice"] == -1 and info["state"] == -1
    env.reset()
    env.step(1)
    _, reward, terminated, _, info = env.step(0)
    assert terminated and reward == -0.1 and info["aborted"] and info["choice"] == 0 and info["choice_2"] == -1


def test_the_env_carries_the_walk_across_chunks_and_reseeding_restarts_it():
    env = TaskEnv(ID, trials_per_episode=None, trial_chunk=4)
    env.reset(seed=4)
    trials = []
    for _ in range(40):
        env.step(1)
        trials.append(env.step(1)[4]["trial"])
    p = probabilities({f"p_{o}": [t[f"p_{o}"] for t in trials] for o in OPTIONS})
    drifts = np.array([[t[f"drift_{o}"] for o in OPTIONS] for t in trials])
    assert np.all(np.abs(np.diff(p, axis=0)) <= np.abs(drifts[:-1]) + 1e-12)   # no restart at chunk ends
    env.reset(seed=4)
    env.step(1)
    assert env.step(1)[4]["trial"] == trials[0]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"common_prob": 0.3}, r"common_prob must be in \[0.5, 1\]"),
    ({"drift_sd": -0.1}, "drift_sd must be >= 0"),
    ({"reward_bounds": (0.8, 0.2)}, "reward_bounds must be probabilities with low < high"),
    ({"reward_bounds": 0.5}, r"reward_bounds must be \(low, high\)"),
    ({"reward_bounds": (0.1, 0.2, 0.3)}, r"reward_bounds must be \(low, high\)"),
])
def test_bad_arguments_are_refused_by_name(kwargs, message):
    with pytest.raises(ValueError, match=message):
        neurotasks.make_task(ID, **kwargs)
