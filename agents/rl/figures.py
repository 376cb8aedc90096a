"""The figures of an RL agent's run, written into its ``figures/`` folder.

``training_curve.png``  PPO's loss and the criterion metric vs trials, with the threshold;
``psychometric.png``    percent choice 1 vs signed coherence (decision tasks), from the policy's choices;
``chronometric.png``    reaction time of correct trials vs coherence (reaction-time tasks);
``example_trials.png``  inputs, and the policy's actions against the correct ones (one line per action,
                        1 where taken; continuous tasks: the actions against the targets).

Behaviour is measured as for a supervised network (:func:`agents.plots.run_figures.analysis_batch`:
every condition of the grid, no catch trials), with the policy's deterministic actions scored by
``task.evaluate(batch, actions=...)``. The supervised figures of units and connectivity need rates
and weight matrices, which an SB3 policy does not expose as such: they are not drawn.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from agents.plots.behaviour import chronometric_figure, psychometric_figure, psychometric_panels
from agents.plots.run_figures import _describe, _example_indices, _is_choice_task, analysis_batch
from agents.plots.save import save_figure
from agents.plots.training import example_trials_figure, training_curve_figure
from agents.rl.acting import policy_actions


def write_agent_figures(run_dir: str | os.PathLike, *, repeats: int = 100, max_trials: int = 3000, seed: int = 0,
                        n_examples: int = 3) -> list[Path]:
    """Every applicable figure of an agent's run folder into its ``figures/``; returns the paths written."""
    from agents.rl.sb3_runs import load_agent
    from agents.runs import RunDir

    run = RunDir(run_dir)
    task, model = run.task(), load_agent(run.path)
    figures_dir = run.figures_dir
    written: list[Path] = []
    try:
        history = run.history()
    except FileNotFoundError:
        history = []
    criterion = task.criterion
    if "criterion" in run.config:
        from neurotasks.criterion import Criterion

        criterion = Criterion(**run.config["criterion"])
    if history:
        fig = training_curve_figure(history, criterion.metric, criterion.threshold, criterion.op,
                                    title=f"{task.id}: {run.config['agent']}",
                                    criterion_label=f"criterion: {criterion}")
        written.append(save_figure(fig, figures_dir / "training_curve.png"))

    rng = np.random.default_rng(seed)
    batch = analysis_batch(task, repeats, rng, max_trials=max_trials)
    actions = policy_actions(model, batch)
    evaluation = task.evaluate(batch, actions=actions)
    choice_task = _is_choice_task(task, evaluation)
    panels = psychometric_panels(batch.params) if choice_task else []
    if panels:
        fig, _ = psychometric_figure(batch, evaluation, panels, title=task.id)
        written.append(save_figure(fig, figures_dir / "psychometric.png"))
    if choice_task and "reaction time" in task.tags and "coherence" in batch.params:
        fig = chronometric_figure(batch, evaluation, "coherence", title=task.id)
        written.append(save_figure(fig, figures_dir / "chronometric.png"))

    examples = _example_indices(batch, n_examples)
    if task.action_names is not None:                # discrete: taken vs correct action, one line per action
        n_actions = len(task.action_names)
        taken = np.eye(n_actions, dtype=np.float32)[actions[examples]]
        correct = np.eye(n_actions, dtype=np.float32)[np.clip(batch.gt[examples], 0, None)]
        mask = np.broadcast_to((batch.gt[examples] >= 0)[..., None], correct.shape).astype(np.float32)
        names = task.action_names
    else:
        taken, correct, mask = actions[examples], batch.targets[examples], batch.mask[examples]
        names = task.output_names
    fig = example_trials_figure(batch.inputs[examples], taken, correct, mask, batch.lengths[examples], batch.dt,
                                task.input_names, names, titles=[_describe(batch, i) for i in examples],
                                title=f"{task.id}: actions (thick: correct)")
    written.append(save_figure(fig, figures_dir / "example_trials.png"))
    return written
