"""ParametricWorkingMemory-v0: the numbers of Song, Yang & Wang (2016), Fig. 7 (Romo et al. 1999)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import neurotasks
from neurotasks.criterion import Criterion
from neurotasks.tasks.parametric_working_memory import ParametricWorkingMemory

ID = "ParametricWorkingMemory-v0"
BASELINE = 0.2
PAIRS = [(18, 10), (22, 14), (26, 18), (30, 22), (34, 26)]
#: frequency (Hz) -> (f_pos, f_neg): 0.4 + 0.8 (f - 10)/24 and 0.4 + 0.8 (34 - f)/24
TUNING = {10: (0.4, 1.2), 14: (0.4 + 3.2 / 24, 0.4 + 16 / 24), 18: (0.4 + 6.4 / 24, 0.4 + 12.8 / 24),
          22: (0.8, 0.8), 26: (0.4 + 12.8 / 24, 0.4 + 6.4 / 24), 30: (0.4 + 16 / 24, 0.4 + 3.2 / 24),
          34: (1.2, 0.4)}


def noiseless(**kwargs) -> ParametricWorkingMemory:
    return neurotasks.make_task(ID, input_noise=0.0, **kwargs)


# ---------------------------------------------------------------------- metadata
def test_registered_with_metadata():
    assert ID in neurotasks.list_tasks("paper")
    task = neurotasks.make_task(ID)
    assert task.input_names == ("f_pos", "f_neg")
    assert task.output_names == ("f1_greater", "f1_smaller")
    assert task.action_names == ("fixate", "f1_greater", "f1_smaller")
    assert task.period_names == ("fixation", "f1", "delay", "f2", "decision")
    assert task.criterion == Criterion("min_condition_percent_correct", ">=", 85, window=1)
    assert ParametricWorkingMemory.suggested_network == {
        "n_units": 500, "excitatory_fraction": 0.8, "connection_prob": {"E": 0.1, "I": 0.5}}
    assert "paper" in task.tags and task.summary and task.reference
    assert task.dt == 20.0 and task.catch_prob == pytest.approx(1 / 11) and task.catch_duration == 2500.0
    assert task.input_baseline == 0.2 and task.input_noise == 0.01 and task.tau_in == 100.0
    assert task.rule.response_period == "decision" and task.rule.rt_period == "decision"
    assert set(task.param_names) == {"catch", "f1", "f2", "ground_truth"}
    for section in ("## Description", "## Inputs", "## Outputs and actions", "## Periods", "## Rewards",
                    "## Criterion", "## Arguments", "## Reference", "## Version history"):
        assert section in ParametricWorkingMemory.__doc__
    assert "test default 3000" in ParametricWorkingMemory.__doc__


# ---------------------------------------------------------------------- inputs
@pytest.mark.parametrize(("f1", "f2"), [*PAIRS, *((b, a) for a, b in PAIRS)])
def test_inputs_exact(f1, f2):
    batch = noiseless(delay=3000).trials(2, rng=0, catch=False, f1=f1, f2=f2)
    x = batch.inputs[0]
    p = {k: v[0] for k, v in batch.periods.items()}
    np.testing.assert_allclose(x[slice(*p["f1"])], np.broadcast_to(BASELINE + np.array(TUNING[f1]), (25, 2)),
                               atol=1e-6)
    np.testing.assert_allclose(x[slice(*p["f2"])], np.broadcast_to(BASELINE + np.array(TUNING[f2]), (25, 2)),
                               atol=1e-6)
    for quiet in ("fixation", "delay", "decision"):
        np.testing.assert_allclose(x[slice(*p[quiet])], BASELINE, atol=1e-7)


def test_tuning_uses_the_frequency_range():
    batch = noiseless(pairs=[(20, 40)]).trials(1, rng=1, catch=False, f1=30, f2=40)
    p = {k: v[0] for k, v in batch.periods.items()}
    np.testing.assert_allclose(batch.inputs[0, p["f1"][0]] - BASELINE, [0.8, 0.8], atol=1e-6)
    np.testing.assert_allclose(batch.inputs[0, p["f2"][0]] - BASELINE, [1.2, 0.4], atol=1e-6)


# ---------------------------------------------------------------------- periods and catch trials
def test_period_lengths_with_test_delay():
    batch = noiseless(delay=3000).trials(40, rng=3, catch=False)
    for name, steps in (("fixation", 5), ("f1", 25), ("delay", 150), ("f2", 25), ("decision", 15)):
        assert np.all(np.diff(batch.periods[name], axis=1) == steps), name
    assert np.all(batch.lengths == 220)


def test_delay_is_uniform_2500_to_3500():
    batch = noiseless().trials(5000, rng=4, catch=False)
    delay_ms = np.diff(batch.periods["delay"], axis=1)[:, 0] * 20.0
    assert delay_ms.min() == 2500 and delay_ms.max() == 3500  # rounded to dt from [2500, 3500)
    assert abs(delay_ms.mean() - 3000) < 10
    np.testing.assert_allclose(np.quantile(delay_ms, [0.25, 0.5, 0.75]), [2750, 3000, 3250], atol=30)
    others = np.diff(batch.periods["f2"], axis=1)[:, 0]
    assert np.all(others == 25)


def test_zero_delay_is_allowed():
    batch = noiseless(delay=0).trials(3, rng=5, catch=False)
    assert np.all(batch.lengths == 70)
    np.testing.assert_array_equal(batch.periods["f1"][:, 1], batch.periods["f2"][:, 0])


def test_catch_fraction():
    batch = neurotasks.make_task(ID, delay=3000).trials(10000, rng=6)
    p = 1 / 11
    assert abs(batch.params["catch"].mean() - p) < 4 * np.sqrt(p * (1 - p) / 10000)


# ---------------------------------------------------------------------- conditions
def test_condition_grid():
    grid = noiseless().conditions()
    assert set(grid) == {"f1", "f2"}
    rows = set(zip(grid["f1"].tolist(), grid["f2"].tolist(), strict=True))
    assert rows == {*PAIRS, *((b, a) for a, b in PAIRS)}
    assert len(grid["f1"]) == 10
    assert len(noiseless(pairs=[(10, 20)]).conditions()["f1"]) == 2


def test_grid_trials_balanced():
    batch = noiseless(delay=3000).grid_trials(4, rng=8)
    catch = batch.params["catch"]
    assert len(batch) == 44 and catch.sum() == 4
    pairs = np.stack([batch.params["f1"][~catch], batch.params["f2"][~catch]], axis=1)
    counts = np.unique(pairs, axis=0, return_counts=True)[1]
    assert len(counts) == 10 and np.all(counts == 4)


def test_sampling_is_balanced():
    batch = noiseless(delay=3000).trials(5000, rng=9, catch=False)
    pairs = np.stack([batch.params["f1"], batch.params["f2"]], axis=1)
    counts = np.unique(pairs, axis=0, return_counts=True)[1]
    assert len(counts) == 10
    chi2 = ((counts - 500) ** 2 / 500).sum()
    assert chi2 < 9 + 6 * np.sqrt(2 * 9)


# ---------------------------------------------------------------------- ground truth, targets, mask
@pytest.mark.parametrize(("f1", "f2", "answer"), [(18, 10, 0), (10, 18, 1), (34, 26, 0), (26, 34, 1)])
def test_ground_truth(f1, f2, answer):
    batch = noiseless(delay=3000).trials(2, rng=10, catch=False, f1=f1, f2=f2)
    np.testing.assert_array_equal(batch.params["ground_truth"], answer)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 30))
def test_property_inputs_encode_f1_and_f2(seed, n):
    batch = noiseless().trials(n, rng=seed, catch=False)
    rows = np.arange(n)
    for period in ("f1", "f2"):
        x = batch.inputs[rows, batch.periods[period][:, 0]] - BASELINE
        np.testing.assert_allclose(x[:, 0] + x[:, 1], 1.6, atol=1e-6)
        np.testing.assert_allclose(x[:, 0], 0.4 + 0.8 * (batch.params[period] - 10) / 24, atol=1e-6)
    first = batch.inputs[rows, batch.periods["f1"][:, 0], 0]
    second = batch.inputs[rows, batch.periods["f2"][:, 0], 0]
    np.testing.assert_array_equal(np.where(first > second, 0, 1), batch.params["ground_truth"])


# ---------------------------------------------------------------------- scoring
def test_evaluate_outputs_equal_targets_is_perfect():
    task = neurotasks.make_task(ID, delay=3000)
    batch = task.grid_trials(2, rng=12)
    result = task.evaluate(batch, outputs=batch.targets)
    score = task.score(batch, result)
    assert score["percent_correct"] == 100.0 and score["min_condition_percent_correct"] == 100.0


def test_min_condition_percent_correct():
    task = neurotasks.make_task(ID, delay=3000)
    batch = task.grid_trials(4, rng=13)
    outputs = batch.targets.copy()
    p = batch.params
    wrong = [np.flatnonzero((p["f1"] == 18) & (p["f2"] == 10) & ~p["catch"])[:2],
             np.flatnonzero((p["f1"] == 10) & (p["f2"] == 18) & ~p["catch"])[:1]]
    for i in np.concatenate(wrong):
        outputs[i] = outputs[i, :, ::-1]
    score = task.score(batch, task.evaluate(batch, outputs=outputs))
    assert score["min_condition_percent_correct"] == 50.0
    assert score["percent_correct"] == pytest.approx(100 * 37 / 40)
    assert not task.criterion.met([score["min_condition_percent_correct"]])
    assert task.criterion.met([85.0])


def test_reaction_time_is_measured_from_decision_onset():
    task = neurotasks.make_task(ID, delay=3000)
    batch = task.grid_trials(1, rng=14)
    result = task.evaluate(batch, actions=batch.gt)          # gt answers at the decision's first step
    np.testing.assert_array_equal(result["rt"][~batch.params["catch"]], 0.0)


# ---------------------------------------------------------------------- errors
@pytest.mark.parametrize(("kwargs", "param"), [
    ({"pairs": []}, "pairs"),
    ({"pairs": [(18, 18)]}, "pairs"),
    ({"pairs": [(18, 10), (10, 18)]}, "pairs"),
    ({"pairs": [(18, -10)]}, "pairs"),
    ({"pairs": [(18, np.inf)]}, "pairs"),
    ({"pairs": [(18, 10, 2)]}, "pairs"),
    ({"pairs": "abc"}, "pairs"),
    ({"delay": -1}, "delay"),
    ({"delay": ("uniform", 3500, 2500)}, "delay"),
    ({"delay": ("gaussian", 3000)}, "delay"),
    ({"fixation": -100}, "fixation"),
    ({"f1_duration": 0}, "f1_duration"),
    ({"f2_duration": -500}, "f2_duration"),
    ({"decision": -1}, "decision"),
    ({"catch_prob": 1.01}, "catch_prob"),
    ({"catch_duration": 0}, "catch_duration"),
    ({"dt": 0}, "dt"),
    ({"input_noise": -1}, "input_noise"),
])
def test_bad_arguments(kwargs, param):
    with pytest.raises(ValueError, match=param):
        neurotasks.make_task(ID, **kwargs)


@pytest.mark.parametrize(("forced", "param"), [
    ({"f1": 18, "f2": 18}, "f1"),
    ({"f1": 50, "f2": 10}, "f1"),
    ({"f1": 18, "f2": 5}, "f2"),
    ({"ground_truth": 0}, "ground_truth"),
])
def test_bad_forced_parameters(forced, param):
    with pytest.raises(ValueError, match=param):
        noiseless().trials(4, rng=0, **forced)
