"""Property tests of validation: every task's constructor arguments and forced parameters x seeds.

One invariant throughout: either a ValueError or TypeError that names the offending parameter,
raised when the task is made or when ``trials`` is called, or a batch that satisfies the task's
invariants (forced values applied, inputs inside the observation space, every period present
with at least one step on regular trials, lengths within ``max_trial_steps``), which the task can
then score. Never another exception, a late error or a silently different batch.

Hypothesis runs derandomized and without a database, so CI sees the same examples every time;
``VALIDATION_EXAMPLES=3000 VALIDATION_RANDOM=1`` explores further (run it under a memory ulimit).
A RuntimeWarning (an overflow, an invalid cast) fails a test: it means a number went wrong.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import neurotasks
from neurotasks.domains import Flag, Reals, Values
from neurotasks.env import make_spaces
from neurotasks.registry import task_arguments
from neurotasks.timing import Duration
from tests.conftest import TASK_IDS

#: Deterministic and modest: the whole file runs in a few seconds on one core.
PROFILE = settings(max_examples=int(os.environ.get("VALIDATION_EXAMPLES", 150)), deadline=None,
                   derandomize=not os.environ.get("VALIDATION_RANDOM"), database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

#: Keeps every batch a test makes small; a batch above it must be refused naming the limit.
BATCH_BYTES = 64 * 2**20

# ---------------------------------------------------------------------- strategies
SPECIAL = [0, 0.0, -0.0, -1, 1, 0.5, 1e-9, 1e-300, 1e9, 1e300, -1e300, math.nan, math.inf, -math.inf, True, False,
           "x", "12", None, [], [1, 2], np.float32(3.5), np.int64(7), np.nan]
numbers = st.one_of(st.sampled_from(SPECIAL), st.floats(-1e4, 1e4), st.integers(-10, 10**4),
                    st.floats(0.1, 5.0).map(lambda x: round(x * 100.0, 1)))
ints = st.one_of(st.integers(-3, 70), st.sampled_from([True, 2.5, "3", None, np.int32(4), 10**12]))
durations = st.one_of(
    numbers,
    st.tuples(st.just("uniform"), numbers, numbers),
    st.tuples(st.just("choice"), st.lists(numbers, max_size=4)),
    st.tuples(st.just("truncated_exponential"), numbers, numbers, st.sampled_from([math.inf, 500.0, 2000.0, 1e9])),
    st.tuples(st.just("gaussian"), numbers),
)
lists = st.one_of(st.lists(numbers, max_size=6), st.sampled_from(["abc", 5, None, [[1, 2], [3]], [[10, 20], [20, 30]]]),
                  st.lists(st.tuples(st.floats(1, 60), st.floats(1, 60)), min_size=1, max_size=4))
words = st.sampled_from(["variable", "fixed", "position", "velocity", "place_cells", "gaussian", "dog", "bogus", 3,
                         None])


def strategy_for(name: str, default, annotation: str):
    """A strategy for one constructor argument, from its name, default and annotation."""
    if name in ("max_trial_steps", "max_batch_bytes"):
        return st.one_of(st.integers(-2, 3000), st.sampled_from([True, 1.5, "big", 10**30]))
    if "Duration" in annotation or name in ("pulse_width", "start_duration", "response_delay"):
        return durations
    if isinstance(default, str):
        return words
    if isinstance(default, bool) or "bool" in annotation:
        return st.one_of(st.booleans(), numbers)
    if isinstance(default, (int, np.integer)) and "float" not in annotation:
        return ints
    if isinstance(default, (tuple, list)) or "Sequence" in annotation:
        return lists
    return numbers


def constructor_arguments(task_id: str):
    """Strategy: a dict of 1 to 3 of the task's constructor arguments, set to adversarial values."""
    cls = neurotasks.task_class(task_id)
    import inspect

    params = inspect.signature(cls.__init__).parameters
    named = {name: strategy_for(name, default, str(params[name].annotation))
             for name, default in task_arguments(task_id).items()}
    keys = st.lists(st.sampled_from(sorted(named)), min_size=1, max_size=3, unique=True)
    return keys.flatmap(lambda ks: st.fixed_dictionaries({k: named[k] for k in ks}))


def valid_values(domain, n: int):
    """Strategy: a scalar or (n,) array of values inside ``domain``."""
    if isinstance(domain, Flag):
        scalar = st.booleans()
    elif isinstance(domain, Values):
        scalar = st.sampled_from(domain.values.tolist())
    else:
        assert isinstance(domain, Reals)
        low = domain.low if math.isfinite(domain.low) else -1e6
        high = domain.high if math.isfinite(domain.high) else low + 5000.0
        scalar = st.floats(low, high, exclude_min=domain.low_open, exclude_max=domain.high_open).filter(
            lambda x: x not in domain.excluded)
    return st.one_of(scalar, st.lists(scalar, min_size=n, max_size=n).map(np.array))


bad_forced = st.sampled_from([math.nan, math.inf, -1.0, 1e300, -7, 99, 0.5, True, "x", "1", None, [1, 2, 3, 4, 5],
                              np.array([[1.0]]), {"a": 1}, 2**70])


def forced_parameters(task, n: int):
    """Strategy: 1 to 3 of the task's forced parameters, valid or adversarial."""
    domains = task.param_domains()
    names = sorted(domains) + sorted(task.derived_params) + ["no_such_param"]
    keys = st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True)

    def values(ks):
        return st.fixed_dictionaries({k: st.one_of(valid_values(domains[k], n), bad_forced) if k in domains
                                      else st.one_of(st.just(0), bad_forced) for k in ks})

    return keys.flatmap(values)


