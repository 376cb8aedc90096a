"""Context-dependent integration: the state space on the task's regression axes (Mante, Sussillo, Shenoy &
Newsome 2013; Song, Yang & Wang 2016, Fig. 4B).

Targeted dimensionality reduction (:func:`agents.analysis.state_space.regression_subspace`) of the
stimulus-period rates on four task variables, in Mante et al.'s order: choice (+1 choice 1, −1 choice 2),
signed motion coherence, signed colour coherence and context (+1 motion, −1 colour). Condition averages,
grouped by choice and the signed coherence of one modality, are drawn on the choice axis against that
modality's axis, in each context: in Mante et al.'s monkeys and in the paper's network both inputs move
the state along their own axes in both contexts, and only the relevant one moves it along the choice axis.
(The psychometric curves per context, relevant and irrelevant, are the psychometric section: Fig. 4A.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from agents.analysis.psychometric import signed_stimulus
from agents.analysis.state_space import regression_subspace
from agents.analysis.trial_average import align, condition_average
from agents.plots.save import new_figure
from agents.report.section import Section
from agents.report.subject import Skip, Subject

VARIABLES = ("choice", "motion", "colour", "context")
NEEDED = {"context", "motion_coherence", "motion_direction", "colour_coherence", "colour_direction"}


def task_variables(params: Mapping[str, Any], choice: Any) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The four regressors of every trial and which trials have them (a choice was made, not catch)."""
    choice = np.asarray(choice).reshape(-1)
    keep = choice >= 0
    if "catch" in params:
        keep &= ~np.asarray(params["catch"]).astype(bool)
    variables = {"choice": np.where(choice == 0, 1.0, -1.0),
                 "motion": signed_stimulus(params, "motion_coherence", "motion_direction"),
                 "colour": signed_stimulus(params, "colour_coherence", "colour_direction"),
                 "context": np.where(np.asarray(params["context"]) == 0, 1.0, -1.0)}
    return variables, keep


def stimulus_rates(rates: np.ndarray, batch: Any) -> np.ndarray:
    """(B, W, N) rates from stimulus onset to the longest stimulus's end, NaN after each trial's stimulus."""
    spans = batch.periods["stimulus"]
    cut = np.array(rates, dtype=float, copy=True)
    cut[np.arange(rates.shape[1])[None, :] >= spans[:, 1:]] = np.nan
    return align(cut, spans[:, 0], 0, int((spans[:, 1] - spans[:, 0]).max()), batch.lengths)


def targeted_state_space(subject: Subject, section: Section) -> None:
    subject.need_rates("targeted dimensionality reduction")
    batch, evaluation, _, rates = subject.standard()
    if not NEEDED <= set(batch.params):
        raise Skip(f"{subject.task.id} has no context, motion and colour to regress on")
    variables, keep = task_variables(batch.params, evaluation["choice"])
    if np.unique(variables["choice"][keep]).size < 2:
        raise Skip("the network chose one option on every trial: no choice axis")
    window = stimulus_rates(rates, batch)[keep]
    variables = {name: values[keep] for name, values in variables.items()}
    subspace = regression_subspace(window, variables, n_pcs=12)
    raw = subspace.denoised[np.arange(len(VARIABLES)), subspace.t_max]
    unit = raw / np.maximum(np.linalg.norm(raw, axis=1, keepdims=True), 1e-12)
    cosine = unit @ unit.T
    dt = float(batch.dt)
    section.numbers = {"variables": list(VARIABLES), "t_max_ms": subspace.t_max * dt,
                       "beta_max_norm": np.linalg.norm(raw, axis=1),
                       "beta_max_cosine": cosine, "n_trials": int(keep.sum()),
                       "pca_variance_ratio": subspace.pca.explained_variance_ratio if subspace.pca else None}
    projected = subspace.project(window)                          # (B, W, 4)
    fig = new_figure(8.0, 7.0)
    axes = fig.subplots(2, 2)
    import matplotlib as mpl

    cmap = mpl.colormaps["coolwarm"]
    contexts = ((1.0, "motion context"), (-1.0, "colour context"))
    for row, (context, context_name) in enumerate(contexts):
        for col, modality in enumerate(("motion", "colour")):
            ax = axes[row, col]
            where = variables["context"] == context
            average = condition_average(projected, {"choice": variables["choice"], "level": variables[modality]},
                                        where=where)
            top = max(float(np.abs(average.conditions["level"]).max()), 1e-9)
            for k in range(average.mean.shape[0]):
                level, choice = average.conditions["level"][k], average.conditions["choice"][k]
                path = average.mean[k]
                ax.plot(path[:, VARIABLES.index(modality)], path[:, 0], "-" if choice > 0 else "--", lw=1,
                        color=cmap(0.5 + 0.5 * level / top))
            ax.set_xlabel(f"{modality} axis")
            ax.set_ylabel("choice axis")
            relevant = (modality == "motion") == (context > 0)
            ax.set_title(f"{context_name}: sorted by {modality} ({'relevant' if relevant else 'irrelevant'})",
                         fontsize=9)
    fig.suptitle(f"{subject.task.id} ({subject.model_name}): stimulus period on the regression axes "
                 "(solid: choice 1, dashed: choice 2; colour: signed coherence)", fontsize=9)
    section.figure(fig, "tdr_state_space", "Condition averages of the stimulus period projected on the orthogonalised "
                   "regression axes (choice against motion or colour), per context.")
