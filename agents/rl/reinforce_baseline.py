"""The value (baseline) network of reward-trained E/I networks: a GRU reading the policy's rates and actions.

Song, Yang & Wang (2017, eLife; pyrl ``policygradient.py``) train a second recurrent network alongside the
policy to predict the return still to come, v_t ≈ E[Σ_{k ≥ t} R_k]; its input at step t is the policy network's
rates and its chosen action of step t - 1 (one-hot for Discrete actions, the action vector for Box ones), so
it never sees the action whose return it predicts (the baseline then adds no bias to the policy gradient).
pyrl's baseline is a GRU of 100 units (``baseline_N``,
``baseline_network_type='gru'``) whose readout bias starts at the reward of an aborted trial (``baseline_bout =
R_ABORTED``) and whose initial state is trained; all three are kept here. (pyrl also adds recurrent noise of
variance 0.01 to the baseline; a deterministic GRU is used here: its output enters the update only as a baseline.)
"""

from __future__ import annotations

import torch
from torch import nn


class GRUBaseline(nn.Module):
    """v_t from (r_{t-1}, a_{t-1}); at t = 0 from the trained initial state alone. ``n_actions``: the number of
    discrete actions (read one-hot) or the dimension of a continuous action vector."""

    def __init__(self, n_policy_units: int, n_actions: int, n_units: int = 100, initial_value: float = -1.0,
                 seed: int | None = None) -> None:
        super().__init__()
        for name, value in (("n_policy_units", n_policy_units), ("n_actions", n_actions), ("n_units", n_units)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        self.n_policy_units, self.n_actions, self.n_units = n_policy_units, n_actions, n_units
        with torch.random.fork_rng(devices=[]):                 # seeded weights, the caller's RNG untouched
            if seed is not None:
                torch.manual_seed(int(seed))
            self.gru = nn.GRU(n_policy_units + n_actions, n_units, batch_first=True)
            self.readout = nn.Linear(n_units, 1)
        with torch.no_grad():
            self.readout.bias.fill_(float(initial_value))
        self.h0 = nn.Parameter(torch.zeros(n_units))

    def forward(self, rates: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """Values (B, T) for the policy's ``rates`` (B, T, N) and ``actions``: (B, T) int64 discrete actions or
        (B, T, n_actions) floating-point action vectors."""
        if rates.dim() != 3 or rates.shape[-1] != self.n_policy_units:
            raise ValueError(f"rates must have shape (B, T, {self.n_policy_units}), got {tuple(rates.shape)}")
        discrete = not actions.is_floating_point()
        expected = tuple(rates.shape[:2]) + (() if discrete else (self.n_actions,))
        if tuple(actions.shape) != expected:
            raise ValueError(f"actions must have shape {expected}, got {tuple(actions.shape)}")
        b, t, _ = rates.shape
        seen = torch.zeros((b, t, self.n_policy_units + self.n_actions), dtype=rates.dtype, device=rates.device)
        seen[:, 1:, :self.n_policy_units] = rates[:, :-1]
        seen[:, 1:, self.n_policy_units:] = (nn.functional.one_hot(actions[:, :-1], self.n_actions) if discrete
                                             else actions[:, :-1]).to(rates.dtype)
        h0 = self.h0.expand(1, b, -1).contiguous()
        states, _ = self.gru(seen, h0)
        return self.readout(states).squeeze(-1)
