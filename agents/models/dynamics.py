"""The fused recurrence of the E/I rate RNN: forward Euler loop and hand-written BPTT.

    x_t = (1 - α) x_{t-1} + α (W r_{t-1} + b_rec + W_in u_t) + sqrt(2α) σ ξ_t,   r_t = f(x_t),   z_t = W_out r_t + b_out

for t = 1..T, with the *effective* weights (after masks, rectification and signs, which stay
with autograd: they are cheap). The input drive of all steps is one matrix product before the
loop and the readout one after it.

A plain autograd loop records ~10 graph nodes per time step and replays them one by one; on a
2-core CPU that costs several times the matrix products themselves. Here the forward pass
(:func:`forward_pass`) is a raw loop over preallocated buffers (one ``addmm``, one axpy and one
nonlinearity per step) and the backward pass (:func:`backward_pass`) is the BPTT recursion written
out (one ``addmm`` and two element-wise ops per step); the two loops run as TorchScript when
available. Weight gradients are formed after the loop as single large matrix products over all steps.
:class:`RateNetwork` wraps the pair as one autograd node; a training step that needs no other
autograd calls them directly, on :class:`Buffers` kept from one update to the next.

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
import warnings
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


# ---------------------------------------------------------------------------- the step loops
# The two loops that run T times per update, for the usual case (all units share α; ReLU forward). As TorchScript
# they skip the Python interpreter between ops, ~30 % of their cost on a 100-unit network; TorchScript is an
# interpreter (nothing is compiled to machine code), and if it is unavailable the same functions run as Python.
def _forward_relu_loop(xs: list[torch.Tensor], rs: list[torch.Tensor], w_t: torch.Tensor, leak: float,
                       n_steps: int) -> None:
    """x_t += r_{t-1} (αW)^T + (1 - α) x_{t-1} (x_t holds the input drive and noise); r_t = [x_t]_+."""
    for t in range(n_steps):
        x = xs[t + 1].addmm_(rs[t], w_t)
        x.add_(xs[t], alpha=leak)
        torch.clamp_min(x, 0.0, out=rs[t + 1])


def _backward_loop(ds: list[torch.Tensor], fs: list[torch.Tensor], w_s: torch.Tensor, leak: float,
                   n_steps: int) -> None:
    """δ_{t-1} = f'(x_{t-1}) ⊙ (∂L/∂r_{t-1} + δ_t (αW)) + (1 - α) δ_t, in place (δ_{t-1} holds ∂L/∂r_{t-1})."""
    for i in range(n_steps):
        t = n_steps - i
        prev = ds[t - 1].addmm_(ds[t], w_s)
        prev.mul_(fs[t - 1])
        prev.add_(ds[t], alpha=leak)


#: Run the step loops as TorchScript when possible (False: always Python; the results are identical).
USE_TORCHSCRIPT = True
_SCRIPTED: dict[str, Callable[..., None]] | None = None
_PYTHON: dict[str, Callable[..., None]] = {"forward_relu": _forward_relu_loop, "backward": _backward_loop}


def _loops() -> dict[str, Callable[..., None]]:
    global _SCRIPTED
    if not USE_TORCHSCRIPT:
        return _PYTHON
    if _SCRIPTED is None:
        try:
            with warnings.catch_warnings():                 # torch.jit is deprecated, and still the fastest here
                warnings.simplefilter("ignore")
                _SCRIPTED = {name: torch.jit.script(fn) for name, fn in _PYTHON.items()}
        except Exception:                                   # no TorchScript (or no source to script): Python
            _SCRIPTED = dict(_PYTHON)
    return _SCRIPTED


class Buffers:
    """State, rate and gradient buffers of one batch size and network, reused update after update.

    Making the per-step views (``unbind``) of a (T+1, B, N) buffer costs ~0.7 µs a step, as much as an
    element-wise op; made once here, for the longest trial seen so far, every later update reuses them
    (shorter trials use a prefix). Only for a caller that runs the backward pass before the next forward
    pass (a training step), since the next forward pass overwrites the buffers.
    """

    def __init__(self) -> None:
        self.key: tuple | None = None
        self.capacity = -1

    def reserve(self, n_steps: int, batch: int, n: int, dtype: torch.dtype, device: torch.device) -> Buffers:
        key = (batch, n, dtype, device)
        if key != self.key or n_steps > self.capacity:
            shape = (n_steps + 1, batch, n)
            self.states, self.rates, self.deltas, self.grad_r, self.fprime = (
                torch.empty(shape, dtype=dtype, device=device) for _ in range(5))
            self.xs, self.rs, self.ds, self.fs = (
                list(b.unbind(0)) for b in (self.states, self.rates, self.deltas, self.fprime))
            self.w_t = torch.empty((n, n), dtype=dtype, device=device)
            self.w_s = torch.empty((n, n), dtype=dtype, device=device)
            self.key, self.capacity = key, n_steps
        return self


