"""The benchmark's figures, from the cells' run folders.

``figures/performance.png``        the criterion metric at each validation vs training trials: one panel per
                                   task, one colour per model, one line per seed; the criterion dashed;
``figures/trials_to_criterion.png`` task × model heat map of the median trials to criterion (over the seeds
                                   that reached it; grey where none did), with "reached/seeds" in each cell.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from agents.benchmark.cells import Cell
from agents.benchmark.results import summary
from agents.plots.save import new_figure, save_figure

FIGURES = "figures"
PERFORMANCE_PNG = "performance.png"
HEATMAP_PNG = "trials_to_criterion.png"


def _history(folder: Path) -> list[dict[str, Any]]:
    from agents.runs import RunDir

    try:
        return RunDir(folder).history()
    except (FileNotFoundError, ValueError):     # not started, or a run killed before its first validation
        return []


def performance_figure(cells: Sequence[Cell], out: str | Path) -> Figure:
    """Validation performance vs trials, one panel per task."""
    from neurotasks.registry import task_class

    tasks = list(dict.fromkeys(c.task for c in cells))
    models = list(dict.fromkeys(c.model for c in cells))
    colours = {m: f"C{i % 10}" for i, m in enumerate(models)}
    columns = min(3, len(tasks))
    rows = math.ceil(len(tasks) / columns)
    fig = new_figure(4.2 * columns, 3.3 * rows)
    axes = np.atleast_1d(fig.subplots(rows, columns, squeeze=False)).ravel()
    for ax in axes[len(tasks):]:
        ax.set_visible(False)
    for ax, task in zip(axes, tasks, strict=False):
        criterion = task_class(task).criterion
        labelled: set[str] = set()
        lowest = math.inf
        for cell in (c for c in cells if c.task == task):
            history = _history(cell.folder(out))
            x = np.array([_float(r.get("trials")) for r in history])
            y = np.array([_float(r.get(criterion.metric)) for r in history])
            if not np.isfinite(y).any():
                continue
            ax.plot(x, y, "-", color=colours[cell.model], lw=1.2, alpha=0.8,
                    label=cell.model if cell.model not in labelled else None)
            labelled.add(cell.model)
            lowest = min(lowest, float(np.nanmin(y)))
        ax.axhline(criterion.threshold, color="0.4", ls="--", lw=0.9)
        if not criterion.higher_is_better and labelled and lowest > 0:
            ax.set_yscale("log")                 # errors fall by orders of magnitude
        ax.set_title(task, fontsize=9)
        ax.set_xlabel("training trials")
        ax.set_ylabel(criterion.metric.replace("_", " "))
        if labelled:
            ax.legend(fontsize=7, frameon=False)
        else:
            ax.text(0.5, 0.5, "no validation yet", transform=ax.transAxes, ha="center", va="center", color="0.5")
    fig.suptitle("validation performance (dashed: the task's criterion)", fontsize=10)
    return fig


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def trials_heatmap(rows: Sequence[Mapping[str, Any]]) -> Figure:
    """Median trials to criterion per task (rows) × model (columns)."""
    entries = summary(rows)
    tasks = list(dict.fromkeys(e["task"] for e in entries))
    models = list(dict.fromkeys(e["model"] for e in entries))
    values = np.full((len(tasks), len(models)), np.nan)
    notes = np.full(values.shape, "", dtype=object)
    for e in entries:
        i, j = tasks.index(e["task"]), models.index(e["model"])
        values[i, j] = e["trials_to_criterion"]
        notes[i, j] = f"{len(e['reached'])}/{len(e['rows'])}"
    fig = new_figure(max(4.8, 2.6 + 1.3 * len(models)), 1.4 + 0.55 * len(tasks))
    ax = fig.subplots()
    ax.set_facecolor("0.88")                               # cells that never reached the criterion
    finite = values[np.isfinite(values)]
    norm = LogNorm(vmin=max(finite.min(), 1.0) / 1.5, vmax=max(finite.max(), 1.0) * 1.5) if finite.size else None
    cmap = colormaps["viridis"]
    image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, norm=norm, aspect="auto")
    for i in range(len(tasks)):
        for j in range(len(models)):
            if np.isfinite(values[i, j]):
                r, g, b, _ = cmap(norm(values[i, j]))
                colour = "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"
                text = f"{values[i, j]:,.0f}\n{notes[i, j]}"
            else:
                colour, text = "0.25", f"not reached\n{notes[i, j]}"
            ax.text(j, i, text, ha="center", va="center", fontsize=7, color=colour)
    ax.set_xticks(range(len(models)), models)
    ax.set_yticks(range(len(tasks)), tasks)
    ax.tick_params(labelsize=8)
    if finite.size:
        bar = fig.colorbar(image, ax=ax, label="median trials to criterion")
        ticks = [float(f"{v:.2g}") for v in np.geomspace(norm.vmin, norm.vmax, 5)[1:-1]]
        bar.ax.minorticks_off()
        bar.set_ticks(ticks, labels=[f"{v:,.0f}" for v in ticks])
        bar.ax.tick_params(labelsize=7)
    ax.set_title("trials to criterion (reached / seeds)", fontsize=10)
    return fig


def write_figures(out: str | Path, cells: Sequence[Cell], rows: Sequence[Mapping[str, Any]]) -> list[Path]:
    """Both figures into ``out/figures``, atomically."""
    folder = Path(out) / FIGURES
    return [save_figure(performance_figure(cells, out), folder / PERFORMANCE_PNG),
            save_figure(trials_heatmap(rows), folder / HEATMAP_PNG)]
