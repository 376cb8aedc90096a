"""The check that an update outside autograd gives the autograd update's numbers, shared by the E/I network's
tests and the model zoo's."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
import torch

from agents.training.trainer import UpdateStep, make_optimizer


def assert_update_by_hand_equals_autograd(build: Callable[[], torch.nn.Module], settings, path: str | None = None,
                                          omega_finite: bool = False) -> None:
    """Four updates of different lengths (noise drawn ahead in two, so buffers are reused) by hand and by
    autograd, on two copies of ``build()``: the same loss, Ω and gradient norm each time, then the same
    weights and gradients. ``path``: the gradient path the step must take."""
    results = {}
    for by_hand in (True, False):
        model = build()
        step = UpdateStep(model, make_optimizer(model, settings), settings, torch.Generator().manual_seed(0))
        if path is not None:
            assert step.path == path
        step.by_hand = by_hand
        gen = torch.Generator().manual_seed(1)
        stats = []
        for n_steps, ahead in ((10, False), (6, True), (14, True), (10, False)):
            inputs, targets = torch.rand(4, n_steps, 3, generator=gen), torch.rand(4, n_steps, 2, generator=gen)
            mask = (torch.rand(4, n_steps, 2, generator=gen) > 0.3).float()
            workspace = model.draw_noise(4, n_steps, torch.Generator().manual_seed(n_steps)) if ahead else None
            stats.append(step(inputs, targets, mask, 20.0, noise_workspace=workspace))
        results[by_hand] = model, stats
    (hand, hand_stats), (auto, auto_stats) = results[True], results[False]
    for a, b in zip(hand_stats, auto_stats, strict=True):
        assert a["ok"] and b["ok"]
        if omega_finite:
            assert math.isfinite(a["omega"])
        for key in ("loss", "omega", "grad_norm"):
            assert a[key] == pytest.approx(b[key], rel=1e-4), key
    for (name, p), q in zip(hand.named_parameters(), auto.parameters(), strict=True):
        torch.testing.assert_close(p.detach(), q.detach(), rtol=1e-5, atol=1e-6, msg=name)
        if p.requires_grad:
            torch.testing.assert_close(p.grad, q.grad, rtol=1e-4, atol=1e-7, msg=name)
