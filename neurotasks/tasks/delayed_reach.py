"""Centre-out delayed reaching with a minimum-jerk hand trajectory (Kao 2021)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from neurotasks.batch import TrialBatch
from neurotasks.criterion import Criterion
from neurotasks.domains import Flag, Reals, Values
from neurotasks.rules import TrackingRule
from neurotasks.task import MAX_BATCH_BYTES, MAX_TRIAL_STEPS, Task, Trials, check_values
from neurotasks.timing import Duration, Uniform

#: The default targets: 8 directions 45 degrees apart, on a circle of radius 1.
TARGET_ANGLES = (0.0, 45.0, 90.0, 135.0, 180.0, 225.0, 270.0, 315.0)
#: The delay between target onset + 100 ms and the go cue.
DEFAULT_DELAY = Uniform(0.0, 1000.0)
#: Peak speed of a minimum-jerk reach of unit length and unit duration (at its midpoint).
MINIMUM_JERK_PEAK_SPEED = 1.875
#: Period names in trial order.
PERIODS = ("hold", "target", "delay", "go", "movement", "target_hold")
#: Periods with the hold signal on.
HOLD_SIGNAL_PERIODS = ("hold", "target", "delay")
#: Periods in which leaving the centre aborts the trial (the first one is left to acquire the centre).
ABORT_PERIODS = ("target", "delay")


def minimum_jerk(s: np.ndarray) -> np.ndarray:
    """Fraction of the way covered at phase s in [0, 1]: 10 s^3 - 15 s^4 + 6 s^5 (clipped outside)."""
    s = np.clip(s, 0.0, 1.0)
    return s**3 * (10.0 + s * (-15.0 + 6.0 * s))


class DelayedReach(Task):
    """Reach from the centre to one of several targets after an instructed delay.

    ## Description
    A centre-out delayed reach as modelled by Kao (2021). The hand holds at the centre; a
    target appears on a circle of radius 1; after a variable delay the hold signal drops (the
    go cue) and, after a 150 ms reaction time, the hand moves to the target along a
    minimum-jerk path x(s) = x1 (10 s^3 - 15 s^4 + 6 s^5), s = 0..1 over 400 ms, and holds
    there. Two generalisation variants test a network on what it was not trained on
    (Kao 2021): `target_switch` moves the target to another one during the delay (the reach
    must go to the last one), and `target_angles` can place targets at new angles.

    ## Inputs
    | channel | during | value |
    |---|---|---|
    | `target_x`, `target_y` | target onset to the end | cos, sin of the target angle (first target until a switch) |
    | `hold` | hold, target, delay | 1 (0 from the go cue on) |

    Inputs carry white noise (sigma 0.01 at tau_in 100 ms, per-step sd sqrt(2 tau_in/dt) sigma);
    no baseline, no rectification (target coordinates are signed).

    ## Outputs and actions
    `outputs="position"` (default): `hand_x`, `hand_y`, the centre (0, 0) until the end of the
    reaction time, then the minimum-jerk reach, then the target. `outputs="velocity"`:
    `velocity_x`, `velocity_y`, the step-to-step change of that position in units of the peak
    speed of a unit reach (`1.875 / movement`), so a reach to radius 1 peaks at speed 1 and
    the position is exactly `cumsum(velocity) * 1.875 * dt / movement`. Every step is
    constrained (mask 1). Actions: `Box(-1, 1, (2,))`, the same quantity as the outputs.

    ## Periods
    hold 200 ms; target 100 ms (target on, hold still on); delay uniform on [0, 1000) ms;
    go 150 ms (the reaction time after the go cue, hand still at the centre); movement 400 ms;
    target_hold 300 ms.

    ## Rewards
    Each step earns minus the mean squared error of the outputs. Once the target is on
    (target, delay), moving more than `hold_tolerance` (0.2) from the target in x or y before
    the go cue aborts the trial (-1). The hold period is left to acquire the centre: it is
    scored by its error only (an episode's first action is arbitrary).

    ## Criterion
    Validation `reach_error` <= 0.1: the larger of the trajectory RMSE and the worst target's
    mean endpoint error, so the criterion holds only when the whole trajectory is close (RMSE
    <= 0.1) and every target is reached (each target's mean endpoint within 0.1, a tenth of the
    reach distance and half the hold tolerance). An RMSE criterion alone passes networks that
    stop short of some targets: readout from excitatory units only, W_out >= 0, cannot drive the
    hand far below zero, and missed the 180 and 270 degree targets by ~0.3 at RMSE 0.1; the
    suggested network therefore reads out from every unit with Dale's signs (Song et al. 2016:
    inhibitory units pull outputs negative, as their sequence network did). `evaluate` also
    returns `endpoint_error`, the distance between the mean hand position over target_hold
    (integrated from velocity outputs if needed) and the target; a trial is correct when its
    RMSE <= 0.1 and its endpoint error <= 0.1. `score` adds the mean `endpoint_error`,
    `worst_target_endpoint_error` and `reach_error`.

    ## Arguments
    `dt` (10 ms), `target_angles` (degrees, default 0, 45, ..., 315), `outputs` ("position"
    or "velocity"), `hold` (200), `target_duration` (100), `delay` (uniform 0-1000),
    `reaction_time` (150), `movement` (400), `target_hold` (300), `target_switch` (False; a
    probability, or True for every trial), `hold_tolerance` (0.2), `input_noise` (0.01),
    `tau_in` (100).
    Trial parameters: `target` (index into `target_angles`), `angle` (degrees, from `target`),
    `switched` (bool), `first_target` (index of the target shown first; `target` when there
    is no switch), `switch_time` (ms from delay onset to the switch, drawn uniformly within
    the delay; NaN without a switch). Validation grid: every target.
    Forcing `target` alone keeps each trial's switch (the first target moves with it); forcing
    `first_target` alone moves the target with it (to itself on trials without a switch);
    forcing both sets `switched` where they differ. Forced values that contradict each other
    (a switch to the same target, different targets without a switch) are refused, as is forcing
    `angle` or `switch_time` (force `target`, `switch_phase`).

    Every task also takes `max_trial_steps` (10,000) and `max_batch_bytes` (4 GiB), the limits the
    base class checks (see `neurotasks.Task`).

    ## Reference
    Kao (2021) J Neurophysiol 126: 1857, "Considerations in using recurrent neural networks to
    probe neural dynamics"; Flash & Hogan (1985) J Neurosci 5: 1688 (minimum jerk).

    ## Version history
    v0: first version.
    """

    id = "DelayedReach-v0"
    summary = "Centre-out delayed reach with a minimum-jerk hand trajectory; target-switch variant (Kao 2021)"
    tags = ("motor", "working memory", "continuous output", "generalisation")
    reference = "Kao 2021 (J Neurophysiol); Flash & Hogan 1985"
    period_names = PERIODS
    input_names = ("target_x", "target_y", "hold")
    action_names = None
    criterion = Criterion("reach_error", "<=", 0.1)
    signal_range = (-1.0, 1.0)
    output_range = (-1.0, 1.0)
    suggested_network = {"n_units": 100, "tau": 50.0, "readout": "all"}
    derived_params = {"angle": "it is the angle of target; force target instead",
                      "switch_time": "it is set by switch_phase within the delay; force switch_phase instead"}
    fill_bytes_per_step = 8        # the (B, T) index of table rows

    #: Largest endpoint error (distance to the target) of a correct trial.
    endpoint_tolerance = 0.1

    def __init__(self, *, dt: float = 10.0, target_angles: Sequence[float] = TARGET_ANGLES,
                 outputs: str = "position", hold: float | Duration = 200.0,
                 target_duration: float | Duration = 100.0, delay: float | Duration = DEFAULT_DELAY,
                 reaction_time: float | Duration = 150.0, movement: float | Duration = 400.0,
                 target_hold: float | Duration = 300.0, target_switch: bool | float = False,
                 hold_tolerance: float = 0.2, input_noise: float = 0.01, tau_in: float = 100.0,
                 max_trial_steps: int = MAX_TRIAL_STEPS, max_batch_bytes: int = MAX_BATCH_BYTES) -> None:
        super().__init__(dt=dt, input_noise=input_noise, tau_in=tau_in, max_trial_steps=max_trial_steps,
                         max_batch_bytes=max_batch_bytes)
        self.target_angles = check_values(target_angles, "target_angles", -360.0, 360.0)
        if outputs not in ("position", "velocity"):
            raise ValueError(f"outputs must be 'position' or 'velocity', got {outputs!r}")
        self.outputs = outputs
        self.output_names = ("hand_x", "hand_y") if outputs == "position" else ("velocity_x", "velocity_y")
        self.durations = {
            "hold": self.declare_period("hold", hold, "hold"),
            "target": self.declare_period("target", target_duration, "target_duration"),
            "delay": self.declare_period("delay", delay, "delay", can_be_zero=True),
            "go": self.declare_period("go", reaction_time, "reaction_time", can_be_zero=True),
            "movement": self.declare_period("movement", movement, "movement"),
            "target_hold": self.declare_period("target_hold", target_hold, "target_hold"),
        }
        if isinstance(target_switch, (bool, np.bool_)):
            target_switch = float(target_switch)
        if not isinstance(target_switch, (int, float, np.integer, np.floating)) or not 0.0 <= target_switch <= 1.0:
            raise ValueError(f"target_switch must be a bool or a probability in [0, 1], got {target_switch!r}")
        if target_switch > 0 and len(self.target_angles) < 2:
            raise ValueError("target_switch needs at least two target_angles to switch between")
        self.target_switch = float(target_switch)
        if isinstance(hold_tolerance, bool) or not isinstance(hold_tolerance, (int, float)) or not hold_tolerance > 0:
            raise ValueError(f"hold_tolerance must be a number > 0, got {hold_tolerance!r}")
        self.hold_tolerance = float(hold_tolerance)
        self.rule = TrackingRule(success_rmse=self.criterion.threshold, hold_periods=ABORT_PERIODS,
                                 tolerance=self.hold_tolerance)

    # ------------------------------------------------------------------ trial generation
    def sample_params(self, n, rng):
        k = len(self.target_angles)
        target = rng.integers(0, k, size=n)
        switched = rng.random(n) < self.target_switch
        # Another target, uniformly among the other k - 1 (or the same one when k == 1).
        first = (target + rng.integers(1, max(k, 2), size=n)) % k
        return {"target": target, "switched": switched, "first_target": first,
                "switch_phase": rng.random(n)}

    def derive_params(self, params):
        target = params["target"].astype(np.int64)
        k = len(self.target_angles)
        params["angle"] = self.target_angles[np.clip(target, 0, k - 1)]
        # A "switch" to the same target is no switch; without one the first target is the target.
        switched = params["switched"].astype(bool) & (params["first_target"] != target)
        params["switched"] = switched
        params["first_target"] = np.where(switched, params["first_target"], target)
        return params

    def param_domains(self):
        index = Values(range(len(self.target_angles)), what="an index into target_angles")
        return {**super().param_domains(), "target": index, "switched": Flag(), "first_target": index,
                "switch_phase": Reals(0.0, 1.0, what="the fraction of the delay before the switch")}

    def impose(self, params, forced):
        # The target and the first target are drawn a non-zero offset apart (mod k); what is not
        # forced of the two follows what is, keeping that offset on trials with a switch, so a
        # forced switch always has another first target and a forced target keeps its switch.
        k = len(self.target_angles)
        offset = (params["first_target"] - params["target"]) % k
        super().impose(params, forced)
        target, first, switched = params["target"], params["first_target"], params["switched"]
        if "target" in forced and "first_target" not in forced:
            params["first_target"] = np.where(switched, (target + offset) % k, target)
        elif "first_target" in forced and "target" not in forced:
            params["target"] = np.where(switched, (first - offset) % k, first)
        elif "target" in forced and "first_target" in forced and "switched" not in forced:
            params["switched"] = first != target
        moved = params["first_target"] != params["target"]
        if np.any(params["switched"] & ~moved):
            raise ValueError("forced parameter switched is True on trial(s) whose first_target is their target "
                             + ("(a switch needs two target_angles)" if k < 2 else
                                "(force first_target to another target, or switched=False)"))
        if "first_target" in forced and np.any(~params["switched"] & moved):
            raise ValueError("forced parameter first_target differs from target on trial(s) without a switch "
                             "(switched is False there); force switched=True, or first_target equal to target")

    def conditions(self):
        return {"target": np.arange(len(self.target_angles))}

    def fill(self, tr: Trials) -> None:
        # Written for speed on big batches (every (B, T) pass and temporary counts): two gathers from small
        # per-trial tables, sharing one (B, T) index buffer, and no arithmetic on (B, T, C) arrays.
        params = tr.params
        final = _unit(self.target_angles[params["target"]])                         # (B, 2)
        first = _unit(self.target_angles[params["first_target"]])                   # (B, 2)
        delay = tr.periods["delay"]
        switch_step = delay[:, 0] + np.floor(params["switch_phase"] * (delay[:, 1] - delay[:, 0])).astype(np.int64)
        switch_step = np.where(params["switched"], switch_step, tr.onset("target"))
        params["switch_time"] = np.where(params["switched"], (switch_step - delay[:, 0]) * tr.dt, np.nan)
        rows = np.arange(tr.n)

        # Inputs: each step is in one of 6 states, 3 x (hold signal on) + (0 no target, 1 first
        # target, 2 final target); one (B, 6, 3) table of their values, laid out by one gather. The
        # first target shows from target onset to the switch, the final one from the switch to the end.
        bounds = np.stack([np.zeros(tr.n, np.int64), tr.onset("target"), switch_step, tr.onset("go"), tr.lengths,
                           np.full(tr.n, tr.n_steps)], axis=1)
        index = tr.runs(np.diff(bounds, axis=1), np.array([3, 4, 5, 2, 0]), 6)
        states = np.zeros((tr.n, 6, 3), dtype=np.float32)
        states[:, 1, :2] = states[:, 4, :2] = first
        states[:, 2, :2] = states[:, 5, :2] = final
        states[:, 3:, 2] = 1.0
        tr.lay_out(states, index, tr.inputs)

        # Targets: after j steps of movement (j = t - movement onset + 1, clipped to [0, n_move]) the
        # reach has covered minimum_jerk(j / n_move) of the way: one table row per j, laid out by one
        # gather whose index, row j of trial b = b * n_cols + clip(t - onset + 1, 0, n_move), is
        # computed in place (in the inputs' index buffer) as clip(t + offset, low, high).
        movement = tr.periods["movement"]
        n_move = np.maximum(movement[:, 1] - movement[:, 0], 1)
        n_rows = int(n_move.max()) + 1
        moves = np.unique(n_move)                                                  # the jerk of each length once
        fraction = minimum_jerk(np.arange(n_rows) / moves[:, None])[np.searchsorted(moves, n_move)]   # (B, n_rows)
        position = np.empty((tr.n, n_rows, 2))
        for axis in range(2):
            np.multiply(fraction, final[:, axis, None], out=position[:, :, axis])
        if self.outputs == "position":
            n_cols, high, table = n_rows, n_move, position
        else:
            # The step-to-step change of the position: row j in [1, n_rows) the step that reaches j
            # (0 beyond n_move, where the position stays at the target), rows 0 and n_rows the steps
            # before and after the reach (0), row n_rows + 1 the first step (from a position of 0).
            n_cols, high = n_rows + 2, n_move + 1
            table = np.zeros((tr.n, n_cols, 2))
            np.subtract(position[:, 1:], position[:, :-1], out=table[:, 1:n_rows])
            table[:, n_rows + 1] = position[rows, np.clip(1 - movement[:, 0], 0, n_move)] - 0.0
            table *= (n_move / MINIMUM_JERK_PEAK_SPEED)[:, None, None]
        low = n_cols * rows
        np.add(tr.t, (low - movement[:, 0] + 1)[:, None], out=index)
        np.maximum(index, low[:, None], out=index)                                  # (cheaper than np.clip)
        np.minimum(index, (low + high)[:, None], out=index)
        if self.outputs == "velocity":
            index[:, 0] = low + n_rows + 1
        tr.lay_out(table.astype(np.float32), index, tr.targets)
        tr.mask.fill(1.0)

    @staticmethod
    def reach(movement: np.ndarray, n_steps: int) -> np.ndarray:
        """(B, T) fraction of the reach covered: 0 before the movement period, minimum jerk over
        it (reaching 1 on its last step), 1 after."""
        start = movement[:, :1]
        n_move = np.maximum(movement[:, 1:] - start, 1)
        return minimum_jerk((np.arange(n_steps)[None, :] - start + 1) / n_move)

    @staticmethod
    def _movement_steps(periods: Mapping[str, np.ndarray]) -> np.ndarray:
        span = periods["movement"]
        return np.maximum(span[:, 1] - span[:, 0], 1).astype(np.float64)

    # ------------------------------------------------------------------ scoring
    def hand_position(self, batch: TrialBatch, trace: np.ndarray) -> np.ndarray:
        """(B, T, 2) hand position from outputs or actions (integrated when they are velocities)."""
        trace = np.asarray(trace, dtype=np.float64) * batch.valid[:, :, None]
        if self.outputs == "position":
            return trace
        scale = MINIMUM_JERK_PEAK_SPEED / self._movement_steps(batch.periods)
        return np.cumsum(trace, axis=1) * scale[:, None, None]

    def endpoint_error(self, batch: TrialBatch, trace: np.ndarray) -> np.ndarray:
        """(B,) distance from the target of the mean hand position over target_hold."""
        position = self.hand_position(batch, trace)
        span = batch.periods["target_hold"]
        t = np.arange(batch.n_steps)[None, :]
        final = ((t >= span[:, :1]) & (t < span[:, 1:])) | (t == batch.lengths[:, None] - 1)
        endpoint = (position * final[:, :, None]).sum(axis=1) / final.sum(axis=1)[:, None]
        goal = _unit(self.target_angles[batch.params["target"]])
        return np.linalg.norm(endpoint - goal, axis=-1)

    def evaluate(self, batch: TrialBatch, outputs: np.ndarray | None = None, actions: np.ndarray | None = None,
                 rewards: Mapping[str, float] | None = None) -> dict[str, np.ndarray]:
        """The tracking rule's table plus ``endpoint_error``; correct needs both RMSE and endpoint."""
        result = super().evaluate(batch, outputs=outputs, actions=actions, rewards=rewards)
        trace = outputs if outputs is not None else actions
        error = self.endpoint_error(batch, trace)
        result["endpoint_error"] = error
        correct = np.asarray(result["correct"], dtype=np.float64)
        result["correct"] = np.where(np.isnan(correct), np.nan, correct * (error <= self.endpoint_tolerance))
        return result

    def score(self, batch: TrialBatch, evaluation: Mapping[str, np.ndarray]) -> dict[str, float]:
        out = super().score(batch, evaluation)
        if "endpoint_error" in evaluation:
            error = np.asarray(evaluation["endpoint_error"], dtype=float)
            out["endpoint_error"] = float(np.mean(error))
            targets = np.asarray(batch.params["target"])
            per_target = [float(np.mean(error[targets == k])) for k in np.unique(targets)]
            out["worst_target_endpoint_error"] = max(per_target)
            if "rmse" in out:
                out["reach_error"] = max(out["rmse"], out["worst_target_endpoint_error"])
        return out


def _unit(angle_deg: np.ndarray) -> np.ndarray:
    """(..., 2) unit vectors at ``angle_deg`` degrees."""
    rad = np.deg2rad(np.asarray(angle_deg, dtype=np.float64))
    return np.stack([np.cos(rad), np.sin(rad)], axis=-1)


__all__ = ["DelayedReach", "minimum_jerk"]
