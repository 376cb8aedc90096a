"""Behaviour figures: psychometric (Song, Yang & Wang 2016, Fig. 2C) and chronometric (Fig. 2F) functions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from agents.analysis.psychometric import (
    ChronometricTable,
    PsychometricFit,
    PsychometricTable,
    chronometric_table,
    psychometric_table,
)
from agents.plots.save import new_figure


def plot_psychometric(ax: Axes, table: PsychometricTable, fit: PsychometricFit | None = None, *,
                      color: str = "k", label: str | None = None, xlabel: str = "signed coherence (%)",
                      ylabel: str = "percent choice 1") -> None:
    """Percent choice 1 per level with binomial standard errors, and the fitted cumulative Gaussian."""
    ax.errorbar(table.x, table.percent, yerr=100 * table.se, fmt="o", color=color, ms=4, capsize=0,
                label=label if fit is None else None)
    if fit is not None:
        span = table.x.max() - table.x.min() if table.x.size > 1 else 1.0
        grid = np.linspace(table.x.min() - 0.05 * span, table.x.max() + 0.05 * span, 400)
        ax.plot(grid, 100 * fit.predict(grid), "-", color=color, lw=1.5, label=label)
    ax.set_ylim(-3, 103)
    ax.axhline(50, color="0.8", lw=0.8, zorder=0)
    ax.axvline(0, color="0.8", lw=0.8, zorder=0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)


def plot_chronometric(ax: Axes, table: ChronometricTable, *, color: str = "k", label: str | None = None,
                      xlabel: str = "coherence (%)") -> None:
    """Mean reaction time of correct trials per coherence, with standard errors (log x when possible)."""
    ax.errorbar(table.x, table.mean_rt, yerr=np.nan_to_num(table.se), fmt="o-", color=color, ms=4, label=label)
    if table.x.size and table.x.min() > 0:
        ax.set_xscale("log")
        ax.set_xticks(table.x)
        ax.set_xticklabels([f"{v:g}" for v in table.x])
        ax.minorticks_off()
    ax.set_xlabel(xlabel)
    ax.set_ylabel("reaction time, correct (ms)")


# ---------------------------------------------------------------------- which psychometric panels a task has
@dataclass(frozen=True)
class PsychometricPanel:
    """One psychometric plot: P(choice ``first``) against ``variable`` (signed by ``direction`` unless
    None), one curve per value of ``group`` (None: one curve)."""

    variable: str
    direction: str | None
    xlabel: str
    ylabel: str = "percent choice 1"
    group: str | None = None
    group_labels: tuple[tuple[int, str], ...] = ()
    first: int = 0


def psychometric_panels(params: Mapping[str, Any]) -> list[PsychometricPanel]:
    """The psychometric panels that make sense for trials with these parameters (empty: none).

    Random dots (``coherence``, ``ground_truth``): percent choice 1 vs signed coherence (Fig. 2C).
    Context-dependent integration (``context``, ``motion_*``, ``colour_*``): vs signed motion and
    signed colour coherence, one curve per context (Fig. 4A). Multisensory (``rate``, ``modality``):
    percent choice high vs event rate, one curve per modality (Fig. 6B).
    """
    names = set(params)
    if {"motion_coherence", "motion_direction", "colour_coherence", "colour_direction", "context"} <= names:
        contexts = ((0, "motion context"), (1, "colour context"))
        return [PsychometricPanel("motion_coherence", "motion_direction", "signed motion coherence (%)",
                                  group="context", group_labels=contexts),
                PsychometricPanel("colour_coherence", "colour_direction", "signed colour coherence (%)",
                                  group="context", group_labels=contexts)]
    if {"coherence", "ground_truth"} <= names:
        return [PsychometricPanel("coherence", "ground_truth", "signed coherence (%)")]
    if {"rate", "modality"} <= names:
        return [PsychometricPanel("rate", None, "event rate (events/s)", ylabel="percent choice high",
                                  group="modality", group_labels=((0, "visual"), (1, "auditory"), (2, "both")))]
    return []


def psychometric_figure(batch: Any, evaluation: Mapping[str, Any], panels: Sequence[PsychometricPanel],
                        title: str = "") -> tuple[Figure, list[tuple[str, PsychometricFit | None]]]:
    """Every panel's points and fits; returns the figure and (label, fit or None if it failed) per curve."""
    fig = new_figure(4.2 * len(panels), 3.6)
    axes = np.atleast_1d(fig.subplots(1, len(panels), squeeze=False)).ravel()
    params = getattr(batch, "params", batch)
    fits: list[tuple[str, PsychometricFit | None]] = []
    for ax, panel in zip(axes, panels, strict=True):
        groups = [(None, "")] if panel.group is None else \
            [(value, label) for value, label in panel.group_labels if np.any(np.asarray(params[panel.group]) == value)]
        for colour, (value, label) in zip(("k", "tab:blue", "tab:orange", "tab:green"), groups, strict=False):
            where = None if panel.group is None else np.asarray(params[panel.group]) == value
            table = psychometric_table(batch, evaluation, panel.variable, direction=panel.direction,
                                       first=panel.first, where=where)
            if table.x.size == 0:
                continue
            try:
                fit = table.fit()
            except ValueError:
                fit = None
            name = f"{panel.variable}" + (f" [{label}]" if label else "")
            fits.append((name, fit))
            plot_psychometric(ax, table, fit, color=colour, label=label or None, xlabel=panel.xlabel,
                              ylabel=panel.ylabel)
        if panel.group is not None:
            ax.legend(fontsize=7, frameon=False)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig, fits


def chronometric_figure(batch: Any, evaluation: Mapping[str, Any], variable: str = "coherence",
                        title: str = "") -> Figure:
    """Mean RT of correct trials vs ``variable`` and, inset-free, the RT distribution of correct trials."""
    table = chronometric_table(batch, evaluation, variable)
    fig = new_figure(8.0, 3.4)
    ax_mean, ax_hist = fig.subplots(1, 2)
    plot_chronometric(ax_mean, table, xlabel=f"{variable} (%)" if "coherence" in variable else variable)
    rt = np.asarray(evaluation["rt"], dtype=float)
    correct = np.asarray(evaluation["correct"], dtype=float) == 1
    values = rt[correct & np.isfinite(rt)]
    if values.size:
        ax_hist.hist(values, bins=30, color="0.5")
    ax_hist.set_xlabel("reaction time, correct (ms)")
    ax_hist.set_ylabel("trials")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig
