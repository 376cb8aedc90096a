"""Linear tuning of units to a stimulus parameter over time (Song, Yang & Wang 2016, Fig. 7C and 7E).

Following Romo et al. (1999) and Brody et al. (2003), the rate of each unit at each time is fitted as
r(t) = a₀(t) + a₁(t) f₁ across trials. A unit is significantly tuned at time t where the two-sided
p-value of a₁(t) (t-test with n − 2 degrees of freedom) is below 0.05; Fig. 7E shows the share of
such units over the trial, Fig. 7C the correlation across units of a₁ at each time with a₁ at a
reference time (mid f1, mid delay), which shows the tuning being kept or flipped through the delay.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class LinearTuning:
    """Per-step, per-unit fits of r = a₀ + a₁ f: ``slope`` a₁ and ``intercept`` a₀ (T, N), ``p_value`` (T, N)
    of the slope (two-sided; NaN where a unit does not vary), ``n_trials`` the trials fitted."""

    slope: np.ndarray
    intercept: np.ndarray
    p_value: np.ndarray
    n_trials: int

    def fraction_tuned(self, alpha: float = 0.05) -> dict[str, np.ndarray]:
        """(T,) fractions of units with a significant positive slope, negative slope, and either."""
        significant = np.nan_to_num(self.p_value, nan=1.0) < alpha
        positive = (significant & (self.slope > 0)).mean(axis=1)
        negative = (significant & (self.slope < 0)).mean(axis=1)
        return {"positive": positive, "negative": negative, "any": positive + negative}

    def slope_correlation(self, reference: int) -> np.ndarray:
        """(T,) Pearson correlation across units of a₁(t) with a₁ at step ``reference`` (NaN where a₁ is flat)."""
        if not 0 <= reference < self.slope.shape[0]:
            raise ValueError(f"reference must be a step in [0, {self.slope.shape[0]}), got {reference}")
        a = self.slope - self.slope.mean(axis=1, keepdims=True)
        b = a[reference]
        norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(norms > 0, a @ b / norms, np.nan)


def linear_tuning(rates: Any, stimulus: Any) -> LinearTuning:
    """Least-squares r = a₀ + a₁ ``stimulus`` for every unit at every step.

    Args:
        rates: (B, T, N) rates of B trials on a common time axis (e.g. all with the same delay).
        stimulus: (B,) the parameter per trial (f1 in Hz), with at least two distinct values.

    Raises:
        ValueError: bad shapes, non-finite values, fewer than 3 trials or a constant stimulus.
    """
    r = np.asarray(rates, dtype=float)
    f = np.asarray(stimulus, dtype=float).reshape(-1)
    if r.ndim != 3:
        raise ValueError(f"rates must have shape (B, T, N), got {r.shape}")
    if f.shape[0] != r.shape[0]:
        raise ValueError(f"stimulus must have one value per trial ({r.shape[0]}), got {f.shape[0]}")
    if r.shape[0] < 3:
        raise ValueError(f"linear tuning needs at least 3 trials, got {r.shape[0]}")
    if not (np.all(np.isfinite(r)) and np.all(np.isfinite(f))):
        raise ValueError("rates and stimulus must be finite")
    centred = f - f.mean()
    sxx = float(centred @ centred)
    if sxx == 0:
        raise ValueError("stimulus must take at least two distinct values")
    n = f.size
    mean_r = r.mean(axis=0)                                          # (T, N)
    slope = np.einsum("b,btn->tn", centred, r) / sxx
    intercept = mean_r - slope * f.mean()
    residual = r - intercept[None] - slope[None] * f[:, None, None]
    dof = n - 2
    s2 = np.sum(residual**2, axis=0) / max(dof, 1)
    se = np.sqrt(s2 / sxx)
    with np.errstate(invalid="ignore", divide="ignore"):
        t_stat = np.where(se > 0, slope / se, np.where(np.abs(slope) > 0, np.inf, np.nan))
    p_value = 2 * stats.t.sf(np.abs(t_stat), dof) if dof > 0 else np.full_like(slope, np.nan)
    return LinearTuning(slope=slope, intercept=intercept, p_value=p_value, n_trials=n)
