"""Promises every registered environment keeps (they apply to new tasks automatically)."""

from __future__ import annotations

import subprocess
import sys
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from hypothesis import given, settings
from hypothesis import strategies as st
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import neurotasks
from neurotasks.env import TaskEnv, tabulate_outcomes
from neurotasks.rules import ChoiceRule, TrackingRule
from tests.conftest import TASK_IDS, sample_actions


def rollout(env: gym.Env, seed: int, n_steps: int, action_seed: int = 0) -> list:
    """(obs, reward, terminated, truncated, info) of ``n_steps`` steps, resetting at episode ends."""
    obs, info = env.reset(seed=seed)
    rng = np.random.default_rng(action_seed)
    trace: list = [(obs, info)]
    for action in sample_actions(env.action_space, n_steps, rng):
        if isinstance(env.action_space, gym.spaces.Discrete):
            action = int(action)
        out = env.step(action)
        trace.append(out)
        if out[2] or out[3]:
            trace.append(env.reset())
    return trace


def assert_same(a, b, where: str = "") -> None:
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            assert_same(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), where
    elif isinstance(a, float) and np.isnan(a):
        assert isinstance(b, float) and np.isnan(b), where
    else:
        assert type(a) is type(b) and a == b, f"{where}: {a!r} != {b!r}"


# ---------------------------------------------------------------------- official checkers
def test_gymnasium_check_env_without_warnings(task_id):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gym_check_env(gym.make(task_id).unwrapped)
        gym_check_env(gym.make(task_id, trials_per_episode=3).unwrapped)


def test_sb3_check_env_without_warnings(task_id):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sb3_check_env(gym.make(task_id), warn=True)


def test_spaces_and_step_types(task_id):
    env = gym.make(task_id)
    obs, info = env.reset(seed=1)
    assert isinstance(env.observation_space, gym.spaces.Box)
    assert np.all(np.isfinite(env.observation_space.low)) and np.all(np.isfinite(env.observation_space.high))
    assert env.observation_space.dtype == np.float32 and obs.dtype == np.float32
    assert isinstance(info, dict)
    action = env.action_space.sample()
    obs2, reward, terminated, truncated, info = env.step(action)
    assert type(reward) is float and type(terminated) is bool and type(truncated) is bool
    assert {"target", "gt", "mask", "period"} <= set(info)
    assert info["period"] in env.unwrapped.task.period_names
    # every call returns a fresh array: mutating it must not change the environment
    obs2[...] = 123.0
    again = env.unwrapped.trial["inputs"]
    assert not np.any(again == 123.0)


# ---------------------------------------------------------------------- seeding
def test_same_seed_same_rollout(task_id):
    a = rollout(gym.make(task_id), seed=3, n_steps=300)
    b = rollout(gym.make(task_id), seed=3, n_steps=300)
    assert_same(a, b)


def test_different_seeds_differ(task_id):
    """Different seeds give different observations, or different trials (a bandit's only input, its
    pull cue, is the same on every trial: its seeds differ in the arms' probabilities)."""
    a = rollout(gym.make(task_id), seed=3, n_steps=20)
    b = rollout(gym.make(task_id), seed=4, n_steps=20)
    assert not all(np.array_equal(x[0], y[0]) and x[-1].get("trial") == y[-1].get("trial")
                   for x, y in zip(a, b, strict=True))


def test_reseeding_restarts_the_stream(task_id):
    env = gym.make(task_id)
    first = rollout(env, seed=11, n_steps=50)
    rollout(env, seed=12, n_steps=50)
    assert_same(first, rollout(env, seed=11, n_steps=50))


@pytest.mark.parametrize("seed", [np.int64(7), np.uint8(7), np.int32(7), np.array(7)])
def test_numpy_integer_seeds_equal_python_ones(seed):
    a = rollout(gym.make("PerceptualDecision-v0"), seed=7, n_steps=30)
    b = rollout(gym.make("PerceptualDecision-v0"), seed=seed, n_steps=30)
    assert_same(a, b)
    env = TaskEnv("PerceptualDecision-v0")
    env.reset(seed=seed)
    assert type(env.np_random_seed) is int and env.np_random_seed == 7


