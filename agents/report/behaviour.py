"""Behaviour of any decision agent (network or RL): psychometric curves with fits and confidence
intervals (Song, Yang & Wang 2016, Fig. 2C/2D, 4A, 6B), chronometric curves of correct and error
trials (Fig. 2F) and accuracy against stimulus duration (Fig. 2E)."""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.analysis.psychometric import (
    accuracy_by_duration,
    binomial_interval,
    chronometric_table,
    psychometric_table,
)
from agents.plots.behaviour import plot_chronometric, psychometric_figure, psychometric_panels
from agents.plots.save import new_figure
from agents.report.section import Section
from agents.report.subject import Skip, Subject

#: z of a two-sided 95 % interval
Z95 = 1.959964


def is_decision_task(task: Any) -> bool:
    """A task answered by a discrete choice (it has action names beyond fixation)."""
    return getattr(task, "action_names", None) is not None and len(task.output_names) >= 2


def paper_figure_of(task: Any) -> str:
    """The paper figure a task's psychometric curve corresponds to."""
    figures = {"PerceptualDecision-v0": "2C", "PerceptualDecisionRT-v0": "2D", "ContextDecision-v0": "4A",
               "MultisensoryIntegration-v0": "6B"}
    return f"Song et al. 2016, Fig. {figures.get(task.id, '2C (analogue)')}"


def fit_numbers(fit: Any) -> dict[str, Any]:
    """A psychometric fit's parameters, standard errors and 95 % Wald intervals."""
    out: dict[str, Any] = dict(fit.as_dict())
    for name in ("bias", "threshold", "lapse"):
        se = float(fit.stderr.get(name, np.nan))
        value = float(getattr(fit, name))
        out[f"{name}_se"] = se
        out[f"{name}_ci95"] = [value - Z95 * se, value + Z95 * se] if np.isfinite(se) else None
    return out


def table_numbers(table: Any) -> dict[str, Any]:
    """Per level: stimulus, trials, fraction choosing the first option and its 95 % Wilson interval."""
    k = np.rint(table.p * table.n)
    low, high = binomial_interval(k, table.n)
    return {"x": table.x, "n": table.n, "p_first": table.p, "p_first_ci95": np.stack([low, high], axis=1)}


def psychometric(subject: Subject, section: Section) -> None:
    """Percent of the first choice against the signed stimulus, per panel and group, fitted with a cumulative
    Gaussian with lapse."""
    task = subject.task
    if not is_decision_task(task):
        raise Skip(f"{task.id} is not a choice task (continuous output): no psychometric curve")
    batch, evaluation = subject.standard()[:2]
    panels = psychometric_panels(batch.params)
    if not panels:
        raise Skip(f"{task.id} has no signed stimulus axis for a psychometric curve (its conditions: "
                   f"{', '.join(sorted(batch.params))}); see its own analysis")
    if not np.any(np.asarray(evaluation["choice"]) >= 0):
        raise Skip("the agent made no choice on any trial")
    section.paper_figure = paper_figure_of(task)
    fig, fits = psychometric_figure(batch, evaluation, panels, title=f"{task.id} ({subject.model_name})")
    curves = []
    fitted = dict(fits)
    for panel in panels:
        groups = [(None, "")] if panel.group is None else \
            [(v, label) for v, label in panel.group_labels if np.any(np.asarray(batch.params[panel.group]) == v)]
        for value, label in groups:
            where = None if panel.group is None else np.asarray(batch.params[panel.group]) == value
            table = psychometric_table(batch, evaluation, panel.variable, direction=panel.direction,
                                       first=panel.first, where=where)
            if table.x.size == 0:
                continue
            name = f"{panel.variable}" + (f" [{label}]" if label else "")
            fit = fitted.get(name)
            curve = {"name": name, "variable": panel.variable, "group": label or None, **table_numbers(table),
                     "fit": fit_numbers(fit) if fit is not None else None}
            if panel.group == "context":
                curve["relevant"] = (panel.variable.startswith("motion") and value == 0) or \
                                    (panel.variable.startswith("colour") and value == 1)
            curves.append(curve)
    section.numbers["curves"] = curves
    section.numbers["n_trials"] = len(batch)
    section.figure(fig, "psychometric", "Percent of choice 1 against the signed stimulus (points: ±1 binomial s.e.; "
                   "lines: maximum-likelihood cumulative Gaussian with lapse; report.json has 95 % intervals).")


