"""Fixed and slow points of a recurrent network with its input held constant.

Sussillo & Barak (2013) reverse-engineer a trained network by finding the states where its
dynamics F(x) = dx/dt nearly vanishes: minimise the speed q(x) = ½‖F(x)‖² from many initial
states sampled along the network's own trajectories. Points with q ≈ 0 are fixed points; local
minima with small q are slow points, where the flow lingers. The eigenvalues of the Jacobian
∂F/∂x at each point say whether it attracts (every real part < 0), and along how many directions
it repels (a saddle, e.g. between the two choices of a decision network or the memory states
of a flip-flop).

For the E/I rate network of Song, Yang & Wang (2016), τ dx/dt = −x + W_rec f(x) + W_in u + b_rec,
``RateDynamics`` gives F in units of 1/τ (F = τ dx/dt, so eigenvalue −1 is the leak alone); any other
system can be passed as a callable.

A discrete-time map h_{t+1} = step(h_t) (the gated networks, GRU and LSTM: :func:`model_velocity`) has the
same fixed points as F(h) = step(h) − h, but another stability rule: the map's Jacobian is 1 + ∂F/∂h, so a
point attracts where every eigenvalue λ of ∂F/∂h has |1 + λ| < 1, not Re λ < 0. A velocity marked
``discrete_time = True`` (:class:`MapVelocity`), or ``find_fixed_points(..., discrete_time=True)``, uses it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

Velocity = Callable[[torch.Tensor], torch.Tensor]

_NONLINEARITIES: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": torch.relu,
    "rectify": torch.relu,
    "tanh": torch.tanh,
    "softplus": torch.nn.functional.softplus,
    "sigmoid": torch.sigmoid,
    "linear": lambda x: x,
}


@dataclass
class RateDynamics:
    """τ dx/dt = −x + W_rec f(x) + W_in u + b_rec with a constant input u, as a callable on (K, N) states.

    Args:
        W_rec: (N, N) effective recurrent weights (after Dale's law and masks).
        W_in: (N, n_in) effective input weights.
        b_rec: (N,) recurrent bias (zeros if None).
        nonlinearity: a name in ``relu``, ``tanh``, ``softplus``, ``sigmoid``, ``linear``, or a torch callable.
        tau: scalar or (N,) time constants; F is returned as mean(τ) · dx/dt, so per-unit time
            constants rescale each unit's velocity by mean(τ)/τ_i.
        inputs: (n_in,) the constant input u (zeros if None).
    """

    W_rec: Any
    W_in: Any = None
    b_rec: Any = None
    nonlinearity: str | Callable[[torch.Tensor], torch.Tensor] = "relu"
    tau: Any = 1.0
    inputs: Any = None

    def __post_init__(self) -> None:
        self.W_rec = torch.as_tensor(np.asarray(self.W_rec, dtype=np.float64))
        n = self.W_rec.shape[0]
        if self.W_rec.shape != (n, n):
            raise ValueError(f"W_rec must be square, got {tuple(self.W_rec.shape)}")
        if self.W_in is None:
            drive = torch.zeros(n, dtype=torch.float64)
        else:
            w_in = torch.as_tensor(np.asarray(self.W_in, dtype=np.float64)).reshape(n, -1)
            u = torch.zeros(w_in.shape[1], dtype=torch.float64) if self.inputs is None \
                else torch.as_tensor(np.asarray(self.inputs, dtype=np.float64)).reshape(-1)
            if u.shape[0] != w_in.shape[1]:
                raise ValueError(f"inputs must have {w_in.shape[1]} entries (the columns of W_in), got {u.shape[0]}")
            drive = w_in @ u
        if self.b_rec is not None:
            drive = drive + torch.as_tensor(np.asarray(self.b_rec, dtype=np.float64)).reshape(n)
        self.drive = drive
        tau = np.broadcast_to(np.asarray(self.tau, dtype=np.float64), (n,))
        if np.any(tau <= 0):
            raise ValueError("tau must be positive")
        self.gain = torch.as_tensor(tau.mean() / tau)
        if callable(self.nonlinearity):
            self.f = self.nonlinearity
        elif self.nonlinearity in _NONLINEARITIES:
            self.f = _NONLINEARITIES[self.nonlinearity]
        else:
            raise ValueError(f"nonlinearity must be one of {sorted(_NONLINEARITIES)} or a callable, "
                             f"got {self.nonlinearity!r}")

    @property
    def n_units(self) -> int:
        return int(self.W_rec.shape[0])

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.gain * (-x + self.f(x) @ self.W_rec.T + self.drive)


class MapVelocity:
    """F(h) = step(h) − h of a discrete-time map (a callable on (K, state size) float64 tensors), marked
    ``discrete_time`` so that :func:`find_fixed_points` judges stability by |1 + λ| < 1."""

    discrete_time = True

    def __init__(self, velocity: Velocity) -> None:
        self.velocity = velocity

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.velocity(x)


def model_velocity(model: Any, inputs: Any = None) -> RateDynamics | MapVelocity:
    """The velocity of any network of the model zoo with its input held at ``inputs`` (n_in,): the rate
    networks' ``RateDynamics`` (eirnn, rnn, lowrank: :func:`dynamics_from_model`), or a discrete-time map's
    ``MapVelocity`` (gru, lstm: ``model.velocity(inputs)``, on the LSTM's joint state [h, c])."""
    if hasattr(model, "effective_weights"):
        return dynamics_from_model(model, inputs)
    if callable(getattr(model, "velocity", None)):
        return MapVelocity(model.velocity(inputs))
    raise TypeError(f"{type(model).__name__} has neither effective_weights() (a rate network) nor velocity() "
                    "(a discrete-time map): no velocity to find fixed points of")


def dynamics_from_model(model: Any, inputs: Any = None) -> RateDynamics:
    """``RateDynamics`` of an EIRNN-like model (``effective_weights()`` with ``W_rec``, ``W_in``,
    ``b_rec``), with the input held at ``inputs`` (n_in,). The nonlinearity and τ are the model's
    (``model.nonlinearity`` / ``model.tau``, else ``model.config``), defaulting to ReLU and 1.
    A discrete-time map (gru, lstm) has no such dynamics: use :func:`model_velocity`."""
    if not hasattr(model, "effective_weights"):
        raise TypeError(f"{type(model).__name__} is not a continuous-time rate network (no effective_weights()); "
                        "for a discrete-time map such as gru or lstm use model_velocity(model, inputs)")
    weights = model.effective_weights()
    config = dict(getattr(model, "config", {}) or {})
    nonlinearity = getattr(model, "nonlinearity", None) or config.get("nonlinearity", "relu")
    tau = getattr(model, "tau", None)
    tau = config.get("tau", 1.0) if tau is None else np.asarray(tau.detach().cpu() if hasattr(tau, "detach") else tau)
    if isinstance(nonlinearity, str) and nonlinearity not in _NONLINEARITIES:
        try:  # the model's own f (e.g. rtanh, rectified_power)
            from agents.models.dynamics import NONLINEARITIES

            f = NONLINEARITIES[nonlinearity][0]
            nonlinearity = lambda x: f(x)  # noqa: E731
        except (ImportError, KeyError):
            pass
    return RateDynamics(W_rec=weights["W_rec"], W_in=weights.get("W_in"), b_rec=weights.get("b_rec"),
                        nonlinearity=nonlinearity, tau=tau, inputs=inputs)


def sample_states(trajectories: Any, n: int, rng: np.random.Generator | int | None = None,
                  noise: float = 0.0) -> np.ndarray:
    """``n`` initial states drawn from visited states (..., N) (NaN rows skipped), plus Gaussian
    ``noise`` (sd) so the search explores around the trajectories."""
    rng = np.random.default_rng(rng)
    states = np.asarray(trajectories, dtype=float)
    states = states.reshape(-1, states.shape[-1])
    states = states[np.all(np.isfinite(states), axis=1)]
    if states.shape[0] == 0:
        raise ValueError("trajectories contain no finite state to start from")
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    picked = states[rng.integers(0, states.shape[0], size=n)]
    return picked + noise * rng.standard_normal(picked.shape) if noise else picked


@dataclass(frozen=True)
class FixedPoints:
    """Distinct fixed/slow points, sorted by speed.

    Attributes:
        states: (K, N) the points.
        speed: (K,) q(x) = ½‖F(x)‖² at each.
        jacobians: (K, N, N) ∂F/∂x.
        eigenvalues: (K, N) complex eigenvalues of each Jacobian, most unstable first (largest real part;
            for a discrete-time map largest |1 + λ|).
        stable: (K,) True where every eigenvalue has a negative real part (a discrete-time map: |1 + λ| < 1).
        is_fixed: (K,) True where ``speed`` < the fixed-point tolerance (the rest are slow points).
        discrete_time: F is step(h) − h of a discrete-time map (see the module docstring).
    """

    states: np.ndarray
    speed: np.ndarray
    jacobians: np.ndarray
    eigenvalues: np.ndarray
    stable: np.ndarray
    is_fixed: np.ndarray
    discrete_time: bool = False

    def __len__(self) -> int:
        return int(self.states.shape[0])

    @property
    def n_unstable(self) -> np.ndarray:
        """(K,) number of unstable directions: eigenvalues with a positive real part (a discrete-time map:
        |1 + λ| > 1); 0: attractor, 1: saddle with one unstable direction..."""
        return np.sum(growth(self.eigenvalues, self.discrete_time) > 0, axis=1)


def growth(eigenvalues: np.ndarray, discrete_time: bool) -> np.ndarray:
    """How fast each eigenvalue λ of ∂F/∂x grows a perturbation: Re λ (a flow), log |1 + λ| (a map, whose
    Jacobian is 1 + ∂F/∂x); negative where it decays."""
    if not discrete_time:
        return eigenvalues.real
    with np.errstate(divide="ignore"):
        return np.log(np.abs(1.0 + eigenvalues))


def minimise_speed(velocity: Velocity, initial_states: Any, *, method: str = "lbfgs", max_iter: int = 500,
                   learning_rate: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Minimise q(x) = ½‖F(x)‖² from each of K initial states (K, N). Returns (states, q).

    ``lbfgs`` (default) optimises each point on its own with L-BFGS and a strong-Wolfe line search:
    precise (q ~ 1e-20 at true fixed points) but one optimisation per point. ``adam`` moves all
    points at once (``max_iter`` steps, learning rate decaying 100-fold): fast, less precise.
    ReLU networks make q piecewise quadratic; a joint L-BFGS over all points stalls on the kinks,
    which is why the points are optimised separately.
    """
    x0 = np.asarray(initial_states, dtype=np.float64)
    if x0.ndim != 2:
        raise ValueError(f"initial_states must have shape (K, N), got {x0.shape}")
    if method not in ("lbfgs", "adam"):
        raise ValueError(f"method must be 'lbfgs' or 'adam', got {method!r}")

    def speeds(x: torch.Tensor) -> torch.Tensor:
        return 0.5 * velocity(x).pow(2).sum(dim=1)

    if method == "adam":
        x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
        optimiser = torch.optim.Adam([x], lr=learning_rate)
        schedule = torch.optim.lr_scheduler.ExponentialLR(optimiser, gamma=0.01 ** (1 / max(max_iter, 1)))
        for _ in range(max_iter):
            optimiser.zero_grad()
            speeds(x).sum().backward()
            optimiser.step()
            schedule.step()
        with torch.no_grad():
            return x.detach().numpy().copy(), speeds(x).numpy().copy()

    states = np.empty_like(x0)
    q = np.empty(x0.shape[0])
    for k in range(x0.shape[0]):
        x = torch.tensor(x0[k : k + 1], dtype=torch.float64, requires_grad=True)
        optimiser = torch.optim.LBFGS([x], lr=1.0, max_iter=max_iter, history_size=20, tolerance_grad=1e-15,
                                      tolerance_change=1e-24, line_search_fn="strong_wolfe")

        def closure(x: torch.Tensor = x, optimiser: torch.optim.Optimizer = optimiser) -> torch.Tensor:
            optimiser.zero_grad()
            loss = speeds(x).sum()
            loss.backward()
            return loss

        optimiser.step(closure)
        with torch.no_grad():
            states[k] = x.detach().numpy()[0]
            q[k] = float(speeds(x)[0])
    return states, q


def jacobian(velocity: Velocity, state: Any) -> np.ndarray:
    """∂F/∂x at one state (N,) -> (N, N), by autograd."""
    x = torch.as_tensor(np.asarray(state, dtype=np.float64)).reshape(1, -1)
    jac = torch.autograd.functional.jacobian(lambda s: velocity(s.reshape(1, -1)).reshape(-1), x.reshape(-1))
    return jac.numpy()


def find_fixed_points(velocity: Velocity, initial_states: Any, *, method: str = "lbfgs", max_iter: int = 500,
                      fixed_tolerance: float = 1e-12, slow_tolerance: float = 1e-12,
                      distinct_tolerance: float = 1e-3, discrete_time: bool | None = None) -> FixedPoints:
    """Fixed (and slow) points of ``velocity`` found from ``initial_states``, with their stability.

    Args:
        velocity: F, a callable (K, N) float64 tensor -> (K, N), e.g. ``RateDynamics`` or
            ``dynamics_from_model(model, inputs=u)``.
        initial_states: (K, N) starting points (see ``sample_states``).
        method: ``lbfgs`` (default; precise) or ``adam``.
        max_iter: optimiser iterations.
        fixed_tolerance: q below which a point counts as fixed.
        slow_tolerance: q below which a point is kept at all (raise it above ``fixed_tolerance`` to
            keep slow points too).
        distinct_tolerance: points closer than this (Euclidean) to a slower kept point are duplicates.
        discrete_time: ``velocity`` is step(h) − h of a discrete-time map, so stability is |1 + λ| < 1
            (default: the velocity's own ``discrete_time`` attribute, as :func:`model_velocity` sets it, else
            False).
    """
    if discrete_time is None:
        discrete_time = bool(getattr(velocity, "discrete_time", False))
    if slow_tolerance < fixed_tolerance:
        raise ValueError("slow_tolerance must be >= fixed_tolerance")
    states, q = minimise_speed(velocity, initial_states, method=method, max_iter=max_iter)
    order = np.argsort(q, kind="stable")
    kept: list[int] = []
    for i in order:
        if not q[i] < slow_tolerance:
            break
        if all(np.linalg.norm(states[i] - states[j]) > distinct_tolerance for j in kept):
            kept.append(int(i))
    n_units = states.shape[1]
    if not kept:
        empty = np.zeros((0, n_units))
        return FixedPoints(states=empty, speed=np.zeros(0), jacobians=np.zeros((0, n_units, n_units)),
                           eigenvalues=np.zeros((0, n_units), dtype=complex), stable=np.zeros(0, dtype=bool),
                           is_fixed=np.zeros(0, dtype=bool), discrete_time=discrete_time)
    points = states[kept]
    jacobians = np.stack([jacobian(velocity, p) for p in points])
    eigenvalues = np.linalg.eigvals(jacobians)
    rates = growth(eigenvalues, discrete_time)
    order = np.argsort(-rates, axis=1, kind="stable")
    eigenvalues, rates = np.take_along_axis(eigenvalues, order, axis=1), np.take_along_axis(rates, order, axis=1)
    return FixedPoints(states=points, speed=q[kept], jacobians=jacobians, eigenvalues=eigenvalues,
                       stable=np.all(rates < 0, axis=1), is_fixed=q[kept] < fixed_tolerance,
                       discrete_time=discrete_time)
