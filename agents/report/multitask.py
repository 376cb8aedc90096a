"""One network, many tasks: units' task variance, their clusters and the clusters' lesions (Yang et al. 2019,
Fig. 2; :mod:`agents.analysis.task_variance`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.analysis.lesions import lesion_model, saturated_scores
from agents.analysis.task_variance import cluster_units, normalised_profiles, task_variance
from agents.plots.save import new_figure
from agents.report.section import Section
from agents.report.subject import Skip, Subject


def is_mixture(task: Any) -> bool:
    from neurotasks.mixture_task import MixtureTask

    return isinstance(task, MixtureTask)


def task_variance_clusters(subject: Subject, section: Section) -> None:
    """Task variance per unit on noise-free trials of every task (Yang's 'test' trials have no noise), units
    clustered by their normalised profiles, then each cluster silenced and every task re-scored."""
    task = subject.task
    if not is_mixture(task):
        raise Skip(f"{task.id} is one task; task variance needs a run on a task mixture (neurotasks train yang19)")
    subject.need_rates("task variance")
    repeats = max(2, -(-subject.n_trials // len(task.tasks)))
    batch = task.grid_trials(repeats, subject.rng(80))
    _, rates = subject.simulate(batch, noise=False)
    start = batch.periods["fixation"][:, 1] if "fixation" in batch.periods else np.zeros(len(batch), np.int64)
    variance = task_variance(rates, batch.params["task"], np.minimum(start, batch.lengths - 1), batch.lengths,
                             len(task.tasks))
    units, profiles = normalised_profiles(variance)                  # active units' indices, their profiles
    if len(profiles) < 3:
        raise Skip(f"only {len(profiles)} active units (task variance summed over tasks > 1e-3): nothing to cluster")
    clusters = cluster_units(profiles, seed=subject.seed)
    labels, order, k = clusters["labels"], clusters["order"], clusters["n_clusters"]
    short = [i.removeprefix("Yang19").removesuffix("-v0") for i in task.ids]

    intact = saturated_scores(task, batch, subject.simulate(batch, noise=False)[0])
    lesioned = np.full((k, len(task.tasks)), np.nan)
    for j in range(k):
        outputs, _ = subject.simulate(batch, noise=False, model=lesion_model(subject.model, units=units[labels == j]))
        scores = saturated_scores(task, batch, outputs)
        lesioned[j] = [scores[f"{i}/percent_correct"] - intact[f"{i}/percent_correct"] for i in task.ids]

    section.numbers = {"n_trials": len(batch), "n_active_units": len(units), "n_clusters": k,
                       "silhouette": {str(kk): float(v) for kk, v in clusters["scores"].items()},
                       "cluster_sizes": np.bincount(labels, minlength=k).tolist(),
                       "intact_percent_correct": {i: float(intact[f"{i}/percent_correct"]) for i in task.ids},
                       "lesion_change_percent_correct": {f"cluster {j + 1}": dict(zip(task.ids, lesioned[j].tolist(),
                                                                                     strict=True))
                                                         for j in range(k)}}

    fig = new_figure(11.0, 4.8)
    ax_var, ax_les = fig.subplots(1, 2, width_ratios=[3, 2])
    image = ax_var.imshow(profiles[order].T, aspect="auto", cmap="hot", vmin=0, vmax=1, interpolation="nearest")
    bounds = np.flatnonzero(np.diff(labels[order])) + 0.5
    for b in bounds:
        ax_var.axvline(b, color="w", lw=0.6)
    ax_var.set_yticks(range(len(short)), short, fontsize=6)
    ax_var.set_xlabel(f"{len(units)} active units, sorted into {k} clusters")
    ax_var.set_title("normalised task variance", fontsize=9)
    fig.colorbar(image, ax=ax_var, fraction=0.03)
    limit = max(1.0, float(np.nanmax(np.abs(lesioned))))
    shown = ax_les.imshow(lesioned.T, aspect="auto", cmap="RdBu", vmin=-limit, vmax=limit, interpolation="nearest")
    ax_les.set_yticks(range(len(short)), short, fontsize=6)
    ax_les.set_xticks(range(k), [str(j + 1) for j in range(k)], fontsize=6)
    ax_les.set_xlabel("cluster silenced")
    ax_les.set_title("change in percent correct", fontsize=9)
    fig.colorbar(shown, ax=ax_les, fraction=0.05)
    fig.suptitle(f"{task.id} ({subject.model_name}): task variance clusters and their lesions", fontsize=10)
    section.figure(fig, "task_variance", "Each active unit's task variance normalised by its largest (columns: "
                   "units sorted by cluster, k by the silhouette score), and the change in each task's percent "
                   "correct when a cluster is silenced (noise-free trials).")
