"""FlipFlop-v0: pulses, targets that follow them, masks, errors, env checks."""

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from hypothesis import given, settings
from hypothesis import strategies as st
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import neurotasks

TASK_ID = "FlipFlop-v0"


def reference_targets(onsets: np.ndarray, width: int):
    """A plain sequential reading of the spec for one trial: (T, n) targets and mask."""
    n_steps, n_bits = onsets.shape
    targets, mask = np.zeros((n_steps, n_bits)), np.zeros((n_steps, n_bits))
    for bit in range(n_bits):
        state, since = 0, None
        for t in range(n_steps):
            if onsets[t, bit]:
                state, since = onsets[t, bit], 0
            elif since is not None:
                since += 1
            targets[t, bit] = state
            mask[t, bit] = since is not None and since >= width
    return targets, mask


def test_declared_metadata():
    task = neurotasks.make_task(TASK_ID)
    assert task.dt == 10.0 and task.n_bits == 3
    assert task.input_names == ("pulse_1", "pulse_2", "pulse_3")
    assert task.output_names == ("bit_1", "bit_2", "bit_3")
    assert task.period_names == ("trial",)
    assert task.output_range == (-1.0, 1.0)
    assert task.input_noise == 0.0
    assert str(task.criterion) == "rmse <= 0.1"
    batch = task.trials(4, rng=0)
    assert batch.inputs.shape == (4, 200, 3) and batch.targets.shape == (4, 200, 3)
    assert set(batch.lengths.tolist()) == {200}
    assert neurotasks.make_task(TASK_ID, n_bits=1).trials(2, rng=0).inputs.shape == (2, 200, 1)


def test_targets_follow_pulses_and_mask_before_the_first_pulse():
    task = neurotasks.make_task(TASK_ID, pulse_rate=5.0)
    batch = task.trials(32, rng=1)
    pulses = batch.extras["pulses"]
    for i in range(len(batch)):
        targets, mask = reference_targets(pulses[i], width=2)
        np.testing.assert_array_equal(batch.targets[i], targets)
        np.testing.assert_array_equal(batch.mask[i], mask)
    first = np.argmax(pulses != 0, axis=1)           # (B, n) first onset (0 if none)
    t = np.arange(batch.n_steps)[None, :, None]
    assert not batch.mask[t < first[:, None, :]].any()
    assert not batch.gt.any()


def test_pulses_are_brief_signed_and_never_overlap():
    task = neurotasks.make_task(TASK_ID, pulse_rate=10.0, pulse_width=30.0)
    batch = task.trials(64, rng=2)
    pulses = batch.extras["pulses"]
    assert set(np.unique(pulses).tolist()) == {-1, 0, 1}
    b, t, bit = np.nonzero(pulses)
    for i, step, k in zip(b, t, bit, strict=True):       # each pulse is on for exactly 3 steps
        np.testing.assert_array_equal(batch.inputs[i, step:step + 3, k], pulses[i, step, k])
    for i in range(len(batch)):
        for k in range(3):
            onsets = np.flatnonzero(pulses[i, :, k])
            assert np.all(np.diff(onsets) >= 3)
    assert np.array_equal(np.abs(batch.inputs) > 0, _windows(pulses != 0, 3))
    np.testing.assert_array_equal(batch.params["n_pulses"], (pulses != 0).sum(axis=(1, 2)))


def _windows(onset, width):
    out = np.zeros_like(onset)
    for lag in range(width):
        out[:, lag:] |= onset[:, :onset.shape[1] - lag]
    return out


def test_pulse_rate():
    task = neurotasks.make_task(TASK_ID)               # 2 Hz per bit, 2 s, 3 bits: ~12 pulses
    rate = task.trials(500, rng=3).params["n_pulses"].mean() / (3 * 2.0)
    assert 1.88 < rate < 2.02                           # the 20 ms dead time lowers it to ~1.95 Hz
    silent = neurotasks.make_task(TASK_ID, pulse_rate=0).trials(4, rng=0)
    assert not silent.inputs.any() and not silent.mask.any()
    assert not silent.params["n_pulses"].any()


def _gaps_and_signs(pulses):
    """Onset-to-onset gaps (steps), first onsets, and (previous, next) sign pairs of every channel."""
    gaps, firsts, pairs = [], [], []
    for trial in pulses:
        for channel in trial.T:
            onsets = np.flatnonzero(channel)
            gaps.append(np.diff(onsets))
            firsts.append(onsets[:1])
            signs = channel[onsets]
            pairs.append(np.stack([signs[:-1], signs[1:]], axis=1))
    return np.concatenate(gaps), np.concatenate(firsts), np.concatenate(pairs)


