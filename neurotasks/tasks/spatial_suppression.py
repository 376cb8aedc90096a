"""Spatial suppression of motion (Tadin et al. 2003): report the direction of a brief drifting grating."""

from __future__ import annotations

import numpy as np

from neurotasks.criterion import Criterion
from neurotasks.domains import Values
from neurotasks.rules import TrackingRule
from neurotasks.task import MAX_BATCH_BYTES, MAX_TRIAL_STEPS, Task, check_milliseconds

#: Motion directions: left, right, up, down (radians), and each one's opposite.
DIRECTIONS = np.array([-np.pi / 2, np.pi / 2, 0.0, np.pi])
OPPOSITE = np.array([1, 0, 3, 2])
#: The two stimuli: (contrast, diameter in size units of the 8-unit pools).
STIMULI = ((0.05, 1), (0.99, 8))
#: A frame of the 120 Hz display (ms): the times of the measured curves are frames.
FRAME_MS = 8.3
#: NeuroGym's human psychometric data: frames (0-based) at which the probability of reporting the
#: true direction and its opposite were measured, for the small low-contrast and the large
#: high-contrast stimulus; the two orthogonal directions share the rest. Linear in between.
FRAMES = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 14, 17, 20, 27, 35, 36, 37, 38], dtype=float)
P_CORRECT = {
    0: np.array([0.249] * 7 + [0.25, 0.26, 0.2583, 0.325, 0.45, 0.575, 0.875, 0.933, 0.99, 0.99, 0.99, 0.99]),
    1: np.array([0.249] * 7 + [0.249, 0.249, 0.249, 0.27, 0.32, 0.4583, 0.65, 0.85, 0.99, 0.99, 0.99, 0.99]),
}
P_OPPOSITE = {
    0: np.array([0.249] * 7 + [0.25, 0.26, 0.2583, 0.267, 0.1417, 0.1167, 0.058, 0.016, 0.003, 0.003, 0.003, 0.003]),
    1: np.array([0.249] * 7 + [0.249, 0.29, 0.31, 0.4, 0.475, 0.4167, 0.3083, 0.075, 0.04, 0.04, 0.03, 0.03]),
}


def report_probabilities(stimulus: np.ndarray, direction: np.ndarray, t_ms: np.ndarray) -> np.ndarray:
    """(B, T, 4) probability of reporting each direction at time ``t_ms`` (T,) after motion onset."""
    frames = np.asarray(t_ms, dtype=float) / FRAME_MS
    correct = np.stack([np.interp(frames, FRAMES, P_CORRECT[s]) for s in (0, 1)])[stimulus]      # (B, T)
    opposite = np.stack([np.interp(frames, FRAMES, P_OPPOSITE[s]) for s in (0, 1)])[stimulus]
    out = np.repeat(((1.0 - correct - opposite) / 2.0)[:, :, None], 4, axis=2)
    rows = np.arange(len(direction))
    out[rows, :, direction] = correct
    out[rows, :, OPPOSITE[direction]] = opposite
    return out.astype(np.float32)


