"""Lay consecutive trials end to end, so a network can be trained without resets between trials.

Song, Yang & Wang (2016) ran their sequence-execution network "continuously", carrying its
state from one trial into the next. ``chain_trials`` turns a TrialBatch of B independent
trials into B // k rows of k trials back to back, which a supervised trainer can consume
like any other batch: one forward pass over a row is k trials without a reset.
"""

from __future__ import annotations

import numpy as np

from neurotasks.batch import TrialBatch


def chain_trials(batch: TrialBatch, trials_per_row: int) -> TrialBatch:
    """Rows of ``trials_per_row`` consecutive trials of ``batch`` laid end to end.

    Row r holds trials ``r*k, r*k+1, ..., r*k+k-1`` (k = ``trials_per_row``), each without its
    padding, so trial j of a row starts right where trial j-1 ended. ``B // k`` rows are made;
    the last ``B % k`` trials are dropped. Rows are padded to the longest (mask 0, gt -1).

    What the chained batch holds:
        ``inputs``, ``targets``, ``mask``, ``gt``: the trials' steps back to back.
        ``lengths``: (B',) the summed lengths of each row's trials.
        ``periods`` and ``params``: those of the *first* trial of each row (so the TrialBatch
            contract of (B', 2) and (B',) arrays holds and ``period_of_steps`` labels the first trial).
        ``extras["trial_starts"]``, ``extras["trial_lengths"]``: (B', k) step at which each
            trial of a row starts, and its length.
        ``extras["trial_periods/<name>"]``: (B', k, 2) ``[start, end)`` of period ``name`` of
            every trial, in the row's steps.
        ``extras["trial_params/<name>"]``: (B', k) every trial's parameters.
        ``extras[key]`` for each extra of ``batch`` (a per-trial array (B, ...)): reshaped to
            (B', k, ...), i.e. kept per trial in the trial's own time.

    Everything is gathered with one fancy index per array: no Python loop over trials or steps.
    """
    if isinstance(trials_per_row, bool) or not isinstance(trials_per_row, (int, np.integer)) or trials_per_row < 1:
        raise ValueError(f"trials_per_row must be a positive int, got {trials_per_row!r}")
    k = int(trials_per_row)
    if k > len(batch):
        raise ValueError(f"trials_per_row ({k}) must not exceed the number of trials in the batch ({len(batch)})")
    rows = len(batch) // k
    used = rows * k

    lengths = batch.lengths[:used].reshape(rows, k).astype(np.int64)
    ends = np.cumsum(lengths, axis=1)
    starts = ends - lengths
    total = ends[:, -1]
    n_steps = int(total.max())

    t = np.arange(n_steps)
    # Trial j of row r covers steps [starts[r, j], ends[r, j]): j = number of trial ends at or before t.
    j = np.minimum((t[None, :, None] >= ends[:, None, :]).sum(axis=-1), k - 1)         # (B', T')
    row = np.arange(rows)[:, None]
    source = row * k + j                                                                 # (B', T')
    local = t[None, :] - np.take_along_axis(starts, j, axis=1)                           # (B', T')
    valid = t[None, :] < total[:, None]
    local = np.where(valid, local, 0)

    def gather(array: np.ndarray) -> np.ndarray:
        out = array[source, local]
        out[~valid] = 0
        return out

    gt = batch.gt[source, local]
    gt[~valid] = -1
    first = np.arange(rows) * k
    extras: dict[str, np.ndarray] = {
        "trial_starts": starts,
        "trial_lengths": lengths,
        **{f"trial_periods/{name}": span[:used].reshape(rows, k, 2) + starts[:, :, None]
           for name, span in batch.periods.items()},
        **{f"trial_params/{name}": value[:used].reshape(rows, k) for name, value in batch.params.items()},
        **{key: value[:used].reshape(rows, k, *value.shape[1:]) for key, value in batch.extras.items()},
    }
    return TrialBatch(
        inputs=gather(batch.inputs),
        targets=gather(batch.targets),
        mask=gather(batch.mask),
        gt=gt,
        lengths=total,
        periods={name: span[first].copy() for name, span in batch.periods.items()},
        params={name: value[first] for name, value in batch.params.items()},
        dt=batch.dt,
        extras=extras,
    )
