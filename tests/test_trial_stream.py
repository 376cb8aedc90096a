"""The engine support of agent-dependent tasks: TrialStream's chain (streams carried across chunks) and the
rules' observe hook (observations rewritten from the rule's state), the same in TaskEnv and TaskVectorEnv."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

import neurotasks
from neurotasks.env import TaskEnv
from neurotasks.tasks.trial_stream import TrialStream, last_start, stream_positions
from neurotasks.vector_env import TaskVectorEnv
from tests.conftest import sample_actions
from tests.test_envs_generic import assert_same
from tests.test_trial_streams import assert_same as assert_same_steps
from tests.test_trial_streams import play

AGENT_DEPENDENT = ("Bandit-v0", "DawTwoStep-v0", "HierarchicalReasoning-v0", "Reaching1DWithSelfDistraction-v0")
#: the TrialStream tasks (a carry from trial to trial)
CARRIED = AGENT_DEPENDENT[:3]


def test_the_hooks_are_where_the_tasks_need_them():
    for task_id in AGENT_DEPENDENT:
        task = neurotasks.make_task(task_id)
        assert isinstance(task, TrialStream) == (task_id != "Reaching1DWithSelfDistraction-v0")
        assert (getattr(task.rule, "observe", None) is not None) == (task_id in AGENT_DEPENDENT[1::2])
    plain = neurotasks.make_task("PerceptualDecision-v0")
    assert not isinstance(plain, TrialStream) and getattr(plain.rule, "observe", None) is None


@pytest.mark.parametrize("task_id", [*AGENT_DEPENDENT, "GoNogo-v0"])
def test_the_vector_env_carries_streams_and_observes_as_single_envs_do(task_id):
    """Chunks of 4 trials: every sub-environment's stream crosses many chunk boundaries."""
    n, steps = 3, 600
    vector = TaskVectorEnv(n, task_id, trials_per_episode=3, trial_chunk=4)
    singles = [TaskEnv(task_id, trials_per_episode=3, trial_chunk=4) for _ in range(n)]
    obs, _ = vector.reset(seed=7)
    for i, env in enumerate(singles):
        np.testing.assert_array_equal(obs[i], env.reset(seed=7 + i)[0])
    space = vector.single_action_space
    resetting = np.zeros(n, bool)
    copied = None
    rng = np.random.default_rng(0)
    for step in range(steps + 50):
        if step == steps:                               # a copy continues exactly, the carries included
            vector, singles, resetting = copied
            rng = np.random.default_rng(1)
        actions = sample_actions(space, n, rng, respond_prob=0.5)
        obs, reward, terminated, truncated, info = vector.step(actions)
        for i, env in enumerate(singles):
            if resetting[i]:                            # Gymnasium's next-step autoreset
                np.testing.assert_array_equal(obs[i], env.reset()[0])
                assert reward[i] == 0.0
                continue
            one_obs, one_reward, one_terminated, _, one_info = env.step(int(actions[i]))
            np.testing.assert_array_equal(obs[i], one_obs)
            assert reward[i] == one_reward and terminated[i] == one_terminated
            if "trial" in one_info:
                for key, value in one_info["trial"].items():
                    assert_same(info["trial"][key][i].item(), value, key)
                for key in env.task.rule.outcome_fields:
                    assert_same(np.asarray(info[key][i]).astype(float).item(), float(one_info[key]), key)
        resetting = terminated | truncated
        if step == steps // 2:
            copied = (copy.deepcopy(vector), copy.deepcopy(singles), resetting.copy())


def test_stream_helpers():
    carry = {"fresh": np.array([True, False]), "k": np.array([5, 7])}
    streams, position = stream_positions(carry, 6, "k")
    np.testing.assert_array_equal(position, [[0, 1, 2], [7, 8, 9]])
    with pytest.raises(ValueError, match="a batch of 5 trials is not 2 streams of equal length"):
        stream_positions(carry, 5, "k")
    np.testing.assert_array_equal(last_start(np.array([[False, True, False, True, False]])), [[-1, 1, 1, 3, 3]])


@pytest.mark.parametrize("task_id", AGENT_DEPENDENT[:3])
def test_trials_from_chains_each_generator_as_its_own_stream(task_id):
    task = neurotasks.make_task(task_id)
    both = task.trials_from([np.random.default_rng(1), np.random.default_rng(2)], 30)
    for i, seed in enumerate((1, 2)):
        alone = task.trials(30, np.random.default_rng(seed))
        for key, value in alone.params.items():
            np.testing.assert_array_equal(both.params[key][30 * i:30 * (i + 1)], value, key)
        np.testing.assert_array_equal(both.gt[30 * i:30 * (i + 1), :alone.n_steps], alone.gt)


@pytest.mark.parametrize("task_id", CARRIED)
@pytest.mark.parametrize("trial_chunk", [3, 7])              # not dividing a bandit's 100-trial blocks
def test_saved_trial_streams_restart_carried_streams_exactly(task_id, trial_chunk):
    env = TaskVectorEnv(4, task_id, trial_chunk=trial_chunk)
    env.reset(seed=3)
    play(env, 230, np.random.default_rng(0))                 # into the streams: mid-block, drifted walks, rules
    state = json.loads(json.dumps(env.trial_streams()))       # through JSON, as a checkpoint keeps it
    assert all(set(stream["carry"]) == set(env.task.new_carry(1)) for stream in state["streams"])
    obs, _ = env.reset()
    original = play(env, 400, np.random.default_rng(1))
    again = TaskVectorEnv(4, task_id, trial_chunk=trial_chunk)
    np.testing.assert_array_equal(again.reset(options={"trial_streams": state})[0], obs)
    assert_same_steps(original, play(again, 400, np.random.default_rng(1)))


def test_a_saved_carry_that_does_not_fit_is_refused_by_name():
    vector = TaskVectorEnv(2, "DawTwoStep-v0")
    vector.reset(seed=0)
    state = vector.trial_streams()
    missing = json.loads(json.dumps(state))
    del missing["streams"][1]["carry"]
    with pytest.raises(ValueError, match=r"\['streams'\]\[1\]\['carry'\] is missing"):
        vector.reset(options={"trial_streams": missing})
    renamed = json.loads(json.dumps(state))
    renamed["streams"][0]["carry"]["other"] = renamed["streams"][0]["carry"].pop("fresh")
    with pytest.raises(ValueError, match=r"\['carry'\] must have the keys"):
        vector.reset(options={"trial_streams": renamed})
    reshaped = json.loads(json.dumps(state))
    reshaped["streams"][0]["carry"]["fresh"] = [True, False]
    with pytest.raises(ValueError, match=r"\['fresh'\] must have shape \(\), got \(2,\)"):
        vector.reset(options={"trial_streams": reshaped})
    assert vector.trial_streams() == state, "a refused state changes nothing"
    plain = TaskVectorEnv(2, "PerceptualDecision-v0")
    plain.reset(seed=0)
    foreign = plain.trial_streams()
    for stream in foreign["streams"]:
        stream["carry"] = {"fresh": True}
    with pytest.raises(ValueError, match="holds a carry, which PerceptualDecision-v0's independent trials do not"):
        plain.reset(options={"trial_streams": foreign})
    for stream in foreign["streams"]:
        del stream["carry"]
    assert plain.trial_streams() == foreign, "a refused state changes nothing"
