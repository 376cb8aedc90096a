"""A trial-aligned batch of complete trials, played by the policy on the native vector env.

Each of the env's ``num_envs`` sub-environments plays one trial: ``env.reset()`` starts a fresh trial in every
one (continuing their seeded streams of trials), then all step together until every trial has ended (a
response, a broken fixation, or the trial's last step). A sub-environment whose trial ended keeps being stepped,
its steps masked out: made with ``autoreset_mode=AutoresetMode.DISABLED`` (as ei-reinforce makes it) it is
parked and does nothing until the next ``reset``; with Gymnasium's default next-step autoreset it starts its
next trial, which the next ``reset`` discards, and it is given the rule's quiet action (fixate), on which the
env does no work, so that trial rarely ends before the batch's last one (fewer new trials drawn mid-rollout;
a Box task's rule has no quiet action: its finished sub-environments keep acting, unrecorded). One Python
iteration per time step, none per environment: the policy's step is a few matrix products over the batch, the
env's step array operations.

The rollout keeps what the update needs to replay the policy exactly: the observations, the recurrent noise
and the actions (for a Gaussian readout its samples before they are clipped into the Box, which is what its
log-probability scores; :mod:`agents.rl.reinforce_readout`): the network is run again over the whole
recording, with autograd, by the fused ``forward``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from agents.models.eirnn import EIRNN
from agents.rl.reinforce_policy import PolicyStepper
from agents.rl.reinforce_readout import CategoricalReadout, Readout
from neurotasks.vector_env import TaskVectorEnv

#: steps of noise drawn at once (the buffers grow by this much)
BLOCK = 64


@dataclass
class Rollout:
    """One batch of B trials, T steps (the longest trial): tensors batch-first unless noted."""

    inputs: torch.Tensor        #: (B, T, n_in) float32, what each sub-environment showed
    noise: torch.Tensor         #: (T + 1, B, N) standard normals, time-major (steps 1..T used), as ``forward`` takes
    actions: torch.Tensor       #: (B, T) int64 (softmax) or (B, T, d) float32 (Gaussian, unclipped), the samples
    rewards: torch.Tensor       #: (B, T) float32, 0 after a trial's end
    mask: torch.Tensor          #: (B, T) float32, 1 on the steps of each trial (its last step included)
    env_seconds: float          #: time spent in ``env.reset`` and ``env.step``

    @property
    def trial_rewards(self) -> np.ndarray:
        return self.rewards.sum(1).numpy()


def collect(network: EIRNN, env: TaskVectorEnv, generator: torch.Generator, seeds: list[int] | None = None,
            max_steps: int = 100_000, readout: Readout | None = None,
            reset_options: dict[str, Any] | None = None) -> Rollout:
    """Play one trial in every sub-environment of ``env`` with the policy ``network`` and its ``readout``
    (None: a softmax over ``network``'s outputs), sampling its actions (``generator``: the recurrent and the
    action noise); ``seeds``: the sub-environments' seeds for this reset (None: their streams continue);
    ``reset_options``: the reset's options (``{"trial_streams": ...}``: the streams a checkpoint left off)."""
    import time

    clock = time.perf_counter
    b, n, n_in = env.num_envs, network.n_units, network.n_in
    if readout is None:
        readout = CategoricalReadout(network.n_out, env.task.rule.quiet_action)
    if readout.n_outputs != network.n_out:
        raise ValueError(f"readout reads {readout.n_outputs} outputs, the policy network has {network.n_out}")
    continuous = readout.kind == "gaussian"
    action_shape, action_dtype = ((readout.n_outputs,), np.float32) if continuous else ((), np.int64)
    dt = float(env.task.dt)
    stepper = PolicyStepper(network, b, dt)
    capacity = BLOCK
    inputs = np.empty((capacity, b, n_in), np.float32)
    noise = torch.empty((capacity + 1, b, n))
    noise[1:].normal_(generator=generator)
    action_noise = readout.draw_noise(capacity, b, generator)
    actions = np.empty((capacity, b, *action_shape), action_dtype)
    rewards = np.zeros((capacity, b), np.float32)
    mask = np.zeros((capacity, b), np.float32)
    alive = np.ones(b, bool)
    quiet = readout.quiet_action

    start = clock()
    obs, _ = env.reset(seed=seeds, options=reset_options)
    env_s = clock() - start
    t = 0
    while True:
        if t == capacity:                                         # a longer trial than so far: grow the buffers
            if capacity >= max_steps:
                raise RuntimeError(f"trials of {env.task.id} last more than max_steps={max_steps} steps")
            more = torch.empty((BLOCK, b, n)).normal_(generator=generator)
            noise = torch.cat((noise, more))
            action_noise = torch.cat((action_noise, readout.draw_noise(BLOCK, b, generator)))
            inputs, actions, rewards, mask = (np.concatenate((a, np.zeros((BLOCK, *a.shape[1:]), a.dtype)))
                                              for a in (inputs, actions, rewards, mask))
            capacity += BLOCK
        inputs[t] = obs
        logits = stepper.step(torch.from_numpy(inputs[t]), noise[t + 1])
        recorded, action = readout.act(logits, action_noise[t])
        if quiet is not None:                  # a finished trial's sub-environment holds still: no rule to run,
            action[~alive] = quiet             # and its next trial (discarded) runs long, so no refill is drawn
        actions[t] = recorded
        mask[t] = alive
        start = clock()
        obs, reward, terminated, truncated, _ = env.step(action)
        env_s += clock() - start
        rewards[t] = np.where(alive, reward, 0.0)
        alive &= ~(terminated | truncated)
        t += 1
        if not alive.any():
            break
    return Rollout(inputs=torch.from_numpy(np.ascontiguousarray(inputs[:t].transpose(1, 0, 2))),
                   noise=noise[:t + 1].contiguous(),
                   actions=torch.from_numpy(np.ascontiguousarray(np.swapaxes(actions[:t], 0, 1))),
                   rewards=torch.from_numpy(np.ascontiguousarray(rewards[:t].T)),
                   mask=torch.from_numpy(np.ascontiguousarray(mask[:t].T)), env_seconds=env_s)
