"""TrialBatch: many whole trials as batch-first NumPy arrays.

One batch serves every consumer of a task: a supervised trainer reads ``inputs``, ``targets``
and ``mask``; an RL environment steps through one row at a time; analyses sort rows by
``params``. Trials of different lengths are padded to the longest one, with ``mask`` 0 and
``gt`` -1 on the padding.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class TrialBatch:
    """B trials of T steps (padded).

    Attributes:
        inputs: (B, T, n_in) float32, what the agent sees, noise included.
        targets: (B, T, n_out) float32, desired outputs.
        mask: (B, T, n_out) float32, 1 where the output is constrained.
        gt: (B, T) int64, ground-truth action per step (0 = fixate); -1 on padding.
        lengths: (B,) int64, steps in each trial.
        periods: name -> (B, 2) int64 ``[start, end)`` step indices of each period.
        params: name -> (B,) array, the trial's condition (``ground_truth``, ``catch``, ...).
        dt: ms per step.
    """

    inputs: np.ndarray
    targets: np.ndarray
    mask: np.ndarray
    gt: np.ndarray
    lengths: np.ndarray
    periods: dict[str, np.ndarray]
    params: dict[str, np.ndarray]
    dt: float
    extras: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.inputs.shape[0])

    @property
    def n_steps(self) -> int:
        """T, the padded number of steps."""
        return int(self.inputs.shape[1])

    @property
    def times(self) -> np.ndarray:
        """(T,) start time of each step in ms."""
        return np.arange(self.n_steps) * self.dt

    @property
    def valid(self) -> np.ndarray:
        """(B, T) bool, True on real steps and False on padding."""
        return np.arange(self.n_steps)[None, :] < self.lengths[:, None]

    def period_of_steps(self) -> np.ndarray:
        """(B, T) int index into ``list(periods)`` of the period each step is in (-1 on padding).

        Periods tile each trial in order, so this is a run-length layout: one ``np.repeat``.
        """
        spans = np.stack(list(self.periods.values()), axis=1)                     # (B, P, 2)
        counts = np.concatenate([spans[:, :, 1] - spans[:, :, 0], (self.n_steps - self.lengths)[:, None]], axis=1)
        labels = np.tile(np.r_[np.arange(spans.shape[1]), -1], len(self))
        return np.repeat(labels, counts.ravel()).reshape(self.gt.shape)

    def select(self, index, copy: bool = True) -> TrialBatch:
        """The trials picked by ``index`` (a slice, int array or bool array), trimmed of padding.

        With a slice and ``copy=False`` the arrays are views into this batch (no copying: for a
        caller that only reads them).
        """
        if isinstance(index, (int, np.integer)):
            index = [int(index)]
        lengths = self.lengths[index]
        t_max = int(lengths.max()) if lengths.size else 0

        def pick(array: np.ndarray, steps: bool = False) -> np.ndarray:
            part = array[index, :t_max] if steps else array[index]
            return part.copy() if copy else part

        return TrialBatch(
            inputs=pick(self.inputs, True), targets=pick(self.targets, True), mask=pick(self.mask, True),
            gt=pick(self.gt, True), lengths=pick(self.lengths),
            periods={k: pick(v) for k, v in self.periods.items()},
            params={k: pick(v) for k, v in self.params.items()},
            dt=self.dt,
            extras={k: pick(v) for k, v in self.extras.items()},
        )

    def trial(self, i: int) -> dict:
        """Trial ``i`` as a dict of unpadded arrays and Python scalars, for inspection."""
        n = int(self.lengths[i])
        return {
            "inputs": self.inputs[i, :n],
            "targets": self.targets[i, :n],
            "mask": self.mask[i, :n],
            "gt": self.gt[i, :n],
            "periods": {k: (int(v[i, 0]), int(v[i, 1])) for k, v in self.periods.items()},
            "params": {k: v[i].item() for k, v in self.params.items()},
            "dt": self.dt,
        }


def concatenate(batches: list[TrialBatch]) -> TrialBatch:
    """The trials of several batches (of one task and dt) as one, padded to the longest trial.

    ``extras`` arrays whose second axis is their batch's time axis are padded along it with 0.
    """
    n_steps = max(b.n_steps for b in batches)

    def pad(array: np.ndarray, own_steps: int, value: float = 0) -> np.ndarray:
        if array.ndim < 2 or array.shape[1] != own_steps or own_steps == n_steps:
            return array
        width = [(0, 0)] * array.ndim
        width[1] = (0, n_steps - own_steps)
        return np.pad(array, width, constant_values=value)

    def join(get, value: float = 0) -> np.ndarray:
        return np.concatenate([pad(get(b), b.n_steps, value) for b in batches])

    first = batches[0]
    return TrialBatch(
        inputs=join(lambda b: b.inputs), targets=join(lambda b: b.targets), mask=join(lambda b: b.mask),
        gt=join(lambda b: b.gt, -1), lengths=np.concatenate([b.lengths for b in batches]),
        periods={k: np.concatenate([b.periods[k] for b in batches]) for k in first.periods},
        params={k: np.concatenate([b.params[k] for b in batches]) for k in first.params},
        dt=first.dt, extras={k: join(lambda b, k=k: b.extras[k]) for k in first.extras})