# ---------------------------------------------------------------------- the invariant
def assert_names_a_parameter(err: Exception, names) -> None:
    message = str(err)
    assert any(name in message for name in names), f"{type(err).__name__} names none of {sorted(names)}: {message}"


def assert_valid_batch(task, batch, n: int) -> None:
    """The invariants of a batch of ``task``: layout, spaces, periods and the step ceiling."""
    B, T = len(batch), batch.n_steps
    assert B == n and batch.lengths.min() >= 1 and batch.lengths.max() == T <= task.max_trial_steps
    assert batch.inputs.shape == (B, T, len(task.input_names)) and batch.inputs.dtype == np.float32
    assert np.all(np.isfinite(batch.inputs)) and np.all(np.isfinite(batch.targets))
    observation, action = make_spaces(task)
    real = batch.valid
    assert np.all(batch.inputs[real] >= observation.low) and np.all(batch.inputs[real] <= observation.high)
    lo, hi = task.output_range
    assert np.all(batch.targets >= np.float32(lo)) and np.all(batch.targets <= np.float32(hi))
    spans = np.stack([batch.periods[p] for p in task.period_names], axis=1)
    assert np.all(spans[:, 0, 0] == 0) and np.all(spans[:, 1:, 0] == spans[:, :-1, 1])
    assert np.array_equal(spans[:, -1, 1], batch.lengths)
    steps = spans[:, :, 1] - spans[:, :, 0]
    regular = ~batch.params["catch"]
    for j, period in enumerate(task.period_names):
        if not task.period_timing[period].can_be_zero:
            assert np.all(steps[regular, j] >= 1), f"the {period} period is empty on a regular trial"
    assert np.all(batch.lengths[~regular] == round(task.catch_duration / task.dt))
    # The task can score what it made, from outputs and from actions.
    task.evaluate(batch, outputs=batch.targets)
    task.evaluate(batch, actions=batch.gt.clip(0) if task.rule.action_kind == "discrete" else batch.targets)


def check_construction_and_trials(task_id: str, kwargs: dict, seed: int, n: int) -> None:
    try:
        task = neurotasks.make_task(task_id, max_batch_bytes=BATCH_BYTES, **kwargs) if "max_batch_bytes" not in kwargs \
            else neurotasks.make_task(task_id, **kwargs)
    except (ValueError, TypeError) as err:
        assert_names_a_parameter(err, kwargs)
        return
    for name, value in kwargs.items():
        if name in ("max_trial_steps", "max_batch_bytes"):
            assert getattr(task, name) == value
    try:
        batch = task.trials(n, seed)
    except ValueError as err:                       # only the memory limit may refuse a call
        assert "max_batch_bytes" in str(err), str(err)
        return
    assert_valid_batch(task, batch, n)


# ---------------------------------------------------------------------- the tests
@given(data=st.data(), seed=st.integers(0, 2**32 - 1), n=st.integers(1, 6))
@PROFILE
def test_constructor_arguments_either_refused_by_name_or_make_valid_trials(data, seed, n):
    task_id = data.draw(st.sampled_from(TASK_IDS), label="task_id")
    kwargs = data.draw(constructor_arguments(task_id), label="kwargs")
    check_construction_and_trials(task_id, kwargs, seed, n)


TASKS = {task_id: neurotasks.make_task(task_id, max_batch_bytes=BATCH_BYTES) for task_id in TASK_IDS}


@given(data=st.data(), seed=st.integers(0, 2**32 - 1), n=st.integers(1, 6))
@PROFILE
def test_forced_parameters_either_refused_by_name_or_applied(data, seed, n):
    task_id = data.draw(st.sampled_from(TASK_IDS), label="task_id")
    task = TASKS[task_id]
    forced = data.draw(forced_parameters(task, n), label="forced")
    try:
        batch = task.trials(n, seed, **forced)
    except (ValueError, TypeError) as err:
        assert_names_a_parameter(err, forced)
        return
    domains = task.param_domains()
    for name, value in forced.items():
        expected = domains[name].convert(value, name, n)
        np.testing.assert_array_equal(batch.params[name], expected, err_msg=name)
        assert batch.params[name].dtype == task.trials(1, 0).params[name].dtype
    assert_valid_batch(task, batch, n)


@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
@PROFILE
def test_forced_parameters_with_adversarial_arguments(data, seed):
    """Forcing on a task made with unusual (valid) arguments: the two validations compose."""
    task_id = data.draw(st.sampled_from(TASK_IDS), label="task_id")
    kwargs = data.draw(constructor_arguments(task_id), label="kwargs")
    try:
        task = neurotasks.make_task(task_id, max_batch_bytes=BATCH_BYTES, **kwargs) \
            if "max_batch_bytes" not in kwargs else neurotasks.make_task(task_id, **kwargs)
    except (ValueError, TypeError):
        return                                      # the first test checks these
    forced = data.draw(forced_parameters(task, 3), label="forced")
    try:
        batch = task.trials(3, seed, **forced)
    except (ValueError, TypeError) as err:
        assert_names_a_parameter(err, [*forced, "max_batch_bytes"])
        return
    domains = task.param_domains()
    for name, value in forced.items():
        np.testing.assert_array_equal(batch.params[name], domains[name].convert(value, name, 3), err_msg=name)
    assert_valid_batch(task, batch, 3)


def test_strategies_cover_every_argument():
    """Every constructor argument of every task gets a strategy (a new argument is tested too)."""
    import inspect

    for task_id in TASK_IDS:
        params = inspect.signature(neurotasks.task_class(task_id).__init__).parameters
        for name, default in task_arguments(task_id).items():
            assert strategy_for(name, default, str(params[name].annotation)) is not None
            if isinstance(default, Duration):
                assert "Duration" in str(params[name].annotation), (task_id, name)
