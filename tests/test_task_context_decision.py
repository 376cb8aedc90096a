"""ContextDecision-v0: the numbers of Song, Yang & Wang (2016), Fig. 4 (pycog's mante.py)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import neurotasks
from neurotasks.criterion import Criterion
from neurotasks.tasks.context_decision import ContextDecision

ID = "ContextDecision-v0"
BASELINE = 0.2
#: coherence (%) -> (channel toward the direction, the other channel)
LEVELS = {5.0: (0.525, 0.475), 15.0: (0.575, 0.425), 50.0: (0.75, 0.25)}


def noiseless(**kwargs) -> ContextDecision:
    return neurotasks.make_task(ID, input_noise=0.0, **kwargs)


def expected_stimulus(context, motion_coherence, motion_direction, colour_coherence, colour_direction) -> np.ndarray:
    hi_m, lo_m = LEVELS[motion_coherence]
    hi_c, lo_c = LEVELS[colour_coherence]
    motion = (hi_m, lo_m) if motion_direction == 0 else (lo_m, hi_m)
    colour = (hi_c, lo_c) if colour_direction == 0 else (lo_c, hi_c)
    return np.array([context == 0, context == 1, *motion, *colour], dtype=float)


# ---------------------------------------------------------------------- metadata
def test_registered_with_metadata():
    assert ID in neurotasks.list_tasks()
    assert ID in neurotasks.list_tasks("paper")
    task = neurotasks.make_task(ID)
    assert task.input_names == ("context_motion", "context_colour", "motion_1", "motion_2", "colour_1", "colour_2")
    assert task.output_names == ("choice_1", "choice_2")
    assert task.action_names == ("fixate", "choice_1", "choice_2")
    assert task.period_names == ("fixation", "stimulus", "decision")
    assert task.criterion == Criterion("percent_correct", ">", 90, window=5)
    assert ContextDecision.suggested_network == {"n_units": 150, "excitatory_fraction": 0.8, "batch_size": 50}
    assert "paper" in task.tags and task.summary and task.reference
    assert task.dt == 20.0
    assert task.catch_prob == pytest.approx(1 / 73)
    assert task.input_baseline == 0.2 and task.input_noise == 0.01 and task.tau_in == 100.0
    assert task.rectify_inputs
    assert set(task.param_names) == {"catch", "context", "motion_coherence", "motion_direction",
                                     "colour_coherence", "colour_direction", "ground_truth"}
    for section in ("## Description", "## Inputs", "## Outputs and actions", "## Periods", "## Rewards",
                    "## Criterion", "## Arguments", "## Reference", "## Version history"):
        assert section in ContextDecision.__doc__


# ---------------------------------------------------------------------- inputs
def test_inputs_exact_for_every_condition():
    task = noiseless()
    batch = task.grid_trials(1, rng=0, include_catch=False)
    assert len(batch) == 72
    stim = batch.periods["stimulus"]
    for i in range(len(batch)):
        p = batch.trial(i)["params"]
        want = expected_stimulus(p["context"], p["motion_coherence"], p["motion_direction"],
                                 p["colour_coherence"], p["colour_direction"])
        x = batch.inputs[i]
        s0, s1 = stim[i]
        np.testing.assert_allclose(x[s0:s1], np.broadcast_to(BASELINE + want, (s1 - s0, 6)), atol=1e-6)
        np.testing.assert_allclose(x[:s0], BASELINE, atol=1e-7)
        np.testing.assert_allclose(x[s1:batch.lengths[i]], BASELINE, atol=1e-7)


@pytest.mark.parametrize(("coherence", "hi", "lo"), [(5, 0.525, 0.475), (15, 0.575, 0.425), (50, 0.75, 0.25)])
def test_channel_values_pinned(coherence, hi, lo):
    task = noiseless()
    batch = task.trials(2, rng=1, catch=False, context=0, motion_coherence=coherence, motion_direction=[0, 1],
                        colour_coherence=coherence, colour_direction=[1, 0])
    s = batch.periods["stimulus"][0, 0]
    np.testing.assert_allclose(batch.inputs[0, s], [1.2, 0.2, 0.2 + hi, 0.2 + lo, 0.2 + lo, 0.2 + hi], atol=1e-6)
    np.testing.assert_allclose(batch.inputs[1, s], [1.2, 0.2, 0.2 + lo, 0.2 + hi, 0.2 + hi, 0.2 + lo], atol=1e-6)


def test_colour_context_cue():
    batch = noiseless().trials(1, rng=2, catch=False, context=1)
    s = batch.periods["stimulus"][0, 0]
    np.testing.assert_allclose(batch.inputs[0, s, :2], [0.2, 1.2], atol=1e-7)


# ---------------------------------------------------------------------- periods and catch trials
def test_period_lengths_in_steps():
    batch = noiseless().trials(50, rng=4, catch=False)
    assert np.all(np.diff(batch.periods["fixation"], axis=1) == 5)
    assert np.all(np.diff(batch.periods["stimulus"], axis=1) == 40)
    assert np.all(np.diff(batch.periods["decision"], axis=1) == 15)
    assert np.all(batch.lengths == 60)
    fine = noiseless(dt=10).trials(5, rng=4, catch=False)
    assert np.all(fine.lengths == 120)


def test_duration_arguments():
    batch = noiseless(fixation=200, stimulus_duration=400, decision=100).trials(5, rng=5, catch=False)
    assert np.all(batch.lengths == 10 + 20 + 5)


def test_catch_fraction():
    batch = neurotasks.make_task(ID).trials(20000, rng=6)
    p = 1 / 73
    assert abs(batch.params["catch"].mean() - p) < 4 * np.sqrt(p * (1 - p) / 20000)


# ---------------------------------------------------------------------- conditions
def test_condition_grid():
    grid = noiseless().conditions()
    assert set(grid) == {"context", "motion_coherence", "motion_direction", "colour_coherence", "colour_direction"}
    rows = set(zip(*(grid[k].tolist() for k in sorted(grid)), strict=True))
    assert len(rows) == 72 == len(grid["context"])
    for name, values in (("context", {0, 1}), ("motion_direction", {0, 1}), ("colour_direction", {0, 1}),
                         ("motion_coherence", {5, 15, 50}), ("colour_coherence", {5, 15, 50})):
        assert set(grid[name].tolist()) == values
    assert len(noiseless(coherences=(10, 20)).conditions()["context"]) == 2 * 2 * 2 * 2 * 2


def test_grid_trials_balanced():
    batch = noiseless().grid_trials(3, rng=8)
    catch = batch.params["catch"]
    assert catch.sum() == 3 and len(batch) == 219
    keys = list(zip(*(batch.params[k][~catch].tolist() for k in ("context", "motion_coherence", "motion_direction",
                                                                  "colour_coherence", "colour_direction")),
                    strict=True))
    counts = np.unique(np.array(keys), axis=0, return_counts=True)[1]
    assert len(counts) == 72 and np.all(counts == 3)


def test_sampling_is_balanced():
    task = noiseless()
    batch = task.trials(7200, rng=9, catch=False)
    grid = task.conditions()
    counts = np.zeros(72)
    for j in range(72):
        sel = np.ones(len(batch), bool)
        for name, values in grid.items():
            sel &= batch.params[name] == values[j]
        counts[j] = sel.sum()
    assert counts.sum() == 7200
    chi2 = ((counts - 100) ** 2 / 100).sum()
    assert chi2 < 71 + 6 * np.sqrt(2 * 71)


# ---------------------------------------------------------------------- ground truth, targets, mask
@pytest.mark.parametrize(("context", "motion_direction", "colour_direction", "answer"),
                         [(0, 0, 1, 0), (0, 1, 0, 1), (1, 0, 1, 1), (1, 1, 0, 0), (1, 1, 1, 1), (0, 0, 0, 0)])
def test_ground_truth_is_the_attended_direction(context, motion_direction, colour_direction, answer):
    batch = noiseless().trials(3, rng=10, catch=False, context=context, motion_direction=motion_direction,
                               colour_direction=colour_direction)
    np.testing.assert_array_equal(batch.params["ground_truth"], answer)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 40))
def test_property_attended_modality_points_to_the_answer(seed, n):
    batch = noiseless().trials(n, rng=seed, catch=False)
    s = batch.periods["stimulus"][:, 0]
    x = batch.inputs[np.arange(n), s] - BASELINE
    np.testing.assert_allclose(x[:, 0] + x[:, 1], 1.0, atol=1e-6)
    np.testing.assert_allclose(x[:, 2] + x[:, 3], 1.0, atol=1e-6)
    np.testing.assert_allclose(x[:, 4] + x[:, 5], 1.0, atol=1e-6)
    attended = np.where(batch.params["context"][:, None] == 0, x[:, 2:4], x[:, 4:6])
    np.testing.assert_array_equal(np.argmax(attended, axis=1), batch.params["ground_truth"])


def test_reproducible():
    task = neurotasks.make_task(ID)
    a, b = task.trials(16, rng=12), task.trials(16, rng=12)
    np.testing.assert_array_equal(a.inputs, b.inputs)
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])


# ---------------------------------------------------------------------- scoring
def test_evaluate_outputs_equal_targets_is_perfect():
    task = neurotasks.make_task(ID)
    batch = task.grid_trials(2, rng=13)
    result = task.evaluate(batch, outputs=batch.targets)
    catch = batch.params["catch"]
    np.testing.assert_array_equal(result["choice"][~catch], batch.params["ground_truth"][~catch])
    assert np.all(np.isnan(result["correct"][catch]))
    score = task.score(batch, result)
    assert score["percent_correct"] == 100.0
    assert score["min_condition_percent_correct"] == 100.0


def test_the_other_choice_is_wrong():
    task = neurotasks.make_task(ID)
    batch = task.grid_trials(1, rng=14)
    catch = batch.params["catch"]
    wrong = np.where(batch.gt > 0, 3 - batch.gt, 0)
    assert np.all(task.evaluate(batch, actions=wrong)["correct"][~catch] == 0.0)


# ---------------------------------------------------------------------- errors
@pytest.mark.parametrize(("kwargs", "param"), [
    ({"coherences": []}, "coherences"),
    ({"coherences": [5, 120]}, "coherences"),
    ({"coherences": [-5]}, "coherences"),
    ({"coherences": ["a"]}, "coherences"),
    ({"fixation": -100}, "fixation"),
    ({"stimulus_duration": -1}, "stimulus_duration"),
    ({"stimulus_duration": 0}, "stimulus_duration"),
    ({"decision": -300}, "decision"),
    ({"catch_prob": 1.5}, "catch_prob"),
    ({"catch_prob": -0.1}, "catch_prob"),
    ({"catch_duration": 0}, "catch_duration"),
    ({"dt": 0}, "dt"),
    ({"input_noise": -0.01}, "input_noise"),
    ({"tau_in": 0}, "tau_in"),
])
def test_bad_arguments(kwargs, param):
    with pytest.raises(ValueError, match=param):
        neurotasks.make_task(ID, **kwargs)


def test_unknown_argument():
    with pytest.raises(TypeError, match="rates"):
        neurotasks.make_task(ID, rates=(1, 2))


@pytest.mark.parametrize(("forced", "param"), [
    ({"context": 2}, "context"),
    ({"motion_direction": -1}, "motion_direction"),
    ({"colour_direction": 3}, "colour_direction"),
    ({"motion_coherence": 150}, "motion_coherence"),
    ({"colour_coherence": -1}, "colour_coherence"),
    ({"ground_truth": 0}, "ground_truth"),
    ({"coherence": 5}, "coherence"),
])
def test_bad_forced_parameters(forced, param):
    with pytest.raises(ValueError, match=param):
        noiseless().trials(4, rng=0, **forced)
