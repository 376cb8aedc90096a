"""The figures of a reward-trained E/I network's run, written into its ``figures/`` folder.

``training_curve.png``  reward per trial (training batches and validation) and the criterion metric vs trials;
``psychometric.png``    percent choice 1 vs the evidence (decision tasks), from the policy's choices;
``chronometric.png``    reaction time of correct trials vs coherence (reaction-time tasks);
``example_trials.png``  inputs, and the policy's action probabilities against the correct actions (Box actions:
                        the Gaussian's mean action ± its sd against the targets).

Behaviour is measured as for the other agents (:func:`agents.plots.run_figures.analysis_batch`: every
condition of the grid, no catch trials): the policy's actions drawn at each step (as it acts; Box actions: the
Gaussian's mean, as it is validated), recurrent noise on, scored by ``task.evaluate(batch, actions=...)``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure

from agents.plots.behaviour import chronometric_figure, psychometric_figure, psychometric_panels
from agents.plots.run_figures import _describe, _example_indices, _is_choice_task, analysis_batch
from agents.plots.save import new_figure, save_figure
from agents.plots.training import _column, example_trials_figure
from agents.rl.reinforce_policy import policy_actions
from agents.rl.reinforce_readout import GaussianReadout


def reward_curve_figure(history: Sequence[Mapping[str, Any]], metric: str, threshold: float | None = None,
                        title: str = "", criterion_label: str | None = None) -> Figure:
    """Mean reward per trial (training batches, validation) and ``metric`` versus trials seen."""
    x = _column(history, "trials")
    fig = new_figure(6.5, 5.0)
    ax_reward, ax_score = fig.subplots(2, 1, sharex=True)
    ax_reward.plot(x, _column(history, "train_reward"), "-", color="0.5", lw=1, label="training (sampled actions)")
    ax_reward.plot(x, _column(history, "mean_reward"), "o-", color="tab:green", ms=3, lw=1,
                   label="validation")
    ax_reward.set_ylabel("reward per trial")
    ax_reward.legend(fontsize=8, frameon=False)
    ax_score.plot(x, _column(history, metric), "o-", color="tab:blue", ms=3, lw=1)
    if threshold is not None:
        ax_score.axhline(threshold, color="tab:red", ls="--", lw=1, label=criterion_label or f"criterion {threshold:g}")
        ax_score.legend(fontsize=8, frameon=False)
    ax_score.set_ylabel(metric.replace("_", " "))
    ax_score.set_xlabel("trials seen")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def write_reinforce_figures(run_dir: str | os.PathLike, *, repeats: int = 100, max_trials: int = 3000,
                            seed: int = 0, n_examples: int = 3) -> list[Path]:
    """Every applicable figure of an ei-reinforce run folder into its ``figures/``; returns the paths written."""
    from agents.rl.reinforce_runs import load_policy
    from agents.runs import RunDir
    from neurotasks.criterion import Criterion

    run = RunDir(run_dir)
    task = run.task()
    network, readout = load_policy(run.path)
    figures_dir = run.figures_dir
    criterion = Criterion(**run.config["criterion"]) if "criterion" in run.config else task.criterion
    written: list[Path] = []
    try:
        history = run.history()
    except FileNotFoundError:
        history = []
    if history:
        fig = reward_curve_figure(history, criterion.metric, criterion.threshold,
                                  title=f"{task.id}: {run.config['agent']}", criterion_label=f"criterion: {criterion}")
        written.append(save_figure(fig, figures_dir / "training_curve.png"))

    batch = analysis_batch(task, repeats, np.random.default_rng(seed), max_trials=max_trials)
    gaussian = isinstance(readout, GaussianReadout)
    actions, probs = policy_actions(network, batch, noise=True, generator=torch.Generator().manual_seed(seed),
                                    sample=not gaussian, readout=readout)
    evaluation = task.evaluate(batch, actions=actions, rewards=run.config.get("rewards"))
    choice_task = _is_choice_task(task, evaluation)
    panels = psychometric_panels(batch.params) if choice_task else []
    if panels:
        fig, _ = psychometric_figure(batch, evaluation, panels, title=f"{task.id}: {run.config['agent']}")
        written.append(save_figure(fig, figures_dir / "psychometric.png"))
    if choice_task and "reaction time" in task.tags and "coherence" in batch.params:
        fig = chronometric_figure(batch, evaluation, "coherence", title=task.id)
        written.append(save_figure(fig, figures_dir / "chronometric.png"))

    examples = _example_indices(batch, n_examples)
    if gaussian:
        fig = mean_action_figure(batch, examples, probs[examples], readout.sd.detach().numpy(), task)
        written.append(save_figure(fig, figures_dir / "example_trials.png"))
        return written
    correct = np.eye(probs.shape[-1], dtype=np.float32)[np.clip(batch.gt[examples], 0, None)]
    mask = np.broadcast_to((batch.gt[examples] >= 0)[..., None], correct.shape).astype(np.float32)
    lengths = np.minimum(_first_response(actions[examples]) + 1, batch.lengths[examples])  # a response ends it
    fig = example_trials_figure(batch.inputs[examples], probs[examples], correct, mask, lengths, batch.dt,
                                task.input_names, task.action_names,
                                titles=[_describe(batch, i) for i in examples],
                                title=f"{task.id}: action probabilities (thick: correct action)")
    written.append(save_figure(fig, figures_dir / "example_trials.png"))
    return written


def mean_action_figure(batch, examples: np.ndarray, means: np.ndarray, sd: np.ndarray, task) -> Figure:
    """Example trials of a Gaussian policy: inputs (upper), its mean action ± sd (lower, shaded) against the
    targets (thick where the error mask is on)."""
    n = len(examples)
    fig = example_trials_figure(batch.inputs[examples], means, batch.targets[examples], batch.mask[examples],
                                batch.lengths[examples], batch.dt, task.input_names, task.output_names,
                                titles=[_describe(batch, i) for i in examples],
                                title=f"{task.id}: mean action ± sd (thick: target)")
    for j in range(n):
        ax = fig.axes[n + j]
        steps = int(batch.lengths[examples[j]])
        t = np.arange(steps) * batch.dt
        for c in range(means.shape[-1]):
            ax.fill_between(t, means[j, :steps, c] - sd[c], means[j, :steps, c] + sd[c], color=f"C{c % 10}",
                            alpha=0.2, lw=0)
    return fig


def _first_response(actions: np.ndarray) -> np.ndarray:
    """The first step of each row whose action is not fixate (0); the row's length if there is none."""
    responding = actions != 0
    return np.where(responding.any(axis=1), responding.argmax(axis=1), actions.shape[1] - 1)