@dataclass
class Trace:
    """What the backward pass needs from one forward pass (tensors time-major, states and rates t = 0..T)."""

    inputs: torch.Tensor
    w_in: torch.Tensor
    w_rec: torch.Tensor
    w_out: torch.Tensor
    alpha: torch.Tensor
    alpha_scalar: float | None
    states: torch.Tensor
    rates: torch.Tensor
    nonlinearity: str
    buffers: Buffers | None = None


def forward_pass(inputs: torch.Tensor, w_in: torch.Tensor, b_rec: torch.Tensor, w_rec: torch.Tensor,
                 x0: torch.Tensor, w_out: torch.Tensor, b_out: torch.Tensor, alpha: torch.Tensor,
                 noise_sd: torch.Tensor | float | None, generator: torch.Generator | None, nonlinearity: str,
                 noise: torch.Tensor | None = None, alpha_scalar: float | None = None,
                 buffers: Buffers | None = None) -> tuple[torch.Tensor, torch.Tensor, Trace]:
    """The network run without autograd: outputs (T, B, n_out), rates (T, B, N) and the :class:`Trace` for
    :func:`backward_pass`. Arguments as :class:`RateNetwork`'s; ``noise_sd`` may be a float when all units
    share it, ``noise`` (T+1, B, N) holds standard normals in steps 1..T (used as the state buffer unless
    ``buffers`` are given)."""
    f = NONLINEARITIES[nonlinearity][0]
    n_steps, batch, n_in = inputs.shape
    n = w_rec.shape[0]
    a = alpha_scalar if alpha_scalar is not None else _uniform(alpha)[1]
    sd = None if noise_sd is None else (noise_sd if not isinstance(noise_sd, torch.Tensor) else
                                        (_uniform(noise_sd)[1] if a is not None else None))
    if buffers is not None:
        buffers.reserve(n_steps, batch, n, inputs.dtype, inputs.device)
        states, rates = buffers.states[:n_steps + 1], buffers.rates[:n_steps + 1]
        xs, rs, w_t = buffers.xs, buffers.rs, buffers.w_t
    else:
        own_noise = noise is not None and noise_sd is not None
        states = noise if own_noise else inputs.new_empty((n_steps + 1, batch, n))
        rates = inputs.new_empty((n_steps + 1, batch, n))
        xs, rs, w_t = list(states.unbind(0)), list(rates.unbind(0)), inputs.new_empty((n, n))
    body = states[1:].view(n_steps * batch, n)
    u = inputs.reshape(n_steps * batch, n_in)
    w_in_t = (w_in * a if a is not None else alpha[:, None] * w_in).t()   # (α W_in)^T
    # body = noise sd · ξ + u (α W_in)^T, in one op where possible
    if noise_sd is None:
        torch.mm(u, w_in_t, out=body)
    elif noise is not None:
        source = noise[1:].view(n_steps * batch, n)
        if sd is not None and source.data_ptr() == body.data_ptr():
            body.addmm_(u, w_in_t, beta=sd)
        elif sd is not None:
            torch.addmm(source, u, w_in_t, beta=sd, out=body)
        else:
            torch.mul(source, noise_sd, out=body).addmm_(u, w_in_t)
    else:
        if sd is not None:
            body.normal_(0.0, sd, generator=generator)
        else:
            body.normal_(0.0, 1.0, generator=generator).mul_(noise_sd)
        body.addmm_(u, w_in_t)
    if b_rec.requires_grad or bool(b_rec.any()):
        body.add_(alpha * b_rec)
    xs[0].copy_(x0)
    f(xs[0], out=rs[0])
    torch.mul(w_rec.t(), a if a is not None else alpha[None, :], out=w_t)   # (α W)^T, contiguous: x += r (αW)^T
    if a is not None:
        leak = 1.0 - a
        if nonlinearity == "relu":
            _loops()["forward_relu"](xs, rs, w_t, leak, n_steps)
        else:
            for t in range(n_steps):
                x = xs[t + 1].addmm_(rs[t], w_t)
                x.add_(xs[t], alpha=leak)
                f(x, out=rs[t + 1])
    else:
        leak_t = 1.0 - alpha
        for t in range(n_steps):
            x = xs[t + 1].addmm_(rs[t], w_t)
            x.addcmul_(xs[t], leak_t)
            f(x, out=rs[t + 1])
    # readout as (W_out R^T)^T: a product with n_out rows is ~3x faster than one with n_out columns
    outputs = torch.addmm(b_out[:, None], w_out, rates[1:].view(n_steps * batch, n).t()).t().view(n_steps, batch, -1)
    trace = Trace(inputs, w_in, w_rec, w_out, alpha, a, states, rates, nonlinearity, buffers)
    return outputs, rates[1:], trace


