"""Validation, as the base class does it for every task: timing at construction, the step
ceiling, the memory estimate, forced parameters, reward tables and ``evaluate``'s inputs."""

from __future__ import annotations

import copy
import math
import pickle
import tracemalloc

import numpy as np
import pytest

import neurotasks
from neurotasks.domains import Flag, Reals, Values
from neurotasks.env import TaskEnv
from neurotasks.rules import reward_table
from neurotasks.task import MAX_BATCH_BYTES, MAX_TRIAL_STEPS
from neurotasks.timing import TruncatedExponential
from neurotasks.vector_env import TaskVectorEnv
from tests.conftest import TASK_IDS

TASKS = {task_id: neurotasks.make_task(task_id) for task_id in TASK_IDS}


def longest_trial(task) -> float:
    """Steps of the longest trial the task's arguments allow (catch trials included)."""
    regular = sum(round(task.period_timing[p].duration.max / task.dt) for p in task.period_names)
    return max(regular, round(task.catch_duration / task.dt))


# ---------------------------------------------------------------------- timing at construction
@pytest.mark.parametrize("task_id", TASK_IDS)
def test_every_period_is_declared_and_defaults_fit_the_ceiling_down_to_dt_1ms(task_id):
    task = TASKS[task_id]
    assert set(task.period_timing) == set(task.period_names)
    assert longest_trial(task) <= MAX_TRIAL_STEPS / 20                  # room to spare at the default dt
    fine = neurotasks.make_task(task_id, dt=1.0)
    assert longest_trial(fine) <= MAX_TRIAL_STEPS
    assert fine.trials(2, 0).lengths.max() <= MAX_TRIAL_STEPS


@pytest.mark.parametrize("task_id", TASK_IDS)
def test_every_period_is_present_on_regular_trials(task_id):
    task = TASKS[task_id]
    batch = task.trials(200, 3)
    regular = ~batch.params["catch"]
    for period in task.period_names:
        steps = np.diff(batch.periods[period], axis=1)[:, 0]
        if not task.period_timing[period].can_be_zero:
            assert steps[regular].min() >= 1, period


def test_a_dt_longer_than_a_period_is_refused_naming_it():
    # 300 ms of decision at dt = 600 ms: 0.5 step, which rounds to 0 (the period would vanish).
    with pytest.raises(ValueError, match=r"decision can be 300 ms, which is 0 steps at dt=600 ms") as err:
        neurotasks.make_task("ParametricWorkingMemory-v0", dt=600.0)
    assert "rounds to 0" in str(err.value)


@pytest.mark.parametrize(("task_id", "kwargs", "name"), [
    ("PerceptualDecision-v0", {"fixation": 5.0}, "fixation"),
    ("PerceptualDecision-v0", {"stimulus_duration": ("uniform", 0, 500)}, "stimulus_duration"),
    ("PerceptualDecision-v0", {"stimulus_duration": ("choice", [10, 800])}, "stimulus_duration"),
    ("PerceptualDecision-v0", {"decision": ("truncated_exponential", 100, 5, 300)}, "decision"),
    ("ParametricWorkingMemory-v0", {"delay": 5.0}, "delay"),                 # may be 0, but not 5 ms -> 0
    ("ParametricWorkingMemory-v0", {"delay": ("choice", [0, 5, 3000])}, "delay"),
    ("DelayedReach-v0", {"reaction_time": 4.0}, "reaction_time"),
    ("SequenceExecution-v0", {"movement": 4.0}, "movement"),
    ("PathIntegration-v0", {"duration": 105.0}, "duration"),                  # 5 ms of navigation
    ("ReadySetGo-v0", {"dt": 1000.0, "pulse_width": 100.0}, "intervals"),     # 480 ms of ready_set
    ("CueSetGo-v0", {"dt": 1000.0}, "cue_duration"),                          # 500 ms of cue -> 0.5 step
    ("FlipFlop-v0", {"duration": 4.0, "pulse_width": 2.0}, "duration"),
])
def test_durations_shorter_than_a_step_are_refused(task_id, kwargs, name):
    with pytest.raises(ValueError, match=rf"{name} .*(0 steps at dt=|the \w+ period cannot be empty)"):
        neurotasks.make_task(task_id, **kwargs)


