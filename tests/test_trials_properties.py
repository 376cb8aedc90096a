"""Invariants of every task's trial batches, property-tested over seeds and batch sizes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import neurotasks
from tests.conftest import TASK_IDS

TASKS = {task_id: neurotasks.make_task(task_id) for task_id in TASK_IDS}

seeds = st.integers(0, 2**32 - 1)
sizes = st.integers(1, 24)


@pytest.mark.parametrize("task_id", TASK_IDS)
@given(seed=seeds, n=sizes)
def test_batch_layout(task_id, seed, n):
    task = TASKS[task_id]
    batch = task.trials(n, seed)
    B, T = len(batch), batch.n_steps
    n_in, n_out = len(task.input_names), len(task.output_names)
    assert batch.inputs.shape == (B, T, n_in) and batch.inputs.dtype == np.float32
    assert batch.targets.shape == (B, T, n_out) and batch.targets.dtype == np.float32
    assert batch.mask.shape == (B, T, n_out) and batch.mask.dtype == np.float32
    assert batch.gt.shape == (B, T) and batch.gt.dtype == np.int64
    assert B == n and batch.lengths.max() == T and batch.lengths.min() >= 1
    assert "catch" in batch.params
    if task.rule.action_kind == "discrete":
        assert "ground_truth" in batch.params
    assert all(v.shape == (B,) for v in batch.params.values())
    assert batch.dt == task.dt

    # padding: mask 0, gt -1, inputs and targets 0
    pad = ~batch.valid
    assert np.all(batch.mask[pad] == 0) and np.all(batch.gt[pad] == -1)
    assert np.all(batch.inputs[pad] == 0) and np.all(batch.targets[pad] == 0)
    assert np.all(batch.gt[~pad] >= 0)
    assert set(np.unique(batch.mask)) <= {0.0, 1.0}

    # periods, in order, tile [0, length) exactly
    spans = np.stack([batch.periods[name] for name in task.period_names], axis=1)   # (B, P, 2)
    assert list(batch.periods) == list(task.period_names)
    assert np.all(spans[:, 0, 0] == 0)
    assert np.all(spans[:, 1:, 0] == spans[:, :-1, 1])
    assert np.all(spans[:, :, 1] >= spans[:, :, 0])
    assert np.array_equal(spans[:, -1, 1], batch.lengths)

    # observations stay inside the environment's observation space
    low, high = task.observation_range
    assert np.all(batch.inputs[~pad] >= low) and np.all(batch.inputs[~pad] <= high)
    if task.rectify_inputs:
        assert np.all(batch.inputs >= 0)
    lo, hi = task.output_range
    assert np.all(batch.targets >= lo) and np.all(batch.targets <= hi)


@pytest.mark.parametrize("task_id", TASK_IDS)
@given(seed=seeds)
def test_seeded_batches_are_reproducible(task_id, seed):
    task = TASKS[task_id]
    a, b = task.trials(5, seed), task.trials(5, np.random.default_rng(seed))
    for field in ("inputs", "targets", "mask", "gt", "lengths"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    for key in a.params:
        np.testing.assert_array_equal(a.params[key], b.params[key])


@pytest.mark.parametrize("task_id", TASK_IDS)
def test_catch_fraction(task_id):
    task = TASKS[task_id]
    catch = task.trials(4000, 0).params["catch"]
    p = task.catch_prob
    assert abs(catch.mean() - p) <= 4 * np.sqrt(p * (1 - p) / catch.size) + 1e-12
    if p > 0:
        forced = task.trials(10, 1, catch=True)
        assert np.all(forced.params["catch"])
        assert np.all(forced.lengths == round(task.catch_duration / task.dt))


@pytest.mark.parametrize("task_id", TASK_IDS)
def test_forcing_params_and_errors(task_id):
    task = TASKS[task_id]
    with pytest.raises(ValueError, match="no_such_param"):
        task.trials(3, 0, no_such_param=1)
    with pytest.raises(ValueError, match="n must be"):
        task.trials(0, 0)
    with pytest.raises(TypeError, match="rng"):
        task.trials(3, rng="seed")
    batch = task.trials(6, 0, catch=False)
    assert not batch.params["catch"].any()


@pytest.mark.parametrize("task_id", TASK_IDS)
def test_evaluate_targets_is_perfect(task_id):
    """Reading the targets back as outputs scores every non-catch trial correct."""
    task = TASKS[task_id]
    if not getattr(task, "supervised_target", True):
        pytest.skip("no supervised target: the observation follows the agent's own actions (closed loop)")
    batch = task.trials(64, 3, catch=False)
    result = task.evaluate(batch, outputs=batch.targets)
    assert set(result) >= {"choice", "correct", "rt"}
    assert all(np.shape(v) == (64,) for v in result.values())
    assert np.nanmean(result["correct"]) == 1.0
    with pytest.raises(ValueError, match="outputs"):
        task.evaluate(batch, outputs=batch.targets[:, :-1])
    with pytest.raises(ValueError, match="exactly one"):
        task.evaluate(batch)


@pytest.mark.parametrize("task_id", TASK_IDS)
def test_grid_trials_cover_every_condition(task_id):
    task = TASKS[task_id]
    try:
        grid = task.conditions()
    except NotImplementedError:
        pytest.skip("no condition grid")
    k = len(next(iter(grid.values())))
    batch = task.grid_trials(2, 0)
    real = ~batch.params["catch"]
    assert real.sum() == 2 * k
    for name, values in grid.items():
        np.testing.assert_allclose(batch.params[name][real], np.tile(values, 2))
    assert task.criterion.metric in task.score(batch, task.evaluate(batch, outputs=batch.targets))


def test_list_tasks_and_make_task():
    ids = neurotasks.list_tasks()
    assert ids == sorted(ids) and "PerceptualDecision-v0" in ids
    assert neurotasks.list_tasks(tag="decision")
    assert set(neurotasks.list_tasks(tag="no-such-tag")) == set()
    with pytest.raises(ValueError, match="unknown task id"):
        neurotasks.make_task("NoSuchTask-v0")
    with pytest.raises(TypeError, match="frobnicate"):
        neurotasks.make_task("PerceptualDecision-v0", frobnicate=1)
