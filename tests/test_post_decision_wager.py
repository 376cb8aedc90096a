"""PostDecisionWager-v0: Kiani & Shadlen (2009)'s timing, the sure target and its reward."""

from __future__ import annotations

import numpy as np
import pytest

import neurotasks

ID = "PostDecisionWager-v0"


def quiet(**kwargs):
    return neurotasks.make_task(ID, input_noise=0.0, **kwargs)


def test_metadata():
    task = quiet()
    assert task.action_names == ("fixate", "choice_1", "choice_2", "sure")
    assert task.input_names == ("fixation", "stimulus_1", "stimulus_2", "sure")
    np.testing.assert_array_equal(task.coherences, [0, 3.2, 6.4, 12.8, 25.6, 51.2])
    assert task.rule.default_rewards["sure"] == 0.7 and len(task.conditions()["wager"]) == 24
    assert ID in neurotasks.list_tasks("confidence") and ID in neurotasks.list_tasks("neurogym")


def test_timing():
    batch = quiet(dt=10).trials(6000, rng=0)
    ms = {name: np.diff(batch.periods[name], axis=1)[:, 0] * 10.0 for name in batch.periods}
    assert np.all(ms["fixation"] == 100) and np.all(ms["decision"] == 100)
    assert ms["stimulus"].min() >= 100 and ms["stimulus"].max() <= 900
    assert ms["pre_sure"].min() >= 500 and ms["pre_sure"].max() <= 750
    delay = ms["pre_sure"] + ms["sure_delay"]
    assert delay.min() >= 1190 and delay.max() <= 1810
    assert abs(batch.params["wager"].mean() - 0.5) < 0.03


def test_sure_target_is_shown_from_its_onset_on_wager_trials_only():
    batch = quiet().trials(2, rng=1, wager=np.array([1, 0]), coherence=51.2, ground_truth=0)
    for b, wager in ((0, 1.0), (1, 0.0)):
        p = {k: v[b] for k, v in batch.periods.items()}
        sure = batch.inputs[b, :, 3] - 0.2
        np.testing.assert_allclose(sure[:p["sure_delay"][0]], 0.0, atol=1e-7)
        np.testing.assert_allclose(sure[p["sure_delay"][0]:batch.lengths[b]], wager, atol=1e-6)
        np.testing.assert_allclose(batch.inputs[b, slice(*p["stimulus"]), 1:3] - 0.2,
                                   np.broadcast_to([0.756, 0.244], (p["stimulus"][1] - p["stimulus"][0], 2)),
                                   atol=1e-6)
        np.testing.assert_allclose(batch.targets[b, slice(*p["decision"])],
                                   np.broadcast_to([1.0, 0.2, 0.2], (5, 3)))


def test_rewards():
    task = quiet()
    batch = task.trials(4, rng=2, wager=np.array([1, 0, 1, 1]), ground_truth=1)
    go = batch.periods["decision"][:, 0]
    actions = np.zeros((4, batch.n_steps), np.int64)
    actions[[0, 1], go[:2]] = 3                                    # the sure target: offered, not offered
    actions[2, go[2]] = 2                                          # the correct direction
    actions[3, go[3] - 1] = 3                                      # the sure target, too early
    ev = task.evaluate(batch, actions=actions)
    np.testing.assert_array_equal(ev["reward"], [0.7, -0.1, 1.0, -0.1])
    np.testing.assert_array_equal(ev["sure"], [True, False, False, False])
    assert np.isnan(ev["correct"][0]) and ev["correct"][1:].tolist() == [0.0, 1.0, 0.0]
    assert ev["aborted"].tolist() == [False, True, False, True]
    outputs = np.full_like(batch.targets, 0.2)
    outputs[:, :, 2] = 1.0                                         # a network that always takes the sure bet
    ev = task.evaluate(batch, outputs=outputs)
    score = task.score(batch, ev)
    assert score["percent_sure"] == 100.0 and score["percent_correct"] == 0.0    # the sure bet where not offered


def test_argument_errors():
    with pytest.raises(ValueError, match="sure_onset"):
        neurotasks.make_task(ID, sure_onset=1500)
    with pytest.raises(ValueError, match="wager_prob"):
        neurotasks.make_task(ID, wager_prob=1.5)
    with pytest.raises(ValueError, match="sure_reward"):
        neurotasks.make_task(ID, sure_reward=float("inf"))
    with pytest.raises(ValueError, match="forced parameter coherence"):
        quiet().trials(1, rng=0, coherence=7.0)
