"""Training figures: loss and the task's criterion metric over trials, and example trials of a network."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from agents.plots.save import new_figure

#: channels up to which the example trials get a legend
LEGEND_CHANNELS = 12


def _column(history: Sequence[Mapping[str, Any]], name: str) -> np.ndarray:
    values = []
    for row in history:
        try:
            values.append(float(row.get(name, "nan")))
        except (TypeError, ValueError):
            values.append(float("nan"))
    return np.asarray(values)


def training_curve_figure(history: Sequence[Mapping[str, Any]], metric: str, threshold: float | None = None,
                          op: str = ">", title: str = "", criterion_label: str | None = None) -> Figure:
    """Loss (log scale) and ``metric`` versus trials seen (or updates), with the criterion threshold."""
    x_name = "trials" if history and "trials" in history[0] else "updates"
    x = _column(history, x_name)
    loss = _column(history, "loss")
    score = _column(history, metric)
    fig = new_figure(6.5, 5.0)
    ax_loss, ax_score = fig.subplots(2, 1, sharex=True)
    if np.isfinite(loss).any():
        ax_loss.plot(x, loss, "-", color="0.3", lw=1)
        if np.nanmin(loss) > 0:
            ax_loss.set_yscale("log")
    ax_loss.set_ylabel("loss")
    ax_score.plot(x, score, "o-", color="tab:blue", ms=3, lw=1)
    if op in ("<", "<=") and np.isfinite(score).any() and np.nanmin(score) > 0:
        ax_score.set_yscale("log")      # errors fall by orders of magnitude from an untrained network
    if threshold is not None:
        label = criterion_label or f"criterion {op} {threshold:g}"
        ax_score.axhline(threshold, color="tab:red", ls="--", lw=1, label=label)
        ax_score.legend(fontsize=8, frameon=False)
    ax_score.set_ylabel(metric.replace("_", " "))
    ax_score.set_xlabel(f"{x_name} seen")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def task_curves_figure(history: Sequence[Mapping[str, Any]], task_ids: Sequence[str], metric: str = "percent_correct",
                       threshold: float | None = None, title: str = "") -> Figure:
    """A mixture's ``<task id>/<metric>`` per task versus trials seen, one line each (multitask runs)."""
    x = _column(history, "trials")
    fig = new_figure(8.0, 4.5)
    ax = fig.subplots()
    for i, task_id in enumerate(task_ids):                   # 10 colours; lines past the 10th dashed
        ax.plot(x, _column(history, f"{task_id}/{metric}"), "-" if i < 10 else "--", color=f"C{i % 10}", lw=1,
                label=task_id.removesuffix("-v0"))
    if threshold is not None:
        ax.axhline(threshold, color="0.3", ls=":", lw=1)
    ax.set_xlabel("trials seen")
    ax.set_ylabel(metric.replace("_", " "))
    ax.legend(fontsize=6, frameon=False, ncol=2, loc="center left", bbox_to_anchor=(1.0, 0.5))
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def example_trials_figure(inputs: np.ndarray, outputs: np.ndarray, targets: np.ndarray, mask: np.ndarray,
                          lengths: np.ndarray, dt: float, input_names: Sequence[str], output_names: Sequence[str],
                          titles: Sequence[str] = (), title: str = "") -> Figure:
    """One column per trial: inputs (upper) and outputs against targets (lower; targets dotted
    where the error mask is off)."""
    n = inputs.shape[0]
    fig = new_figure(3.2 * n, 5.0)
    axes = fig.subplots(2, n, squeeze=False, sharex="col")
    colours = [f"C{i}" for i in range(10)]
    for j in range(n):
        steps = int(lengths[j])
        t = np.arange(steps) * dt
        ax_in, ax_out = axes[0, j], axes[1, j]
        for c, name in enumerate(input_names):
            ax_in.plot(t, inputs[j, :steps, c], lw=0.8, color=colours[c % 10], label=name)
        for c, name in enumerate(output_names):
            colour = colours[c % 10]
            ax_out.plot(t, outputs[j, :steps, c], lw=1.4, color=colour, label=name)
            constrained = np.where(mask[j, :steps, c] > 0, targets[j, :steps, c], np.nan)
            ax_out.plot(t, constrained, lw=2.5, color=colour, alpha=0.35)
        ax_in.set_title(titles[j] if j < len(titles) else f"trial {j}", fontsize=8)
        ax_out.set_xlabel("time (ms)", fontsize=8)
        for ax in (ax_in, ax_out):
            ax.tick_params(labelsize=7)
    axes[0, 0].set_ylabel("inputs", fontsize=8)
    axes[1, 0].set_ylabel("outputs (thick: target)", fontsize=8)
    if len(input_names) <= LEGEND_CHANNELS:                 # a ring of 32 units is read by its colours, not a key
        axes[0, -1].legend(fontsize=6, frameon=False, loc="upper right")
    if len(output_names) <= LEGEND_CHANNELS:
        axes[1, -1].legend(fontsize=6, frameon=False, loc="upper left")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig
