"""MultisensoryIntegration-v0: the numbers of Song, Yang & Wang (2016), Fig. 6 (Raposo et al. 2014)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import neurotasks
from neurotasks.criterion import Criterion
from neurotasks.tasks.multisensory_integration import MultisensoryIntegration

ID = "MultisensoryIntegration-v0"
BASELINE = 0.2
#: rate (Hz) -> (positively tuned, negatively tuned) value, 0.4 + 0.8 (f - 9)/7 and 0.4 + 0.8 (16 - f)/7
TUNING = {9: (0.4, 1.2), 10: (0.4 + 0.8 / 7, 0.4 + 4.8 / 7), 12: (0.4 + 2.4 / 7, 0.4 + 3.2 / 7),
          13: (0.4 + 3.2 / 7, 0.4 + 2.4 / 7), 16: (1.2, 0.4)}


def noiseless(**kwargs) -> MultisensoryIntegration:
    return neurotasks.make_task(ID, input_noise=0.0, **kwargs)


# ---------------------------------------------------------------------- metadata
def test_registered_with_metadata():
    assert ID in neurotasks.list_tasks("paper")
    task = neurotasks.make_task(ID)
    assert task.input_names == ("visual_pos", "auditory_pos", "visual_neg", "auditory_neg", "start_cue")
    assert task.output_names == ("choice_high", "choice_low")
    assert task.action_names == ("fixate", "choice_high", "choice_low")
    assert task.period_names == ("fixation", "stimulus", "decision")
    assert task.criterion == Criterion("percent_correct", ">", 90, window=5)
    net = MultisensoryIntegration.suggested_network
    assert net["n_units"] == 150 and net["excitatory_fraction"] == 0.8
    assert net["input_groups"] == {"visual": ["visual_pos", "visual_neg"], "auditory": ["auditory_pos", "auditory_neg"]}
    assert net["input_fraction_per_group"] == pytest.approx(1 / 3)
    assert all(ch in task.input_names for group in net["input_groups"].values() for ch in group)
    assert "paper" in task.tags and task.summary and task.reference
    assert task.dt == 20.0 and task.catch_prob == 0.2 and task.catch_duration == 2500.0
    assert task.input_baseline == 0.2 and task.input_noise == 0.01 and task.tau_in == 100.0
    assert set(task.param_names) == {"catch", "rate", "modality", "ground_truth"}
    assert task.observation_range[1] >= 1.2 + 0.2  # the tuned inputs reach 1.2 above the baseline
    for section in ("## Description", "## Inputs", "## Outputs and actions", "## Periods", "## Rewards",
                    "## Criterion", "## Arguments", "## Reference", "## Version history"):
        assert section in MultisensoryIntegration.__doc__


# ---------------------------------------------------------------------- inputs
@pytest.mark.parametrize("rate", sorted(TUNING))
@pytest.mark.parametrize(("modality", "visual", "auditory"), [(0, 1, 0), (1, 0, 1), (2, 1, 1)])
def test_inputs_exact(rate, modality, visual, auditory):
    batch = noiseless().trials(3, rng=0, catch=False, rate=rate, modality=modality)
    pos, neg = TUNING[rate]
    want = np.array([pos * visual, pos * auditory, neg * visual, neg * auditory, 1.0])
    s0, s1 = batch.periods["stimulus"][0]
    x = batch.inputs[0]
    np.testing.assert_allclose(x[s0:s1], np.broadcast_to(BASELINE + want, (s1 - s0, 5)), atol=1e-6)
    np.testing.assert_allclose(x[:s0], BASELINE, atol=1e-7)
    d0, d1 = batch.periods["decision"][0]
    assert d0 == s1 and d1 == batch.lengths[0]
    # pycog's multisensory.py: the start cue is on through the stimulus and the decision period
    np.testing.assert_allclose(x[d0:d1, :4], BASELINE, atol=1e-7)
    np.testing.assert_allclose(x[d0:d1, 4], BASELINE + 1.0, atol=1e-6)


def test_tuning_uses_the_rate_range():
    batch = noiseless(rates=(10, 20)).trials(2, rng=1, catch=False, rate=[10, 15], modality=0)
    s = batch.periods["stimulus"][0, 0]
    np.testing.assert_allclose(batch.inputs[:, s, [0, 2]] - BASELINE, [[0.4, 1.2], [0.8, 0.8]], atol=1e-6)


# ---------------------------------------------------------------------- periods and catch trials
def test_period_lengths_in_steps():
    batch = noiseless().trials(50, rng=3, catch=False)
    assert np.all(np.diff(batch.periods["fixation"], axis=1) == 5)
    assert np.all(np.diff(batch.periods["stimulus"], axis=1) == 50)
    assert np.all(np.diff(batch.periods["decision"], axis=1) == 15)
    assert np.all(batch.lengths == 70)
    assert np.all(noiseless(dt=10).trials(4, rng=3, catch=False).lengths == 140)
    assert np.all(noiseless(stimulus_duration=500).trials(4, rng=3, catch=False).lengths == 45)


def test_catch_fraction():
    batch = neurotasks.make_task(ID).trials(10000, rng=4)
    assert abs(batch.params["catch"].mean() - 0.2) < 4 * np.sqrt(0.2 * 0.8 / 10000)


# ---------------------------------------------------------------------- conditions
def test_condition_grid():
    grid = noiseless().conditions()
    assert set(grid) == {"rate", "modality"}
    assert len(grid["rate"]) == 24
    assert len(set(zip(grid["rate"].tolist(), grid["modality"].tolist(), strict=True))) == 24
    assert set(grid["rate"].tolist()) == set(range(9, 17))
    assert set(grid["modality"].tolist()) == {0, 1, 2}


def test_grid_trials_balanced():
    batch = noiseless().grid_trials(5, rng=6)
    catch = batch.params["catch"]
    assert len(batch) == 120 + 30 and catch.sum() == 30  # 20 % catch trials
    pairs = np.stack([batch.params["rate"][~catch], batch.params["modality"][~catch]], axis=1)
    counts = np.unique(pairs, axis=0, return_counts=True)[1]
    assert len(counts) == 24 and np.all(counts == 5)


def test_sampling_is_balanced():
    batch = noiseless().trials(4800, rng=7, catch=False)
    pairs = np.stack([batch.params["rate"], batch.params["modality"]], axis=1)
    counts = np.unique(pairs, axis=0, return_counts=True)[1]
    assert len(counts) == 24
    chi2 = ((counts - 200) ** 2 / 200).sum()
    assert chi2 < 23 + 6 * np.sqrt(2 * 23)


# ---------------------------------------------------------------------- ground truth, targets, mask
@pytest.mark.parametrize(("rate", "answer"), [(9, 1), (12, 1), (13, 0), (16, 0)])
def test_ground_truth_from_boundary(rate, answer):
    batch = noiseless().trials(3, rng=8, catch=False, rate=rate)
    np.testing.assert_array_equal(batch.params["ground_truth"], answer)


def test_boundary_argument():
    batch = noiseless(boundary=10.5).trials(2, rng=8, catch=False, rate=[10, 11])
    np.testing.assert_array_equal(batch.params["ground_truth"], [1, 0])


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 40))
def test_property_tuned_pairs_sum_to_constant(seed, n):
    batch = noiseless().trials(n, rng=seed, catch=False)
    s = batch.periods["stimulus"][:, 0]
    x = batch.inputs[np.arange(n), s] - BASELINE
    modality = batch.params["modality"]
    visual, auditory = modality != 1, modality != 0
    np.testing.assert_allclose(x[:, 0] + x[:, 2], np.where(visual, 1.6, 0.0), atol=1e-6)
    np.testing.assert_allclose(x[:, 1] + x[:, 3], np.where(auditory, 1.6, 0.0), atol=1e-6)
    np.testing.assert_allclose(x[:, 4], 1.0)
    pos = np.where(visual, x[:, 0], x[:, 1])
    np.testing.assert_allclose(pos, 0.4 + 0.8 * (batch.params["rate"] - 9) / 7, atol=1e-6)


# ---------------------------------------------------------------------- scoring
def test_evaluate_outputs_equal_targets_is_perfect():
    task = neurotasks.make_task(ID)
    batch = task.grid_trials(2, rng=10)
    result = task.evaluate(batch, outputs=batch.targets)
    score = task.score(batch, result)
    assert score["percent_correct"] == 100.0 and score["min_condition_percent_correct"] == 100.0
    assert np.all(np.isnan(result["correct"][batch.params["catch"]]))


# ---------------------------------------------------------------------- errors
@pytest.mark.parametrize(("kwargs", "param"), [
    ({"rates": []}, "rates"),
    ({"rates": [0, 10, 15]}, "rates"),
    ({"rates": [-9, 16]}, "rates"),
    ({"rates": [12, 12]}, "rates"),
    ({"rates": [9, 12.5, 16]}, "rates"),
    ({"rates": [9, np.nan]}, "rates"),
    ({"boundary": np.inf}, "boundary"),
    ({"boundary": "high"}, "boundary"),
    ({"fixation": -1}, "fixation"),
    ({"stimulus_duration": -1000}, "stimulus_duration"),
    ({"decision": 0}, "decision"),
    ({"catch_prob": 2}, "catch_prob"),
    ({"catch_duration": -1}, "catch_duration"),
    ({"dt": -20}, "dt"),
    ({"input_noise": -1}, "input_noise"),
])
def test_bad_arguments(kwargs, param):
    with pytest.raises(ValueError, match=param):
        neurotasks.make_task(ID, **kwargs)


@pytest.mark.parametrize(("forced", "param"), [
    ({"rate": 20}, "rate"),
    ({"rate": 5}, "rate"),
    ({"modality": 3}, "modality"),
    ({"ground_truth": 1}, "ground_truth"),
])
def test_bad_forced_parameters(forced, param):
    with pytest.raises(ValueError, match=param):
        noiseless().trials(4, rng=0, **forced)
