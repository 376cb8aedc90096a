"""``lstm``: PyTorch's fused ``nn.LSTM`` (one layer, batch first) with a linear readout.

    i_t = σ(W_ii u_t + b_ii + W_hi h_{t-1} + b_hi)          input gate
    f_t = σ(W_if u_t + b_if + W_hf h_{t-1} + b_hf)          forget gate
    g_t = tanh(W_ig u_t + b_ig + W_hg h_{t-1} + b_hg)       candidate
    o_t = σ(W_io u_t + b_io + W_ho h_{t-1} + b_ho)          output gate
    c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t,    h_t = o_t ⊙ tanh(c_t),    z_t = W_out h_t + b_out

(PyTorch's gate order i, f, g, o.) Training runs PyTorch's fused kernel and its autograd; :meth:`LSTMNetwork.step`
writes the same map out on the joint state s = [h, c] (2N) for the fixed-point analysis. Rates are the hidden
states h_t. One step per time step of the task: ``dt`` is accepted and ignored, and there is no recurrent noise
(see :class:`agents.models.base.GatedNetwork`).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from agents.models import interface as arg
from agents.models.base import GatedNetwork


class LSTMNetwork(GatedNetwork):
    """LSTM with a linear readout.

    Args:
        n_in, n_out: numbers of input and output channels (set from the task).
        n_units: N, hidden units (default 100).
        forget_bias: added to the forget gate's input bias b_if after initialisation (default 1, the usual
            choice since Jozefowicz et al. 2015 and TensorFlow's ``LSTMCell``, which Yang et al. 2019 used;
            0 keeps PyTorch's initialisation).
        seed: seed of the initial weights (default None: fresh entropy); PyTorch's default initialisation,
            every weight and bias U(-1/√N, 1/√N).
    """

    name = "lstm"
    module = nn.LSTM
    n_gates = 4

    def __init__(self, n_in: int, n_out: int, n_units: int = 100, forget_bias: float = 1.0,
                 seed: int | None = None) -> None:
        super().__init__(n_in, n_out, n_units, seed)
        forget_bias = arg.number(forget_bias, "forget_bias")
        n = self.n_units
        with torch.no_grad():
            self.recurrent.bias_ih_l0[n:2 * n].add_(forget_bias)
        self.config = {"n_in": self.n_in, "n_out": self.n_out, "n_units": n, "forget_bias": forget_bias,
                       "seed": None if seed is None else int(seed)}

    def _step(self, state: torch.Tensor, u: torch.Tensor, w_ih: torch.Tensor, w_hh: torch.Tensor,
              b_ih: torch.Tensor, b_hh: torch.Tensor) -> torch.Tensor:
        h, c = state.chunk(2, dim=-1)                              # s = [h, c]
        gates = u @ w_ih.t() + b_ih + h @ w_hh.t() + b_hh          # (K, 4N)
        i, f, g, o = gates.chunk(4, dim=-1)
        c_next = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h_next = torch.sigmoid(o) * torch.tanh(c_next)
        return torch.cat([h_next, c_next], dim=-1)

    @torch.no_grad()
    def states(self, inputs: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """Hidden and cell states (B, T, N) each, float64, of a noiseless run on ``inputs`` (B, T, n_in): the
        cell states ``forward`` does not return, e.g. to seed the fixed-point search with [h, c] pairs."""
        arg.check_inputs(inputs, self.n_in)
        r = self.recurrent
        weights = tuple(w.double() for w in (r.weight_ih_l0, r.weight_hh_l0, r.bias_ih_l0, r.bias_hh_l0))
        u = inputs.double()
        state = torch.zeros(u.shape[0], 2 * self.n_units, dtype=torch.float64, device=u.device)
        out = torch.empty(u.shape[0], u.shape[1], 2 * self.n_units, dtype=torch.float64, device=u.device)
        for t in range(u.shape[1]):                                # analysis only: T small steps
            state = self._step(state, u[:, t], *weights)
            out[:, t] = state
        h, c = out.chunk(2, dim=-1)
        return h.cpu().numpy(), c.cpu().numpy()
