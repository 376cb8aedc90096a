"""Psychometric and chronometric functions of a decision agent.

The psychometric function is the probability of choosing the first option as a function of a
signed stimulus variable (signed coherence in the random-dot task: positive values are evidence
for choice 1). Song, Yang & Wang (2016, Fig. 2C) fit it with a cumulative Gaussian; we add the
usual lapse rate so that a few random answers at strong evidence do not inflate the threshold:

    P(choice 1 | x) = λ/2 + (1 − λ) Φ((x − μ)/σ)

μ is the bias (the point of subjective equality), σ the threshold (the evidence that moves the
choice from 50 % to ~84 % of the way to the asymptote), λ the lapse rate. Fitted by maximum
likelihood on the binomial counts at each stimulus level.

The chronometric function is the mean reaction time of correct trials per (unsigned) stimulus
level (Fig. 2F); the same for error trials shows whether errors are slower than correct answers, as in
monkeys (Roitman & Shadlen 2002).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize, special

_EPS = 1e-12


@dataclass(frozen=True)
class PsychometricFit:
    """A fitted cumulative Gaussian with lapse.

    Attributes:
        bias: μ, the stimulus value where P(choice 1) = 1/2.
        threshold: σ > 0, the standard deviation of the cumulative Gaussian.
        lapse: λ in [0, max_lapse]; the asymptotes are λ/2 and 1 − λ/2.
        n_trials: trials the fit used.
        log_likelihood: binomial log-likelihood at the optimum.
        stderr: approximate standard errors of ``bias``, ``threshold``, ``lapse`` from the inverse
            Hessian of the negative log-likelihood (NaN when it is singular; λ's is NaN when λ is
            fixed or at a bound).
    """

    bias: float
    threshold: float
    lapse: float
    n_trials: int
    log_likelihood: float
    stderr: dict[str, float] = field(default_factory=dict)

    def predict(self, x: Any) -> np.ndarray:
        """P(choice 1) at stimulus values ``x`` (array-like; same units as the data)."""
        return _curve(np.asarray(x, dtype=float), self.bias, self.threshold, self.lapse)

    def as_dict(self) -> dict[str, float]:
        return {"bias": self.bias, "threshold": self.threshold, "lapse": self.lapse,
                "n_trials": self.n_trials, "log_likelihood": self.log_likelihood}

    def __str__(self) -> str:
        def se(name: str) -> str:
            value = self.stderr.get(name, float("nan"))
            return f" ± {value:.3g}" if np.isfinite(value) else ""
        return (f"bias μ = {self.bias:.3g}{se('bias')}, threshold σ = {self.threshold:.3g}{se('threshold')}, "
                f"lapse λ = {self.lapse:.3g}{se('lapse')} ({self.n_trials} trials)")


def _curve(x: np.ndarray, mu: float, sigma: float, lapse: float) -> np.ndarray:
    return lapse / 2 + (1 - lapse) * special.ndtr((x - mu) / sigma)


def _negative_log_likelihood(theta: np.ndarray, x: np.ndarray, k: np.ndarray, n: np.ndarray) -> float:
    mu, log_sigma, lapse = theta
    p = np.clip(_curve(x, mu, np.exp(log_sigma), lapse), _EPS, 1 - _EPS)
    return float(-np.sum(k * np.log(p) + (n - k) * np.log1p(-p)))


def fit_psychometric(x: Any, chose_first: Any, *, lapse: bool | float = True,
                     max_lapse: float = 0.5) -> PsychometricFit:
    """Maximum-likelihood cumulative Gaussian (with lapse) through per-trial choices.

    Args:
        x: (n,) signed stimulus of each trial (e.g. signed coherence in %).
        chose_first: (n,) bool or 0/1, whether the agent chose the first option on that trial.
        lapse: True to fit λ in [0, max_lapse]; False to fix λ = 0 (the paper's plain cumulative
            Gaussian); a number to fix λ to it.
        max_lapse: the upper bound of a fitted λ.

    Raises:
        ValueError: empty or mismatched inputs, non-finite ``x``, ``chose_first`` not 0/1, fewer
            than two distinct stimulus values, or a bad ``lapse``/``max_lapse``.
    """
    x = np.asarray(x, dtype=float).reshape(-1) if np.ndim(x) else np.asarray([x], dtype=float)
    y = np.asarray(chose_first).reshape(-1)
    if x.size == 0:
        raise ValueError("x must not be empty")
    if y.shape != x.shape:
        raise ValueError(f"chose_first must have the shape of x {x.shape}, got {y.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("x must be finite (drop trials without a stimulus value first)")
    if y.dtype.kind not in "biuf" or not np.all((y == 0) | (y == 1)):
        raise ValueError("chose_first must be bool or 0/1 per trial")
    if not 0 < max_lapse <= 1:
        raise ValueError(f"max_lapse must lie in (0, 1], got {max_lapse!r}")
    fixed_lapse: float | None
    if lapse is True:
        fixed_lapse = None
    elif lapse is False:
        fixed_lapse = 0.0
    else:
        fixed_lapse = float(lapse)
        if not 0 <= fixed_lapse < 1:
            raise ValueError(f"lapse must be True, False or a number in [0, 1), got {lapse!r}")
    levels, inverse = np.unique(x, return_inverse=True)
    if levels.size < 2:
        raise ValueError("x needs at least two distinct stimulus values to fit a psychometric function")
    n = np.bincount(inverse).astype(float)
    k = np.bincount(inverse, weights=y.astype(float))

    span = float(levels[-1] - levels[0])
    min_gap = float(np.min(np.diff(levels)))
    log_sigma_bounds = (np.log(min_gap / 100), np.log(span * 100))
    mu_bounds = (float(levels[0] - span), float(levels[-1] + span))
    lapse_bounds = (0.0, max_lapse) if fixed_lapse is None else (fixed_lapse, fixed_lapse)

    best = None
    for mu0 in (float(np.average(levels, weights=n)), 0.0 if mu_bounds[0] < 0 < mu_bounds[1] else levels.mean()):
        for sigma0 in (span / 8, span / 3, span):
            for lapse0 in ((0.01, 0.1) if fixed_lapse is None else (fixed_lapse,)):
                start = np.array([mu0, np.log(sigma0), min(lapse0, max_lapse)])
                res = optimize.minimize(_negative_log_likelihood, start, args=(levels, k, n), method="L-BFGS-B",
                                        bounds=[mu_bounds, log_sigma_bounds, lapse_bounds])
                if best is None or res.fun < best.fun:
                    best = res
    assert best is not None
    mu, log_sigma, lam = (float(v) for v in best.x)
    interior = fixed_lapse is None and 1e-6 < lam < max_lapse - 1e-6   # no standard error for λ at a bound
    stderr = _standard_errors(best.x, levels, k, n, fit_lapse=interior)
    return PsychometricFit(bias=mu, threshold=float(np.exp(log_sigma)), lapse=lam, n_trials=int(n.sum()),
                           log_likelihood=-float(best.fun), stderr=stderr)


def _standard_errors(theta: np.ndarray, x: np.ndarray, k: np.ndarray, n: np.ndarray,
                     fit_lapse: bool) -> dict[str, float]:
    """Standard errors of (μ, σ, λ) from a finite-difference Hessian of the NLL in (μ, σ, λ)."""
    mu, log_sigma, lam = theta
    point = np.array([mu, np.exp(log_sigma), lam])
    free = [0, 1, 2] if fit_lapse else [0, 1]

    def nll(p: np.ndarray) -> float:
        full = point.copy()
        full[free] = p
        if full[1] <= 0:
            return np.inf
        return _negative_log_likelihood(np.array([full[0], np.log(full[1]), full[2]]), x, k, n)

    p0 = point[free]
    h = np.maximum(np.abs(p0), 1e-2) * 1e-4
    m = len(free)
    hess = np.empty((m, m))
    for i in range(m):
        for j in range(m):
            ei = np.eye(m)[i] * h[i]
            ej = np.eye(m)[j] * h[j]
            hess[i, j] = (nll(p0 + ei + ej) - nll(p0 + ei - ej) - nll(p0 - ei + ej) + nll(p0 - ei - ej)) \
                / (4 * h[i] * h[j])
    out = {"bias": float("nan"), "threshold": float("nan"), "lapse": float("nan")}
    if not np.all(np.isfinite(hess)):
        return out
    try:
        cov = np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        return out
    variances = np.diag(cov)
    for name, index in zip(("bias", "threshold", "lapse"), range(m), strict=False):
        out[name] = float(np.sqrt(variances[index])) if variances[index] > 0 else float("nan")
    return out


# ---------------------------------------------------------------------- per-condition tables
def _params_of(batch: Any) -> Mapping[str, np.ndarray]:
    """A TrialBatch's params, or a params-like mapping (e.g. columns of an evaluate CSV) as is."""
    params = getattr(batch, "params", batch)
    if not isinstance(params, Mapping):
        raise TypeError(f"expected a TrialBatch or a mapping of per-trial parameters, got {type(batch).__name__}")
    return params


