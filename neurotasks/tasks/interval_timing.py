"""Interval timing: measure or recall an interval, then produce it after Set.

Ready-Set-Go (Jazayeri & Shadlen 2010; Remington et al. 2018) and Cue-Set-Go (Wang, Narain et
al. 2018) share everything after Set: one ``ramp`` output that should climb linearly from 0 at
Set to 1 at the target time, and one go whose timing is scored by ``TimingRule``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from neurotasks.criterion import Criterion
from neurotasks.domains import Reals, Values
from neurotasks.task import (
    MAX_BATCH_BYTES,
    MAX_CHANNELS,
    MAX_TRIAL_STEPS,
    Task,
    Trials,
    check_milliseconds,
    check_number,
    check_values,
)
from neurotasks.timing import Choice, Duration, PeriodTiming, Uniform
from neurotasks.timing_rule import TimingRule

#: Sample intervals of Jazayeri & Shadlen (2010)'s short prior, used by Remington et al. (2018).
READY_SET_GO_INTERVALS = (480.0, 560.0, 640.0, 720.0, 800.0)
#: Remington et al. (2018)'s two gains: produce the sample interval, or 1.5 times it.
READY_SET_GO_GAINS = (1.0, 1.5)
#: The two intervals of Wang, Narain et al. (2018)'s Cue-Set-Go task.
CUE_SET_GO_INTERVALS = (800.0, 1500.0)
#: Fixation before Ready, random so Ready cannot be anticipated.
READY_SET_GO_FIXATION = Uniform(300.0, 700.0)
#: Cue alone before Set, random so Set cannot be anticipated.
CUE_SET_GO_CUE_DURATION = Uniform(500.0, 1000.0)
_FLOAT32_MAX = float(np.finfo(np.float32).max)


class _IntervalTimingTask(Task):
    """Shared by Ready-Set-Go and Cue-Set-Go: the Set pulse, the ramp target, gt and the rule.

    Subclasses list their periods ending with ``"production"`` (it starts at Set), draw
    ``interval`` (and ReadySetGo ``gain``) per trial, and write their own pre-Set inputs.
    """

    tags: tuple[str, ...] = ("timing", "paper")
    output_names = ("ramp",)
    action_names = ("wait", "go")
    criterion = Criterion("percent_correct", ">", 90.0, window=5)
    suggested_network = {"n_units": 200}

    def __init__(self, *, dt: float, intervals: Sequence[float], pulse_width: float, production_factor: float,
                 tolerance: float, catch_prob: float, catch_duration: float, input_noise: float, tau_in: float,
                 input_baseline: float, max_trial_steps: int, max_batch_bytes: int) -> None:
        super().__init__(dt=dt, catch_prob=catch_prob, catch_duration=catch_duration, input_baseline=input_baseline,
                         input_noise=input_noise, tau_in=tau_in, rectify_inputs=False,
                         max_trial_steps=max_trial_steps, max_batch_bytes=max_batch_bytes)
        self.intervals = check_values(intervals, "intervals", 0.0, low_inclusive=False, distinct=True)
        self.pulse_width = check_milliseconds(pulse_width, "pulse_width")
        if self.pulse_width >= self.intervals.min():
            raise ValueError(f"pulse_width ({self.pulse_width:g} ms) must be shorter than the shortest of "
                             f"intervals ({self.intervals.min():g} ms)")
        self.tolerance = check_number(tolerance, "tolerance")
        if not 0 < self.tolerance < 1:
            raise ValueError(f"tolerance must be a relative tolerance in (0, 1), got {tolerance!r}")
        if not check_number(production_factor, "production_factor") > 1 + self.tolerance:
            raise ValueError(f"production_factor must be a number > 1 + tolerance = {1 + self.tolerance:g} "
                             f"(the go window must outlast the tolerated range), got {production_factor!r}")
        self.production_factor = float(production_factor)
        self.output_range = (0.0, self.production_factor)
        self.rule = TimingRule(set_period="production", tolerance=self.tolerance)

    # ------------------------------------------------------------------ shared hooks
    def derive_params(self, params):
        gain = params["gain"] if "gain" in params else 1.0
        params["target_interval"] = gain * np.asarray(params["interval"], dtype=float)
        return params

    def param_domains(self):
        return {**super().param_domains(), "ground_truth": Values((0,), what="the only response is 'go'")}

    def production_duration(self, params: dict[str, np.ndarray]) -> np.ndarray:
        """From Set to ``production_factor`` times the target interval (at least one step past the target)."""
        target = params["target_interval"]
        past_target = (np.maximum(1, np.rint(target / self.dt)) + 1) * self.dt
        return np.maximum(self.production_factor * target, past_target)

    def production_timing(self, target_intervals: np.ndarray, argument: str) -> PeriodTiming:
        """What the production period lasts over the given target intervals (for ``period_timing``)."""
        durations = self.production_duration({"target_interval": np.asarray(target_intervals, dtype=float)})
        return PeriodTiming(argument, Choice(tuple(np.unique(durations))))

    def pulse_end(self, tr: Trials, period: str) -> np.ndarray:
        """(B,) end step of the ``pulse_width`` pulse at the onset of ``period`` (clipped to the period)."""
        width = max(1, int(tr.steps(self.pulse_width)))
        span = tr.periods[period]
        return np.minimum(span[:, 0] + width, span[:, 1])

    def write_production(self, tr: Trials) -> None:
        """Ramp target (mask 1 on the whole trial), and gt = 1 on the on-time step.

        The ramp max(0, (t - Set) / target_steps), at most ``production_factor`` (which rounding to
        steps could otherwise overshoot at the very end of a trial), computed in float64 and stored as
        float32, runs on into the padding (the base class clears it). Every trial's ramp is a window of one row
        per distinct target_steps, laid out by one copy of a (B, T) block: no (B, T) arithmetic.
        """
        set_onset = tr.onset("production")
        target_steps = np.maximum(1, tr.steps(tr.params["target_interval"]))
        # Row k of ``ramps`` holds the ramp at t - Set = -longest_wait .. T - 1 for the k-th distinct
        # target_steps; trial b's ramp is the T values from column longest_wait - Set_b of its row.
        distinct = np.unique(target_steps)
        row = np.searchsorted(distinct, target_steps)
        longest_wait = int(set_onset.max())
        width = longest_wait + tr.n_steps
        ramps = np.arange(-longest_wait, tr.n_steps) / distinct[:, None]
        ramps = np.clip(ramps, 0.0, self.production_factor, out=ramps).astype(np.float32)
        windows = np.ndarray((ramps.size - tr.n_steps + 1, tr.n_steps), np.float32, ramps, strides=(4, 4))
        tr.targets.reshape(tr.n, tr.n_steps)[...] = windows[row * width + (longest_wait - set_onset)]
        tr.mask.fill(1.0)
        on_time = set_onset + target_steps
        hit = np.flatnonzero(on_time < tr.lengths)                  # the on-time step is in the production period
        tr.gt[hit, on_time[hit]] = 1

    def lay_out_inputs(self, tr: Trials, bounds: list[np.ndarray], values: np.ndarray) -> None:
        """Inputs as runs: ``values[:, k]`` (B, K, n_in) from ``bounds[k]`` to ``bounds[k + 1]`` (steps),
        the last run to the trial's end, and 0 on the padding."""
        ends = np.stack([*bounds, tr.lengths, np.full(tr.n, tr.n_steps)], axis=1)
        table = np.zeros((tr.n, values.shape[1] + 1, values.shape[2]), dtype=np.float32)
        table[:, :-1] = values
        tr.lay_out(table, tr.runs(np.diff(ends, axis=1), np.arange(table.shape[1]), table.shape[1]), tr.inputs)


