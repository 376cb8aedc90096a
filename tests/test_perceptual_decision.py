"""The perceptual-decision family, pinned to the numbers of the paper's code (pycog)."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest

import neurotasks
from neurotasks.env import TaskEnv

DT = 20.0


def quiet(task_id="PerceptualDecision-v0", **kw):
    """The task without input noise, so input values can be read exactly."""
    return neurotasks.make_task(task_id, input_noise=0.0, **kw)


@pytest.mark.parametrize("coherence", [3.2, 6.4, 12.8, 25.6, 51.2])
@pytest.mark.parametrize("ground_truth", [0, 1])
def test_stimulus_values_baseline_and_cue(coherence, ground_truth):
    task = quiet()
    b = task.trials(4, 0, coherence=coherence, ground_truth=ground_truth, catch=False)
    stim = b.periods["stimulus"]
    high, low = (1 + coherence / 100) / 2, (1 - coherence / 100) / 2
    correct, other = (0, 1) if ground_truth == 0 else (1, 0)
    for i in range(4):
        s, e = stim[i]
        np.testing.assert_allclose(b.inputs[i, s:e, correct], 0.2 + high, rtol=1e-6)
        np.testing.assert_allclose(b.inputs[i, s:e, other], 0.2 + low, rtol=1e-6)
        np.testing.assert_allclose(b.inputs[i, s:e, 2], 1.2)                  # start cue
        outside = np.r_[0:s, e:b.lengths[i]]
        np.testing.assert_allclose(b.inputs[i, outside], 0.2)                 # baseline only


def test_paper_input_values_at_the_extremes():
    b = quiet().trials(1, 0, coherence=51.2, ground_truth=0, catch=False)
    s = b.periods["stimulus"][0, 0]
    np.testing.assert_allclose(b.inputs[0, s, :2] - 0.2, [0.756, 0.244], atol=1e-6)
    b = quiet().trials(1, 0, coherence=3.2, ground_truth=1, catch=False)
    np.testing.assert_allclose(b.inputs[0, s, :2] - 0.2, [0.484, 0.516], atol=1e-6)


def test_periods_targets_and_mask():
    task = neurotasks.make_task("PerceptualDecision-v0")
    b = task.trials(500, 1, catch=False)
    steps = np.diff(np.stack([b.periods[k] for k in ("fixation", "stimulus", "decision")], 1), axis=2)[..., 0]
    assert np.all(steps[:, 0] == 100 / DT) and np.all(steps[:, 2] == 300 / DT)
    assert steps[:, 1].min() >= round(80 / DT) and steps[:, 1].max() <= round(1500 / DT)
    for i in range(20):
        f, s, d = (b.periods[k][i] for k in ("fixation", "stimulus", "decision"))
        gt = b.params["ground_truth"][i]
        np.testing.assert_array_equal(b.targets[i, f[0]:f[1]], np.float32(0.2))
        np.testing.assert_array_equal(b.mask[i, f[0]:f[1]], 1)
        np.testing.assert_array_equal(b.mask[i, s[0]:s[1]], 0)           # stimulus unconstrained
        np.testing.assert_array_equal(b.targets[i, d[0]:d[1], gt], np.float32(1.0))
        np.testing.assert_array_equal(b.targets[i, d[0]:d[1], 1 - gt], np.float32(0.2))
        np.testing.assert_array_equal(b.mask[i, d[0]:d[1]], 1)
        np.testing.assert_array_equal(b.gt[i, :d[0]], 0)
        np.testing.assert_array_equal(b.gt[i, d[0]:d[1]], gt + 1)


def test_stimulus_duration_is_the_truncated_exponential():
    task = neurotasks.make_task("PerceptualDecision-v0", dt=2.0, input_noise=0.0)
    b = task.trials(8000, 2, catch=False)
    dur = np.diff(b.periods["stimulus"], axis=1)[:, 0] * 2.0
    assert dur.min() >= 80 and dur.max() <= 1500
    assert dur.mean() == pytest.approx(task.durations["stimulus"].mean, rel=0.03)


def test_catch_trials():
    task = neurotasks.make_task("PerceptualDecision-v0")
    assert task.catch_prob == pytest.approx(1 / 11)
    b = task.trials(5, 0, catch=True)
    assert np.all(b.lengths == 2000 / DT)
    np.testing.assert_array_equal(b.targets, np.float32(0.2))
    np.testing.assert_array_equal(b.mask, 1)
    np.testing.assert_array_equal(b.gt, 0)
    quiet_b = quiet().trials(5, 0, catch=True)
    np.testing.assert_allclose(quiet_b.inputs, 0.2)                          # no stimulus, no cue
    evaluation = task.evaluate(b, outputs=b.targets)
    assert np.all(np.isnan(evaluation["correct"])) and np.all(evaluation["choice"] == -1)


def test_fixed_duration_variant_of_fig3():
    task = quiet(stimulus="fixed")
    assert task.input_names == ("stimulus_1", "stimulus_2")
    b = task.trials(50, 0, catch=False)
    assert np.all(np.diff(b.periods["stimulus"], axis=1) == 800 / DT)


def test_input_noise_per_step_sd_and_dt_invariance():
    """Per-step sd is sqrt(2 tau_in/dt) sigma, so integrated evidence has the same spread at any dt."""
    spreads = {}
    for dt in (20.0, 5.0):
        task = neurotasks.make_task("PerceptualDecision-v0", dt=dt, stimulus="fixed", input_baseline=1.0)
        b = task.trials(3000, 0, coherence=0.0, catch=False)
        s, e = b.periods["stimulus"][0]
        noise = b.inputs[:, s:e, 0] - 1.5
        assert noise.std() == pytest.approx(math.sqrt(2 * 100 / dt) * 0.01, rel=0.02)
        spreads[dt] = (noise.sum(axis=1) * dt).std()
    assert spreads[5.0] == pytest.approx(spreads[20.0], rel=0.06)


def test_inputs_are_rectified_after_noise():
    task = neurotasks.make_task("PerceptualDecision-v0", input_noise=0.5)
    b = task.trials(64, 0)
    assert b.inputs.min() == 0.0


def test_reaction_time_task():
    task = quiet("PerceptualDecisionRT-v0")
    assert task.catch_prob == pytest.approx(5 / 11) and task.period_names == ("fixation", "stimulus")
    b = task.trials(10, 0, catch=False, ground_truth=1, coherence=25.6)
    s, e = b.periods["stimulus"][0]
    assert s == 100 / DT and e - s == 800 / DT
    go = s + 300 / DT
    np.testing.assert_array_equal(b.targets[0, :s], np.float32(0.2))
    np.testing.assert_array_equal(b.mask[0, s:int(go)], 0)
    np.testing.assert_array_equal(b.targets[0, int(go):e, 1], np.float32(1.2))
    np.testing.assert_array_equal(b.targets[0, int(go):e, 0], np.float32(0.2))
    np.testing.assert_array_equal(b.mask[0, int(go):e], 1)
    # reaction time: first output to reach 1.0 after stimulus onset, in ms from onset
    outputs = np.full(b.targets.shape, 0.2, np.float32)
    outputs[:, s + 7:, 1] = 1.05
    outputs[:, s + 9:, 0] = 1.1
    ev = task.evaluate(b, outputs=outputs)
    assert np.all(ev["choice"] == 1) and np.all(ev["correct"] == 1) and np.all(ev["rt"] == 7 * DT)
    ev = task.evaluate(b, outputs=np.full(b.targets.shape, 0.2, np.float32))
    assert np.all(ev["choice"] == -1) and np.all(ev["correct"] == 0) and np.all(np.isnan(ev["rt"]))
    longer = quiet("PerceptualDecisionRT-v0", stimulus_duration=1500).trials(3, 0, catch=False)
    assert np.all(np.diff(longer.periods["stimulus"], axis=1) == 1500 / DT)


def test_choice_from_outputs_uses_the_last_decision_step():
    task = neurotasks.make_task("PerceptualDecision-v0")
    b = task.trials(2, 0, catch=False, ground_truth=0)
    out = np.zeros(b.targets.shape, np.float32)
    last = b.periods["decision"][:, 1] - 1
    out[0, last[0]] = (0.9, 0.3)          # choice 1 at the last step: correct
    out[1, last[1] - 1] = (0.9, 0.3)      # one step earlier: ignored
    out[1, last[1]] = (0.3, 0.9)          # choice 2 at the last step: wrong
    ev = task.evaluate(b, outputs=out)
    np.testing.assert_array_equal(ev["choice"], [0, 1])
    np.testing.assert_array_equal(ev["correct"], [1.0, 0.0])


def run_trial(env, actions_by_period):
    env.reset(seed=0)
    total, t = 0.0, 0
    while True:
        period = env.unwrapped._period_list[env.unwrapped._t]
        _, reward, terminated, _, info = env.step(actions_by_period(period, t))
        total += reward
        t += 1
        if terminated:
            return total, info


def test_neurogym_reward_convention():
    env = TaskEnv("PerceptualDecision-v0", catch_prob=0.0)
    env.reset(seed=0)
    answer = env.trial["params"]["ground_truth"] + 1
    total, info = run_trial(env, lambda p, t: answer if p == "decision" else 0)
    assert total == 1.0 and info["correct"] == 1.0 and info["is_success"] and info["choice"] == answer - 1
    total, info = run_trial(env, lambda p, t: 3 - answer if p == "decision" else 0)
    assert total == 0.0 and info["correct"] == 0.0 and not info["is_success"]
    total, info = run_trial(env, lambda p, t: 1 if p == "stimulus" else 0)     # broke fixation
    assert total == -0.1 and info["aborted"] and info["choice"] == -1 and info["period"] == "stimulus"
    total, info = run_trial(env, lambda p, t: 0)                                # never answered
    assert total == 0.0 and info["choice"] == -1 and info["correct"] == 0.0
    custom = TaskEnv("PerceptualDecision-v0", catch_prob=0.0, rewards={"abort": -1.0, "correct": 2.0})
    assert run_trial(custom, lambda p, t: 1 if p == "fixation" else 0)[0] == -1.0


def test_reaction_time_env_allows_responding_during_the_stimulus():
    env = TaskEnv("PerceptualDecisionRT-v0", catch_prob=0.0)
    env.reset(seed=0)
    answer = env.trial["params"]["ground_truth"] + 1
    total, info = run_trial(env, lambda p, t: answer if p == "stimulus" and t >= 8 else 0)
    assert total == 1.0 and info["rt"] == (8 - 100 / DT) * DT


def test_catch_trial_success_is_holding_fixation():
    env = TaskEnv("PerceptualDecision-v0", catch_prob=1.0)
    total, info = run_trial(env, lambda p, t: 0)
    assert total == 0.0 and info["is_success"] and math.isnan(info["correct"])
    total, info = run_trial(env, lambda p, t: 1 if t == 30 else 0)
    assert total == -0.1 and not info["is_success"]


def test_score_and_criterion():
    task = neurotasks.make_task("PerceptualDecision-v0")
    assert str(task.criterion) == "mean of last 5 percent_correct > 85"
    assert not task.criterion.met([90, 90, 90, 90])
    assert task.criterion.met([80, 90, 90, 90, 90, 90])
    assert not task.criterion.met([85, 85, 85, 85, 85])
    b = task.grid_trials(10, 0)
    assert len(b) == 100 + 10                    # 10 conditions x 10, catch in proportion 1/11
    assert task.score(b, task.evaluate(b, outputs=b.targets))["percent_correct"] == 100.0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"dt": 0}, "dt"), ({"dt": -5}, "dt"), ({"fixation": -100}, "fixation"), ({"decision": 0}, "decision"),
     ({"stimulus_duration": ("uniform", 10, 5)}, "stimulus_duration"), ({"coherences": []}, "coherences"),
     ({"coherences": [10, 120]}, "coherences"), ({"coherences": [-1]}, "coherences"),
     ({"catch_prob": 1.5}, "catch_prob"), ({"catch_prob": -0.1}, "catch_prob"), ({"stimulus": "long"}, "stimulus"),
     ({"input_noise": -1}, "input_noise")],
)
def test_bad_arguments_raise_when_the_task_is_made(kwargs, match):
    with pytest.raises(ValueError, match=match):
        neurotasks.make_task("PerceptualDecision-v0", **kwargs)
    with pytest.raises(ValueError, match=match):
        gym.make("PerceptualDecision-v0", **kwargs)


def test_bad_forced_parameters():
    task = neurotasks.make_task("PerceptualDecision-v0")
    with pytest.raises(ValueError, match="coherence"):
        task.trials(3, 0, coherence=150)
    with pytest.raises(ValueError, match="ground_truth"):
        task.trials(3, 0, ground_truth=2)
    with pytest.raises(ValueError, match="shape"):
        task.trials(3, 0, coherence=[1.0, 2.0])
    with pytest.raises(ValueError, match="threshold"):
        neurotasks.make_task("PerceptualDecisionRT-v0", threshold=2.0)
