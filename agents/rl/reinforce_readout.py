"""The action distributions of reward-trained E/I networks: how the network's readout becomes a policy.

The policy network's readout z_t = W_out r_t + b_out (:mod:`agents.rl.reinforce_policy`) parameterises

* :class:`CategoricalReadout` for a ``Discrete`` action space: π(a | ·) = softmax(z_t), as Song, Yang & Wang
  (2017, eLife 6:e21492) for their discrete actions (fixate, choose 1, choose 2...); no parameters.
* :class:`GaussianReadout` for a ``Box(low, high, (d,))`` action space: a diagonal Gaussian, the standard
  continuous-action policy of REINFORCE (Williams 1992, Machine Learning 8:229, section 6: the mean and the
  standard deviation of a Gaussian unit learned by the same rule). Choices, and why:

  - mean μ_t = c + h tanh(z_t) (c, h the Box's centre and half-width): the mean stays inside the Box, so a
    policy whose mean drifts past a bound still sees a reward that depends on it (a clipped mean would not:
    its gradient through the clip is 0 for good);
  - a learned, state-independent log standard deviation per action dimension (``log_std``; Williams 1992's
    σ learned by the same rule; Schulman et al. 2015 TRPO / SB3's Gaussian policies keep it state-independent
    too): exploration narrows as the task is learned, and the network's rates keep their meaning (the mean);
  - a_t = μ_t + σ ε_t is what the policy gradient scores (log N(a_t; μ_t, σ²), the diagonal Gaussian's
    log-density); the environment is given clip(a_t, low, high). The clip is part of the environment (as
    SB3's PPO does without squashing): the estimator stays unbiased for the Gaussian's own samples.

Both readouts serve the rollout, the loss, the baseline, validation and the figures through the same methods:
``log_prob``, ``draw_noise`` and ``act`` (a whole rollout's action noise drawn in one call), ``baseline_input``
(one-hot for Discrete, the action vector the environment saw for Box), ``summary`` (what the figures show:
action probabilities, or the mean action) and ``choose`` (the actions of a whole batch of trials).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

#: the parameter of a readout made from a space
SPACE_PARAMETER = "action_space"


class CategoricalReadout(nn.Module):
    """Softmax over ``n_actions`` logits; ``quiet_action``: the action a finished trial's environment is given."""

    kind = "categorical"

    def __init__(self, n_actions: int, quiet_action: int | None = None) -> None:
        super().__init__()
        if isinstance(n_actions, bool) or not isinstance(n_actions, int) or n_actions < 2:
            raise ValueError(f"n_actions must be an int >= 2, got {n_actions!r}")
        self.n_actions = self.n_outputs = self.n_features = n_actions
        self.quiet_action = quiet_action

    def log_prob(self, z: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """log π(a) (B, T) of ``actions`` (B, T) int64 under the logits ``z`` (B, T, A)."""
        return torch.log_softmax(z, dim=-1).gather(-1, actions.unsqueeze(-1)).squeeze(-1)

    def draw_noise(self, steps: int, n: int, generator: torch.Generator) -> torch.Tensor:
        return gumbel((steps, n, self.n_actions), generator)

    def act(self, z: torch.Tensor, noise: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """(the recorded action, the environment's action) for one step's logits (B, A) and noise (B, A)."""
        action = (z + noise).argmax(-1).numpy()
        return action, action

    def baseline_input(self, actions: torch.Tensor) -> torch.Tensor:
        return actions

    def summary(self, z: torch.Tensor) -> torch.Tensor:
        """The action probabilities (B, T, A)."""
        return torch.softmax(z, dim=-1)

    def choose(self, z: torch.Tensor, sample: bool, generator: torch.Generator) -> np.ndarray:
        """Actions (B, T) int64: drawn (the Gumbel-max trick) or the most probable."""
        if sample:
            z = z + gumbel(tuple(z.shape), generator)
        return z.argmax(dim=-1).numpy().astype(np.int64)


class GaussianReadout(nn.Module):
    """Diagonal Gaussian with mean c + h tanh(z) in the Box [low, high] and a learned log sd per dimension."""

    kind = "gaussian"

    def __init__(self, low: np.ndarray | list[float], high: np.ndarray | list[float], initial_sd: float) -> None:
        super().__init__()
        low, high = np.asarray(low, np.float64).reshape(-1), np.asarray(high, np.float64).reshape(-1)
        if low.shape != high.shape or low.size == 0:
            raise ValueError(f"low and high must be equally long bounds, got {low.shape} and {high.shape}")
        if not (np.isfinite(low).all() and np.isfinite(high).all() and (high > low).all()):
            raise ValueError(f"{SPACE_PARAMETER} must be a Box with finite bounds, low < high (a Gaussian "
                             f"readout's mean is squashed into them), got low={low.tolist()}, high={high.tolist()}")
        if isinstance(initial_sd, bool) or not isinstance(initial_sd, (int, float)) or not (
                math.isfinite(initial_sd) and initial_sd > 0):
            raise ValueError(f"initial_action_sd must be a finite number > 0, got {initial_sd!r}")
        self.n_outputs = self.n_features = int(low.size)
        self.quiet_action = None
        self.register_buffer("low", torch.tensor(low, dtype=torch.float32), persistent=False)
        self.register_buffer("high", torch.tensor(high, dtype=torch.float32), persistent=False)
        self.register_buffer("centre", (self.low + self.high) / 2, persistent=False)
        self.register_buffer("half_width", (self.high - self.low) / 2, persistent=False)
        self.log_std = nn.Parameter(torch.full((self.n_outputs,), math.log(float(initial_sd))))

    @property
    def sd(self) -> torch.Tensor:
        return self.log_std.exp()

    def mean(self, z: torch.Tensor) -> torch.Tensor:
        return self.centre.to(z.dtype) + self.half_width.to(z.dtype) * torch.tanh(z)

    def log_prob(self, z: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """log N(a; μ(z), diag σ²) (B, T) of ``actions`` (B, T, d) under the readout ``z`` (B, T, d)."""
        log_std = self.log_std.to(z.dtype)
        scaled = (actions.to(z.dtype) - self.mean(z)) / log_std.exp()
        return (-0.5 * scaled.square() - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)

    def draw_noise(self, steps: int, n: int, generator: torch.Generator) -> torch.Tensor:
        return torch.randn((steps, n, self.n_outputs), generator=generator)

    @torch.no_grad()
    def act(self, z: torch.Tensor, noise: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """(the Gaussian's sample (B, d), the sample clipped into the Box, float32) for one step."""
        sample = self.mean(z) + self.sd * noise
        return sample.numpy(), self.clip(sample).numpy()

    def clip(self, actions: torch.Tensor) -> torch.Tensor:
        return torch.minimum(torch.maximum(actions, self.low.to(actions.dtype)), self.high.to(actions.dtype))

    def baseline_input(self, actions: torch.Tensor) -> torch.Tensor:
        """The action vectors (B, T, d) the environment was given."""
        return self.clip(actions)

    def summary(self, z: torch.Tensor) -> torch.Tensor:
        """The mean actions (B, T, d)."""
        return self.mean(z)

    @torch.no_grad()
    def choose(self, z: torch.Tensor, sample: bool, generator: torch.Generator) -> np.ndarray:
        """Actions (B, T, d) float32 in the Box: drawn and clipped, or the mean."""
        mean = self.mean(z)
        if sample:
            mean = self.clip(mean + self.sd * torch.randn(tuple(mean.shape), generator=generator))
        return mean.numpy().astype(np.float32)


Readout = CategoricalReadout | GaussianReadout


def readout_for(action_space: spaces.Space, initial_sd: float = 0.1, quiet_action: int | None = None) -> Readout:
    """The readout of ``action_space``: softmax for Discrete, Gaussian for a 1-d Box with finite bounds
    (``initial_sd``: its starting sd); ValueError naming ``action_space`` otherwise."""
    if isinstance(action_space, spaces.Discrete):
        if int(action_space.start) != 0:
            raise ValueError(f"{SPACE_PARAMETER} must be a Discrete space starting at 0, got {action_space}")
        return CategoricalReadout(int(action_space.n), quiet_action)
    if isinstance(action_space, spaces.Box):
        if len(action_space.shape) != 1:
            raise ValueError(f"{SPACE_PARAMETER} must be a Box of one dimension (d,), got {action_space}")
        return GaussianReadout(action_space.low, action_space.high, initial_sd)
    raise ValueError(f"{SPACE_PARAMETER} must be Discrete (softmax readout) or Box (Gaussian readout), got "
                     f"{action_space}")


def gumbel(shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
    """Gumbel(0, 1) noise: argmax(logits + g) is a draw from softmax(logits) (the Gumbel-max trick), so a whole
    rollout's action noise is drawn in one call."""
    u = torch.rand(shape, generator=generator).clamp_(min=torch.finfo(torch.float32).tiny)
    return -torch.log(-torch.log(u))
