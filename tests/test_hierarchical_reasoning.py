"""HierarchicalReasoning-v0: Sarafyazd & Jazayeri (2019)'s intervals (530-1170 ms, boundary 850 ms), the hidden
rule switching every 10-20 trials, carried across chunks by the environment."""

from __future__ import annotations

import numpy as np
import pytest

import neurotasks
from neurotasks.env import TaskEnv
from neurotasks.tasks.hierarchical_reasoning import BLOCK_TRIALS, INTERVALS

ID = "HierarchicalReasoning-v0"


def block_lengths(rule: np.ndarray) -> np.ndarray:
    """Lengths of the complete runs of one rule (the first and the last may be cut)."""
    switches = np.flatnonzero(np.diff(rule)) + 1
    return np.diff(switches)


def test_the_papers_numbers():
    assert INTERVALS == tuple(530.0 + 80.0 * np.arange(9)) and BLOCK_TRIALS == (10, 20)
    task = neurotasks.make_task(ID, input_noise=0.0)
    assert task.boundary == 850.0
    batch = task.trials(4000, rng=0)
    delay = np.diff(batch.periods["delay"], axis=1)[:, 0]
    np.testing.assert_array_equal(delay, np.rint(batch.params["interval"] / 20))
    fixation = np.diff(batch.periods["fixation"], axis=1)[:, 0] * 20
    assert fixation.min() >= 400 and fixation.max() <= 800
    assert np.all(np.diff(batch.periods["flash1"], axis=1) == 5) and np.all(np.diff(batch.periods["decision"],
                                                                                        axis=1) == 35)
    lengths = block_lengths(batch.params["rule"])
    assert lengths.min() >= 10 and lengths.max() <= 20 and set(np.unique(lengths)) == set(range(10, 21))
    assert lengths.mean() == pytest.approx(15.0, abs=0.5)


def test_the_answer_follows_the_interval_the_side_and_the_hidden_rule():
    task = neurotasks.make_task(ID, input_noise=0.0)
    batch = task.trials(3000, rng=1)
    p = batch.params
    long = (p["interval"] > 850) | ((p["interval"] == 850) & (p["draw_tie"] < 0.5))
    np.testing.assert_array_equal(p["long"], long)
    towards = long == (p["rule"] == 1)                          # rule 0: short -> towards; rule 1: long -> towards
    np.testing.assert_array_equal(p["ground_truth"], np.where(towards, p["side"], 1 - p["side"]))
    rows = np.arange(len(batch))
    flash = batch.inputs[rows, batch.periods["flash2"][:, 0]] - 0.2
    np.testing.assert_allclose(flash[:, 1:], np.stack([p["side"] == 0, p["side"] == 1], axis=1), atol=1e-6)
    assert np.all(batch.inputs[rows, batch.periods["delay"][:, 0], 1:] == 0.2)     # the rule is never shown
    end = batch.periods["decision"][:, 1] - 1
    assert np.all(batch.gt[rows, end] == p["ground_truth"] + 1)
    np.testing.assert_allclose(batch.targets[rows, end, p["ground_truth"]], 1.0)
    evaluation = task.evaluate(batch, outputs=batch.targets)
    assert task.score(batch, evaluation)["percent_correct"] == 100.0


def test_the_env_carries_blocks_across_chunks_and_reseeding_restarts_them():
    env = TaskEnv(ID, trials_per_episode=None, trial_chunk=7)
    env.reset(seed=2)
    trials = []
    while len(trials) < 150:
        info = env.step(0)[4]
        if "trial" in info:
            trials.append(info["trial"])
    rule = np.array([t["rule"] for t in trials])
    k = np.array([t["block_trial"] for t in trials])
    lengths = block_lengths(rule)
    assert lengths.min() >= 10 and lengths.max() <= 20          # blocks of 10-20 across 7-trial chunks
    np.testing.assert_array_equal(k == 0, np.r_[True, np.diff(rule) != 0])
    env.reset(seed=2)
    while "trial" not in (info := env.step(0)[4]):
        pass
    assert info["trial"] == trials[0]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"block_trials": (0, 5)}, r"block_trials must be \(fewest, most\)"),
    ({"block_trials": (12, 10)}, r"block_trials must be \(fewest, most\)"),
    ({"block_trials": 10}, r"block_trials must be \(fewest, most\)"),
    ({"intervals": [500, 500]}, "intervals must not repeat a value"),
    ({"boundary": -1.0}, "boundary must be finite numbers in"),
])
def test_bad_arguments_are_refused_by_name(kwargs, message):
    with pytest.raises(ValueError, match=message):
        neurotasks.make_task(ID, **kwargs)


def test_the_rule_cannot_be_forced():
    task = neurotasks.make_task(ID)
    with pytest.raises(ValueError, match="rule is derived by HierarchicalReasoning-v0"):
        task.trials(4, rng=0, rule=1)
    batch = task.trials(40, rng=0, draw_block=10, draw_rule=1)
    np.testing.assert_array_equal(batch.params["rule"], np.repeat([1, 0, 1, 0], 10))
