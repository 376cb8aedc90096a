"""One trial of any task as a picture: inputs, targets with their mask, periods, ground truth.

This is the figure a newcomer looks at to understand a task, and the one a modeller looks at to
see what a network did on a trial (pass its ``outputs``). It reads only the TrialBatch and the
task's channel names, so it draws every task, including ones added after it was written.

Figures are drawn on the Agg canvas directly, never through pyplot, so this works on machines
without a display and does not switch the backend of a user's notebook.
"""

from __future__ import annotations

import os
import textwrap

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from agents.plots.save import save_figure
from neurotasks.batch import TrialBatch
from neurotasks.task import Task

#: Channels beyond this many are drawn as a heatmap instead of one line each.
MAX_LINES = 8
#: From this many outputs (up to MAX_LINES) each output gets its own lane.
LANES_FROM = 3
#: Figure width in inches; the right-hand 2.2 in hold legends and colour bars.
FIG_WIDTH = 10.0
_PERIOD_SHADES = ("#eef2f7", "#dde5ef")
_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")


def plot_trial(task: Task, batch: TrialBatch, index: int = 0, path: str | os.PathLike | None = None,
               outputs: np.ndarray | None = None) -> Figure:
    """Draw trial ``index`` of ``batch``; save it as PNG to ``path`` if given (atomically).

    Args:
        task: the task that made ``batch`` (for channel, action and period names).
        batch: a TrialBatch from ``task.trials``.
        index: which trial of the batch to draw.
        path: where to write the PNG; its folder is created. Written to a temporary file in the
            same folder first, then renamed, so readers never see a half-written image.
        outputs: optional network outputs to overlay, (B, T, n_out) like ``evaluate`` takes, or
            (T, n_out) for this trial alone.

    Returns:
        The matplotlib Figure (not attached to pyplot, so it needs no closing).
    """
    if not 0 <= index < len(batch):
        raise IndexError(f"index {index} is out of range for a batch of {len(batch)} trials")
    n = int(batch.lengths[index])
    dt = float(batch.dt)
    n_out = len(task.output_names)
    trial_outputs = _trial_outputs(outputs, batch, index, n, n_out)
    show_gt = task.rule.action_kind == "discrete" and bool(task.action_names)
    show_output_map = trial_outputs is not None and n_out > MAX_LINES
    # A few outputs share one panel; more (up to MAX_LINES) get one lane each so they do not hide each other.
    target_rows = [f"target:{name}" for name in task.output_names] if LANES_FROM <= n_out <= MAX_LINES \
        else ["targets"]

    rows = ["inputs", *target_rows] + (["outputs"] if show_output_map else []) + (["gt"] if show_gt else [])
    heights = [{"inputs": 3.0, "targets": 3.0, "outputs": 3.0, "gt": 1.0}.get(r, 1.3) for r in rows]
    title = _title(task, batch, index)
    # Fixed margins in inches (not constrained layout) so legends and colour bars share one right-hand column.
    top_in, bottom_in, panels_in = 0.3 + 0.17 * title.count("\n") + 0.4, 0.55, 1.05 * sum(heights)
    height = top_in + bottom_in + panels_in
    fig = Figure(figsize=(FIG_WIDTH, height), dpi=110)
    FigureCanvasAgg(fig)
    fig.subplots_adjust(left=1.05 / FIG_WIDTH, right=1 - 2.2 / FIG_WIDTH, top=1 - top_in / height,
                        bottom=bottom_in / height, hspace=0.14)
    axes = dict(zip(rows, np.atleast_1d(fig.subplots(len(rows), 1, sharex=True, height_ratios=heights)),
                    strict=True))

    edges = np.arange(n + 1) * dt                                   # step boundaries, ms
    heatmaps = {
        "inputs": _draw_channels(axes["inputs"], edges, batch.inputs[index, :n], task.input_names, "inputs"),
        "targets": _draw_targets([axes[r] for r in target_rows], edges, batch.targets[index, :n],
                                 batch.mask[index, :n], task.output_names,
                                 None if show_output_map else trial_outputs),
    }
    if show_output_map:
        heatmaps["outputs"] = _draw_channels(axes["outputs"], edges, trial_outputs, task.output_names, "outputs")
    if show_gt:
        _draw_gt(axes["gt"], edges, batch.gt[index, :n], task.action_names)

    spans = {name: (int(s[index, 0]), int(s[index, 1])) for name, s in batch.periods.items()}
    for row, ax in axes.items():
        _mark_periods(ax, spans, dt, shade=not heatmaps.get(row, False))
    _label_periods(axes["inputs"], spans, dt, n)
    axes[rows[-1]].set_xlabel("time (ms)")
    axes[rows[-1]].set_xlim(0, n * dt)
    fig.suptitle(title, fontsize=10, y=1 - 0.12 / height, va="top")

    if path is not None:
        save_figure(fig, path, dpi="figure")
    return fig


