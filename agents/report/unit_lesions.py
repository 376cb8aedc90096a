"""Lesions of unit groups (:mod:`agents.analysis.lesions`): performance after silencing all inhibitory units
(breaking the E/I balance of a Dale network), the most selective or most modulated excitatory units, and
as many random units (the control: is it these units, or any units that many?). Kao (2021) probes the
delayed-reach network this way; for decision tasks the selective units are the clusters of Fig. 3."""

from __future__ import annotations

import numpy as np

from agents.analysis.lesions import inhibitory_units, lesion_model, saturated_scores, top_selective_units
from agents.analysis.selectivity import choice_selectivity
from agents.plots.run_figures import evidence_period
from agents.plots.save import new_figure
from agents.report.behaviour import is_decision_task
from agents.report.section import Section
from agents.report.subject import Skip, Subject

#: share of the units silenced in the targeted and the random lesions
FRACTION = 0.1
#: random lesions averaged for the control
N_RANDOM = 3


def unit_scores(subject: Subject) -> tuple[np.ndarray, str]:
    """How much each unit matters a priori: |d′| of choice selectivity (decision tasks), else the variance of its
    rate over the report's trials."""
    batch, evaluation, _, rates = subject.standard()
    period = evidence_period(batch) if is_decision_task(subject.task) else None
    if period is not None:
        try:
            return np.abs(choice_selectivity(rates, evaluation["choice"], batch.periods[period])), "choice-selective"
        except ValueError:
            pass
    return np.nanvar(rates[batch.valid], axis=0), "most modulated"


def lesions(subject: Subject, section: Section) -> None:
    subject.need_rates("lesions")
    model = subject.model
    n = int(model.n_units)
    batch = subject.standard()[0]
    score, kind = unit_scores(subject)
    pool = np.arange(n if subject.n_exc is None else subject.n_exc)
    k = max(1, round(FRACTION * n))
    groups: dict[str, np.ndarray] = {f"top {k} {kind}{' E' if subject.n_exc else ''}":
                                     top_selective_units(score, k, side="first", among=pool)}
    if subject.n_exc is not None:
        groups["all inhibitory"] = inhibitory_units(model)
    rng = subject.rng(60)
    for r in range(N_RANDOM):
        groups[f"random {k} #{r + 1}"] = rng.choice(n, size=k, replace=False)
    metric = subject.task.criterion.metric if getattr(subject.task, "criterion", None) is not None \
        else "percent_correct"
    results = {"intact": {**subject.task.score(batch, subject.standard()[1]), "diverged_percent": 0.0}}
    for name, units in groups.items():
        try:
            lesioned = lesion_model(model, units=units)
        except TypeError as err:
            raise Skip(f"{subject.model_name} cannot be lesioned: {err}") from None
        outputs, _ = subject.simulate(batch, model=lesioned)
        results[name] = saturated_scores(subject.task, batch, outputs)   # removing inhibition can run away
    random_names = [name for name in results if name.startswith("random")]
    section.numbers = {"metric": metric, "units_per_lesion": k, "groups": {name: np.asarray(units).tolist()
                                                                            for name, units in groups.items()},
                       "scores": results,
                       "random_mean": {m: float(np.mean([results[name][m] for name in random_names]))
                                       for m in results["intact"]}}
    fig = new_figure(6.0, 3.4)
    ax = fig.subplots()
    names = ["intact", *[name for name in results if not name.startswith("random")][1:], "random (mean)"]
    values = [results["intact"][metric], *[results[name][metric] for name in names[1:-1]],
              section.numbers["random_mean"][metric]]
    diverged = [results["intact"]["diverged_percent"], *[results[name]["diverged_percent"] for name in names[1:-1]],
                section.numbers["random_mean"]["diverged_percent"]]
    ax.bar(range(len(names)), values, color=["k", *["tab:red"] * (len(names) - 2), "0.6"])
    positive = [v for v in values if v > 0]
    if positive and max(positive) > 100 * min(positive):              # a run-away lesion next to small errors
        ax.set_yscale("log")
    for i, share in enumerate(diverged):
        if share > 0:
            ax.annotate(f"ran away\n({share:.0f} % of trials)", (i, values[i]), ha="center", va="bottom", fontsize=7)
            ax.margins(y=0.25)                                          # room for the note under the title
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=20, fontsize=7)
    ax.set_ylabel(metric)
    fig.suptitle(f"{subject.task.id} ({subject.model_name}): lesions of unit groups", fontsize=9)
    section.figure(fig, "lesions", f"{metric} of the intact network and after silencing unit groups (their outputs "
                   "to other units and the readout), same trials and noise.", "Kao 2021, lesions; Song et al. 2016, "
                   "Fig. 3 clusters")