@pytest.mark.parametrize(("seed", "error"), [
    (True, TypeError), (np.True_, TypeError), (3.0, TypeError), ("3", TypeError), ([3], TypeError),
    (np.array([3]), TypeError), (np.float64(3), TypeError), (-1, ValueError), (np.int64(-1), ValueError),
    (2**128, ValueError), (2**200, ValueError)])
def test_bad_seeds_are_refused(seed, error):
    env = TaskEnv("PerceptualDecision-v0")
    with pytest.raises(error, match="seed"):
        env.reset(seed=seed)
    with pytest.raises(error, match="seed"):
        gym.make("PerceptualDecision-v0").reset(seed=seed)


@settings(max_examples=30)
@given(st.integers(min_value=-2**130, max_value=2**130))
def test_seeds_in_numpys_range_are_accepted_and_others_refused(seed):
    """[0, 2**128): the seeds that make distinct generators (NumPy's SeedSequence pools 128 bits)."""
    env = TaskEnv("PerceptualDecision-v0", trial_chunk=4)
    if 0 <= seed < 2**128:
        obs, _ = env.reset(seed=seed)
        assert env.np_random_seed == seed
        if seed < 2**63:
            again = TaskEnv("PerceptualDecision-v0", trial_chunk=4)
            np.testing.assert_array_equal(again.reset(seed=np.int64(seed))[0], obs)
    else:
        with pytest.raises(ValueError, match=r"seed must be in \[0, 2\*\*128\)"):
            env.reset(seed=seed)


# ---------------------------------------------------------------------- one definition, three consumers
def test_env_steps_through_the_trials_task_makes(task_id):
    """The env's trials are the rows of task.trials(trial_chunk, rng) for the same generator."""
    env = TaskEnv(task_id, trial_chunk=4)
    env.reset(seed=5)
    batch = env.task.trials(4, gym.utils.seeding.np_random(5)[0])
    fixate = 0 if isinstance(env.action_space, gym.spaces.Discrete) else None
    for k in range(3):
        if k:
            env.reset()
        trial = batch.trial(k)
        np.testing.assert_array_equal(env.trial["inputs"], trial["inputs"])
        steps = 0
        obs_seen = [env.trial["inputs"][0]]
        terminated = False
        while not terminated:
            action = fixate if fixate is not None else batch.targets[k, steps].clip(*env.task.output_range)
            obs, _, terminated, _, info = env.step(action)
            np.testing.assert_array_equal(info["target"], trial["targets"][steps])
            np.testing.assert_array_equal(info["mask"], trial["mask"][steps])
            assert info["gt"] == trial["gt"][steps]
            steps += 1
            obs_seen.append(obs)
        assert_same(info["trial"], trial["params"])
        np.testing.assert_array_equal(np.array(obs_seen[:-1]), trial["inputs"][: len(obs_seen) - 1])


def test_evaluate_actions_replays_the_env_rule(task_id):
    """task.evaluate(actions=...) scores a trial exactly as the environment rewarded it."""
    env = TaskEnv(task_id, trial_chunk=8)
    env.reset(seed=2)
    batch = env.task.trials(8, gym.utils.seeding.np_random(2)[0])
    rng = np.random.default_rng(0)
    actions = sample_actions(env.action_space, len(batch) * batch.n_steps, rng, respond_prob=0.08)
    actions = actions.reshape(len(batch), batch.n_steps, *env.action_space.shape)
    replay = env.task.evaluate(batch, actions=actions)
    for k in range(len(batch)):
        if k:
            env.reset()
        total, t, terminated = 0.0, 0, False
        while not terminated:
            a = actions[k, t]
            _, reward, terminated, _, info = env.step(int(a) if a.ndim == 0 else a)
            total += reward
            t += 1
        assert total == pytest.approx(replay["reward"][k])
        for key in env.task.rule.outcome_fields:
            assert_same(np.asarray(info[key]).astype(replay[key].dtype), replay[key][k], key)


