"""The fused recurrence of the E/I rate RNN: forward Euler loop and hand-written BPTT.

    x_t = (1 - α) x_{t-1} + α (W r_{t-1} + b_rec + W_in u_t) + sqrt(2α) σ ξ_t,   r_t = f(x_t),   z_t = W_out r_t + b_out

for t = 1..T, with the *effective* weights (after masks, rectification and signs, which stay
with autograd: they are cheap). The input drive of all steps is one matrix product before the
loop and the readout one after it.

A plain autograd loop records ~10 graph nodes per time step and replays them one by one; on a
2-core CPU that costs several times the matrix products themselves. Here the forward pass is a
raw loop over preallocated buffers (one ``addmm``, one axpy and one nonlinearity per step) and the
backward pass is the BPTT recursion written out (one ``mm`` and three element-wise ops per step).
Weight gradients are formed after the loop as single large matrix products over all steps.

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


class RateNetwork(torch.autograd.Function):
    """Autograd node of the whole network run: input projection, noise, Euler loop and readout.

    Inputs: ``inputs`` (T, B, n_in) time-major; the *effective* weights ``w_in`` (N, n_in), ``b_rec`` (N,),
    ``w_rec`` (N, N), ``x0`` (N,), ``w_out`` (n_out, N), ``b_out`` (n_out,); ``alpha`` (N,) = dt/τ;
    ``noise_sd`` (N,) per-step noise sd or None; a ``generator``; the nonlinearity's name; an
    :class:`OmegaTerm` or None; optionally a ``workspace`` (T+1, B, N) whose steps 1..T already hold
    standard normal noise (drawn ahead of time, e.g. on another core), used as the state buffer.
    Outputs: z (T, B, n_out) and rates (T, B, N), time-major.

    Everything the loop needs is written straight into preallocated buffers: the noise is drawn
    into the state buffer and the input projection of all steps is added to it by one product;
    in the backward pass the readout's gradient is written straight into the δ buffer.
    """

    @staticmethod
    def forward(ctx, inputs: torch.Tensor, w_in: torch.Tensor, b_rec: torch.Tensor, w_rec: torch.Tensor,
                x0: torch.Tensor, w_out: torch.Tensor, b_out: torch.Tensor, alpha: torch.Tensor,
                noise_sd: torch.Tensor | None, generator: torch.Generator | None, nonlinearity: str,
                omega: OmegaTerm | None, workspace: torch.Tensor | None = None, alpha_scalar: float | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        ctx.set_materialize_grads(False)
        f = NONLINEARITIES[nonlinearity][0]
        n_steps, batch, n_in = inputs.shape
        n = w_rec.shape[0]
        states = workspace if workspace is not None else inputs.new_empty((n_steps + 1, batch, n))
        rates = inputs.new_empty((n_steps + 1, batch, n))
        body = states[1:].view(n_steps * batch, n)
        u = inputs.reshape(n_steps * batch, n_in)
        w_in_scaled_t = (alpha[:, None] * w_in).t()
        shared = alpha_scalar is not None or _uniform(alpha)[1] is not None
        if noise_sd is not None and workspace is not None:                # standard normals drawn ahead of time
            sd, sd_scalar = noise_sd, (float(noise_sd[0]) if shared else None)
            body.mul_(sd_scalar if sd_scalar is not None else sd)
            body.addmm_(u, w_in_scaled_t)
        elif noise_sd is not None:
            sd, sd_scalar = noise_sd, (float(noise_sd[0]) if shared else None)
            if sd_scalar is not None:
                body.normal_(0.0, sd_scalar, generator=generator)
            else:
                body.normal_(0.0, 1.0, generator=generator).mul_(sd)
            body.addmm_(u, w_in_scaled_t)
        else:
            torch.mm(u, w_in_scaled_t, out=body)
        if b_rec.requires_grad or bool(torch.any(b_rec != 0)):
            body.add_(alpha * b_rec)
        states[0] = x0
        f(states[0], out=rates[0])
        w_scaled_t = (alpha[:, None] * w_rec).t().contiguous()        # (α W)^T: x += r (αW)^T
        leak = 1.0 - alpha
        leak_scalar = 1.0 - float(alpha[0]) if shared else None
        xs, rs = states.unbind(0), rates.unbind(0)
        for t in range(n_steps):
            x = xs[t + 1].addmm_(rs[t], w_scaled_t)
            if leak_scalar is not None:
                x.add_(xs[t], alpha=leak_scalar)
            else:
                x.addcmul_(xs[t], leak)
            f(x, out=rs[t + 1])
        outputs = torch.addmm(b_out, rates[1:].view(n_steps * batch, n), w_out.t()).view(n_steps, batch, -1)
        ctx.nonlinearity, ctx.omega, ctx.leak_scalar = nonlinearity, omega, leak_scalar
        ctx.save_for_backward(inputs, w_in, w_rec, w_out, alpha)
        ctx.states, ctx.rates = states, rates
        return outputs, rates[1:]

    @staticmethod
    def backward(ctx, grad_outputs: torch.Tensor | None, grad_rates: torch.Tensor | None):
        inputs, w_in, w_rec, w_out, alpha = ctx.saved_tensors
        states, rates = ctx.states, ctx.rates
        omega: OmegaTerm | None = ctx.omega
        n_steps, batch, n = rates.shape[0] - 1, rates.shape[1], rates.shape[2]
        flat = n_steps * batch
        if ctx.nonlinearity == "relu":
            fprime = torch.gt(rates, 0.0, out=torch.empty_like(rates))  # f'(x_t) = 1 where r_t > 0
        else:
            fprime = NONLINEARITIES[ctx.nonlinearity][1](states)
        w_scaled = (alpha[:, None] * w_rec).contiguous()              # row vector δ -> (α δ) W
        leak, leak_scalar = 1.0 - alpha, ctx.leak_scalar

        # ∂L/∂r_t for t = 1..T, written straight into the δ buffer; x_0 feeds no readout.
        deltas = states.new_empty((n_steps + 1, batch, n))            # δ_t = ∂L/∂x_t, t = 0..T
        body = deltas[1:].view(flat, n)
        grad_z = None
        if grad_outputs is not None:
            grad_z = grad_outputs.reshape(flat, -1)
            torch.mm(grad_z, w_out, out=body)
        else:
            body.zero_()
        if grad_rates is not None:
            body.add_(grad_rates.reshape(flat, n))
        need_omega = omega is not None and omega.weight != 0.0
        grad_r = None
        if need_omega:                                                # ∂L/∂r_t, t = 0..T (0 at t = 0), kept for Ω
            grad_r = torch.empty_like(deltas)
            grad_r[0] = 0.0
            grad_r[1:] = deltas[1:]
        deltas[0] = 0.0
        deltas[-1].mul_(fprime[-1])
        # δ_{t-1} = f'(x_{t-1}) ⊙ (∂L/∂r_{t-1} + δ_t (αW)) + (1 - α) δ_t: three ops per step, in place.
        d, g = deltas.unbind(0), fprime.unbind(0)
        for t in range(n_steps, 0, -1):
            prev = d[t - 1].addmm_(d[t], w_scaled)
            prev.mul_(g[t - 1])
            if leak_scalar is not None:
                prev.add_(d[t], alpha=leak_scalar)
            else:
                prev.addcmul_(d[t], leak)

        presyn = rates[:-1].reshape(flat, n)
        if need_omega:
            value, n_valid, presyn = _omega(deltas, fprime, grad_r, rates[:-1], omega.weight)
            omega.value, omega.n_valid = value, n_valid
            presyn = presyn.view(flat, n)
        elif omega is not None:
            omega.value, omega.n_valid = float("nan"), 0
        needs = ctx.needs_input_grad
        grad_inputs = grad_w_in = grad_b_rec = grad_w_rec = grad_x0 = grad_w_out = grad_b_out = None
        if needs[0]:
            grad_inputs = body.mm(alpha[:, None] * w_in).view(n_steps, batch, -1)
        if needs[1]:
            grad_w_in = body.t().mm(inputs.reshape(flat, -1)).mul_(alpha[:, None])
        if needs[2]:
            grad_b_rec = body.sum(0).mul_(alpha)
        if needs[3]:
            grad_w_rec = body.t().mm(presyn).mul_(alpha[:, None])
        if needs[4]:
            grad_x0 = deltas[0].sum(0)
        if grad_z is not None:
            if needs[5]:
                grad_w_out = grad_z.t().mm(rates[1:].reshape(flat, n))
            if needs[6]:
                grad_b_out = grad_z.sum(0)
        return (grad_inputs, grad_w_in, grad_b_rec, grad_w_rec, grad_x0, grad_w_out, grad_b_out,
                None, None, None, None, None, None, None)


def _uniform(values: torch.Tensor) -> tuple[torch.Tensor, float | None]:
    """A per-unit tensor, and the same as a float when all units share it (scalar ops are faster)."""
    first = float(values[0])
    return values, (first if bool(torch.all(values == first)) else None)


def _omega(deltas: torch.Tensor, fprime: torch.Tensor, grad_r: torch.Tensor, rates_prev: torch.Tensor,
           weight: float) -> tuple[float, int, torch.Tensor]:
    """Ω, the number of (t, trial) terms in it, and ``r_{t-1} + weight · h_t``, h_t such that
    ∂Ω/∂W_ij = α_i Σ_t,b δ_{t,i} h_{t,j} (δ and x held constant). ``grad_r`` is ∂L/∂r_t for t = 0..T."""
    # v_t = δ_{t-1} - f'(x_{t-1}) ⊙ ∂L/∂r_{t-1}: the part of δ_{t-1} propagated from step t (t = 1..T)
    vs = torch.addcmul(deltas[:-1], grad_r[:-1], fprime[:-1], value=-1.0)
    num = torch.linalg.vector_norm(vs, dim=-1).square_()               # (T, B)
    den = torch.linalg.vector_norm(deltas[1:], dim=-1).square_()
    valid = den >= OMEGA_BOUND
    n_valid = int(valid.sum())
    if n_valid == 0:
        return 0.0, 0, rates_prev
    safe_den = torch.where(valid, den, torch.ones_like(den))
    excess = torch.where(valid, num / safe_den - 1.0, torch.zeros_like(den))
    value = float(excess.square().sum()) / n_valid
    coef = (4.0 * weight / n_valid) * excess / safe_den                # weight · dΩ/d|v|² · 2
    presyn = torch.addcmul(rates_prev, vs.mul_(fprime[:-1]), coef[..., None])
    return (value if math.isfinite(value) else float("nan")), n_valid, presyn


def reference_forward(inputs: torch.Tensor, w_in: torch.Tensor, b_rec: torch.Tensor, w_rec: torch.Tensor,
                      x0: torch.Tensor, w_out: torch.Tensor, b_out: torch.Tensor, alpha: torch.Tensor,
                      noise: torch.Tensor | None = None, nonlinearity: str = "relu"
                      ) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
    """The same network as a plain autograd loop (slow; for tests and comparison). ``inputs`` (T, B, n_in),
    ``noise`` (T, B, N) already scaled. Returns outputs (T, B, n_out), rates (T, B, N) and the states
    x_0..x_T (each (B, N), part of the graph)."""
    f = NONLINEARITIES[nonlinearity][0]
    x = x0.expand(inputs.shape[1], -1)
    states, rates = [x], []
    r = f(x)
    for t in range(inputs.shape[0]):
        x = (1 - alpha) * x + alpha * (r @ w_rec.t() + b_rec + inputs[t] @ w_in.t())
        if noise is not None:
            x = x + noise[t]
        r = f(x)
        states.append(x)
        rates.append(r)
    rates_t = torch.stack(rates)
    return rates_t @ w_out.t() + b_out, rates_t, states


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
