"""Task.trials_from: one build for many generators, each row block equal to its own trials() call."""

from __future__ import annotations

import numpy as np
import pytest

import neurotasks
from neurotasks.batch import concatenate

TASK_IDS = neurotasks.list_tasks()


def same_trials(a, i, b, j):
    """Trial i of batch a equals trial j of batch b (unpadded arrays, params, periods)."""
    n = int(a.lengths[i])
    assert n == int(b.lengths[j])
    for field in ("inputs", "targets", "mask", "gt"):
        np.testing.assert_array_equal(getattr(a, field)[i, :n], getattr(b, field)[j, :n], err_msg=field)
    for key in a.params:
        np.testing.assert_array_equal(a.params[key][i], b.params[key][j], err_msg=key)
    for key in a.periods:
        np.testing.assert_array_equal(a.periods[key][i], b.periods[key][j], err_msg=key)


@pytest.mark.parametrize("task_id", TASK_IDS)
def test_rows_equal_each_generators_own_batch(task_id):
    task = neurotasks.make_task(task_id)
    seeds, n = (4, 5, 6), 7
    joint = task.trials_from([np.random.default_rng(s) for s in seeds], n)
    assert len(joint) == len(seeds) * n
    for g, seed in enumerate(seeds):
        alone = task.trials(n, np.random.default_rng(seed))
        for k in range(n):
            same_trials(joint, g * n + k, alone, k)


@pytest.mark.parametrize("task_id", ["PerceptualDecision-v0", "FlipFlop-v0"])
def test_generators_advance_as_their_own_calls_would(task_id):
    task = neurotasks.make_task(task_id)
    rngs = [np.random.default_rng(1), np.random.default_rng(2)]
    task.trials_from(rngs, 3)
    again = [np.random.default_rng(1), np.random.default_rng(2)]
    for rng in again:
        task.trials(3, rng)
    assert [r.random() for r in rngs] == [r.random() for r in again]


def test_fill_that_draws_is_found_out_once():
    assert neurotasks.make_task("FlipFlop-v0")._fill_draws() is True
    assert neurotasks.make_task("PerceptualDecision-v0")._fill_draws() is False


def test_padding_is_cleared():
    task = neurotasks.make_task("PerceptualDecision-v0")
    batch = task.trials_from([np.random.default_rng(s) for s in range(4)], 8)
    padding = np.arange(batch.n_steps)[None, :] >= batch.lengths[:, None]
    assert np.all(batch.inputs[padding] == 0) and np.all(batch.gt[padding] == -1)
    assert np.all(batch.mask[padding] == 0) and np.all(batch.targets[padding] == 0)


def test_bad_arguments():
    task = neurotasks.make_task("PerceptualDecision-v0")
    with pytest.raises(ValueError, match="n must"):
        task.trials_from([np.random.default_rng(0)], 0)
    with pytest.raises(ValueError, match="rngs"):
        task.trials_from([], 3)


def test_concatenate_pads_to_the_longest_trial():
    task = neurotasks.make_task("PathIntegration-v0")
    a, b = task.trials(2, 0), task.trials(3, 1)
    joint = concatenate([a, b])
    assert joint.n_steps == max(a.n_steps, b.n_steps) and len(joint) == 5
    assert joint.extras["position"].shape[:2] == (5, joint.n_steps)
    same_trials(joint, 3, b, 1)
    assert np.all(joint.gt[np.arange(joint.n_steps)[None, :] >= joint.lengths[:, None]] == -1)
