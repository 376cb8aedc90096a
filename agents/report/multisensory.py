"""Multisensory integration: per-modality thresholds against the optimal-integration prediction
(Raposo et al. 2014; Song, Yang & Wang 2016, Fig. 6B; :mod:`agents.analysis.cue_combination`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.analysis.cue_combination import optimal_threshold
from agents.analysis.psychometric import psychometric_table
from agents.plots.behaviour import plot_psychometric
from agents.plots.save import new_figure
from agents.report.behaviour import fit_numbers
from agents.report.section import Section
from agents.report.subject import Skip, Subject

MODALITIES = ((0, "visual", "tab:blue"), (1, "auditory", "tab:green"), (2, "both", "k"))


#: event rates tested per trained rate step: a network sharper than the trained grid's 1 event/s spacing
#: (the paper's 9, 10, ..., 16) jumps from 0 to 100 % between two of its rates, and its threshold cannot be fitted
RATES_PER_STEP = 4


def fine_rate_trials(subject: Subject) -> tuple[Any, dict[str, np.ndarray]]:
    """(batch, evaluation) on the trained range of event rates at :data:`RATES_PER_STEP` times the trained grid's
    density (same lowest and highest rate, so the inputs' tuning is unchanged; the boundary left out), about
    3 × ``n_trials`` trials."""
    from agents.plots.run_figures import analysis_batch
    from neurotasks import make_task

    task = subject.task
    trained = np.unique(np.asarray(task.rates, dtype=float))
    fine = np.linspace(trained.min(), trained.max(), RATES_PER_STEP * (len(trained) - 1) + 1)
    fine = fine[~np.isclose(fine, float(task.boundary))]          # the boundary itself has no category
    fine_task = make_task(task.id, **{**dict(task.kwargs), "rates": [float(r) for r in fine]})
    n_conditions = len(next(iter(fine_task.conditions().values())))
    repeats = max(1, -(-3 * subject.n_trials // n_conditions))
    batch = analysis_batch(fine_task, repeats, subject.rng(70), max_trials=repeats * n_conditions)
    return batch, subject.behave(batch, task=fine_task)[0]


def optimal_integration(subject: Subject, section: Section) -> None:
    if not {"rate", "modality"} <= set(subject.standard()[0].params):
        raise Skip(f"{subject.task.id} has no event rate and modality")
    batch, evaluation = fine_rate_trials(subject)
    fig = new_figure(8.5, 3.6)
    ax_curve, ax_bar = fig.subplots(1, 2, width_ratios=[3, 2])
    fits, numbers = {}, {}
    for value, name, colour in MODALITIES:
        where = np.asarray(batch.params["modality"]) == value
        table = psychometric_table(batch, evaluation, "rate", direction=None, first=0, where=where)
        if table.x.size < 2:
            continue
        try:
            fit = table.fit()
        except ValueError:
            fit = None
        fits[name] = fit
        numbers[name] = {"rate": table.x, "n": table.n, "p_high": table.p,
                         "fit": fit_numbers(fit) if fit is not None else None}
        plot_psychometric(ax_curve, table, fit, color=colour, label=name, xlabel="event rate (events/s)",
                          ylabel="percent choice high")
    rates = np.asarray(subject.task.rates, dtype=float)
    ax_curve.set_xlim(rates.min() - 0.3, rates.max() + 0.3)
    ax_curve.axvline(float(subject.task.boundary), color="0.8", lw=0.8)
    ax_curve.legend(fontsize=7, frameon=False)
    section.numbers = {"modalities": numbers, "n_trials": len(batch), "rates_per_trained_step": RATES_PER_STEP}
    single = [fits.get("visual"), fits.get("auditory")]
    if all(f is not None for f in single) and fits.get("both") is not None:
        visual, auditory, both = fits["visual"], fits["auditory"], fits["both"]
        predicted, predicted_se = optimal_threshold(visual.threshold, auditory.threshold,
                                                    visual.stderr.get("threshold", np.nan),
                                                    auditory.stderr.get("threshold", np.nan))
        section.numbers["thresholds"] = {"visual": visual.threshold, "auditory": auditory.threshold,
                                         "both": both.threshold, "optimal_prediction": predicted,
                                         "optimal_prediction_se": predicted_se,
                                         "both_over_prediction": both.threshold / predicted}
        labels = ["visual", "auditory", "both", "optimal"]
        values = [visual.threshold, auditory.threshold, both.threshold, predicted]
        errors = [visual.stderr.get("threshold", np.nan), auditory.stderr.get("threshold", np.nan),
                  both.stderr.get("threshold", np.nan), predicted_se]
        ax_bar.bar(labels, values, yerr=np.nan_to_num(errors), color=["tab:blue", "tab:green", "k", "0.75"])
        ax_bar.set_ylabel("threshold σ (events/s)")
        ax_bar.set_title(f"both / optimal = {both.threshold / predicted:.2f}", fontsize=9)
    else:
        section.notes.append("no optimal-integration prediction: a modality's psychometric curve could not be fitted")
        ax_bar.set_visible(False)
    fig.suptitle(f"{subject.task.id} ({subject.model_name})", fontsize=10)
    section.figure(fig, "multisensory_thresholds", "Percent choice high per modality with cumulative-Gaussian fits "
                   "(left) and the thresholds against the optimal prediction σ = σ_v σ_a / sqrt(σ_v² + σ_a²) "
                   "(right, ±1 s.e.), on event rates 4 times as dense as the trained ones.")
