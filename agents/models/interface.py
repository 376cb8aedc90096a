"""The surface every network model shares, and the argument checks that give every model the same errors.

The trainer, ``agents.load``, ``agents.simulate``, the analyses and the run folder only use this surface
(:class:`Model`), so any registered model (:mod:`agents.models.registry`) trains, saves, loads and
simulates the same way:

- built from a JSON-able config: ``Class(n_in=..., n_out=..., **its own arguments)`` (``seed`` among them);
- ``model.config``: those arguments back (a dict, JSON-able), so ``Class(**model.config)`` rebuilds it
  and ``load_state_dict`` then makes it identical (the registry adds the model's name);
- ``forward(inputs (B, T, n_in), dt, noise=True, generator=None)`` -> outputs (B, T, n_out), rates (B, T, N);
- ``n_in``, ``n_out``, ``n_units`` (N), ``sigma_rec`` (0 for models without recurrent noise);
- ``weights()``: the weight matrices the L1/L2 penalties act on;
- a state dict of tensors only (safetensors-friendly).

Optional capabilities, each found by the methods it names:

- :class:`RateModel` (``eirnn``, ``rnn``, ``lowrank``): a continuous-time rate network
  τ dx/dt = -x + W_rec f(x) + W_in u + b_rec, with ``effective_weights()`` (NumPy ``W_in``, ``W_rec``,
  ``W_out``, ``b_rec``, ``b_out``, ``x0``), ``nonlinearity`` and ``tau``: what
  :func:`agents.analysis.fixed_points.dynamics_from_model` reads; recurrent and readout masks as buffers
  (``mask_rec``, ``mask_out``), which :func:`agents.analysis.lesions.lesion_model` multiplies.
- :class:`TracedModel` (``rnn``, ``lowrank``): the fused forward pass without autograd and its hand-written
  backward pass, for a training step that needs no autograd at all.
- :class:`SteppedModel` (``gru``, ``lstm``): a discrete-time map with ``velocity(inputs)`` (step(h) - h) for
  :func:`agents.analysis.fixed_points.find_fixed_points`, and ``lesioned(rec_mask, out_column_mask)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch


@runtime_checkable
class Model(Protocol):
    """What every model offers (see the module docstring)."""

    n_in: int
    n_out: int
    n_units: int
    sigma_rec: float
    config: dict[str, Any]

    def forward(self, inputs: torch.Tensor, dt: float, noise: bool = True,
                generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]: ...

    def weights(self) -> tuple[torch.Tensor, ...]: ...

    def state_dict(self) -> dict[str, torch.Tensor]: ...


@runtime_checkable
class RateModel(Model, Protocol):
    """A continuous-time rate network the fixed-point and lesion analyses understand."""

    nonlinearity: str
    tau: torch.Tensor

    def effective_weights(self) -> dict[str, np.ndarray]: ...


@runtime_checkable
class TracedModel(RateModel, Protocol):
    """A rate network whose training step can run outside autograd (see :mod:`agents.models.base`)."""

    def draw_noise(self, n_trials: int, n_steps: int,
                   generator: torch.Generator | None = None) -> torch.Tensor: ...

    def run_traced(self, inputs: torch.Tensor, dt: float, noise: bool = True,
                   generator: torch.Generator | None = None, noise_workspace: torch.Tensor | None = None,
                   buffers: Any = None, check_finite: bool = True) -> tuple[torch.Tensor, torch.Tensor, Any]: ...

    def backward_traced(self, trace: Any, grad_outputs: torch.Tensor | None, grad_rates: torch.Tensor | None = None,
                        omega: Any = None) -> dict[str, torch.Tensor]: ...


@runtime_checkable
class SteppedModel(Model, Protocol):
    """A discrete-time network (one step per time step of the task) with its one-step map exposed."""

    def velocity(self, inputs: Any = None) -> Callable[[torch.Tensor], torch.Tensor]: ...

    def lesioned(self, rec_mask: Any, out_column_mask: Any) -> torch.nn.Module: ...


# ---------------------------------------------------------------------- argument checks
# Every model checks every argument at construction, with a ValueError that names it.
def positive_int(value: Any, name: str) -> int:
    """``value`` as an int >= 1 (bools are not ints here)."""
    if not isinstance(value, (int, np.integer)) or isinstance(value, (bool, np.bool_)) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def number(value: Any, name: str, *, minimum: float | None = None, above: float | None = None,
           maximum: float | None = None) -> float:
    """``value`` as a finite float, optionally ``>= minimum``, ``> above`` or ``<= maximum``."""
    if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, (bool, np.bool_)) \
            or not math.isfinite(float(value)):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    value = float(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    if above is not None and not value > above:
        raise ValueError(f"{name} must be > {above}, got {value!r}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value!r}")
    return value


def boolean(value: Any, name: str) -> bool:
    """``value`` as a bool (only True or False)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be true or false, got {value!r}")
    return bool(value)


def one_of(value: Any, name: str, options: Sequence[str]) -> str:
    """``value`` if it is one of ``options``."""
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {sorted(options)}, got {value!r}")
    return value


def seed_value(value: Any, name: str = "seed") -> int | None:
    """None (fresh entropy) or an int >= 0."""
    if value is None:
        return None
    if not isinstance(value, (int, np.integer)) or isinstance(value, (bool, np.bool_)) or value < 0:
        raise ValueError(f"{name} must be None or an int >= 0, got {value!r}")
    return int(value)


def check_dt(dt: Any) -> float:
    """The time step of ``forward``: a finite number > 0 (ms)."""
    if not (isinstance(dt, (int, float, np.floating, np.integer)) and not isinstance(dt, (bool, np.bool_))
            and math.isfinite(dt) and dt > 0):
        raise ValueError(f"dt must be a finite number > 0, got {dt!r}")
    return float(dt)


def check_inputs(inputs: Any, n_in: int) -> None:
    """``inputs`` must be a (B, T, n_in) tensor with B, T >= 1."""
    if not isinstance(inputs, torch.Tensor):
        raise TypeError(f"inputs must be a torch.Tensor, got {type(inputs).__name__}")
    if inputs.dim() != 3 or inputs.shape[-1] != n_in:
        raise ValueError(f"inputs must have shape (B, T, n_in={n_in}), got {tuple(inputs.shape)}")
    if inputs.shape[0] == 0 or inputs.shape[1] == 0:
        raise ValueError(f"inputs must hold at least one trial and one step, got {tuple(inputs.shape)}")


def check_finite(inputs: torch.Tensor) -> None:
    """ValueError if ``inputs`` hold NaN or Inf."""
    # a finite sum means every entry is finite (NaN and ±Inf propagate); only otherwise check entry by entry
    if not math.isfinite(float(inputs.sum())) and not bool(torch.isfinite(inputs).all()):
        raise ValueError("inputs contain NaN or Inf values")
