"""ToneDetection-v0: NeuroGym's tone-in-noise detection (tone onsets, duration, noise level), with a report."""

from __future__ import annotations

import numpy as np
import pytest

import neurotasks
from neurotasks.tasks.tone_detection import NEUROGYM_SIGMA

ID = "ToneDetection-v0"


def quiet(**kwargs):
    return neurotasks.make_task(ID, input_noise=0.0, **kwargs)


def test_metadata():
    task = neurotasks.make_task(ID)
    assert task.input_names == ("fixation", "sound")
    assert task.output_names == ("no_tone", "tone_1", "tone_2", "tone_3") and len(task.action_names) == 5
    assert task.period_names == ("stimulus", "decision") and task.dt == 10.0
    assert ID in neurotasks.list_tasks("neurogym") and ID in neurotasks.list_tasks("auditory")
    assert task.rule.response_period == "decision" and task.rule.rt_period == "decision"


@pytest.mark.parametrize(("ground_truth", "onset_ms"), [(1, 500), (2, 1000), (3, 1500)])
def test_tone_is_50ms_at_its_onset(ground_truth, onset_ms):
    batch = quiet().trials(1, rng=0, ground_truth=ground_truth)
    sound = batch.inputs[0, :, 1] - 0.2
    np.testing.assert_array_equal(np.flatnonzero(sound > 0.5) * 10, np.arange(onset_ms, onset_ms + 50, 10))
    assert np.all(np.diff(batch.periods["stimulus"][0]) == 200) and np.all(np.diff(batch.periods["decision"][0]) == 30)


def test_no_tone_trials_and_the_fixation_cue():
    batch = quiet().trials(1, rng=0, ground_truth=0)
    np.testing.assert_allclose(batch.inputs[0, :, 1], 0.2, atol=1e-7)
    np.testing.assert_allclose(batch.inputs[0, :200, 0], 1.2, atol=1e-6)
    np.testing.assert_allclose(batch.inputs[0, 200:, 0], 0.2, atol=1e-6)
    np.testing.assert_allclose(batch.targets[0, 200:], np.broadcast_to([1.0, 0.2, 0.2, 0.2], (30, 4)))
    assert np.all(batch.gt[0, 200:] == 1) and np.all(batch.gt[0, :200] == 0)


def test_noise_is_neurogyms_per_step_noise_at_any_dt():
    """NeuroGym: sd 0.2 / sqrt(dt) per step; here sqrt(2 tau_in / dt) sigma with sigma = 0.2 / sqrt(200)."""
    assert NEUROGYM_SIGMA == pytest.approx(0.2 / np.sqrt(200))
    for dt in (10.0, 50.0):
        task = neurotasks.make_task(ID, dt=dt, input_baseline=5.0)       # far from the rectification
        assert task.input_noise_sd == pytest.approx(0.2 / np.sqrt(dt))


def test_tone_strength_and_balance():
    batch = quiet(tone_strength=0.25).trials(2, rng=0, ground_truth=2)
    assert np.isclose(batch.inputs[0, :, 1].max(), 0.45)
    counts = np.bincount(quiet().trials(8000, rng=1).params["ground_truth"], minlength=4)
    assert np.all(np.abs(counts / 8000 - 0.25) < 0.02)


def test_catch_trials_carry_no_tone():
    batch = quiet(catch_prob=1.0).trials(4, rng=0, ground_truth=3)
    np.testing.assert_allclose(batch.inputs[:, :, 1], 0.2, atol=1e-7)


def test_argument_errors():
    with pytest.raises(ValueError, match="tone_onsets"):
        neurotasks.make_task(ID, tone_onsets=[500, 1980])
    with pytest.raises(ValueError, match="tone_duration"):
        neurotasks.make_task(ID, tone_duration=4)
    with pytest.raises(ValueError, match="tone_strength"):
        neurotasks.make_task(ID, tone_strength=0)
    with pytest.raises(ValueError, match="tone_onsets"):
        neurotasks.make_task(ID, tone_onsets=[500, 500])
    with pytest.raises(ValueError, match="forced parameter ground_truth"):
        quiet().trials(1, rng=0, ground_truth=4)
    assert quiet(tone_onsets=[100, 900]).output_names == ("no_tone", "tone_1", "tone_2")