class ReadySetGo(_IntervalTimingTask):
    """Measure the interval between Ready and Set, then produce it (times a gain) after Set.

    ## Description
    The Ready-Set-Go task of Jazayeri & Shadlen (2010) with the gain context of Remington et
    al. (2018). Two brief pulses, Ready and Set, are separated by the sample interval t_s; a
    context input tells the gain g. The agent must respond ("go") g·t_s after Set. A network
    solves it by measuring t_s between Ready and Set and then reproducing it at a speed set by
    g, the computation whose population dynamics Remington et al. studied.

    ## Inputs
    | channel | during | value |
    |---|---|---|
    | `ready` | first `pulse_width` (40 ms) of ready_set | 1 |
    | `set` | first `pulse_width` of production | 1 |
    | `gain` | the whole trial | g |

    Inputs carry white noise (sigma 0.01 at tau_in 100 ms, per-step sd sqrt(2 tau_in/dt) sigma),
    no baseline, and are not rectified.

    ## Outputs and actions
    Output `ramp`: 0 before Set; from Set, (t - Set) / (g·t_s), which reaches 1 exactly at the
    target time and keeps rising to `production_factor` (1.5) at the end of the trial, so its
    first crossing of 1 is unambiguous. The mask is 1 on the whole trial. The produced interval
    of a network is the time from Set to the first step where `ramp` >= 1.
    Actions: `Discrete(2)`: 0 wait, 1 go. `gt` is 1 on the on-time step only.

    ## Periods
    fixation uniform on [300, 700) ms (so Ready cannot be anticipated); ready_set t_s;
    production from Set to `production_factor`·g·t_s (1.5x the target). Catch trials (none by
    default): `catch_duration` of fixation, ramp 0, no pulses; any go aborts.

    ## Rewards
    A go before Set aborts the trial (-0.1). The first go after Set ends the trial with reward
    max(0, 1 - |produced - target| / (tolerance·target)): 1 exactly on time, falling linearly to
    0 at 20 % early or late, 0 beyond. No go by the end of the production window earns 0.
    produced = (go step - Set step)·dt.

    ## Criterion
    Mean percent correct over the last 5 validations > 90 %, a trial being correct when
    |produced - g·t_s| <= tolerance·g·t_s (tolerance 0.2). Validation covers intervals x gains.

    ## Arguments
    `dt` (20 ms), `intervals` (480, 560, 640, 720, 800 ms), `gains` (1, 1.5), `fixation`
    (("uniform", 300, 700) ms), `pulse_width` (40 ms; at least one step), `production_factor`
    (1.5; must exceed 1 + tolerance), `tolerance` (0.2, relative), `catch_prob` (0),
    `catch_duration` (2000), `input_noise` (0.01), `tau_in` (100), `input_baseline` (0).
    Targets are placed on the nearest step to g·t_s, so with a `dt` that does not divide g·t_s a
    perfect agent is off by up to dt/2. Trial parameters: `interval` (t_s; forced: longer than
    `pulse_width` and than half a step), `gain` (forced: in (0, max(1, gains)], the range of the
    gain input), `target_interval` (g·t_s, derived: force `interval` and `gain`).

    Every task also takes `max_trial_steps` (10,000) and `max_batch_bytes` (4 GiB), the limits the
    base class checks (see `neurotasks.Task`).

    ## Reference
    Jazayeri & Shadlen (2010) Nat Neurosci 13: 1020; Remington, Narain, Hosseini & Jazayeri
    (2018) Neuron 98: 1005.

    ## Version history
    v0: first version.
    """

    id = "ReadySetGo-v0"
    summary = "Measure the Ready-Set interval and produce it times a gain (Jazayeri & Shadlen 2010; Remington 2018)"
    reference = "Jazayeri & Shadlen 2010; Remington et al. 2018"
    period_names = ("fixation", "ready_set", "production")
    input_names = ("ready", "set", "gain")
    derived_params = {"target_interval": "it is gain x interval; force interval and gain instead"}

    def __init__(self, *, dt: float = 20.0, intervals: Sequence[float] = READY_SET_GO_INTERVALS,
                 gains: Sequence[float] = READY_SET_GO_GAINS, fixation: float | Duration = READY_SET_GO_FIXATION,
                 pulse_width: float = 40.0, production_factor: float = 1.5, tolerance: float = 0.2,
                 catch_prob: float = 0.0, catch_duration: float = 2000.0, input_noise: float = 0.01,
                 tau_in: float = 100.0, input_baseline: float = 0.0, max_trial_steps: int = MAX_TRIAL_STEPS,
                 max_batch_bytes: int = MAX_BATCH_BYTES) -> None:
        super().__init__(dt=dt, intervals=intervals, pulse_width=pulse_width, production_factor=production_factor,
                         tolerance=tolerance, catch_prob=catch_prob, catch_duration=catch_duration,
                         input_noise=input_noise, tau_in=tau_in, input_baseline=input_baseline,
                         max_trial_steps=max_trial_steps, max_batch_bytes=max_batch_bytes)
        self.gains = check_values(gains, "gains", 0.0, _FLOAT32_MAX, low_inclusive=False, distinct=True)
        self.fixation = self.declare_period("fixation", fixation, "fixation")
        self.signal_range = (0.0, max(1.0, float(self.gains.max())))
        self.period_timing["ready_set"] = PeriodTiming("intervals", Choice(tuple(self.intervals)))
        targets = (self.intervals[:, None] * self.gains[None, :]).ravel()
        self.period_timing["production"] = self.production_timing(targets, "intervals, gains and production_factor")

    def param_domains(self):
        # A forced interval must outlast the Ready pulse and last a step; a forced gain must fit the
        # gain input's range (the largest of 1 and the gains), which the observation space bounds.
        shortest = max(self.pulse_width, self.dt / 2)
        return {**super().param_domains(),
                "interval": Reals(shortest, low_open=True, what=f"ms, longer than the {self.pulse_width:g} ms "
                                                                f"Ready pulse and than half a step"),
                "gain": Reals(0.0, self.signal_range[1], low_open=True)}

    def sample_params(self, n, rng):
        return {
            "ground_truth": np.zeros(n, dtype=np.int64),
            "interval": self.intervals[rng.integers(0, len(self.intervals), size=n)],
            "gain": self.gains[rng.integers(0, len(self.gains), size=n)],
        }

    def sample_durations(self, params, rng):
        n = len(params["catch"])
        return {"fixation": self.fixation.sample(n, rng), "ready_set": params["interval"],
                "production": self.production_duration(params)}

    def conditions(self):
        interval, gain = np.meshgrid(self.intervals, self.gains, indexing="ij")
        return {"interval": interval.ravel(), "gain": gain.ravel()}

    def fill(self, tr):
        # Runs: fixation, Ready pulse, rest of ready_set, Set pulse, rest of production; gain throughout.
        values = np.zeros((tr.n, 5, 3), dtype=np.float32)
        values[:, 1, tr.channel("ready")] = 1.0
        values[:, 3, tr.channel("set")] = 1.0
        values[:, :, tr.channel("gain")] = tr.params["gain"][:, None]
        bounds = [np.zeros(tr.n, np.int64), tr.onset("ready_set"), self.pulse_end(tr, "ready_set"),
                  tr.onset("production"), self.pulse_end(tr, "production")]
        self.lay_out_inputs(tr, bounds, values)
        self.write_production(tr)


