"""Parametric working memory (Romo et al. 1999; Song, Yang & Wang 2016, Fig. 7): performance per (f1, f2)
condition (Fig. 7B), units' linear tuning to f1 over the trial (Fig. 7C, 7E; :mod:`agents.analysis.tuning`),
example units coloured by f1 (Fig. 7D), and performance at delays outside the trained range (generalisation).

The tuning is measured, as in the paper, at a fixed 3 s delay (trained with 2.5-3.5 s), so every trial shares
one time axis.
"""

from __future__ import annotations

import numpy as np

from agents.analysis.trial_average import condition_average
from agents.analysis.tuning import linear_tuning
from agents.plots.run_figures import analysis_batch
from agents.plots.save import new_figure
from agents.report.section import Section
from agents.report.subject import Skip, Subject

#: the paper's test delay (ms)
TEST_DELAY = 3000.0
#: delays tried for generalisation (ms); the trained range is read from the task
GENERALISATION_DELAYS = (500.0, 1500.0, 2500.0, 3000.0, 3500.0, 4500.0, 6000.0)


def _needs_f1(subject: Subject) -> None:
    if not {"f1", "f2"} <= set(subject.task.param_names):
        raise Skip(f"{subject.task.id} has no f1 and f2 frequencies")


def _f1_colours(f1: np.ndarray):
    import matplotlib as mpl

    cmap = mpl.colormaps["plasma"]
    low, high = float(np.min(f1)), float(np.max(f1))
    return lambda f: cmap(0.05 + 0.85 * (float(f) - low) / max(high - low, 1e-9))


def conditions(subject: Subject, section: Section) -> None:
    """Percent correct of each (f1, f2) pair (Fig. 7B)."""
    _needs_f1(subject)
    batch, evaluation = subject.standard()[:2]
    f1, f2 = np.asarray(batch.params["f1"]), np.asarray(batch.params["f2"])
    correct = np.asarray(evaluation["correct"], dtype=float)
    pairs = np.unique(np.stack([f1, f2], axis=1), axis=0)
    rows = []
    for a, b in pairs:
        sel = (f1 == a) & (f2 == b) & np.isfinite(correct)
        rows.append({"f1": float(a), "f2": float(b), "n": int(sel.sum()),
                     "percent_correct": float(100 * correct[sel].mean()) if sel.any() else float("nan")})
    section.numbers = {"conditions": rows, "min_condition_percent_correct": min(r["percent_correct"] for r in rows)}
    colour = _f1_colours(f1)
    fig = new_figure(6.0, 3.4)
    ax = fig.subplots()
    labels = [f"{r['f1']:g}>{r['f2']:g}" if r["f1"] > r["f2"] else f"{r['f1']:g}<{r['f2']:g}" for r in rows]
    ax.bar(range(len(rows)), [r["percent_correct"] for r in rows], color=[colour(r["f1"]) for r in rows])
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels(labels, rotation=45, fontsize=7)
    ax.axhline(85, color="0.5", lw=0.8, ls="--")
    ax.set_ylim(0, 103)
    ax.set_xlabel("f1 vs f2 (Hz)")
    ax.set_ylabel("percent correct")
    fig.suptitle(f"{subject.task.id} ({subject.model_name}): performance per condition (colour: f1)", fontsize=9)
    section.figure(fig, "conditions", "Percent correct per (f1, f2) condition, coloured by f1; dashed: the 85 % "
                   "criterion of the worst condition.")