def backward_pass(trace: Trace, grad_outputs: torch.Tensor | None, grad_rates: torch.Tensor | None,
                  omega: OmegaTerm | None = None, needs: tuple[bool, ...] = (True,) * 7
                  ) -> tuple[torch.Tensor | None, ...]:
    """BPTT (with Ω if asked) for one :func:`forward_pass`: the gradients of (inputs, w_in, b_rec, w_rec, x0, w_out,
    b_out), each None where ``needs`` says so (or where nothing flows)."""
    inputs, w_in, w_rec, w_out, alpha, a = trace.inputs, trace.w_in, trace.w_rec, trace.w_out, trace.alpha, \
        trace.alpha_scalar
    states, rates, buffers = trace.states, trace.rates, trace.buffers
    n_steps, batch, n = rates.shape[0] - 1, rates.shape[1], rates.shape[2]
    flat = n_steps * batch
    need_omega = omega is not None and omega.weight != 0.0
    if buffers is not None:
        deltas, grad_r, ds = buffers.deltas[:n_steps + 1], buffers.grad_r[:n_steps + 1], buffers.ds
        w_s = buffers.w_s
    else:
        deltas = states.new_empty((n_steps + 1, batch, n))               # δ_t = ∂L/∂x_t, t = 0..T
        grad_r = torch.empty_like(deltas) if need_omega else None
        ds, w_s = list(deltas.unbind(0)), states.new_empty((n, n))
    if trace.nonlinearity == "relu":                                      # f'(x_t) = 1 where r_t > 0 (r_t >= 0)
        if buffers is not None:
            fprime, fs = torch.sign(rates, out=buffers.fprime[:n_steps + 1]), buffers.fs
        else:
            fprime = torch.sign(rates)
            fs = list(fprime.unbind(0))
    else:
        fprime = NONLINEARITIES[trace.nonlinearity][1](states)
        fs = list(fprime.unbind(0))
    torch.mul(w_rec, a if a is not None else alpha[:, None], out=w_s)     # row vector δ -> (α δ) W

    # ∂L/∂r_t for t = 1..T, written straight into the δ buffer; x_0 feeds no readout.
    body = deltas[1:].view(flat, n)
    grad_z = None
    if grad_outputs is not None:
        grad_z = grad_outputs.reshape(flat, -1)
        torch.mm(grad_z, w_out, out=body)
    else:
        body.zero_()
    if grad_rates is not None:
        body.add_(grad_rates.reshape(flat, n))
    if need_omega:                                                        # ∂L/∂r_t, t = 0..T (0 at t = 0), for Ω
        grad_r[0].zero_()
        if grad_rates is None and grad_z is not None:                      # the product again: cheaper than a copy
            torch.mm(grad_z, w_out, out=grad_r[1:].view(flat, n))
        else:
            grad_r[1:].copy_(deltas[1:])
    ds[0].zero_()
    ds[n_steps].mul_(fs[n_steps])
    # δ_{t-1} = f'(x_{t-1}) ⊙ (∂L/∂r_{t-1} + δ_t (αW)) + (1 - α) δ_t: three ops per step, in place.
    if a is not None:
        _loops()["backward"](ds, fs, w_s, 1.0 - a, n_steps)
    else:
        leak_t = 1.0 - alpha
        for t in range(n_steps, 0, -1):
            prev = ds[t - 1].addmm_(ds[t], w_s)
            prev.mul_(fs[t - 1])
            prev.addcmul_(ds[t], leak_t)

    presyn = rates[:-1].reshape(flat, n)
    if need_omega:
        value, n_valid, presyn = _omega(deltas, fprime, grad_r, rates[:-1], omega.weight)
        omega.value, omega.n_valid = value, n_valid
        presyn = presyn.view(flat, n)
    elif omega is not None:
        omega.value, omega.n_valid = float("nan"), 0
    scale = a if a is not None else alpha[:, None]
    grad_inputs = grad_w_in = grad_b_rec = grad_w_rec = grad_x0 = grad_w_out = grad_b_out = None
    if needs[0]:
        grad_inputs = body.mm(w_in * scale).view(n_steps, batch, -1)
    if needs[1]:
        grad_w_in = inputs.reshape(flat, -1).t().mm(body).t().contiguous().mul_(scale)  # (u^T δ)^T: faster than δ^T u
    if needs[2]:
        grad_b_rec = body.sum(0).mul_(alpha)
    if needs[3]:
        grad_w_rec = body.t().mm(presyn).mul_(scale)
    if needs[4]:
        grad_x0 = deltas[0].sum(0)
    if grad_z is not None:
        if needs[5]:
            grad_w_out = grad_z.t().mm(rates[1:].reshape(flat, n))
        if needs[6]:
            grad_b_out = grad_z.sum(0)
    return grad_inputs, grad_w_in, grad_b_rec, grad_w_rec, grad_x0, grad_w_out, grad_b_out


