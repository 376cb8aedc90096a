"""Choice selectivity of single units and the connectivity sorted by it (Song, Yang & Wang 2016, Fig. 3).

Each unit's d′ (Eq 30) between trials on which the network chose choice 1 and choice 2, over the
evidence period. Sorting the weights by d′, E and I apart, shows what Fig. 3B shows: excitatory units
of opposite preference excite each other less than units of the same preference, and interact through
the inhibitory units. The report measures that as the mean E→E weight within and between the two
groups of the most selective excitatory units.
"""

from __future__ import annotations

import numpy as np

from agents.analysis.selectivity import choice_selectivity, preferred_choice, sort_units
from agents.plots.network import connectivity_figure
from agents.plots.run_figures import evidence_period
from agents.report.behaviour import is_decision_task
from agents.report.section import Section
from agents.report.subject import Skip, Subject

#: excitatory units per preference whose mutual weights are compared (the paper's Fig. 3 shows 20 E units)
TOP_PER_SIDE = 10


def block_means(w_rec: np.ndarray, first: np.ndarray, second: np.ndarray) -> dict[str, float]:
    """Mean recurrent weight (post × pre) within each group and between the groups of units ``first`` and
    ``second`` (self-connections left out)."""
    def mean(post: np.ndarray, pre: np.ndarray) -> float:
        block = w_rec[np.ix_(post, pre)].astype(float)
        if post is pre:
            block = block[~np.eye(len(post), dtype=bool)]
        return float(block.mean()) if block.size else float("nan")
    return {"within": float(np.nanmean([mean(first, first), mean(second, second)])),
            "between": float(np.nanmean([mean(first, second), mean(second, first)]))}


def selectivity(subject: Subject, section: Section) -> None:
    subject.need_rates("choice selectivity")
    task = subject.task
    if not is_decision_task(task):
        raise Skip(f"{task.id} has no choices to be selective for")
    batch, evaluation, _, rates = subject.standard()
    period = evidence_period(batch)
    if period is None:
        raise Skip(f"{task.id} has no evidence period before its decision")
    choice = np.asarray(evaluation["choice"])
    try:
        d = choice_selectivity(rates, choice, batch.periods[period])
    except ValueError as err:
        raise Skip(f"no choice selectivity: {err}") from None
    n_exc = subject.n_exc
    n = d.size
    exc = np.arange(n if n_exc is None else n_exc)
    section.numbers = {"period": period, "dprime": d, "n_exc": n_exc,
                       "n_selective": {"excitatory": int(np.sum(np.abs(d[exc]) > 1)),
                                       "inhibitory": int(np.sum(np.abs(d[len(exc):]) > 1))},
                       "preferred_choice": preferred_choice(d)}
    if not subject.rate_network:
        section.notes.append(f"{subject.model_name} is a gated network: d′ of its hidden state; no connectivity "
                             "matrix of rate units to sort")
        return
    weights = subject.model.effective_weights()
    order = sort_units(d, n_exc)
    first = exc[np.argsort(-d[exc], kind="stable")][:TOP_PER_SIDE]
    second = exc[np.argsort(d[exc], kind="stable")][:TOP_PER_SIDE]
    first, second = first[d[first] > 0], second[d[second] < 0]
    if first.size >= 2 and second.size >= 2:
        section.numbers["excitatory_weights"] = {**block_means(np.asarray(weights["W_rec"]), first, second),
                                                 "units_per_group": [int(first.size), int(second.size)]}
    fig = connectivity_figure(weights, order, n_exc, task.input_names, task.output_names,
                              title=f"{task.id} ({subject.model_name}): units sorted by choice selectivity d′ "
                                    f"({period} period{', E then I' if n_exc else ''})")
    section.figure(fig, "connectivity_sorted", "W_in, W_rec and W_out with units sorted by choice selectivity d′ "
                   "(excitatory then inhibitory, each from choice 1 to choice 2); blue positive, red negative.")
