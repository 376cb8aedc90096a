"""Per-trial, per-period tables laid out over time by one gather, straight into the batch arrays.

``Trials.per_period`` returns a new array that a task then copies into ``tr.inputs`` (or
``tr.targets``...); writing the gather into the destination (``np.take(..., out=)``) saves
that copy and lets a task fill a table with several kinds of values (vectors, per-trial rows,
ramps' offsets) before laying it out. Not a task module (the leading underscore keeps it from
being imported as one).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neurotasks.task import Trials


def period_table(tr: Trials, n_channels: int | None, dtype: Any = np.float32) -> np.ndarray:
    """Zeros of shape (B, P + 1, n_channels), or (B, P + 1) if ``n_channels`` is None: one row per
    trial, one entry per period in ``period_names`` order, the last one for the padding."""
    shape = (tr.n, len(tr.task.period_names) + 1)
    return np.zeros(shape if n_channels is None else (*shape, n_channels), dtype=dtype)


def table_rows(tr: Trials) -> np.ndarray:
    """(B, T) index of each step's entry in a ``period_table`` flattened over its first two axes."""
    return tr.period_index + (np.arange(tr.n) * (len(tr.task.period_names) + 1))[:, None]


def lay_out(table: np.ndarray, rows: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Write ``table`` (B, P + 1[, C]) over time into ``out`` (B, T[, C]): out[b, t] = table[b, period of t].

    ``out`` must be C-contiguous with the table's dtype (``mode="clip"`` lets NumPy write into
    it directly; ``rows`` are in range by construction).
    """
    flat = table.reshape(-1, *table.shape[2:])
    return np.take(flat, rows, axis=0, out=out, mode="clip")
