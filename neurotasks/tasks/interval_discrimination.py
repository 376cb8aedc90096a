"""Interval discrimination: which of two successive stimuli lasted longer."""

from __future__ import annotations

import numpy as np

from neurotasks.criterion import Criterion
from neurotasks.domains import Reals
from neurotasks.rules import ChoiceRule
from neurotasks.task import MAX_BATCH_BYTES, MAX_TRIAL_STEPS
from neurotasks.tasks.decision import DecisionTask
from neurotasks.timing import Duration, Uniform

#: NeuroGym's stimulus durations (ms): uniform on [300, 600).
STIMULUS_DURATION = Uniform(300.0, 600.0)
#: NeuroGym's delay between the stimuli (ms): uniform on [800, 1500).
DELAY_1 = Uniform(800.0, 1500.0)


class IntervalDiscrimination(DecisionTask):
    """Compare the durations of two stimuli shown one after the other, across a delay.

    ## Description
    The duration-discrimination task of Genovesio, Tsujimoto & Wise (2009), NeuroGym's
    IntervalDiscrimination. Two stimuli are shown in succession, separated by a delay; each lasts a
    random time. After a second delay the agent reports which one lasted longer. The first
    duration must be held in memory, measured against the second as it unfolds.

    ## Inputs
    | channel | during | value |
    |---|---|---|
    | `fixation` | every period but decision | 1 |
    | `stimulus_1` | stim1 | 1 |
    | `stimulus_2` | stim2 | 1 |

    Every input also carries a 0.2 baseline and white noise (sigma 0.01 at tau_in 100 ms), and is
    rectified.

    ## Outputs and actions
    Outputs `first_longer`, `second_longer`: 0.2 before the decision period; 1.0 on the correct
    one and 0.2 on the other in the decision period; mask 1 throughout. Actions: `Discrete(3)`:
    0 fixate, 1 "first longer", 2 "second longer".

    ## Periods
    fixation 300 ms; stim1 `duration_1`; delay1 uniform on [800, 1500) ms; stim2 `duration_2`;
    delay2 500 ms; decision 300 ms. `duration_1` and `duration_2` are drawn uniform on
    [300, 600) ms and rounded to whole steps, and never equal: where they round to the same step
    count, the second is moved one step away, up or down with equal chance (so neither answer is
    favoured; inward at the ends of the range).

    ## Rewards
    Responding before the decision period aborts (-0.1); the first choice in it ends the trial:
    +1 if correct, 0 if wrong; no choice earns 0.

    ## Criterion
    Mean percent correct of the last 5 validations > 80 % (the hardest trials differ by one step,
    20 ms in ~450: monkeys too fall short of perfect on them). Choice from outputs: the larger
    output at the last step of the decision period. No condition grid (durations are continuous).

    ## Departures from NeuroGym
    NeuroGym makes ties (equal durations after rounding) "second longer"; here there are none.
    The output is constrained (low) through the stimuli and delays, where NeuroGym's ground truth
    is fixation. The timing is NeuroGym's; Genovesio et al. used two different visual stimuli in
    either order and a choice between them, and longer durations (the numbers here are not
    checked against the paper).

    ## Arguments
    `dt` (20 ms), `fixation` (300), `stimulus_duration` (("uniform", 300, 600): the distribution
    both durations are drawn from), `delay1` (("uniform", 800, 1500)), `delay2` (500), `decision`
    (300), `catch_prob` (0), `catch_duration` (2000), `input_noise` (0.01), `tau_in` (100),
    `input_baseline` (0.2). Trial parameters: `duration_1`, `duration_2` (ms, forced within the
    `stimulus_duration` range; both forced equal once rounded is refused, one forced alone moves the
    drawn other a step away where they would tie); `ground_truth` (derived: 0 if the first is longer).

    Every task also takes `max_trial_steps` (10,000) and `max_batch_bytes` (4 GiB), the limits the
    base class checks (see `neurotasks.Task`).

    ## Reference
    Genovesio, Tsujimoto & Wise (2009) Neuron 63: 254; NeuroGym 2.3.1 `IntervalDiscrimination`.

    ## Version history
    v0: first version.
    """

    id = "IntervalDiscrimination-v0"
    summary = "Which of two successive stimuli lasted longer? (Genovesio et al. 2009; NeuroGym)"
    reference = "Genovesio, Tsujimoto & Wise 2009; NeuroGym IntervalDiscrimination"
    tags = ("timing", "working memory", "decision", "neurogym")
    period_names = ("fixation", "stim1", "delay1", "stim2", "delay2", "decision")
    input_names = ("fixation", "stimulus_1", "stimulus_2")
    output_names = ("first_longer", "second_longer")
    criterion = Criterion("percent_correct", ">", 80.0, window=5)
    derived_params = {"ground_truth": "it is 0 if duration_1 > duration_2, else 1; force the durations instead"}

    def __init__(self, *, dt: float = 20.0, fixation: float | Duration = 300.0,
                 stimulus_duration: float | Duration = STIMULUS_DURATION,
                 delay1: float | Duration = DELAY_1, delay2: float | Duration = 500.0,
                 decision: float | Duration = 300.0, catch_prob: float = 0.0, catch_duration: float = 2000.0,
                 input_noise: float = 0.01, tau_in: float = 100.0, input_baseline: float = 0.2,
                 max_trial_steps: int = MAX_TRIAL_STEPS, max_batch_bytes: int = MAX_BATCH_BYTES) -> None:
        super().__init__(dt=dt, catch_prob=catch_prob, catch_duration=catch_duration, input_noise=input_noise,
                         tau_in=tau_in, input_baseline=input_baseline, max_trial_steps=max_trial_steps,
                         max_batch_bytes=max_batch_bytes)
        self.stimulus_duration = self.declare_period("stim1", stimulus_duration, "stimulus_duration")
        low, high = (round(x / self.dt) for x in (self.stimulus_duration.min, self.stimulus_duration.max))
        if high <= low:
            raise ValueError(f"stimulus_duration must span at least two step counts at dt={self.dt:g} ms (two "
                             f"durations must differ), got {stimulus_duration!r}")
        self._steps = (low, high)
        self.period_timing["stim2"] = self.period_timing["stim1"]        # a tie is moved inside the range
        self.rule = ChoiceRule(response_period="decision", rt_period="decision")
        self.durations = {"fixation": self.declare_period("fixation", fixation, "fixation"),
                          "delay1": self.declare_period("delay1", delay1, "delay1"),
                          "delay2": self.declare_period("delay2", delay2, "delay2"),
                          "decision": self.declare_period("decision", decision, "decision")}

    def sample_params(self, n, rng):
        first, second = (np.rint(self.stimulus_duration.sample(n, rng) / self.dt) * self.dt for _ in range(2))
        up = rng.random(n) < 0.5                # ties broken either way, so neither answer is favoured
        return {"duration_1": first, "duration_2": self.untie(first, second, up)}

    def untie(self, kept: np.ndarray, moved: np.ndarray, up: np.ndarray | bool = True) -> np.ndarray:
        """``moved`` (ms), with the trials where it rounds to the steps of ``kept`` one step away from it:
        up where ``up``, else down (the other way at the ends of the range)."""
        kept_steps, steps = np.rint(kept / self.dt), np.rint(moved / self.dt)
        low, high = self._steps
        step = np.where(up, 1, -1)
        step = np.where(kept_steps + step > high, -1, np.where(kept_steps + step < low, 1, step))
        return np.where(kept_steps == steps, (kept_steps + step) * self.dt, moved)

    def derive_params(self, params):
        return {**params, "ground_truth": np.where(params["duration_1"] > params["duration_2"], 0, 1).astype(np.int64)}

    def param_domains(self):
        span = Reals(self.stimulus_duration.min, self.stimulus_duration.max, what="ms")
        return {**super().param_domains(), "duration_1": span, "duration_2": span}

    def impose(self, params, forced):
        # A duration forced alone keeps the other as drawn, moved a step away where they would tie.
        super().impose(params, forced)
        if "duration_1" in forced and "duration_2" not in forced:
            params["duration_2"] = self.untie(params["duration_1"], params["duration_2"])
        elif "duration_2" in forced and "duration_1" not in forced:
            params["duration_1"] = self.untie(params["duration_2"], params["duration_1"])
        same = np.rint(params["duration_1"] / self.dt) == np.rint(params["duration_2"] / self.dt)
        if same.any():
            raise ValueError(f"forced parameters duration_1 and duration_2 must differ by at least a step "
                             f"(dt={self.dt:g} ms) on every trial, but they round to the same steps on "
                             f"{int(same.sum())} trial(s)")

    def sample_durations(self, params, rng):
        drawn = {name: duration.sample(len(params["catch"]), rng) for name, duration in self.durations.items()}
        return {**drawn, "stim1": params["duration_1"], "stim2": params["duration_2"]}

    def fill(self, tr):
        response = self.period_names.index("decision")
        table = tr.period_table(3)
        table[:, :response, 0] = 1.0
        table[:, self.period_names.index("stim1"), 1] = 1.0
        table[:, self.period_names.index("stim2"), 2] = 1.0
        tr.lay_out(table, tr.table_rows, tr.inputs)
        self.write_choice_targets(tr, fixation=self.period_names[:response])
