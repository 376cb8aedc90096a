"""Eye-movement sequences (Song, Yang & Wang 2016, Fig. 8): the eye trajectory of every sequence, and the
state space on the first two principal components of the condition-averaged rates during the three
movements, where the hierarchy of the sequences (left or right first, then up or down...) shows as
trajectories splitting off. Run without noise, as the paper's Fig. 8C."""

from __future__ import annotations

import numpy as np

from agents.analysis.state_space import fit_pca
from agents.analysis.trial_average import condition_average
from agents.plots.save import new_figure
from agents.report.section import Section
from agents.report.subject import Skip, Subject

MOVEMENTS = ("m1", "m2", "m3")


def sequences(subject: Subject, section: Section) -> None:
    task = subject.task
    if "sequence" not in task.param_names or not set(MOVEMENTS) <= set(task.period_names):
        raise Skip(f"{task.id} has no movement sequences")
    subject.need_rates("sequence trajectories and state space")
    ids = np.asarray(task.conditions()["sequence"])
    repeats = max(1, min(20, subject.n_trials // ids.size))
    batch = task.trials(ids.size * repeats, subject.rng(30), sequence=np.tile(ids, repeats))
    evaluation, outputs, rates = subject.behave(batch, noise=False)
    seq = np.asarray(batch.params["sequence"])
    rmse = np.asarray(evaluation["rmse"], dtype=float)
    section.numbers = {"noise": False, "n_trials": len(batch),
                       "rmse_per_sequence": {int(s): float(np.sqrt(np.mean(rmse[seq == s] ** 2))) for s in ids},
                       "percent_correct": float(100 * np.nanmean(np.asarray(evaluation["correct"], dtype=float)))}
    import matplotlib as mpl

    cmap = mpl.colormaps["tab10"]
    start = batch.periods["fixation"][:, 0]
    end = batch.periods["m3"][:, 1]
    steps = np.arange(batch.n_steps)[None, :]
    inside = (steps >= start[:, None]) & (steps < end[:, None])
    fig = new_figure(9.0, 4.2)
    ax_eye, ax_pc = fig.subplots(1, 2)
    grid = np.array([[x, y] for y in (0.5, 0.0, -0.5) for x in (-0.5, 0.0, 0.5)])
    ax_eye.scatter(grid[:, 0], grid[:, 1], s=80, color="0.85", zorder=0)
    for j, s in enumerate(ids):
        i = int(np.flatnonzero(seq == s)[0])
        path = outputs[i][inside[i]]
        ax_eye.plot(path[:, 0], path[:, 1], color=cmap(j % 10), lw=1.2, label=f"sequence {s}")
    ax_eye.set_aspect("equal")
    ax_eye.set_xlabel("eye x")
    ax_eye.set_ylabel("eye y")
    ax_eye.legend(fontsize=6, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    # movements aligned to m1 onset: same period lengths on every trial of a sequence
    onset = batch.periods["m1"][:, 0]
    length = int((batch.periods["m3"][:, 1] - onset).min())
    window = rates[np.arange(len(batch))[:, None], onset[:, None] + np.arange(length)[None, :]]
    average = condition_average(window, {"sequence": seq})
    pca = fit_pca(average.mean, n_components=min(3, average.mean.shape[-1]))
    projected = pca.project(average.mean)
    for j, s in enumerate(average.conditions["sequence"]):
        ax_pc.plot(projected[j, :, 0], projected[j, :, 1], color=cmap(list(ids).index(s) % 10), lw=1.2)
        ax_pc.plot(projected[j, 0, 0], projected[j, 0, 1], "o", color="k", ms=3)
    ax_pc.set_xlabel(f"PC1 ({100 * pca.explained_variance_ratio[0]:.0f}%)")
    ax_pc.set_ylabel(f"PC2 ({100 * pca.explained_variance_ratio[1]:.0f}%)")
    ax_pc.set_title("movements M1-M3 (dot: M1 onset)", fontsize=9)
    section.numbers["pca_variance_ratio"] = pca.explained_variance_ratio
    section.numbers["pc12_variance_percent"] = float(100 * pca.explained_variance_ratio[:2].sum())
    fig.suptitle(f"{task.id} ({subject.model_name}), no noise", fontsize=10)
    section.figure(fig, "sequences", "Eye position of one trial of each sequence over the 3x3 dots (left) and the "
                   "condition-averaged rates during the three movements on the first two PCs (right).",
                   "Song et al. 2016, Fig. 8C (and the task of Fig. 8A)")
