"""Network figures: connectivity sorted by selectivity (Song, Yang & Wang 2016, Fig. 3) and
condition-averaged single-unit rates (Fig. 2G/H)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from agents.plots.save import new_figure


def _heatmap(ax, matrix: np.ndarray, title: str, xlabel: str, ylabel: str):
    limit = float(np.max(np.abs(matrix))) if matrix.size else 1.0
    limit = limit if limit > 0 else 1.0
    # blue positive, red negative, as in the paper
    image = ax.imshow(matrix, cmap="RdBu", vmin=-limit, vmax=limit, interpolation="nearest", aspect="auto")
    ax.set_title(title, fontsize=9)
    ax.set_xlabel(xlabel, fontsize=8)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.tick_params(labelsize=7)
    return image


def connectivity_figure(weights: dict[str, np.ndarray], order: Sequence[int], n_exc: int | None = None,
                        input_names: Sequence[str] = (), output_names: Sequence[str] = (),
                        title: str = "") -> Figure:
    """Heat maps of W_in, W_rec and W_out with units in ``order`` (from pre = columns to post = rows).

    ``n_exc`` units of ``order`` that are excitatory come first; a line marks the E/I boundary.
    """
    order = np.asarray(order, dtype=np.int64)
    w_rec = np.asarray(weights["W_rec"])[np.ix_(order, order)]
    w_in = np.asarray(weights["W_in"])[order]
    w_out = np.asarray(weights["W_out"])[:, order]
    n_shown = order.size
    n_e_shown = int(np.sum(order < n_exc)) if n_exc is not None else None

    n_in, n_out = w_in.shape[1], w_out.shape[0]
    side = max(n_shown, 1)
    in_width = max(n_in, 0.12 * side)
    out_height = max(n_out, 0.08 * side)
    fig = new_figure(7.5 * (side + in_width) / side + 1.5, 7.5 * (side + out_height) / side + 1.0)
    grid = fig.add_gridspec(2, 2, width_ratios=[side, in_width], height_ratios=[side, out_height])
    ax_rec = fig.add_subplot(grid[0, 0])
    ax_in = fig.add_subplot(grid[0, 1], sharey=ax_rec)
    ax_out = fig.add_subplot(grid[1, 0], sharex=ax_rec)
    image = _heatmap(ax_rec, w_rec, "W_rec (rows post, columns pre)", "",
                     "units sorted by choice selectivity (position)")
    fig.colorbar(image, ax=ax_rec, shrink=0.5, location="left", pad=0.02, label="W_rec")
    image = _heatmap(ax_in, w_in, "W_in", "", "")
    fig.colorbar(image, ax=ax_in, shrink=0.5, label="W_in")
    image = _heatmap(ax_out, w_out, "", "units sorted by choice selectivity (position)", "W_out")
    fig.colorbar(image, ax=ax_out, shrink=0.6, location="bottom", label="W_out", aspect=40)
    ax_in.tick_params(labelleft=False)
    if input_names:
        ax_in.set_xticks(range(len(input_names)))
        ax_in.set_xticklabels(input_names, rotation=60, ha="right", fontsize=7)
    if output_names:
        ax_out.set_yticks(range(len(output_names)))
        ax_out.set_yticklabels(output_names, fontsize=7)
    if n_e_shown is not None and 0 < n_e_shown < n_shown:
        for ax in (ax_rec,):
            ax.axvline(n_e_shown - 0.5, color="k", lw=0.8)
            ax.axhline(n_e_shown - 0.5, color="k", lw=0.8)
        ax_in.axhline(n_e_shown - 0.5, color="k", lw=0.8)
        ax_out.axvline(n_e_shown - 0.5, color="k", lw=0.8)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def unit_rates_figure(times: np.ndarray, averages: np.ndarray, levels: np.ndarray, units: Sequence[int],
                      preferred: Sequence[int], selectivity: np.ndarray, *, n_exc: int | None = None,
                      xlabel: str = "time from stimulus onset (ms)", level_name: str = "coherence",
                      title: str = "") -> Figure:
    """Condition-averaged rates of example ``units``.

    Args:
        times: (W,) ms of each aligned step.
        averages: (K, W, N) condition averages, one per signed stimulus level in ``levels`` (K,).
        levels: (K,) signed levels (positive: evidence for the first choice).
        units: the units to draw (one panel each).
        preferred: the preferred choice (0 or 1) of each drawn unit: levels favouring it are solid,
            the others dashed; colour darkens with |level|.
        selectivity: (N,) d′, shown in each title.
    """
    import matplotlib as mpl

    units = list(units)
    n_cols = min(4, max(len(units), 1))
    n_rows = int(np.ceil(len(units) / n_cols)) if units else 1
    fig = new_figure(3.0 * n_cols, 2.5 * n_rows + 0.4)
    axes = np.atleast_1d(fig.subplots(n_rows, n_cols, squeeze=False)).ravel()
    magnitude = np.abs(levels)
    top = magnitude.max() if magnitude.size and magnitude.max() > 0 else 1.0
    cmap = mpl.colormaps["viridis_r"]
    for ax, unit, pref in zip(axes, units, preferred, strict=False):
        for k, level in enumerate(levels):
            favours_first = level > 0
            solid = (favours_first and pref == 0) or (level < 0 and pref == 1) or level == 0
            ax.plot(times, averages[k, :, unit], "-" if solid else "--", lw=1.2,
                    color=cmap(0.15 + 0.85 * abs(level) / top))
        kind = "" if n_exc is None else (" E" if unit < n_exc else " I")
        ax.set_title(f"unit {unit}{kind}, d′ = {selectivity[unit]:+.2f}", fontsize=9)
        ax.axvline(0, color="0.7", lw=0.8)
        ax.set_xlabel(xlabel, fontsize=8)
        ax.set_ylabel("rate", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes[len(units):]:
        ax.set_visible(False)
    if units:
        handles = [mpl.lines.Line2D([], [], color="k", ls="-", label="preferred choice"),
                   mpl.lines.Line2D([], [], color="k", ls="--", label="non-preferred"),
                   *[mpl.lines.Line2D([], [], color=cmap(0.15 + 0.85 * m / top), label=f"{level_name} {m:g}")
                     for m in np.unique(magnitude)]]
        fig.legend(handles=handles, loc="outside right upper", fontsize=7, frameon=False)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def example_units(selectivity: Any, n_exc: int | None = None, per_side: int = 2, n_inh: int = 1) -> list[int]:
    """The most selective units: ``per_side`` excitatory units for each choice, then ``n_inh``
    inhibitory units of largest |d′| (when there are any)."""
    d = np.asarray(selectivity, dtype=float)
    n_exc = d.size if n_exc is None else int(n_exc)
    exc = np.arange(n_exc)
    chosen = [*exc[np.argsort(-d[exc], kind="stable")][:per_side], *exc[np.argsort(d[exc], kind="stable")][:per_side]]
    inh = np.arange(n_exc, d.size)
    chosen += list(inh[np.argsort(-np.abs(d[inh]), kind="stable")][:n_inh])
    seen: list[int] = []
    for unit in chosen:
        if int(unit) not in seen:
            seen.append(int(unit))
    return seen
