"""ReadySetGo-v0 and CueSetGo-v0: inputs, the ramp target, the timing rule, rewards, env checks."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import neurotasks
from neurotasks.tasks.interval_timing import CueSetGo, ReadySetGo

IDS = ("ReadySetGo-v0", "CueSetGo-v0")


def quiet_rsg(**kwargs) -> ReadySetGo:
    return neurotasks.make_task("ReadySetGo-v0", input_noise=0.0, **kwargs)


# ---------------------------------------------------------------------- trial structure
def test_registered_with_metadata():
    for task_id in IDS:
        assert task_id in neurotasks.list_tasks(tag="timing")
        task = neurotasks.make_task(task_id)
        assert task.action_names == ("wait", "go")
        assert task.output_names == ("ramp",)
        assert str(task.criterion) == "mean of last 5 percent_correct > 90"


def test_target_interval_is_gain_times_interval():
    task = quiet_rsg()
    batch = task.trials(200, rng=1)
    p = batch.params
    np.testing.assert_allclose(p["target_interval"], p["gain"] * p["interval"])
    assert set(np.unique(p["interval"])) == {480.0, 560.0, 640.0, 720.0, 800.0}
    assert set(np.unique(p["gain"])) == {1.0, 1.5}
    assert np.all(p["ground_truth"] == 0)
    forced = task.trials(3, rng=0, interval=600.0, gain=1.5)
    np.testing.assert_allclose(forced.params["target_interval"], 900.0)


def test_ramp_crosses_one_exactly_at_the_target_time():
    task = quiet_rsg()
    batch = task.trials(5, rng=2, interval=640.0, gain=1.5)     # target 960 ms = 48 steps
    set_on = batch.periods["production"][:, 0]
    rows = np.arange(5)
    ramp = batch.targets[:, :, 0]
    assert np.all(ramp[rows, set_on + 48] == 1.0)
    assert np.all(ramp[rows, set_on + 47] < 1.0)
    np.testing.assert_allclose(ramp[rows, set_on + 24], 0.5)
    assert np.all(ramp[rows, set_on] == 0.0)
    assert np.all(batch.gt[rows, set_on + 48] == 1) and batch.gt.clip(0).sum() == 5
    # 0 before Set, mask 1 on the whole trial, the window lasts 1.5 x target
    for b in rows:
        assert np.all(ramp[b, :set_on[b]] == 0.0)
        assert np.all(batch.mask[b, :batch.lengths[b]] == 1.0)
    np.testing.assert_array_equal(np.diff(batch.periods["production"], axis=1)[:, 0], 72)
    np.testing.assert_allclose(ramp[rows, batch.lengths - 1], 71 / 48)
    assert ramp.max() <= task.output_range[1]


def test_ready_and_set_pulses_are_where_they_belong():
    task = quiet_rsg(pulse_width=40.0)
    batch = task.trials(8, rng=3, interval=560.0)
    ready, set_, gain = (batch.inputs[:, :, i] for i in range(3))
    for b in range(8):
        r0, s0 = batch.periods["ready_set"][b, 0], batch.periods["production"][b, 0]
        assert s0 - r0 == 28                                   # 560 ms at dt 20
        assert np.flatnonzero(ready[b]).tolist() == [r0, r0 + 1]
        assert np.flatnonzero(set_[b]).tolist() == [s0, s0 + 1]
        np.testing.assert_allclose(gain[b, :batch.lengths[b]], batch.params["gain"][b])
        assert 300 <= batch.periods["fixation"][b, 1] * batch.dt <= 700
    lo, hi = task.observation_range
    assert lo <= batch.inputs.min() and batch.inputs.max() <= hi


def test_pulse_is_at_least_one_step():
    task = quiet_rsg(dt=50.0, pulse_width=20.0)
    batch = task.trials(2, rng=0)
    assert np.all(batch.inputs[:, :, 0].sum(axis=1) == 1.0)
    assert np.all(batch.inputs[:, :, 1].sum(axis=1) == 1.0)


def test_cue_channel_per_interval():
    task = neurotasks.make_task("CueSetGo-v0", input_noise=0.0)
    assert task.input_names == ("cue_800", "cue_1500", "set")
    for k, interval in enumerate((800.0, 1500.0)):
        batch = task.trials(4, rng=k, interval=interval)
        for b in range(4):
            n = batch.lengths[b]
            assert np.all(batch.inputs[b, :n, k] == 1.0)
            assert np.all(batch.inputs[b, :, 1 - k] == 0.0)
            s0 = batch.periods["production"][b, 0]
            assert np.flatnonzero(batch.inputs[b, :, 2]).tolist() == [s0, s0 + 1]
            assert batch.targets[b, s0 + int(interval / 20), 0] == 1.0
        np.testing.assert_allclose(batch.params["target_interval"], interval)
    three = neurotasks.make_task("CueSetGo-v0", intervals=[600, 900, 1200])
    assert three.input_names == ("cue_600", "cue_900", "cue_1200", "set")
    assert three.conditions()["interval"].tolist() == [600.0, 900.0, 1200.0]
    with pytest.raises(ValueError, match="interval"):
        task.trials(2, rng=0, interval=1000.0)


def test_conditions_cover_intervals_times_gains():
    grid = quiet_rsg().conditions()
    assert len(grid["interval"]) == 10
    assert {(i, g) for i, g in zip(grid["interval"], grid["gain"], strict=True)} == \
        {(i, g) for i in (480.0, 560.0, 640.0, 720.0, 800.0) for g in (1.0, 1.5)}


# ---------------------------------------------------------------------- decoding and scoring
@pytest.mark.parametrize("task_id", IDS)
def test_targets_as_outputs_are_all_correct_and_actions_replay_the_same(task_id):
    task = neurotasks.make_task(task_id)
    batch = task.grid_trials(3, rng=4)
    from_outputs = task.evaluate(batch, outputs=batch.targets)
    np.testing.assert_array_equal(from_outputs["produced"], batch.params["target_interval"])
    np.testing.assert_array_equal(from_outputs["error"], 0.0)
    assert np.all(from_outputs["correct"] == 1.0) and np.all(from_outputs["choice"] == 0)
    np.testing.assert_array_equal(from_outputs["rt"], from_outputs["produced"])
    assert task.score(batch, from_outputs)["percent_correct"] == 100.0
    from_actions = task.evaluate(batch, actions=batch.gt.clip(0))
    for key in ("choice", "correct", "rt", "produced", "error", "aborted"):
        np.testing.assert_array_equal(from_actions[key], from_outputs[key])
    np.testing.assert_array_equal(from_actions["reward"], 1.0)


def test_decoding_early_late_and_silent_outputs():
    task = quiet_rsg()
    batch = task.trials(4, rng=5, interval=800.0, gain=1.0)          # target 40 steps
    set_on = batch.periods["production"][:, 0]
    out = np.zeros_like(batch.targets)
    out[0, set_on[0] + 44:, 0] = 1.2                                  # 80 ms late: within 20 %
    out[1, set_on[1] + 56:, 0] = 1.0                                  # 320 ms late: beyond tolerance
    out[2, set_on[2] - 3, 0] = 1.5                                    # before Set: early
    ev = task.evaluate(batch, outputs=out)                            # row 3 never crosses
    np.testing.assert_array_equal(ev["produced"][:2], [880.0, 1120.0])
    np.testing.assert_array_equal(ev["error"][:2], [80.0, 320.0])
    np.testing.assert_array_equal(ev["correct"], [1.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(ev["choice"], [0, 0, -1, -1])
    np.testing.assert_array_equal(ev["aborted"], [False, False, True, False])
    assert np.isnan(ev["rt"][2:]).all() and np.isnan(ev["produced"][2:]).all()


def test_tolerance_boundary_is_inclusive():
    task = quiet_rsg(tolerance=0.1)
    batch = task.trials(2, rng=6, interval=800.0, gain=1.0)          # 10 % = 80 ms = 4 steps
    set_on = batch.periods["production"][:, 0]
    out = np.zeros_like(batch.targets)
    out[0, set_on[0] + 44:, 0] = 1.0
    out[1, set_on[1] + 45:, 0] = 1.0
    np.testing.assert_array_equal(task.evaluate(batch, outputs=out)["correct"], [1.0, 0.0])


@settings(max_examples=40, deadline=None)
@given(interval=st.floats(1, 2000), gain=st.sampled_from([0.5, 1.0, 1.5, 2.0]),
       dt=st.sampled_from([5.0, 10.0, 20.0, 25.0]))
def test_ramp_decodes_to_target_within_half_a_step(interval, gain, dt):
    assume(interval > dt / 2)                         # a shorter Ready-Set interval would last 0 steps
    task = quiet_rsg(dt=dt, pulse_width=dt / 2, gains=(0.5, 1.0, 1.5, 2.0))
    batch = task.trials(2, rng=0, interval=interval, gain=gain)
    ev = task.evaluate(batch, outputs=batch.targets)
    assert not np.isnan(ev["produced"]).any()          # the ramp always reaches 1 inside the window
    if gain * interval >= dt / 2:                     # shorter targets are clamped to one step
        assert np.all(np.abs(ev["error"]) <= dt / 2 + 1e-9)
        np.testing.assert_array_equal(ev["produced"], max(np.rint(gain * interval / dt), 1) * dt)
    assert np.all(ev["correct"] == (np.abs(ev["error"]) <= 0.2 * gain * interval))
    replay = task.evaluate(batch, actions=batch.gt.clip(0))
    np.testing.assert_array_equal(replay["produced"], ev["produced"])


# ---------------------------------------------------------------------- rewards (environment)
def go_at(env: gym.Env, offset_steps: int | None, seed: int = 0) -> tuple[float, dict, dict]:
    """Reset, wait until Set + ``offset_steps`` (None: never go), go; return (reward, info, trial)."""
    env.reset(seed=seed)
    trial = env.unwrapped.trial
    set_on = trial["periods"]["production"][0]
    go_step = None if offset_steps is None else set_on + offset_steps
    total, t = 0.0, 0
    while True:
        action = 1 if t == go_step else 0
        _, reward, terminated, truncated, info = env.step(action)
        total += reward
        t += 1
        if terminated or truncated:
            return total, info, trial


@pytest.fixture
def rsg_env():
    env = gym.make("ReadySetGo-v0", input_noise=0.0, intervals=[800.0], gains=[1.0])   # target 800 ms = 40 steps
    yield env
    env.close()


def test_go_exactly_on_time_earns_one(rsg_env):
    reward, info, _ = go_at(rsg_env, 40)
    assert reward == 1.0
    assert info["produced"] == 800.0 and info["error"] == 0.0 and info["correct"] == 1.0 and info["is_success"]


def test_go_slightly_off_earns_partial_reward(rsg_env):
    reward, info, _ = go_at(rsg_env, 42)                              # 40 ms late; tolerance 160 ms
    assert reward == pytest.approx(1 - 40 / 160)
    assert info["error"] == 40.0 and info["correct"] == 1.0
    early_reward, early_info, _ = go_at(rsg_env, 36)                  # 80 ms early
    assert early_reward == pytest.approx(0.5) and early_info["error"] == -80.0


def test_go_beyond_tolerance_earns_zero(rsg_env):
    reward, info, _ = go_at(rsg_env, 49)                              # 180 ms late
    assert reward == 0.0 and info["correct"] == 0.0 and not info["is_success"]


def test_go_before_set_aborts(rsg_env):
    reward, info, _ = go_at(rsg_env, -5)
    assert reward == pytest.approx(-0.1)
    assert info["aborted"] and info["choice"] == -1 and info["correct"] == 0.0 and np.isnan(info["produced"])


def test_no_go_earns_zero_at_the_end_of_the_window(rsg_env):
    reward, info, trial = go_at(rsg_env, None)
    assert reward == 0.0 and info["choice"] == -1 and np.isnan(info["rt"]) and info["correct"] == 0.0
    assert trial["periods"]["production"][1] - trial["periods"]["production"][0] == 60


def test_replayed_rewards_follow_the_documented_formula():
    task = neurotasks.make_task("ReadySetGo-v0")
    batch = task.trials(64, rng=7)
    rng = np.random.default_rng(0)
    set_on = batch.periods["production"][:, 0]
    actions = np.zeros(batch.gt.shape, dtype=np.int64)
    go = np.clip(set_on + np.rint(batch.params["target_interval"] / 20 * rng.uniform(0.5, 1.6, 64)).astype(int)
                 - set_on * (rng.random(64) < 0.1), 0, batch.lengths - 1)
    actions[np.arange(64), go] = 1
    ev = task.evaluate(batch, actions=actions)
    expected = np.where(ev["aborted"], -0.1, np.maximum(0, 1 - np.abs(ev["error"]) / (0.2 * batch.params[
        "target_interval"])))
    np.testing.assert_allclose(ev["reward"], np.nan_to_num(expected))
    assert ev["aborted"].any() and (ev["correct"] == 1).any() and (ev["correct"] == 0).any()


def test_catch_trials_want_no_go():
    task = neurotasks.make_task("ReadySetGo-v0", catch_prob=1.0, input_noise=0.0)
    batch = task.trials(3, rng=0)
    assert np.all(batch.inputs[:, :, :2] == 0.0) and np.all(batch.targets == 0.0) and np.all(batch.gt == 0)
    waiting = task.evaluate(batch, actions=np.zeros(batch.gt.shape, dtype=np.int64))
    assert waiting["is_success"].all() and np.isnan(waiting["correct"]).all()
    going = np.zeros(batch.gt.shape, dtype=np.int64)
    going[:, 10] = 1
    ev = task.evaluate(batch, actions=going)
    assert ev["aborted"].all() and not ev["is_success"].any()
    np.testing.assert_allclose(ev["reward"], -0.1)


# ---------------------------------------------------------------------- arguments
@pytest.mark.parametrize(("task_id", "kwargs", "name"), [
    ("ReadySetGo-v0", {"intervals": [480, -560]}, "intervals"),
    ("ReadySetGo-v0", {"intervals": []}, "intervals"),
    ("ReadySetGo-v0", {"intervals": "soon"}, "intervals"),
    ("ReadySetGo-v0", {"gains": [1.0, 0.0]}, "gains"),
    ("ReadySetGo-v0", {"gains": [-1.5]}, "gains"),
    ("ReadySetGo-v0", {"gains": []}, "gains"),
    ("ReadySetGo-v0", {"tolerance": 0.0}, "tolerance"),
    ("ReadySetGo-v0", {"tolerance": 1.5}, "tolerance"),
    ("ReadySetGo-v0", {"production_factor": 1.1}, "production_factor"),
    ("ReadySetGo-v0", {"pulse_width": 0.0}, "pulse_width"),
    ("ReadySetGo-v0", {"pulse_width": 500.0}, "pulse_width"),
    ("ReadySetGo-v0", {"fixation": -3}, "fixation"),
    ("CueSetGo-v0", {"intervals": [800, 800]}, "intervals"),
    ("CueSetGo-v0", {"intervals": [-800]}, "intervals"),
    ("CueSetGo-v0", {"intervals": []}, "intervals"),
    ("CueSetGo-v0", {"cue_duration": ("uniform", 5, 1)}, "cue_duration"),
])
def test_bad_arguments_raise_naming_the_parameter(task_id, kwargs, name):
    with pytest.raises(ValueError, match=name):
        neurotasks.make_task(task_id, **kwargs)


def test_bad_forced_parameters_raise():
    task = quiet_rsg()
    with pytest.raises(ValueError, match="interval"):
        task.trials(2, rng=0, interval=-10.0)
    with pytest.raises(ValueError, match="gain"):
        task.trials(2, rng=0, gain=0.0)


def test_classes_are_exported():
    assert neurotasks.task_class("ReadySetGo-v0") is ReadySetGo
    assert neurotasks.task_class("CueSetGo-v0") is CueSetGo


# ---------------------------------------------------------------------- environment checkers