def test_periods_that_may_be_zero_stay_allowed():
    task = neurotasks.make_task("ParametricWorkingMemory-v0", delay=0.0)
    assert np.all(np.diff(task.trials(8, 0, catch=False).periods["delay"], axis=1) == 0)
    reach = neurotasks.make_task("DelayedReach-v0", delay=("uniform", 0, 100), reaction_time=0)
    batch = reach.trials(64, 1)
    assert np.diff(batch.periods["go"], axis=1).max() == 0 and np.diff(batch.periods["delay"], axis=1).min() == 0
    assert neurotasks.make_task("SequenceExecution-v0", iti=0).trials(2, 0).lengths[0] == 250


def test_a_catch_trial_must_last_a_step():
    with pytest.raises(ValueError, match=r"catch_duration \(5 ms\) is 0 steps at dt=20"):
        neurotasks.make_task("PerceptualDecision-v0", catch_duration=5.0)


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"fixation": 1e9}, "fixation"),
    ({"decision": ("uniform", 100, 1e9)}, "decision"),
    ({"catch_duration": 1e9}, "catch_duration"),
    ({"stimulus_duration": TruncatedExponential(330.0, 80.0)}, "stimulus_duration"),     # no max: unbounded
])
def test_trials_longer_than_the_ceiling_are_refused_at_construction(kwargs, name):
    with pytest.raises(ValueError, match="max_trial_steps=10000") as err:
        neurotasks.make_task("PerceptualDecision-v0", **kwargs)
    assert name in str(err.value)


def test_an_unbounded_duration_says_so():
    with pytest.raises(ValueError, match="unboundedly many steps"):
        neurotasks.make_task("PerceptualDecision-v0", stimulus_duration=("truncated_exponential", 330, 80))


def test_a_tiny_dt_is_refused_before_anything_is_allocated():
    with pytest.raises(ValueError, match=r"dt=1e-09 ms, above max_trial_steps"):
        neurotasks.make_task("PerceptualDecision-v0", dt=1e-9)


def test_the_ceiling_is_configurable():
    with pytest.raises(ValueError, match="above max_trial_steps=50"):
        neurotasks.make_task("PerceptualDecision-v0", max_trial_steps=50)        # up to 95 steps
    long = neurotasks.make_task("PerceptualDecision-v0", stimulus_duration=300_000.0, max_trial_steps=20_000)
    assert long.trials(1, 0, catch=False).lengths[0] == 5 + 15_000 + 15
    assert long.max_trial_steps == 20_000 and neurotasks.task_arguments("FlipFlop-v0")["max_trial_steps"] == 10_000


@pytest.mark.parametrize("name", ["max_trial_steps", "max_batch_bytes"])
@pytest.mark.parametrize("value", [0, -1, 1.5, True, "10", None])
def test_limits_must_be_positive_ints(name, value):
    with pytest.raises(ValueError, match=name):
        neurotasks.make_task("FlipFlop-v0", **{name: value})


def test_the_checks_run_when_a_task_class_is_called_directly():
    from neurotasks.tasks.parametric_working_memory import ParametricWorkingMemory

    with pytest.raises(ValueError, match="decision"):
        ParametricWorkingMemory(dt=600.0)


def test_copies_keep_the_limits():
    task = neurotasks.make_task("FlipFlop-v0", max_trial_steps=500, max_batch_bytes=10**6)
    for twin in (copy.deepcopy(task), pickle.loads(pickle.dumps(task))):
        assert (twin.max_trial_steps, twin.max_batch_bytes) == (500, 10**6)
        np.testing.assert_array_equal(twin.trials(3, 1).inputs, task.trials(3, 1).inputs)


