"""A catch trial held to its end earns the ``catch`` reward, every other unanswered trial ``miss``.

Specification for every task whose rule has a ``catch`` reward: holding is a catch trial's success,
so it must be rewardable apart from missing a response (a reward-trained agent punished for
misses otherwise gets the same reward for holding and for breaking fixation on catch trials).
"""

import numpy as np
import pytest

import neurotasks
from neurotasks.env import TaskEnv
from neurotasks.registry import make_task

REWARDS = {"catch": 0.7, "miss": -0.3, "abort": -0.9}


def catchable():
    ids = []
    for task_id in neurotasks.list_tasks():
        task = make_task(task_id)
        if "catch" in task.rule.default_rewards and task.rule.action_kind == "discrete":
            ids.append(task_id)
    return ids


CATCHABLE = catchable()


def test_the_choice_and_timing_tasks_have_a_catch_reward():
    for task_id in ("PerceptualDecision-v0", "ContextDecision-v0", "ParametricWorkingMemory-v0", "ReadySetGo-v0",
                    "GoNogo-v0", "DualDelayMatchSample-v0", "EconomicDecision-v0", "Yang19Go-v0"):
        assert task_id in CATCHABLE
    assert TaskEnv("PerceptualDecision-v0").rewards["catch"] == 0.0


@pytest.mark.parametrize("task_id", CATCHABLE)
def test_holding_a_catch_trial_earns_catch_and_breaking_it_aborts(task_id):
    task = make_task(task_id, catch_prob=1.0)
    batch = task.trials(6, rng=0)
    assert batch.params["catch"].all()
    hold = np.zeros((6, batch.n_steps), np.int64)
    held = task.evaluate(batch, actions=hold, rewards=REWARDS)
    np.testing.assert_allclose(held["reward"], REWARDS["catch"])
    broke = hold.copy()
    broke[:, 0] = 1
    np.testing.assert_allclose(task.evaluate(batch, actions=broke, rewards=REWARDS)["reward"], REWARDS["abort"])


@pytest.mark.parametrize("task_id", ["PerceptualDecision-v0", "ReadySetGo-v0", "Yang19DlyGo-v0"])
def test_an_unanswered_ordinary_trial_still_earns_miss(task_id):
    task = make_task(task_id, catch_prob=0.0)
    batch = task.trials(4, rng=1)
    held = task.evaluate(batch, actions=np.zeros((4, batch.n_steps), np.int64), rewards=REWARDS)
    np.testing.assert_allclose(held["reward"], REWARDS["miss"])


def test_an_unknown_reward_key_is_refused_by_name():
    with pytest.raises(ValueError, match="unknown key 'catches'"):
        TaskEnv("PerceptualDecision-v0", rewards={"catches": 1.0})
