"""DelayedReach-v0: periods, inputs, minimum-jerk reach, velocity outputs, target switch, scoring, env checks."""

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import neurotasks
from neurotasks.tasks.delayed_reach import minimum_jerk

TASK_ID = "DelayedReach-v0"


def clean_task(**kwargs):
    return neurotasks.make_task(TASK_ID, input_noise=0.0, **kwargs)


def unit(angle_deg):
    rad = np.deg2rad(angle_deg)
    return np.array([np.cos(rad), np.sin(rad)])


def test_declared_metadata():
    task = neurotasks.make_task(TASK_ID)
    assert task.dt == 10.0
    assert task.input_names == ("target_x", "target_y", "hold")
    assert task.output_names == ("hand_x", "hand_y")
    assert clean_task(outputs="velocity").output_names == ("velocity_x", "velocity_y")
    assert task.period_names == ("hold", "target", "delay", "go", "movement", "target_hold")
    assert str(task.criterion) == "reach_error <= 0.1"
    assert task.suggested_network["readout"] == "all"          # outputs reach below zero (Song et al. 2016)
    np.testing.assert_array_equal(task.target_angles, np.arange(0, 360, 45))
    np.testing.assert_array_equal(task.conditions()["target"], np.arange(8))


def test_minimum_jerk_profile():
    assert minimum_jerk(0.0) == 0.0 and minimum_jerk(1.0) == 1.0 and minimum_jerk(0.5) == 0.5
    assert minimum_jerk(-1.0) == 0.0 and minimum_jerk(2.0) == 1.0
    eps = 1e-6
    assert minimum_jerk(eps) / eps < 1e-9                       # zero velocity at the start
    assert (1 - minimum_jerk(1 - eps)) / eps < 1e-9             # and at the end
    s = np.linspace(0, 1, 1001)
    assert np.all(np.diff(minimum_jerk(s)) >= 0)                # monotone, no overshoot
    np.testing.assert_allclose(np.max(np.gradient(minimum_jerk(s), s)), 1.875, rtol=1e-4)


def test_period_lengths():
    batch = clean_task().trials(200, rng=0)
    steps = {name: span[:, 1] - span[:, 0] for name, span in batch.periods.items()}
    for name, expected in [("hold", 20), ("target", 10), ("go", 15), ("movement", 40), ("target_hold", 30)]:
        assert set(steps[name].tolist()) == {expected}, name
    assert steps["delay"].min() >= 0 and steps["delay"].max() <= 100
    assert steps["delay"].std() > 20                            # uniform on [0, 1000) ms
    fixed = clean_task(delay=300).trials(3, rng=0)
    assert set(fixed.lengths.tolist()) == {20 + 10 + 30 + 15 + 40 + 30}


def test_inputs_per_period():
    batch = clean_task().trials(16, rng=1)
    for i in range(len(batch)):
        trial = batch.trial(i)
        p, x = trial["periods"], trial["inputs"]
        goal = unit(trial["params"]["angle"])
        go = p["go"][0]
        np.testing.assert_array_equal(x[:go, 2], 1.0)                 # hold on until the go cue
        np.testing.assert_array_equal(x[go:, 2], 0.0)
        np.testing.assert_array_equal(x[:p["target"][0], :2], 0.0)    # no target during hold
        np.testing.assert_allclose(x[p["target"][0]:, :2], np.tile(goal, (len(x) - p["target"][0], 1)), atol=1e-6)
        assert trial["params"]["angle"] == 45.0 * trial["params"]["target"]


