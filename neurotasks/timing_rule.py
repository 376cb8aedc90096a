"""TimingRule: score a produced interval (Ready-Set-Go, Cue-Set-Go).

An interval-timing trial has one moment that matters: when the agent says "go" after Set.
The produced interval is the time from Set onset to that go, measured the same way for both
kinds of agent:

* RL agents (``Discrete(2)``: 0 wait, 1 go): the step of the first go. A go before Set aborts.
* supervised networks (one ``ramp`` output): the first step at or after Set where the output is
  at least ``threshold`` (1.0). An output at threshold before Set counts as an early go.

So ``produced = (t - set_onset) * dt`` in both cases, and an RL agent that goes on the step where
the ideal ramp first reaches 1 produces exactly what a network reproducing the ramp produces.
"""

from __future__ import annotations

import numpy as np

from neurotasks.batch import TrialBatch
from neurotasks.rules import ResponseRule, held_to_end_reward

#: Going before Set aborts (-0.1); a go after Set earns ``correct`` scaled by timing accuracy;
#: no go by the end of the production window earns ``miss``; a catch trial (no Set) held to its
#: end earns ``catch``.
DEFAULT_TIMING_REWARDS: dict[str, float] = {"abort": -0.1, "correct": 1.0, "miss": 0.0, "catch": 0.0}


class TimingRule(ResponseRule):
    """A produced interval scored against a target interval with a relative tolerance.

    The go ends the trial with reward ``correct * max(0, 1 - |produced - target| / (tolerance *
    target))``: the full reward exactly on time, falling linearly to 0 at ``tolerance * target``
    away and staying 0 beyond. A trial is ``correct`` when ``|produced - target| <= tolerance *
    target``. Catch trials (no Set) want no go at all: any go aborts, waiting to the end succeeds.

    Args:
        set_period: the period whose onset is Set (the go window runs from there to the end).
        tolerance: relative tolerance, e.g. 0.2 for +-20 % of the target interval.
        target_param: the per-trial parameter holding the target interval in ms.
        threshold: the output level whose first crossing after Set is the go (outputs only).
        output_index: which output channel is the ramp.
    """

    action_kind = "discrete"
    default_rewards = DEFAULT_TIMING_REWARDS
    outcome_fields = ("choice", "correct", "rt", "produced", "error", "aborted")
    stateless = True          # the outcome depends on (trial, t, action) only
    quiet_action = 0          # waiting

    def __init__(self, set_period: str, tolerance: float, target_param: str = "target_interval",
                 threshold: float = 1.0, output_index: int = 0) -> None:
        if not tolerance > 0:
            raise ValueError(f"tolerance must be > 0, got {tolerance!r}")
        self.set_period = set_period
        self.tolerance = float(tolerance)
        self.target_param = target_param
        self.threshold = float(threshold)
        self.output_index = int(output_index)

    def trial_table(self, batch: TrialBatch) -> dict[str, np.ndarray]:
        catch = batch.params["catch"].astype(bool)
        lengths = batch.lengths
        set_onset = np.where(catch, lengths, batch.periods[self.set_period][:, 0])
        return {"set_onset": set_onset, "target": batch.params[self.target_param].astype(np.float64),
                "catch": catch, "length": lengths}

    def timing_reward(self, error: np.ndarray, target: np.ndarray, scale: float) -> np.ndarray:
        """``scale * max(0, 1 - |error| / (tolerance * target))``; an exact go earns ``scale`` even
        when the tolerated window is vanishingly small (a target of a tiny fraction of a ms)."""
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            relative = np.abs(error) / (self.tolerance * target)
        return scale * np.maximum(0.0, 1.0 - np.where(error == 0, 0.0, relative))

    def _outcome(self, went: np.ndarray, early: np.ndarray, produced: np.ndarray, target: np.ndarray,
                 catch: np.ndarray) -> dict[str, np.ndarray]:
        """The outcome fields shared by ``step`` and ``decode_outputs``."""
        error = produced - target
        hit = went & (np.abs(np.nan_to_num(error, nan=np.inf)) <= self.tolerance * target)
        return {
            "choice": np.where(went, 0, -1).astype(np.int64),
            "correct": np.where(catch, np.nan, hit.astype(np.float64)),
            "rt": produced,
            "produced": produced,
            "error": error,
            "aborted": early,
        }

    def step(self, table, acc, t, action, target, mask, rewards, dt):
        action = np.asarray(action).astype(np.int64).reshape(-1)
        go = action != 0
        early = go & (t < table["set_onset"])
        went = go & ~early
        produced = np.where(went, (t - table["set_onset"]) * dt, np.nan)
        last = t >= table["length"] - 1
        out = self._outcome(went, early, produced, table["target"], table["catch"])
        reward = np.where(early, rewards["abort"],
                          np.where(went, self.timing_reward(out["error"], table["target"], rewards["correct"]),
                                   held_to_end_reward(last, table["catch"], rewards)))
        out["reward"] = np.nan_to_num(reward.astype(np.float64))
        out["done"] = go | last
        out["is_success"] = np.where(table["catch"], ~early, out["correct"] == 1.0)
        return out

    def decode_outputs(self, batch: TrialBatch, outputs: np.ndarray) -> dict[str, np.ndarray]:
        table = self.trial_table(batch)
        ramp = outputs[:, :, self.output_index]
        t = np.arange(outputs.shape[1])[None, :]
        valid = t < batch.lengths[:, None]
        above = (ramp >= self.threshold) & valid
        set_onset = table["set_onset"][:, None]
        early = np.any(above & (t < set_onset), axis=1)
        after = above & (t >= set_onset)
        went = after.any(axis=1) & ~early
        first = np.argmax(after, axis=1)
        produced = np.where(went, (first - table["set_onset"]) * batch.dt, np.nan)
        return self._outcome(went, early, produced, table["target"], table["catch"])


__all__ = ["DEFAULT_TIMING_REWARDS", "TimingRule"]

