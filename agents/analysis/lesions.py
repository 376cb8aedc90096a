"""Lesions and input-noise robustness: which units and connections does performance rely on?

A lesion silences units (their rates no longer reach any other unit or the readout) or removes
connections, by zeroing entries of the recurrent and output weights through masks on a copy of
the network, and performance is measured again on the same trials. Silencing all inhibitory units
breaks the E/I balance a Dale network relies on; silencing the most choice-selective units tests
whether the decision is carried by the clusters of the paper's Fig. 3.

Input-noise robustness (Kao 2021) re-measures performance as the task's input noise grows.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

Simulate = Callable[..., tuple[np.ndarray, np.ndarray]]


# ---------------------------------------------------------------------- masks on weight arrays
def lesion_masks(n_units: int, units: Sequence[int] | None = None, connections: Any = None) -> dict[str, np.ndarray]:
    """Multiplicative masks that silence ``units`` and cut ``connections``.

    Args:
        n_units: N.
        units: units whose output is removed: their columns of W_rec (what they send to other units)
            and of W_out (what they send to the readout) are zeroed.
        connections: (N, N) bool, True where the recurrent connection post x pre is cut.

    Returns:
        ``{"W_rec": (N, N), "W_out_columns": (N,)}`` of 0/1 floats.
    """
    rec = np.ones((n_units, n_units))
    out_columns = np.ones(n_units)
    if units is not None:
        units = np.asarray(units, dtype=np.int64).reshape(-1)
        if units.size and (units.min() < 0 or units.max() >= n_units):
            raise ValueError(f"units must be indices in [0, {n_units}), got {units.tolist()}")
        rec[:, units] = 0.0
        out_columns[units] = 0.0
    if connections is not None:
        cut = np.asarray(connections, dtype=bool)
        if cut.shape != (n_units, n_units):
            raise ValueError(f"connections must be an (N, N) = ({n_units}, {n_units}) bool mask, got {cut.shape}")
        rec[cut] = 0.0
    return {"W_rec": rec, "W_out_columns": out_columns}


def lesion_weights(weights: Mapping[str, np.ndarray], units: Sequence[int] | None = None,
                   connections: Any = None) -> dict[str, np.ndarray]:
    """A copy of an ``effective_weights()`` dict with ``units`` silenced and ``connections`` cut."""
    n = np.asarray(weights["W_rec"]).shape[0]
    masks = lesion_masks(n, units, connections)
    out = {k: np.array(v, copy=True) for k, v in weights.items()}
    out["W_rec"] = out["W_rec"] * masks["W_rec"]
    out["W_out"] = out["W_out"] * masks["W_out_columns"][None, :]
    return out


def lesion_model(model: Any, units: Sequence[int] | None = None, connections: Any = None) -> Any:
    """A lesioned copy of an EIRNN (the original is untouched).

    The copy's recurrent and readout masks are multiplied by ``lesion_masks`` (and its fixed
    weights, if any, zeroed in the same places), so the lesion survives the Dale reparametrisation
    W = [M ⊙ W_plastic + W_fixed]₊ · diag(±1). A model may instead provide its own
    ``lesioned(rec_mask, out_column_mask)`` method, which is used when present.
    """
    import torch

    n = int(model.n_units)
    masks = lesion_masks(n, units, connections)
    if hasattr(model, "lesioned"):
        return model.lesioned(masks["W_rec"], masks["W_out_columns"])
    lesioned = copy.deepcopy(model)
    rec = torch.as_tensor(masks["W_rec"])
    out_columns = torch.as_tensor(masks["W_out_columns"])
    touched = False
    with torch.no_grad():
        for name, tensor in [*lesioned.named_buffers(), *lesioned.named_parameters()]:
            leaf = name.rsplit(".", 1)[-1].lower()
            if "mask" not in leaf and "fixed" not in leaf:
                continue
            if "rec" in leaf and tuple(tensor.shape) == (n, n):
                tensor.mul_(rec.to(tensor.dtype))
                touched = True
            elif "out" in leaf and tensor.ndim == 2 and tensor.shape[1] == n:
                tensor.mul_(out_columns.to(tensor.dtype)[None, :])
                touched = True
    if not touched:
        raise TypeError(f"{type(model).__name__} has no recurrent/readout mask buffers to lesion through; "
                        "give it a lesioned(rec_mask, out_column_mask) method")
    return lesioned


# ---------------------------------------------------------------------- which units
def inhibitory_units(model: Any) -> np.ndarray:
    """Indices of the inhibitory units of a network with E/I populations under Dale's law (eirnn, lowrank with
    ``dale=true``: the ``n_exc`` excitatory units come first); a ValueError for any other network."""
    n_exc = getattr(model, "n_exc", None)
    if n_exc is None or not getattr(model, "dale", True):
        raise ValueError(f"{type(model).__name__} has no excitatory and inhibitory populations (no Dale's law), so "
                         "no inhibitory units to lesion: only eirnn and lowrank with dale=true have them")
    return np.arange(int(n_exc), int(model.n_units))


def top_selective_units(selectivity: Any, k: int, *, side: str = "both",
                        among: Sequence[int] | None = None) -> np.ndarray:
    """The ``k`` units with the largest d′ (``side="first"``), the most negative (``"second"``) or the
    largest |d′| (``"both"``), optionally only ``among`` some units (e.g. the excitatory ones)."""
    d = np.asarray(selectivity, dtype=float)
    pool = np.arange(d.size) if among is None else np.asarray(among, dtype=np.int64)
    key = {"first": -d[pool], "second": d[pool], "both": -np.abs(d[pool])}.get(side)
    if key is None:
        raise ValueError(f"side must be 'first', 'second' or 'both', got {side!r}")
    return pool[np.argsort(key, kind="stable")[: max(int(k), 0)]]


# ---------------------------------------------------------------------- re-measuring performance
#: where the outputs of a run-away trial are held for scoring
RUNAWAY = 1e3

def performance(task: Any, model: Any, batch: Any, *, noise: bool = True, seed: int | None = 0,
                simulate: Simulate | None = None) -> dict[str, float]:
    """``task.score`` of ``model`` on ``batch``, plus ``diverged_percent``: the trials whose outputs ran away
    (a lesion that removes inhibition can make a rate network's activity explode). Those trials are scored
    on their outputs held at ±:data:`RUNAWAY` (NaN at 0), i.e. as the saturated answer they give, so that the
    score says how badly the network fails rather than the analysis failing."""
    if simulate is None:
        from agents.simulation import simulate
    outputs, _ = simulate(model, batch, noise=noise, seed=seed)
    return saturated_scores(task, batch, outputs)


def saturated_scores(task: Any, batch: Any, outputs: Any) -> dict[str, float]:
    """``task.score`` of ``outputs`` (B, T, n_out), run-away trials held at ±:data:`RUNAWAY`, and
    ``diverged_percent``, the share of trials with a non-finite output."""
    outputs = np.asarray(outputs)
    runaway = ~np.isfinite(outputs).reshape(len(outputs), -1).all(axis=1)
    if runaway.any():
        outputs = np.nan_to_num(outputs, nan=0.0, posinf=RUNAWAY, neginf=-RUNAWAY).clip(-RUNAWAY, RUNAWAY)
    scores = dict(task.score(batch, task.evaluate(batch, outputs=outputs)))
    scores["diverged_percent"] = 100.0 * float(runaway.mean()) if len(runaway) else 0.0
    return scores


def lesion_study(task: Any, model: Any, lesions: Mapping[str, Mapping[str, Any]], batch: Any, *,
                 noise: bool = True, seed: int | None = 0, simulate: Simulate | None = None,
                 lesion: Callable[..., Any] = lesion_model) -> dict[str, dict[str, float]]:
    """Scores of the intact network and of each lesion on the same trials (and noise seed).

    Args:
        lesions: name -> keyword arguments of ``lesion`` (``units=`` and/or ``connections=``), e.g.
            ``{"all I": {"units": inhibitory_units(model)}, "top 10": {"units": top_selective_units(d, 10)}}``.
    """
    results = {"intact": performance(task, model, batch, noise=noise, seed=seed, simulate=simulate)}
    for name, spec in lesions.items():
        if name == "intact":
            raise ValueError("'intact' is reserved for the unlesioned network")
        results[name] = performance(task, lesion(model, **spec), batch, noise=noise, seed=seed, simulate=simulate)
    return results


@dataclass(frozen=True)
class NoiseRobustness:
    """``levels`` (K,) input noise σ and ``scores`` (K,) of ``metric`` at each, plus every score dict."""

    levels: np.ndarray
    scores: np.ndarray
    metric: str
    details: tuple[dict[str, float], ...]


def input_noise_robustness(task: Any, model: Any, levels: Sequence[float], n_trials: int = 500, *,
                           seed: int = 0, noise: bool = True, simulate: Simulate | None = None,
                           metric: str | None = None) -> NoiseRobustness:
    """Performance as the task's input noise σ (``input_noise``) takes each of ``levels``.

    Every level sees the same trial conditions and durations (same seed); only the noise differs.
    ``metric`` defaults to the task's criterion metric.
    """
    levels = np.asarray(levels, dtype=float).reshape(-1)
    if levels.size == 0 or np.any(~np.isfinite(levels)) or np.any(levels < 0):
        raise ValueError(f"levels must be a non-empty list of input noise values >= 0, got {levels.tolist()}")
    metric = metric or getattr(getattr(task, "criterion", None), "metric", "percent_correct")
    details = []
    for level in levels:
        noisy = copy.copy(task)
        noisy.input_noise = float(level)
        batch = noisy.trials(n_trials, np.random.default_rng(seed))
        details.append(performance(noisy, model, batch, noise=noise, seed=seed, simulate=simulate))
    scores = np.array([d.get(metric, np.nan) for d in details], dtype=float)
    return NoiseRobustness(levels=levels, scores=scores, metric=metric, details=tuple(details))
