"""The fused recurrence of the E/I rate RNN: forward Euler loop and hand-written BPTT.

    x_t = (1 - α) x_{t-1} + α W r_{t-1} + d_t,     r_t = f(x_t),     t = 1..T

where ``d_t = α (W_in u_t + b_rec) + sqrt(2α) σ ξ_t`` (the "drive") is computed for all steps at once
by the caller, and ``W`` is the *effective* recurrent matrix (after masks, rectification and signs).

A plain autograd loop records ~10 graph nodes per time step and replays them one by one; on a
2-core CPU that costs several times the matrix products themselves. Here the forward pass is a
raw loop over preallocated buffers (one ``addmm``, one axpy and one nonlinearity per step) and the
backward pass is the BPTT recursion written out (one ``mm`` and three element-wise ops per step).
Weight gradients are formed after the loop as a single large matrix product over all steps.

The backward pass propagates exactly ∂L/∂x_t, which is what pycog's vanishing-gradient
regulariser Ω (Pascanu et al. 2013; Song et al. 2016, Eqs 22-25) needs:

    v_t = ∂L/∂x_t · ∂x_t/∂x_{t-1} = (1 - α) δ_t + ((α δ_t) W) ⊙ f'(x_{t-1})
    Ω   = mean over (t, trial) with |δ_t|² ≥ bound of (|v_t|² / |δ_t|² - 1)²

``v_t`` is also the recursion's own intermediate, so Ω costs no extra matrix product per step.
Its "immediate" gradient (δ and x held constant, as in the paper) with respect to W is
``α_i Σ δ_{t,i} h_{t,j}`` with ``h_t = c_t v_t ⊙ f'(x_{t-1})``; it shares the final weight-gradient
product with the loss gradient. ``λ_Ω ∂Ω/∂W`` is added to ∂L/∂W, and autograd carries the sum back
through the reparametrisation to the plastic weights.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

#: Denominator threshold of Ω (pycog's ``bound``).
OMEGA_BOUND = 1e-20


@dataclass
class OmegaTerm:
    """Request for Ω in the next backward pass, and where its value is reported.

    Pass one to ``EIRNN.forward(..., omega=term)``; after ``loss.backward()``, ``term.value`` holds Ω
    and the recurrent weights' gradient includes ``weight * ∂Ω/∂W_rec``.
    """

    weight: float = 2.0
    value: float = float("nan")
    n_valid: int = 0


# ---------------------------------------------------------------------------- nonlinearities
def _rectified_power(x: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    r = torch.clamp_min(x, 0.0, out=out)
    return r.mul_(r) if out is not None else r * r


#: name -> (f(x, out=...) writing into out, f'(x) vectorised)
NONLINEARITIES: dict[str, tuple[Callable[..., torch.Tensor], Callable[[torch.Tensor], torch.Tensor]]] = {
    "relu": (lambda x, out=None: torch.clamp_min(x, 0.0, out=out), lambda x: (x > 0).to(x.dtype)),
    "tanh": (lambda x, out=None: torch.tanh(x, out=out), lambda x: 1.0 - torch.tanh(x) ** 2),
    "rtanh": (lambda x, out=None: torch.clamp_min(torch.tanh(x, out=out), 0.0, out=out),
              lambda x: (x > 0).to(x.dtype) * (1.0 - torch.tanh(x) ** 2)),
    "softplus": (lambda x, out=None: torch.nn.functional.softplus(x) if out is None
                 else out.copy_(torch.nn.functional.softplus(x)), torch.sigmoid),
    "rectified_power": (_rectified_power, lambda x: 2.0 * torch.clamp_min(x, 0.0)),
    "sigmoid": (lambda x, out=None: torch.sigmoid(x, out=out), lambda x: torch.sigmoid(x) * (1 - torch.sigmoid(x))),
    "linear": (lambda x, out=None: x.clone() if out is None else out.copy_(x), torch.ones_like),
}


class Recurrence(torch.autograd.Function):
    """Autograd node of the whole Euler loop. Inputs: drive (T, B, N), W (N, N), x0 (N,), alpha (N,)
    (not differentiated), nonlinearity name, OmegaTerm or None. Output: rates (T, B, N), time-major."""

    @staticmethod
    def forward(ctx, drive: torch.Tensor, w: torch.Tensor, x0: torch.Tensor, alpha: torch.Tensor,
                nonlinearity: str, omega: OmegaTerm | None) -> torch.Tensor:
        f = NONLINEARITIES[nonlinearity][0]
        n_steps, batch, n = drive.shape
        states = drive.new_empty((n_steps + 1, batch, n))
        rates = drive.new_empty((n_steps + 1, batch, n))
        states[0] = x0
        states[1:] = drive
        f(states[0], out=rates[0])
        w_scaled_t = (alpha[:, None] * w).t().contiguous()          # (α W)^T: x += r (αW)^T
        leak, leak_scalar = _leak(alpha)
        xs, rs = states.unbind(0), rates.unbind(0)
        for t in range(n_steps):
            x = xs[t + 1].addmm_(rs[t], w_scaled_t)
            if leak_scalar is not None:
                x.add_(xs[t], alpha=leak_scalar)
            else:
                x.addcmul_(xs[t], leak)
            f(x, out=rs[t + 1])
        ctx.nonlinearity = nonlinearity
        ctx.omega = omega
        ctx.save_for_backward(w, alpha)
        ctx.states, ctx.rates = states, rates
        return rates[1:]

    @staticmethod
    def backward(ctx, grad_rates: torch.Tensor):
        w, alpha = ctx.saved_tensors
        states, rates = ctx.states, ctx.rates
        omega: OmegaTerm | None = ctx.omega
        n_steps, batch, n = grad_rates.shape
        fprime = NONLINEARITIES[ctx.nonlinearity][1](states)         # (T+1, B, N) f'(x_t)
        w_scaled = (alpha[:, None] * w).contiguous()                  # row vector δ -> (α δ) W
        leak, leak_scalar = _leak(alpha)
        grad_rates = grad_rates.contiguous()

        # δ_{t-1} = f'(x_{t-1}) ⊙ (∂L/∂r_{t-1} + δ_t (αW)) + (1 - α) δ_t, three ops per step;
        # the buffer starts as ∂L/∂r (0 for x_0, which feeds no readout) and is updated in place.
        deltas = states.new_empty((n_steps + 1, batch, n))            # δ_t = ∂L/∂x_t, t = 0..T
        deltas[0] = 0.0
        deltas[1:] = grad_rates
        deltas[-1].mul_(fprime[-1])
        d, g = deltas.unbind(0), fprime.unbind(0)
        for t in range(n_steps, 0, -1):
            prev = d[t - 1].addmm_(d[t], w_scaled)
            prev.mul_(g[t - 1])
            if leak_scalar is not None:
                prev.add_(d[t], alpha=leak_scalar)
            else:
                prev.addcmul_(d[t], leak)
        grad_drive = deltas[1:]
        presyn = rates[:-1]
        if omega is not None and omega.weight != 0.0:
            # v_t = δ_{t-1} - f'(x_{t-1}) ⊙ ∂L/∂r_{t-1}, the part of δ_{t-1} propagated from step t
            vs = deltas[:-1].clone()
            vs[1:].addcmul_(grad_rates[:-1], fprime[1:-1], value=-1.0)
            value, h = _omega_and_h(grad_drive, vs, fprime[:-1])
            omega.value, omega.n_valid = value[0], value[1]
            presyn = torch.add(presyn, h, alpha=omega.weight)
        elif omega is not None:
            omega.value, omega.n_valid = float("nan"), 0
        grad_w = None
        if ctx.needs_input_grad[1]:
            grad_w = grad_drive.reshape(-1, n).t().mm(presyn.reshape(-1, n)).mul_(alpha[:, None])
        grad_x0 = deltas[0].sum(0) if ctx.needs_input_grad[2] else None
        return grad_drive, grad_w, grad_x0, None, None, None


def _leak(alpha: torch.Tensor) -> tuple[torch.Tensor, float | None]:
    """(1 - α) as a tensor, and as a float when every unit shares one time constant (faster ops)."""
    leak = 1.0 - alpha
    first = float(leak[0])
    if bool(torch.all(leak == leak[0])):
        return leak, first
    return leak, None


def _omega_and_h(deltas: torch.Tensor, vs: torch.Tensor, fprime_prev: torch.Tensor
                 ) -> tuple[tuple[float, int], torch.Tensor]:
    """Ω's value and h_t such that ∂Ω/∂W_ij = α_i Σ_t,b δ_{t,i} h_{t,j} (δ and x held constant)."""
    num = vs.square().sum(-1)                                          # (T, B)
    den = deltas.square().sum(-1)
    valid = den >= OMEGA_BOUND
    n_valid = int(valid.sum())
    if n_valid == 0:
        return (0.0, 0), torch.zeros_like(vs)
    safe_den = torch.where(valid, den, torch.ones_like(den))
    excess = torch.where(valid, num / safe_den - 1.0, torch.zeros_like(den))
    value = float(excess.square().sum()) / n_valid
    coef = 4.0 * excess / (safe_den * n_valid)                         # dΩ/d|v|² · 2
    h = vs * fprime_prev * coef[..., None]
    return (value if math.isfinite(value) else float("nan"), n_valid), h