def chronometric(subject: Subject, section: Section) -> None:
    """Mean reaction time of correct and of error trials against coherence (reaction-time tasks)."""
    task = subject.task
    if "reaction time" not in getattr(task, "tags", ()):
        raise Skip(f"{task.id} is not a reaction-time task: its response time is set by the task")
    batch, evaluation = subject.standard()[:2]
    if "coherence" not in batch.params:
        raise Skip(f"{task.id} has no coherence to plot reaction times against")
    tables = {outcome: chronometric_table(batch, evaluation, "coherence", outcome=outcome)
              for outcome in ("correct", "error")}
    fig = new_figure(8.0, 3.4)
    ax_mean, ax_hist = fig.subplots(1, 2)
    plot_chronometric(ax_mean, tables["correct"], color="k", label="correct")
    if tables["error"].x.size:
        shown = tables["error"].x > 0 if tables["correct"].x.size and tables["correct"].x.min() > 0 else \
            np.ones(tables["error"].x.size, bool)
        ax_mean.errorbar(tables["error"].x[shown], tables["error"].mean_rt[shown],
                         yerr=np.nan_to_num(tables["error"].se[shown]), fmt="s--", color="tab:red", ms=4,
                         label="error")
    ax_mean.set_ylabel("reaction time (ms)")
    ax_mean.legend(fontsize=7, frameon=False)
    rt = np.asarray(evaluation["rt"], dtype=float)
    correct = np.asarray(evaluation["correct"], dtype=float)
    for value, colour, label in ((1.0, "0.4", "correct"), (0.0, "tab:red", "error")):
        values = rt[(correct == value) & np.isfinite(rt)]
        if values.size:
            ax_hist.hist(values, bins=30, color=colour, alpha=0.6, label=label)
    ax_hist.set_xlabel("reaction time (ms)")
    ax_hist.set_ylabel("trials")
    ax_hist.legend(fontsize=7, frameon=False)
    fig.suptitle(f"{task.id} ({subject.model_name})", fontsize=10)
    section.numbers = {outcome: {"coherence": t.x, "n": t.n, "mean_rt_ms": t.mean_rt, "se_ms": t.se}
                       for outcome, t in tables.items()}
    section.figure(fig, "chronometric", "Mean reaction time of correct (black) and error (red) trials per coherence "
                   "(±1 s.e.), and the distributions of reaction times.")


def duration(subject: Subject, section: Section) -> None:
    """Percent correct against the stimulus duration, one curve per coherence."""
    task = subject.task
    batch, evaluation = subject.standard()[:2]
    if not is_decision_task(task) or "stimulus" not in batch.periods or "coherence" not in batch.params:
        raise Skip(f"{task.id} has no stimulus period and coherence to relate accuracy to")
    lengths = np.diff(batch.periods["stimulus"], axis=1).ravel()
    if "reaction time" in getattr(task, "tags", ()) or np.unique(lengths).size < 3:
        raise Skip(f"the stimulus duration of {task.id} does not vary from trial to trial (or the agent ends it)")
    table = accuracy_by_duration(batch, evaluation, "coherence", "stimulus", bins=6)
    fig = new_figure(5.0, 3.6)
    ax = fig.subplots()
    import matplotlib as mpl

    cmap = mpl.colormaps["viridis_r"]
    top = max(float(table.levels.max()), 1e-9)
    for row, level in enumerate(table.levels):
        ax.errorbar(table.centres, table.percent_correct[row], yerr=np.nan_to_num(table.se[row]), fmt="o-", ms=3,
                    color=cmap(0.15 + 0.85 * level / top), label=f"{level:g}%")
    ax.set_xlabel("stimulus duration (ms)")
    ax.set_ylabel("percent correct")
    ax.set_ylim(30, 103)
    ax.legend(title="coherence", fontsize=7, title_fontsize=7, frameon=False, loc="lower right")
    fig.suptitle(f"{task.id} ({subject.model_name})", fontsize=10)
    section.numbers = {"coherence": table.levels, "duration_edges_ms": table.edges, "n": table.n,
                       "percent_correct": table.percent_correct, "se": table.se}
    section.figure(fig, "duration", "Percent correct against stimulus duration (equal-count bins), per coherence: "
                   "weak stimuli gain from longer integration.")
