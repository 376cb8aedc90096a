"""The psychometric threshold and bias of a trained run, for tasks with a coherence axis.

Measured on a fresh validation-style batch: every condition of the task's grid, repeated to about
``n_trials`` trials, no catch trials, the network's noise on (as the trainer validates). The choice
counted is the first option; the stimulus is the coherence signed by the direction it points to
(for context-dependent integration: the coherence of the modality the context names, signed by its
direction). Fitted by ``agents.analysis.psychometric`` (cumulative Gaussian with lapse).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from agents.analysis.psychometric import psychometric_table, signed_stimulus

#: about this many trials for the fit, by default
N_TRIALS = 1000
_STREAM = 7          # SeedSequence stream of the fit's trials, apart from the trainer's own streams


def coherence_axis(params: Mapping[str, np.ndarray]) -> tuple[str, np.ndarray] | None:
    """(name, per-trial signed stimulus) of the task's coherence axis, or None if it has none."""
    names = set(params)
    if {"context", "motion_coherence", "motion_direction", "colour_coherence", "colour_direction"} <= names:
        motion = signed_stimulus(params, "motion_coherence", "motion_direction")
        colour = signed_stimulus(params, "colour_coherence", "colour_direction")
        return "relevant signed coherence (%)", np.where(np.asarray(params["context"]) == 0, motion, colour)
    if {"coherence", "ground_truth"} <= names:
        return "signed coherence (%)", signed_stimulus(params, "coherence", "ground_truth")
    return None


def psychometric_of_run(run_folder: str | Path, evaluate: Any, seed: int, n_trials: int = N_TRIALS
                        ) -> dict[str, Any]:
    """``{"axis", "bias", "threshold", "lapse", "n_trials", "note"}`` for a run; axis None (and no
    simulation) when the task has no coherence axis; NaN values and a note when the fit fails (e.g. a
    network that never chooses)."""
    from agents.runs import RunDir

    task = RunDir(run_folder).task()
    empty = {"axis": None, "bias": math.nan, "threshold": math.nan, "lapse": math.nan, "n_trials": 0, "note": ""}
    try:
        grid = task.conditions()
    except NotImplementedError:
        return {**empty, "note": "the task has no condition grid"}
    if coherence_axis(grid) is None:
        return empty
    repeats = max(1, math.ceil(n_trials / len(next(iter(grid.values())))))
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), _STREAM]))
    batch = task.grid_trials(repeats, rng, include_catch=False)
    axis, x = coherence_axis(batch.params)
    evaluation = evaluate(Path(run_folder), task, batch, int(seed))
    table = psychometric_table(batch, evaluation, x, direction=None)
    result = {**empty, "axis": axis, "n_trials": int(table.trial_x.size)}
    if table.p.size and np.all(table.p == table.p[0]) and table.p[0] in (0.0, 1.0):
        return {**result, "note": "no fit: the network made the same choice at every stimulus level"}
    try:
        fit = table.fit()
    except ValueError as err:
        return {**result, "note": f"no fit: {err}"}
    return {**result, "bias": fit.bias, "threshold": fit.threshold, "lapse": fit.lapse}
