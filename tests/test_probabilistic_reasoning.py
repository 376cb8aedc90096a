"""ProbabilisticReasoning-v0: Yang & Shadlen (2007)'s shapes, weights and reward probability."""

from __future__ import annotations

import numpy as np
import pytest

import neurotasks

ID = "ProbabilisticReasoning-v0"


def quiet(**kwargs):
    return neurotasks.make_task(ID, input_noise=0.0, **kwargs)


def test_metadata_and_timing():
    task = quiet()
    assert task.period_names == ("fixation", "stimulus1", "stimulus2", "stimulus3", "stimulus4", "delay", "decision")
    assert len(task.input_names) == 41 and task.input_names[1] == "loc0_shape0"
    np.testing.assert_array_equal(task.shape_weights, [-10, -0.9, -0.7, -0.5, -0.3, 0.3, 0.5, 0.7, 0.9, 10])
    assert str(task.criterion) == "mean of last 5 percent_likelier > 90" and len(task.orders) == 24
    batch = task.trials(500, rng=0)
    for name in ("fixation", "stimulus1", "stimulus4", "decision"):
        assert np.all(np.diff(batch.periods[name], axis=1) == 25), name
    delay = np.diff(batch.periods["delay"], axis=1)[:, 0] * 20
    assert delay.min() >= 440 and delay.max() <= 560


def test_shapes_accumulate_at_their_locations():
    batch = quiet().trials(1, rng=0, shape_1=9, shape_2=0, shape_3=4, shape_4=5, location_order=23)   # order 3,2,1,0
    x = batch.inputs[0] - 0.2
    on = [np.flatnonzero(x[batch.periods[f"stimulus{k}"][0, 0], 1:] > 0.5).tolist() for k in (1, 2, 3, 4)]
    assert on == [[39], [20, 39], [14, 20, 39], [5, 14, 20, 39]]          # loc * 10 + shape
    np.testing.assert_allclose(x[slice(*batch.periods["delay"][0]), 1:], 0, atol=1e-7)
    assert batch.params["log_odds"][0] == pytest.approx(10 - 10 - 0.3 + 0.3)


def test_reward_probability_is_one_over_one_plus_ten_to_minus_l():
    task = quiet()
    batch = task.trials(3000, rng=1, shape_1=5, shape_2=6, shape_3=4, shape_4=4)     # L = 0.3 + 0.5 - 0.3 - 0.3
    assert np.all(batch.params["log_odds"] == 0.2) and np.all(batch.params["likelier"] == 1)
    assert abs(batch.params["ground_truth"].mean() - 1 / (1 + 10 ** -0.2)) < 0.03          # 3.4 sd
    cancel = task.trials(2, rng=2, shape_1=5, shape_2=5, shape_3=5, shape_4=1).params   # 0.3 * 3 - 0.9: exactly 0
    assert np.all(cancel["log_odds"] == 0.0)
    forced = task.trials(2, rng=0, shape_1=9, reward_draw=np.array([0.0, 0.999999]), shape_2=9, shape_3=9, shape_4=9)
    np.testing.assert_array_equal(forced.params["ground_truth"], [1, 1])


def test_percent_likelier_scores_against_the_sign_of_the_evidence():
    task = quiet()
    batch = task.trials(600, rng=3)
    choice = batch.params["likelier"]
    outputs = np.full_like(batch.targets, 0.2)
    rows = np.arange(len(batch))
    decision = batch.periods["decision"]
    for b in rows:
        outputs[b, decision[b, 0]:decision[b, 1], choice[b]] = 1.0
    score = task.score(batch, task.evaluate(batch, outputs=outputs))
    assert score["percent_likelier"] == 100.0 and score["percent_correct"] < 100.0


def test_argument_errors():
    with pytest.raises(ValueError, match="n_locations"):
        neurotasks.make_task(ID, n_locations=7)
    with pytest.raises(ValueError, match="shape_weights"):
        neurotasks.make_task(ID, shape_weights=[])
    with pytest.raises(ValueError, match="forced parameter location_order"):
        quiet().trials(1, rng=0, location_order=24)
    with pytest.raises(ValueError, match="ground_truth is derived"):
        quiet().trials(1, rng=0, ground_truth=1)
    assert len(neurotasks.make_task(ID, n_locations=2).input_names) == 21
