"""``lowrank``: a rank-r continuous-time rate RNN (Mastrogiuseppe & Ostojic 2018; Dubreuil et al. 2022).

    τ dx/dt = -x + W_rec f(x) + b_rec + W_in u + sqrt(2τ) σ_rec ξ,   W_rec = m nᵀ / N,   z = W_out f(x) + b_out

m and n are (N, r): the recurrent input to unit i is Σ_k m_ik κ_k with κ_k = n_kᵀ f(x) / N, so the collective
dynamics live in the r-dimensional span of m's columns (plus the inputs). Euler-discretised on the shared
recurrence of :mod:`agents.models.dynamics` (α = dt/τ, per-step noise sd sqrt(2α) σ_rec), whose hand-written BPTT
gives G = ∂L/∂W_rec; the trained vectors get theirs by the chain rule, written out in :meth:`weight_gradients`:

    ∂L/∂m = G n / N,   ∂L/∂n = Gᵀ m / N

With ``dale=True`` the effective recurrent weights obey Dale's law: W_rec = [m nᵀ / N]_+ · diag(ε), ε = +1 for
the first ``round(excitatory_fraction · N)`` units (excitatory) and -1 for the rest, so every unit's outgoing
weights share its sign whatever m and n become. Then W_rec is the rank-r structure's positive part, no longer of
rank r exactly, and the chain rule gains the mask: G' = (G · diag(ε)) ⊙ 1[m nᵀ > 0], ∂L/∂m = G' n / N,
∂L/∂n = G'ᵀ m / N. Input and readout weights stay signed.

Initialisation as Dubreuil et al.'s ``LowRankRNN`` (github.com/adrian-valente/lowrank_inference): m, n, W_in
~ N(0, 1), readout W_out ~ N(0, (4/N)²) (their w_o ~ N(0, 16) read out as w_oᵀ f(x) / N), tanh, x_0 = 0 and no
biases by default. Their noise is a per-step sd (5e-2 at α = 0.2); here σ_rec is the project's (per-step sd
sqrt(2α) σ_rec), default 0.05.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from agents.models import interface as arg
from agents.models import masks as masks_lib
from agents.models.base import ContinuousTimeRNN


class LowRankRNN(ContinuousTimeRNN):
    """Rank-r rate RNN, W_rec = m nᵀ / N (Dubreuil et al. 2022's initialisation).

    Args:
        n_in, n_out: numbers of input and output channels (set from the task).
        n_units: N, recurrent units (default 100).
        rank: r, the rank of m nᵀ, 1 <= r <= N (default 1).
        tau: time constant τ in ms (default 100).
        sigma_rec: recurrent noise amplitude σ_rec (default 0.05; per-step sd sqrt(2 dt/τ) σ_rec).
        nonlinearity: f, one of tanh (default), relu, softplus, rtanh, rectified_power.
        dale: Dale's law on the recurrent weights, W_rec = [m nᵀ / N]_+ · diag(±1) (default false).
        excitatory_fraction: share of excitatory units under ``dale`` (default 0.8; the first units).
        train_bias: train b_rec and b_out, starting at 0 (default false, as Dubreuil et al.).
        x0: initial state of every unit (default 0); train_x0: train it (default false).
        seed: seed of the initial weights (default None: fresh entropy).
    """

    name = "lowrank"
    NONLINEARITIES = ("tanh", "relu", "softplus", "rtanh", "rectified_power")

    def __init__(self, n_in: int, n_out: int, n_units: int = 100, rank: int = 1, tau: float = 100.0,
                 sigma_rec: float = 0.05, nonlinearity: str = "tanh", dale: bool = False,
                 excitatory_fraction: float = 0.8, train_bias: bool = False, x0: float = 0.0, train_x0: bool = False,
                 seed: int | None = None) -> None:
        super().__init__(n_in, n_out, n_units, tau, sigma_rec, nonlinearity, x0, train_x0, train_bias)
        n = self.n_units
        self.rank = arg.positive_int(rank, "rank")
        if self.rank > n:
            raise ValueError(f"rank must be <= n_units={n}, got {rank!r}")
        self.dale = arg.boolean(dale, "dale")
        excitatory_fraction = arg.number(excitatory_fraction, "excitatory_fraction", minimum=0.0, maximum=1.0)
        seed = arg.seed_value(seed)
        self.config.update({"rank": self.rank, "dale": self.dale, "excitatory_fraction": excitatory_fraction,
                            "seed": seed})
        #: the first n_exc units are excitatory under Dale's law (all N otherwise: no inhibitory units)
        self.n_exc = masks_lib.n_excitatory(n, excitatory_fraction) if self.dale else n
        signs = masks_lib.signs(n, excitatory_fraction) if self.dale else np.ones(n, np.float32)
        self.register_buffer("signs", torch.from_numpy(signs), persistent=False)     # from the config

        rng = np.random.default_rng(seed)
        self.m = nn.Parameter(torch.tensor(rng.standard_normal((n, self.rank)), dtype=torch.float32))
        self.n = nn.Parameter(torch.tensor(rng.standard_normal((n, self.rank)), dtype=torch.float32))
        self.w_in = nn.Parameter(torch.tensor(rng.standard_normal((n, self.n_in)), dtype=torch.float32))
        self.w_out = nn.Parameter(torch.tensor(rng.normal(0.0, 4.0 / n, size=(self.n_out, n)), dtype=torch.float32))

    def structure(self) -> torch.Tensor:
        """m nᵀ / N, (N, N): the low-rank part before Dale's law and masks."""
        return self.m @ self.n.t() / self.n_units

    def weights(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """W_in, W_rec = (m nᵀ/N or [m nᵀ/N]_+ diag(ε)) ⊙ M_rec, W_out ⊙ M_out."""
        w_rec = self.structure()
        if self.dale:
            w_rec = torch.relu(w_rec) * self.signs
        return self.w_in, w_rec * self.mask_rec, self.w_out * self.mask_out

    def weight_gradients(self, grad_w_in: torch.Tensor, grad_w_rec: torch.Tensor, grad_w_out: torch.Tensor
                         ) -> dict[str, torch.Tensor]:
        """∂L/∂m = G n / N and ∂L/∂n = Gᵀ m / N with G = ∂L/∂(m nᵀ/N) (see the module docstring)."""
        g = grad_w_rec * self.mask_rec
        if self.dale:
            g = g * self.signs * (self.structure() > 0)
        n = self.n_units
        return {"m": g @ self.n / n, "n": g.t() @ self.m / n, "w_in": grad_w_in, "w_out": grad_w_out * self.mask_out}

    @torch.no_grad()
    def shrink_recurrent(self, factor: float) -> None:
        """m and n each by sqrt(factor), so W_rec by ``factor`` (also under Dale's law: [c w]_+ = c [w]_+)."""
        root = math.sqrt(arg.number(factor, "factor", minimum=0.0))
        self.m.mul_(root)
        self.n.mul_(root)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, rank={self.rank}, dale={self.dale}"
