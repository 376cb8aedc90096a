"""PulseDecision-v0: NeuroGym's pulse-count version of the Poisson-clicks task (Scott et al. 2015)."""

from __future__ import annotations

import numpy as np
import pytest

import neurotasks

ID = "PulseDecision-v0"


def quiet(**kwargs):
    return neurotasks.make_task(ID, input_noise=0.0, **kwargs)


def test_metadata_and_timing():
    task = quiet()
    assert task.input_names == ("fixation", "pulse_1", "pulse_2") and task.dt == 10.0
    assert ID in neurotasks.list_tasks("neurogym") and ID in neurotasks.list_tasks("evidence integration")
    batch = task.trials(3, rng=0)
    for name, ms in (("fixation", 500), ("stimulus", 1500), ("decision", 500)):
        assert np.all(np.diff(batch.periods[name], axis=1) * 10 == ms), name


def test_pulses_are_10ms_at_the_start_of_their_250ms_bins():
    batch = quiet().trials(1, rng=0, pulses_1=0b101001, pulses_2=0b000110, tie_break=1)
    onset = batch.periods["stimulus"][0, 0]
    for channel, bins in ((1, [0, 3, 5]), (2, [1, 2])):
        np.testing.assert_array_equal(np.flatnonzero(batch.inputs[0, :, channel] > 0.7), onset + 25 * np.array(bins))
    np.testing.assert_array_equal([batch.params["n_pulses_1"][0], batch.params["n_pulses_2"][0]], [3, 2])
    assert batch.params["ground_truth"][0] == 0                 # more pulses on side 1, whatever the tie break
    np.testing.assert_allclose(batch.inputs[0, :batch.periods["decision"][0, 0], 0], 1.2, atol=1e-6)


def test_ties_go_to_tie_break_and_the_rich_side_pulses_at_0_7():
    task = quiet()
    tie = task.trials(2, rng=0, pulses_1=0b11, pulses_2=0b1100, tie_break=np.array([0, 1]))
    np.testing.assert_array_equal(tie.params["ground_truth"], [0, 1])
    p = task.trials(20000, rng=1).params
    rich = p["rich_side"] == 0
    assert abs(p["n_pulses_1"][rich].mean() / 6 - 0.7) < 0.01 and abs(p["n_pulses_2"][rich].mean() / 6 - 0.3) < 0.01
    # ties: sum_k C(6, k)^2 (0.21)^6... = 0.079 of the trials
    ties = (p["n_pulses_1"] == p["n_pulses_2"]).mean()
    assert abs(ties - 0.0795) < 0.01 and abs(p["ground_truth"].mean() - 0.5) < 0.015


def test_argument_errors():
    for kwargs, match in (({"n_bins": 0}, "n_bins"), ({"n_bins": 17}, "n_bins"),
                          ({"pulse_duration": 250}, "pulse_duration"), ({"p_pulse": (0.8, 0.2)}, "p_pulse"),
                          ({"p_pulse": 0.5}, "p_pulse"), ({"p_pulse": (0.1, 0.2, 0.3)}, "p_pulse"),
                          ({"bin_duration": -1}, "bin_duration")):
        with pytest.raises(ValueError, match=match):
            neurotasks.make_task(ID, **kwargs)
    with pytest.raises(ValueError, match="forced parameter pulses_1"):
        quiet().trials(1, rng=0, pulses_1=64)
    with pytest.raises(ValueError, match="ground_truth is derived"):
        quiet().trials(1, rng=0, ground_truth=0)