@pytest.mark.parametrize("task_id", [i for i in TASK_IDS if isinstance(neurotasks.make_task(i).rule, TrackingRule)])
def test_tracking_the_targets_scores_perfectly(task_id):
    """Outputs (or actions) equal to the targets: zero error, every trial correct, criterion met."""
    task = neurotasks.make_task(task_id)
    batch = task.trials(16, rng=6)
    evaluation = task.evaluate(batch, outputs=batch.targets)
    np.testing.assert_array_equal(evaluation["rmse"], 0.0)
    assert np.all(evaluation["correct"] == 1)
    score = task.score(batch, evaluation)
    assert score["percent_correct"] == 100.0 and score["rmse"] == 0.0
    assert task.criterion.met([score["rmse"]])
    replay = task.evaluate(batch, actions=batch.targets)
    np.testing.assert_array_equal(replay["rmse"], 0.0)
    assert not replay["aborted"].any()


def test_vector_env_equals_single_envs(task_id):
    n, steps = 3, 250
    kwargs = {"trials_per_episode": 2}
    native = gym.make_vec(task_id, num_envs=n, vectorization_mode="vector_entry_point", **kwargs)
    sync = gym.make_vec(task_id, num_envs=n, vectorization_mode="sync", **kwargs)
    assert_same(native.reset(seed=9), sync.reset(seed=9))
    rng = np.random.default_rng(1)
    for _ in range(steps):
        action = sample_actions(native.single_action_space, n, rng)
        assert_same(native.step(action), sync.step(action))


# ---------------------------------------------------------------------- robustness
def test_step_before_reset_and_after_termination_raise(task_id):
    env = TaskEnv(task_id)
    with pytest.raises(gym.error.ResetNeeded, match="reset"):
        env.step(env.action_space.sample())
    env.reset(seed=0)
    terminated = False
    while not terminated:
        _, _, terminated, _, _ = env.step(env.action_space.sample())
    with pytest.raises(gym.error.ResetNeeded, match="over"):
        env.step(env.action_space.sample())


def test_action_outside_the_space_raises(task_id):
    env = TaskEnv(task_id)
    env.reset(seed=0)
    space = env.action_space
    bad = space.n if isinstance(space, gym.spaces.Discrete) else np.full(space.shape, space.high + 10)
    with pytest.raises(ValueError, match="action"):
        env.step(bad)
    with pytest.raises(ValueError, match="action"):
        env.step("left")


def test_bool_actions_are_refused(task_id):
    """``True`` is an int to Python and 1.0 to NumPy, but never an action: refused, naming it."""
    env = TaskEnv(task_id)
    env.reset(seed=0)
    space = env.action_space
    shape = () if isinstance(space, gym.spaces.Discrete) else space.shape
    for bad in (True, False, np.True_, np.zeros(shape, bool), np.ones(shape, bool).tolist()):
        with pytest.raises(ValueError, match=r"action .* is a bool"):
            env.step(bad)
    env.step(space.sample())                              # the env still steps


def test_render_modes(task_id):
    env = gym.make(task_id, render_mode="rgb_array")
    env.reset(seed=0)
    first = env.render()
    assert first.dtype == np.uint8 and first.ndim == 3 and first.shape[2] == 3
    for _ in range(3):
        if env.step(env.action_space.sample())[2]:
            env.reset()
    assert env.render().shape == first.shape
    text = gym.make(task_id, render_mode="ansi")
    text.reset(seed=0)
    assert task_id in text.render()
    with pytest.raises(ValueError, match="render_mode"):
        TaskEnv(task_id, render_mode="human")


def test_stream_of_trials_is_truncated_by_max_episode_steps(task_id):
    budget = 2 * neurotasks.make_task(task_id).trials(16, 0).n_steps + 1
    env = gym.make(task_id, trials_per_episode=None, max_episode_steps=budget)
    env.reset(seed=0)
    fixate = 0 if isinstance(env.action_space, gym.spaces.Discrete) else env.action_space.sample()
    trials = steps = 0
    truncated = False
    while not truncated and steps < budget + 5:
        _, _, terminated, truncated, info = env.step(fixate)
        trials += "trial" in info
        steps += 1
        assert not terminated
    assert truncated and steps == budget and trials >= 1


