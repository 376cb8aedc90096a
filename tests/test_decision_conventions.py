"""The paper's conventions, shared by every decision task (pycog): one test instead of a copy per task.

Targets 0.2 on every output during fixation; 1.0 on the correct output and 0.2 on the others in
the decision period; the error mask 1 on fixation and decision only; ``gt`` the answer + 1 in the
decision period. Catch trials: baseline inputs only, targets 0.2 and mask 1 everywhere.
"""

from __future__ import annotations

import numpy as np
import pytest

import neurotasks

#: Task id -> catch-trial length in ms (pinned: the papers' values).
CATCH_MS = {"PerceptualDecision-v0": 2000, "ContextDecision-v0": 2000, "MultisensoryIntegration-v0": 2500,
            "ParametricWorkingMemory-v0": 2500}


def quiet(task_id):
    return neurotasks.make_task(task_id, input_noise=0.0)


@pytest.mark.parametrize("task_id", sorted(CATCH_MS))
def test_targets_mask_and_gt(task_id):
    batch = quiet(task_id).trials(48, rng=11, catch=False)
    names = list(batch.periods)
    period = batch.period_of_steps()                                  # (B, T), -1 on padding
    fixation, decision = period == names.index("fixation"), period == names.index("decision")
    free = (period >= 0) & ~fixation & ~decision                      # stimulus, delay, ...: unconstrained
    answer = batch.params["ground_truth"]
    chosen = np.arange(batch.targets.shape[2])[None, :] == answer[:, None]           # (B, n_out)
    np.testing.assert_array_equal(batch.targets[fixation], np.float32(0.2))
    np.testing.assert_array_equal(batch.mask[fixation], 1.0)
    np.testing.assert_array_equal(batch.targets[free], 0.0)
    np.testing.assert_array_equal(batch.mask[free], 0.0)
    expected = np.where(chosen, np.float32(1.0), np.float32(0.2))[:, None, :]
    np.testing.assert_array_equal(np.where(decision[..., None], batch.targets, expected), np.broadcast_to(
        expected, batch.targets.shape))
    np.testing.assert_array_equal(batch.mask[decision], 1.0)
    np.testing.assert_array_equal(batch.gt, np.where(decision, answer[:, None] + 1, np.where(period >= 0, 0, -1)))
    assert decision.any(axis=1).all() and fixation.any(axis=1).all()


@pytest.mark.parametrize("task_id", sorted(CATCH_MS))
def test_catch_trials_are_all_fixation(task_id):
    task = quiet(task_id)
    batch = task.trials(6, rng=7, catch=True)
    assert np.all(batch.lengths == CATCH_MS[task_id] / task.dt)
    np.testing.assert_allclose(batch.inputs, task.input_baseline, atol=1e-7)
    np.testing.assert_array_equal(batch.targets, np.float32(0.2))
    np.testing.assert_array_equal(batch.mask, 1.0)
    np.testing.assert_array_equal(batch.gt, 0)


@pytest.mark.parametrize("task_id", sorted(CATCH_MS))
def test_input_noise_statistics_and_rectification(task_id):
    """White noise of per-step sd sqrt(2 tau_in / dt) sigma = sqrt(10) * 0.01 on every input; inputs >= 0."""
    quiet_batch = quiet(task_id).trials(200, rng=3)
    noisy = neurotasks.make_task(task_id).trials(200, rng=3)     # same draws but the noise, drawn last
    noise = (noisy.inputs - quiet_batch.inputs)[noisy.valid]
    assert noise.std() == pytest.approx(np.sqrt(2 * 100 / 20) * 0.01, rel=0.02)
    assert abs(noise.mean()) < 1e-3
    assert noisy.inputs.min() >= 0.0


@pytest.mark.parametrize("task_id", sorted(CATCH_MS))
def test_replaying_gt_over_the_grid_is_rewarded(task_id):
    """Actions = gt on every condition: +1 and correct (the right choice) on real trials, 0 on catch
    trials (holding fixation is their success)."""
    task = neurotasks.make_task(task_id)
    batch = task.grid_trials(1, rng=14)
    result = task.evaluate(batch, actions=batch.gt)
    catch = batch.params["catch"]
    assert catch.any() and not catch.all()
    np.testing.assert_array_equal(result["reward"][~catch], 1.0)
    np.testing.assert_array_equal(result["correct"][~catch], 1.0)
    np.testing.assert_array_equal(result["choice"][~catch], batch.params["ground_truth"][~catch])
    np.testing.assert_array_equal(result["reward"][catch], 0.0)
    assert np.all(result["is_success"])
