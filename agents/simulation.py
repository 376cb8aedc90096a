"""Run a network on a trial batch: NumPy in, NumPy out."""

from __future__ import annotations

import numpy as np
import torch

from neurotasks.batch import TrialBatch


def simulate(model: torch.nn.Module, batch: TrialBatch, noise: bool = True, seed: int | None = None
             ) -> tuple[np.ndarray, np.ndarray]:
    """Outputs (B, T, n_out) and rates (B, T, N), float32, of ``model`` on ``batch`` at ``batch.dt``.

    ``model`` is any network of the model zoo (:mod:`agents.models.registry`): the rate networks run at
    ``batch.dt``, the gated ones one step per time step, and their rates are their hidden states.
    ``noise=False`` runs the noiseless network; with noise, the same ``seed`` gives the same
    recurrent noise (``None``: fresh noise; the gated networks have none). Gradients are not recorded.
    """
    generator = _checked(model, batch, noise, seed)
    with torch.no_grad():
        outputs, rates = model(_inputs(model, batch.inputs), float(batch.dt), noise=noise, generator=generator)
    return (outputs.cpu().numpy().astype(np.float32, copy=False),
            np.ascontiguousarray(rates.cpu().numpy(), dtype=np.float32))


def simulate_outputs(model: torch.nn.Module, batch: TrialBatch, noise: bool = True, seed: int | None = None,
                     chunk: int = 1024) -> np.ndarray:
    """Outputs (B, T, n_out), float32, of ``model`` on ``batch``, ``chunk`` trials at a time.

    For large evaluations: the rates, which take ``n_units / n_out`` times the memory of the outputs,
    exist for one chunk only (14,336 yang19 trials: 1 GB of inputs instead of 10 GB at the peak). The
    chunks draw their recurrent noise from one generator in turn, so a ``seed`` still fixes the result
    (for a given ``chunk``); the noise is the same distribution as :func:`simulate`'s, not the same draws.
    """
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise ValueError(f"chunk must be a positive integer, got {chunk!r}")
    generator = _checked(model, batch, noise, seed)
    outputs = np.empty((len(batch), batch.n_steps, int(model.n_out)), np.float32)
    with torch.no_grad():
        for start in range(0, len(batch), chunk):
            rows = slice(start, start + chunk)
            z, _ = model(_inputs(model, batch.inputs[rows]), float(batch.dt), noise=noise, generator=generator)
            outputs[rows] = z.cpu().numpy()
    return outputs


def _checked(model: torch.nn.Module, batch: TrialBatch, noise: bool, seed: int | None) -> torch.Generator | None:
    """TypeError unless ``model`` is a network and ``batch`` a TrialBatch; the noise generator ``seed`` fixes."""
    if not isinstance(batch, TrialBatch):
        raise TypeError(f"batch must be a neurotasks.TrialBatch, got {type(batch).__name__}")
    if not isinstance(model, torch.nn.Module):
        hint = (" (an RL agent acts rather than being simulated: agents.rl.acting.policy_actions(model, batch))"
                if hasattr(model, "policy") else "")
        raise TypeError(f"model must be a network of the model zoo (a torch.nn.Module), got "
                        f"{type(model).__name__}{hint}")
    if not (noise and seed is not None):
        return None
    generator = torch.Generator(device=next(model.parameters()).device)
    generator.manual_seed(int(seed))
    return generator


def _inputs(model: torch.nn.Module, inputs: np.ndarray) -> torch.Tensor:
    device = next(model.parameters()).device
    return torch.from_numpy(np.ascontiguousarray(inputs, dtype=np.float32)).to(device)