def reference_rates(drive: torch.Tensor, w: torch.Tensor, x0: torch.Tensor, alpha: torch.Tensor,
                    nonlinearity: str = "relu") -> tuple[torch.Tensor, list[torch.Tensor]]:
    """The same recurrence as a plain autograd loop (slow; for tests). Returns rates (T, B, N) and
    the list of states x_0..x_T (each (B, N), part of the graph)."""
    f = NONLINEARITIES[nonlinearity][0]
    x = x0.expand(drive.shape[1], -1)
    states, rates = [x], []
    r = f(x)
    for t in range(drive.shape[0]):
        x = (1 - alpha) * x + alpha * (r @ w.t()) + drive[t]
        r = f(x)
        states.append(x)
        rates.append(r)
    return torch.stack(rates), states


def reference_omega(states: list[torch.Tensor], deltas: list[torch.Tensor], w: torch.Tensor, alpha: torch.Tensor,
                    nonlinearity: str = "relu") -> torch.Tensor:
    """Ω written directly from the paper's Eqs 23-25 (for tests): ``states`` and ``deltas`` (∂L/∂x_t)
    must be detached; the result is differentiable in ``w`` only (the "immediate" derivative)."""
    fprime = NONLINEARITIES[nonlinearity][1]
    terms, count = [], 0
    for t in range(1, len(states)):
        delta = deltas[t]
        v = (1 - alpha) * delta + ((alpha * delta) @ w) * fprime(states[t - 1])
        den = delta.square().sum(-1)
        ok = den >= OMEGA_BOUND
        count += int(ok.sum())
        terms.append(torch.where(ok, (v.square().sum(-1) / torch.where(ok, den, 1.0) - 1) ** 2, 0.0).sum())
    return torch.stack(terms).sum() / max(count, 1)
