"""Initial weights as in Song, Yang & Wang (2016) and pycog.

Recurrent magnitudes come from a gamma distribution (shape 2). In every row the inhibitory
weights are rescaled so that the summed excitatory and inhibitory input magnitudes are equal
(E/I balance), then the whole plastic matrix is scaled so that the spectral radius of the
*effective* recurrent matrix is ``rho``. Input and output weights are 0.1 x U(0, 1).
Without Dale's law the recurrent weights are Gaussian with variance 1/(pN), p the connection density.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

GAMMA_SHAPE = 2.0


def spectral_radius(w: np.ndarray) -> float:
    """Largest absolute eigenvalue."""
    return float(np.max(np.abs(np.linalg.eigvals(np.asarray(w, dtype=np.float64))))) if w.size else 0.0


def balanced_gamma(mask: np.ndarray, n_exc: int, rng: np.random.Generator) -> np.ndarray:
    """(N, N) non-negative magnitudes, zero where ``mask`` is 0, with sum_E |w| = sum_I |w| in every row
    that has both excitatory and inhibitory inputs."""
    w = rng.gamma(GAMMA_SHAPE, 1.0 / GAMMA_SHAPE, size=mask.shape) * (mask != 0)
    exc_sum = w[:, :n_exc].sum(axis=1)
    inh_sum = w[:, n_exc:].sum(axis=1)
    scale = np.divide(exc_sum, inh_sum, out=np.ones_like(exc_sum), where=(inh_sum > 0) & (exc_sum > 0))
    w[:, n_exc:] *= scale[:, None]
    return w


def gaussian(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(N, N) N(0, 1/(pN)) weights, p the fraction of allowed connections (networks without Dale's law)."""
    n = mask.shape[0]
    density = max(float(np.mean(mask != 0)), 1.0 / max(n * n, 1))
    return rng.normal(0.0, 1.0 / np.sqrt(density * n), size=mask.shape) * (mask != 0)


def scale_to_radius(plastic: np.ndarray, effective: Callable[[np.ndarray], np.ndarray], rho: float,
                    max_iter: int = 30, rtol: float = 1e-6) -> np.ndarray:
    """Scale ``plastic`` so that ``spectral_radius(effective(plastic)) == rho``.

    One step when the effective matrix is linear in the plastic one (no fixed weights); a few
    fixed-point steps otherwise.
    """
    if rho <= 0:
        return plastic * 0.0
    w = plastic
    for _ in range(max_iter):
        current = spectral_radius(effective(w))
        if current == 0.0:
            return w
        if abs(current - rho) <= rtol * rho:
            break
        w = w * (rho / current)
    return w


def uniform_small(shape: tuple[int, ...], mask: np.ndarray | None, rng: np.random.Generator) -> np.ndarray:
    """0.1 x U(0, 1), zero where ``mask`` is 0."""
    w = 0.1 * rng.random(shape)
    return w if mask is None else w * (mask != 0)
