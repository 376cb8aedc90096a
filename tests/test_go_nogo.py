"""GoNogo-v0 and DelayPairedAssociation-v0: the go/no-go rule and the numbers of Li's laboratory's
olfactory tasks (Liu et al. 2014; Zhang et al. 2019)."""

from __future__ import annotations

import numpy as np
import pytest

import neurotasks
from neurotasks.criterion import Criterion
from neurotasks.env import TaskEnv
from neurotasks.tasks.go_nogo import GO_THRESHOLD, GoNoGoRule

DPA = "DelayPairedAssociation-v0"


def quiet(task_id, **kwargs):
    return neurotasks.make_task(task_id, input_noise=0.0, **kwargs)


def steps_of(batch, name):
    return np.diff(batch.periods[name], axis=1)[:, 0]


# ---------------------------------------------------------------------- metadata
@pytest.mark.parametrize("task_id", ["GoNogo-v0", DPA])
def test_metadata(task_id):
    task = neurotasks.make_task(task_id)
    assert task_id in neurotasks.list_tasks("neurogym") and task_id in neurotasks.list_tasks("go/no-go")
    assert task.output_names == ("go",) and task.action_names == ("fixate", "go")
    assert task.input_names[0] == "fixation"
    assert task.criterion == Criterion("min_condition_percent_correct", ">=", 80.0, window=5)
    assert isinstance(task.rule, GoNoGoRule) and task.rule.response_period == "decision"
    assert task.dt == 20.0 and task.input_baseline == 0.2 and task.input_noise == 0.01 and task.catch_prob == 0
    for section in ("## Description", "## Inputs", "## Outputs and actions", "## Periods", "## Rewards",
                    "## Criterion", "## Departures from NeuroGym", "## Arguments", "## Reference"):
        assert section in type(task).__doc__


# ---------------------------------------------------------------------- the papers' timing
def test_go_nogo_timing_odor_1s_response_window_half_a_second_1s_after():
    batch = quiet("GoNogo-v0").trials(10, rng=0)
    for name, ms in (("fixation", 100), ("stimulus", 1000), ("delay", 1000), ("decision", 500)):
        assert np.all(steps_of(batch, name) * 20 == ms), name


def test_dpa_timing_is_the_papers():
    """Sample 1 s, delay 5 s, test 1 s, then the 0.5 s response window 1 s after the test's offset."""
    batch = quiet(DPA).trials(10, rng=0)
    for name, ms in (("fixation", 100), ("sample", 1000), ("delay", 5000), ("test", 1000),
                     ("response_delay", 1000), ("decision", 500)):
        assert np.all(steps_of(batch, name) * 20 == ms), name
    assert np.all(batch.lengths == 430)


# ---------------------------------------------------------------------- inputs, targets, gt
def test_go_nogo_arrays():
    batch = quiet("GoNogo-v0").trials(2, rng=0, stimulus=np.array([0, 1]))
    np.testing.assert_array_equal(batch.params["go"], [0, 1])
    np.testing.assert_array_equal(batch.params["ground_truth"], [-1, 0])
    for b, channel in ((0, 1), (1, 2)):
        x, p = batch.inputs[b], {k: v[b] for k, v in batch.periods.items()}
        stim = x[slice(*p["stimulus"])]
        np.testing.assert_allclose(stim[:, channel], 1.2, atol=1e-6)
        np.testing.assert_allclose(stim[:, 3 - channel], 0.2, atol=1e-6)
        np.testing.assert_allclose(x[:p["decision"][0], 0], 1.2, atol=1e-6)       # the fixation input
        np.testing.assert_allclose(x[slice(*p["decision"])], 0.2, atol=1e-6)
        np.testing.assert_allclose(batch.targets[b, :p["decision"][0], 0], 0.2)
        assert np.all(batch.mask[b] == 1.0)
    decision = slice(*batch.periods["decision"][1])
    np.testing.assert_allclose(batch.targets[0, decision, 0], 0.2)
    np.testing.assert_allclose(batch.targets[1, decision, 0], 1.0)
    assert np.all(batch.gt[0] == 0) and np.all(batch.gt[1, decision] == 1) and batch.gt[1].sum() == 25


def test_dpa_paired_trials_are_go_trials():
    task = quiet(DPA)
    batch = task.trials(4, rng=1, sample=np.array([0, 0, 1, 1]), test=np.array([0, 1, 0, 1]))
    np.testing.assert_array_equal(batch.params["go"], [1, 0, 0, 1])          # S1-T1 and S2-T2 are paired
    p = {k: v[0] for k, v in batch.periods.items()}
    x = batch.inputs - 0.2
    np.testing.assert_allclose(x[[0, 1, 2, 3], p["sample"][0], 1:3], [[1, 0], [1, 0], [0, 1], [0, 1]])
    np.testing.assert_allclose(x[[0, 1, 2, 3], p["test"][0], 3:5], [[1, 0], [0, 1], [1, 0], [0, 1]])
    assert np.all(x[:, slice(*p["delay"]), 1:] == 0)                   # nothing to see in the delay
    assert len(next(iter(task.conditions().values()))) == 4


