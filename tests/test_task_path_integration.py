"""PathIntegration-v0: paths inside the arena, position = integrated velocity, place cells, errors, env checks."""

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from hypothesis import given, settings
from hypothesis import strategies as st
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import neurotasks
from neurotasks.tasks.path_integration import fold, place_cell_activity

TASK_ID = "PathIntegration-v0"


def test_declared_metadata():
    task = neurotasks.make_task(TASK_ID)
    assert task.dt == 20.0
    assert task.input_names == ("velocity_x", "velocity_y", "start_x", "start_y")
    assert task.output_names == ("position_x", "position_y")
    assert task.output_range == (-1.0, 1.0)
    assert task.period_names == ("start", "navigation")
    assert str(task.criterion) == "rmse <= 0.05"
    batch = task.trials(4, rng=0)
    assert batch.inputs.shape == (4, 100, 4)
    np.testing.assert_array_equal(batch.periods["start"], [[0, 5]] * 4)
    np.testing.assert_array_equal(batch.periods["navigation"], [[5, 100]] * 4)


def test_fold_reflects_at_the_walls():
    np.testing.assert_allclose(fold(np.array([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, -1.2, -3.5]), 1.0),
                               [0.0, 0.5, 1.0, 0.5, 0.0, -1.0, 0.0, -0.8, 0.5])


@settings(max_examples=100, deadline=None)
@given(a=st.floats(-50, 50), b=st.floats(-50, 50), half=st.floats(0.1, 5))
def test_fold_stays_inside_and_never_stretches(a, b, half):
    fa, fb = fold(np.array(a), half), fold(np.array(b), half)
    assert -half - 1e-9 <= fa <= half + 1e-9
    assert abs(fa - fb) <= abs(a - b) + 1e-9


def test_fold_in_float32_and_in_place():
    u = np.linspace(-7, 7, 100001, dtype=np.float32)
    folded = fold(u, np.float32(1.0))
    assert folded.dtype == np.float32 and np.abs(folded).max() <= 1.0
    np.testing.assert_allclose(folded, fold(u.astype(np.float64), 1.0), atol=1e-6)
    assert np.abs(np.diff(folded)).max() <= np.diff(u).max() + 1e-6       # continuous through the walls
    out = u.copy()
    assert fold(out, 1.0, out=out) is out
    np.testing.assert_array_equal(out, folded)


@pytest.mark.parametrize("kwargs", [{}, {"arena_size": 1.0, "speed": 1.0}, {"dt": 10.0, "duration": 3000}])
def test_position_is_the_integrated_velocity_and_stays_in_the_arena(kwargs):
    task = neurotasks.make_task(TASK_ID, **kwargs)
    batch = task.trials(64, rng=1)
    half = task.arena_size / 2
    position = batch.extras["position"]
    assert np.abs(position).max() <= half
    np.testing.assert_array_equal(batch.targets, position)
    start = np.stack([batch.params["start_x"], batch.params["start_y"]], axis=-1)
    integrated = start[:, None, :] + np.cumsum(batch.inputs[:, :, :2].astype(np.float64) * task.dt / 1000, axis=1)
    np.testing.assert_allclose(integrated, position, atol=1e-6)     # velocity is the difference of the path
    assert np.all(batch.mask == 1) and not batch.gt.any()
    assert np.abs(position).max() > 0.8 * half          # paths do reach the walls


def test_start_inputs_only_during_the_first_100_ms():
    batch = neurotasks.make_task(TASK_ID).trials(8, rng=2)
    start = np.stack([batch.params["start_x"], batch.params["start_y"]], axis=-1)
    np.testing.assert_allclose(batch.inputs[:, :5, 2:], np.repeat(start[:, None, :], 5, axis=1), atol=1e-6)
    assert not batch.inputs[:, 5:, 2:].any()


def test_velocity_is_smooth_and_bounded():
    # Paths are float32: positions round to ~1e-7 (more where the unbounded path has run far),
    # so a step's velocity carries a jitter of about 1e-7 / dt ~ 1e-5 units/s.
    task = neurotasks.make_task(TASK_ID)
    batch = task.trials(64, rng=3)
    velocity = batch.inputs[:, :, :2].astype(np.float64)
    speed = np.linalg.norm(velocity, axis=-1)
    assert np.all(speed <= batch.params["speed"][:, None] + 5e-5)
    assert batch.params["speed"].max() <= 3 * 0.5
    # Away from wall bounces the speed is the trial's speed, and the heading turns gradually.
    inside = (np.abs(batch.extras["position"]) < 0.95).all(axis=-1)
    inside[:, 1:] &= inside[:, :-1]
    np.testing.assert_allclose(speed[inside], np.broadcast_to(batch.params["speed"][:, None], speed.shape)[inside],
                               atol=5e-5)
    heading = np.arctan2(velocity[..., 1], velocity[..., 0])
    turn = np.angle(np.exp(1j * np.diff(heading, axis=1)))
    assert np.median(np.abs(turn[inside[:, 1:]])) < 0.5
    # The turns are Gaussian with sd turning * sqrt(dt) = 2 * sqrt(0.02) rad (away from the walls).
    fast = inside[:, 1:] & (batch.params["speed"][:, None] > 0.2)
    assert abs(np.std(turn[fast]) - 2 * np.sqrt(0.02)) < 0.02


