"""Optimal (Bayesian) cue combination: the threshold two independent cues predict together.

With two cues whose psychometric thresholds (Gaussian noise sd) are σ₁ and σ₂, an observer that
weights each by its reliability 1/σ² reaches σ_pred = sqrt(σ₁² σ₂² / (σ₁² + σ₂²)) (Ernst & Banks
2002). Raposo et al. (2014) found rats near this bound on the multisensory rate task, and Song,
Yang & Wang (2016, Fig. 6B) show the trained network's multisensory enhancement; comparing its
multisensory threshold with σ_pred says whether it integrates optimally (ratio 1), sub-optimally
(> 1) or better than independent cues allow (< 1, i.e. the cues' noise is shared or the single-cue
trials are handled worse than they could be).
"""

from __future__ import annotations

import math


def optimal_threshold(sigma_1: float, sigma_2: float, se_1: float = math.nan,
                      se_2: float = math.nan) -> tuple[float, float]:
    """(σ_pred, its standard error by the delta method from ``se_1`` and ``se_2``; NaN if those are unknown).

    Raises:
        ValueError: a threshold that is not a finite number > 0.
    """
    for name, value in (("sigma_1", sigma_1), ("sigma_2", sigma_2)):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a finite threshold > 0, got {value!r}")
    a2, b2 = sigma_1**2, sigma_2**2
    predicted = math.sqrt(a2 * b2 / (a2 + b2))
    # ∂σ/∂σ₁ = σ₂³ / (σ₁² + σ₂²)^{3/2}, and symmetrically
    scale = (a2 + b2) ** 1.5
    d1, d2 = sigma_2**3 / scale, sigma_1**3 / scale
    se = math.sqrt((d1 * se_1) ** 2 + (d2 * se_2) ** 2)
    return predicted, se