def test_go_rate_is_one_half():
    for task_id in ("GoNogo-v0", DPA):
        go = quiet(task_id).trials(4000, rng=2).params["go"]
        assert abs(go.mean() - 0.5) < 0.03


def test_derived_parameters_cannot_be_forced():
    with pytest.raises(ValueError, match="go is derived"):
        quiet(DPA).trials(2, rng=0, go=1)
    with pytest.raises(ValueError, match="ground_truth is derived"):
        quiet("GoNogo-v0").trials(2, rng=0, ground_truth=0)
    with pytest.raises(ValueError, match="forced parameter sample"):
        quiet(DPA).trials(2, rng=0, sample=2)


# ---------------------------------------------------------------------- rewards and scoring
def replay(task_id, go, respond_at=None, **kwargs):
    """Total reward and outcome of one trial, responding at the step ``respond_at`` (None: never)."""
    task = quiet(task_id, **kwargs)
    force = {"stimulus": int(go)} if task_id == "GoNogo-v0" else {"sample": 0, "test": 0 if go else 1}
    batch = task.trials(1, rng=0, **force)
    actions = np.zeros((1, batch.n_steps), np.int64)
    if respond_at is not None:
        actions[0, respond_at(batch)] = 1
    return task.evaluate(batch, actions=actions)


def in_window(batch):
    return batch.periods["decision"][0, 0] + 3


@pytest.mark.parametrize(("task_id", "false_alarm", "miss"), [("GoNogo-v0", -0.5, -0.5), (DPA, 0.0, 0.0)])
def test_rewards(task_id, false_alarm, miss):
    hit = replay(task_id, True, in_window)
    assert hit["reward"][0] == 1.0 and hit["correct"][0] == 1.0 and hit["rt"][0] == 60.0
    assert replay(task_id, True)["reward"][0] == miss and replay(task_id, True)["correct"][0] == 0.0
    fa = replay(task_id, False, in_window)
    assert fa["reward"][0] == false_alarm and fa["correct"][0] == 0.0
    rejection = replay(task_id, False)
    assert rejection["reward"][0] == 1.0 and rejection["correct"][0] == 1.0
    early = replay(task_id, True, lambda b: b.periods["decision"][0, 0] - 1)
    assert early["reward"][0] == -0.1 and early["aborted"][0] and early["correct"][0] == 0.0


def test_env_rewards_can_be_overridden():
    env = TaskEnv("GoNogo-v0", rewards={"fail": -1.0})
    assert env.rewards == {"abort": -0.1, "correct": 1.0, "fail": -1.0, "miss": -0.5, "catch": 0.0}


def test_decoding_outputs_a_lick_is_any_crossing_in_the_window():
    task = quiet("GoNogo-v0")
    batch = task.trials(3, rng=0, stimulus=np.array([1, 1, 0]))
    outputs = np.full_like(batch.targets, 0.2)
    start = batch.periods["decision"][0, 0]
    outputs[0, start + 5, 0] = GO_THRESHOLD                    # a brief crossing counts
    outputs[1, start - 1, 0] = 1.0                             # before the window: not a response
    outputs[2, start + 1, 0] = GO_THRESHOLD - 1e-3             # just under: no response
    ev = task.evaluate(batch, outputs=outputs)
    np.testing.assert_array_equal(ev["choice"], [0, -1, -1])
    np.testing.assert_array_equal(ev["correct"], [1.0, 0.0, 1.0])
    assert ev["rt"][0] == 100.0 and np.isnan(ev["rt"][1])
    assert GO_THRESHOLD == pytest.approx(0.6)


def test_catch_trials_want_no_response():
    task = quiet("GoNogo-v0", catch_prob=1.0)
    batch = task.trials(2, rng=0)
    assert np.all(batch.lengths == 100) and np.all(batch.targets == np.float32(0.2)) and np.all(batch.gt == 0)
    ev = task.evaluate(batch, actions=np.zeros((2, batch.n_steps), np.int64))
    assert np.all(np.isnan(ev["correct"]))


def test_argument_errors_name_the_argument():
    with pytest.raises(ValueError, match="delay"):
        neurotasks.make_task(DPA, delay=-1)
    with pytest.raises(ValueError, match="decision"):
        neurotasks.make_task("GoNogo-v0", decision=5, dt=20)
