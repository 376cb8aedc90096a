"""EIRNN: the excitatory/inhibitory continuous-time rate RNN of Song, Yang & Wang (2016).

    τ dx/dt = -x + W_rec r + b_rec + W_in u + sqrt(2τ) σ_rec ξ,    r = f(x),    z = W_out r + b_out

Euler-discretised with α = dt/τ (Eqs 7-9):

    x_t = (1 - α) x_{t-1} + α (W_rec r_{t-1} + b_rec + W_in u_t) + sqrt(2α) σ_rec N(0, 1)

``dt`` is an argument of ``forward`` (it comes from the trial batch), so a network trained at
20 ms runs unchanged at 1 ms. Dale's law is a reparametrisation (Eq 14): the trained matrices are
unconstrained and the effective ones are

    W_rec = [M_rec ⊙ W_rec,plastic + W_rec,fixed]_+ · diag(ε),   ε = +1 (first 80 % of units), -1 (the rest)
    W_in  = [M_in ⊙ W_in,plastic]_+,     W_out = [M_out ⊙ W_out,plastic]_+ · diag(ε)

so any optimizer update keeps every sign, mask and fixed weight. ``positivity="abs"`` uses |.|
instead of [.]_+; ``dale=False`` drops signs and positivity (masks still apply).

The readout (``readout``): ``"excitatory"`` (the default, the paper's choice for most tasks: "long-range
projections in the mammalian cortex are exclusively excitatory") zeroes the inhibitory columns of M_out, so
W_out >= 0; ``"all"`` reads out from every unit with Dale's signs, W_out = W_out,+ D (Song et al. 2016, "Dale's
principle": "the output weights are parametrized as Wout = Wout,+ D"; pycog's ``Wout_ = make_positive(Wout_)*ei``),
so inhibitory units pull the outputs negative: the paper's sequence-execution network "did not limit readout to
excitatory units to allow for negative coordinates" (Fig 8).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import nn

from agents.models import init as initialisation
from agents.models import masks as masks_lib
from agents.models.dynamics import NONLINEARITIES, Buffers, OmegaTerm, RateNetwork, Trace, forward_pass

POSITIVITY = ("rectify", "abs")
READOUTS = ("excitatory", "all")


class EIRNN(nn.Module):
    """Excitatory/inhibitory rate RNN (pycog's defaults are the defaults).

    Args:
        n_in, n_out: numbers of input and output channels.
        n_units: N, recurrent units; the first ``round(excitatory_fraction * N)`` are excitatory.
        tau: time constant in ms, one float or an (N,) array (e.g. faster inhibitory units).
        sigma_rec: recurrent noise amplitude σ_rec (per-step sd sqrt(2α) σ_rec).
        nonlinearity: f, one of ``NONLINEARITIES`` (relu, tanh, rtanh, softplus,
            rectified_power = relu(x)², sigmoid, linear).
        dale: E/I signs and non-negative input/output weights.
        positivity: "rectify" ([w]_+, the paper) or "abs" (|w|).
        readout: "excitatory" (only E units project out, W_out >= 0) or "all" (every unit, with its Dale
            sign: inhibitory units' readout weights are <= 0; without Dale's law, signed weights).
        rho: spectral radius of the initial effective W_rec.
        mask_in, mask_rec, mask_out: 0/1 arrays shaped (N, n_in), (N, N), (n_out, N); see
            :mod:`agents.models.masks`.
        fixed_rec: (N, N) fixed recurrent magnitudes (signed weights if ``dale=False``), added
            where ``mask_rec`` is 0 and never trained.
        self_connections: allow the diagonal of W_rec.
        train_bias: train b_rec and b_out (otherwise they stay 0).
        train_x0: train the initial state x_0.
        x0: initial state, a float or an (N,) array.
        seed: seed of the initial weights.
    """

    def __init__(self, n_in: int, n_out: int, n_units: int = 100, excitatory_fraction: float = 0.8,
                 tau: float | np.ndarray | list = 100.0, sigma_rec: float = 0.15, nonlinearity: str = "relu",
                 dale: bool = True, positivity: str = "rectify", readout: str = "excitatory", rho: float = 1.5,
                 mask_in: Any = None, mask_rec: Any = None, mask_out: Any = None, fixed_rec: Any = None,
                 self_connections: bool = False, train_bias: bool = False, train_x0: bool = True,
                 x0: float | np.ndarray | list = 0.1, seed: int | None = None) -> None:
        super().__init__()
        for name, value in (("n_in", n_in), ("n_out", n_out), ("n_units", n_units)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        n_in, n_out, n = int(n_in), int(n_out), int(n_units)
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(f"nonlinearity must be one of {sorted(NONLINEARITIES)}, got {nonlinearity!r}")
        if positivity not in POSITIVITY:
            raise ValueError(f"positivity must be one of {POSITIVITY}, got {positivity!r}")
        if readout not in READOUTS:
            raise ValueError(f"readout must be one of {READOUTS}, got {readout!r}")
        if not (isinstance(sigma_rec, (int, float)) and math.isfinite(sigma_rec) and sigma_rec >= 0):
            raise ValueError(f"sigma_rec must be a finite number >= 0, got {sigma_rec!r}")
        if not (isinstance(rho, (int, float)) and math.isfinite(rho) and rho >= 0):
            raise ValueError(f"rho must be a finite number >= 0, got {rho!r}")
        self.n_in, self.n_out, self.n_units = n_in, n_out, n
        self.n_exc = masks_lib.n_excitatory(n, excitatory_fraction)
        self.nonlinearity = nonlinearity
        self.dale, self.positivity, self.readout = bool(dale), positivity, readout
        self.sigma_rec = float(sigma_rec)

        tau_arr = _per_unit(tau, n, "tau")
        if np.any(tau_arr <= 0):
            raise ValueError(f"tau must be > 0, got {tau!r}")
        x0_arr = _per_unit(x0, n, "x0")
        m_in = _mask(mask_in, (n, n_in), "mask_in")
        m_rec = _mask(mask_rec, (n, n), "mask_rec")
        m_out = _mask(mask_out, (n_out, n), "mask_out")
        if not self_connections:
            np.fill_diagonal(m_rec, 0.0)
        if readout == "excitatory":
            m_out[:, self.n_exc:] = 0.0
        fixed = np.zeros((n, n), np.float32) if fixed_rec is None else _array(fixed_rec, (n, n), "fixed_rec")
        if np.any((fixed != 0) & (m_rec != 0)):
            raise ValueError("fixed_rec must be 0 wherever mask_rec allows a trained connection")
        if self.dale and np.any(fixed < 0):
            raise ValueError("fixed_rec holds magnitudes under Dale's law (signs come from E/I); got negative values")

        self.config: dict[str, Any] = {
            "n_in": n_in, "n_out": n_out, "n_units": n, "excitatory_fraction": float(excitatory_fraction),
            "tau": _jsonable(tau), "sigma_rec": float(sigma_rec), "nonlinearity": nonlinearity, "dale": bool(dale),
            "positivity": positivity, "readout": readout, "rho": float(rho), "mask_in": _jsonable(mask_in),
            "mask_rec": _jsonable(mask_rec), "mask_out": _jsonable(mask_out), "fixed_rec": _jsonable(fixed_rec),
            "self_connections": bool(self_connections), "train_bias": bool(train_bias), "train_x0": bool(train_x0),
            "x0": _jsonable(x0), "seed": seed,
        }

        self.register_buffer("tau", torch.from_numpy(tau_arr))
        #: the time constant every unit shares, if they do (lets the recurrence use scalar ops)
        self.shared_tau: float | None = float(tau_arr[0]) if np.all(tau_arr == tau_arr[0]) else None
        self.register_buffer("signs", torch.from_numpy(masks_lib.signs(n, excitatory_fraction)
                                                       if self.dale else np.ones(n, np.float32)))
        self.register_buffer("mask_in", torch.from_numpy(m_in))
        self.register_buffer("mask_rec", torch.from_numpy(m_rec))
        self.register_buffer("mask_out", torch.from_numpy(m_out))
        #: W_out carries Dale's signs ε (readout "all"); readout "excitatory" masks the inhibitory columns and applies
        #: no sign, so its numbers stay those of a plain [.]_+
        self.signed_readout = self.dale and readout == "all"
        self.register_buffer("fixed_rec", torch.from_numpy(fixed))

        rng = np.random.default_rng(seed)
        if self.dale:
            w_rec = initialisation.balanced_gamma(m_rec, self.n_exc, rng)
        else:
            w_rec = initialisation.gaussian(m_rec, rng)
        w_rec = initialisation.scale_to_radius(w_rec, self._effective_rec_numpy, float(rho))
        w_in = initialisation.uniform_small((n, n_in), m_in, rng)
        w_out = initialisation.uniform_small((n_out, n), m_out, rng)
        self.w_in = nn.Parameter(torch.tensor(w_in, dtype=torch.float32))
        self.w_rec = nn.Parameter(torch.tensor(w_rec, dtype=torch.float32))
        self.w_out = nn.Parameter(torch.tensor(w_out, dtype=torch.float32))
        self.b_rec = nn.Parameter(torch.zeros(n), requires_grad=bool(train_bias))
        self.b_out = nn.Parameter(torch.zeros(n_out), requires_grad=bool(train_bias))
        self.x0 = nn.Parameter(torch.from_numpy(x0_arr.copy()), requires_grad=bool(train_x0))

    # ------------------------------------------------------------------ weights
    def _positive(self, w: torch.Tensor) -> torch.Tensor:
        if not self.dale:
            return w
        return torch.relu(w) if self.positivity == "rectify" else torch.abs(w)

    def _effective_rec_numpy(self, plastic: np.ndarray) -> np.ndarray:
        w = torch.from_numpy(np.asarray(plastic, np.float64)) * self.mask_rec.double() + self.fixed_rec.double()
        return (self._positive(w) * self.signs.double()[None, :]).numpy()

    def weights(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Effective (W_in, W_rec, W_out) as differentiable tensors."""
        w_in = self._positive(self.w_in * self.mask_in)
        w_rec = self._positive(self.w_rec * self.mask_rec + self.fixed_rec) * self.signs
        w_out = self._positive(self.w_out * self.mask_out)
        if self.signed_readout:
            w_out = w_out * self.signs
        return w_in, w_rec, w_out

    def effective_weights(self) -> dict[str, np.ndarray]:
        """The weights the network actually uses, as NumPy arrays."""
        with torch.no_grad():
            w_in, w_rec, w_out = self.weights()
            return {"W_in": w_in.cpu().numpy().copy(), "W_rec": w_rec.cpu().numpy().copy(),
                    "W_out": w_out.cpu().numpy().copy(), "b_rec": self.b_rec.detach().cpu().numpy().copy(),
                    "b_out": self.b_out.detach().cpu().numpy().copy(), "x0": self.x0.detach().cpu().numpy().copy()}

    @torch.no_grad()
    def prune(self, w_min: float = 1e-4) -> int:
        """Remove every weight whose effective magnitude is below ``w_min`` (done after training, as in the
        paper, against extreme fine-tuning). Returns how many connections were removed."""
        w_in, w_rec, w_out = self.weights()
        removed = 0
        for plastic, effective in ((self.w_in, w_in), (self.w_rec, w_rec), (self.w_out, w_out)):
            small = (effective.abs() < w_min) & (effective != 0)
            removed += int(small.sum())
            plastic[effective.abs() < w_min] = 0.0
        self.fixed_rec[w_rec.abs() < w_min] = 0.0
        return removed

    # ------------------------------------------------------------------ dynamics
    def alpha(self, dt: float) -> torch.Tensor:
        """(N,) α = dt/τ."""
        if not (isinstance(dt, (int, float, np.floating, np.integer)) and math.isfinite(dt) and dt > 0):
            raise ValueError(f"dt must be a finite number > 0, got {dt!r}")
        key = (float(dt), self.tau.data_ptr(), self.tau._version)
        cached = getattr(self, "_alpha_cache", None)
        if cached is not None and cached[0] == key:                 # the same dt update after update
            return cached[1]
        alpha = float(dt) / self.tau
        too_coarse = float(dt) > self.shared_tau if self.shared_tau is not None else bool(torch.any(alpha > 1.0))
        if too_coarse:
            raise ValueError(f"dt={dt} ms exceeds the smallest time constant tau={float(self.tau.min())} ms; "
                             "Euler integration needs dt <= tau")
        self._alpha_cache = (key, alpha)
        return alpha

    def draw_noise(self, n_trials: int, n_steps: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Standard normal noise for one ``forward`` call, drawn ahead of time (a trainer can draw the next
        batch's noise on another core while this one trains). Pass it as ``forward(..., noise_workspace=...)``."""
        workspace = torch.empty((n_steps + 1, n_trials, self.n_units), device=self.tau.device)
        workspace[1:].normal_(0.0, 1.0, generator=generator)
        return workspace

    def _run_arguments(self, inputs: torch.Tensor, dt: float, noise: bool, noise_workspace: torch.Tensor | None,
                       check_finite: bool = True) -> tuple:
        """Checked, time-major arguments of the fused recurrence (weights as autograd makes them now)."""
        if not isinstance(inputs, torch.Tensor):
            raise TypeError(f"inputs must be a torch.Tensor, got {type(inputs).__name__}")
        if inputs.dim() != 3 or inputs.shape[-1] != self.n_in:
            raise ValueError(f"inputs must have shape (B, T, n_in={self.n_in}), got {tuple(inputs.shape)}")
        if inputs.shape[0] == 0 or inputs.shape[1] == 0:
            raise ValueError(f"inputs must hold at least one trial and one step, got {tuple(inputs.shape)}")
        if check_finite:
            self.check_finite(inputs)
        alpha = self.alpha(dt)
        w_in, w_rec, w_out = self.weights()
        u = inputs.to(w_in.dtype).transpose(0, 1).contiguous()               # (T, B, n_in), time-major
        noise_sd: torch.Tensor | float | None = None
        if noise and self.sigma_rec > 0:
            noise_sd = (math.sqrt(2.0 * float(dt) / self.shared_tau) * self.sigma_rec if self.shared_tau is not None
                        else torch.sqrt(2.0 * alpha) * self.sigma_rec)
        if noise_workspace is not None:
            expected = (u.shape[0] + 1, u.shape[1], self.n_units)
            if tuple(noise_workspace.shape) != expected:
                raise ValueError(f"noise_workspace must have shape {expected} (from draw_noise), "
                                 f"got {tuple(noise_workspace.shape)}")
            if noise_sd is None:
                noise_workspace = None
        alpha_scalar = None if self.shared_tau is None else float(dt) / self.shared_tau
        return u, w_in, w_rec, w_out, alpha, noise_sd, noise_workspace, alpha_scalar

    def forward(self, inputs: torch.Tensor, dt: float, noise: bool = True, generator: torch.Generator | None = None,
                omega: OmegaTerm | None = None, noise_workspace: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """Run trials. ``inputs`` (B, T, n_in) -> outputs (B, T, n_out), rates (B, T, N).

        ``generator`` seeds the recurrent noise; ``omega`` asks the backward pass for the vanishing-gradient
        regulariser (see :class:`agents.models.dynamics.OmegaTerm`); ``noise_workspace`` (from
        :meth:`draw_noise`, used up by the call) supplies the noise instead of drawing it now.
        """
        u, w_in, w_rec, w_out, alpha, noise_sd, workspace, alpha_scalar = self._run_arguments(
            inputs, dt, noise, noise_workspace)
        outputs, rates = RateNetwork.apply(u, w_in, self.b_rec, w_rec, self.x0, w_out, self.b_out, alpha, noise_sd,
                                           generator, self.nonlinearity, omega, workspace, alpha_scalar)
        return outputs.transpose(0, 1), rates.transpose(0, 1)

    @staticmethod
    def check_finite(inputs: torch.Tensor) -> None:
        """ValueError if ``inputs`` hold NaN or Inf."""
        # a finite sum means every entry is finite (NaN and ±Inf propagate); only otherwise check entry by entry
        if not math.isfinite(float(inputs.sum())) and not bool(torch.isfinite(inputs).all()):
            raise ValueError("inputs contain NaN or Inf values")

    @torch.no_grad()
    def run_traced(self, inputs: torch.Tensor, dt: float, noise: bool = True,
                   generator: torch.Generator | None = None, noise_workspace: torch.Tensor | None = None,
                   buffers: Buffers | None = None, check_finite: bool = True
                   ) -> tuple[torch.Tensor, torch.Tensor, Trace]:
        """:meth:`forward` without autograd, for a training step that runs the backward pass itself
        (:func:`agents.models.dynamics.backward_pass`, then :meth:`plastic_gradients`): outputs (T, B, n_out) and
        rates (T, B, N), *time-major*, and the trace of the run. ``buffers`` are reused if given.
        ``check_finite=False`` skips the inputs' NaN/Inf check (for a caller that checks a non-finite loss
        with :meth:`check_finite` instead: NaN and Inf inputs always reach every output)."""
        u, w_in, w_rec, w_out, alpha, noise_sd, workspace, alpha_scalar = self._run_arguments(
            inputs, dt, noise, noise_workspace, check_finite)
        return forward_pass(u, w_in, self.b_rec, w_rec, self.x0, w_out, self.b_out, alpha, noise_sd, generator,
                            self.nonlinearity, workspace, alpha_scalar, buffers)

    @torch.no_grad()
    def plastic_gradients(self, grad_w_in: torch.Tensor, grad_w_rec: torch.Tensor, grad_w_out: torch.Tensor,
                          effective: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None,
                          out: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None
                          ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Gradients of the trained matrices from those of the effective ones (the chain rule through
        :meth:`weights`, written out: masks, signs and [.]_+ or |.|). ``effective``: the current
        :meth:`weights`, if at hand (saves recomputing them); ``out``: where to write the results."""
        grads = (grad_w_in, grad_w_rec, grad_w_out)
        masks = (self.mask_in, self.mask_rec, self.mask_out)
        if self.dale and self.positivity == "rectify" and effective is not None:
            # d/dP [M ⊙ P + F]_+ ε_j = M ε_j 1[M ⊙ P + F > 0] = M sign(W_eff): one formula for all three (W_in
            # has no ε, W_out's is 1 unless readout "all": sign(W_eff) carries it either way)
            outs = out if out is not None else (None, None, None)
            return tuple(torch.mul(g, torch.sign(w), out=o).mul_(m)
                         for g, w, m, o in zip(grads, effective, masks, outs, strict=True))
        result = self._plastic_gradients(*grads)
        if out is None:
            return result
        return tuple(o.copy_(r) for o, r in zip(out, result, strict=True))

    def _plastic_gradients(self, grad_w_in: torch.Tensor, grad_w_rec: torch.Tensor, grad_w_out: torch.Tensor
                           ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        pre_in = self.w_in * self.mask_in
        pre_rec = self.w_rec * self.mask_rec + self.fixed_rec
        pre_out = self.w_out * self.mask_out
        return (self._positive_backward(pre_in, grad_w_in).mul_(self.mask_in),
                self._positive_backward(pre_rec, grad_w_rec * self.signs).mul_(self.mask_rec),
                self._positive_backward(pre_out, grad_w_out * self.signs if self.signed_readout
                                        else grad_w_out).mul_(self.mask_out))

    def _positive_backward(self, pre: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
        if not self.dale:
            return grad.clone()
        if self.positivity == "rectify":
            return grad * (pre > 0)
        return grad * torch.sgn(pre)

    def extra_repr(self) -> str:
        return (f"n_in={self.n_in}, n_out={self.n_out}, n_units={self.n_units} ({self.n_exc} E), "
                f"nonlinearity={self.nonlinearity}, dale={self.dale}")


# ---------------------------------------------------------------------- argument helpers
def _array(value: Any, shape: tuple[int, ...], name: str) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an array of numbers") from None
    if arr.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or Inf")
    return arr.copy()


def _mask(value: Any, shape: tuple[int, ...], name: str) -> np.ndarray:
    if value is None:
        return np.ones(shape, np.float32)
    arr = _array(value, shape, name)
    if np.any(arr < 0):
        raise ValueError(f"{name} must be non-negative (0 = no connection)")
    return arr


def _per_unit(value: Any, n: int, name: str) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float32)
    if arr.ndim == 0:
        arr = np.full(n, float(arr), np.float32)
    if arr.shape != (n,):
        raise ValueError(f"{name} must be a number or have shape ({n},), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or Inf")
    return arr


def _jsonable(value: Any) -> Any:
    """Arrays -> (nested) lists, integers where every entry is a whole number (compact masks)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    arr = np.asarray(value, dtype=np.float64)
    if np.all(arr == np.round(arr)) and np.all(np.abs(arr) < 2**31):
        return arr.astype(np.int64).tolist()
    return arr.tolist()
