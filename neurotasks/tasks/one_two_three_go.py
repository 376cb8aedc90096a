"""1-2-3-Go (Egger et al. 2019): measure an interval twice, then produce it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from neurotasks.domains import Values
from neurotasks.task import MAX_BATCH_BYTES, MAX_TRIAL_STEPS, Trials
from neurotasks.tasks.interval_timing import _IntervalTimingTask
from neurotasks.timing import Choice, Duration, PeriodTiming, TruncatedExponential

#: NeuroGym's sample intervals (ms), spanning Egger et al.'s prior of 600 to 1000 ms.
INTERVALS = (600.0, 700.0, 800.0, 900.0, 1000.0)
#: NeuroGym's fixation before the first flash: a truncated exponential (mean 400 ms on [100, 800)).
FIXATION = TruncatedExponential(400.0, 100.0, 800.0)


class OneTwoThreeGo(_IntervalTimingTask):
    """Three flashes, t_s apart, mark the interval twice; go t_s after the third.

    ## Description
    The 1-2-3-Go task of Egger, Remington, Chang & Jazayeri (2019), NeuroGym's OneTwoThreeGo.
    Three identical brief flashes ("1", "2", "3") are separated by the same sample interval t_s;
    the agent must respond ("go") t_s after the third flash. Two measurements of t_s let an
    observer integrate them (Egger et al. compared it with Ready-Set-Go, which gives one).
    Shares the production phase, ramp target and timing rule of `ReadySetGo-v0` (the flash "3"
    is its Set).

    ## Inputs
    | channel | during | value |
    |---|---|---|
    | `flash` | the first `pulse_width` (100 ms) of interval_1, interval_2 and production | 1 |

    The input carries white noise (sigma 0.01 at tau_in 100 ms, per-step sd sqrt(2 tau_in/dt)
    sigma), no baseline, and is not rectified.

    ## Outputs and actions
    Output `ramp`: 0 before the third flash; from it, (t - flash 3) / t_s, reaching 1 at the
    target time and rising to `production_factor` (1.5) at the end; mask 1 throughout. Produced
    interval = time from the third flash to the first step where `ramp` >= 1. Actions:
    `Discrete(2)`: 0 wait, 1 go; `gt` is 1 on the on-time step only.

    ## Periods
    fixation truncated exponential (mean 400 ms on [100, 800)); interval_1 and interval_2 t_s
    each (flash onset to flash onset); production from the third flash to `production_factor`
    times t_s. Catch trials (none by default): `catch_duration` of fixation, no flashes.

    ## Rewards
    A go before the third flash aborts (-0.1); the first go after it ends the trial with reward
    max(0, 1 - |produced - t_s| / (tolerance t_s)); no go earns 0.

    ## Criterion
    Mean percent correct of the last 5 validations > 90 %, a trial being correct when
    |produced - t_s| <= 0.2 t_s. Validation covers the intervals.

    ## Departures from NeuroGym
    NeuroGym places each interval between one flash's end and the next one's start and measures
    the production from the third flash's end; here, as in the paper's description, flashes are
    t_s apart onset to onset and the production runs from the third onset. NeuroGym's reward
    window is 0.2 t_s + 25 ms with reward (1 - error / window)^1.5 (at least 0.1); here it is this
    suite's linear timing reward within 0.2 t_s. NeuroGym's peripheral target period (no input
    but a target light) is left out: there is no spatial choice to make.

    ## Arguments
    `dt` (20 ms), `intervals` (600, 700, 800, 900, 1000 ms), `fixation` (see Periods),
    `pulse_width` (100 ms; shorter than the shortest interval), `production_factor` (1.5),
    `tolerance` (0.2), `catch_prob` (0), `catch_duration` (2000), `input_noise` (0.01), `tau_in`
    (100), `input_baseline` (0). Trial parameters: `interval` (t_s), `target_interval` (derived).

    Every task also takes `max_trial_steps` (10,000) and `max_batch_bytes` (4 GiB), the limits the
    base class checks (see `neurotasks.Task`).

    ## Reference
    Egger, Remington, Chang & Jazayeri (2019) Nat Neurosci 22: 1871; NeuroGym 2.3.1 `OneTwoThreeGo`.

    ## Version history
    v0: first version.
    """

    id = "OneTwoThreeGo-v0"
    summary = "Three flashes t_s apart; go t_s after the third (Egger et al. 2019; NeuroGym OneTwoThreeGo)"
    reference = "Egger et al. 2019; NeuroGym OneTwoThreeGo"
    tags = ("timing", "paper", "neurogym")
    period_names = ("fixation", "interval_1", "interval_2", "production")
    input_names = ("flash",)
    derived_params = {"target_interval": "it is the interval; force interval instead"}

    def __init__(self, *, dt: float = 20.0, intervals: Sequence[float] = INTERVALS,
                 fixation: float | Duration = FIXATION, pulse_width: float = 100.0, production_factor: float = 1.5,
                 tolerance: float = 0.2, catch_prob: float = 0.0, catch_duration: float = 2000.0,
                 input_noise: float = 0.01, tau_in: float = 100.0, input_baseline: float = 0.0,
                 max_trial_steps: int = MAX_TRIAL_STEPS, max_batch_bytes: int = MAX_BATCH_BYTES) -> None:
        super().__init__(dt=dt, intervals=intervals, pulse_width=pulse_width, production_factor=production_factor,
                         tolerance=tolerance, catch_prob=catch_prob, catch_duration=catch_duration,
                         input_noise=input_noise, tau_in=tau_in, input_baseline=input_baseline,
                         max_trial_steps=max_trial_steps, max_batch_bytes=max_batch_bytes)
        self.fixation = self.declare_period("fixation", fixation, "fixation")
        for period in ("interval_1", "interval_2"):
            self.period_timing[period] = PeriodTiming("intervals", Choice(tuple(self.intervals)))
        self.period_timing["production"] = self.production_timing(self.intervals, "intervals and production_factor")

    def sample_params(self, n, rng):
        return {"ground_truth": np.zeros(n, dtype=np.int64),
                "interval": self.intervals[rng.integers(0, len(self.intervals), size=n)]}

    def param_domains(self):
        return {**super().param_domains(), "interval": Values(self.intervals, float, what="the sample intervals, ms")}

    def sample_durations(self, params, rng):
        n = len(params["catch"])
        return {"fixation": self.fixation.sample(n, rng), "interval_1": params["interval"],
                "interval_2": params["interval"], "production": self.production_duration(params)}

    def conditions(self):
        return {"interval": self.intervals.copy()}

    def fill(self, tr: Trials) -> None:
        # Runs: fixation, then (flash, rest of the period) for each of the three flashed periods.
        values = np.zeros((tr.n, 7, 1), dtype=np.float32)
        values[:, [1, 3, 5]] = 1.0
        bounds = [np.zeros(tr.n, np.int64)]
        for period in ("interval_1", "interval_2", "production"):
            bounds += [tr.onset(period), self.pulse_end(tr, period)]
        self.lay_out_inputs(tr, bounds, values)
        self.write_production(tr)
