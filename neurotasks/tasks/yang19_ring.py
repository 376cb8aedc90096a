"""Ring coding, cost weights and scoring shared by Yang et al. (2019)'s 20 tasks.

Yang, Joglekar, Song, Newsome & Wang (2019) Nat Neurosci 22: 297-306 ("Task representations in
neural networks trained to perform many cognitive tasks"), Methods and their code
(github.com/gyyang/multitask, ``task.py`` and ``network.py``):

* directions are coded on rings of ``N_RING`` = 32 units with preferred directions
  2 pi k / 32; a stimulus at direction theta of strength s drives unit k with
  ``0.8 s exp(-d_k^2 / 2 (pi/8)^2)``, d_k the circular distance to unit k's preference;
* the targets are 0.05 everywhere, 0.8 on the fixation output while the network must fixate,
  and 0.05 + 0.8 exp(-d_k^2 / 2 (pi/8)^2) on the ring outputs while it responds;
* a trial is correct when, at its last step, the fixation output is above 0.5 where the network
  must keep fixating, or below 0.5 with the population-vector read-out of the ring outputs
  within 36 degrees (pi/5) of the target direction;
* the squared error is weighted 0 in the first 100 ms and in the 100 ms after the go cue,
  1 before the go cue, 5 after it, and twice as much on the fixation output
  (``yang19_loss_weights``).

Nothing here is specific to one of the 20 tasks: ``neurotasks.tasks.yang19`` builds them all.
"""

from __future__ import annotations

import math

import numpy as np

from neurotasks.batch import TrialBatch
from neurotasks.rules import ChoiceRule, held_to_end_reward

#: Units per ring (each of the two stimulus modalities, and the response ring).
N_RING = 32
#: Preferred direction of each ring unit (radians).
PREFERRED = 2.0 * np.pi * np.arange(N_RING) / N_RING
#: Tuning width (sd of the Gaussian bump, radians) of the stimulus and response rings.
TUNING_WIDTH = np.pi / 8
#: Peak of a bump of strength 1, on the inputs and on the targets.
BUMP_PEAK = 0.8
#: Target of every output where nothing else is asked (Yang's lsq targets start at 0.05).
TARGET_LOW = 0.05
#: Target of the fixation output while the network must fixate.
TARGET_FIXATE = 0.8
#: A response is correct within this circular distance of the target (36 degrees).
TOLERANCE = np.pi / 5
#: The fixation output counts as fixating above this value.
FIXATION_THRESHOLD = 0.5
#: Steps of the first ``IGNORED_START_MS`` and of ``GRACE_MS`` after the go cue are not constrained.
IGNORED_START_MS = 100.0
GRACE_MS = 100.0
#: Cost weight after the grace period (before the go cue: 1), and the fixation output's factor.
POST_GO_WEIGHT = 5.0
FIXATION_WEIGHT = 2.0


def circular_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|a - b| on the circle, in [0, pi] (Yang's ``get_dist``)."""
    d = np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)) % (2.0 * np.pi)
    return np.minimum(d, 2.0 * np.pi - d)


def ring_bump(direction: np.ndarray, strength: np.ndarray | float = 1.0) -> np.ndarray:
    """(..., N_RING) activity of a ring for stimuli at ``direction`` (...,) of ``strength``:
    ``BUMP_PEAK * strength * exp(-d^2 / 2 TUNING_WIDTH^2)``."""
    direction = np.asarray(direction, dtype=np.float64)
    d = circular_distance(direction[..., None], PREFERRED) / TUNING_WIDTH
    return (BUMP_PEAK * np.asarray(strength, dtype=np.float64)[..., None] * np.exp(-0.5 * d * d)).astype(np.float32)


def nearest_unit(direction: np.ndarray) -> np.ndarray:
    """Index of the ring unit whose preference is closest to ``direction`` (int64)."""
    k = np.rint(np.asarray(direction, dtype=np.float64) / (2.0 * np.pi / N_RING)).astype(np.int64)
    return k % N_RING


def population_vector(ring: np.ndarray) -> np.ndarray:
    """Direction (radians, [0, 2 pi)) read out of ring activity (..., N_RING) by its population vector
    (Yang's ``popvec``); rings whose activity sums to 0 read as direction 0."""
    ring = np.asarray(ring, dtype=np.float64)
    total = ring.sum(axis=-1)
    total = np.where(total == 0, 1.0, total)
    cos = (ring * np.cos(PREFERRED)).sum(axis=-1) / total
    sin = (ring * np.sin(PREFERRED)).sum(axis=-1) / total
    return np.mod(np.arctan2(sin, cos), 2.0 * np.pi)