class SpatialSuppressMotion(Task):
    """Reproduce how often people report each of four motion directions as a grating's duration grows.

    ## Description
    NeuroGym's SpatialSuppressMotion (by Ru-Yuan Zhang), after Tadin, Lappin, Gilroy & Blake
    (2003): the direction of a briefly shown drifting grating is easier to see for a small
    low-contrast patch than for a large high-contrast one (centre-surround suppression in MT), so
    the large stimulus needs a longer exposure. Inputs are four pools of eight direction-selective
    units (a pool per direction, a unit per size unit); the target, at every step, is the
    probability with which human observers reported each of the four directions after viewing the
    stimulus that long (NeuroGym's data, interpolated linearly between the measured frames). The
    task is to be fitted, as psychophysical data are, not solved: there is no right answer early on.

    ## Inputs
    | channel | during | value |
    |---|---|---|
    | `dir{d}_size{s}` (4 x 8) | stimulus | contrast (1 + cos(theta_d - theta)) / 2 for units s < diameter, else 0 |

    Directions d: left, right, up, down. The small stimulus has contrast 0.05 and diameter 1, the
    large one contrast 0.99 and diameter 8. No noise, baseline or rectification by default.

    ## Outputs and actions
    Outputs `p_left`, `p_right`, `p_up`, `p_down`: the report probabilities at each step (summing to
    1); mask 1 throughout. Actions: `Box(-1, 1, (4,))` (SB3's symmetric box; the targets lie in [0, 1]).

    ## Periods
    stimulus 300 ms (36 frames of 8.3 ms at the default dt).

    ## Rewards
    Each step earns minus the mean squared error of the outputs; no aborts.

    ## Criterion
    Validation RMSE <= 0.05 (a trial is correct when its own RMSE is).

    ## Departures from NeuroGym
    NeuroGym rewards nothing (its step returns 0) and interpolates with SciPy; here the tracking
    reward and NumPy's linear interpolation (the same values inside the measured frames).

    ## Arguments
    `dt` (8.3 ms, a frame), `stimulus_duration` (300 ms; the data reach their ceiling by then and
    end at 38 frames, 315 ms: later steps keep the last values), `input_noise` (0), `tau_in`
    (100). Trial parameters: `stimulus` (0 small low-contrast, 1 large high-contrast), `direction`
    (0 left, 1 right, 2 up, 3 down).

    Every task also takes `max_trial_steps` (10,000) and `max_batch_bytes` (4 GiB), the limits the
    base class checks (see `neurotasks.Task`).

    ## Reference
    Tadin, Lappin, Gilroy & Blake (2003) Nature 424: 312; NeuroGym 2.3.1 `SpatialSuppressMotion`.

    ## Version history
    v0: first version.
    """

    id = "SpatialSuppressMotion-v0"
    summary = "Fit human reports of a brief grating's direction: centre-surround suppression (Tadin et al. 2003)"
    reference = "Tadin et al. 2003; NeuroGym SpatialSuppressMotion"
    tags = ("perception", "motion", "psychophysics", "continuous output", "neurogym")
    period_names = ("stimulus",)
    input_names = tuple(f"dir{d}_size{s}" for d in range(4) for s in range(8))
    output_names = ("p_left", "p_right", "p_up", "p_down")
    action_names = None
    criterion = Criterion("rmse", "<=", 0.05)
    output_range = (-1.0, 1.0)          # symmetric, as SB3 asks of a Box; the targets lie in [0, 1]
    suggested_network = {"n_units": 100}

    def __init__(self, *, dt: float = FRAME_MS, stimulus_duration: float = 300.0, input_noise: float = 0.0,
                 tau_in: float = 100.0, max_trial_steps: int = MAX_TRIAL_STEPS,
                 max_batch_bytes: int = MAX_BATCH_BYTES) -> None:
        super().__init__(dt=dt, input_noise=input_noise, tau_in=tau_in, max_trial_steps=max_trial_steps,
                         max_batch_bytes=max_batch_bytes)
        self.durations = {"stimulus": self.declare_period(
            "stimulus", check_milliseconds(stimulus_duration, "stimulus_duration"), "stimulus_duration")}
        self.rule = TrackingRule(success_rmse=self.criterion.threshold)

    def sample_params(self, n, rng):
        return {"stimulus": rng.integers(0, 2, size=n), "direction": rng.integers(0, 4, size=n)}

    def param_domains(self):
        return {**super().param_domains(),
                "stimulus": Values((0, 1), what="0: small, contrast 0.05; 1: large, contrast 0.99"),
                "direction": Values(range(4), what="0 left, 1 right, 2 up, 3 down")}

    def conditions(self):
        stimulus, direction = np.meshgrid([0, 1], np.arange(4), indexing="ij")
        return {"stimulus": stimulus.ravel(), "direction": direction.ravel()}

    def fill(self, tr):
        stimulus, direction = tr.params["stimulus"], tr.params["direction"]
        contrast = np.array([s[0] for s in STIMULI])[stimulus]
        diameter = np.array([s[1] for s in STIMULI])[stimulus]
        tuning = contrast[:, None] * (1.0 + np.cos(DIRECTIONS[None, :] - DIRECTIONS[direction][:, None])) / 2.0
        pools = tuning[:, :, None] * (np.arange(8)[None, None, :] < diameter[:, None, None])             # (B, 4, 8)
        pools *= ~tr.params["catch"][:, None, None]
        tr.per_period({"stimulus": pools.reshape(tr.n, 32).astype(np.float32)}, out=tr.inputs)
        tr.targets[...] = report_probabilities(stimulus, direction, tr.t * tr.dt)
        tr.mask.fill(1.0)
