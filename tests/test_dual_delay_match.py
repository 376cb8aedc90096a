"""DualDelayMatchSample-v0: two items, retro-cues, two answers (Rose et al. 2016; NeuroGym's timing)."""

from __future__ import annotations

import numpy as np
import pytest

import neurotasks
from neurotasks.env import TaskEnv

ID = "DualDelayMatchSample-v0"


def quiet(**kwargs):
    return neurotasks.make_task(ID, input_noise=0.0, **kwargs)


def test_metadata_and_timing():
    task = quiet()
    assert task.period_names == ("fixation", "sample", "delay1", "cue1", "test1", "delay2", "cue2", "test2")
    assert task.action_names == ("fixate", "match", "non_match") and len(task.conditions()["sample_1"]) == 32
    assert ID in neurotasks.list_tasks("neurogym") and ID in neurotasks.list_tasks("working memory")
    batch = task.trials(3, rng=0)
    for name in task.period_names:
        assert np.all(np.diff(batch.periods[name], axis=1) == 25), name


def test_cues_and_tests_follow_the_test_order():
    batch = quiet().trials(2, rng=0, sample_1=0, sample_2=1, match_1=1, match_2=0, test_order=np.array([0, 1]))
    x = batch.inputs - 0.2
    at = {name: batch.periods[name][0, 0] for name in batch.periods}
    np.testing.assert_allclose(x[:, at["sample"], 1:5], [[1, 0, 0, 1]] * 2, atol=1e-6)
    # order 0: item 1 (a, a match) first, then item 2 (b, not a match: a); order 1 the reverse
    np.testing.assert_allclose(x[0, at["cue1"], 5:], [1, 0], atol=1e-6)
    np.testing.assert_allclose(x[0, at["test1"], 1:5], [1, 0, 0, 0], atol=1e-6)
    np.testing.assert_allclose(x[0, at["test2"], 1:5], [0, 0, 1, 0], atol=1e-6)
    np.testing.assert_allclose(x[1, at["cue1"], 5:], [0, 1], atol=1e-6)
    np.testing.assert_allclose(x[1, at["test1"], 1:5], [0, 0, 1, 0], atol=1e-6)
    np.testing.assert_array_equal(batch.params["answer_first"], [0, 1])
    np.testing.assert_array_equal(batch.params["answer_second"], [1, 0])
    np.testing.assert_allclose(x[:, at["test1"], 0], 0.0, atol=1e-7)
    np.testing.assert_allclose(x[:, at["delay2"], 0], 1.0, atol=1e-6)
    assert np.all(batch.gt[0, at["test1"]:at["delay2"]] == 1) and np.all(batch.gt[0, at["test2"]:] == 2)


def test_two_answers():
    task = quiet()
    batch = task.trials(4, rng=1, match_1=1, match_2=1, test_order=0)      # both answers "match"
    t1, t2 = batch.periods["test1"][:, 0], batch.periods["test2"][:, 0]
    actions = np.zeros((4, batch.n_steps), np.int64)
    rows = np.arange(4)
    actions[rows, t1 + 1] = [1, 2, 1, 1]
    actions[rows, t1 + 2] = [2, 1, 0, 0]                      # ignored: only the first answer in test1 counts
    actions[rows, t2 + 3] = [1, 1, 2, 0]
    actions[3, t2 - 1] = 1                                    # in cue2: a fixation break
    ev = task.evaluate(batch, actions=actions)
    np.testing.assert_array_equal(ev["reward"], [2.0, 1.0, 1.0, 0.9])
    np.testing.assert_array_equal(ev["correct"], [1.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(ev["first_choice"], [0, 1, 0, 0])
    assert ev["aborted"].tolist() == [False, False, False, True] and ev["rt"][0] == 60.0


def test_env_keeps_the_first_answer_across_steps():
    env = TaskEnv(ID, trial_chunk=1)
    env.reset(seed=0)
    gt = env.trial["gt"]
    total, terminated = 0.0, False
    for action in gt:
        _, reward, terminated, _, info = env.step(int(action))
        total += reward
        if terminated:
            break
    assert terminated and total == 2.0 and info["correct"] == 1.0 and info["first_choice"] >= 0


def test_argument_errors():
    with pytest.raises(ValueError, match="cue_duration"):
        neurotasks.make_task(ID, cue_duration=0)
    with pytest.raises(ValueError, match="answer_first is derived"):
        quiet().trials(1, rng=0, answer_first=0)
