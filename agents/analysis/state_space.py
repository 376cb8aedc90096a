"""Population state space: PCA and targeted dimensionality reduction by regression.

PCA of condition-averaged rates shows the dominant trajectories (Song, Yang & Wang 2016, Fig. 8C).
Targeted dimensionality reduction (Mante, Sussillo, Shenoy & Newsome 2013; the paper's Fig. 4B)
finds the axes along which task variables (choice, motion, colour, context...) are encoded:

1. z-score each unit;
2. at every time step regress each unit's rate across trials on the task variables:
   r_i,t(trial) = Σ_v β_v,i,t F_v(trial) + β_0,i,t;
3. denoise the coefficient vectors β_v,t (length N) by projecting them onto the top principal
   components of the condition-averaged population response;
4. for each variable take the vector at the time its norm is largest, β_v^max;
5. orthogonalise these vectors by QR in the order given (so the first variable keeps its axis).

Projecting condition averages on the resulting orthonormal axes gives the paper's Fig. 4B.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from agents.analysis.trial_average import condition_average


@dataclass(frozen=True)
class PCA:
    """Principal components of (samples, N) data: ``components`` (k, N) orthonormal rows, ``mean`` (N,),
    ``explained_variance`` (k,) and its ``explained_variance_ratio`` over the total variance."""

    mean: np.ndarray
    components: np.ndarray
    explained_variance: np.ndarray
    explained_variance_ratio: np.ndarray

    def project(self, data: Any) -> np.ndarray:
        """(..., N) -> (..., k) coordinates on the components (NaN rows stay NaN)."""
        return (np.asarray(data, dtype=float) - self.mean) @ self.components.T


def fit_pca(data: Any, n_components: int | None = None) -> PCA:
    """PCA of ``data`` (..., N): every leading index is a sample (e.g. condition × time of
    condition-averaged rates); samples containing NaN are dropped."""
    data = np.asarray(data, dtype=float)
    if data.ndim < 2:
        raise ValueError(f"data must have shape (..., N) with at least 2 dimensions, got {data.shape}")
    flat = data.reshape(-1, data.shape[-1])
    flat = flat[np.all(np.isfinite(flat), axis=1)]
    if flat.shape[0] < 2:
        raise ValueError("PCA needs at least two samples without NaN")
    mean = flat.mean(axis=0)
    _, s, vt = np.linalg.svd(flat - mean, full_matrices=False)
    variance = s**2 / (flat.shape[0] - 1)
    k = vt.shape[0] if n_components is None else int(n_components)
    if not 1 <= k <= vt.shape[0]:
        raise ValueError(f"n_components must lie in [1, {vt.shape[0]}], got {n_components}")
    total = variance.sum()
    ratio = variance[:k] / total if total > 0 else np.zeros(k)
    return PCA(mean=mean, components=vt[:k], explained_variance=variance[:k], explained_variance_ratio=ratio)


@dataclass(frozen=True)
class RegressionSubspace:
    """Task-variable axes from targeted dimensionality reduction.

    Attributes:
        names: the task variables, in orthogonalisation order.
        coefficients: (V, T, N) raw regression coefficients β_v,t (of z-scored rates).
        denoised: (V, T, N) coefficients projected on the top principal components.
        t_max: (V,) step at which each denoised coefficient vector has the largest norm.
        axes: (V, N) orthonormal axes (QR of the β_v^max), each signed to agree with its β_v^max.
        mean, scale: (N,) what rates were z-scored with.
        pca: the PCA used for denoising (None when denoising was off).
    """

    names: tuple[str, ...]
    coefficients: np.ndarray
    denoised: np.ndarray
    t_max: np.ndarray
    axes: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    pca: PCA | None

    def project(self, rates: Any) -> np.ndarray:
        """(..., N) rates -> (..., V) coordinates on the task axes."""
        return ((np.asarray(rates, dtype=float) - self.mean) / self.scale) @ self.axes.T

    def axis(self, name: str) -> np.ndarray:
        return self.axes[self.names.index(name)]


def regression_subspace(rates: Any, variables: Mapping[str, Any], *, n_pcs: int | None = 12,
                        condition_labels: Mapping[str, Any] | None = None, zscore: bool = True) -> RegressionSubspace:
    """Targeted dimensionality reduction (Mante et al. 2013) of trial-by-trial rates.

    Args:
        rates: (B, T, N) rates of B trials in a common time window (e.g. ``align``-ed to stimulus
            onset; NaN where a trial has no data: such trials are left out of that step's regression).
        variables: name -> (B,) numeric task variable per trial, e.g. choice coded ±1, signed
            motion coherence, context ±1. The order sets the orthogonalisation order.
        n_pcs: principal components kept for denoising (capped at what the data have); None: no denoising.
        condition_labels: name -> (B,) labels defining the conditions averaged for the denoising PCA;
            default: the combinations of ``variables``.
        zscore: z-score each unit over all trials and steps first (Mante et al.).

    Raises:
        ValueError: bad shapes, no variables, or fewer usable trials than variables + 1 at every step.
    """
    rates = np.asarray(rates, dtype=float)
    if rates.ndim != 3:
        raise ValueError(f"rates must have shape (B, T, N), got {rates.shape}")
    n_trials, n_steps, n_units = rates.shape
    if not variables:
        raise ValueError("variables must name at least one task variable")
    names = tuple(variables)
    design = np.stack([np.asarray(variables[k], dtype=float).reshape(-1) for k in names], axis=1)
    if design.shape[0] != n_trials:
        raise ValueError(f"every variable needs one value per trial ({n_trials}), got {design.shape[0]}")
    if not np.all(np.isfinite(design)):
        raise ValueError("task variables must be finite")
    design = np.concatenate([design, np.ones((n_trials, 1))], axis=1)

    mean = np.nanmean(rates.reshape(-1, n_units), axis=0) if zscore else np.zeros(n_units)
    scale = np.nanstd(rates.reshape(-1, n_units), axis=0) if zscore else np.ones(n_units)
    mean = np.nan_to_num(mean)
    scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
    z = (rates - mean) / scale

    coefficients = np.full((len(names), n_steps, n_units), np.nan)
    complete = np.all(np.isfinite(z), axis=(0, 2))
    if complete.any() and n_trials > design.shape[1]:    # one solve for every step all trials cover
        target = z[:, complete].reshape(n_trials, -1)
        beta, *_ = np.linalg.lstsq(design, target, rcond=None)
        coefficients[:, complete] = beta[:-1].reshape(len(names), -1, n_units)
    for t in np.flatnonzero(~complete):
        rows = np.all(np.isfinite(z[:, t]), axis=1)
        if rows.sum() > design.shape[1]:
            beta, *_ = np.linalg.lstsq(design[rows], z[rows, t], rcond=None)
            coefficients[:, t] = beta[:-1]
    usable = np.all(np.isfinite(coefficients), axis=(0, 2))
    if not usable.any():
        raise ValueError(f"no time step has more than {design.shape[1]} trials with data to regress on")

    pca = None
    denoised = coefficients.copy()
    if n_pcs is not None:
        labels = dict(condition_labels) if condition_labels is not None else {k: design[:, i]
                                                                              for i, k in enumerate(names)}
        averages = condition_average(z, labels).mean
        k = min(int(n_pcs), n_units, max(1, int(np.all(np.isfinite(averages), axis=-1).sum()) - 1))
        pca = fit_pca(averages, n_components=k)
        projector = pca.components.T @ pca.components
        denoised = coefficients @ projector

    norms = np.linalg.norm(np.where(np.isfinite(denoised), denoised, 0.0), axis=2)     # (V, T)
    t_max = np.argmax(norms, axis=1)
    best = denoised[np.arange(len(names)), t_max]                                         # (V, N)
    q, r = np.linalg.qr(best.T)
    axes = q.T * np.where(np.diag(r) < 0, -1.0, 1.0)[:, None]
    return RegressionSubspace(names=names, coefficients=coefficients, denoised=denoised, t_max=t_max,
                              axes=axes, mean=mean, scale=scale, pca=pca)