@pytest.mark.parametrize(("task_id", "kwargs", "name"), [
    ("FlipFlop-v0", {"n_bits": 10**12}, "n_bits"),
    ("FlipFlop-v0", {"pulse_width": 5000.0}, "pulse_width"),
    ("PathIntegration-v0", {"n_place_cells": 10**9}, "n_place_cells"),
    ("PathIntegration-v0", {"arena_size": 1e-300}, "arena_size"),
    ("PathIntegration-v0", {"speed": 1e300}, "speed"),
    ("PerceptualDecision-v0", {"input_baseline": 1e300}, "input_baseline"),
    ("PerceptualDecisionRT-v0", {"response_delay": 800.0}, "response_delay"),   # no step left to respond
    ("PerceptualDecisionRT-v0", {"high": "1.2"}, "high"),
    ("CueSetGo-v0", {"intervals": [800.0, 800.0000001]}, "intervals"),           # the same cue name
    ("ReadySetGo-v0", {"intervals": [1.0]}, "intervals"),                        # shorter than the pulse
    ("CueSetGo-v0", {"pulse_width": 1e300}, "pulse_width"),
    ("PathIntegration-v0", {"start_duration": ("truncated_exponential", 1, 0, math.inf)}, "start_duration"),
    ("PerceptualDecision-v0", {"decision": ("truncated_exponential", math.inf, 10, 500)}, "decision"),
    ("PerceptualDecision-v0", {"dt": 1e-300}, "dt must be at least 1e-12 ms"),
])
def test_arguments_that_would_fail_later_are_refused_now(task_id, kwargs, name):
    with pytest.raises(ValueError, match=name):
        neurotasks.make_task(task_id, **kwargs)


def test_the_timing_ramp_stays_in_the_output_range_at_coarse_dt():
    task = neurotasks.make_task("ReadySetGo-v0", dt=3.0, production_factor=3.5)
    batch = task.trials(40, 0, catch=False)
    assert task.output_range == (0.0, 3.5) and batch.targets.max() == np.float32(3.5)
    tiny = neurotasks.make_task("ReadySetGo-v0", tolerance=1e-76, input_noise=0.0)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        exact = tiny.trials(2, 0, gain=5e-324)                   # a target of a vanishing fraction of a ms
        result = tiny.evaluate(exact, actions=exact.gt.clip(0))
    assert np.all(np.isfinite(result["reward"])) and np.all(result["correct"] == 0.0)
    # An exact go earns the full reward even when the tolerated window is 0 ms wide.
    np.testing.assert_array_equal(tiny.rule.timing_reward(np.array([0.0, 1e-300]), np.array([0.0, 0.0]), 1.0),
                                  [1.0, 0.0])


# ---------------------------------------------------------------------- memory
def test_a_batch_too_big_is_refused_before_drawing():
    task = neurotasks.make_task("PerceptualDecision-v0")
    rng = np.random.default_rng(0)
    state = copy.deepcopy(rng.bit_generator.state)
    with pytest.raises(ValueError, match=r"n\) or raise max_batch_bytes") as err:
        task.trials(10**12, rng)
    assert f"max_batch_bytes={MAX_BATCH_BYTES}" in str(err.value) and "GiB" in str(err.value)
    assert rng.bit_generator.state == state                     # nothing was drawn
    with pytest.raises(ValueError, match="max_batch_bytes"):
        task.trials_from([np.random.default_rng(s) for s in range(4)], 10**11)


def test_the_memory_limit_is_configurable_and_checked_on_the_real_lengths():
    task = neurotasks.make_task("PerceptualDecision-v0", max_batch_bytes=100_000)
    assert task.trials(10, 0).n_steps <= 100                        # catch trials: 2000 ms
    with pytest.raises(ValueError, match="max_batch_bytes=100000"):
        task.trials(1000, 0)
    # A limit between the shortest and the longest trials: decided on the lengths drawn.
    short = task.batch_bytes(20, 5 + 4 + 15)
    exact = neurotasks.make_task("PerceptualDecision-v0", max_batch_bytes=short + 1, catch_prob=0.0)
    with pytest.raises(ValueError, match="max_batch_bytes"):
        exact.trials(20, 0, coherence=51.2)


