"""Shared fixtures: every registered task id, one torch thread for small networks, and seeded helpers."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import neurotasks

settings.register_profile("ci", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "dev")

TASK_IDS = neurotasks.list_tasks()


@pytest.fixture
def one_torch_thread():
    """Small networks train faster on one thread, and a shared 2-core machine thrashes with two."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(params=TASK_IDS)
def task_id(request) -> str:
    return request.param


def sample_actions(space, n: int, rng: np.random.Generator, respond_prob: float = 0.05) -> np.ndarray:
    """Mostly-fixating random actions for Discrete spaces (so trials run long enough to matter);
    uniform actions inside the box for Box spaces."""
    import gymnasium as gym

    if isinstance(space, gym.spaces.Discrete):
        return np.where(rng.random(n) < respond_prob, rng.integers(1, space.n, n), 0).astype(np.int64)
    return rng.uniform(space.low, space.high, size=(n, *space.shape)).astype(np.float32)
