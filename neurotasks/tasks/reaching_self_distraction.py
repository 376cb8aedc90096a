"""Reaching with self-distraction (NeuroGym's Reaching1DWithSelfDistraction): steer a cursor to a target angle
while the cursor's own, stronger, signal is part of what the agent sees."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from neurotasks.batch import TrialBatch
from neurotasks.criterion import Criterion
from neurotasks.domains import Reals
from neurotasks.rules import ResponseRule
from neurotasks.task import MAX_BATCH_BYTES, MAX_TRIAL_STEPS, Task, check_number
from neurotasks.timing import Duration

#: Ring units of the observation, the cursor's start (rad), its move per step (rad), the target's gain.
N_RING = 32
START = np.pi
STEP = 0.05
TARGET_GAIN = 0.3
DEFAULT_REACH_REWARDS: dict[str, float] = {"correct": 1.0, "fail": -0.1}


def circular_distance(angle: np.ndarray) -> np.ndarray:
    """|angle| wrapped to [0, pi]."""
    return np.abs(np.mod(np.asarray(angle) + np.pi, 2 * np.pi) - np.pi)


def ring_signal(theta: np.ndarray, target: np.ndarray, reaching: np.ndarray, cursor: np.ndarray) -> np.ndarray:
    """The observation (..., N_RING) float32: ``TARGET_GAIN cos(theta - target)`` while reaching, plus
    ``cos(theta - cursor)`` always. One function for the batch and the environments' rewrite, so an
    unmoved cursor gives exactly the batch's numbers."""
    target_part = np.where(reaching[..., None], TARGET_GAIN * np.cos(theta - target[..., None]), 0.0)
    return (target_part + np.cos(theta - cursor[..., None])).astype(np.float32)


class SelfDistractionRule(ResponseRule):
    """Action 1 moves the cursor by +``step`` rad, 2 by -``step``, 0 leaves it; each reach step pays
    ``max(correct - |cursor - target|, fail)`` (NeuroGym's), fixation steps 0. A trial lasts its full
    length. The cursor is the rule's state (its accumulator), and ``observe`` shows it.

    Outcome: ``choice`` (-1), ``correct`` (1 if the final distance is at most ``success_error``),
    ``rt`` (NaN), ``error`` (the final distance, rad), ``performance`` (NeuroGym's: the reach
    steps' mean reward rescaled to [0, 1]).
    """

    action_kind = "discrete"
    default_rewards = DEFAULT_REACH_REWARDS
    outcome_fields = ("choice", "correct", "rt", "error", "performance")

    def __init__(self, step: float, success_error: float, theta: np.ndarray) -> None:
        self.step_size, self.success_error, self.theta = step, success_error, theta

    def trial_table(self, batch: TrialBatch) -> dict[str, np.ndarray]:
        return {"target": batch.params["target"], "reach": batch.periods["reach"], "length": batch.lengths}

    def new_accumulator(self, n: int) -> dict[str, np.ndarray]:
        return {"cursor": np.full(n, START), "paid": np.zeros(n)}

    def reset_accumulator(self, acc: dict[str, np.ndarray], rows: np.ndarray) -> None:
        acc["cursor"][rows] = START
        acc["paid"][rows] = 0.0

    def step(self, table, acc, t, action, target, mask, rewards, dt):
        action = np.asarray(action, dtype=np.int64).reshape(-1)
        t = np.asarray(t)
        move = np.where(action == 1, self.step_size, np.where(action == 2, -self.step_size, 0.0))
        acc["cursor"] = np.mod(acc["cursor"] + move, 2 * np.pi)
        error = circular_distance(acc["cursor"] - table["target"])
        span = table["reach"]
        reaching = (t >= span[:, 0]) & (t < span[:, 1])
        reward = np.where(reaching, np.maximum(rewards["correct"] - error, rewards["fail"]), 0.0)
        scale = max(rewards["correct"] - rewards["fail"], 1e-12)
        acc["paid"] = acc["paid"] + np.where(reaching, (reward - rewards["fail"]) / scale, 0.0)
        n = action.shape[0]
        ok = error <= self.success_error
        return {
            "reward": reward.astype(np.float64),
            "done": t >= table["length"] - 1,
            "choice": np.full(n, -1),
            "correct": ok.astype(np.float64),
            "rt": np.full(n, np.nan),
            "error": error,
            "performance": acc["paid"] / np.maximum(span[:, 1] - span[:, 0], 1),
            "is_success": ok,
        }

    def observe(self, table: Mapping[str, np.ndarray], acc: Mapping[str, np.ndarray], t: np.ndarray,
                obs: np.ndarray) -> np.ndarray:
        """The target (while reaching) and the cursor where the agent's actions have put it (in place)."""
        span = table["reach"]
        t = np.asarray(t)
        obs[:] = ring_signal(self.theta, table["target"], (t >= span[:, 0]) & (t < span[:, 1]), acc["cursor"])
        return obs

    def decode_outputs(self, batch: TrialBatch, outputs: np.ndarray) -> dict[str, np.ndarray]:
        raise ValueError("Reaching1DWithSelfDistraction-v0 has no supervised target: what it shows follows the "
                         "agent's own cursor, which outputs do not move; score it with evaluate(batch, actions=...)")


