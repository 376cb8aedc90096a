"""The delayed-reach tests of Kao (2021): generalisation to targets the network never saw (halfway between
the trained ones) and to target switches during the delay, and the population's rotational dynamics
during the reach, on the jPCA plane (Churchland et al. 2012; :mod:`agents.analysis.jpca`)."""

from __future__ import annotations

import numpy as np

from agents.analysis.jpca import fit_jpca
from agents.analysis.state_space import fit_pca
from agents.analysis.trial_average import condition_average
from agents.plots.save import new_figure
from agents.report.section import Section
from agents.report.subject import Skip, Subject

#: principal components jPCA works in (Churchland et al. use 6)
N_PCS = 6


def _needs_reach(subject: Subject) -> None:
    if not {"target", "angle"} <= set(subject.task.param_names) or "movement" not in subject.task.period_names:
        raise Skip(f"{subject.task.id} is not a reaching task")


def _summary(task, batch, evaluation) -> dict:
    score = task.score(batch, evaluation)
    return {"n": len(batch), "percent_correct": score["percent_correct"], "rmse": score.get("rmse"),
            "endpoint_error": score.get("endpoint_error"),
            "endpoint_error_max": float(np.max(evaluation["endpoint_error"]))}


def generalisation(subject: Subject, section: Section) -> None:
    _needs_reach(subject)
    trained = np.asarray(subject.task.target_angles, dtype=float)
    gaps = np.diff(np.r_[trained, trained[0] + 360.0])
    untrained = np.mod(trained + gaps / 2, 360.0)
    cases = {"trained targets": subject.task, "untrained targets": subject.variant(target_angles=untrained.tolist()),
             "target switch": subject.variant(target_switch=True)}
    repeats = max(1, subject.n_trials // (3 * len(trained)))
    rows, examples = {}, {}
    for k, (name, task) in enumerate(cases.items()):
        batch = task.grid_trials(repeats, subject.rng(70 + k), include_catch=False)
        evaluation, outputs, _ = subject.behave(batch, task=task)
        rows[name] = _summary(task, batch, evaluation)
        if outputs is not None:
            examples[name] = (batch, outputs)
    section.numbers = {"trained_angles": trained, "untrained_angles": untrained, "cases": rows,
                       "endpoint_tolerance": float(getattr(subject.task, "endpoint_tolerance", np.nan))}
    if not examples:
        section.notes.append("an RL agent: no hand trajectories drawn (numbers from its actions)")
        return
    fig = new_figure(10.0, 3.6)
    axes = fig.subplots(1, 3)
    import matplotlib as mpl

    cmap = mpl.colormaps["hsv"]
    for ax, (name, (batch, outputs)) in zip(axes, examples.items(), strict=False):
        move = batch.periods["movement"][:, 0]
        stop = batch.lengths
        for i in range(min(len(batch), 3 * len(trained))):
            angle = float(batch.params["angle"][i])
            path = outputs[i, int(move[i]) - 1: int(stop[i])]
            ax.plot(path[:, 0], path[:, 1], color=cmap(angle / 360.0), lw=0.8)
            goal = np.deg2rad(angle)
            ax.plot(np.cos(goal), np.sin(goal), "o", mfc="none", color=cmap(angle / 360.0), ms=8)
            if "first_target" in batch.params and bool(batch.params["switched"][i]):
                first = np.deg2rad(float(np.asarray(subject.task.target_angles)[int(batch.params["first_target"][i])]))
                ax.plot(np.cos(first), np.sin(first), "x", color="0.5", ms=5)
        ax.set_aspect("equal")
        ax.set_xlim(-1.4, 1.4)
        ax.set_ylim(-1.4, 1.4)
        r = rows[name]
        ax.set_title(f"{name}\n{r['percent_correct']:.0f}% correct, endpoint error {r['endpoint_error']:.3f}",
                     fontsize=8)
    fig.suptitle(f"{subject.task.id} ({subject.model_name}): hand paths from movement onset (circles: targets, "
                 "x: first target of a switch)", fontsize=9)
    section.figure(fig, "reach_generalisation", "Hand trajectories to the trained targets, to untrained targets "
                   "halfway between them, and after a target switch during the delay.",
                   "Kao 2021, generalisation to untrained targets and target switches")


def rotations(subject: Subject, section: Section) -> None:
    _needs_reach(subject)
    subject.need_rates("the population's rotational dynamics")
    task = subject.task
    batch = task.grid_trials(max(2, subject.n_trials // (4 * len(task.target_angles))), subject.rng(80),
                             include_catch=False)
    _, _, rates = subject.behave(batch, noise=False)
    go = batch.periods["go"][:, 0]
    length = int((batch.periods["movement"][:, 1] - go).min())
    window = rates[np.arange(len(batch))[:, None], go[:, None] + np.arange(length)[None, :]].astype(float)
    average = condition_average(window, {"target": np.asarray(batch.params["target"])})
    k = min(N_PCS, average.mean.shape[-1], average.mean.shape[0] * length - 1)
    pca = fit_pca(average.mean, n_components=k)
    pcs = pca.project(average.mean)
    dt = float(batch.dt)
    times = np.arange(length) * dt
    try:
        fit = fit_jpca(pcs, times)
    except ValueError as err:
        raise Skip(f"no jPCA: {err}") from None
    plane = fit.project(pcs - pcs.mean(axis=0, keepdims=True))
    section.numbers = {"window": "go cue to the end of the movement", "window_ms": length * dt, "n_pcs": k,
                       "pca_variance_ratio": pca.explained_variance_ratio, "r2_skew": fit.r2_skew,
                       "r2_full": fit.r2_full, "rotational_share": fit.r2_skew / fit.r2_full if fit.r2_full > 0
                       else None, "angular_frequency_per_ms": fit.angular_frequency,
                       "rotation_hz": fit.angular_frequency * 1000 / (2 * np.pi)}
    import matplotlib as mpl

    cmap = mpl.colormaps["hsv"]
    fig = new_figure(5.0, 4.4)
    ax = fig.subplots()
    angles = np.asarray(task.target_angles, dtype=float)[average.conditions["target"]]
    for j in range(plane.shape[0]):
        ax.plot(plane[j, :, 0], plane[j, :, 1], color=cmap(angles[j] / 360.0), lw=1.2)
        ax.plot(plane[j, 0, 0], plane[j, 0, 1], "o", color=cmap(angles[j] / 360.0), ms=3)
        ax.annotate("", xy=plane[j, -1], xytext=plane[j, -2], arrowprops=dict(arrowstyle="->",
                                                                               color=cmap(angles[j] / 360.0)))
    ax.set_xlabel("jPC1")
    ax.set_ylabel("jPC2")
    ax.set_title(f"skew R² {fit.r2_skew:.2f} of full {fit.r2_full:.2f}; {section.numbers['rotation_hz']:.2f} Hz",
                 fontsize=8)
    fig.suptitle(f"{task.id} ({subject.model_name}): condition averages from go cue to movement end, jPCA plane "
                 "(no noise)", fontsize=8)
    section.figure(fig, "jpca", "Condition-averaged population trajectories (one per target, dot: go cue) in the "
                   "plane of the strongest rotation of a skew-symmetric linear fit on the top PCs.",
                   "Kao 2021, population dynamics; Churchland et al. 2012, jPCA")