@pytest.mark.parametrize("task_id", TASK_IDS)
def test_the_memory_estimate_is_close_to_what_trials_allocates(task_id):
    task = TASKS[task_id]
    task.trials(4, 0)                                           # one-off probes and caches
    tracemalloc.start()
    batch = task.trials(128, 1)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    estimate = task.batch_bytes(128, batch.n_steps)
    assert 0.25 * estimate <= peak <= 1.6 * estimate


# ---------------------------------------------------------------------- forced parameters
def valid_examples(domain) -> list:
    if isinstance(domain, Flag):
        return [False, True]
    if isinstance(domain, Values):
        return domain.values.tolist()
    assert isinstance(domain, Reals)
    low = domain.low if math.isfinite(domain.low) else -1000.0
    high = domain.high if math.isfinite(domain.high) else low + 1000.0
    values = [low + (high - low) * f for f in (0.0, 0.37, 1.0)]
    keep = [v for v in values if domain.contains(np.array([v]))[0]]
    return keep or [0.5 * (low + high)]


FORCEABLE = [(task_id, name) for task_id in TASK_IDS for name in TASKS[task_id].param_domains()]


@pytest.mark.parametrize(("task_id", "name"), FORCEABLE)
def test_a_forced_value_is_what_the_batch_uses(task_id, name):
    """Every parameter of every task, forced to each valid example alone: the batch holds it."""
    task = TASKS[task_id]
    dtype = task.trials(1, 0).params[name].dtype
    for value in valid_examples(task.param_domains()[name]):
        for seed in range(3):
            batch = task.trials(12, seed, **{name: value})
            assert batch.params[name].dtype == dtype
            assert np.all(batch.params[name] == value), (name, value, np.unique(batch.params[name]))


@pytest.mark.parametrize("task_id", TASK_IDS)
def test_a_whole_drawn_condition_can_be_forced_back(task_id):
    """Forcing every drawn parameter to a batch's own values reproduces those values."""
    task = TASKS[task_id]
    drawn = task.trials(16, 5)
    names = list(task.param_domains())
    forced = {name: drawn.params[name] for name in names}
    again = task.trials(16, 6, **forced)
    for name in drawn.params:
        if name in names or name not in type(task).derived_params or name == "angle":
            np.testing.assert_array_equal(again.params[name], drawn.params[name], err_msg=name)


@pytest.mark.parametrize("task_id", TASK_IDS)
def test_domains_cover_the_drawn_parameters_and_derived_ones_are_declared(task_id):
    task = TASKS[task_id]
    batch = task.trials(8, 0)
    domains = task.param_domains()
    drawn = {"catch", *task.sample_params(2, np.random.default_rng(0))}
    assert set(domains) == drawn
    assert set(batch.params) == drawn | set(task.derived_params)
    for name, value in batch.params.items():
        if name in domains:
            assert np.all(domains[name].contains(value)), name     # drawn values lie in their domains


@pytest.mark.parametrize(("task_id", "name", "advice"), [
    ("CueSetGo-v0", "target_interval", "force interval instead"),
    ("ReadySetGo-v0", "target_interval", "force interval and gain instead"),
    ("ContextDecision-v0", "ground_truth", "force context, motion_direction and colour_direction"),
    ("MultisensoryIntegration-v0", "ground_truth", "force rate instead"),
    ("ParametricWorkingMemory-v0", "ground_truth", "force f1 and f2 instead"),
    ("DelayedReach-v0", "angle", "force target instead"),
    ("DelayedReach-v0", "switch_time", "force switch_phase instead"),
    ("FlipFlop-v0", "n_pulses", "cannot be forced"),
])
def test_derived_parameters_are_refused_with_advice(task_id, name, advice):
    with pytest.raises(ValueError, match=rf"{name} is derived .*{advice}"):
        TASKS[task_id].trials(3, 0, **{name: 900.0})


