"""PerceptualDecisionDelayResponse-v0 (Inagaki et al. 2019's delays) and SingleContextDecision-v0."""

from __future__ import annotations

import numpy as np
import pytest

import neurotasks
from neurotasks.tasks.perceptual_decision import evidence

PDDR, SCD = "PerceptualDecisionDelayResponse-v0", "SingleContextDecision-v0"


def quiet(task_id, **kwargs):
    return neurotasks.make_task(task_id, input_noise=0.0, **kwargs)


def test_metadata():
    task = neurotasks.make_task(PDDR)
    assert task.input_names == ("fixation", "stimulus_1", "stimulus_2")
    assert task.period_names == ("fixation", "stimulus", "delay", "decision")
    assert task.rule.response_period == "decision" and str(task.criterion) == "mean of last 5 percent_correct > 80"
    np.testing.assert_array_equal(task.coherences, [0, 6.4, 12.8, 25.6, 51.2])
    single = neurotasks.make_task(SCD)
    assert single.input_names == ("motion_1", "motion_2", "colour_1", "colour_2")
    for task_id in (PDDR, SCD):
        assert task_id in neurotasks.list_tasks("neurogym") and task_id in neurotasks.list_tasks("decision")


def test_delayed_response_timing_inagaki_2019():
    batch = quiet(PDDR).trials(8000, rng=0)
    for name, ms in (("fixation", 100), ("stimulus", 1160), ("decision", 1500)):   # 1150 ms rounds to 58 steps
        assert np.all(np.diff(batch.periods[name], axis=1) * 20 == ms), name
    delays = np.diff(batch.periods["delay"], axis=1)[:, 0] * 20
    values, counts = np.unique(delays, return_counts=True)
    np.testing.assert_array_equal(values, [300, 500, 700, 900, 1200, 2000, 3200, 4000])
    assert np.all(np.abs(counts / 8000 - 1 / 8) < 0.015)


def test_delayed_response_arrays():
    batch = quiet(PDDR).trials(2, rng=1, coherence=25.6, ground_truth=np.array([0, 1]))
    for b in range(2):
        p = {k: v[b] for k, v in batch.periods.items()}
        x = batch.inputs[b] - 0.2
        np.testing.assert_allclose(x[slice(*p["stimulus"]), 1:], np.broadcast_to(
            evidence(np.array([25.6]), np.array([b]))[0], (58, 2)), atol=1e-6)
        np.testing.assert_allclose(x[slice(*p["delay"]), 1:], 0, atol=1e-7)          # nothing in the delay
        np.testing.assert_allclose(x[:p["decision"][0], 0], 1.0, atol=1e-6)          # fixation until the go cue
        np.testing.assert_allclose(x[slice(*p["decision"]), 0], 0.0, atol=1e-7)
        np.testing.assert_allclose(batch.targets[b, :p["decision"][0]], 0.2)
        assert np.all(batch.gt[b, slice(*p["decision"])] == b + 1) and np.all(batch.gt[b, :p["decision"][0]] == 0)


def test_responding_in_the_delay_aborts():
    task = quiet(PDDR)
    batch = task.trials(1, rng=2)
    actions = np.zeros((1, batch.n_steps), np.int64)
    actions[0, batch.periods["delay"][0, 1] - 1] = 1
    assert task.evaluate(batch, actions=actions)["aborted"][0]


@pytest.mark.parametrize(("context", "attended"), [("motion", "motion_direction"), ("colour", "colour_direction")])
def test_single_context_answer_is_the_fixed_modality(context, attended):
    task = quiet(SCD, context=context)
    batch = task.trials(500, rng=3)
    assert np.all(batch.params["context"] == (0 if context == "motion" else 1))
    np.testing.assert_array_equal(batch.params["ground_truth"], batch.params[attended])
    grid = task.conditions()
    assert len(grid["context"]) == 36 and np.all(grid["context"] == batch.params["context"][0])
    p = {k: v[0] for k, v in batch.periods.items()}
    assert np.all(batch.inputs[:, p["stimulus"][0]] - 0.2 > -1e-6)


def test_single_context_errors():
    with pytest.raises(ValueError, match="context"):
        neurotasks.make_task(SCD, context="both")
    with pytest.raises(ValueError, match="forced parameter context"):
        quiet(SCD).trials(2, rng=0, context=1)
    with pytest.raises(ValueError, match="delay"):
        neurotasks.make_task(PDDR, delay=("choice", [300, -1]))