class RingRule(ChoiceRule):
    """Fixate, then saccade to a direction on the ring: Yang et al. (2019)'s response rule.

    Actions: 0 holds fixation; ``k + 1`` saccades to ring direction ``2 pi k / 32``. A saccade
    before the go period aborts the trial; the first saccade in it ends the trial, correct when it
    lands within ``TOLERANCE`` (36 degrees) of ``response_direction``. On no-go trials
    (``go`` False: the match tasks' trials that ask to keep fixating) every saccade is wrong and
    fixating to the last step is correct (rewarded ``correct``). Catch trials are as in
    ``ChoiceRule``. From network outputs, the paper's rule (see the module docstring) at the
    trial's last step; the reaction time is when the fixation output first falls to 0.5 or
    below in the go period.
    """

    outcome_fields = ("choice", "correct", "rt", "aborted")

    def __init__(self) -> None:
        super().__init__(response_period="go", rt_period="go")

    def trial_table(self, batch: TrialBatch) -> dict[str, np.ndarray]:
        table = super().trial_table(batch)
        table["go"] = batch.params["go"].astype(bool)
        table["direction"] = batch.params["response_direction"].astype(np.float64)
        return table

    def step(self, table, acc, t, action, target, mask, rewards, dt):
        action = np.asarray(action, dtype=np.int64).reshape(-1)
        respond = action != 0
        early = respond & (t < table["window"])
        answered = respond ^ early
        last = t >= table["length"] - 1
        choice = np.where(answered, action - 1, -1)
        go, catch = table["go"], table["catch"]
        near = circular_distance(PREFERRED[np.maximum(choice, 0)], np.nan_to_num(table["direction"])) < TOLERANCE
        withheld = last & ~respond & ~go & ~catch
        hit = np.where(go, answered & near, withheld)
        reward = np.where(
            early, rewards["abort"],
            np.where(answered, np.where(hit, rewards["correct"], rewards["fail"]),
                     np.where(withheld, rewards["correct"], held_to_end_reward(last, catch, rewards))))
        return {
            "reward": reward.astype(np.float64, copy=False),
            "done": respond | last,
            "choice": choice,
            "correct": np.where(catch, np.nan, hit),
            "rt": np.where(answered, (t - table["origin"]) * dt, np.nan),
            "aborted": early,
            "is_success": np.where(catch, ~early, hit),
        }

    def decode_outputs(self, batch: TrialBatch, outputs: np.ndarray) -> dict[str, np.ndarray]:
        n = len(batch)
        rows = np.arange(n)
        last = outputs[rows, batch.lengths - 1]                          # (B, 1 + N_RING)
        fixating = last[:, 0] > FIXATION_THRESHOLD
        direction = population_vector(last[:, 1:])
        go = batch.params["go"].astype(bool)
        near = circular_distance(direction, np.nan_to_num(batch.params["response_direction"])) < TOLERANCE
        hit = np.where(go, ~fixating & near, fixating)
        catch = batch.params["catch"].astype(bool)
        t = np.arange(outputs.shape[1])[None, :]
        onset = batch.periods["go"][:, :1]
        broke = (outputs[:, :, 0] <= FIXATION_THRESHOLD) & (t >= onset) & (t < batch.lengths[:, None])
        any_break = broke.any(axis=1) & ~catch
        return {
            "choice": np.where(fixating, -1, nearest_unit(direction)).astype(np.int64),
            "correct": np.where(catch, np.nan, hit.astype(np.float64)),
            "rt": np.where(any_break, (np.argmax(broke, axis=1) - onset[:, 0]) * batch.dt, np.nan),
            "direction": np.where(fixating, np.nan, direction),
        }


def yang19_loss_weights(batch: TrialBatch) -> np.ndarray:
    """(B, T, n_out) float32 weights of the squared error, Yang et al. (2019)'s cost mask: the
    batch's mask (0 in the first 100 ms, in the 100 ms after the go cue and on padding) times 1
    before the go cue and 5 after it, times 2 on the fixation output (output 0).

    For a trainer that weights the error per step; ``batch.mask`` itself stays 0/1 like every
    task's. Yang's code normalises nothing here (the lsq cost is a mean over the weighted steps).
    """
    go_onset = batch.periods["go"][:, 0]
    t = np.arange(batch.n_steps)[None, :]
    per_step = np.where(t >= go_onset[:, None], np.float32(POST_GO_WEIGHT), np.float32(1.0))
    weights = batch.mask * per_step[:, :, None]
    weights[:, :, 0] *= np.float32(FIXATION_WEIGHT)
    return weights


def grace_steps(ms: float, dt: float) -> int:
    """Steps of a window of ``ms`` at ``dt`` (Yang's ``int(ms / dt)``, at least 0)."""
    return max(0, math.floor(ms / dt + 1e-9))