# ---------------------------------------------------------------------- panels
def _draw_channels(ax: Axes, edges: np.ndarray, values: np.ndarray, names: tuple[str, ...], what: str) -> bool:
    """One step line per channel with a legend, or a heatmap with named rows when there are many (returns True)."""
    if len(names) <= MAX_LINES:
        for k, name in enumerate(names):
            ax.stairs(values[:, k], edges, baseline=None, lw=1.4, color=_COLOURS[k % 8], label=name)
        _legend(ax, what)
        ax.set_ylabel(what)
        return False
    image = ax.imshow(values.T, aspect="auto", interpolation="nearest", cmap="viridis",
                      extent=(edges[0], edges[-1], len(names) - 0.5, -0.5))
    _name_rows(ax, names)
    _colour_bar(ax, image, what)
    ax.set_ylabel(what)
    return True


def _draw_targets(axes: list[Axes], edges: np.ndarray, targets: np.ndarray, mask: np.ndarray,
                  names: tuple[str, ...], outputs: np.ndarray | None) -> bool:
    """Targets solid where the mask constrains them, dashed grey where it does not; outputs on top.

    With one axis every output shares it; with one axis per output each gets its own lane. Many
    outputs are drawn as a heatmap with unconstrained steps in grey (returns True).
    """
    if len(names) > MAX_LINES:
        ax = axes[0]
        shown = np.ma.masked_where(mask.T <= 0, targets.T)
        cmap = matplotlib.colormaps["viridis"].with_extremes(bad="#d0d0d0")
        image = ax.imshow(shown, aspect="auto", interpolation="nearest", cmap=cmap,
                          extent=(edges[0], edges[-1], len(names) - 0.5, -0.5))
        _name_rows(ax, names)
        _colour_bar(ax, image, "targets (grey: mask 0)")
        ax.set_ylabel("targets")
        return True
    constrained = mask > 0
    lanes = len(axes) > 1
    for k, name in enumerate(names):
        ax = axes[k] if lanes else axes[0]
        colour = _COLOURS[k % 8]
        width = 2.0 if lanes else max(1.2, 2.6 - 0.5 * k)   # earlier channels wider: overlapping ones stay visible
        ax.stairs(np.where(~constrained[:, k], targets[:, k], np.nan), edges, baseline=None, lw=1.1, ls="--",
                  color="0.55")
        ax.stairs(np.where(constrained[:, k], targets[:, k], np.nan), edges, baseline=None, color=colour,
                  label=f"{name} target", **({"lw": width} if outputs is None else {"lw": width + 1.5, "alpha": 0.35}))
        if outputs is not None:
            ax.plot(0.5 * (edges[:-1] + edges[1:]), outputs[:, k], lw=1.2, color=colour, label=f"{name} output")
    if not constrained.all():
        axes[0].plot([], [], ls="--", color="0.55", lw=1.1, label="unconstrained (mask 0)")
    for ax in axes:
        _legend(ax, "targets" if not lanes else None)
    if lanes:
        low, high = _padded_range(targets if outputs is None else np.concatenate([targets, outputs]))
        for ax, name in zip(axes, names, strict=True):
            ax.set_ylim(low, high)
            ax.set_ylabel(name, fontsize=8)
    else:
        axes[0].set_ylabel("targets" if outputs is None else "targets, outputs")
    return False


def _padded_range(values: np.ndarray) -> tuple[float, float]:
    low, high = float(np.nanmin(values)), float(np.nanmax(values))
    pad = 0.12 * max(high - low, 1e-3)
    return low - pad, high + pad