def test_unknown_names_are_refused_listing_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['cohrence'\]; known: \['catch', 'ground_truth', "
                                         r"'coherence'\]"):
        TASKS["PerceptualDecision-v0"].trials(3, 0, cohrence=5)


@pytest.mark.parametrize("value", ["abc", "5", None, object(), [1, "a", 3], {"x": 1}, 3 + 1j, [[1.0]]])
def test_non_numeric_forced_values_are_refused_naming_the_parameter(value):
    with pytest.raises(ValueError, match="forced parameter coherence must") as err:
        TASKS["PerceptualDecision-v0"].trials(3, 0, coherence=value)
    assert "could not convert" not in str(err.value)


@pytest.mark.parametrize(("name", "value", "match"), [
    ("ground_truth", True, "got a bool"),
    ("ground_truth", 0.5, r"one of \{0, 1\}"),
    ("ground_truth", 2, r"one of \{0, 1\}"),
    ("ground_truth", 1e300, r"one of \{0, 1\}"),
    ("ground_truth", 2**70, "must be a number"),
    ("coherence", math.nan, r"in \[0, 100\]"),
    ("coherence", -1.0, r"in \[0, 100\]"),
    ("coherence", np.array([5.0, 200.0, 5.0]), r"got \[200.0\]"),
    ("coherence", np.ones(4), r"shape \(3,\)"),
    ("catch", 2, "True or False"),
    ("catch", 0.0, "True or False"),
])
def test_forced_values_outside_the_domain_are_refused(name, value, match):
    with pytest.raises(ValueError, match=rf"forced parameter {name} .*{match}"):
        TASKS["PerceptualDecision-v0"].trials(3, 0, **{name: value})


def test_forced_values_are_converted_to_the_parameter_dtype():
    task = TASKS["PerceptualDecision-v0"]
    batch = task.trials(3, 0, ground_truth=1.0, coherence=np.int32(5), catch=np.array([0, 1, 0]))
    assert batch.params["ground_truth"].dtype == np.int64 and np.all(batch.params["ground_truth"] == 1)
    assert batch.params["coherence"].dtype == np.float64 and np.all(batch.params["coherence"] == 5.0)
    np.testing.assert_array_equal(batch.params["catch"], [False, True, False])


def test_nothing_is_drawn_before_a_forced_value_is_refused():
    rng = np.random.default_rng(3)
    state = copy.deepcopy(rng.bit_generator.state)
    with pytest.raises(ValueError, match="coherence"):
        TASKS["PerceptualDecision-v0"].trials(3, rng, coherence="high")
    assert rng.bit_generator.state == state


def test_cue_set_go_forced_interval_sets_the_target_interval():
    batch = TASKS["CueSetGo-v0"].trials(20, 0, interval=800.0)
    assert np.all(batch.params["target_interval"] == 800.0)
    with pytest.raises(ValueError, match=r"interval must be one of \{800, 1500\}"):
        TASKS["CueSetGo-v0"].trials(2, 0, interval=900.0)


def test_ready_set_go_forced_intervals_and_gains_are_checked():
    task = TASKS["ReadySetGo-v0"]
    assert np.all(task.trials(3, 0, interval=1000.0, gain=1.25).params["target_interval"] == 1250.0)
    with pytest.raises(ValueError, match=r"interval must be a finite number in \(40, inf"):
        task.trials(2, 0, interval=30.0)                           # shorter than the Ready pulse
    with pytest.raises(ValueError, match=r"gain must be a finite number in \(0, 1.5\]"):
        task.trials(2, 0, gain=2.0)                                # beyond the gain input's range
    with pytest.raises(ValueError, match=r"trials of .* steps .* with the forced parameter\(s\) interval, above "
                                         r"max_trial_steps=10000"):
        task.trials(2, 0, interval=1e9)
    catch = task.trials(2, 0, interval=1e9, catch=True)                # catch trials replace the periods
    assert np.all(catch.lengths == 100) and np.all(catch.params["interval"] == 1e9)