def test_variable_durations_hold_the_last_position_on_padding():
    task = neurotasks.make_task(TASK_ID, duration=("uniform", 1000, 3000))
    batch = task.trials(32, rng=10)
    assert len(set(batch.lengths.tolist())) > 1
    position = batch.extras["position"]
    for i, length in enumerate(batch.lengths):
        padding = position[i, length:]
        np.testing.assert_array_equal(padding, np.repeat(position[i, length - 1:length], len(padding), axis=0))
        np.testing.assert_array_equal(batch.targets[i, :length], position[i, :length])
        assert not batch.inputs[i, length:].any() and not batch.mask[i, length:].any()
    start = np.stack([batch.params["start_x"], batch.params["start_y"]], axis=-1)
    integrated = start[:, None, :] + np.cumsum(batch.inputs[:, :, :2].astype(np.float64) * task.dt / 1000, axis=1)
    np.testing.assert_allclose(integrated, position, atol=1e-6)


def test_observations_and_targets_stay_in_their_spaces():
    for kwargs in ({}, {"input_noise": 0.05}, {"outputs": "place_cells", "place_cell_tuning": "dog"}):
        task = neurotasks.make_task(TASK_ID, **kwargs)
        batch = task.trials(64, rng=4)
        low, high = task.observation_range
        assert batch.inputs.min() >= low and batch.inputs.max() <= high
        assert batch.targets.min() >= task.output_range[0] and batch.targets.max() <= task.output_range[1]


@pytest.mark.parametrize("tuning", ["gaussian", "dog"])
def test_place_cell_outputs(tuning):
    task = neurotasks.make_task(TASK_ID, outputs="place_cells", place_cell_tuning=tuning)
    assert len(task.output_names) == 64 and task.output_names[0] == "place_1"
    assert task.place_cell_centres.shape == (64, 2) and np.abs(task.place_cell_centres).max() <= 1.0
    batch = task.trials(8, rng=5)
    expected = place_cell_activity(batch.extras["position"].astype(np.float64), task.place_cell_centres, 0.2, tuning)
    # float32 |p|^2 - 2 p.c + |c|^2 loses a few 1e-6 to cancellation near a centre, twice that for
    # "dog" (its peak is rescaled by 2); negligible against the criterion (RMSE 0.05)
    np.testing.assert_allclose(batch.targets, expected, atol=2e-5)
    same = neurotasks.make_task(TASK_ID, outputs="place_cells", place_cell_tuning=tuning)
    np.testing.assert_array_equal(same.place_cell_centres, task.place_cell_centres)      # fixed population
    other = neurotasks.make_task(TASK_ID, outputs="place_cells", place_cell_seed=1)
    assert not np.array_equal(other.place_cell_centres, task.place_cell_centres)
    evaluation = task.evaluate(batch, outputs=batch.targets)
    np.testing.assert_array_equal(evaluation["rmse"], 0.0)


def test_place_cell_tuning_curves():
    centres = np.zeros((1, 2))
    d = np.array([[0.0, 0.0], [0.2, 0.0], [10.0, 0.0]])
    np.testing.assert_allclose(place_cell_activity(d, centres, 0.2, "gaussian")[:, 0], [1.0, np.exp(-0.5), 0.0])
    dog = place_cell_activity(np.stack([np.linspace(0, 2, 2001), np.zeros(2001)], -1), centres, 0.2, "dog")[:, 0]
    assert dog[0] == pytest.approx(1.0)
    assert dog.min() == pytest.approx(-0.375, abs=1e-4)   # the surround dips below 0


def test_forced_start():
    batch = neurotasks.make_task(TASK_ID).trials(3, rng=7, start_x=0.5, start_y=-0.25)
    np.testing.assert_allclose(batch.inputs[:, 0, 2:], [[0.5, -0.25]] * 3)


@pytest.mark.parametrize("kwargs, match", [
    ({"arena_size": 0}, "arena_size"),
    ({"arena_size": True}, "arena_size"),
    ({"speed": -1}, "speed"),
    ({"turning": -1}, "turning"),
    ({"outputs": "grid_cells"}, "outputs"),
    ({"n_place_cells": 0}, "n_place_cells"),
    ({"place_cell_tuning": "mexican_hat"}, "place_cell_tuning"),
    ({"place_cell_width": 0}, "place_cell_width"),
    ({"place_cell_seed": -1}, "place_cell_seed"),
    ({"duration": 100}, "duration"),
    ({"duration": 0}, "duration"),
    ({"start_duration": 0}, "start_duration"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        neurotasks.make_task(TASK_ID, **kwargs)


@pytest.mark.parametrize("forced, match", [({"start_x": 1.5}, "start_x"), ({"speed": 10.0}, "speed")])
def test_bad_forced_parameters(forced, match):
    with pytest.raises(ValueError, match=match):
        neurotasks.make_task(TASK_ID).trials(2, rng=0, **forced)


@pytest.mark.parametrize("kwargs", [{}, {"outputs": "place_cells"},
                                    {"outputs": "place_cells", "place_cell_tuning": "dog"}])
def test_gymnasium_and_sb3_env_checkers(kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gym_check_env(gym.make(TASK_ID, **kwargs).unwrapped)
        sb3_check_env(gym.make(TASK_ID, **kwargs))
