"""Robustness to input noise (Kao 2021): performance as the task's input noise grows past the level the
network was trained with. Kao found the network whose dynamics follow the proposed mechanism degrades
least; here the curve is measured for any run (network or RL agent), on the same trial conditions at
every level."""

from __future__ import annotations

import numpy as np

from agents.plots.save import new_figure
from agents.report.section import Section
from agents.report.subject import Subject

#: input noise levels as multiples of the trained σ
MULTIPLES = (0.0, 1.0, 2.0, 4.0, 8.0, 16.0)
#: absolute levels for a task trained without input noise
ABSOLUTE = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2)


def noise_levels(trained: float) -> np.ndarray:
    """The σ tried: multiples of the trained σ, or fixed levels if it was trained without noise."""
    return np.asarray(ABSOLUTE if trained <= 0 else [m * trained for m in MULTIPLES], dtype=float)


def input_noise(subject: Subject, section: Section) -> None:
    task = subject.task
    trained = float(task.input_noise)
    metric = task.criterion.metric if getattr(task, "criterion", None) is not None else "percent_correct"
    levels = noise_levels(trained)
    rows = []
    for level in levels:
        variant = subject.variant(input_noise=float(level))
        try:
            batch = variant.grid_trials(max(1, subject.n_trials // 2 // len(next(iter(variant.conditions().values())))),
                                        subject.rng(50), include_catch=False)
        except NotImplementedError:
            batch = variant.trials(max(50, subject.n_trials // 2), subject.rng(50))
        evaluation = subject.behave(batch, task=variant)[0]
        score = variant.score(batch, evaluation)
        rows.append({"input_noise": float(level), "n": len(batch), **score})
    section.numbers = {"trained_input_noise": trained, "metric": metric, "levels": rows}
    fig = new_figure(5.0, 3.4)
    ax = fig.subplots()
    x = [r["input_noise"] for r in rows]
    ax.plot(x, [r.get(metric, np.nan) for r in rows], "o-k", label=metric)
    if metric != "percent_correct":
        twin = ax.twinx()
        twin.plot(x, [r["percent_correct"] for r in rows], "s--", color="tab:blue")
        twin.set_ylabel("percent correct", color="tab:blue")
    if trained > 0:
        ax.axvline(trained, color="0.6", ls=":", lw=1, label="trained σ")
    ax.set_xscale("symlog", linthresh=max(trained, 0.01))
    ax.set_xlabel("input noise σ")
    ax.set_ylabel(metric)
    ax.legend(fontsize=7, frameon=False)
    fig.suptitle(f"{task.id} ({subject.model_name}): robustness to input noise", fontsize=9)
    section.figure(fig, "input_noise", f"{metric} (and percent correct) against the task's input noise σ; same "
                   "conditions at every level.", "Kao 2021, robustness to input noise")
