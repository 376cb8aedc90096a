"""TrialSampler: batches of whole fresh trials, drawn a block at a time."""

from __future__ import annotations

import numpy as np
import pytest

import neurotasks
from neurotasks import TrialSampler


def concat(batches, field):
    return np.concatenate([getattr(b, field)[i, :n].ravel() for b in batches for i, n in enumerate(b.lengths)])


@pytest.mark.parametrize("task_id", ["PerceptualDecision-v0", "FlipFlop-v0", "DelayedReach-v0"])
def test_batches_are_the_block_cut_in_order(task_id):
    """Consecutive batches are one ``task.trials(block)`` call, in order, each trimmed to its longest trial."""
    task = neurotasks.make_task(task_id)
    sampler = TrialSampler(task, 8, rng=3, block=24)
    batches = [sampler() for _ in range(3)]
    block_view = sampler._trials
    block = task.trials(24, 3)
    for field in ("inputs", "targets", "mask", "gt"):
        assert np.array_equal(concat(batches, field), concat([block], field))
    for b, start in zip(batches, (0, 8, 16), strict=True):
        assert len(b) == 8 and b.n_steps == b.lengths.max()
        assert all(np.shares_memory(a, getattr(block_view, f)) for f, a in (("inputs", b.inputs), ("gt", b.gt)))
        for key, value in b.params.items():
            np.testing.assert_array_equal(value, block.params[key][start:start + 8])   # NaN == NaN
        for key, value in b.periods.items():
            assert np.array_equal(value, block.periods[key][start:start + 8])


def test_next_block_is_fresh_and_seeding_reproduces():
    a = TrialSampler("PerceptualDecision-v0", 4, rng=0, block=4)
    b = TrialSampler("PerceptualDecision-v0", 4, rng=0, block=4)
    first, second = next(a), next(a)
    assert not np.array_equal(first.params["coherence"], second.params["coherence"]) or \
        not np.array_equal(first.lengths, second.lengths)
    for x, y in zip((first, second), (b(), b()), strict=True):
        assert np.array_equal(x.inputs, y.inputs)


def test_default_block_is_a_multiple_of_the_batch():
    sampler = TrialSampler("PerceptualDecision-v0", 100, rng=0, dt=100)
    assert sampler.block % 100 == 0 and sampler.block >= 100
    assert sampler.task.dt == 100
    batch = sampler()
    assert len(batch) == 100 and np.all(batch.inputs >= 0)


@pytest.mark.parametrize("kwargs, match", [
    ({"batch_size": 0}, "batch_size"), ({"batch_size": 2.5}, "batch_size"), ({"batch_size": True}, "batch_size"),
    ({"batch_size": 4, "block": 6}, "block"), ({"batch_size": 4, "block": 0}, "block"),
])
def test_bad_arguments_name_the_parameter(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TrialSampler("PerceptualDecision-v0", **kwargs)


def test_task_arguments_need_a_task_id():
    task = neurotasks.make_task("PerceptualDecision-v0")
    with pytest.raises(TypeError, match="task id"):
        TrialSampler(task, 4, dt=10)
    with pytest.raises(TypeError, match="task"):
        TrialSampler(42, 4)
    with pytest.raises(ValueError, match="dt"):
        TrialSampler("PerceptualDecision-v0", 4, dt=-1)


def test_blocks_built_in_reused_memory_give_the_same_batches_and_never_touch_held_ones():
    """The sampler reuses a block's memory only once no batch of it is held; either way the batches
    are those of fresh memory, and a batch a caller keeps never changes."""
    task = neurotasks.make_task("PerceptualDecision-v0", dt=100)
    kept = neurotasks.TrialSampler(task, 16, rng=5, block=32)
    held = [kept() for _ in range(12)]                 # every batch held: fresh memory for each block
    snapshots = [b.inputs.copy() for b in held]
    streaming = neurotasks.TrialSampler(task, 16, rng=5, block=32)
    for expected in held:                              # only the latest batch held: memory reused
        batch = streaming()
        for field in ("inputs", "targets", "mask", "gt", "lengths"):
            assert np.array_equal(getattr(batch, field), getattr(expected, field)), field
    assert all(np.array_equal(b.inputs, s) for b, s in zip(held, snapshots, strict=True))


def test_trials_in_work_memory_equal_fresh_trials():
    from neurotasks.work_arrays import WorkArrays

    work = WorkArrays()
    for task_id in neurotasks.list_tasks():
        task = neurotasks.make_task(task_id)
        for seed in (0, 1):                            # the second call reuses (and must clear) the memory
            fresh, reused = task.trials(9, rng=seed), task.trials(9, rng=seed, work=work)
            for field in ("inputs", "targets", "mask", "gt"):
                assert np.array_equal(getattr(fresh, field), getattr(reused, field)), (task_id, field)
