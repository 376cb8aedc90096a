"""Choice selectivity of single units: the d′ index of Song, Yang & Wang (2016), Eq 30.

    d′ = (μ₁ − μ₂) / sqrt((σ₁² + σ₂²) / 2)

μ₁, σ₁² are the mean and variance of a unit's rate during the stimulus period on trials where
the network chose choice 1 (all time steps of all such trials pooled, as in pycog), μ₂, σ₂² the same
for choice 2. Positive d′: the unit prefers choice 1. Fig. 3 of the paper orders units by d′, separately
for excitatory and inhibitory units, to reveal the clustered connectivity training produces.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def dprime(first: Any, second: Any) -> np.ndarray:
    """d′ of each column between two groups of samples: (n₁, N) and (n₂, N) -> (N,).

    Columns whose pooled standard deviation is 0 (e.g. silent units) get d′ = 0.
    """
    a = np.asarray(first, dtype=float)
    b = np.asarray(second, dtype=float)
    if a.ndim == 1:
        a = a[:, None]
    if b.ndim == 1:
        b = b[:, None]
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"the two groups must be (n, N) arrays with the same N, got {a.shape} and {b.shape}")
    if a.shape[0] == 0 or b.shape[0] == 0:
        raise ValueError("each group needs at least one sample")
    difference = a.mean(axis=0) - b.mean(axis=0)
    pooled = np.sqrt((a.var(axis=0) + b.var(axis=0)) / 2)
    return np.divide(difference, pooled, out=np.zeros_like(difference), where=pooled > 0)


def window_mask(spans: Any, n_steps: int) -> np.ndarray:
    """(B, 2) ``[start, end)`` step spans (e.g. ``batch.periods["stimulus"]``) -> (B, T) bool."""
    spans = np.asarray(spans)
    if spans.ndim != 2 or spans.shape[1] != 2:
        raise ValueError(f"spans must have shape (B, 2), got {spans.shape}")
    t = np.arange(n_steps)[None, :]
    return (t >= spans[:, :1]) & (t < spans[:, 1:])


def _window(window: Any, shape: tuple[int, int]) -> np.ndarray:
    if window is None:
        return np.ones(shape, dtype=bool)
    window = np.asarray(window)
    if window.shape == (shape[0], 2) and window.dtype.kind in "iu":
        return window_mask(window, shape[1])
    if window.shape != shape:
        raise ValueError(f"window must be (B, 2) step spans or a (B, T) bool mask with (B, T) = {shape}, "
                         f"got shape {window.shape}")
    return window.astype(bool)


def choice_selectivity(rates: Any, choice: Any, window: Any = None, *, first: int = 0, second: int = 1) -> np.ndarray:
    """The choice selectivity index d′ (Eq 30) of every unit, (N,).

    Args:
        rates: (B, T, N) firing rates.
        choice: (B,) the choice made on each trial (−1 for none; such trials are ignored).
        window: which steps count: (B, 2) step spans such as ``batch.periods["stimulus"]`` or a
            (B, T) bool mask; None for every step.
        first, second: the two choices compared; positive d′ means higher rates when choosing ``first``.

    Raises:
        ValueError: bad shapes, or no step of a trial with either choice in the window.
    """
    rates = np.asarray(rates, dtype=float)
    if rates.ndim != 3:
        raise ValueError(f"rates must have shape (B, T, N), got {rates.shape}")
    choice = np.asarray(choice).reshape(-1)
    if choice.shape[0] != rates.shape[0]:
        raise ValueError(f"choice must have one entry per trial ({rates.shape[0]}), got {choice.shape[0]}")
    mask = _window(window, rates.shape[:2])
    chose_first = mask & (choice == first)[:, None]
    chose_second = mask & (choice == second)[:, None]
    if not chose_first.any() or not chose_second.any():
        raise ValueError(f"choice selectivity needs trials with choice {first} and with choice {second} "
                         f"inside the window; got choices {np.unique(choice).tolist()}")
    return dprime(rates[chose_first], rates[chose_second])


def sort_units(selectivity: Any, n_exc: int | None = None, top: int | tuple[int, int] | None = None) -> np.ndarray:
    """Unit indices ordered from most selective for the first choice (large positive d′) to the
    second (large negative), excitatory units first then inhibitory units, each sorted separately
    (the paper's Fig. 3B).

    Args:
        selectivity: (N,) d′ of each unit.
        n_exc: the first ``n_exc`` units are excitatory (the EIRNN's ordering); None: one population.
        top: keep only the units of largest |d′|: an int for the whole network (split in proportion
            to the populations, at least one inhibitory unit if there are any), or
            (n_excitatory, n_inhibitory), e.g. the paper's (20, 5).
    """
    d = np.asarray(selectivity, dtype=float).reshape(-1)
    n = d.size
    n_exc = n if n_exc is None else int(n_exc)
    if not 0 <= n_exc <= n:
        raise ValueError(f"n_exc must lie in [0, {n}], got {n_exc}")
    n_inh = n - n_exc
    if top is None:
        keep_e, keep_i = n_exc, n_inh
    elif isinstance(top, tuple):
        keep_e, keep_i = (min(int(top[0]), n_exc), min(int(top[1]), n_inh))
    else:
        total = min(int(top), n)
        keep_i = min(n_inh, max(1 if n_inh else 0, round(total * n_inh / max(n, 1))))
        keep_e = min(n_exc, total - keep_i)
    if keep_e < 0 or keep_i < 0:
        raise ValueError(f"top must be non-negative, got {top!r}")
    groups = []
    for start, stop, keep in ((0, n_exc, keep_e), (n_exc, n, keep_i)):
        index = np.arange(start, stop)
        strongest = index[np.argsort(-np.abs(d[index]), kind="stable")[:keep]]
        groups.append(strongest[np.argsort(-d[strongest], kind="stable")])
    return np.concatenate(groups).astype(np.int64)


def preferred_choice(selectivity: Any, first: int = 0, second: int = 1) -> np.ndarray:
    """(N,) the choice each unit prefers: ``first`` where d′ ≥ 0, else ``second``."""
    return np.where(np.asarray(selectivity, dtype=float) >= 0, first, second)
