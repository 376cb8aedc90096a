"""The fast Gaussian sampler behind input noise."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from neurotasks.noise import BLOCK, SMALL, add_normals, standard_normal


def test_moments_and_independence():
    x = standard_normal(np.random.default_rng(0), 1_000_001)
    assert x.dtype == np.float32 and x.shape == (1_000_001,)
    assert abs(x.mean()) < 5e-3 and x.std() == pytest.approx(1.0, abs=3e-3)
    assert (x.astype(np.float64) ** 4).mean() == pytest.approx(3.0, abs=0.03)      # Gaussian kurtosis
    assert abs(np.corrcoef(x[:-1], x[1:])[0, 1]) < 5e-3
    pairs = x[: 2 * BLOCK * (len(x) // (2 * BLOCK))].reshape(-1, 2, BLOCK)     # each block: cos half, sin half
    assert abs(np.corrcoef(pairs[:, 0].ravel(), pairs[:, 1].ravel())[0, 1]) < 5e-3
    assert abs(np.corrcoef(pairs[:, 0].ravel() ** 2, pairs[:, 1].ravel() ** 2)[0, 1]) < 5e-3   # r and θ independent
    # tail probabilities of N(0, 1)
    assert np.mean(np.abs(x) > 1.96) == pytest.approx(0.05, abs=2e-3)
    assert np.mean(np.abs(x) > 3.0) == pytest.approx(0.0027, abs=3e-4)


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 50))
def test_deterministic_and_sized(seed, n):
    a = standard_normal(np.random.default_rng(seed), n)
    b = standard_normal(np.random.default_rng(seed), n)
    assert a.shape == (n,) and np.array_equal(a, b) and np.all(np.isfinite(a))


@pytest.mark.parametrize("n", [SMALL, SMALL + 1, 2 * BLOCK - 1, 2 * BLOCK, 2 * BLOCK + 1, 5 * BLOCK + 3])
def test_every_path_and_block_edge_fills_all_samples(n):
    out = np.full(n, np.nan, np.float32)
    assert standard_normal(np.random.default_rng(1), n, out=out) is out
    assert np.all(np.isfinite(out)) and out.std() == pytest.approx(1.0, abs=0.1)
    assert np.array_equal(out, standard_normal(np.random.default_rng(1), n))


@pytest.mark.parametrize("n", [10, 100_000])
def test_scale_is_the_standard_deviation(n):
    a = standard_normal(np.random.default_rng(2), n)
    b = standard_normal(np.random.default_rng(2), n, scale=0.25)
    np.testing.assert_allclose(b, 0.25 * a, rtol=1e-6, atol=1e-7)


def test_fills_a_shaped_buffer():
    out = np.zeros((7, 300, 3), np.float32)
    standard_normal(np.random.default_rng(3), out.size, out=out)
    assert np.all(out != 0)


@pytest.mark.parametrize("counts", [[SMALL + 1, 3, 2 * BLOCK + 7, 1000, 0], [5000] * 7, [1, 2, 3]])
def test_many_generators_at_once_draw_each_ones_own_samples(counts):
    out = np.full(sum(counts), 0.5, np.float32)
    add_normals([np.random.default_rng(s) for s in range(len(counts))], counts, out, scale=0.3)
    alone = np.full(sum(counts), 0.5, np.float32)
    start = 0
    for s, n in enumerate(counts):
        standard_normal(np.random.default_rng(s), n, out=alone[start:start + n], scale=0.3, add=True)
        start += n
    np.testing.assert_array_equal(out, alone)


def test_kept_work_arrays_give_the_same_samples_and_are_reused():
    """``add_normals`` with a caller's kept work arrays (dirty from an earlier draw) draws exactly
    what it draws with fresh ones, and the arrays are the same memory from one draw to the next."""
    from neurotasks.work_arrays import WorkArrays

    work = WorkArrays()
    counts = [5000, 7000, 3]
    addresses = []
    for seed in range(3):
        out, fresh = np.zeros(sum(counts), np.float32), np.zeros(sum(counts), np.float32)
        add_normals([np.random.default_rng(seed + i) for i in range(3)], counts, out, 0.5, work=work)
        add_normals([np.random.default_rng(seed + i) for i in range(3)], counts, fresh, 0.5)
        np.testing.assert_array_equal(out, fresh)
        addresses.append(work("normal_radius", 1).ctypes.data)
    assert len(set(addresses)) == 1
