"""The policy network of reward-trained E/I networks: the E/I rate RNN whose readout parameterises the policy.

Song, Yang & Wang (2017, eLife 6:e21492, "Reward-based training of recurrent neural networks for cognitive and
value-based tasks") make the policy π(a_t | u_1..t) the softmax of a recurrent network's readout, z_t = W_out r_t +
b_out, over the task's discrete actions (fixate, choose 1, choose 2...). Here that network is
:class:`agents.models.eirnn.EIRNN` itself (Dale's law, masks, noise, τ: Song, Yang & Wang 2016), used as it is:
its ``n_out`` readout channels are the action logits (Discrete actions) or the pre-squash means of a Gaussian
(Box actions; :mod:`agents.rl.reinforce_readout` turns the readout into a distribution). Nothing of the network
is changed; this module adds

* :class:`PolicyStepper`: one Euler step of the network at a time, for acting in an environment, with the
  effective weights formed once per rollout (the network's own ``forward`` runs whole sequences only);
* :func:`taken_log_probs` (:func:`action_log_probs` for a softmax): log π of the recorded actions over a rollout,
  through the network's fused ``forward`` with the rollout's own noise, so that autograd gives the policy gradient;
* :func:`policy_actions`: the policy's actions (drawn, or the most probable / the mean) at every step of a
  TrialBatch (validation, figures).

A step reproduces ``forward`` exactly (up to float rounding): x_t = (1 - α) x_{t-1} + α (W_rec r_{t-1} + b_rec +
W_in u_t) + sqrt(2α) σ_rec ξ_t, r_t = f(x_t), z_t = W_out r_t + b_out, from x_0 = the network's x0.
"""

from __future__ import annotations

import numpy as np
import torch

from agents.models.dynamics import NONLINEARITIES
from agents.models.eirnn import EIRNN
from agents.rl.reinforce_readout import CategoricalReadout, Readout, gumbel
from neurotasks.batch import TrialBatch

__all__ = ["PolicyStepper", "action_log_probs", "gumbel", "policy_actions", "taken_log_probs"]


class PolicyStepper:
    """Steps ``network`` one time step at a time for ``n_trials`` trials, without autograd."""

    @torch.no_grad()
    def __init__(self, network: EIRNN, n_trials: int, dt: float) -> None:
        self.network = network
        alpha = network.alpha(dt)                                  # checks dt (and dt <= τ)
        w_in, w_rec, w_out = network.weights()
        self.w_in_t = (alpha[:, None] * w_in).t().contiguous()    # (α W_in)^T
        self.w_rec_t = (alpha[:, None] * w_rec).t().contiguous()  # (α W_rec)^T
        self.w_out_t = w_out.t().contiguous()
        self.leak = 1.0 - alpha
        self.bias = alpha * network.b_rec.detach()
        self.b_out = network.b_out.detach()
        self.noise_sd = torch.sqrt(2.0 * alpha) * network.sigma_rec
        self.f = NONLINEARITIES[network.nonlinearity][0]
        self.x = network.x0.detach().expand(n_trials, -1).clone()
        self.r = self.f(self.x)

    @torch.no_grad()
    def step(self, u: torch.Tensor, xi: torch.Tensor) -> torch.Tensor:
        """Advance by one step on inputs ``u`` (B, n_in) and standard normals ``xi`` (B, N); the logits (B, A)."""
        x = torch.addmm(self.bias, self.r, self.w_rec_t)
        x.addmm_(u, self.w_in_t).addcmul_(self.x, self.leak).addcmul_(xi, self.noise_sd)
        self.x = x
        self.r = self.f(x)
        return torch.addmm(self.b_out, self.r, self.w_out_t)


def action_log_probs(network: EIRNN, inputs: torch.Tensor, dt: float, noise: torch.Tensor | None
                     ) -> tuple[torch.Tensor, torch.Tensor]:
    """(log π(a | ·) (B, T, A), rates (B, T, N)) of the network run on ``inputs`` (B, T, n_in) with the standard
    normals ``noise`` (T + 1, B, N, steps 1..T used; None: no recurrent noise), differentiable in its weights."""
    workspace = None if noise is None else noise.clone()        # forward uses its workspace up
    logits, rates = network(inputs, dt, noise=noise is not None, noise_workspace=workspace)
    return torch.log_softmax(logits, dim=-1), rates


def taken_log_probs(network: EIRNN, readout: Readout, inputs: torch.Tensor, actions: torch.Tensor, dt: float,
                    noise: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """(log π(a_t | ·) (B, T) of the recorded ``actions``, rates (B, T, N)), differentiable in the network's
    weights and the readout's parameters (the Gaussian's log sd); arguments as :func:`action_log_probs`."""
    workspace = None if noise is None else noise.clone()
    z, rates = network(inputs, dt, noise=noise is not None, noise_workspace=workspace)
    return readout.log_prob(z, actions), rates


@torch.no_grad()
def policy_actions(network: EIRNN, batch: TrialBatch, noise: bool = True, generator: torch.Generator | None = None,
                   sample: bool = True, readout: Readout | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(the actions, the readout's summary) at every step of ``batch``: for a softmax (``readout`` None or a
    :class:`CategoricalReadout`) the actions (B, T) int64 and their probabilities (B, T, A); for a Gaussian the
    actions (B, T, d) float32 and the mean actions (B, T, d). The actions are drawn from the policy
    (``sample``, as it acts in training and as pyrl validates, ``policygradient.run_trials``) or are its most
    probable ones (its mean for a Gaussian). ``generator`` seeds the recurrent noise and the draws.

    The policy sees ``batch.inputs[:, t]``, what its environment shows at step t; ``task.evaluate(batch,
    actions=...)`` then replays the environment's rule on them (steps after a trial's end are ignored there).
    The most probable action is a poor summary of a policy that responds by a hazard (fixate stays the most
    probable action at every step while the response, spread over the decision period, is near certain)."""
    if not isinstance(batch, TrialBatch):
        raise TypeError(f"batch must be a neurotasks.TrialBatch, got {type(batch).__name__}")
    if batch.inputs.shape[-1] != network.n_in:
        raise ValueError(f"the batch has {batch.inputs.shape[-1]} input channels, the policy has {network.n_in}")
    if readout is None:
        readout = CategoricalReadout(network.n_out)
    if readout.n_outputs != network.n_out:
        raise ValueError(f"readout reads {readout.n_outputs} outputs, the policy network has {network.n_out}")
    was_training = network.training
    network.eval()
    try:
        z, _ = network(torch.from_numpy(np.ascontiguousarray(batch.inputs, np.float32)), float(batch.dt),
                       noise=noise, generator=generator)
    finally:
        network.train(was_training)
    actions = readout.choose(z, sample, generator if generator is not None else torch.default_generator)
    return actions, readout.summary(z).numpy()
