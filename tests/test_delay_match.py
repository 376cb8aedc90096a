"""DelayMatchSample-v0 and DelayMatchCategory-v0: Miller et al. (1996) and Freedman & Assad (2006)."""

from __future__ import annotations

import numpy as np
import pytest

import neurotasks
from neurotasks.tasks.delay_match import ring_tuning

DMS, DMC = "DelayMatchSample-v0", "DelayMatchCategory-v0"


def quiet(task_id, **kwargs):
    return neurotasks.make_task(task_id, input_noise=0.0, **kwargs)


def test_metadata():
    for task_id in (DMS, DMC):
        task = neurotasks.make_task(task_id)
        assert task.period_names == ("fixation", "sample", "delay", "test")
        assert task.rule.response_period == "test" and task.action_names == ("fixate", "go")
        assert task_id in neurotasks.list_tasks("neurogym") and task_id in neurotasks.list_tasks("working memory")
    assert neurotasks.make_task(DMS).input_names[1:] == tuple(f"direction_{k:02d}" for k in range(8))
    assert len(neurotasks.make_task(DMC).input_names) == 13 and DMC in neurotasks.list_tasks("categorization")


@pytest.mark.parametrize(("task_id", "timing"), [
    (DMS, {"fixation": 300, "sample": 500, "delay": 1000, "test": 500}),          # Miller et al. 1996
    (DMC, {"fixation": 500, "sample": 650, "delay": 1000, "test": 650})])         # Freedman & Assad 2006
def test_timing(task_id, timing):
    batch = quiet(task_id, dt=10).trials(5, rng=0)
    for name, ms in timing.items():
        assert np.all(np.diff(batch.periods[name], axis=1) * 10 == ms), name


def test_ring_tuning_is_cosine():
    np.testing.assert_allclose(ring_tuning(np.array([0, 3]), 12)[:, [0, 3, 6, 9]],
                               [[1.0, 0.5, 0.0, 0.5], [0.5, 1.0, 0.5, 0.0]], atol=1e-6)


def test_dms_match_and_non_match():
    task = quiet(DMS)
    batch = task.trials(3, rng=0, sample=5, match=np.array([1, 0, 0]), offset=np.array([4, 0, 6]))
    np.testing.assert_array_equal(batch.params["test"], [5, 6, 4])        # sample + 1 + offset, mod 8
    np.testing.assert_array_equal(batch.params["go"], [1, 0, 0])
    p = {k: v[0] for k, v in batch.periods.items()}
    np.testing.assert_allclose(batch.inputs[:, p["sample"][0], 1:] - 0.2, ring_tuning(np.full(3, 5), 8), atol=1e-6)
    np.testing.assert_allclose(batch.inputs[:, p["test"][0], 1:] - 0.2, ring_tuning(batch.params["test"], 8),
                               atol=1e-6)
    np.testing.assert_allclose(batch.inputs[:, slice(*p["delay"]), 1:], 0.2, atol=1e-6)
    np.testing.assert_allclose(batch.inputs[:, :p["test"][0], 0], 1.2, atol=1e-6)     # fixation until the test
    np.testing.assert_allclose(batch.inputs[:, slice(*p["test"]), 0], 0.2, atol=1e-6)
    np.testing.assert_allclose(batch.targets[:, slice(*p["test"]), 0], np.broadcast_to([[1.0], [0.2], [0.2]], (3, 25)))


def test_dms_non_match_tests_are_every_other_stimulus_equally():
    batch = quiet(DMS).trials(16000, rng=1, match=0)
    assert not np.any(batch.params["test"] == batch.params["sample"])
    counts = np.bincount((batch.params["test"] - batch.params["sample"]) % 8, minlength=8)
    assert counts[0] == 0 and np.all(np.abs(counts[1:] / 16000 - 1 / 7) < 0.01)


def test_dmc_categories_are_split_at_45_and_225_degrees():
    task = quiet(DMC)
    degrees = 30 * np.arange(12)
    np.testing.assert_array_equal(task.category, np.where((degrees > 45) & (degrees < 225), 0, 1))
    assert [len(m) for m in task.members] == [6, 6]
    batch = task.trials(6000, rng=2)
    same = task.category[batch.params["sample"]] == task.category[batch.params["test"]]
    np.testing.assert_array_equal(same, batch.params["match"] == 1)
    np.testing.assert_array_equal(batch.params["go"], batch.params["match"])
    assert abs(batch.params["match"].mean() - 0.5) < 0.03
    # A test is any direction of its category, equally likely: every direction appears as a match and a non-match.
    for match in (0, 1):
        counts = np.bincount(batch.params["test"][batch.params["match"] == match], minlength=12)
        assert np.all(np.abs(counts / counts.sum() - 1 / 12) < 0.02)


def test_dmc_other_boundary():
    task = quiet(DMC, boundary=135.0)
    degrees = 30 * np.arange(12)
    np.testing.assert_array_equal(task.category, np.where((degrees > 135) & (degrees < 315), 0, 1))


