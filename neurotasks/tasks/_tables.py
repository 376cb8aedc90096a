"""Per-trial tables laid out over time by one gather, straight into the batch arrays.

A trial is a few runs of steps (its periods, or any finer segments) on each of which an input,
a target or a mask holds one value, or one value per step of a short table (a ramp, a reach).
The cheap way to write that over (B, T, C) is to build the small (B, K, C) table of values and
gather it with a (B, T) index of table rows:

* the index comes from ``np.repeat`` of each run's row by its length: one pass over (B, T),
  far cheaper than comparing every step with every boundary (``Trials.period_index``);
* ``np.take(..., out=, mode="clip")`` writes the gather into ``tr.inputs`` (or ``tr.targets``...)
  directly, with no temporary and no copy.

Not a task module: the leading underscore keeps it from being imported as one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neurotasks.task import Trials


def run_rows(counts: np.ndarray, rows: np.ndarray, n_rows: int) -> np.ndarray:
    """(B, T) index into a table of ``n_rows`` rows per trial, flattened over (trial, row).

    Trial b is a run of ``counts[b, 0]`` steps on row ``rows[..., 0]``, then ``counts[b, 1]`` on
    row ``rows[..., 1]``, ...; ``rows`` is (S,) or (B, S), ``counts`` (B, S) and every trial's
    counts must add up to the same T.
    """
    n = counts.shape[0]
    flat = (np.asarray(rows, dtype=np.intp) + n_rows * np.arange(n, dtype=np.intp)[:, None]).ravel()
    return np.repeat(flat, counts.ravel()).reshape(n, -1)


def period_counts(tr: Trials) -> np.ndarray:
    """(B, P + 1) steps of each period in ``period_names`` order, then of the padding."""
    counts = np.empty((tr.n, len(tr.task.period_names) + 1), dtype=np.intp)
    for j, name in enumerate(tr.task.period_names):
        span = tr.periods[name]
        np.subtract(span[:, 1], span[:, 0], out=counts[:, j])
    np.subtract(tr.n_steps, tr.lengths, out=counts[:, -1])
    return counts


def table_rows(tr: Trials) -> np.ndarray:
    """(B, T) index of each step's entry in a ``period_table`` flattened over its first two axes
    (the same steps as ``Trials.period_index``, an order of magnitude faster)."""
    n_rows = len(tr.task.period_names) + 1
    return run_rows(period_counts(tr), np.arange(n_rows), n_rows)


def period_table(tr: Trials, n_channels: int | None, dtype: Any = np.float32) -> np.ndarray:
    """Zeros of shape (B, P + 1, n_channels), or (B, P + 1) if ``n_channels`` is None: one row per
    trial, one entry per period in ``period_names`` order, the last one for the padding."""
    shape = (tr.n, len(tr.task.period_names) + 1)
    return np.zeros(shape if n_channels is None else (*shape, n_channels), dtype=dtype)


def lay_out(table: np.ndarray, rows: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Write ``table`` (B, K[, C]) over time into ``out`` (B, T[, C]): out[b, t] = flat_table[rows[b, t]].

    ``out`` must be C-contiguous with the table's dtype (``mode="clip"`` lets NumPy write into
    it directly; ``rows`` are in range by construction).
    """
    flat = table.reshape(-1, *table.shape[2:])
    return np.take(flat, rows, axis=0, out=out, mode="clip")


def write_periods(tr: Trials, out: np.ndarray, values: dict[str, Any], rows: np.ndarray | None = None) -> None:
    """``out`` (B, T[, C]) = the value given for each step's period (0 for periods not named and padding).

    Values as ``Trials.per_period``: a scalar, a (C,) vector or a (B, C) array (a (B,) array when
    ``out`` is (B, T)). ``rows`` is ``table_rows(tr)``, computed here if not given.
    """
    table = np.zeros((tr.n, len(tr.task.period_names) + 1, *out.shape[2:]), dtype=out.dtype)
    for name, value in values.items():
        table[:, tr.task.period_names.index(name)] = value
    lay_out(table, table_rows(tr) if rows is None else rows, out)
