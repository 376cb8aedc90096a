"""REINFORCE with a learned baseline, as Song, Yang & Wang (2017, eLife, Eqs 2-6; pyrl ``policygradient.py``).

For a batch of B complete trials with rewards R_t (mask M_t: 1 while the trial runs, its last step included):

    G_t = Σ_{k ≥ t} γ^{k-t} R_k M_k                     (return to go; γ = exp(-dt/τ_reward), pyrl's τ_reward = ∞)
    L_policy   = -(1/B) Σ_trials Σ_t M_t log π(a_t | u_1..t) (G_t - v_t)       (v_t held constant)
    L_baseline = Σ M_t (v_t - G_t)² / Σ M_t

pyrl writes the policy objective with a causal matrix over time; the return to go is the same sum.
"""

from __future__ import annotations

import math

import torch


def returns_to_go(rewards: torch.Tensor, mask: torch.Tensor, discount: float = 1.0) -> torch.Tensor:
    """G (B, T) from ``rewards`` and ``mask`` (B, T); ``discount`` γ per step in (0, 1]."""
    if not (isinstance(discount, (int, float)) and 0.0 < discount <= 1.0):
        raise ValueError(f"discount must be in (0, 1], got {discount!r}")
    r = rewards * mask
    if discount == 1.0:
        return r.flip(-1).cumsum(-1).flip(-1)
    t = r.shape[-1]
    lag = torch.arange(t, dtype=r.dtype)
    lag = lag[None, :] - lag[:, None]                              # k - t
    weights = torch.where(lag >= 0, torch.tensor(discount, dtype=r.dtype) ** lag.clamp(min=0), 0.0)
    return r @ weights.t()


def discount_per_step(dt: float, tau_reward: float) -> float:
    """γ = exp(-dt/τ_reward) (pyrl's ``discount_factor``); 1 for τ_reward = ∞."""
    if not tau_reward > 0:
        raise ValueError(f"tau_reward must be > 0 (ms; inf for no discount), got {tau_reward!r}")
    return 1.0 if math.isinf(tau_reward) else math.exp(-dt / tau_reward)


def policy_loss(log_probs: torch.Tensor, actions: torch.Tensor, advantages: torch.Tensor,
                mask: torch.Tensor) -> torch.Tensor:
    """-(1/B) Σ M log π(a) A: ``log_probs`` (B, T, A), ``actions`` (B, T) int64, ``advantages`` and ``mask`` (B, T)."""
    return policy_gradient_loss(log_probs.gather(-1, actions.unsqueeze(-1)).squeeze(-1), advantages, mask)


def policy_gradient_loss(taken_log_probs: torch.Tensor, advantages: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """-(1/B) Σ M log π(a_t) A_t from the log-probabilities of the actions taken (B, T), any action
    distribution (the softmax's, the Gaussian's density: Williams 1992's REINFORCE is the same rule)."""
    return -(taken_log_probs * advantages.detach() * mask).sum() / taken_log_probs.shape[0]


def baseline_loss(values: torch.Tensor, returns: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean squared error of the values on the steps the trials ran."""
    return ((values - returns) ** 2 * mask).sum() / mask.sum().clamp(min=1.0)


def rate_penalty(rates: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean squared rate over the steps the trials ran and the units, (B, T, N) ``rates``, (B, T) ``mask``
    (pyrl ``simple.py`` ``get_regs``: its rate network's ``L2_r`` term, which keeps a ReLU network's activity
    from running away under the policy gradient)."""
    return (rates.square().mean(-1) * mask).sum() / mask.sum().clamp(min=1.0)
