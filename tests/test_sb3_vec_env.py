"""agents.rl.vec_env.TaskVecEnv: SB3's VecEnv contract over the native vector env.

The reference is SB3's own ``DummyVecEnv`` of ``gym.make`` environments seeded as the vector env
seeds its sub-environments (``seed(s)``: environment i gets ``s + i``): the adapter must give the
same observations, rewards, dones, terminal observations, truncation flags and success flags,
step for step, through episode ends, resets and re-seeding.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sb3_contrib import RecurrentPPO
from stable_baselines3 import PPO
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.vec_env import DummyVecEnv, VecCheckNan, VecEnv, VecMonitor

import neurotasks  # noqa: F401  (registers the tasks)
from agents.rl.vec_env import TaskVecEnv, make_vec_env
from neurotasks.vector_env import TaskVectorEnv

TASK_ID = "PerceptualDecision-v0"


def draw_actions(space: gym.Space, n_envs: int, n_steps: int, act_prob: float, seed: int = 0) -> np.ndarray:
    """(n_steps, n_envs, ...) actions: uniform random ones with probability ``act_prob``, else the
    quiet action (0, or zeros for a Box), so trials end every way: aborts, choices, timeouts."""
    rng = np.random.default_rng(seed)
    if isinstance(space, gym.spaces.Discrete):
        random = rng.integers(0, space.n, (n_steps, n_envs))
        return np.where(rng.random((n_steps, n_envs)) < act_prob, random, 0)
    random = rng.uniform(space.low, space.high, (n_steps, n_envs, *space.shape)).astype(space.dtype)
    keep = rng.random((n_steps, n_envs) + (1,) * len(space.shape)) < act_prob
    return np.where(keep, random, np.zeros_like(random))


def reference(task_id: str, n_envs: int, **kwargs) -> DummyVecEnv:
    return DummyVecEnv([lambda: gym.make(task_id, **kwargs) for _ in range(n_envs)])


def assert_same_step(ours, theirs, where: str) -> None:
    (obs, rewards, dones, infos), (obs_ref, rewards_ref, dones_ref, infos_ref) = ours, theirs
    assert np.array_equal(obs, obs_ref), where
    assert np.array_equal(rewards, rewards_ref) and rewards.dtype == rewards_ref.dtype == np.float32, where
    assert np.array_equal(dones, dones_ref), where
    for i in np.flatnonzero(dones_ref):
        assert np.array_equal(infos[i]["terminal_observation"], infos_ref[i]["terminal_observation"]), (where, i)
        assert infos[i]["TimeLimit.truncated"] == infos_ref[i]["TimeLimit.truncated"], (where, i)
        assert infos[i].get("is_success") == infos_ref[i].get("is_success"), (where, i)
    for i in np.flatnonzero(~dones_ref):
        assert "terminal_observation" not in infos[i] and not infos_ref[i].get("TimeLimit.truncated"), (where, i)


def run_side_by_side(task_id: str, n_envs: int, actions: np.ndarray, seed: int = 3, **kwargs) -> dict[str, int]:
    """Step the adapter and the reference through ``actions``; halfway, reset both without a seed
    (the trial streams go on), and at three quarters re-seed and reset both. Counts what happened."""
    ours, theirs = TaskVecEnv(task_id, n_envs, **kwargs), reference(task_id, n_envs, **kwargs)
    assert ours.seed(seed) == theirs.seed(seed) == [seed + i for i in range(n_envs)]
    np.testing.assert_array_equal(ours.reset(), theirs.reset())
    counts = {"episodes": 0, "truncated": 0, "successes": 0, "failures": 0}
    for t, action in enumerate(actions):
        if t == len(actions) // 2:
            np.testing.assert_array_equal(ours.reset(), theirs.reset(), err_msg="reset without a seed")
        if t == 3 * len(actions) // 4:
            ours.seed(seed + 100)
            theirs.seed(seed + 100)
            np.testing.assert_array_equal(ours.reset(), theirs.reset(), err_msg="reset after seed()")
        step, step_ref = ours.step(action), theirs.step(action)
        assert_same_step(step, step_ref, f"{task_id} step {t}")
        for i in np.flatnonzero(step_ref[2]):
            info = step_ref[3][i]
            counts["episodes"] += 1
            counts["truncated"] += info["TimeLimit.truncated"]
            counts["successes"] += info.get("is_success") is True
            counts["failures"] += info.get("is_success") is False
    ours.close()
    theirs.close()
    return counts


CASES = [
    ("PerceptualDecision-v0", {}),
    ("PerceptualDecisionRT-v0", {}),
    ("ContextDecision-v0", {"dt": 50.0}),
    ("DelayedReach-v0", {}),                                     # Box actions, a rule with state
    ("PerceptualDecision-v0", {"trials_per_episode": 3}),
    ("PerceptualDecision-v0", {"trials_per_episode": None, "max_episode_steps": 40}),   # truncation only
    ("PerceptualDecision-v0", {"trials_per_episode": 2, "max_episode_steps": 20}),      # both
    ("FlipFlop-v0", {"trials_per_episode": None, "max_episode_steps": 50}),
]


@pytest.mark.parametrize("act_prob", [1.0, 0.1], ids=["random", "mostly-fixating"])
@pytest.mark.parametrize(("task_id", "kwargs"), CASES, ids=[f"{t}-{k}" for t, k in CASES])
def test_steps_as_dummy_vec_env_of_gym_make_seeded_alike(task_id, kwargs, act_prob):
    space = gym.make(task_id, **kwargs).action_space
    counts = run_side_by_side(task_id, 4, draw_actions(space, 4, 300, act_prob), **kwargs)
    assert counts["episodes"] >= 8                               # the comparison went through episode ends
    if "max_episode_steps" in kwargs and (act_prob < 1 or kwargs["trials_per_episode"] is None):
        assert counts["truncated"] > 0                           # (random actions end short episodes first)


def test_random_and_fixating_episodes_end_every_way():
    """The cases above see aborts, wrong and right choices (is_success False and True)."""
    counts = run_side_by_side(TASK_ID, 8, draw_actions(gym.spaces.Discrete(3), 8, 600, 0.05))
    assert counts["successes"] > 0 and counts["failures"] > 0


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**31), n_envs=st.integers(1, 6), act_prob=st.floats(0.0, 1.0),
       action_seed=st.integers(0, 1000))
def test_any_seed_and_policy_matches_the_reference(seed, n_envs, act_prob, action_seed):
    actions = draw_actions(gym.spaces.Discrete(3), n_envs, 100, act_prob, seed=action_seed)
    run_side_by_side(TASK_ID, n_envs, actions, seed=seed)


# ---------------------------------------------------------------------- the VecEnv contract
def test_reset_and_step_return_what_sb3_expects():
    envs = TaskVecEnv(TASK_ID, 5)
    assert isinstance(envs, VecEnv) and envs.num_envs == 5
    assert envs.observation_space == gym.make(TASK_ID).observation_space
    assert envs.action_space == gym.make(TASK_ID).action_space
    obs = envs.reset()
    assert isinstance(obs, np.ndarray) and obs.shape == (5, *envs.observation_space.shape)
    assert obs.dtype == envs.observation_space.dtype
    assert envs.reset_infos == [{}] * 5
    checked = VecCheckNan(envs, raise_exception=True)          # raises on NaN or inf in obs, rewards, actions
    for action in draw_actions(envs.action_space, 5, 200, 1.0):
        obs, rewards, dones, infos = checked.step(action)
        assert obs.shape == (5, *envs.observation_space.shape) and all(envs.observation_space.contains(o) for o in obs)
        assert rewards.shape == (5,) and rewards.dtype == np.float32
        assert dones.shape == (5,) and dones.dtype == bool
        assert isinstance(infos, list) and len(infos) == 5 and all(isinstance(info, dict) for info in infos)
        for i in np.flatnonzero(dones):
            assert envs.observation_space.contains(infos[i]["terminal_observation"])
    envs.close()


def test_step_async_then_step_wait_is_step():
    a, b = TaskVecEnv(TASK_ID, 3), TaskVecEnv(TASK_ID, 3)
    a.seed(0)
    b.seed(0)
    np.testing.assert_array_equal(a.reset(), b.reset())
    for action in draw_actions(a.action_space, 3, 50, 0.5):
        a.step_async(action)
        assert_same_step(a.step_wait(), b.step(action), "step_async/step_wait")
    with pytest.raises(RuntimeError, match="step_async"):
        a.step_wait()                                           # the pending step was used up


def test_step_before_reset_is_refused():
    with pytest.raises(gym.error.ResetNeeded):
        TaskVecEnv(TASK_ID, 2).step(np.zeros(2, np.int64))


def test_seeds_are_used_once():
    envs = TaskVecEnv(TASK_ID, 2)
    envs.seed(5)
    first = envs.reset()
    again = envs.reset()                                        # no seed: the trial streams go on
    assert envs._seeds == [None, None]                          # seed() lasts one reset
    envs.seed(5)
    np.testing.assert_array_equal(envs.reset(), first)
    assert again.shape == first.shape


def test_attributes_and_methods_are_the_vector_envs():
    envs = TaskVecEnv(TASK_ID, 3, rewards={"abort": -1.0})
    assert envs.get_attr("render_mode") == [None] * 3
    assert envs.get_attr("observation_space", indices=[0, 2]) == [envs.observation_space] * 2
    assert envs.get_attr("action_space", indices=1) == [envs.action_space]
    assert envs.get_attr("rewards")[0]["abort"] == -1.0
    assert envs.has_attr("task") and not envs.has_attr("no_such_attribute")
    with pytest.raises(AttributeError):
        envs.get_attr("no_such_attribute")
    envs.set_attr("trial_chunk", 8)
    assert envs.vector_env.trial_chunk == 8
    with pytest.raises(ValueError, match="every sub-environment at once"):
        envs.set_attr("trial_chunk", 8, indices=[0])
    assert envs.env_method("reset", seed=1)[0][0].shape == (3, *envs.observation_space.shape)
    with pytest.raises(ValueError, match="indices must be None or all of them"):
        envs.env_method("reset", indices=[1, 2])
    assert envs.env_is_wrapped(gym.Wrapper) == [False] * 3
    assert envs.env_is_wrapped(gym.Wrapper, indices=[1]) == [False]
    with pytest.raises(IndexError, match="out of range"):
        envs.get_attr("task", indices=[3])


def test_render_mode_comes_from_the_vector_env():
    envs = TaskVecEnv(TASK_ID, 2, render_mode="rgb_array")
    assert envs.render_mode == "rgb_array" and envs.metadata["render_modes"] == ["human", "rgb_array"]
    envs.reset()
    image = envs.render()
    assert image.ndim == 3 and image.shape[2] == 3 and image.dtype == np.uint8
    quiet = TaskVecEnv(TASK_ID, 2)
    assert quiet.render_mode is None
    with pytest.raises(ValueError, match="rgb_array"):
        quiet.get_images()


def test_a_ready_vector_env_is_taken_as_it_is():
    vector_env = TaskVectorEnv(4, TASK_ID, max_episode_steps=10)
    envs = TaskVecEnv(vector_env)
    assert envs.vector_env is vector_env and envs.num_envs == 4
    assert TaskVecEnv(vector_env, 4).num_envs == 4


@pytest.mark.parametrize(("args", "kwargs", "error", "match"), [
    ((TaskVectorEnv(2, TASK_ID),), {"dt": 10.0}, TypeError, "given with a ready TaskVectorEnv"),
    ((TaskVectorEnv(2, TASK_ID), 3), {}, ValueError, "does not match"),
    ((gym.wrappers.vector.RecordEpisodeStatistics(TaskVectorEnv(2, TASK_ID)),), {}, TypeError, "unwrapped"),
    ((TASK_ID, 0), {}, ValueError, "num_envs must be a positive int"),
    ((TASK_ID, 2), {"no_such_argument": 1}, TypeError, "no_such_argument"),
])
def test_bad_arguments_are_refused_early(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        TaskVecEnv(*args, **kwargs)


def test_different_reset_options_per_env_are_refused():
    envs = TaskVecEnv(TASK_ID, 2)
    envs.set_options([{"trial_streams": None}, {}])
    with pytest.raises(ValueError, match="same options"):
        envs.reset()
    envs.set_options({"trial_streams": None})                    # the same for every env: passed on
    assert envs.reset().shape[0] == 2


def test_make_vec_env_seeds_and_monitors():
    envs = make_vec_env(TASK_ID, 3, seed=4)
    assert isinstance(envs, VecMonitor) and isinstance(envs.venv, TaskVecEnv)
    ref = reference(TASK_ID, 3)
    ref.seed(4)
    np.testing.assert_array_equal(envs.reset(), ref.reset())
    ended = []
    for action in draw_actions(envs.action_space, 3, 30, 1.0):
        _, rewards, dones, infos = envs.step(action)
        ended += [infos[i] for i in np.flatnonzero(dones)]
    assert ended and all({"r", "l", "t"} <= set(info["episode"]) for info in ended)
    assert all(isinstance(info["is_success"], bool) for info in ended)
    assert isinstance(make_vec_env(TASK_ID, 2, monitor=False), TaskVecEnv)


# ---------------------------------------------------------------------- SB3 trains through it
@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("algorithm", ["PPO", "RecurrentPPO"])
def test_ppo_and_recurrent_ppo_learn_through_the_adapter(algorithm, one_torch_thread):
    envs = make_vec_env(TASK_ID, 4, seed=0)
    if algorithm == "PPO":
        model = PPO("MlpPolicy", envs, n_steps=64, batch_size=64, n_epochs=2, seed=0, device="cpu",
                    policy_kwargs={"net_arch": [16]})
    else:
        model = RecurrentPPO("MlpLstmPolicy", envs, n_steps=64, batch_size=64, n_epochs=2, seed=0, device="cpu",
                             policy_kwargs={"lstm_hidden_size": 8, "net_arch": [8]})
    model.set_logger(Logger(folder=None, output_formats=[]))
    before = [p.detach().clone() for p in model.policy.parameters()]
    model.learn(total_timesteps=512)
    assert model.num_timesteps == 512
    assert any(not np.array_equal(b.numpy(), a.detach().numpy()) for b, a in zip(before, model.policy.parameters(),
                                                                                  strict=True))
    assert len(model.ep_info_buffer) > 0 and len(model.ep_success_buffer) > 0     # VecMonitor, is_success
    assert all(np.isfinite(info["r"]) and info["l"] >= 1 for info in model.ep_info_buffer)
