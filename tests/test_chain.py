"""chain_trials: consecutive trials laid end to end, for training without resets."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import neurotasks
from neurotasks.batch import TrialBatch
from neurotasks.chain import chain_trials


def toy_batch(lengths, n_in=2, n_out=1):
    """Trials whose every entry encodes (trial, step), so misplaced steps are easy to spot."""
    lengths = np.asarray(lengths, dtype=np.int64)
    b, t_max = len(lengths), int(lengths.max())
    t = np.arange(t_max)[None, :]
    valid = t < lengths[:, None]
    code = (np.arange(b)[:, None] * 1000 + t + 1).astype(np.float32) * valid
    return TrialBatch(
        inputs=np.repeat(code[:, :, None], n_in, axis=2),
        targets=-code[:, :, None].repeat(n_out, axis=2),
        mask=valid[:, :, None].astype(np.float32).repeat(n_out, axis=2),
        gt=np.where(valid, 1, -1).astype(np.int64),
        lengths=lengths,
        periods={"first": np.stack([np.zeros(b, np.int64), lengths // 2], 1),
                 "second": np.stack([lengths // 2, lengths], 1)},
        params={"id": np.arange(b), "value": np.arange(b) * 0.5},
        dt=10.0,
        extras={"tag": np.arange(b) * 10},
    )


def test_rows_hold_consecutive_trials_back_to_back():
    batch = toy_batch([3, 5, 2, 4, 1, 6, 7])
    chained = chain_trials(batch, 3)
    assert len(chained) == 2                      # 7 // 3 rows; the last trial is dropped
    np.testing.assert_array_equal(chained.lengths, [10, 11])
    assert chained.n_steps == 11
    np.testing.assert_array_equal(chained.extras["trial_starts"], [[0, 3, 8], [0, 4, 5]])
    np.testing.assert_array_equal(chained.extras["trial_lengths"], [[3, 5, 2], [4, 1, 6]])
    expected_row0 = [1, 2, 3, 1001, 1002, 1003, 1004, 1005, 2001, 2002, 0]
    np.testing.assert_array_equal(chained.inputs[0, :, 0], expected_row0)
    np.testing.assert_array_equal(chained.inputs[1, :, 1], [3001, 3002, 3003, 3004, 4001,
                                                              5001, 5002, 5003, 5004, 5005, 5006])
    np.testing.assert_array_equal(chained.targets[0, :, 0], -np.array(expected_row0))
    np.testing.assert_array_equal(chained.mask[0, :, 0], [1] * 10 + [0])
    np.testing.assert_array_equal(chained.gt[0], [1] * 10 + [-1])
    assert chained.dt == 10.0


def test_periods_params_and_extras():
    batch = toy_batch([3, 5, 2, 4, 1, 6])
    chained = chain_trials(batch, 3)
    # periods and params: those of each row's first trial.
    np.testing.assert_array_equal(chained.periods["first"], [[0, 1], [0, 2]])
    np.testing.assert_array_equal(chained.params["id"], [0, 3])
    # every trial's periods, in row steps, and params.
    np.testing.assert_array_equal(chained.extras["trial_periods/second"],
                                  [[[1, 3], [5, 8], [9, 10]], [[2, 4], [4, 5], [8, 11]]])
    np.testing.assert_array_equal(chained.extras["trial_params/id"], [[0, 1, 2], [3, 4, 5]])
    np.testing.assert_array_equal(chained.extras["trial_params/value"], [[0, 0.5, 1], [1.5, 2, 2.5]])
    np.testing.assert_array_equal(chained.extras["tag"], [[0, 10, 20], [30, 40, 50]])
    sub = chained.select([1])      # a chained batch is an ordinary TrialBatch
    assert sub.n_steps == 11 and sub.extras["trial_starts"].shape == (1, 3)


def test_one_trial_per_row_is_the_batch():
    batch = toy_batch([3, 5, 2])
    chained = chain_trials(batch, 1)
    np.testing.assert_array_equal(chained.inputs, batch.inputs)
    np.testing.assert_array_equal(chained.gt, batch.gt)
    np.testing.assert_array_equal(chained.lengths, batch.lengths)


@settings(max_examples=40, deadline=None)
@given(lengths=st.lists(st.integers(1, 12), min_size=1, max_size=12), k=st.integers(1, 4))
def test_every_trial_is_found_intact_at_its_start(lengths, k):
    if k > len(lengths):
        k = len(lengths)
    batch = toy_batch(lengths)
    chained = chain_trials(batch, k)
    rows = len(lengths) // k
    assert len(chained) == rows
    starts = chained.extras["trial_starts"]
    for r in range(rows):
        for j in range(k):
            i, n, s = r * k + j, lengths[r * k + j], starts[r, j]
            np.testing.assert_array_equal(chained.inputs[r, s:s + n], batch.inputs[i, :n])
            np.testing.assert_array_equal(chained.mask[r, s:s + n], batch.mask[i, :n])
        total = sum(lengths[r * k:(r + 1) * k])
        assert chained.lengths[r] == total
        assert not chained.inputs[r, total:].any() and (chained.gt[r, total:] == -1).all()


def test_chains_a_real_task_with_variable_lengths():
    task = neurotasks.make_task("PerceptualDecision-v0")
    batch = task.trials(12, rng=0)
    chained = chain_trials(batch, 4)
    assert chained.inputs.shape[0] == 3
    np.testing.assert_array_equal(chained.lengths, batch.lengths.reshape(3, 4).sum(axis=1))
    np.testing.assert_array_equal(chained.extras["trial_params/coherence"], batch.params["coherence"].reshape(3, 4))


def test_sequence_execution_stream():
    task = neurotasks.make_task("SequenceExecution-v0")
    batch = task.trials(16, rng=0)
    chained = chain_trials(batch, 8)
    assert chained.inputs.shape == (2, 8 * 350, 17)
    # each row holds one block: every sequence once
    assert all(sorted(row.tolist()) == list(range(1, 9)) for row in chained.extras["trial_params/sequence"])


@pytest.mark.parametrize("k", [0, -1, True, 2.0, 4])
def test_bad_trials_per_row(k):
    with pytest.raises(ValueError, match="trials_per_row"):
        chain_trials(toy_batch([3, 5, 2]), k)
