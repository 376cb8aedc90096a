"""An SB3 policy playing whole trials of a TrialBatch, batched over trials, and scored like any agent.

    actions = policy_actions(model, batch)                 # (B, T) ints, or (B, T, n_out) floats
    evaluation = task.evaluate(batch, actions=actions)     # the environment's own reward rule, replayed

The policy sees ``batch.inputs[:, t]``, exactly the observation its environment gives at step t of
each trial, and acts deterministically. A recurrent policy's LSTM state is carried from step to
step, one row per trial, starting from zero at step 0, as at the start of an episode (the whole
trial goes through the LSTM in one call, as sb3-contrib does for a sequence without resets).
Actions after a trial ended (a response, a broken fixation) and on padding are computed but
ignored by ``evaluate``, as the environment would never have asked for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from neurotasks.batch import TrialBatch


def is_recurrent(model: Any) -> bool:
    """Whether ``model``'s policy carries an LSTM state (sb3-contrib's RecurrentPPO)."""
    return hasattr(model.policy, "lstm_actor")


def policy_actions(model: Any, batch: TrialBatch, deterministic: bool = True) -> np.ndarray:
    """The actions of ``model`` (an SB3 PPO or RecurrentPPO) at every step of every trial of ``batch``."""
    if not isinstance(batch, TrialBatch):
        raise TypeError(f"batch must be a neurotasks.TrialBatch, got {type(batch).__name__}")
    n, n_steps, n_in = batch.inputs.shape
    expected = model.observation_space.shape
    if (n_in,) != tuple(expected):
        raise ValueError(f"the batch has {n_in} input channels, the policy observes {expected}")
    obs = np.ascontiguousarray(batch.inputs, dtype=np.float32).reshape(n * n_steps, n_in)
    if not is_recurrent(model):                      # memoryless: every step of every trial in one call
        actions, _ = model.predict(obs, deterministic=deterministic)
        return np.asarray(actions).reshape(n, n_steps, *np.shape(actions)[1:])
    # Each trial is one sequence from a zero state (as after episode_start) with no reset inside it:
    # sb3-contrib then runs its LSTM over all steps in one call, the trials as the batch.
    import torch
    from gymnasium import spaces

    policy = model.policy
    policy.set_training_mode(False)
    lstm = policy.lstm_actor
    with torch.no_grad():
        zeros = torch.zeros((lstm.num_layers, n, lstm.hidden_size), device=policy.device)
        distribution, _ = policy.get_distribution(torch.as_tensor(obs, device=policy.device), (zeros, zeros.clone()),
                                                  torch.zeros(n * n_steps, device=policy.device))
        actions = distribution.get_actions(deterministic=deterministic).cpu().numpy()
    space = model.action_space
    if isinstance(space, spaces.Box):                # as SB3's predict does
        actions = policy.unscale_action(actions) if policy.squash_output else np.clip(actions, space.low, space.high)
        return actions.reshape(n, n_steps, *space.shape).astype(space.dtype, copy=False)
    return actions.reshape(n, n_steps)


def score(model: Any, task: Any, batch: TrialBatch,
          rewards: Mapping[str, float] | None = None) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """(``task.score`` of the policy's deterministic play plus its mean reward per trial, the evaluation)."""
    evaluation = task.evaluate(batch, actions=policy_actions(model, batch), rewards=rewards)
    scores = {k: float(v) for k, v in task.score(batch, evaluation).items()}
    scores["mean_reward"] = float(np.mean(evaluation["reward"]))
    return scores, evaluation
