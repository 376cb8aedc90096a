"""Aligning trials to an event and averaging them within conditions.

Trials have different lengths and event times (a variable stimulus duration, a reaction time), so
activity is first cut into a common window around an event (stimulus onset for Fig. 2G of Song,
Yang & Wang 2016, the reaction time for Fig. 2H), with NaN where a trial has no data, and then
averaged over the trials of each condition ignoring the NaNs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np


def align(values: Any, onset: Any, before: int, after: int, lengths: Any = None) -> np.ndarray:
    """Cut ``[onset − before, onset + after)`` steps out of every trial.

    Args:
        values: (B, T, ...) per-step data (rates, outputs...).
        onset: (B,) the event's step in each trial (NaN allowed: that trial comes out all NaN).
        before, after: steps kept before and from the event.
        lengths: (B,) real steps of each trial (steps beyond are padding); default T.

    Returns:
        (B, before + after, ...) float array, NaN outside each trial. Step ``before`` is the event.
    """
    values = np.asarray(values, dtype=float)
    n, n_steps = values.shape[:2]
    onset = np.asarray(onset, dtype=float).reshape(-1)
    if onset.shape[0] != n:
        raise ValueError(f"onset must have one entry per trial ({n}), got {onset.shape[0]}")
    if before < 0 or after < 0 or before + after == 0:
        raise ValueError(f"before and after must be >= 0 and not both 0, got {before}, {after}")
    lengths = np.full(n, n_steps) if lengths is None else np.asarray(lengths).reshape(-1)
    known = np.isfinite(onset)
    start = np.where(known, onset, 0).astype(np.int64)
    steps = start[:, None] + np.arange(-before, after)[None, :]                 # (B, W)
    inside = known[:, None] & (steps >= 0) & (steps < np.minimum(lengths, n_steps)[:, None])
    out = values[np.arange(n)[:, None], np.clip(steps, 0, n_steps - 1)]
    out[~inside] = np.nan
    return out


@dataclass(frozen=True)
class ConditionAverage:
    """``mean`` (K, ...) of the trials of each of K conditions; ``conditions`` name -> (K,) values;
    ``n`` (K,) trials per condition."""

    conditions: dict[str, np.ndarray]
    mean: np.ndarray
    n: np.ndarray


def condition_average(values: Any, labels: Mapping[str, Any], where: Any = None) -> ConditionAverage:
    """Average ``values`` (B, ...) over the trials sharing every label in ``labels`` (name -> (B,)).

    NaNs (e.g. from ``align``) are ignored; a step with no data in a condition stays NaN.
    Conditions come out sorted by the labels, in the order of ``labels``.
    """
    values = np.asarray(values, dtype=float)
    n = values.shape[0]
    if not labels:
        raise ValueError("labels must name at least one per-trial variable")
    columns = {name: np.asarray(v).reshape(-1) for name, v in labels.items()}
    for name, column in columns.items():
        if column.shape[0] != n:
            raise ValueError(f"label {name!r} must have one entry per trial ({n}), got {column.shape[0]}")
    keep = np.ones(n, dtype=bool) if where is None else np.asarray(where, dtype=bool).reshape(-1)
    codes = []
    uniques = []
    for column in columns.values():
        unique, code = np.unique(column[keep], return_inverse=True)
        uniques.append(unique)
        codes.append(code)
    combined = np.stack(codes, axis=1) if codes else np.zeros((int(keep.sum()), 0), dtype=np.int64)
    present, group = np.unique(combined, axis=0, return_inverse=True)
    group = group.reshape(-1)
    k = present.shape[0]
    data = values[keep]
    finite = np.isfinite(data)
    sums = np.zeros((k, *data.shape[1:]))
    counts = np.zeros((k, *data.shape[1:]))
    np.add.at(sums, group, np.where(finite, data, 0.0))
    np.add.at(counts, group, finite)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    conditions = {name: uniques[j][present[:, j]] for j, name in enumerate(columns)}
    return ConditionAverage(conditions=conditions, mean=mean, n=np.bincount(group, minlength=k))
