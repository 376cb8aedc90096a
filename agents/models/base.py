"""What the model classes share: the continuous-time rate network on the fused recurrence (``rnn``, ``lowrank``)
and the gated networks on PyTorch's fused kernels (``gru``, ``lstm``).

:class:`ContinuousTimeRNN` is the network of :mod:`agents.models.dynamics` (the same one the E/I network runs)

    x_t = (1 - α) x_{t-1} + α (W_rec r_{t-1} + b_rec + W_in u_t) + sqrt(2α) σ_rec ξ_t,   r_t = f(x_t),
    z_t = W_out r_t + b_out,   α = dt/τ,   ξ_t ~ N(0, 1)

(the Euler step of τ dx/dt = -x + W_rec f(x) + b_rec + W_in u + sqrt(2τ) σ_rec ξ). A subclass says how its
trained parameters make the effective (W_in, W_rec, W_out) (:meth:`~ContinuousTimeRNN.weights`) and how a
gradient with respect to those reaches its parameters (:meth:`~ContinuousTimeRNN.weight_gradients`, the chain
rule written out); the recurrence and its hand-written BPTT are shared. Every such network carries a recurrent
and a readout mask (buffers ``mask_rec`` (N, N) and ``mask_out`` (n_out, N), ones unless lesioned), so
:func:`agents.analysis.lesions.lesion_model` can silence units of any of them.

:class:`GatedNetwork` wraps ``nn.GRU`` / ``nn.LSTM`` (batch first, one layer) with a linear readout; rates are
the hidden states, one step per time step of the task.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from agents.models import interface as arg
from agents.models.dynamics import Buffers, OmegaTerm, RateNetwork, Trace, backward_pass, forward_pass


class ContinuousTimeRNN(nn.Module):
    """A leaky rate RNN on the fused recurrence; subclasses own the weights (see the module docstring).

    Args (checked here, shared by the subclasses):
        n_in, n_out, n_units: input channels, output channels, recurrent units N.
        tau: time constant τ in ms (shared by all units); ``forward`` needs dt <= τ.
        sigma_rec: recurrent noise amplitude σ_rec >= 0 (per-step sd sqrt(2α) σ_rec).
        nonlinearity: f, one of the subclass's ``NONLINEARITIES``.
        x0: initial state x_0 of every unit; train_x0: train it.
        train_bias: train b_rec and b_out (zero at first); otherwise they stay 0.
    """

    #: the registry name of the model
    name: ClassVar[str] = ""
    #: the nonlinearities a subclass accepts
    NONLINEARITIES: ClassVar[tuple[str, ...]] = ("relu", "softplus", "tanh", "rtanh", "rectified_power")

    def __init__(self, n_in: int, n_out: int, n_units: int, tau: float, sigma_rec: float, nonlinearity: str,
                 x0: float, train_x0: bool, train_bias: bool) -> None:
        super().__init__()
        self.n_in = arg.positive_int(n_in, "n_in")
        self.n_out = arg.positive_int(n_out, "n_out")
        self.n_units = n = arg.positive_int(n_units, "n_units")
        #: the time constant every unit shares (ms)
        self.shared_tau = arg.number(tau, "tau", above=0.0)
        self.sigma_rec = arg.number(sigma_rec, "sigma_rec", minimum=0.0)
        self.nonlinearity = arg.one_of(nonlinearity, "nonlinearity", self.NONLINEARITIES)
        x0 = arg.number(x0, "x0")
        train_x0, train_bias = arg.boolean(train_x0, "train_x0"), arg.boolean(train_bias, "train_bias")
        #: the constructor's arguments, JSON-able (a subclass adds its own)
        self.config: dict[str, Any] = {
            "n_in": self.n_in, "n_out": self.n_out, "n_units": n, "tau": self.shared_tau,
            "sigma_rec": self.sigma_rec, "nonlinearity": self.nonlinearity, "x0": x0, "train_x0": train_x0,
            "train_bias": train_bias,
        }
        # τ follows from the config, so it is not saved with the weights
        self.register_buffer("tau", torch.full((n,), self.shared_tau), persistent=False)
        self.register_buffer("mask_rec", torch.ones(n, n))
        self.register_buffer("mask_out", torch.ones(self.n_out, n))
        self.b_rec = nn.Parameter(torch.zeros(n), requires_grad=train_bias)
        self.b_out = nn.Parameter(torch.zeros(self.n_out), requires_grad=train_bias)
        self.x0 = nn.Parameter(torch.full((n,), x0), requires_grad=train_x0)

    # ------------------------------------------------------------------ what a subclass provides
    def weights(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Effective (W_in (N, n_in), W_rec (N, N), W_out (n_out, N)) as differentiable tensors."""
        raise NotImplementedError

    def weight_gradients(self, grad_w_in: torch.Tensor, grad_w_rec: torch.Tensor, grad_w_out: torch.Tensor
                         ) -> dict[str, torch.Tensor]:
        """Gradients of the subclass's weight parameters (by name) from those of the effective matrices."""
        raise NotImplementedError

    def shrink_recurrent(self, factor: float) -> None:
        """Scale the effective recurrent weights by ``factor`` (the trainer's response to a diverging update)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ shared
    def effective_weights(self) -> dict[str, np.ndarray]:
        """The weights the network actually uses, as NumPy arrays (what the fixed-point analysis reads)."""
        with torch.no_grad():
            w_in, w_rec, w_out = self.weights()
            tensors = {"W_in": w_in, "W_rec": w_rec, "W_out": w_out, "b_rec": self.b_rec, "b_out": self.b_out,
                       "x0": self.x0}
            return {k: v.detach().cpu().numpy().copy() for k, v in tensors.items()}

    def alpha(self, dt: float) -> torch.Tensor:
        """(N,) α = dt/τ; dt must not exceed τ (Euler integration)."""
        dt = arg.check_dt(dt)
        if dt > self.shared_tau:
            raise ValueError(f"dt={dt} ms exceeds the time constant tau={self.shared_tau} ms; "
                             "Euler integration needs dt <= tau")
        key = (dt, self.tau.data_ptr(), self.tau.dtype)
        cached = getattr(self, "_alpha_cache", None)
        if cached is not None and cached[0] == key:                 # the same dt update after update
            return cached[1]
        alpha = dt / self.tau
        self._alpha_cache = (key, alpha)
        return alpha

    def draw_noise(self, n_trials: int, n_steps: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Standard normal noise for one ``forward`` call, drawn ahead of time (e.g. on another core while the
        previous update trains); pass it as ``forward(..., noise_workspace=...)``, which uses it up."""
        workspace = torch.empty((n_steps + 1, n_trials, self.n_units), device=self.tau.device, dtype=self.tau.dtype)
        workspace[1:].normal_(0.0, 1.0, generator=generator)
        return workspace

    def _run_arguments(self, inputs: torch.Tensor, dt: float, noise: bool, noise_workspace: torch.Tensor | None,
                       check_finite: bool = True) -> tuple:
        """Checked, time-major arguments of the fused recurrence (weights as autograd makes them now)."""
        arg.check_inputs(inputs, self.n_in)
        if check_finite:
            arg.check_finite(inputs)
        alpha = self.alpha(dt)
        w_in, w_rec, w_out = self.weights()
        u = inputs.to(w_in.dtype).transpose(0, 1).contiguous()               # (T, B, n_in), time-major
        a = float(dt) / self.shared_tau
        noise_sd = math.sqrt(2.0 * a) * self.sigma_rec if noise and self.sigma_rec > 0 else None
        if noise_workspace is not None:
            expected = (u.shape[0] + 1, u.shape[1], self.n_units)
            if tuple(noise_workspace.shape) != expected:
                raise ValueError(f"noise_workspace must have shape {expected} (from draw_noise), "
                                 f"got {tuple(noise_workspace.shape)}")
            if noise_sd is None:
                noise_workspace = None
        return u, w_in, w_rec, w_out, alpha, noise_sd, noise_workspace, a

    def forward(self, inputs: torch.Tensor, dt: float, noise: bool = True, generator: torch.Generator | None = None,
                omega: OmegaTerm | None = None, noise_workspace: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """Run trials: ``inputs`` (B, T, n_in) -> outputs (B, T, n_out), rates (B, T, N).

        ``noise=False`` runs the noiseless network; ``generator`` seeds the recurrent noise; ``omega`` asks the
        backward pass for the vanishing-gradient regulariser Ω (:class:`agents.models.dynamics.OmegaTerm`);
        ``noise_workspace`` (from :meth:`draw_noise`) supplies the noise instead of drawing it now.
        """
        u, w_in, w_rec, w_out, alpha, noise_sd, workspace, a = self._run_arguments(inputs, dt, noise,
                                                                                     noise_workspace)
        outputs, rates = RateNetwork.apply(u, w_in, self.b_rec, w_rec, self.x0, w_out, self.b_out, alpha, noise_sd,
                                           generator, self.nonlinearity, omega, workspace, a)
        return outputs.transpose(0, 1), rates.transpose(0, 1)

    @torch.no_grad()
    def run_traced(self, inputs: torch.Tensor, dt: float, noise: bool = True,
                   generator: torch.Generator | None = None, noise_workspace: torch.Tensor | None = None,
                   buffers: Buffers | None = None, check_finite: bool = True
                   ) -> tuple[torch.Tensor, torch.Tensor, Trace]:
        """:meth:`forward` without autograd, for a training step that runs the backward pass itself
        (:meth:`backward_traced`): outputs (T, B, n_out) and rates (T, B, N), *time-major*, and the trace of
        the run. ``buffers`` are reused if given; ``check_finite=False`` skips the inputs' NaN/Inf check."""
        u, w_in, w_rec, w_out, alpha, noise_sd, workspace, a = self._run_arguments(inputs, dt, noise,
                                                                                     noise_workspace, check_finite)
        return forward_pass(u, w_in, self.b_rec, w_rec, self.x0, w_out, self.b_out, alpha, noise_sd, generator,
                            self.nonlinearity, workspace, a, buffers)

    @torch.no_grad()
    def backward_traced(self, trace: Trace, grad_outputs: torch.Tensor | None,
                        grad_rates: torch.Tensor | None = None, omega: OmegaTerm | None = None
                        ) -> dict[str, torch.Tensor]:
        """The hand-written BPTT of one :meth:`run_traced`: ∂L/∂θ for every trained parameter θ, by name (in
        ``named_parameters`` order). ``grad_outputs`` (T, B, n_out) and ``grad_rates`` (T, B, N) are ∂L/∂z and
        ∂L/∂r, time-major (None: no such term); ``omega`` adds λ_Ω ∂Ω/∂W_rec as in :meth:`forward`."""
        needs = (False, True, self.b_rec.requires_grad, True, self.x0.requires_grad, True, self.b_out.requires_grad)
        _, g_in, g_b_rec, g_rec, g_x0, g_out, g_b_out = backward_pass(trace, grad_outputs, grad_rates, omega, needs)
        if g_out is None:                                                  # no loss on the outputs
            g_out, g_b_out = torch.zeros_like(trace.w_out), torch.zeros_like(self.b_out)
        grads = self.weight_gradients(g_in, g_rec, g_out)
        grads.update({"b_rec": g_b_rec, "x0": g_x0, "b_out": g_b_out})
        return {name: grads[name] for name, p in self.named_parameters() if p.requires_grad}

    def check_finite(self, inputs: torch.Tensor) -> None:
        """ValueError if ``inputs`` hold NaN or Inf."""
        arg.check_finite(inputs)

    def extra_repr(self) -> str:
        return (f"n_in={self.n_in}, n_out={self.n_out}, n_units={self.n_units}, tau={self.shared_tau}, "
                f"nonlinearity={self.nonlinearity}")


class GatedNetwork(nn.Module):
    """``nn.GRU`` or ``nn.LSTM`` (one layer, batch first) and a linear readout z_t = W_out h_t + b_out.

    A discrete-time map: one step per time step of the task, whatever ``dt`` (which ``forward`` accepts
    for the common surface and ignores), so a network trained at one dt runs at another only as a different
    system. No recurrent noise (``sigma_rec`` is 0; ``noise`` and ``generator`` are accepted and ignored):
    trial-to-trial variability comes from the task's input noise. The initial state is 0.

    The initial weights are PyTorch's default (every recurrent weight and bias U(-1/√N, 1/√N), the readout
    as ``nn.Linear``: U(-1/√N, 1/√N)), drawn from ``seed`` without touching torch's global RNG.
    """

    name: ClassVar[str] = ""
    #: ``nn.GRU`` or ``nn.LSTM``, and its number of gate blocks in ``weight_hh_l0``
    module: ClassVar[type[nn.RNNBase]]
    n_gates: ClassVar[int]
    sigma_rec = 0.0

    def __init__(self, n_in: int, n_out: int, n_units: int, seed: int | None) -> None:
        super().__init__()
        self.n_in = arg.positive_int(n_in, "n_in")
        self.n_out = arg.positive_int(n_out, "n_out")
        self.n_units = n = arg.positive_int(n_units, "n_units")
        seed = arg.seed_value(seed)
        # made on the meta device (no values, so PyTorch's own initialisation draws nothing from the global RNG),
        # then given memory and filled from the seed
        self.recurrent = self.module(self.n_in, n, batch_first=True, device="meta").to_empty(device="cpu")
        self.readout = nn.Linear(n, self.n_out, device="meta").to_empty(device="cpu")
        rng = np.random.default_rng(seed)
        bound = 1.0 / math.sqrt(n)
        with torch.no_grad():
            for p in (*self.recurrent.parameters(), self.readout.weight, self.readout.bias):
                p.copy_(torch.from_numpy(rng.uniform(-bound, bound, size=tuple(p.shape))))

    def forward(self, inputs: torch.Tensor, dt: float, noise: bool = True, generator: torch.Generator | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """Run trials: ``inputs`` (B, T, n_in) -> outputs (B, T, n_out), rates = hidden states (B, T, N).
        ``dt``, ``noise`` and ``generator`` are checked and ignored (see the class docstring)."""
        arg.check_dt(dt)
        arg.check_inputs(inputs, self.n_in)
        arg.check_finite(inputs)
        hidden, _ = self.recurrent(inputs.to(self.readout.weight.dtype))
        return self.readout(hidden), hidden

    def weights(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(W_ih (G·N, n_in), W_hh (G·N, N), W_out (n_out, N)), G the number of gate blocks."""
        return self.recurrent.weight_ih_l0, self.recurrent.weight_hh_l0, self.readout.weight

    @torch.no_grad()
    def shrink_recurrent(self, factor: float) -> None:
        """Scale the recurrent weights W_hh by ``factor``."""
        self.recurrent.weight_hh_l0.mul_(float(factor))

    @torch.no_grad()
    def lesioned(self, rec_mask: Any, out_column_mask: Any) -> GatedNetwork:
        """A copy whose recurrent weights (every gate block of W_hh) are multiplied by ``rec_mask`` (N, N) and
        readout columns by ``out_column_mask`` (N,): a zero column j means unit j reaches no gate of any unit
        and not the readout (what :func:`agents.analysis.lesions.lesion_model` asks for)."""
        n = self.n_units
        rec = torch.as_tensor(np.asarray(rec_mask, dtype=np.float64))
        out_columns = torch.as_tensor(np.asarray(out_column_mask, dtype=np.float64))
        if rec.shape != (n, n) or out_columns.shape != (n,):
            raise ValueError(f"rec_mask must be ({n}, {n}) and out_column_mask ({n},), got {tuple(rec.shape)} and "
                             f"{tuple(out_columns.shape)}")
        copy_ = copy.deepcopy(self)
        w_hh = copy_.recurrent.weight_hh_l0
        w_hh.view(self.n_gates, n, n).mul_(rec.to(w_hh.dtype))
        copy_.readout.weight.mul_(out_columns.to(w_hh.dtype)[None, :])
        return copy_

    # ------------------------------------------------------------------ the one-step map, for the analyses
    def _gate_weights(self, dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, ...]:
        r = self.recurrent
        return tuple(w.detach().to(dtype) for w in (r.weight_ih_l0, r.weight_hh_l0, r.bias_ih_l0, r.bias_hh_l0))

    def step(self, state: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        """The state after one time step from ``state`` (K, state size) with ``inputs`` (K or 1, n_in), written
        out from the trained weights (differentiable; ``forward`` runs the same map as PyTorch's fused kernel)."""
        r = self.recurrent
        return self._step(state, inputs, r.weight_ih_l0, r.weight_hh_l0, r.bias_ih_l0, r.bias_hh_l0)

    def velocity(self, inputs: Any = None) -> Callable[[torch.Tensor], torch.Tensor]:
        """F(s) = step(s, u) - s with the input held at ``inputs`` (n_in,) (zeros if None), in float64: its zeros
        are the fixed points of the map, for :func:`agents.analysis.fixed_points.find_fixed_points`.

        A discrete map is stable where every eigenvalue λ of ∂F/∂s has |1 + λ| < 1 (not Re λ < 0, the
        continuous-time rule behind ``FixedPoints.stable``): read stability from ``eigenvalues``.
        """
        u = torch.zeros(self.n_in, dtype=torch.float64) if inputs is None \
            else torch.as_tensor(np.asarray(inputs, dtype=np.float64)).reshape(-1)
        if u.shape[0] != self.n_in:
            raise ValueError(f"inputs must have n_in={self.n_in} entries, got {u.shape[0]}")
        weights = self._gate_weights()
        return lambda s: self._step(s, u[None, :], *weights) - s

    def _step(self, state: torch.Tensor, u: torch.Tensor, w_ih: torch.Tensor, w_hh: torch.Tensor,
              b_ih: torch.Tensor, b_hh: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def extra_repr(self) -> str:
        return f"n_in={self.n_in}, n_out={self.n_out}, n_units={self.n_units}"
