"""Task variance of units and their clustering: Yang et al. (2019), Fig. 2.

For each task, a unit's task variance is the variance of its rate across trials (stimulus
conditions) at each time step, averaged over the steps after the fixation period (Yang's
``variance._compute_variance_bymodel``: ``h.var(axis=trials).mean(axis=time)``). Units whose
variance summed over tasks is at most 1e-3 are inactive and left out; each active unit's profile
is normalised by its largest task variance, and units are clustered by k-means on these profiles,
the number of clusters chosen by the silhouette score (Yang's ``clustering.py``: k from 2 to 29,
20 initialisations). NumPy only (Yang used scikit-learn's KMeans and silhouette_score).

Trials of one task may differ in timing here (Yang's 'test' trials did not): they are aligned at
``start`` (each trial's end of fixation) and each relative step counts where at least two trials
reach it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: A unit is active when its task variance summed over tasks exceeds this (Yang: 1e-3).
ACTIVE_THRESHOLD = 1e-3


def task_variance(rates: Any, task: Any, start: Any, lengths: Any, n_tasks: int) -> np.ndarray:
    """(N, n_tasks) task variance of each unit: variance across the trials of a task at each step
    from the trial's ``start`` on (aligned there), averaged over steps; NaN for tasks without two trials.

    Args:
        rates: (B, T, N) unit rates. task: (B,) task index of each trial. start: (B,) first step
        analysed (the end of fixation). lengths: (B,) real steps of each trial.
    """
    rates = np.asarray(rates, dtype=np.float64)
    task, start, lengths = (np.asarray(a).astype(np.int64) for a in (task, start, lengths))
    if rates.ndim != 3 or task.shape != (rates.shape[0],) or start.shape != task.shape or lengths.shape != task.shape:
        raise ValueError(f"rates must be (B, T, N) and task, start, lengths (B,), got {rates.shape}, {task.shape}, "
                         f"{start.shape}, {lengths.shape}")
    if np.any((start < 0) | (start >= lengths) | (lengths > rates.shape[1])):
        raise ValueError("start must lie in [0, lengths) and lengths in [1, T] for every trial")
    n, n_steps, n_units = rates.shape
    span = lengths - start
    tau = np.arange(int(span.max()))
    when = start[:, None] + tau[None, :]                                   # (B, tau) aligned steps
    real = tau[None, :] < span[:, None]
    aligned = rates[np.arange(n)[:, None], np.minimum(when, n_steps - 1)]  # (B, tau, N)
    out = np.full((n_units, n_tasks), np.nan)
    for k in range(n_tasks):                                               # one pass per task
        rows = task == k
        count = real[rows].sum(axis=0)                                     # trials reaching each step
        ok = count >= 2
        if not ok.any():
            continue
        x = np.where(real[rows][:, :, None], aligned[rows], 0.0)
        mean = x.sum(axis=0) / np.maximum(count, 1)[:, None]
        sq = np.where(real[rows][:, :, None], (aligned[rows] - mean[None]) ** 2, 0.0).sum(axis=0)
        var = sq / np.maximum(count, 1)[:, None]                           # population variance, as np.var
        out[:, k] = var[ok].mean(axis=0)
    return out


def normalised_profiles(variance: Any, threshold: float = ACTIVE_THRESHOLD) -> tuple[np.ndarray, np.ndarray]:
    """The active units (summed variance > ``threshold``) and their task-variance profiles divided
    by each unit's largest task variance: (indices, (n_active, n_tasks))."""
    variance = np.nan_to_num(np.asarray(variance, dtype=np.float64))
    active = np.flatnonzero(variance.sum(axis=1) > threshold)
    profiles = variance[active]
    return active, profiles / profiles.max(axis=1, keepdims=True)


def kmeans(x: np.ndarray, k: int, rng: np.random.Generator, n_init: int = 20, n_iter: int = 100) -> np.ndarray:
    """Labels of the best of ``n_init`` k-means (Lloyd) runs from k-means++ seeds (lowest inertia)."""
    best, best_inertia = None, np.inf
    for _ in range(n_init):
        centres = [x[rng.integers(len(x))]]
        for _ in range(1, k):                                              # k-means++ seeding
            d = np.min(((x[:, None] - np.array(centres)[None]) ** 2).sum(-1), axis=1)
            centres.append(x[rng.choice(len(x), p=d / d.sum()) if d.sum() > 0 else rng.integers(len(x))])
        c = np.array(centres)
        for _ in range(n_iter):
            labels = np.argmin(((x[:, None] - c[None]) ** 2).sum(-1), axis=1)
            new = np.array([x[labels == j].mean(axis=0) if np.any(labels == j) else c[j] for j in range(k)])
            if np.allclose(new, c):
                break
            c = new
        inertia = ((x - c[labels]) ** 2).sum()
        if inertia < best_inertia:
            best, best_inertia = labels, inertia
    return best


def silhouette(x: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette coefficient (Euclidean), as scikit-learn's ``silhouette_score``."""
    d = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))
    ids = np.unique(labels)
    if not 1 < len(ids) < len(x):
        return float("nan")
    member = labels[:, None] == ids[None, :]                               # (n, K)
    sums = d @ member
    sizes = member.sum(axis=0)
    own = member.argmax(axis=1)
    a = sums[np.arange(len(x)), own] / np.maximum(sizes[own] - 1, 1)
    other = np.where(member, np.inf, sums / sizes[None, :])
    b = other.min(axis=1)
    s = np.where(sizes[own] > 1, (b - a) / np.maximum(a, b), 0.0)
    return float(s.mean())


def cluster_units(profiles: Any, n_clusters: range = range(2, 30), seed: int = 0) -> dict[str, Any]:
    """Cluster units by their normalised task-variance profiles: k-means for each k of
    ``n_clusters`` (fewer than the units), keeping the k of the best silhouette score.

    Returns ``labels`` (n_units,), ``n_clusters`` (the k chosen), ``scores`` (k -> silhouette) and
    ``order`` (units sorted by cluster, clusters by their preferred task) for plotting.
    """
    x = np.asarray(profiles, dtype=np.float64)
    if x.ndim != 2 or len(x) < 3:
        raise ValueError(f"profiles must be (n_units >= 3, n_tasks), got shape {x.shape}")
    rng = np.random.default_rng(seed)
    scores, runs = {}, {}
    for k in n_clusters:
        if k >= len(x):
            break
        runs[k] = kmeans(x, k, rng)
        scores[k] = silhouette(x, runs[k])
    best = max(scores, key=lambda k: -np.inf if np.isnan(scores[k]) else scores[k])
    labels = runs[best]
    preferred = np.array([np.argmax(x[labels == j].sum(axis=0)) for j in range(best)])
    rank = np.argsort(np.argsort(preferred, kind="stable"), kind="stable")
    order = np.lexsort((np.arange(len(x)), rank[labels]))
    return {"labels": labels, "n_clusters": int(best), "scores": scores, "order": order}
