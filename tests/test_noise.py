"""The fast Gaussian sampler behind input noise."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from neurotasks.noise import standard_normal


def test_moments_and_independence():
    x = standard_normal(np.random.default_rng(0), 1_000_001)
    assert x.dtype == np.float32 and x.shape == (1_000_001,)
    assert abs(x.mean()) < 5e-3 and x.std() == pytest.approx(1.0, abs=3e-3)
    assert (x.astype(np.float64) ** 4).mean() == pytest.approx(3.0, abs=0.03)      # Gaussian kurtosis
    assert abs(np.corrcoef(x[:-1], x[1:])[0, 1]) < 5e-3
    half = len(x) // 2                                                         # the cos and sin halves
    assert abs(np.corrcoef(x[:half], x[half + 1:2 * half + 1])[0, 1]) < 5e-3
    # tail probabilities of N(0, 1)
    assert np.mean(np.abs(x) > 1.96) == pytest.approx(0.05, abs=2e-3)
    assert np.mean(np.abs(x) > 3.0) == pytest.approx(0.0027, abs=3e-4)


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 50))
def test_deterministic_and_sized(seed, n):
    a = standard_normal(np.random.default_rng(seed), n)
    b = standard_normal(np.random.default_rng(seed), n)
    assert a.shape == (n,) and np.array_equal(a, b) and np.all(np.isfinite(a))
