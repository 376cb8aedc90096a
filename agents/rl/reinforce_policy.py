"""The policy network of reward-trained E/I networks: the E/I rate RNN with a softmax over the task's actions.

Song, Yang & Wang (2017, eLife 6:e21492, "Reward-based training of recurrent neural networks for cognitive and
value-based tasks") make the policy π(a_t | u_1..t) the softmax of a recurrent network's readout, z_t = W_out r_t +
b_out, over the task's discrete actions (fixate, choose 1, choose 2...). Here that network is
:class:`agents.models.eirnn.EIRNN` itself (Dale's law, masks, noise, τ: Song, Yang & Wang 2016), used as it is:
its ``n_out`` readout channels are the action logits. Nothing of the network is changed; this module adds

* :class:`PolicyStepper`: one Euler step of the network at a time, for acting in an environment, with the
  effective weights formed once per rollout (the network's own ``forward`` runs whole sequences only);
* :func:`action_log_probs`: the log-softmax of the readout over a recorded rollout, through the network's fused
  ``forward`` with the rollout's own noise, so that autograd gives the policy gradient;
* :func:`policy_actions`: the policy's actions (drawn, or the most probable) at every step of a TrialBatch
  (validation, figures).

A step reproduces ``forward`` exactly (up to float rounding): x_t = (1 - α) x_{t-1} + α (W_rec r_{t-1} + b_rec +
W_in u_t) + sqrt(2α) σ_rec ξ_t, r_t = f(x_t), z_t = W_out r_t + b_out, from x_0 = the network's x0.
"""

from __future__ import annotations

import numpy as np
import torch

from agents.models.dynamics import NONLINEARITIES
from agents.models.eirnn import EIRNN
from neurotasks.batch import TrialBatch


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


@torch.no_grad()
def policy_actions(network: EIRNN, batch: TrialBatch, noise: bool = True, generator: torch.Generator | None = None,
                   sample: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(the actions (B, T) int64, the action probabilities (B, T, A)) at every step of ``batch``: drawn from the
    policy (``sample``, as it acts in training and as pyrl validates, ``policygradient.run_trials``) or its most
    probable ones. ``generator`` seeds the recurrent noise and the draws.

    The policy sees ``batch.inputs[:, t]``, what its environment shows at step t; ``task.evaluate(batch,
    actions=...)`` then replays the environment's rule on them (steps after a trial's end are ignored there).
    The most probable action is a poor summary of a policy that responds by a hazard (fixate stays the most
    probable action at every step while the response, spread over the decision period, is near certain)."""
    if not isinstance(batch, TrialBatch):
        raise TypeError(f"batch must be a neurotasks.TrialBatch, got {type(batch).__name__}")
    if batch.inputs.shape[-1] != network.n_in:
        raise ValueError(f"the batch has {batch.inputs.shape[-1]} input channels, the policy has {network.n_in}")
    was_training = network.training
    network.eval()
    try:
        logits, _ = network(torch.from_numpy(np.ascontiguousarray(batch.inputs, np.float32)), float(batch.dt),
                            noise=noise, generator=generator)
    finally:
        network.train(was_training)
    probs = torch.softmax(logits, dim=-1)
    if sample:
        logits = logits + gumbel(tuple(logits.shape), generator if generator is not None else torch.default_generator)
    return logits.argmax(dim=-1).numpy().astype(np.int64), probs.numpy()


def gumbel(shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
    """Gumbel(0, 1) noise: argmax(logits + g) is a draw from softmax(logits) (the Gumbel-max trick), so a whole
    rollout's action noise is drawn in one call."""
    u = torch.rand(shape, generator=generator).clamp_(min=torch.finfo(torch.float32).tiny)
    return -torch.log(-torch.log(u))
