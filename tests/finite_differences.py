"""The check that autograd's gradient of a loss agrees with central finite differences, at a few entries of
each parameter, shared by the policy-gradient tests."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pytest
import torch


def assert_gradients_match_finite_differences(loss: Callable[[], torch.Tensor], params: Mapping[str, torch.Tensor],
                                              entries: int = 3, h: float = 1e-6, seed: int = 0) -> None:
    """``entries`` random entries of every parameter: d loss / d entry by autograd equals (f(+h) - f(-h)) / 2h."""
    grads = dict(zip(params, torch.autograd.grad(loss(), list(params.values())), strict=True))
    rng = np.random.default_rng(seed)
    for name, p in params.items():
        for _ in range(entries):
            index = tuple(int(rng.integers(0, s)) for s in p.shape)
            with torch.no_grad():
                p[index] += h
                up = float(loss())
                p[index] -= 2 * h
                down = float(loss())
                p[index] += h
            assert float(grads[name][index]) == pytest.approx((up - down) / (2 * h), rel=1e-5, abs=1e-8), name