def signed_stimulus(params: Any, variable: str = "coherence", direction: str | None = "ground_truth",
                    first: int = 0) -> np.ndarray:
    """(B,) signed stimulus: +``variable`` where ``params[direction] == first`` (evidence for the
    first choice), −``variable`` otherwise; ``variable`` as is when ``direction`` is None.

    For the random-dot task this is the paper's signed coherence (positive: evidence for choice 1).
    """
    params = _params_of(params)
    if variable not in params:
        raise KeyError(f"no trial parameter {variable!r}; have {sorted(params)}")
    value = np.asarray(params[variable], dtype=float)
    if direction is None:
        return value
    if direction not in params:
        raise KeyError(f"no trial parameter {direction!r} to sign {variable!r} with; have {sorted(params)}")
    return np.where(np.asarray(params[direction]) == first, value, -value)


def binomial_interval(k: Any, n: Any, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval (lower, upper) of a proportion k/n, elementwise; NaN where n is 0.

    Unlike p ± z·se it stays inside [0, 1] and is not empty at p = 0 or 1 (Wilson 1927).
    """
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level!r}")
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    if np.any(n < 0) or np.any(k < 0) or np.any(k > n):
        raise ValueError("need 0 <= k <= n for every proportion")
    z = float(special.ndtri(0.5 + level / 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    empty = n == 0
    return np.where(empty, np.nan, centre - half), np.where(empty, np.nan, centre + half)


@dataclass(frozen=True)
class PsychometricTable:
    """Choices per stimulus level: ``x`` (K,), trials ``n``, fraction choosing first ``p`` and its
    binomial standard error ``se`` = sqrt(p(1−p)/n); plus the per-trial ``trial_x``/``trial_chose_first``
    that ``fit()`` uses."""

    x: np.ndarray
    n: np.ndarray
    p: np.ndarray
    se: np.ndarray
    trial_x: np.ndarray
    trial_chose_first: np.ndarray

    @property
    def percent(self) -> np.ndarray:
        return 100.0 * self.p

    def fit(self, **kwargs: Any) -> PsychometricFit:
        """The cumulative-Gaussian fit of these trials (see ``fit_psychometric``)."""
        return fit_psychometric(self.trial_x, self.trial_chose_first, **kwargs)


def _included(params: Mapping[str, np.ndarray], n: int, where: Any) -> np.ndarray:
    keep = np.ones(n, dtype=bool)
    if "catch" in params:
        keep &= ~np.asarray(params["catch"]).astype(bool)
    if where is not None:
        where = np.asarray(where, dtype=bool)
        if where.shape != (n,):
            raise ValueError(f"where must be a (B,) bool array with B = {n}, got shape {where.shape}")
        keep &= where
    return keep


def psychometric_table(batch: Any, evaluation: Mapping[str, Any], signed: str | Any = "coherence", *,
                       direction: str | None = "ground_truth", first: int = 0, where: Any = None) -> PsychometricTable:
    """Per-level fraction of trials choosing option ``first``, with binomial standard errors.

    Args:
        batch: the TrialBatch (or a mapping of its per-trial params) that was evaluated.
        evaluation: ``task.evaluate`` output; needs ``choice``.
        signed: a parameter name (signed with ``direction``, see ``signed_stimulus``) or a (B,) array
            of stimulus values used as is.
        direction, first: see ``signed_stimulus``; ``first`` is also the choice counted.
        where: optional (B,) bool selecting trials (e.g. one context).

    Catch trials and trials without a choice (choice −1) are left out.
    """
    params = _params_of(batch)
    choice = np.asarray(evaluation["choice"]).reshape(-1)
    if isinstance(signed, str):
        x = signed_stimulus(params, signed, direction, first)
    else:
        x = np.asarray(signed, dtype=float).reshape(-1)
    if x.shape != choice.shape:
        raise ValueError(f"the stimulus values {x.shape} and choices {choice.shape} must have one entry per trial")
    keep = _included(params, choice.size, where) & (choice >= 0) & np.isfinite(x)
    x, chose = x[keep], choice[keep] == first
    levels, inverse = np.unique(x, return_inverse=True)
    n = np.bincount(inverse, minlength=levels.size).astype(float)
    p = np.bincount(inverse, weights=chose.astype(float), minlength=levels.size) / np.maximum(n, 1)
    se = np.sqrt(p * (1 - p) / np.maximum(n, 1))
    return PsychometricTable(x=levels, n=n.astype(int), p=p, se=se, trial_x=x, trial_chose_first=chose)


@dataclass(frozen=True)
class ChronometricTable:
    """Reaction times of correct trials per unsigned stimulus level: ``x`` (K,), trials ``n``,
    ``mean_rt`` and its standard error ``se`` (ms)."""

    x: np.ndarray
    n: np.ndarray
    mean_rt: np.ndarray
    se: np.ndarray


def chronometric_table(batch: Any, evaluation: Mapping[str, Any], variable: str = "coherence", *,
                       where: Any = None, outcome: str = "correct") -> ChronometricTable:
    """Mean reaction time at each level of ``variable`` (Fig. 2F of the paper) of the correct trials
    (``outcome="correct"``) or of the errors (``outcome="error"``).

    Trials count when ``correct`` is 1 (or 0 for errors) and ``rt`` is finite; catch trials are left out.
    """
    if outcome not in ("correct", "error"):
        raise ValueError(f"outcome must be 'correct' or 'error', got {outcome!r}")
    params = _params_of(batch)
    if variable not in params:
        raise KeyError(f"no trial parameter {variable!r}; have {sorted(params)}")
    rt = np.asarray(evaluation["rt"], dtype=float).reshape(-1)
    correct = np.asarray(evaluation["correct"], dtype=float).reshape(-1)
    x = np.abs(np.asarray(params[variable], dtype=float).reshape(-1))
    wanted = 1.0 if outcome == "correct" else 0.0
    keep = _included(params, rt.size, where) & (correct == wanted) & np.isfinite(rt)
    levels, inverse = np.unique(x[keep], return_inverse=True)
    n = np.bincount(inverse, minlength=levels.size).astype(float)
    total = np.bincount(inverse, weights=rt[keep], minlength=levels.size)
    mean = total / np.maximum(n, 1)
    sq = np.bincount(inverse, weights=(rt[keep] - mean[inverse]) ** 2, minlength=levels.size)
    sd = np.sqrt(sq / np.maximum(n - 1, 1))
    se = np.where(n > 1, sd / np.sqrt(np.maximum(n, 1)), np.nan)
    return ChronometricTable(x=levels, n=n.astype(int), mean_rt=mean, se=se)


@dataclass(frozen=True)
class DurationTable:
    """Percent correct per stimulus level (rows) and duration bin (columns), as the paper's Fig. 2E:
    ``levels`` (K,), ``edges`` (M+1,) ms, ``n`` (K, M) trials, ``percent_correct`` (K, M) (NaN where
    a bin is empty) and its binomial standard error ``se``."""

    levels: np.ndarray
    edges: np.ndarray
    n: np.ndarray
    percent_correct: np.ndarray
    se: np.ndarray

    @property
    def centres(self) -> np.ndarray:
        return (self.edges[:-1] + self.edges[1:]) / 2


def accuracy_by_duration(batch: Any, evaluation: Mapping[str, Any], variable: str = "coherence",
                         period: str = "stimulus", bins: int | Any = 6) -> DurationTable:
    """Percent correct as a function of the duration of ``period`` for each level of |``variable``|.

    ``bins``: a number of equal-count (quantile) bins of the durations, or explicit edges in ms.
    Catch trials and trials without a ``correct`` value are left out.
    """
    params = _params_of(batch)
    periods = getattr(batch, "periods", None)
    if periods is None or period not in periods:
        raise KeyError(f"no period {period!r} in the batch")
    if variable not in params:
        raise KeyError(f"no trial parameter {variable!r}; have {sorted(params)}")
    correct = np.asarray(evaluation["correct"], dtype=float).reshape(-1)
    duration = (periods[period][:, 1] - periods[period][:, 0]) * float(batch.dt)
    keep = _included(params, correct.size, None) & np.isfinite(correct)
    level = np.abs(np.asarray(params[variable], dtype=float))[keep]
    duration, correct = duration[keep], correct[keep]
    if np.ndim(bins) == 0:
        if int(bins) < 1:
            raise ValueError(f"bins must be >= 1 or a list of edges, got {bins!r}")
        edges = np.unique(np.quantile(duration, np.linspace(0, 1, int(bins) + 1))) if duration.size else np.zeros(2)
        if edges.size < 2:
            edges = np.array([edges[0], edges[0] + float(batch.dt)])
    else:
        edges = np.asarray(bins, dtype=float)
        if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
            raise ValueError("bins must be an increasing list of at least two edges (ms)")
    column = np.clip(np.searchsorted(edges, duration, side="right") - 1, 0, edges.size - 2)
    inside = (duration >= edges[0]) & (duration <= edges[-1])
    levels, row = np.unique(level, return_inverse=True)
    shape = (levels.size, edges.size - 1)
    n = np.zeros(shape)
    hits = np.zeros(shape)
    np.add.at(n, (row[inside], column[inside]), 1)
    np.add.at(hits, (row[inside], column[inside]), correct[inside])
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(n > 0, hits / np.maximum(n, 1), np.nan)
    return DurationTable(levels=levels, edges=edges, n=n.astype(int), percent_correct=100 * p,
                         se=100 * np.sqrt(p * (1 - p) / np.maximum(n, 1)))
