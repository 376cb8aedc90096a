"""``rnn``: a leaky continuous-time rate RNN without Dale's law, after Yang et al. (2019)'s LeakyRNN.

    τ dx/dt = -x + W_rec f(x) + b_rec + W_in u + sqrt(2τ) σ_rec ξ,   r = f(x),   z = W_out r + b_out

Euler-discretised with α = dt/τ, exactly the recurrence of the E/I network (:mod:`agents.models.dynamics`,
its fused forward pass and hand-written BPTT), with every weight free in sign:

    x_t = (1 - α) x_{t-1} + α (W_rec r_{t-1} + b_rec + W_in u_t) + sqrt(2α) σ_rec N(0, 1)

What follows Yang et al. (2019; github.com/gyyang/multitask, ``LeakyRNNCell`` and ``get_default_hp``): τ = 100 ms,
σ_rec = 0.05, ReLU by default (softplus, tanh, rtanh = Yang's "retanh" and rectified_power = Yang's "power" too),
W_rec = gain · a random orthogonal matrix (``w_rec_init="randortho"``, Yang's default; also "diag": gain · I and
"randgauss": gain · N(0, 1/N)) with Yang's gain per nonlinearity (0.5 for relu, softplus and rtanh, 1 for tanh,
0.01 for rectified_power), W_in ~ N(0, 1/n_in), W_out Glorot-uniform, trained biases starting at 0, initial
state 0 (not trained), self-connections allowed. Input noise comes from the task, as in Yang's code.

What differs, on purpose: Yang's cell leaks the *rates*, r_t = (1 - α) r_{t-1} + α f(W_rec r_{t-1} + W_in u_t
+ b + sqrt(2/α) σ_rec ξ); this network leaks the *state* x (Song et al. 2016; this project's E/I network). The two
have the same fixed points (x* = W r* + I with r* = f(x*) ⇔ r* = f(W r* + I)) and the same linear stability
(the Jacobians -1 + W D and -1 + D W share eigenvalues); both add per-step noise of sd sqrt(2α) σ_rec to the
leaking variable (Yang's sqrt(2/α) σ_rec inside f, times α). They differ in transients under changing inputs
and in that Yang's noise passes through f. The readout is linear (Yang's ``lsq`` loss puts a sigmoid on it).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from agents.models import interface as arg
from agents.models.base import ContinuousTimeRNN

#: Yang's initial recurrent gain ``w_rec_start`` for each nonlinearity (``LeakyRNNCell``).
YANG_GAIN = {"relu": 0.5, "softplus": 0.5, "rtanh": 0.5, "tanh": 1.0, "rectified_power": 0.01}
W_REC_INITS = ("randortho", "diag", "randgauss")


def random_orthogonal(n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, n) orthogonal matrix drawn uniformly (Haar measure): the QR decomposition of a Gaussian matrix with
    the signs of R's diagonal moved into Q (the same distribution as Yang's ``gen_ortho_matrix``)."""
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))[None, :]


class LeakyRNN(ContinuousTimeRNN):
    """Leaky rate RNN without Dale's law (Yang et al. 2019's defaults are the defaults).

    Args:
        n_in, n_out: numbers of input and output channels (set from the task).
        n_units: N, recurrent units (default 100).
        tau: time constant τ in ms (default 100).
        sigma_rec: recurrent noise amplitude σ_rec (default 0.05; per-step sd sqrt(2 dt/τ) σ_rec).
        nonlinearity: f, one of relu (default), softplus, tanh, rtanh, rectified_power.
        w_rec_init: initial W_rec: "randortho" (default; gain x random orthogonal), "diag" (gain x identity)
            or "randgauss" (gain x N(0, 1/N)).
        w_rec_gain: the gain of ``w_rec_init`` (default None: Yang's, 0.5 for relu/softplus/rtanh, 1 for tanh,
            0.01 for rectified_power).
        self_connections: allow the diagonal of W_rec (default true, as Yang).
        train_bias: train b_rec and b_out, starting at 0 (default true, as Yang).
        x0: initial state of every unit (default 0); train_x0: train it (default false).
        seed: seed of the initial weights (default None: fresh entropy).
    """

    name = "rnn"

    def __init__(self, n_in: int, n_out: int, n_units: int = 100, tau: float = 100.0, sigma_rec: float = 0.05,
                 nonlinearity: str = "relu", w_rec_init: str = "randortho", w_rec_gain: float | None = None,
                 self_connections: bool = True, train_bias: bool = True, x0: float = 0.0, train_x0: bool = False,
                 seed: int | None = None) -> None:
        super().__init__(n_in, n_out, n_units, tau, sigma_rec, nonlinearity, x0, train_x0, train_bias)
        n = self.n_units
        w_rec_init = arg.one_of(w_rec_init, "w_rec_init", W_REC_INITS)
        gain = YANG_GAIN[self.nonlinearity] if w_rec_gain is None else arg.number(w_rec_gain, "w_rec_gain")
        self_connections = arg.boolean(self_connections, "self_connections")
        if w_rec_init == "diag" and not self_connections:
            raise ValueError("w_rec_init='diag' puts every initial weight on the diagonal: it needs "
                             "self_connections=true")
        seed = arg.seed_value(seed)
        self.w_rec_init, self.self_connections = w_rec_init, self_connections
        self.config.update({"w_rec_init": w_rec_init, "w_rec_gain": None if w_rec_gain is None else gain,
                            "self_connections": self_connections, "seed": seed})
        if not self_connections:
            self.mask_rec.fill_diagonal_(0.0)

        rng = np.random.default_rng(seed)
        if w_rec_init == "randortho":
            w_rec = gain * random_orthogonal(n, rng)
        elif w_rec_init == "diag":
            w_rec = gain * np.eye(n)
        else:
            w_rec = gain * rng.standard_normal((n, n)) / math.sqrt(n)
        w_in = rng.standard_normal((n, self.n_in)) / math.sqrt(self.n_in)
        limit = math.sqrt(6.0 / (n + self.n_out))                              # Glorot uniform (TF's default)
        w_out = rng.uniform(-limit, limit, size=(self.n_out, n))
        self.w_in = nn.Parameter(torch.tensor(w_in, dtype=torch.float32))
        self.w_rec = nn.Parameter(torch.tensor(w_rec, dtype=torch.float32) * self.mask_rec)
        self.w_out = nn.Parameter(torch.tensor(w_out, dtype=torch.float32))

    def weights(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """W_in, W_rec ⊙ M_rec, W_out ⊙ M_out (the masks are ones unless lesioned or without self-connections)."""
        return self.w_in, self.w_rec * self.mask_rec, self.w_out * self.mask_out

    def weight_gradients(self, grad_w_in: torch.Tensor, grad_w_rec: torch.Tensor, grad_w_out: torch.Tensor
                         ) -> dict[str, torch.Tensor]:
        """∂L/∂W_in as is, ∂L/∂W_rec ⊙ M_rec, ∂L/∂W_out ⊙ M_out."""
        return {"w_in": grad_w_in, "w_rec": grad_w_rec * self.mask_rec, "w_out": grad_w_out * self.mask_out}

    @torch.no_grad()
    def shrink_recurrent(self, factor: float) -> None:
        self.w_rec.mul_(float(factor))
