"""jPCA: the plane in which a population's state rotates (Churchland et al. 2012, Nature 487: 51).

Kao (2021) reads the delayed-reach network's movement-period dynamics in such a plane. On the
top k principal components X (samples, k) of condition-averaged rates, with their time derivative
Ẋ, fit the best linear flow Ẋ ≈ X M twice: with M unconstrained and with M skew-symmetric
(M = −Mᵀ, a pure rotation). The skew fit's share of the variance of Ẋ says how rotational the
dynamics are; the eigenvector pair of M with the largest |imaginary eigenvalue| spans the jPCA
plane, and that eigenvalue is the rotation's angular frequency (radians per unit of time).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class JPCA:
    """A fitted rotational flow on k principal components.

    Attributes:
        skew: (k, k) the skew-symmetric M of Ẋ ≈ X M.
        plane: (2, k) orthonormal rows spanning the plane of fastest rotation (in PC coordinates).
        angular_frequency: |ω| of that plane, radians per unit of the times given.
        r2_skew: share of the variance of Ẋ the skew-symmetric fit explains.
        r2_full: the same for an unconstrained M (r2_skew / r2_full near 1: the flow is a rotation).
    """

    skew: np.ndarray
    plane: np.ndarray
    angular_frequency: float
    r2_skew: float
    r2_full: float

    def project(self, states: Any) -> np.ndarray:
        """(..., k) PC coordinates -> (..., 2) coordinates in the jPCA plane."""
        return np.asarray(states, dtype=float) @ self.plane.T


def _skew_basis(k: int) -> np.ndarray:
    """(k(k−1)/2, k, k) basis of the skew-symmetric matrices."""
    rows, cols = np.triu_indices(k, 1)
    basis = np.zeros((rows.size, k, k))
    basis[np.arange(rows.size), rows, cols] = 1.0
    basis[np.arange(rows.size), cols, rows] = -1.0
    return basis


def fit_jpca(states: Any, times: Any) -> JPCA:
    """jPCA of trajectories ``states`` (C, T, k) sampled at ``times`` (T,) (e.g. PC coordinates of the
    condition averages during a movement); the mean over conditions at each time is removed first, as
    Churchland et al. do, so the rotation is the conditions' differences.

    Raises:
        ValueError: bad shapes, fewer than 2 dimensions or 3 time points, non-finite data, or
            non-increasing times.
    """
    x = np.asarray(states, dtype=float)
    t = np.asarray(times, dtype=float).reshape(-1)
    if x.ndim != 3:
        raise ValueError(f"states must have shape (conditions, T, k), got {x.shape}")
    n_cond, n_steps, k = x.shape
    if k < 2 or n_steps < 3:
        raise ValueError(f"jPCA needs at least 2 dimensions and 3 time points, got k={k}, T={n_steps}")
    if t.shape != (n_steps,) or np.any(np.diff(t) <= 0):
        raise ValueError(f"times must be {n_steps} increasing values, got shape {t.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("states must be finite (cut the window to where every condition has data)")
    x = x - x.mean(axis=0, keepdims=True)
    derivative = np.gradient(x, t, axis=1).reshape(-1, k)
    flat = x.reshape(-1, k)
    total = float(np.sum(derivative**2))
    if total == 0:
        raise ValueError("states do not move: no flow to fit")
    full, *_ = np.linalg.lstsq(flat, derivative, rcond=None)
    basis = _skew_basis(k)                                            # (P, k, k)
    design = np.einsum("nk,pkj->njp", flat, basis).reshape(-1, basis.shape[0])
    weights, *_ = np.linalg.lstsq(design, derivative.reshape(-1), rcond=None)
    skew = np.einsum("p,pkj->kj", weights, basis)
    r2_skew = 1.0 - float(np.sum((derivative - flat @ skew) ** 2)) / total
    r2_full = 1.0 - float(np.sum((derivative - flat @ full) ** 2)) / total
    values, vectors = np.linalg.eig(skew)
    top = int(np.argmax(np.abs(values.imag)))
    u = vectors[:, top]
    plane = np.stack([u.real, u.imag])
    q, _ = np.linalg.qr(plane.T)
    plane = q.T
    # orient the plane so the rotation runs from the first axis towards the second (counter-clockwise)
    if float(plane[0] @ skew @ plane[1]) < 0:
        plane = plane[[1, 0]]
    return JPCA(skew=skew, plane=plane, angular_frequency=float(np.abs(values[top].imag)), r2_skew=r2_skew,
                r2_full=r2_full)
