"""TrialStream: tasks whose consecutive trials are one stream (blocks, drifting reward probabilities).

The engine draws trials in chunks, ahead of the agent (``Task.trials``, ``drafts_from``). That is
fine for trials drawn independently, but not for a bandit whose arms keep their probabilities
for an episode (Wang et al. 2018), a two-step task whose reward probabilities drift from trial
to trial (Daw et al. 2011), or a rule that switches in unannounced blocks (Sarafyazd & Jazayeri
2019). A ``TrialStream`` task therefore splits its draws in two:

* ``sample_params`` draws, per trial and independently as every task does, only *innovations*:
  the random walk's steps, a new block's candidate values, uniforms for outcomes;
* ``chain(batch, carry)`` turns them, without drawing anything, into the values that depend on
  earlier trials (each trial's reward probabilities, rule, targets, ``gt``...), writing them into
  the batch in place, starting from ``carry``, each stream's state after its previous trial. It
  returns the state after the batch's last trial.

The rows of a batch are ``len(carry["fresh"])`` streams of equal numbers of consecutive trials
(how ``trials_from`` lays out its generators). A stream whose ``fresh`` flag is set starts anew,
from its first trial's innovations.

``trials(n)`` and ``trials_from`` / ``drafts_from`` chain fresh streams, so a batch is ``n``
consecutive trials of a new stream (per generator). ``TaskEnv`` and ``TaskVectorEnv`` keep each
environment's carry and chain every further chunk from it (``env.py``, ``vector_env.py``), so a
stream continues across chunks and across episodes until ``reset(seed=...)`` starts a new one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from neurotasks.batch import TrialBatch
from neurotasks.work_arrays import WorkArrays

#: A stream's state after its last trial: name -> (S, ...) arrays, one row per stream, with at
#: least ``fresh`` (S,) bool.
Carry = dict[str, np.ndarray]


class TrialStream:
    """Mix-in (before ``Task``) for tasks whose trials depend on the stream's earlier trials.

    A subclass writes ``new_carry(n)`` (``n`` fresh streams) and ``chain(batch, carry)``; it lists
    every value ``chain`` writes in ``derived_params`` (forcing them would be overwritten).
    """

    def new_carry(self, n: int) -> Carry:
        """The state of ``n`` streams that have not started: at least ``fresh`` = True."""
        raise NotImplementedError

    def chain(self, batch: TrialBatch, carry: Mapping[str, np.ndarray]) -> Carry:
        """Write the stream-dependent values of ``batch`` from ``carry``, in place; the carry after it."""
        raise NotImplementedError

    def trials(self, n: int, rng: Any = None, *, work: WorkArrays | None = None, **forced: Any) -> TrialBatch:
        """``n`` consecutive trials of a new stream (see the module docstring)."""
        batch = super().trials(n, rng, work=work, **forced)        # type: ignore[misc]
        self.chain(batch, self.new_carry(1))
        return batch

    def drafts_from(self, rngs: Sequence[np.random.Generator], n: int) -> TrialBatch:
        """``n`` consecutive trials of a new stream per generator."""
        batch = super().drafts_from(rngs, n)                        # type: ignore[misc]
        self.chain(batch, self.new_carry(len(rngs)))
        return batch


def stream_positions(carry: Mapping[str, np.ndarray], n_rows: int, counter: str) -> tuple[np.ndarray, np.ndarray]:
    """(S, n) views for a chain: the stream ``s`` of each row and ``carry[counter]`` (a per-stream count
    of trials, 0 for fresh streams) plus the trial's place in its chunk."""
    n_streams = len(carry["fresh"])
    if n_rows % n_streams:
        raise ValueError(f"a batch of {n_rows} trials is not {n_streams} streams of equal length")
    n = n_rows // n_streams
    start = np.where(carry["fresh"], 0, carry[counter]).astype(np.int64)
    return np.arange(n_streams), start[:, None] + np.arange(n)[None, :]


def last_start(starts: np.ndarray) -> np.ndarray:
    """(S, n) bool of block starts -> (S, n) index of the latest start at or before each trial, -1
    before the first (one running maximum: no loop over trials)."""
    index = np.where(starts, np.arange(starts.shape[1])[None, :], -1)
    return np.maximum.accumulate(index, axis=1)


def by_stream(values: np.ndarray, n_streams: int) -> np.ndarray:
    """A batch's (S n, ...) per-trial values as (S, n, ...): the trials of each stream in a row."""
    return values.reshape(n_streams, -1, *values.shape[1:])
