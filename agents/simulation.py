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
    if not isinstance(batch, TrialBatch):
        raise TypeError(f"batch must be a neurotasks.TrialBatch, got {type(batch).__name__}")
    if not isinstance(model, torch.nn.Module):
        hint = (" (an RL agent acts rather than being simulated: agents.rl.acting.policy_actions(model, batch))"
                if hasattr(model, "policy") else "")
        raise TypeError(f"model must be a network of the model zoo (a torch.nn.Module), got "
                        f"{type(model).__name__}{hint}")
    param = next(model.parameters())
    generator = None
    if noise and seed is not None:
        generator = torch.Generator(device=param.device)
        generator.manual_seed(int(seed))
    inputs = torch.from_numpy(np.ascontiguousarray(batch.inputs, dtype=np.float32)).to(param.device)
    with torch.no_grad():
        outputs, rates = model(inputs, float(batch.dt), noise=noise, generator=generator)
    return (outputs.cpu().numpy().astype(np.float32, copy=False),
            np.ascontiguousarray(rates.cpu().numpy(), dtype=np.float32))
