"""Run a network on a trial batch: NumPy in, NumPy out."""

from __future__ import annotations

import numpy as np
import torch

from neurotasks.batch import TrialBatch


def simulate(model: torch.nn.Module, batch: TrialBatch, noise: bool = True, seed: int | None = None
             ) -> tuple[np.ndarray, np.ndarray]:
    """Outputs (B, T, n_out) and rates (B, T, N), float32, of ``model`` on ``batch`` at ``batch.dt``.

    ``noise=False`` runs the noiseless network; with noise, the same ``seed`` gives the same
    recurrent noise (``None``: fresh noise). Gradients are not recorded.
    """
    if not isinstance(batch, TrialBatch):
        raise TypeError(f"batch must be a neurotasks.TrialBatch, got {type(batch).__name__}")
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