def test_conditions_are_sample_by_match():
    assert len(quiet(DMS).conditions()["sample"]) == 16 and len(quiet(DMC).conditions()["match"]) == 24


def test_following_the_targets_scores_perfectly_on_the_grid():
    for task_id in (DMS, DMC):
        task = quiet(task_id)
        batch = task.grid_trials(2, rng=3)
        assert task.score(batch, task.evaluate(batch, outputs=batch.targets))["min_condition_percent_correct"] == 100
        score = task.score(batch, task.evaluate(batch, outputs=np.full_like(batch.targets, 0.2)))
        assert score["percent_correct"] == 50.0 and score["min_condition_percent_correct"] == 0.0


def test_argument_errors():
    for bad in (1, 2.5, True, 10**6):
        with pytest.raises(ValueError, match="dim_ring"):
            neurotasks.make_task(DMS, dim_ring=bad)
    with pytest.raises(ValueError, match="boundary"):
        neurotasks.make_task(DMC, boundary=float("nan"))
    with pytest.raises(ValueError, match="boundary"):
        neurotasks.make_task(DMC, boundary="45")
    assert [len(m) for m in neurotasks.make_task(DMC, dim_ring=2, boundary=0.0).members] == [1, 1]
    with pytest.raises(ValueError, match="forced parameter offset"):
        quiet(DMS).trials(2, rng=0, offset=7)
    with pytest.raises(ValueError, match="test is derived"):
        quiet(DMC).trials(2, rng=0, test=1)


# ---------------------------------------------------------------------- the sequence with distractors
SEQ = "DelayMatchSampleDistractor1D-v0"


def test_distractor_timing_and_sequence():
    task = quiet(SEQ)
    assert task.period_names == ("fixation", "sample", "delay1", "test1", "delay2", "test2", "delay3", "test3")
    batch = task.trials(3, rng=0, sample=2, match_position=np.array([1, 2, 3]), offset_1=0, offset_2=3, offset_3=6)
    for name, ms in (("fixation", 300), ("sample", 500), ("delay1", 1000), ("test1", 500), ("delay2", 1000),
                     ("test2", 500), ("delay3", 1000), ("test3", 500)):
        assert np.all(np.diff(batch.periods[name], axis=1) * 20 == ms), name
    np.testing.assert_array_equal(batch.params["test_1"], [2, 3, 3])
    np.testing.assert_array_equal(batch.params["test_2"], [6, 2, 6])
    np.testing.assert_array_equal(batch.params["test_3"], [1, 1, 2])
    for b in range(3):
        span = batch.periods[f"test{b + 1}"][b]
        high = np.flatnonzero(batch.targets[b, :, 0] == 1.0)
        np.testing.assert_array_equal(high, np.arange(*span))
        np.testing.assert_array_equal(np.flatnonzero(batch.gt[b] == 1), np.arange(*span))
        tests = [batch.inputs[b, batch.periods[f"test{k}"][b, 0], 1:] - 0.2 for k in (1, 2, 3)]
        np.testing.assert_allclose(tests[b], ring_tuning(np.array([2]), 8)[0], atol=1e-6)
    np.testing.assert_allclose(batch.inputs[:, :batch.periods["test1"][0, 0], 0], 1.2, atol=1e-6)


def test_distractors_never_match_and_positions_are_equally_likely():
    p = quiet(SEQ).trials(12000, rng=1).params
    for k in (1, 2, 3):
        at = p["match_position"] == k
        assert np.all(p[f"test_{k}"][at] == p["sample"][at]) and np.all(p[f"test_{k}"][~at] != p["sample"][~at])
        assert abs(at.mean() - 1 / 3) < 0.015


def test_distractor_rewards():
    task = quiet(SEQ)
    batch = task.trials(3, rng=2, match_position=2)
    actions = np.zeros((3, batch.n_steps), np.int64)
    actions[0, batch.periods["test1"][0, 0] + 2] = 1          # at a distractor: a false alarm
    actions[1, batch.periods["test2"][1, 0] + 2] = 1          # at the match
    actions[2, batch.periods["delay1"][2, 0]] = 1              # before the tests: aborts
    ev = task.evaluate(batch, actions=actions)
    np.testing.assert_array_equal(ev["reward"], [-1.0, 1.0, -0.1])
    np.testing.assert_array_equal(ev["correct"], [0.0, 1.0, 0.0])
    assert task.evaluate(batch, actions=np.zeros_like(actions))["reward"].tolist() == [0.0, 0.0, 0.0]
    outputs = np.full_like(batch.targets, 0.2)
    outputs[0, batch.periods["test1"][0, 0]:, 0] = 1.0        # released at the first test and held
    outputs[1, batch.periods["test2"][1, 0] + 1, 0] = 0.7
    np.testing.assert_array_equal(task.evaluate(batch, outputs=outputs)["correct"], [0.0, 1.0, 0.0])
    assert len(task.conditions()["sample"]) == 24
