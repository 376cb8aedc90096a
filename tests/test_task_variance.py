"""Task variance and clustering of units (Yang et al. 2019, Fig. 2) on data with a known answer."""

from __future__ import annotations

import numpy as np
import pytest

from agents.analysis.task_variance import cluster_units, normalised_profiles, silhouette, task_variance


def test_task_variance_is_the_variance_across_trials_averaged_over_steps():
    rng = np.random.default_rng(0)
    rates = rng.normal(size=(6, 10, 4))
    task = np.array([0, 0, 0, 1, 1, 1])
    start = np.full(6, 2)
    lengths = np.full(6, 10)
    var = task_variance(rates, task, start, lengths, n_tasks=3)
    np.testing.assert_allclose(var[:, 0], rates[:3, 2:].var(axis=0).mean(axis=0))
    np.testing.assert_allclose(var[:, 1], rates[3:, 2:].var(axis=0).mean(axis=0))
    assert np.all(np.isnan(var[:, 2]))                              # no trials of task 2


def test_trials_are_aligned_at_their_start():
    base = np.arange(8.0)[None, :, None] * np.ones((3, 1, 2))    # the same ramp on every trial
    shifted = np.zeros((3, 12, 2))
    starts = np.array([0, 2, 4])
    for i, s in enumerate(starts):
        shifted[i, s:s + 8] = base[i]
    var = task_variance(shifted, np.zeros(3), starts, starts + 8, n_tasks=1)
    np.testing.assert_allclose(var, 0.0, atol=1e-12)              # aligned, the trials agree exactly
    with pytest.raises(ValueError, match="start must lie"):
        task_variance(shifted, np.zeros(3), starts + 8, starts + 8, n_tasks=1)


def test_profiles_drop_inactive_units_and_are_normalised_by_their_maximum():
    var = np.array([[1.0, 0.5], [1e-4, 1e-4], [0.2, 0.4]])
    active, profiles = normalised_profiles(var)
    np.testing.assert_array_equal(active, [0, 2])
    np.testing.assert_allclose(profiles, [[1.0, 0.5], [0.5, 1.0]])


def test_silhouette_of_a_hand_computed_example():
    x = np.array([[0.0], [1.0], [5.0], [6.0]])
    labels = np.array([0, 0, 1, 1])
    # point 0: a = 1, b = mean(5, 6) = 5.5 -> 1 - 1/5.5; point 1: a = 1, b = 4.5 -> 1 - 1/4.5 (symmetric)
    expected = np.mean([1 - 1 / 5.5, 1 - 1 / 4.5, 1 - 1 / 4.5, 1 - 1 / 5.5])
    assert silhouette(x, labels) == pytest.approx(expected)


def test_clustering_recovers_groups_of_units_serving_different_tasks():
    rng = np.random.default_rng(1)
    groups = np.repeat(np.arange(3), 20)
    prototype = np.array([[1, 1, 0, 0, 0, 0], [0, 0, 1, 1, 0, 0], [0, 0, 0, 0, 1, 1]], float)
    profiles = np.clip(prototype[groups] + rng.normal(0, 0.05, (60, 6)), 0, None)
    result = cluster_units(profiles, n_clusters=range(2, 8))
    assert result["n_clusters"] == 3
    for g in range(3):                                            # each group is one cluster
        assert len(set(result["labels"][groups == g])) == 1
    assert sorted(result["order"]) == list(range(60))
    with pytest.raises(ValueError, match="profiles must be"):
        cluster_units(np.ones((2, 3)))