class Reaching1DWithSelfDistraction(Task):
    """Move a cursor to a target angle; the cursor's own signal, stronger than the target's, is in view.

    ## Description
    NeuroGym's task (no source paper; it cites electric fish, whose electrosensory organ is
    swamped by their own discharges). A ring of 32 units shows a target angle, drawn uniformly on
    [0, 2 pi), at gain 0.3 during the reach period, and, at every step, the cursor's angle at gain 1.
    The agent steers the cursor (starting at pi) and is paid each reach step by how close it is.
    What the agent sees depends on its own past actions, so the cursor is the rule's state and
    its `observe` hook writes the observation (closed loop in `TaskEnv` and `TaskVectorEnv`).

    ## Inputs
    | channel | during | value |
    |---|---|---|
    | `ring_0` ... `ring_31` (angles 2 pi k / 32) | reach | 0.3 cos(angle - target) |
    | the same units | always | + cos(angle - cursor) |

    A batch (`trials(n)`) shows the cursor where it starts, as an agent that never moves sees it.

    ## Outputs and actions
    Actions: `Discrete(3)`: 0 stay, 1 move +0.05 rad, 2 move -0.05 rad. There is no supervised
    target (`mask` 0, `gt` 0): the observation follows the agent's cursor, which outputs do not
    move, so `evaluate(batch, outputs=...)` raises; score RL agents with `actions=`.

    ## Periods
    fixation 500 ms; reach 500 ms (5 steps each at dt = 100 ms).

    ## Rewards
    Each reach step pays max(1 - |cursor - target|, -0.1) (distance on the circle, rad); fixation
    steps pay 0. A trial runs to its end.

    ## Criterion
    Percent of trials ending within `success_error` (0.25 rad) of the target > 50. Not NeuroGym's
    (its performance, the reach steps' mean reward rescaled to [0, 1], is the outcome
    `performance`); 0.25 rad is the distance the cursor can travel in the 5 reach steps.

    ## Departures from NeuroGym
    The same numbers (32 units, gains 0.3 and 1, steps of 0.05 rad, start at pi, rewards 1 and
    -0.1). NeuroGym's ground truth is the target angle itself, not an action; here there is none.

    ## Arguments
    `dt` (100 ms), `fixation` (500), `reach` (500), `step` (0.05 rad), `success_error` (0.25 rad).
    Trial parameter: `target` (rad, in [0, 2 pi)); `ground_truth` (derived: the short way round from
    the start, 0 = plus, 1 = minus).

    Every task also takes `max_trial_steps` (10,000) and `max_batch_bytes` (4 GiB), the limits the
    base class checks (see `neurotasks.Task`).

    ## Reference
    NeuroGym 2.3.1 `Reaching1DWithSelfDistraction` (no paper).

    ## Version history
    v0: first version.
    """

    id = "Reaching1DWithSelfDistraction-v0"
    summary = "Steer a cursor to a target angle while seeing the cursor's own stronger signal (NeuroGym)"
    reference = "NeuroGym Reaching1DWithSelfDistraction"
    tags = ("motor", "closed loop", "neurogym")
    period_names = ("fixation", "reach")
    input_names = tuple(f"ring_{k}" for k in range(N_RING))
    output_names = ("stay", "plus", "minus")
    action_names = ("stay", "plus", "minus")
    signal_range = (-1.0 - TARGET_GAIN, 1.0 + TARGET_GAIN)
    criterion = Criterion("percent_correct", ">", 50.0, window=5)
    #: No supervised batch: the observation follows the agent's cursor (``decode_outputs`` raises).
    supervised_target = False
    #: fill's float64 (B, T, 32) temporaries of ``ring_signal``
    fill_bytes_per_step = 24 * N_RING
    derived_params = {"ground_truth": "it follows from target; force target instead"}

    def __init__(self, *, dt: float = 100.0, fixation: float | Duration = 500.0, reach: float | Duration = 500.0,
                 step: float = STEP, success_error: float = 0.25, max_trial_steps: int = MAX_TRIAL_STEPS,
                 max_batch_bytes: int = MAX_BATCH_BYTES) -> None:
        super().__init__(dt=dt, max_trial_steps=max_trial_steps, max_batch_bytes=max_batch_bytes)
        step, success_error = check_number(step, "step"), check_number(success_error, "success_error")
        if not 0 < step <= np.pi:
            raise ValueError(f"step must be in (0, pi] rad, got {step!r}")
        if not 0 <= success_error <= np.pi:
            raise ValueError(f"success_error must be in [0, pi] rad, got {success_error!r}")
        self.theta = np.arange(N_RING) * (2 * np.pi / N_RING)
        self.durations = {"fixation": self.declare_period("fixation", fixation, "fixation"),
                          "reach": self.declare_period("reach", reach, "reach")}
        self.rule = SelfDistractionRule(step, success_error, self.theta)

    def sample_params(self, n, rng):
        return {"target": rng.uniform(0.0, 2 * np.pi, size=n)}

    def derive_params(self, params):
        ahead = np.mod(params["target"] - START, 2 * np.pi) < np.pi
        return {**params, "ground_truth": np.where(ahead, 0, 1).astype(np.int64)}

    def param_domains(self):
        return {**super().param_domains(), "target": Reals(0.0, 2 * np.pi, high_open=True, what="rad")}

    def fill(self, tr):
        reaching = tr.during("reach")
        target = np.broadcast_to(tr.params["target"][:, None], reaching.shape)
        tr.inputs[:] = ring_signal(self.theta, target, reaching, np.full(reaching.shape, START))