def test_env_argument_errors():
    with pytest.raises(ValueError, match="trials_per_episode"):
        TaskEnv("PerceptualDecision-v0", trials_per_episode=0)
    with pytest.raises(ValueError, match="rewards"):
        TaskEnv("PerceptualDecision-v0", rewards={"bonus": 1.0})
    with pytest.raises(ValueError, match="trial_chunk"):
        TaskEnv("PerceptualDecision-v0", trial_chunk=0)
    with pytest.raises(TypeError, match="colour"):
        gym.make("PerceptualDecision-v0", colour=1)
    with pytest.raises(ValueError, match="unknown task id"):
        TaskEnv("NoSuchTask-v0")


def test_registration_is_idempotent_and_complete():
    neurotasks.register_all()
    neurotasks.register_all()
    for task_id in TASK_IDS:
        spec = gym.spec(task_id)
        assert spec.entry_point == "neurotasks.env:TaskEnv"
        assert spec.vector_entry_point == "neurotasks.vector_env:TaskVectorEnv"


def run_python(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout


def test_module_prefixed_id_works_without_importing_first():
    out = run_python("import gymnasium as gym; env = gym.make('neurotasks:PerceptualDecision-v0'); "
                     "print(env.reset(seed=0)[0].shape)")
    assert out.strip() == "(3,)"


def test_import_is_light():
    out = run_python("import sys, neurotasks; print(sorted(m for m in ('torch', 'matplotlib', 'scipy', 'agents') "
                     "if m in sys.modules))")
    assert out.strip() == "[]"


def test_every_call_returns_a_new_observation_array(task_id):
    """No observation object is handed out twice (users may modify what they get)."""
    env = gym.make(task_id)
    seen = [env.reset(seed=0)[0]]
    rng = np.random.default_rng(0)
    for action in sample_actions(env.action_space, 300, rng):
        obs, _, terminated, truncated, info = env.step(int(action) if action.ndim == 0 else action)
        seen += [obs, info["target"], info["mask"]]
        if terminated or truncated:
            seen.append(env.reset()[0])
    assert len({id(x) for x in seen}) == len(seen)


CHOICE_TASKS = [t for t in TASK_IDS if isinstance(neurotasks.make_task(t).rule, ChoiceRule)]


@pytest.mark.parametrize("task_id", CHOICE_TASKS)
def test_following_gt_earns_the_correct_reward(task_id):
    """Acting out ``info``'s ground truth (fixate, then answer in the window) is a correct trial."""
    env = gym.make(task_id, catch_prob=0.0)
    env.reset(seed=15)
    trial = env.unwrapped.trial
    total, terminated, t, info = 0.0, False, 0, {}
    while not terminated:
        _, reward, terminated, _, info = env.step(int(trial["gt"][t]))
        total += reward
        t += 1
    assert total == 1.0 and info["correct"] == 1.0 and info["is_success"]
    assert_same(info["trial"], trial["params"])


def test_a_trial_ends_at_its_last_step_and_a_quiet_action_does_nothing_before(task_id):
    """What the vector env relies on: every rule ends a trial at its last step whatever the action,
    and a rule's ``quiet_action`` (fixate, wait) earns 0 and ends nothing before that."""
    task = neurotasks.make_task(task_id)
    rule, batch = task.rule, task.trials(64, rng=11)
    env = TaskEnv(task_id)
    rng = np.random.default_rng(0)
    space = env.action_space
    table, n = rule.trial_table(batch), len(batch)
    last = batch.lengths - 1
    for _ in range(3):
        action = rng.integers(0, space.n, n) if isinstance(space, gym.spaces.Discrete) \
            else np.stack([space.sample() for _ in range(n)])
        res = rule.step(table, rule.new_accumulator(n), last, action, batch.targets[np.arange(n), last],
                        batch.mask[np.arange(n), last], env.rewards, batch.dt)
        assert res["done"].all()
    if rule.quiet_action is None:
        return
    outcomes = tabulate_outcomes(rule, batch, env.rewards, space.n)
    before_last = np.arange(batch.n_steps)[None, :] < last[:, None]
    quiet = {key: value[:, :, rule.quiet_action][before_last] for key, value in outcomes.items()}
    assert not quiet["done"].any() and np.all(quiet["reward"] == 0.0)