def test_position_target_is_a_minimum_jerk_reach():
    batch = clean_task(delay=200).trials(8, rng=2)
    for i in range(len(batch)):
        trial = batch.trial(i)
        y, m = trial["targets"], trial["periods"]["movement"]
        goal = unit(trial["params"]["angle"])
        np.testing.assert_array_equal(y[:m[0]], 0.0)                  # centre until 150 ms after the go cue
        assert trial["periods"]["go"][1] - trial["periods"]["go"][0] == 15
        n = m[1] - m[0]
        np.testing.assert_allclose(y[m[0] + n // 2 - 1], goal / 2, atol=1e-6)   # half way at mid-movement
        np.testing.assert_allclose(y[m[1] - 1:], np.tile(goal, (len(y) - m[1] + 1, 1)), atol=1e-6)  # then held
        speed = np.linalg.norm(np.diff(y, axis=0), axis=1)
        assert speed[m[0] - 1] < 1e-3 and speed[m[1] - 2] < 1e-3      # starts and ends at rest
        assert np.all(trial["mask"] == 1)
    assert not batch.gt.any()


def test_velocity_outputs_integrate_to_the_position():
    pos_task, vel_task = clean_task(), clean_task(outputs="velocity")
    pos, vel = pos_task.trials(16, rng=3), vel_task.trials(16, rng=3)
    np.testing.assert_array_equal(pos.params["target"], vel.params["target"])
    n_move = (vel.periods["movement"][:, 1] - vel.periods["movement"][:, 0])[:, None, None]
    integrated = np.cumsum(vel.targets, axis=1) * 1.875 / n_move
    valid = pos.valid
    np.testing.assert_allclose(integrated[valid], pos.targets[valid], atol=1e-5)
    peak = np.abs(vel.targets).max(axis=(1, 2))
    assert np.all(peak <= 1.0)
    np.testing.assert_allclose(np.linalg.norm(vel.targets, axis=-1).max(axis=1), 1.0, atol=0.01)  # peak speed 1
    m = vel.periods["movement"]
    assert not vel.targets[0, :m[0, 0]].any() and not vel.targets[0, m[0, 1]:].any()


def test_target_switch_goes_to_the_last_target():
    task = clean_task(target_switch=True)
    batch = task.trials(32, rng=4)
    assert batch.params["switched"].all()
    assert np.all(batch.params["first_target"] != batch.params["target"])
    for i in range(len(batch)):
        trial = batch.trial(i)
        p, x, params = trial["periods"], trial["inputs"], trial["params"]
        assert 0 <= params["switch_time"] <= (p["delay"][1] - p["delay"][0]) * 10.0
        switch = p["delay"][0] + round(params["switch_time"] / 10.0)
        first, last = unit(45.0 * params["first_target"]), unit(params["angle"])
        np.testing.assert_allclose(x[p["target"][0]:switch, :2], np.tile(first, (switch - p["target"][0], 1)),
                                   atol=1e-6)
        np.testing.assert_allclose(x[switch:, :2], np.tile(last, (len(x) - switch, 1)), atol=1e-6)
        np.testing.assert_allclose(trial["targets"][-1], last, atol=1e-6)   # the reach goes to the last target
    no_switch = clean_task().trials(8, rng=4)
    assert not no_switch.params["switched"].any()
    assert np.isnan(no_switch.params["switch_time"]).all()
    np.testing.assert_array_equal(no_switch.params["first_target"], no_switch.params["target"])
    half = clean_task(target_switch=0.5).trials(400, rng=5).params["switched"].mean()
    assert 0.4 < half < 0.6


def test_new_target_angles():
    task = clean_task(target_angles=[22.5, 200.0])
    batch = task.trials(20, rng=6)
    assert set(batch.params["angle"].tolist()) <= {22.5, 200.0}
    final = batch.targets[np.arange(20), batch.lengths - 1]
    np.testing.assert_allclose(final, np.stack([unit(a) for a in batch.params["angle"]]), atol=1e-6)


def test_evaluate_and_score():
    for outputs in ("position", "velocity"):
        task = clean_task(outputs=outputs)
        batch = task.grid_trials(2, rng=7)
        evaluation = task.evaluate(batch, outputs=batch.targets)
        np.testing.assert_array_equal(evaluation["rmse"], 0.0)
        np.testing.assert_allclose(evaluation["endpoint_error"], 0.0, atol=1e-5)
        assert np.all(evaluation["correct"] == 1)
        score = task.score(batch, evaluation)
        assert score["rmse"] == 0.0 and score["endpoint_error"] < 1e-5 and score["percent_correct"] == 100.0
        assert score["reach_error"] < 1e-5 and task.criterion.met([score["reach_error"]])
        replay = task.evaluate(batch, actions=batch.targets)
        np.testing.assert_allclose(replay["endpoint_error"], 0.0, atol=1e-5)
        assert np.all(replay["correct"] == 1)
    task = clean_task()
    batch = task.trials(8, rng=8)
    still = task.evaluate(batch, outputs=np.zeros_like(batch.targets))      # never reaching
    np.testing.assert_allclose(still["endpoint_error"], 1.0)
    assert np.all(still["correct"] == 0)
    short = batch.targets * 0.8                                                # stops short by 0.2
    np.testing.assert_allclose(task.evaluate(batch, outputs=short)["endpoint_error"], 0.2, atol=1e-5)


def test_reach_error_needs_every_target_reached():
    """A small trajectory RMSE does not pass the criterion if one target is missed: the worst target counts."""
    task = clean_task()
    batch = task.grid_trials(4, rng=3)
    outputs = batch.targets.copy()
    missed = batch.params["target"] == 4                         # 180 degrees: stop 0.3 short of it
    outputs[missed] *= 0.7
    score = task.score(batch, task.evaluate(batch, outputs=outputs))
    assert score["rmse"] < 0.1                                   # the trajectory criterion alone would pass
    assert score["worst_target_endpoint_error"] == pytest.approx(0.3, abs=1e-4)
    assert score["endpoint_error"] == pytest.approx(0.3 / 8, abs=1e-4)
    assert score["reach_error"] == score["worst_target_endpoint_error"]
    assert not task.criterion.met([score["reach_error"]])
    outputs[missed] = batch.targets[missed] * 0.95               # 0.05 short: reached
    score = task.score(batch, task.evaluate(batch, outputs=outputs))
    assert score["reach_error"] == pytest.approx(max(score["rmse"], 0.05), abs=1e-4)
    assert task.criterion.met([score["reach_error"]])


def test_moving_before_the_go_cue_aborts():
    task = clean_task()
    batch = task.trials(3, rng=9)
    actions = batch.targets.copy()
    actions[0, batch.periods["target"][0, 0] + 2] = (0.3, 0.0)    # during the target period: abort
    actions[1, batch.periods["hold"][1, 0] + 2] = (0.3, 0.0)      # while acquiring the centre: only error
    actions[2, batch.periods["go"][2, 0] + 2] = (0.3, 0.0)        # after the go cue: only error
    replay = task.evaluate(batch, actions=actions)
    np.testing.assert_array_equal(replay["aborted"], [True, False, False])


def test_observations_stay_in_the_space():
    for kwargs in ({}, {"target_switch": True}, {"outputs": "velocity"}):
        task = neurotasks.make_task(TASK_ID, **kwargs)
        batch = task.trials(64, rng=0)
        low, high = task.observation_range
        assert batch.inputs.min() >= low and batch.inputs.max() <= high
        assert batch.targets.min() >= task.output_range[0] and batch.targets.max() <= task.output_range[1]


@pytest.mark.parametrize("kwargs, match", [
    ({"target_angles": []}, "target_angles"),
    ({"target_angles": [400]}, "target_angles"),
    ({"target_angles": ["north"]}, "target_angles"),
    ({"outputs": "acceleration"}, "outputs"),
    ({"target_switch": 1.5}, "target_switch"),
    ({"target_switch": "yes"}, "target_switch"),
    ({"target_switch": True, "target_angles": [90]}, "target_switch"),
    ({"hold_tolerance": 0}, "hold_tolerance"),
    ({"delay": -100}, "delay"),
    ({"movement": 0}, "movement"),
    ({"reaction_time": "slow"}, "reaction_time"),
    ({"target_hold": 0}, "target_hold"),
    ({"hold": 0}, "hold"),
    ({"target_duration": -1}, "target_duration"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        neurotasks.make_task(TASK_ID, **kwargs)


@pytest.mark.parametrize("forced, match", [({"target": 8}, "target"), ({"first_target": -1}, "first_target"),
                                           ({"switch_phase": 2.0}, "switch_phase")])
def test_bad_forced_parameters(forced, match):
    with pytest.raises(ValueError, match=match):
        neurotasks.make_task(TASK_ID).trials(2, rng=0, **forced)


@pytest.mark.parametrize("kwargs", [{}, {"outputs": "velocity"}, {"target_switch": True}])
def test_gymnasium_and_sb3_env_checkers(kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gym_check_env(gym.make(TASK_ID, **kwargs).unwrapped)
        sb3_check_env(gym.make(TASK_ID, **kwargs))