@pytest.mark.parametrize("block", [None, 1, 3])
def test_pulses_are_a_dead_time_poisson_process(block):
    """Gaps are w + G with G geometric, P(G >= g) = exp(-rate g dt); the first onset is G; signs are fair coins."""
    task = neurotasks.make_task(TASK_ID, pulse_rate=20.0, pulse_width=20.0, duration=20000)
    rng = np.random.default_rng(8)
    if block is not None:                                  # force the rounds that extend short trains
        task.pulse_trains = lambda rng, lengths, n_steps: type(task).pulse_trains(task, rng, lengths, n_steps, block)
    pulses = task.trials(12, rng=rng).extras["pulses"]
    gaps, firsts, pairs = _gaps_and_signs(pulses)
    hazard = 20.0 * 10.0 / 1000.0
    assert len(gaps) > 8000 and gaps.min() == 2                     # never overlapping, dead time 2 steps
    g = gaps - 2
    q = np.exp(-hazard)
    expected = (1 - q) * q ** np.arange(6)                          # geometric pmf, 0..5
    observed = np.bincount(g, minlength=6)[:6] / len(g)
    np.testing.assert_allclose(observed, expected, atol=0.015)
    assert abs(g.mean() - 1 / (np.exp(hazard) - 1)) < 0.25          # 4.52 steps; standard error ~0.05
    assert abs(firsts.mean() - 1 / (np.exp(hazard) - 1)) < 2.5      # 36 first onsets, sd ~5 each
    assert abs(pairs[:, 1].mean()) < 0.05                            # signs balanced
    assert abs(np.mean(pairs[:, 0] == pairs[:, 1]) - 0.5) < 0.03     # and independent of the last one


def test_pulse_trains_pass_every_trial_end():
    task = neurotasks.make_task(TASK_ID, duration=("uniform", 500, 3000))
    lengths = np.array([50, 300, 120])
    for block in (None, 1, 2):
        onset, sign = task.pulse_trains(np.random.default_rng(0), lengths, 300, block)
        assert onset.shape[1:] == (3, 3) and sign.shape == onset.shape
        assert np.all(onset[-1] >= lengths[:, None])               # every train reaches its trial's end
        assert np.all(np.diff(onset, axis=0) >= 2)
        assert set(np.unique(sign).tolist()) <= {-1, 1}
    batch = task.trials(64, rng=9)                                   # variable lengths: no pulse on padding
    t = np.arange(batch.n_steps)[None, :, None]
    assert not (batch.extras["pulses"] * (t >= batch.lengths[:, None, None])).any()
    for i in range(len(batch)):
        targets, mask = reference_targets(batch.extras["pulses"][i, :batch.lengths[i]], width=2)
        np.testing.assert_array_equal(batch.targets[i, :batch.lengths[i]], targets)
        np.testing.assert_array_equal(batch.mask[i, :batch.lengths[i]], mask)


@settings(max_examples=15, deadline=None)
@given(n_bits=st.integers(1, 4), rate=st.floats(0.5, 20.0), width=st.sampled_from([10.0, 20.0, 50.0]),
       seed=st.integers(0, 2**16))
def test_targets_always_match_the_sequential_rule(n_bits, rate, width, seed):
    task = neurotasks.make_task(TASK_ID, n_bits=n_bits, pulse_rate=rate, pulse_width=width, duration=500)
    batch = task.trials(3, rng=seed)
    for i in range(3):
        targets, mask = reference_targets(batch.extras["pulses"][i], width=round(width / 10))
        np.testing.assert_array_equal(batch.targets[i], targets)
        np.testing.assert_array_equal(batch.mask[i], mask)


def test_inverted_outputs_score_an_rmse_of_two():
    task = neurotasks.make_task(TASK_ID)
    batch = task.trials(16, rng=4)
    flipped = task.evaluate(batch, outputs=-batch.targets)
    np.testing.assert_allclose(flipped["rmse"][batch.mask.sum(axis=(1, 2)) > 0], 2.0)


def test_input_noise_and_observation_space():
    task = neurotasks.make_task(TASK_ID, input_noise=0.05)
    batch = task.trials(16, rng=5)
    low, high = task.observation_range
    assert batch.inputs.min() >= low and batch.inputs.max() <= high
    assert np.std(batch.inputs[batch.extras["pulses"] == 0]) > 0


@pytest.mark.parametrize("kwargs, match", [
    ({"n_bits": 0}, "n_bits"),
    ({"n_bits": 2.5}, "n_bits"),
    ({"n_bits": True}, "n_bits"),
    ({"pulse_rate": -1}, "pulse_rate"),
    ({"pulse_rate": 200}, "pulse_rate"),     # more than one pulse per 10 ms step
    ({"pulse_rate": float("nan")}, "pulse_rate"),
    ({"pulse_width": 0}, "pulse_width"),
    ({"duration": 0}, "duration"),
    ({"input_noise": -0.1}, "input_noise"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        neurotasks.make_task(TASK_ID, **kwargs)


@pytest.mark.parametrize("kwargs", [{}, {"n_bits": 1}, {"input_noise": 0.1}])
def test_gymnasium_and_sb3_env_checkers(kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gym_check_env(gym.make(TASK_ID, **kwargs).unwrapped)
        sb3_check_env(gym.make(TASK_ID, **kwargs))
