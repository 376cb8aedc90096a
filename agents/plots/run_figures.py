"""The figures of a training run, written into its ``figures/`` folder.

``training_curve.png``  loss and the criterion metric vs trials, with the threshold;
``psychometric.png``    percent choice 1 vs signed coherence with the cumulative-Gaussian fit (decision tasks; Fig. 2C);
``chronometric.png``    reaction time of correct trials vs coherence (reaction-time tasks; Fig. 2F);
``example_trials.png``  inputs, and outputs against targets, for a few trials;
``unit_rates.png``      condition-averaged rates of the most choice-selective units (decision tasks; Fig. 2G/H);
``connectivity.png``    W_in, W_rec, W_out with units sorted by choice selectivity, E and I apart (Fig. 3).

Behaviour is measured on a validation-style batch: every condition of the task's grid ``repeats``
times (plus zero coherence where the task has a coherence), no catch trials, noise on. A figure that
does not apply to a task is skipped.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agents.analysis.selectivity import choice_selectivity, sort_units
from agents.analysis.trial_average import align, condition_average
from agents.plots.behaviour import chronometric_figure, psychometric_figure, psychometric_panels
from agents.plots.network import connectivity_figure, example_units, unit_rates_figure
from agents.plots.save import save_figure
from agents.plots.training import example_trials_figure, task_curves_figure, training_curve_figure
from neurotasks.mixture_task import MixtureTask

Simulate = Callable[..., tuple[np.ndarray, np.ndarray]]


def analysis_batch(task: Any, repeats: int = 100, rng: np.random.Generator | int | None = 0,
                   max_trials: int = 3000, zero_coherence: bool = True) -> Any:
    """Every condition of ``task.conditions()`` ``repeats`` times (fewer if that exceeds ``max_trials``),
    no catch trials; with ``zero_coherence`` and a ``coherence`` condition, also coherence 0 (the
    paper's psychometric functions include it). A task without a condition grid gets ``min(max_trials,
    200)`` ordinary trials."""
    try:
        conditions = task.conditions()
    except NotImplementedError:
        return task.trials(min(max_trials, 200), rng)
    grid = {name: np.asarray(values) for name, values in conditions.items()}
    if zero_coherence and "coherence" in grid and not np.any(grid["coherence"] == 0):
        lowest = grid["coherence"] == grid["coherence"].min()
        zero = {name: values[lowest] for name, values in grid.items()}
        zero["coherence"] = np.zeros(int(lowest.sum()), dtype=grid["coherence"].dtype)
        grid = {name: np.concatenate([grid[name], zero[name]]) for name in grid}
    n_conditions = len(next(iter(grid.values())))
    repeats = max(1, min(int(repeats), max_trials // max(n_conditions, 1)))
    n = n_conditions * repeats
    forced = {"catch": np.zeros(n, dtype=bool), **{name: np.tile(values, repeats) for name, values in grid.items()}}
    return task.trials(n, rng, **forced)                # no catch trials, unless catch is a condition itself


def _is_choice_task(task: Any, evaluation: Mapping[str, np.ndarray]) -> bool:
    """A task answered by discrete choices between outputs, on which the agent made some choice."""
    return getattr(task, "action_names", None) is not None and len(task.output_names) >= 2 \
        and bool(np.any(np.asarray(evaluation["choice"]) >= 0))


def evidence_period(batch: Any) -> str | None:
    """The period whose activity defines choice selectivity: ``stimulus`` (the paper's choice), else
    the period right before ``decision`` (e.g. ``f2`` of the working-memory task); None if neither."""
    if "stimulus" in batch.periods:
        return "stimulus"
    names = list(batch.periods)
    if "decision" in names and names.index("decision") > 0:
        return names[names.index("decision") - 1]
    return None


def _selectivity(rates: np.ndarray, batch: Any, evaluation: Mapping[str, np.ndarray]) -> tuple[np.ndarray, str] | None:
    """Choice selectivity over the evidence period; by ground truth if the agent never chose both
    options (an untrained network); None if neither applies."""
    period = evidence_period(batch)
    if period is None:
        return None
    window = batch.periods[period]
    try:
        return choice_selectivity(rates, evaluation["choice"], window), "choice"
    except ValueError:
        pass
    if "ground_truth" in batch.params:
        try:
            return choice_selectivity(rates, batch.params["ground_truth"], window), "ground truth"
        except ValueError:
            return None
    return None


def _unit_rates(task: Any, batch: Any, evaluation: Mapping[str, np.ndarray], rates: np.ndarray,
                selectivity: np.ndarray, by: str, n_exc: int | None) -> Any:
    """Fig. 2G (aligned to the evidence period's onset, up to its end) or, for reaction-time tasks, 2H
    (aligned to the reaction time), averaged within signed-stimulus conditions over correct trials."""
    panels = psychometric_panels(batch.params)
    if panels and panels[0].direction is not None:
        from agents.analysis.psychometric import signed_stimulus

        levels = signed_stimulus(batch.params, panels[0].variable, panels[0].direction)
        level_name = panels[0].variable.replace("_", " ")
    else:
        levels = np.where(np.asarray(batch.params["ground_truth"]) == 0, 1.0, -1.0)
        level_name = "evidence for choice 1 (+1) or 2 (-1):"
    correct = np.asarray(evaluation["correct"], dtype=float) == 1
    use = correct if correct.sum() >= 0.5 * len(batch) else np.asarray(evaluation["choice"]) >= 0
    if not use.any():
        use = np.ones(len(batch), dtype=bool)
    dt = batch.dt
    period = evidence_period(batch) or "stimulus"
    onset = batch.periods[period][:, 0]
    rt = np.asarray(evaluation.get("rt", np.full(len(batch), np.nan)), dtype=float)
    reaction_time = "reaction time" in getattr(task, "tags", ()) and np.isfinite(rt[use]).mean() > 0.5
    if reaction_time:
        use &= np.isfinite(rt)
        event = onset + np.rint(rt / dt)
        before, after = round(600 / dt), round(200 / dt)
        aligned = align(rates, np.where(use, event, np.nan), before, after, batch.lengths)
        xlabel = "time from decision (ms)"
    else:
        before = int(onset.min())
        after = int((batch.periods[period][:, 1] - onset).max())
        cut = rates.copy()
        beyond = np.arange(rates.shape[1])[None, :] >= batch.periods[period][:, 1:]
        cut[beyond] = np.nan
        aligned = align(cut, onset, before, after, batch.lengths)
        xlabel = f"time from {period} onset (ms)"
    average = condition_average(aligned, {"level": levels}, where=use)
    times = (np.arange(-before, after)) * dt
    units = example_units(selectivity, n_exc)
    preferred = [0 if selectivity[u] >= 0 else 1 for u in units]
    return unit_rates_figure(times, average.mean, average.conditions["level"], units, preferred, selectivity,
                             n_exc=n_exc, xlabel=xlabel, level_name=level_name,
                             title=f"{task.id}: example units (selectivity by {by}; "
                                   f"{'correct' if use is correct else 'all'} trials)")


def write_figures(task: Any, model: Any, history: Sequence[Mapping[str, Any]], figures_dir: str | os.PathLike, *,
                  simulate: Simulate | None = None, repeats: int = 100, max_trials: int = 3000,
                  seed: int = 0, n_examples: int = 3) -> list[Path]:
    """Every applicable figure of ``model`` on ``task`` into ``figures_dir``; returns the paths written.

    ``simulate(model, batch, noise=True, seed=...) -> (outputs, rates)`` defaults to ``agents.simulate``.
    """
    if simulate is None:
        from agents.simulation import simulate
    figures_dir = Path(figures_dir)
    written: list[Path] = []
    criterion = getattr(task, "criterion", None)

    if history:
        metric = criterion.metric if criterion is not None else "percent_correct"
        fig = training_curve_figure(history, metric, getattr(criterion, "threshold", None),
                                    getattr(criterion, "op", ">"), title=task.id,
                                    criterion_label=f"criterion: {criterion}" if criterion is not None else None)
        written.append(save_figure(fig, figures_dir / "training_curve.png"))

    rng = np.random.default_rng(seed)
    if isinstance(task, MixtureTask):                 # one network on many tasks: per-task curves, example trials
        return written + _mixture_figures(task, model, history, figures_dir, simulate, rng, seed, n_examples)
    batch = analysis_batch(task, repeats, rng, max_trials=max_trials)
    outputs, rates = simulate(model, batch, noise=True, seed=seed)
    outputs, rates = np.asarray(outputs), np.asarray(rates)
    evaluation = task.evaluate(batch, outputs=outputs)
    choice_task = _is_choice_task(task, evaluation)

    panels = psychometric_panels(batch.params) if choice_task else []
    if panels:
        fig, _ = psychometric_figure(batch, evaluation, panels, title=task.id)
        written.append(save_figure(fig, figures_dir / "psychometric.png"))
    if choice_task and "reaction time" in getattr(task, "tags", ()) and "coherence" in batch.params:
        fig = chronometric_figure(batch, evaluation, "coherence", title=task.id)
        written.append(save_figure(fig, figures_dir / "chronometric.png"))

    examples = _example_indices(batch, n_examples)
    fig = example_trials_figure(batch.inputs[examples], outputs[examples], batch.targets[examples],
                                batch.mask[examples], batch.lengths[examples], batch.dt, task.input_names,
                                task.output_names, titles=[_describe(batch, i) for i in examples], title=task.id)
    written.append(save_figure(fig, figures_dir / "example_trials.png"))

    n_exc = getattr(model, "n_exc", None)
    found = _selectivity(rates, batch, evaluation) if choice_task or "ground_truth" in batch.params else None
    if found is not None and choice_task:
        selectivity, by = found
        fig = _unit_rates(task, batch, evaluation, rates, selectivity, by, n_exc)
        written.append(save_figure(fig, figures_dir / "unit_rates.png"))
    if not hasattr(model, "effective_weights"):      # gated networks (gru, lstm): no W_rec of rate units to draw
        return written
    weights = model.effective_weights()
    if found is not None:
        order = sort_units(found[0], n_exc)
        title = f"{task.id}: units sorted by {found[1]} selectivity d′ (E then I)"
    else:
        order = np.arange(np.asarray(weights["W_rec"]).shape[0])
        title = f"{task.id}: units in network order (E then I)"
    fig = connectivity_figure(weights, order, n_exc, task.input_names, task.output_names, title=title)
    written.append(save_figure(fig, figures_dir / "connectivity.png"))
    return written


def _mixture_figures(task: MixtureTask, model: Any, history: Sequence[Mapping[str, Any]], figures_dir: Path,
                     simulate: Simulate, rng: np.random.Generator, seed: int, n_examples: int) -> list[Path]:
    written = []
    if history:
        threshold = getattr(task.tasks[0].criterion, "threshold", None)
        fig = task_curves_figure(history, task.ids, "percent_correct", threshold, title=f"{task.id}: each task")
        written.append(save_figure(fig, figures_dir / "task_curves.png"))
    batch = task.grid_trials(1, rng)
    outputs, _ = simulate(model, batch, noise=True, seed=seed)
    examples = np.linspace(0, len(batch) - 1, num=min(n_examples, len(batch))).round().astype(int)
    names = [task.ids[int(k)].removesuffix("-v0") for k in batch.params["task"][examples]]
    fig = example_trials_figure(batch.inputs[examples], np.asarray(outputs)[examples], batch.targets[examples],
                                batch.mask[examples], batch.lengths[examples], batch.dt, task.input_names,
                                task.output_names, titles=names, title=task.id)
    written.append(save_figure(fig, figures_dir / "example_trials.png"))
    return written


def _example_indices(batch: Any, n: int) -> np.ndarray:
    """``n`` trials of different conditions, spread over the sorted list of conditions."""
    columns = [np.asarray(v, dtype=float) for k, v in batch.params.items() if k != "catch"]
    if not columns:
        return np.arange(min(n, len(batch)))
    _, first = np.unique(np.stack(columns, axis=1), axis=0, return_index=True)
    picks = np.linspace(0, first.size - 1, num=min(n, first.size)).round().astype(int)
    return first[np.unique(picks)]


def _describe(batch: Any, i: int) -> str:
    parts = []
    for name, values in batch.params.items():
        if name == "catch":
            continue
        value = values[i]
        parts.append(f"{name}={value:g}" if isinstance(value, (float, np.floating)) else f"{name}={value}")
    text = ", ".join(parts)
    return text if len(text) < 60 else text[:57] + "..."


def write_run_figures(run_dir: str | os.PathLike, **kwargs: Any) -> list[Path]:
    """Every applicable figure of a run folder into its ``figures/``; returns the paths written.

    Keyword arguments go to ``write_figures`` (``repeats``, ``max_trials``, ``seed``...).
    """
    from agents.runs import RunDir

    run = RunDir(run_dir)
    try:
        history = run.history()
    except FileNotFoundError:                      # a run that has not validated yet
        history = []
    return write_figures(run.task(), run.model(), history, run.figures_dir, **kwargs)