class RateNetwork(torch.autograd.Function):
    """Autograd node of the whole network run (:func:`forward_pass` and :func:`backward_pass`).

    Inputs: ``inputs`` (T, B, n_in) time-major; the *effective* weights ``w_in`` (N, n_in), ``b_rec`` (N,),
    ``w_rec`` (N, N), ``x0`` (N,), ``w_out`` (n_out, N), ``b_out`` (n_out,); ``alpha`` (N,) = dt/τ;
    ``noise_sd`` (N,) per-step noise sd (or a float shared by all units) or None; a ``generator``; the
    nonlinearity's name; an :class:`OmegaTerm` or None; optionally a ``workspace`` (T+1, B, N) whose steps
    1..T already hold standard normal noise (drawn ahead of time, e.g. on another core), used as the state
    buffer; optionally α as a float when all units share it. Outputs: z (T, B, n_out) and rates (T, B, N).
    """

    @staticmethod
    def forward(ctx, inputs: torch.Tensor, w_in: torch.Tensor, b_rec: torch.Tensor, w_rec: torch.Tensor,
                x0: torch.Tensor, w_out: torch.Tensor, b_out: torch.Tensor, alpha: torch.Tensor,
                noise_sd: torch.Tensor | float | None, generator: torch.Generator | None, nonlinearity: str,
                omega: OmegaTerm | None, workspace: torch.Tensor | None = None, alpha_scalar: float | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        ctx.set_materialize_grads(False)
        outputs, rates, trace = forward_pass(inputs, w_in, b_rec, w_rec, x0, w_out, b_out, alpha, noise_sd,
                                             generator, nonlinearity, workspace, alpha_scalar)
        ctx.save_for_backward(inputs, w_in, w_rec, w_out, alpha)        # checks they are not changed in place
        ctx.trace, ctx.omega = trace, omega
        return outputs, rates

    @staticmethod
    def backward(ctx, grad_outputs: torch.Tensor | None, grad_rates: torch.Tensor | None):
        ctx.saved_tensors                                                  # noqa: B018 (the in-place check)
        grads = backward_pass(ctx.trace, grad_outputs, grad_rates, ctx.omega, ctx.needs_input_grad[:7])
        return (*grads, None, None, None, None, None, None, None)


def _uniform(values: torch.Tensor) -> tuple[torch.Tensor, float | None]:
    """A per-unit tensor, and the same as a float when all units share it (scalar ops are faster)."""
    first = float(values[0])
    return values, (first if bool(torch.all(values == first)) else None)


def _omega(deltas: torch.Tensor, fprime: torch.Tensor, grad_r: torch.Tensor, rates_prev: torch.Tensor,
           weight: float) -> tuple[float, int, torch.Tensor]:
    """Ω, the number of (t, trial) terms in it, and ``r_{t-1} + weight · h_t``, h_t such that
    ∂Ω/∂W_ij = α_i Σ_t,b δ_{t,i} h_{t,j} (δ and x held constant). ``grad_r`` is ∂L/∂r_t for t = 0..T;
    it is used up: its steps 0..T-1 are the working space (fewer large arrays, more of them in cache)."""
    # v_t = δ_{t-1} - f'(x_{t-1}) ⊙ ∂L/∂r_{t-1}: the part of δ_{t-1} propagated from step t (t = 1..T)
    vs = torch.addcmul(deltas[:-1], grad_r[:-1], fprime[:-1], value=-1.0, out=grad_r[:-1])
    num = torch.linalg.vector_norm(vs, dim=-1).square_()               # (T, B)
    den = torch.linalg.vector_norm(deltas[1:], dim=-1).square_()
    if float(den.min()) >= OMEGA_BOUND:                                # the usual case: no term left out
        n_valid = den.numel()
        excess = num.div_(den).sub_(1.0)
        value = float(torch.dot(excess.view(-1), excess.view(-1))) / n_valid
        coef = excess.div_(den)
    else:
        valid = den >= OMEGA_BOUND
        n_valid = int(valid.sum())
        if n_valid == 0:
            return 0.0, 0, rates_prev
        safe_den = torch.where(valid, den, torch.ones_like(den))
        excess = torch.where(valid, num / safe_den - 1.0, torch.zeros_like(den))
        value = float(excess.square().sum()) / n_valid
        coef = excess / safe_den
    # weight · dΩ/d|v|² · 2 = (4 weight / n_valid) · excess / |δ|², times h = v ⊙ f'(x_{t-1})
    presyn = torch.addcmul(rates_prev, vs.mul_(fprime[:-1]), coef[..., None], value=4.0 * weight / n_valid, out=vs)
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
