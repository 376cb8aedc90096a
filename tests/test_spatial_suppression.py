"""SpatialSuppressMotion-v0: NeuroGym's stimuli and human report curves (Tadin et al. 2003)."""

from __future__ import annotations

import numpy as np
import pytest

import neurotasks
from neurotasks.tasks.spatial_suppression import report_probabilities

ID = "SpatialSuppressMotion-v0"


def test_metadata():
    task = neurotasks.make_task(ID)
    assert len(task.input_names) == 32 and task.output_names == ("p_left", "p_right", "p_up", "p_down")
    assert task.dt == 8.3 and str(task.criterion) == "rmse <= 0.05" and len(task.conditions()["stimulus"]) == 8
    assert ID in neurotasks.list_tasks("continuous output") and ID in neurotasks.list_tasks("neurogym")
    assert np.all(task.trials(3, rng=0).lengths == 36)                     # 300 ms = 36 frames


def test_inputs_small_low_contrast_and_large_high_contrast():
    batch = neurotasks.make_task(ID).trials(2, rng=0, stimulus=np.array([0, 1]), direction=2)     # up
    pools = batch.inputs[:, 0].reshape(2, 4, 8)
    # up = 0 rad: the up pool at full contrast, left and right at half, down at 0; only size units < diameter
    np.testing.assert_allclose(pools[0, :, 0], [0.025, 0.025, 0.05, 0.0], atol=1e-7)
    assert np.all(pools[0, :, 1:] == 0)
    np.testing.assert_allclose(pools[1], np.repeat([[0.495], [0.495], [0.99], [0.0]], 8, axis=1), atol=1e-6)
    assert np.all(batch.inputs == batch.inputs[:, :1])                      # constant over the stimulus


def test_targets_are_neurogyms_curves():
    t = np.arange(36) * 8.3
    p = report_probabilities(np.array([0, 1]), np.array([2, 0]), t)
    np.testing.assert_allclose(p.sum(axis=2), 1.0, atol=1e-6)
    assert p[0, 0, 2] == pytest.approx(0.249) and p[0, 35, 2] == pytest.approx(0.99)
    assert p[0, 20, 2] == pytest.approx(0.875) and p[0, 20, 3] == pytest.approx(0.058)   # small: fast
    assert p[1, 20, 0] == pytest.approx(0.65) and p[1, 20, 1] == pytest.approx(0.3083)   # large: slower, opposite
    assert p[1, 10, 0] == pytest.approx((0.249 * 2 + 0.27) / 3, abs=1e-6)                 # between frames 9 and 12
    # suppression: the large high-contrast stimulus is reported correctly later than the small one
    assert np.all(p[1, 8:27, 0] < p[0, 8:27, 2])


def test_argument_errors():
    with pytest.raises(ValueError, match="stimulus_duration"):
        neurotasks.make_task(ID, stimulus_duration=-5)
    with pytest.raises(ValueError, match="forced parameter direction"):
        neurotasks.make_task(ID).trials(1, rng=0, direction=4)