def f1_tuning(subject: Subject, section: Section) -> None:
    """Share of units significantly tuned to f1 over time, the correlation of tuning across time, and
    example units' rates coloured by f1."""
    _needs_f1(subject)
    subject.need_rates("f1 tuning")
    task = subject.variant(delay=TEST_DELAY)
    n_conditions = len(task.ordered_pairs)
    batch = analysis_batch(task, max(3, subject.n_trials // n_conditions), subject.rng(11), max_trials=subject.n_trials)
    _, _, rates = subject.behave(batch, task=task)
    steps = int(batch.lengths.min())
    rates = rates[:, :steps]
    f1 = np.asarray(batch.params["f1"], dtype=float)
    tuning = linear_tuning(rates, f1)
    dt = float(batch.dt)
    periods = {name: (int(span[0, 0]), int(span[0, 1])) for name, span in batch.periods.items()}
    mid = {name: (a + b - 1) // 2 for name, (a, b) in periods.items()}
    tuned = tuning.fraction_tuned(0.05)
    corr_f1, corr_delay = tuning.slope_correlation(mid["f1"]), tuning.slope_correlation(mid["delay"])
    times = np.arange(steps) * dt
    section.numbers = {"delay_ms": TEST_DELAY, "n_trials": tuning.n_trials, "dt_ms": dt,
                       "periods_ms": {k: [a * dt, b * dt] for k, (a, b) in periods.items()},
                       "fraction_tuned": {k: v for k, v in tuned.items()},
                       "fraction_tuned_at": {name: float(tuned["any"][step]) for name, step in mid.items()},
                       "slope_correlation_with_mid_f1": corr_f1, "slope_correlation_with_mid_delay": corr_delay,
                       "end_of_delay_vs_mid_f1": float(corr_f1[periods["delay"][1] - 1])}
    fig = new_figure(6.5, 5.0)
    ax_frac, ax_corr = fig.subplots(2, 1, sharex=True)
    for ax in (ax_frac, ax_corr):
        for name in ("f1", "f2"):
            a, b = periods[name]
            ax.axvspan(a * dt, b * dt, color="0.92", zorder=0)
    ax_frac.plot(times, 100 * tuned["positive"], color="tab:red", label="positive a₁")
    ax_frac.plot(times, 100 * tuned["negative"], color="tab:blue", label="negative a₁")
    ax_frac.plot(times, 100 * tuned["any"], color="k", label="either")
    ax_frac.set_ylabel("% units tuned to f1\n(p < 0.05)")
    ax_frac.legend(fontsize=7, frameon=False)
    ax_corr.plot(times, corr_f1, color="tab:blue", label="with mid f1")
    ax_corr.plot(times, corr_delay, color="tab:green", label="with mid delay")
    ax_corr.axhline(0, color="0.7", lw=0.8)
    ax_corr.set_ylabel("correlation of a₁")
    ax_corr.set_xlabel("time from trial start (ms); shaded: f1, f2")
    ax_corr.legend(fontsize=7, frameon=False)
    fig.suptitle(f"{subject.task.id} ({subject.model_name}): linear tuning r = a₀ + a₁ f1, delay 3 s", fontsize=9)
    section.figure(fig, "f1_tuning", "Share of units whose rate is significantly (two-sided p < 0.05) linear in f1 "
                   "at each time (Fig. 7E), and the correlation across units of the tuning a₁ with a₁ at mid f1 and "
                   "mid delay (Fig. 7C).", "Song et al. 2016, Fig. 7C, 7E")
    # example units (Fig. 7D): the most tuned at mid f1, mid delay and mid f2
    t_abs = np.abs(tuning.slope) / np.maximum(np.nanstd(rates, axis=(0, 1)), 1e-9)
    units: list[int] = []
    for name in ("f1", "delay", "delay", "f2"):
        for unit in np.argsort(-t_abs[mid[name]], kind="stable"):
            if int(unit) not in units:
                units.append(int(unit))
                break
    average = condition_average(rates, {"f1": f1})
    colour = _f1_colours(f1)
    fig = new_figure(8.0, 4.6)
    axes = fig.subplots(2, 2, sharex=True).ravel()
    for ax, unit in zip(axes, units, strict=False):
        for k, value in enumerate(average.conditions["f1"]):
            ax.plot(times, average.mean[k, :, unit], color=colour(value), lw=1)
        for name in ("f1", "f2"):
            a, b = periods[name]
            ax.axvspan(a * dt, b * dt, color="0.92", zorder=0)
        ax.set_title(f"unit {unit}", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[-1].set_xlabel("time (ms)", fontsize=8)
    section.numbers["example_units"] = units
    fig.suptitle(f"{subject.task.id}: example units' rates by f1 (yellow: high f1, purple: low)", fontsize=9)
    section.figure(fig, "f1_traces", "Condition-averaged rates of units most tuned to f1 at mid f1, mid delay and "
                   "mid f2, coloured by f1.", "Song et al. 2016, Fig. 7D")


def delay_generalisation(subject: Subject, section: Section) -> None:
    """Percent correct at delays inside and outside the trained range."""
    _needs_f1(subject)
    trained = subject.task.durations["delay"]
    low, high = float(trained.min), float(trained.max)
    rows = []
    for k, delay in enumerate(GENERALISATION_DELAYS):
        task = subject.variant(delay=delay)
        batch = task.grid_trials(max(1, subject.n_trials // (2 * len(task.ordered_pairs))), subject.rng(20 + k),
                                 include_catch=False)
        evaluation = subject.behave(batch, task=task)[0]
        score = task.score(batch, evaluation)
        rows.append({"delay_ms": delay, "trained_range": bool(low <= delay <= high), "n": len(batch),
                     "percent_correct": score["percent_correct"],
                     "min_condition_percent_correct": score["min_condition_percent_correct"]})
    section.numbers = {"trained_delay_ms": [low, high], "delays": rows}
    fig = new_figure(5.0, 3.4)
    ax = fig.subplots()
    delays = [r["delay_ms"] for r in rows]
    ax.axvspan(low, high, color="0.9", label="trained delays")
    ax.plot(delays, [r["percent_correct"] for r in rows], "o-k", label="mean")
    ax.plot(delays, [r["min_condition_percent_correct"] for r in rows], "s--", color="tab:red", label="worst condition")
    ax.set_xlabel("delay (ms)")
    ax.set_ylabel("percent correct")
    ax.set_ylim(0, 103)
    ax.legend(fontsize=7, frameon=False)
    fig.suptitle(f"{subject.task.id} ({subject.model_name}): delays outside training", fontsize=9)
    section.figure(fig, "delay_generalisation", "Percent correct (mean and worst condition) at delays inside and "
                   "outside the trained range (shaded).", "Song et al. 2016, Fig. 7B (generalisation beyond it)")
