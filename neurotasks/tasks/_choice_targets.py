"""``DecisionTask.write_choice_targets`` (tasks/decision.py), laid out from per-trial tables.

The same values, written by one gather per array (``_tables``) instead of ``Trials.per_period``
(whose period index compares every step with every period end) plus copies and, for a response
window that is not a period, ``np.where`` over (B, T, n_out). Not a task module (leading underscore).
"""

from __future__ import annotations

import numpy as np

from neurotasks.task import Trials
from neurotasks.tasks._tables import lay_out, run_rows, write_periods
from neurotasks.tasks.decision import HIGH, LOW


def choice_levels(tr: Trials, high: float) -> np.ndarray:
    """(B, n_out) float32: ``high`` on the correct output, LOW on the others."""
    gt = tr.params["ground_truth"]
    return np.where(gt[:, None] == np.arange(tr.targets.shape[2]), np.float32(high), np.float32(LOW))


def write_choice_targets(tr: Trials, rows: np.ndarray, *, fixation: tuple[str, ...] = ("fixation",),
                         decision: str = "decision", high: float = HIGH) -> None:
    """Low on every output during ``fixation``; high on the correct output and low on the others
    during ``decision``; mask 1 on both; ``gt`` = ground_truth + 1 during ``decision``.
    ``rows`` is ``_tables.table_rows(tr)``."""
    level = choice_levels(tr, high)
    write_periods(tr, tr.targets, {**{name: LOW for name in fixation}, decision: level}, rows)
    write_periods(tr, tr.mask, {**{name: 1.0 for name in fixation}, decision: 1.0}, rows)
    write_periods(tr, tr.gt, {decision: tr.params["ground_truth"] + 1}, rows)


def write_windowed_choice_targets(tr: Trials, fixation_end: np.ndarray, window: np.ndarray, *,
                                  high: float = HIGH) -> None:
    """The same with a response window that is not a period: low from step 0 to ``fixation_end``
    (mask 1), nothing until the window (mask 0), then the choice (mask 1, gt) over ``window``,
    (B, 2) [start, end) steps, with fixation_end <= start <= end <= the trial's length."""
    level = choice_levels(tr, high)
    counts = np.stack([fixation_end, window[:, 0] - fixation_end, window[:, 1] - window[:, 0],
                       tr.n_steps - window[:, 1]], axis=1)
    rows = run_rows(counts, np.arange(4), 4)                         # 0 fixation, 1 wait, 2 window, 3 after
    targets = np.zeros((tr.n, 4, level.shape[1]), dtype=np.float32)
    targets[:, 0] = LOW
    targets[:, 2] = level
    lay_out(targets, rows, tr.targets)
    mask = np.zeros((tr.n, 4, level.shape[1]), dtype=np.float32)
    mask[:, [0, 2]] = 1.0
    lay_out(mask, rows, tr.mask)
    gt = np.zeros((tr.n, 4), dtype=np.int64)
    gt[:, 2] = tr.params["ground_truth"] + 1
    lay_out(gt, rows, tr.gt)