def test_multisensory_boundary_rate_is_refused():
    with pytest.raises(ValueError, match=r"rate must be a finite number in \[9, 16\] other than 12.5"):
        TASKS["MultisensoryIntegration-v0"].trials(2, 0, rate=12.5)


def test_parametric_working_memory_one_frequency_forced_alone_always_has_an_answer():
    task = TASKS["ParametricWorkingMemory-v0"]
    plain = task.trials(400, 2)
    for value in (10.0, 18.0, 34.0):
        batch = task.trials(400, 2, f1=value)
        assert np.all(batch.params["f1"] == value) and np.all(batch.params["f2"] != value)
        # f2 is the drawn f2, or where that equals the forced f1, the drawn pair's f1
        expected = np.where(plain.params["f2"] == value, plain.params["f1"], plain.params["f2"])
        np.testing.assert_array_equal(batch.params["f2"], expected)
        assert np.all(task.trials(50, 3, f2=value).params["f1"] != value)
    with pytest.raises(ValueError, match="f1 and f2 must differ"):
        task.trials(3, 0, f1=18.0, f2=18.0)


def test_delayed_reach_forced_targets_keep_their_switches():
    task = neurotasks.make_task("DelayedReach-v0", target_switch=True)
    batch = task.trials(64, 0, target=3)
    assert np.all(batch.params["target"] == 3) and np.all(batch.params["switched"])
    assert np.all(batch.params["first_target"] != 3)
    first = task.trials(64, 0, first_target=5)
    assert np.all(first.params["first_target"] == 5) and np.all(first.params["target"] != 5)
    both = TASKS["DelayedReach-v0"].trials(4, 0, target=np.array([1, 1, 2, 2]), first_target=np.array([1, 4, 2, 0]))
    np.testing.assert_array_equal(both.params["switched"], [False, True, False, True])
    no_switch = TASKS["DelayedReach-v0"].trials(8, 0, first_target=6)            # target_switch 0: the target
    assert np.all(no_switch.params["target"] == 6) and not no_switch.params["switched"].any()
    with pytest.raises(ValueError, match="switched is True on trial"):
        task.trials(3, 0, target=2, first_target=2, switched=True)
    with pytest.raises(ValueError, match="first_target differs from target"):
        task.trials(3, 0, target=2, first_target=1, switched=False)
    with pytest.raises(ValueError, match="needs two target_angles"):
        neurotasks.make_task("DelayedReach-v0", target_angles=[90]).trials(2, 0, switched=True)


def test_grid_trials_force_every_condition_exactly():
    for task_id, task in TASKS.items():
        try:
            grid = task.conditions()
        except NotImplementedError:
            continue
        batch = task.grid_trials(1, 0, include_catch=False)
        for name, values in grid.items():
            np.testing.assert_array_equal(batch.params[name], values, err_msg=f"{task_id} {name}")


# ---------------------------------------------------------------------- reward tables
BAD_REWARDS = [({"abort": "x"}, "rewards\\['abort'\\]"), ({"abort": True}, "rewards\\['abort'\\]"),
               ({"correct": None}, "rewards\\['correct'\\]"), ({"miss": math.nan}, "rewards\\['miss'\\]"),
               ({"fail": -math.inf}, "rewards\\['fail'\\]"), ({"bonus": 1.0}, "unknown key 'bonus'"),
               ({3: 1.0}, "unknown key 3")]


@pytest.mark.parametrize(("rewards", "match"), BAD_REWARDS)
def test_reward_tables_are_checked_alike_by_envs_and_evaluate(rewards, match):
    task = TASKS["PerceptualDecision-v0"]
    with pytest.raises(ValueError, match=match):
        TaskEnv(task, rewards=rewards)
    with pytest.raises(ValueError, match=match):
        TaskVectorEnv(2, task, rewards=rewards)
    batch = task.trials(4, 0)
    with pytest.raises(ValueError, match=match):
        task.evaluate(batch, actions=batch.gt.clip(0), rewards=rewards)


