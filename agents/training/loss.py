"""The objective: masked squared error (Song et al. 2016, Eqs 15-16) plus optional penalties (Eqs 27-29)."""

from __future__ import annotations

import torch


def masked_mse(outputs: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Sum of squared errors where the task's error mask is on, divided by the mask's sum (pycog's loss)."""
    return ((outputs - targets).square() * mask).sum() / mask.sum().clamp_min(1.0)


def weight_penalty(model: torch.nn.Module, l1: float = 0.0, l2: float = 0.0) -> torch.Tensor | None:
    """``l1`` x mean |W| + ``l2`` x mean W² over the effective input, recurrent and output weights."""
    if not l1 and not l2:
        return None
    total = None
    for w in model.weights():
        term = 0.0
        if l1:
            term = term + l1 * w.abs().mean()
        if l2:
            term = term + l2 * w.square().mean()
        total = term if total is None else total + term
    return total


def rate_penalty(rates: torch.Tensor, l2: float, valid: torch.Tensor | None = None) -> torch.Tensor | None:
    """``l2`` x mean squared firing rate over real (non-padding) steps (encourages small rates)."""
    if not l2:
        return None
    squared = rates.square().mean(-1)                        # (B, T)
    if valid is None:
        return l2 * squared.mean()
    return l2 * (squared * valid).sum() / valid.sum().clamp_min(1.0)