class CueSetGo(_IntervalTimingTask):
    """A cue says which interval to produce; produce it after Set.

    ## Description
    The Cue-Set-Go task of Wang, Narain, Hosseini & Jazayeri (2018). A cue, on from the start of
    the trial, tells which of two intervals (800 or 1500 ms) to produce; after a random delay a
    Set pulse arrives, and the agent must go that interval after Set. Wang et al. found that
    cortical (and trained-RNN) responses stretch in time with the interval: temporal scaling.

    ## Inputs
    | channel | during | value |
    |---|---|---|
    | `cue_<interval>` (one per interval: `cue_800`, `cue_1500`) | the whole trial | 1 if that interval is cued |
    | `set` | first `pulse_width` (40 ms) of production | 1 |

    Inputs carry white noise (sigma 0.01 at tau_in 100 ms), no baseline, not rectified.

    ## Outputs and actions
    Output `ramp`: 0 before Set; from Set, (t - Set) / interval, reaching 1 exactly at the
    target time and rising on to `production_factor` (1.5) at the end; mask 1 on the whole
    trial. Produced interval = time from Set to the first step where `ramp` >= 1.
    Actions: `Discrete(2)`: 0 wait, 1 go; `gt` is 1 on the on-time step only.

    ## Periods
    cue uniform on [500, 1000) ms (cue on, before Set); production from Set to
    `production_factor` times the interval. Catch trials (none by default): `catch_duration`
    of cue, no Set; any go aborts.

    ## Rewards
    A go before Set aborts (-0.1); the first go after Set ends the trial with reward
    max(0, 1 - |produced - interval| / (tolerance·interval)), 0 beyond the tolerance; no go
    earns 0.

    ## Criterion
    Mean percent correct over the last 5 validations > 90 %, correct meaning
    |produced - interval| <= tolerance·interval (tolerance 0.2). Validation covers the intervals.
    Trial parameters: `interval` (one of `intervals`), `target_interval` (derived: the interval).

    ## Arguments
    `dt` (20 ms), `intervals` (800, 1500 ms), `cue_duration` (("uniform", 500, 1000) ms),
    `pulse_width` (40 ms; shorter than the shortest interval), `production_factor` (1.5),
    `tolerance` (0.2), `catch_prob` (0), `catch_duration` (2000), `input_noise` (0.01), `tau_in`
    (100), `input_baseline` (0).

    Every task also takes `max_trial_steps` (10,000) and `max_batch_bytes` (4 GiB), the limits the
    base class checks (see `neurotasks.Task`).

    ## Reference
    Wang, Narain, Hosseini & Jazayeri (2018) Nat Neurosci 21: 102.

    ## Version history
    v0: first version.
    """

    id = "CueSetGo-v0"
    summary = "Produce the cued interval (800 or 1500 ms) after Set (Wang, Narain et al. 2018)"
    reference = "Wang, Narain et al. 2018"
    period_names = ("cue", "production")
    derived_params = {"target_interval": "it is the cued interval; force interval instead"}

    def __init__(self, *, dt: float = 20.0, intervals: Sequence[float] = CUE_SET_GO_INTERVALS,
                 cue_duration: float | Duration = CUE_SET_GO_CUE_DURATION, pulse_width: float = 40.0,
                 production_factor: float = 1.5, tolerance: float = 0.2, catch_prob: float = 0.0,
                 catch_duration: float = 2000.0, input_noise: float = 0.01, tau_in: float = 100.0,
                 input_baseline: float = 0.0, max_trial_steps: int = MAX_TRIAL_STEPS,
                 max_batch_bytes: int = MAX_BATCH_BYTES) -> None:
        super().__init__(dt=dt, intervals=intervals, pulse_width=pulse_width, production_factor=production_factor,
                         tolerance=tolerance, catch_prob=catch_prob, catch_duration=catch_duration,
                         input_noise=input_noise, tau_in=tau_in, input_baseline=input_baseline,
                         max_trial_steps=max_trial_steps, max_batch_bytes=max_batch_bytes)
        self.cue_duration = self.declare_period("cue", cue_duration, "cue_duration")
        if len(self.intervals) > MAX_CHANNELS:
            raise ValueError(f"intervals must hold at most {MAX_CHANNELS} intervals (one cue input each), "
                             f"got {len(self.intervals)}")
        self.input_names = (*(f"cue_{v:g}" for v in self.intervals), "set")
        if len(set(self.input_names)) < len(self.input_names):
            raise ValueError(f"intervals must differ in their ms shown to 6 digits (each names a cue input), "
                             f"got {intervals!r}")
        self.signal_range = (0.0, 1.0)
        self.period_timing["production"] = self.production_timing(self.intervals, "intervals and production_factor")

    def sample_params(self, n, rng):
        return {
            "ground_truth": np.zeros(n, dtype=np.int64),
            "interval": self.intervals[rng.integers(0, len(self.intervals), size=n)],
        }

    def param_domains(self):
        return {**super().param_domains(), "interval": Values(self.intervals, float, what="the cued intervals, ms")}

    def sample_durations(self, params, rng):
        n = len(params["catch"])
        return {"cue": self.cue_duration.sample(n, rng), "production": self.production_duration(params)}

    def conditions(self):
        return {"interval": self.intervals.copy()}

    def fill(self, tr):
        # Runs: cue alone, Set pulse, rest of production; the cue throughout.
        values = np.zeros((tr.n, 3, len(self.input_names)), dtype=np.float32)
        values[:, :, :len(self.intervals)] = (tr.params["interval"][:, None] == self.intervals[None, :])[:, None, :]
        values[:, 1, tr.channel("set")] = 1.0
        bounds = [np.zeros(tr.n, np.int64), tr.onset("production"), self.pulse_end(tr, "production")]
        self.lay_out_inputs(tr, bounds, values)
        self.write_production(tr)
