"""Tone in noise: report whether, and when, a brief tone was embedded in a noisy sound."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from neurotasks.domains import Values
from neurotasks.rules import ChoiceRule
from neurotasks.task import MAX_BATCH_BYTES, MAX_TRIAL_STEPS, check_milliseconds, check_number, check_values
from neurotasks.tasks.decision import DecisionTask
from neurotasks.timing import Duration

#: NeuroGym's tone onsets (ms from the start of the sound).
TONE_ONSETS = (500.0, 1000.0, 1500.0)
#: NeuroGym's noise, sigma / sqrt(dt) per step with sigma = 0.2, is sqrt(2 tau_in / dt) * 0.2 / sqrt(2 tau_in)
#: in this suite's convention: the same per-step noise at every dt.
NEUROGYM_SIGMA = 0.2 / np.sqrt(2.0 * 100.0)


class ToneDetection(DecisionTask):
    """Report whether a 50 ms tone was embedded in 2 s of noise, and at which of three times.

    ## Description
    NeuroGym's ToneDetection (by Ru-Yuan Zhang), a human auditory detection task: a 2 s noisy
    sound carries, on three trials in four, a 50 ms tone starting at 500, 1000 or 1500 ms; after
    the sound the agent reports "no tone" or the tone's position (four choices, equally likely).
    NeuroGym cites Costalupes (1985) for the representation of tones in noise by auditory-nerve
    fibres; the task itself is NeuroGym's.

    ## Inputs
    | channel | during | value |
    |---|---|---|
    | `fixation` | stimulus | 1 (its offset asks for the report) |
    | `sound` | stimulus | `tone_strength` (1) during the tone, else 0 |

    Every input also carries a 0.2 baseline and white noise of per-step sd sqrt(2 tau_in/dt)
    sigma, sigma = 0.2 / sqrt(200) = 0.0141 at tau_in 100 ms (NeuroGym's 0.2 / sqrt(dt) per step,
    at any dt), and is rectified.

    ## Outputs and actions
    Outputs `no_tone`, `tone_1`, `tone_2`, `tone_3`: 0.2 during the sound; 1.0 on the correct one
    and 0.2 on the others in the decision period. Actions: `Discrete(5)`: 0 fixate, then the four
    reports.

    ## Periods
    stimulus 2000 ms; decision 300 ms.

    ## Rewards
    Reporting during the sound aborts (-0.1); the first report in the decision period ends the
    trial: +1 if correct, 0 if wrong; no report earns 0.

    ## Criterion
    Mean percent correct of the last 5 validations > 85 %; choice from outputs: the largest output
    at the last step of the decision period.

    ## Departures from NeuroGym
    NeuroGym's version has no report period and no rewards (its ground truth is the answer at every
    step of the sound, before the tone has even come): here the report follows the sound, cued by
    a fixation input, as a listener answers after the sound, and is rewarded like every choice
    task here. Default dt 10 ms (NeuroGym 50) so that the tone lasts 5 steps.

    ## Arguments
    `dt` (10 ms), `stimulus_duration` (2000 ms), `tone_onsets` (500, 1000, 1500 ms), `tone_duration`
    (50 ms; every tone must end within the sound), `tone_strength` (1), `decision` (300),
    `catch_prob` (0), `catch_duration` (2000), `input_noise` (0.0141), `tau_in` (100),
    `input_baseline` (0.2). Trial parameter: `ground_truth` (0 no tone, k the k-th onset).

    Every task also takes `max_trial_steps` (10,000) and `max_batch_bytes` (4 GiB), the limits the
    base class checks (see `neurotasks.Task`).

    ## Reference
    NeuroGym 2.3.1 `ToneDetection`; Costalupes (1985) J Neurosci 5: 3261.

    ## Version history
    v0: first version.
    """

    id = "ToneDetection-v0"
    summary = "Detect a 50 ms tone in 2 s of noise and report when it came (NeuroGym ToneDetection)"
    reference = "NeuroGym ToneDetection (R.-Y. Zhang); Costalupes 1985"
    tags = ("decision", "auditory", "detection", "neurogym")
    period_names = ("stimulus", "decision")
    input_names = ("fixation", "sound")

    def __init__(self, *, dt: float = 10.0, stimulus_duration: float = 2000.0,
                 tone_onsets: Sequence[float] = TONE_ONSETS, tone_duration: float = 50.0, tone_strength: float = 1.0,
                 decision: float | Duration = 300.0, catch_prob: float = 0.0, catch_duration: float = 2000.0,
                 input_noise: float = NEUROGYM_SIGMA, tau_in: float = 100.0, input_baseline: float = 0.2,
                 max_trial_steps: int = MAX_TRIAL_STEPS, max_batch_bytes: int = MAX_BATCH_BYTES) -> None:
        self.tone_onsets = check_values(tone_onsets, "tone_onsets", 0.0, distinct=True)
        self.output_names = ("no_tone", *(f"tone_{k + 1}" for k in range(len(self.tone_onsets))))
        super().__init__(dt=dt, catch_prob=catch_prob, catch_duration=catch_duration, input_noise=input_noise,
                         tau_in=tau_in, input_baseline=input_baseline, max_trial_steps=max_trial_steps,
                         max_batch_bytes=max_batch_bytes)
        sound = check_milliseconds(stimulus_duration, "stimulus_duration")
        self.tone_duration = check_milliseconds(tone_duration, "tone_duration")
        if round(self.tone_duration / self.dt) < 1:
            raise ValueError(f"tone_duration ({self.tone_duration:g} ms) is 0 steps at dt={self.dt:g} ms; "
                             "make it at least one step or use a smaller dt")
        if self.tone_onsets.max() + self.tone_duration > sound:
            raise ValueError(f"tone_onsets must let every tone of tone_duration={self.tone_duration:g} ms end within "
                             f"the sound (stimulus_duration={sound:g} ms), got {tone_onsets!r}")
        self.tone_strength = check_number(tone_strength, "tone_strength")
        if self.tone_strength <= 0:
            raise ValueError(f"tone_strength must be > 0, got {tone_strength!r}")
        self.signal_range = (0.0, max(1.0, self.tone_strength))
        self.rule = ChoiceRule(response_period="decision", rt_period="decision")
        self.durations = {"stimulus": self.declare_period("stimulus", sound, "stimulus_duration"),
                          "decision": self.declare_period("decision", decision, "decision")}

    def sample_params(self, n, rng):
        return {"ground_truth": rng.integers(0, len(self.output_names), size=n)}

    def param_domains(self):
        return {**super().param_domains(),
                "ground_truth": Values(range(len(self.output_names)), what="0: no tone, k: the tone at the k-th onset")}

    def conditions(self):
        return {"ground_truth": np.arange(len(self.output_names))}

    def fill(self, tr):
        tr.per_period({"stimulus": np.array([1.0, 0.0], np.float32)}, out=tr.inputs)
        gt = tr.params["ground_truth"]
        onset = tr.steps(np.r_[0.0, self.tone_onsets][gt])          # steps from the start of the sound
        tone = (tr.t[None, :] >= onset[:, None]) & (tr.t[None, :] < onset[:, None] + tr.steps(self.tone_duration))
        tone &= ((gt > 0) & ~tr.params["catch"])[:, None] & tr.during("stimulus")
        tr.inputs[:, :, 1] = np.where(tone, np.float32(self.tone_strength), np.float32(0.0))
        self.write_choice_targets(tr, fixation=("stimulus",))
