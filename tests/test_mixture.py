"""TaskMixture: exact proportions, seeding, union channels with rule inputs, per-task masking and scoring."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import neurotasks
from neurotasks.mixture import MixtureEnv, MixtureSampler, TaskMixture
from neurotasks.tasks.yang19 import TASK_IDS, YANG19_PROPORTIONS, yang19_mixture

PAIR = ("PerceptualDecision-v0", "ContextDecision-v0")


def test_counts_are_exact_proportions_with_largest_remainders():
    m = TaskMixture(PAIR, [3, 1])
    np.testing.assert_array_equal(m.counts(8), [6, 2])
    np.testing.assert_array_equal(m.counts(7), [5, 2])          # 5.25 and 1.75: the remainder to the larger
    np.testing.assert_array_equal(TaskMixture(PAIR).counts(5), [3, 2])   # a tie goes to the first task
    yang = yang19_mixture()
    assert YANG19_PROPORTIONS[TASK_IDS.index("Yang19CtxDM1-v0")] == 5.0
    for n in (1, 28, 64, 100):
        counts = yang.counts(n)
        assert counts.sum() == n and np.all(np.abs(counts - n * yang.proportions) < 1)
    np.testing.assert_array_equal(yang.counts(28), [5 if i in ("Yang19CtxDM1-v0", "Yang19CtxDM2-v0") else 1
                                                    for i in TASK_IDS])


def test_every_batch_holds_the_exact_counts_in_a_shuffled_order():
    m = TaskMixture(PAIR, [3, 1])
    sampler = MixtureSampler(m, 8, rng=0, block=3)
    orders = []
    for _ in range(7):
        batch = sampler()
        np.testing.assert_array_equal(np.bincount(batch.params["task"], minlength=2), [6, 2])
        orders.append(tuple(batch.params["task"]))
    assert len(set(orders)) > 1


def test_seeding_reproduces_and_different_seeds_differ():
    m = yang19_mixture()
    a, b, c = m.trials(40, 3), m.trials(40, np.random.default_rng(3)), m.trials(40, 4)
    for field in ("inputs", "targets", "mask", "gt", "lengths"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    for key in a.params:
        np.testing.assert_array_equal(a.params[key], b.params[key])
    assert not np.array_equal(a.params["task"], c.params["task"])
    assert m.trials(40, 3).inputs.shape == m.batches(1, 40, 3)[0].inputs.shape
    s1, s2 = MixtureSampler(m, 16, 5), MixtureSampler(m, 16, 5)
    for _ in range(3):
        np.testing.assert_array_equal(s1().inputs, s2().inputs)


def test_each_trial_is_its_own_tasks_trial_on_the_union_channels():
    m = TaskMixture(PAIR, rule_inputs=True, input_noise=0.0)
    assert m.input_names == ("stimulus_1", "stimulus_2", "start_cue", "context_motion", "context_colour",
                             "motion_1", "motion_2", "colour_1", "colour_2", "rule:PerceptualDecision-v0",
                             "rule:ContextDecision-v0")
    assert m.output_names == ("choice_1", "choice_2")
    batch = m.trials(30, 6)
    for k, task in enumerate(m.tasks):
        rows, own = m.task_batch(batch, k)
        assert np.all(batch.params["task"][rows] == k) and len(rows) == 15
        alone = task.trials(15, 0)
        assert own.inputs.shape[2] == alone.inputs.shape[2] and own.params.keys() == alone.params.keys()
        assert list(own.periods) == list(task.period_names)
        # the rule input: 1 on its own task's real steps, 0 elsewhere
        rule = batch.inputs[:, :, m.input_names.index(f"rule:{task.id}")]
        np.testing.assert_array_equal(rule[rows], batch.valid[rows].astype(np.float32))
        assert np.all(np.delete(rule, rows, axis=0) == 0)
        # channels the task does not have stay 0
        others = [i for i, c in enumerate(m.input_names[:-2]) if c not in task.input_names]
        assert np.all(batch.inputs[rows][:, :, others] == 0)


def test_masks_are_per_task_and_padding_is_masked():
    m = TaskMixture(["PerceptualDecision-v0", "PathIntegration-v0"])
    batch = m.trials(20, 7)
    flip = m.output_names.index(m.tasks[1].output_names[0])
    choice = m.output_names.index("choice_1")
    for k in (0, 1):
        rows, own = m.task_batch(batch, k)
        mine = [m.output_names.index(c) for c in m.tasks[k].output_names]
        np.testing.assert_array_equal(batch.mask[rows][:, :own.n_steps][:, :, mine], own.mask)
        not_mine = [i for i in range(len(m.output_names)) if i not in mine]
        assert np.all(batch.mask[rows][:, :, not_mine] == 0)
    assert np.all(batch.mask[~batch.valid] == 0) and np.all(batch.gt[~batch.valid] == -1)
    assert flip != choice


def test_evaluate_and_score_use_each_tasks_rule_and_report_each_task():
    m = yang19_mixture()
    batch = m.trials(64, 8)
    result = m.evaluate(batch, outputs=batch.targets)
    assert np.all(result["correct"] == 1)
    score = m.score(batch, result)
    assert score["percent_correct"] == 100.0 and score["min_task_percent_correct"] == 100.0
    assert all(score[f"{i}/percent_correct"] == 100.0 for i in TASK_IDS)
    wrong = batch.targets.copy()
    rows, _ = m.task_batch(batch, TASK_IDS.index("Yang19Go-v0"))
    wrong[rows, :, 0] = 0.8                                          # never leaves fixation on Go trials
    score = m.score(batch, m.evaluate(batch, outputs=wrong))
    assert score["Yang19Go-v0/percent_correct"] == 0.0 and score["min_task_percent_correct"] == 0.0
    assert score["Yang19DMS-v0/percent_correct"] == 100.0


def test_the_env_steps_each_trial_through_its_tasks_rule():
    m = yang19_mixture(dt=20.0)
    env = MixtureEnv(m, trials_per_episode=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # the checker's note that an env without a spec skips render modes
        check_env(env)
    obs, _ = env.reset(seed=1)
    again, _ = MixtureEnv(m, trials_per_episode=3).reset(seed=1)
    np.testing.assert_array_equal(obs, again)
    assert env.observation_space.contains(obs) and obs.shape == (85,)
    seen, terminated = set(), False
    while not terminated:
        obs, reward, terminated, truncated, info = env.step(0)
        seen.add(info["task"])
        assert info["target"].shape == (33,) and not truncated
    assert seen <= set(TASK_IDS) and "correct" in info


def test_bad_arguments_are_refused_by_name():
    with pytest.raises(ValueError, match="tasks must be a non-empty list"):
        TaskMixture([])
    with pytest.raises(ValueError, match="must not repeat"):
        TaskMixture([PAIR[0], PAIR[0]])
    with pytest.raises(ValueError, match="proportions must give one number per task"):
        TaskMixture(PAIR, [1.0])
    with pytest.raises(ValueError, match="proportions must be finite, non-negative"):
        TaskMixture(PAIR, [1.0, -1.0])
    with pytest.raises(ValueError, match="share one dt"):
        TaskMixture([neurotasks.make_task(PAIR[0], dt=10.0), neurotasks.make_task(PAIR[1])])
    with pytest.raises(ValueError, match="n must be a positive int"):
        TaskMixture(PAIR).trials(0)
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        MixtureSampler(TaskMixture(PAIR), 0)
    with pytest.raises(ValueError, match="share one action space"):
        MixtureEnv(TaskMixture(["PerceptualDecision-v0", "PathIntegration-v0"]))
    with pytest.raises(ValueError, match="exactly one"):
        TaskMixture(PAIR).evaluate(TaskMixture(PAIR).trials(2, 0))
