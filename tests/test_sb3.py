"""stable-baselines3 and Gymnasium's process-based vector envs on neurotasks environments.

The environments must work wherever an RL user puts them: SB3's ``make_vec_env`` (Monitor
wrapping, ``is_success`` read at episode ends), SB3's ``SubprocVecEnv`` and Gymnasium's
``AsyncVectorEnv`` under every multiprocessing start method (``spawn`` and ``forkserver``
re-import the package in the child from the ``"neurotasks:"`` id prefix alone).
"""

from __future__ import annotations

import multiprocessing

import gymnasium as gym
import numpy as np
import pytest
from sb3_contrib import RecurrentPPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.logger import KVWriter, Logger
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

import neurotasks  # noqa: F401

TASK_ID = "PerceptualDecision-v0"
PREFIXED_ID = "neurotasks:PerceptualDecision-v0"
START_METHODS = [m for m in ("fork", "forkserver", "spawn") if m in multiprocessing.get_all_start_methods()]


class RecordingWriter(KVWriter):
    """Keeps every dict the SB3 logger dumps."""

    def __init__(self) -> None:
        self.records: list[dict] = []

    def write(self, key_values, key_excluded, step=0) -> None:
        self.records.append(dict(key_values))

    def close(self) -> None:
        pass


def fixate_then_answer(n_envs: int, n_steps: int) -> np.ndarray:
    """(n_steps, n_envs) actions: fixate, except a choice now and then (so trials end every way)."""
    rng = np.random.default_rng(0)
    return np.where(rng.random((n_steps, n_envs)) < 0.05, rng.integers(1, 3, (n_steps, n_envs)), 0)


def roll(envs, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Observations and rewards of an SB3 VecEnv stepped through ``actions``."""
    obs, rewards = [envs.reset()], []
    for a in actions:
        o, r, _, _ = envs.step(a)
        obs.append(o)
        rewards.append(r)
    return np.array(obs), np.array(rewards)


# ---------------------------------------------------------------------- training through make_vec_env
@pytest.mark.slow
def test_recurrent_ppo_trains_and_the_logger_sees_is_success(one_torch_thread):
    envs = make_vec_env(TASK_ID, n_envs=4, seed=0, monitor_kwargs={"info_keywords": ("is_success",)})
    model = RecurrentPPO("MlpLstmPolicy", envs, n_steps=128, batch_size=256, n_epochs=2, seed=0, device="cpu",
                         policy_kwargs={"lstm_hidden_size": 16, "net_arch": [16]})
    writer = RecordingWriter()
    model.set_logger(Logger(folder=None, output_formats=[writer]))
    before = [p.detach().clone() for p in model.policy.parameters()]
    model.learn(total_timesteps=4096)

    assert model.num_timesteps >= 4096
    changed = [not np.array_equal(b.numpy(), a.detach().numpy()) for b, a in zip(before, model.policy.parameters(),
                                                                                  strict=True)]
    assert any(changed)
    # SB3 collects info["is_success"] at every episode end into its success buffer and logs its mean.
    assert len(model.ep_success_buffer) > 0
    assert set(np.unique(model.ep_success_buffer)) <= {0.0, 1.0}
    rates = [r["rollout/success_rate"] for r in writer.records if "rollout/success_rate" in r]
    assert rates and all(0.0 <= rate <= 1.0 for rate in rates)
    losses = [r["train/loss"] for r in writer.records if "train/loss" in r]
    assert losses and np.all(np.isfinite(losses))
    # Monitor copies the keyword into its per-episode record.
    assert all("is_success" in episode for episode in model.ep_info_buffer)


def test_monitor_reports_is_success_at_each_trial_end():
    envs = make_vec_env(TASK_ID, n_envs=2, seed=1, monitor_kwargs={"info_keywords": ("is_success",)})
    envs.reset()
    ends = []
    for a in fixate_then_answer(2, 300):
        _, _, dones, infos = envs.step(a)
        ends += [infos[i] for i in np.flatnonzero(dones)]
    assert ends
    for info in ends:
        assert isinstance(info["is_success"], bool)
        assert info["episode"]["is_success"] == info["is_success"]
        assert "terminal_observation" in info


# ---------------------------------------------------------------------- SB3 SubprocVecEnv
# A spawned or forkserver SB3 worker imports torch (through stable_baselines3): seconds, hence slow.
@pytest.mark.parametrize("start_method", [m if m == "fork" else pytest.param(m, marks=pytest.mark.slow)
                                          for m in START_METHODS])
def test_subproc_vec_env_matches_dummy_vec_env(start_method):
    actions = fixate_then_answer(2, 60)
    expected = roll(make_vec_env(PREFIXED_ID, n_envs=2, seed=3, vec_env_cls=DummyVecEnv), actions)
    envs = make_vec_env(PREFIXED_ID, n_envs=2, seed=3, vec_env_cls=SubprocVecEnv,
                        vec_env_kwargs={"start_method": start_method})
    try:
        got = roll(envs, actions)
    finally:
        envs.close()
    np.testing.assert_array_equal(got[0], expected[0])
    # DummyVecEnv keeps rewards in a float32 buffer; SubprocVecEnv stacks the envs' Python floats.
    np.testing.assert_array_equal(got[1].astype(np.float32), expected[1])


# ---------------------------------------------------------------------- Gymnasium AsyncVectorEnv
@pytest.mark.parametrize("context", START_METHODS)
def test_async_vector_env_matches_sync(context):
    actions = fixate_then_answer(2, 120)

    def run(envs):
        obs, _ = envs.reset(seed=5)
        frames, rewards, successes = [obs], [], 0
        for a in actions:
            obs, r, _, _, info = envs.step(a)
            frames.append(obs)
            rewards.append(r)
            successes += int(np.sum(info.get("_is_success", 0)))
        envs.close()
        return np.array(frames), np.array(rewards), successes

    expected = run(gym.make_vec(PREFIXED_ID, num_envs=2, vectorization_mode="sync"))
    got = run(gym.make_vec(PREFIXED_ID, num_envs=2, vectorization_mode="async", vector_kwargs={"context": context}))
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])
    assert got[2] == expected[2] > 0   # trials ended, and their outcome crossed the process boundary
