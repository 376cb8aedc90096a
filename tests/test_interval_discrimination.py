"""IntervalDiscrimination-v0: NeuroGym's timing of Genovesio et al. (2009)'s duration comparison."""

from __future__ import annotations

import numpy as np
import pytest

import neurotasks

ID = "IntervalDiscrimination-v0"


def quiet(**kwargs):
    return neurotasks.make_task(ID, input_noise=0.0, **kwargs)


def steps(batch, name):
    return np.diff(batch.periods[name], axis=1)[:, 0]


def test_metadata():
    task = neurotasks.make_task(ID)
    assert task.period_names == ("fixation", "stim1", "delay1", "stim2", "delay2", "decision")
    assert task.output_names == ("first_longer", "second_longer") and task.criterion.threshold == 80.0
    assert ID in neurotasks.list_tasks("timing") and ID in neurotasks.list_tasks("neurogym")


def test_timing():
    batch = quiet().trials(20000, rng=0)
    assert np.all(steps(batch, "fixation") == 15) and np.all(steps(batch, "delay2") == 25)
    assert np.all(steps(batch, "decision") == 15)
    for name in ("stim1", "stim2"):
        s = steps(batch, name)
        assert s.min() == 15 and s.max() == 30                       # [300, 600) ms, rounded to 20 ms steps
    d = steps(batch, "delay1") * 20
    assert d.min() >= 800 and d.max() <= 1500 and abs(d.mean() - 1150) < 5
    np.testing.assert_array_equal(steps(batch, "stim1") * 20, batch.params["duration_1"])
    np.testing.assert_array_equal(steps(batch, "stim2") * 20, batch.params["duration_2"])


def test_no_ties_and_no_bias():
    p = quiet().trials(40000, rng=1).params
    assert not np.any(p["duration_1"] == p["duration_2"])
    np.testing.assert_array_equal(p["ground_truth"], np.where(p["duration_1"] > p["duration_2"], 0, 1))
    assert abs(p["ground_truth"].mean() - 0.5) < 0.01


def test_inputs_and_targets():
    batch = quiet().trials(1, rng=2, duration_1=500, duration_2=340)
    p = {k: v[0] for k, v in batch.periods.items()}
    x = batch.inputs[0] - 0.2
    np.testing.assert_allclose(x[slice(*p["stim1"])], np.broadcast_to([1, 1, 0], (25, 3)), atol=1e-6)
    np.testing.assert_allclose(x[slice(*p["stim2"])], np.broadcast_to([1, 0, 1], (17, 3)), atol=1e-6)
    np.testing.assert_allclose(x[slice(*p["decision"])], 0, atol=1e-6)
    assert batch.params["ground_truth"][0] == 0
    np.testing.assert_allclose(batch.targets[0, slice(*p["decision"])], np.broadcast_to([1.0, 0.2], (15, 2)))
    assert np.all(batch.mask[0] == 1)


def test_forcing_one_duration_moves_the_other_off_a_tie():
    p = quiet().trials(400, rng=3, duration_2=420).params
    assert not np.any(p["duration_1"] == 420) and np.all(np.abs(p["duration_1"] - 420) >= 20)
    with pytest.raises(ValueError, match="duration_1 and duration_2 must differ"):
        quiet().trials(2, rng=0, duration_1=400, duration_2=405)
    with pytest.raises(ValueError, match="ground_truth is derived"):
        quiet().trials(2, rng=0, ground_truth=1)
    with pytest.raises(ValueError, match="forced parameter duration_1"):
        quiet().trials(2, rng=0, duration_1=900)


def test_argument_errors():
    with pytest.raises(ValueError, match="stimulus_duration"):
        neurotasks.make_task(ID, stimulus_duration=400)            # every duration the same: no answer
    with pytest.raises(ValueError, match="delay1"):
        neurotasks.make_task(ID, delay1=-3)
