"""GeneratorStack: one call, each generator drawing what its own call would."""

from __future__ import annotations

import numpy as np
import pytest

import neurotasks
from neurotasks.stacked_draws import GeneratorStack, StackError


def gens(k=3):
    return [np.random.default_rng(s) for s in range(10, 10 + k)]


@pytest.mark.parametrize("method, args, kwargs", [
    ("random", (6,), {}),
    ("integers", (0, 5), {"size": 6}),
    ("uniform", (-1.0, 2.0, 6), {}),
    ("choice", (np.array([1.0, 2.0, 4.0]),), {"size": (6, 2), "p": [0.2, 0.3, 0.5]}),
    ("rayleigh", (2.0,), {"size": 6}),
    ("standard_exponential", ((6, 4),), {}),
])
def test_each_generator_draws_its_own_part(method, args, kwargs):
    stacked = getattr(GeneratorStack(gens(), 2), method)(*args, **kwargs)
    size = kwargs.get("size", args[-1] if method in ("random", "uniform", "standard_exponential") else None)
    shape = (size,) if isinstance(size, int) else tuple(size)
    part_kwargs = dict(kwargs, size=(2, *shape[1:]))
    part_args = args[:-1] if "size" not in kwargs else args
    alone = np.concatenate([getattr(rng, method)(*part_args, **part_kwargs) for rng in gens()])
    np.testing.assert_array_equal(stacked, alone)


@pytest.mark.parametrize("call", [
    lambda s: s.random(),                                  # no size
    lambda s: s.random(5),                                 # not g n first
    lambda s: s.uniform(np.zeros(6), 1.0, size=6),         # per-trial array argument
    lambda s: s.permuted(np.arange(6)),                    # a method it does not split
])
def test_what_cannot_be_split_raises(call):
    with pytest.raises(StackError):
        call(GeneratorStack(gens(), 2))


def test_tasks_use_the_stack_where_their_hooks_allow():
    assert neurotasks.make_task("PerceptualDecision-v0")._stackable_draws() is True
    # SequenceExecution shuffles with Generator.permuted, which the stack cannot split.
    task = neurotasks.make_task("SequenceExecution-v0")
    assert task._stackable_draws() is False
    rngs = [np.random.default_rng(1), np.random.default_rng(2)]
    joint = task.trials_from(rngs, 3)
    alone = task.trials(3, np.random.default_rng(2))
    np.testing.assert_array_equal(joint.inputs[3:, :alone.n_steps], alone.inputs)
