"""OneTwoThreeGo-v0: Egger et al. (2019)'s 1-2-3-Go with NeuroGym's intervals."""

from __future__ import annotations

import numpy as np
import pytest

import neurotasks

ID = "OneTwoThreeGo-v0"


def quiet(**kwargs):
    return neurotasks.make_task(ID, input_noise=0.0, **kwargs)


def test_metadata():
    task = neurotasks.make_task(ID)
    assert task.input_names == ("flash",) and task.output_names == ("ramp",) and task.action_names == ("wait", "go")
    assert task.period_names == ("fixation", "interval_1", "interval_2", "production")
    assert ID in neurotasks.list_tasks("timing") and ID in neurotasks.list_tasks("neurogym")
    np.testing.assert_array_equal(task.conditions()["interval"], [600, 700, 800, 900, 1000])
    assert task.rule.tolerance == 0.2 and str(task.criterion) == "mean of last 5 percent_correct > 90"


@pytest.mark.parametrize("interval", [600.0, 1000.0])
def test_three_flashes_t_s_apart_and_the_target_t_s_after_the_third(interval):
    batch = quiet().trials(4, rng=0, interval=interval)
    k = round(interval / 20)
    for b in range(4):
        onsets = np.flatnonzero(np.diff(np.r_[0.0, batch.inputs[b, :, 0]]) > 0.5)
        assert len(onsets) == 3 and np.all(np.diff(onsets) == k)
        assert np.all(np.diff(np.flatnonzero(batch.inputs[b, :, 0] > 0.5).reshape(3, 5), axis=1) == 1)  # 100 ms
        assert onsets[2] == batch.periods["production"][b, 0]
        assert np.flatnonzero(batch.gt[b] == 1).tolist() == [onsets[2] + k]
        assert batch.targets[b, onsets[2] + k, 0] == 1.0
        assert np.diff(batch.periods["production"][b])[0] == round(1.5 * k)
    ev = quiet().evaluate(batch, outputs=batch.targets)
    np.testing.assert_array_equal(ev["produced"], interval)


def test_fixation_is_neurogyms_truncated_exponential():
    ms = np.diff(quiet().trials(20000, rng=1).periods["fixation"], axis=1)[:, 0] * 20.0
    assert ms.min() >= 100 and ms.max() <= 800
    # mean of an exponential of scale 400 truncated to [100, 800): 100 + 400 - 700 e^-1.75 / (1 - e^-1.75)
    z = np.exp(-700 / 400)
    assert abs(ms.mean() - (500 - 700 * z / (1 - z))) < 5


def test_going_early_aborts_and_timing_is_rewarded_linearly():
    task = quiet()
    batch = task.trials(3, rng=2, interval=800)
    third = batch.periods["production"][:, 0]
    actions = np.zeros((3, batch.n_steps), np.int64)
    actions[0, third[0] - 1] = 1                     # before the third flash
    actions[1, third[1] + 40] = 1                    # on time
    actions[2, third[2] + 44] = 1                    # 80 ms late: half the reward at tolerance 160 ms
    ev = task.evaluate(batch, actions=actions)
    assert ev["aborted"][0] and ev["reward"][0] == -0.1
    assert ev["reward"][1] == 1.0 and ev["reward"][2] == pytest.approx(0.5)


def test_argument_errors():
    with pytest.raises(ValueError, match="pulse_width"):
        neurotasks.make_task(ID, pulse_width=600)
    with pytest.raises(ValueError, match="intervals"):
        neurotasks.make_task(ID, intervals=[])
    with pytest.raises(ValueError, match="forced parameter interval"):
        quiet().trials(1, rng=0, interval=650)