def _legend(ax: Axes, title: str | None) -> None:
    """Legend in the right-hand column, next to its panel."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize=8, frameon=False, title=title,
              title_fontsize=8, alignment="left")


def _name_rows(ax: Axes, names: tuple[str, ...]) -> None:
    """Heatmap rows labelled with channel names (at most about 16 labels)."""
    ticks = np.arange(0, len(names), max(1, int(np.ceil(len(names) / 16))))
    ax.set_yticks(ticks, [names[i] for i in ticks], fontsize=7)


def _colour_bar(ax: Axes, image, label: str) -> None:
    """A slim colour bar in the legend column."""
    bar = ax.inset_axes((1.02, 0.0, 0.025, 1.0))
    ax.figure.colorbar(image, cax=bar, label=label)
    bar.tick_params(labelsize=7)
    bar.yaxis.label.set_size(8)


def _draw_gt(ax: Axes, edges: np.ndarray, gt: np.ndarray, action_names: tuple[str, ...]) -> None:
    """The ground-truth action per step, with the action names on the y axis."""
    ax.stairs(gt.astype(float), edges, baseline=None, lw=1.4, color="k")
    n_actions = len(action_names)
    ticks = np.arange(n_actions) if n_actions <= 6 else np.unique(np.r_[0, gt[gt >= 0]])
    ax.set_yticks(ticks, [action_names[int(i)] for i in ticks], fontsize=7)
    ax.set_ylim(-0.4, max(n_actions - 1, 1) + 0.4)
    ax.set_ylabel("gt action", fontsize=8)


def _mark_periods(ax: Axes, spans: dict[str, tuple[int, int]], dt: float, shade: bool) -> None:
    """Alternating shades behind line plots; white boundary lines over heatmaps (shades would hide them)."""
    for k, (start, end) in enumerate(spans.values()):
        if end > start:
            if not shade:
                ax.axvline(start * dt, color="w", lw=0.8, alpha=0.8)
            else:
                ax.axvspan(start * dt, end * dt, color=_PERIOD_SHADES[k % 2], zorder=0, lw=0)
                ax.axvline(start * dt, color="0.75", lw=0.6, zorder=0.5)


def _label_periods(ax: Axes, spans: dict[str, tuple[int, int]], dt: float, n: int) -> None:
    """Period names just above the top panel; narrow periods get slanted labels so they do not collide."""
    transform = ax.get_xaxis_transform()
    for name, (start, end) in spans.items():
        if end <= start:
            continue
        fits = (end - start) / n > 0.011 * len(name) + 0.01
        ax.text(0.5 * (start + end) * dt, 1.02, name, transform=transform, fontsize=8, color="0.25",
                ha="center" if fits else "left", va="bottom", rotation=0 if fits else 35,
                rotation_mode="anchor", clip_on=False)


def _title(task: Task, batch: TrialBatch, index: int) -> str:
    params = []
    for key, values in batch.params.items():
        value = values[index].item()
        if key == "catch" and not value:
            continue
        params.append(f"{key}={value:.4g}" if isinstance(value, float) else f"{key}={value}")
    head = f"{task.id} — trial {index}, dt = {batch.dt:g} ms"
    return head + "\n" + "\n".join(textwrap.wrap(", ".join(params), width=110))


def _trial_outputs(outputs: np.ndarray | None, batch: TrialBatch, index: int, n: int, n_out: int) -> np.ndarray | None:
    if outputs is None:
        return None
    outputs = np.asarray(outputs, dtype=float)
    if outputs.ndim == 3:
        if outputs.shape[0] != len(batch) or outputs.shape[1] < n or outputs.shape[2] != n_out:
            raise ValueError(f"outputs must have shape (B, T, n_out) = ({len(batch)}, {batch.n_steps}, {n_out}) "
                             f"or (T, n_out), got {outputs.shape}")
        return outputs[index, :n]
    if outputs.ndim == 2 and outputs.shape[0] >= n and outputs.shape[1] == n_out:
        return outputs[:n]
    raise ValueError(f"outputs must have shape (B, T, n_out) = ({len(batch)}, {batch.n_steps}, {n_out}) "
                     f"or (T, n_out), got {outputs.shape}")


__all__ = ["plot_trial"]