def test_reward_table_accepts_numbers_of_any_kind():
    table = reward_table({"abort": -0.1, "correct": 1.0}, {"abort": np.float32(-1.0), "correct": np.int64(2)})
    assert table == {"abort": -1.0, "correct": 2.0} and all(type(v) is float for v in table.values())
    with pytest.raises(TypeError, match="mapping"):
        reward_table({"abort": -0.1}, [("abort", 1.0)])
    task = TASKS["PerceptualDecision-v0"]
    batch = task.trials(8, 1, catch=False)
    early = np.zeros_like(batch.gt)
    early[:, 0] = 1                                                 # every trial aborts at once
    assert np.all(task.evaluate(batch, actions=early, rewards={"abort": -2})["reward"] == -2.0)


# ---------------------------------------------------------------------- evaluate's inputs
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_evaluate_refuses_non_finite_outputs_saying_where(bad):
    task = TASKS["PerceptualDecision-v0"]
    batch = task.trials(6, 0)
    outputs = batch.targets.copy()
    outputs[2, 4, 1] = bad
    outputs[5, 0, 0] = bad
    with pytest.raises(ValueError, match=r"outputs must be finite: 2 value\(s\) are not, the first at "
                                         r"\(trial, step, output\) = \(2, 4, 1\)"):
        task.evaluate(batch, outputs=outputs)
    with pytest.raises(ValueError, match="real numbers"):
        task.evaluate(batch, outputs=batch.targets.astype(str))


@pytest.mark.parametrize(("change", "match"), [
    (lambda a: a.astype(bool), "ints of Discrete\\(3\\).*dtype bool"),
    (lambda a: a.astype(np.float64), "ints of Discrete\\(3\\).*dtype float64"),
    (lambda a: np.where(np.arange(a.shape[1]) == 3, 99, a), r"lie in Discrete\(3\).*: 99"),
    (lambda a: np.where(np.arange(a.shape[1]) == 0, -1, a), r"lie in Discrete\(3\).*\(0, 0\): -1"),
    (lambda a: a[:, :-1], r"shape \(B, T\)"),
    (lambda a: a[:, :, None], r"shape \(B, T\)"),
])
def test_evaluate_refuses_discrete_actions_the_env_refuses(change, match):
    task = TASKS["PerceptualDecision-v0"]
    batch = task.trials(5, 0, catch=False)
    with pytest.raises(ValueError, match=match):
        task.evaluate(batch, actions=change(batch.gt.clip(0)))


def test_evaluate_ignores_actions_on_the_padding():
    task = TASKS["PerceptualDecision-v0"]
    batch = task.trials(32, 0)
    assert (batch.gt == -1).any()                                   # padded: gt is -1 there
    assert np.nanmean(task.evaluate(batch, actions=batch.gt)["correct"]) == 1.0
    with pytest.raises(ValueError, match="-1"):
        task.evaluate(batch, actions=np.where(batch.valid, -1, 0))


@pytest.mark.parametrize(("change", "match"), [
    (lambda a: np.where(a == a.max(), np.nan, a), "finite numbers in Box"),
    (lambda a: a + 5.0, r"in Box\(-1, 1, \(2,\)\)"),
    (lambda a: a > 0, "dtype bool"),
    (lambda a: a[:, :, :1], r"shape \(B, T, n_out\)"),
    (lambda a: a.astype(str), "dtype <U"),
])
def test_evaluate_refuses_box_actions_outside_the_space(change, match):
    task = TASKS["DelayedReach-v0"]
    batch = task.trials(4, 0)
    with pytest.raises(ValueError, match=match):
        task.evaluate(batch, actions=change(batch.targets))
    ints = np.zeros(batch.targets.shape, dtype=np.int64)           # ints inside the box are actions
    assert task.evaluate(batch, actions=ints)["rmse"].shape == (4,)
