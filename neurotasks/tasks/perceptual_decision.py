"""Random-dot motion discrimination: the perceptual-decision family of Song, Yang & Wang (2016)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from neurotasks.domains import Reals
from neurotasks.rules import ChoiceRule
from neurotasks.task import MAX_BATCH_BYTES, MAX_TRIAL_STEPS, Trials, check_milliseconds, check_number, check_values
from neurotasks.tasks.decision import DecisionTask
from neurotasks.timing import Duration, TruncatedExponential

#: The paper's training coherences (pycog: [1, 2, 4, 8, 16] x 3.2 %).
COHERENCES = (3.2, 6.4, 12.8, 25.6, 51.2)


def evidence(coherence: np.ndarray, ground_truth: np.ndarray) -> np.ndarray:
    """(B, 2) stimulus input values: (1 + c/100)/2 on the correct channel, (1 - c/100)/2 on the other."""
    c = np.asarray(coherence, dtype=np.float64) / 100.0
    toward_first = np.where(np.asarray(ground_truth) == 0, 1.0, -1.0)
    return np.stack([(1 + toward_first * c) / 2, (1 - toward_first * c) / 2], axis=1).astype(np.float32)


class _TwoAlternativeMotion(DecisionTask):
    """Shared by the fixed/variable-duration and reaction-time versions."""

    output_names = ("choice_1", "choice_2")
    tags: tuple[str, ...] = ("decision", "evidence integration", "paper")
    suggested_network = {"n_units": 100, "excitatory_fraction": 0.8}

    def __init__(self, *, coherences: Sequence[float] = COHERENCES, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.coherences = check_values(coherences, "coherences", 0.0, 100.0)

    def sample_params(self, n, rng):
        return {
            "ground_truth": rng.integers(0, 2, size=n),
            "coherence": self.coherences[rng.integers(0, len(self.coherences), size=n)],   # = rng.choice, faster
        }

    def param_domains(self):
        return {**super().param_domains(), "ground_truth": self.choice_domain(),
                "coherence": Reals(0.0, 100.0, what="%")}

    def conditions(self):
        coh, gt = np.meshgrid(self.coherences, [0, 1], indexing="ij")
        return {"coherence": coh.ravel(), "ground_truth": gt.ravel()}

    def write_stimulus(self, tr: Trials, cue: bool = True) -> None:
        """Evidence (and the start cue) on during the stimulus period."""
        values = evidence(tr.params["coherence"], tr.params["ground_truth"])
        if cue:
            values = np.concatenate([values, np.ones((tr.n, 1), np.float32)], axis=1)
        tr.per_period({"stimulus": values}, out=tr.inputs)


class PerceptualDecision(_TwoAlternativeMotion):
    """Two-alternative forced choice on noisy evidence, with a variable stimulus duration.

    ## Description
    A random-dot motion discrimination (Roitman & Shadlen 2002) as trained in Song, Yang &
    Wang (2016), Fig. 2A ("VS"). Two noisy inputs carry evidence for each choice; the
    difference between them is the signed coherence. The agent fixates, integrates the
    evidence while the stimulus is on, and reports which input was larger in the decision
    period. The stimulus duration is drawn from a truncated exponential so the end of the
    stimulus cannot be anticipated.

    ## Inputs
    | channel | during | value |
    |---|---|---|
    | `stimulus_1` | stimulus | (1 + c/100)/2 if choice 1 is correct, else (1 - c/100)/2 |
    | `stimulus_2` | stimulus | the complement |
    | `start_cue` | stimulus | 1 (absent when `stimulus="fixed"`) |

    Every input also carries a 0.2 baseline and white noise (sigma 0.01 at tau_in 100 ms, per-step
    sd sqrt(2 tau_in/dt) sigma), and is rectified.

    ## Outputs and actions
    Outputs `choice_1`, `choice_2`: 0.2 during fixation; 1.0 on the correct one and 0.2 on the
    other during the decision period; unconstrained during the stimulus.
    Actions: `Discrete(3)`: 0 fixate, 1 choose 1, 2 choose 2.

    ## Periods
    fixation 100 ms; stimulus truncated exponential (scale 330 ms on [80, 1500) ms), or 800 ms
    when `stimulus="fixed"`; decision 300 ms. Catch trials (1/11): 2000 ms of fixation, outputs
    0.2 throughout, mask 1 everywhere, excluded from performance.

    ## Rewards
    Breaking fixation before the decision period aborts the trial (-0.1); the first choice in
    the decision period ends the trial: +1 if correct, 0 if wrong; no choice earns 0.

    ## Criterion
    Mean percent correct (non-catch trials) of the last 5 validations > 85 %. Choice from
    outputs: the larger output at the last step of the decision period.

    ## Arguments
    `dt` (20 ms), `coherences` (3.2, 6.4, 12.8, 25.6, 51.2 %), `stimulus` ("variable" or
    "fixed"), `fixation` (100), `stimulus_duration` (see Periods), `decision` (300),
    `catch_prob` (1/11), `catch_duration` (2000), `input_noise` (0.01), `tau_in` (100),
    `input_baseline` (0.2).

    Every task also takes `max_trial_steps` (10,000) and `max_batch_bytes` (4 GiB), the limits the
    base class checks (see `neurotasks.Task`).

    ## Reference
    Song, Yang & Wang (2016) PLoS Comput Biol 12(2): e1004792, Fig. 2A and Fig. 3;
    Roitman & Shadlen (2002) J Neurosci 22: 9475.

    ## Version history
    v0: first version.
    """

    id = "PerceptualDecision-v0"
    summary = "Random-dot motion 2AFC with a variable stimulus duration (Song et al. 2016, Fig. 2A)"
    reference = "Song, Yang & Wang 2016 (Fig. 2A, 3); Roitman & Shadlen 2002"
    period_names = ("fixation", "stimulus", "decision")

    def __init__(self, *, dt: float = 20.0, coherences: Sequence[float] = COHERENCES,
                 stimulus: str = "variable", fixation: float | Duration = 100.0,
                 stimulus_duration: float | Duration | None = None, decision: float | Duration = 300.0,
                 catch_prob: float = 1 / 11, catch_duration: float = 2000.0, input_noise: float = 0.01,
                 tau_in: float = 100.0, input_baseline: float = 0.2, max_trial_steps: int = MAX_TRIAL_STEPS,
                 max_batch_bytes: int = MAX_BATCH_BYTES) -> None:
        if stimulus not in ("variable", "fixed"):
            raise ValueError(f"stimulus must be 'variable' or 'fixed', got {stimulus!r}")
        self.stimulus = stimulus
        self.input_names = ("stimulus_1", "stimulus_2", "start_cue") if stimulus == "variable" \
            else ("stimulus_1", "stimulus_2")
        super().__init__(dt=dt, coherences=coherences, catch_prob=catch_prob, catch_duration=catch_duration,
                         input_noise=input_noise, tau_in=tau_in, input_baseline=input_baseline,
                         max_trial_steps=max_trial_steps, max_batch_bytes=max_batch_bytes)
        if stimulus_duration is None:
            stimulus_duration = TruncatedExponential(330.0, 80.0, 1500.0) if stimulus == "variable" else 800.0
        self.durations = self.fixation_stimulus_decision(fixation, stimulus_duration, decision)

    def fill(self, tr):
        self.write_stimulus(tr, cue=self.stimulus == "variable")
        self.write_choice_targets(tr)


class PerceptualDecisionRT(_TwoAlternativeMotion):
    """Reaction-time version: respond whenever ready while the stimulus stays on.

    ## Description
    The reaction-time random-dot task (Roitman & Shadlen 2002) as trained in Song, Yang &
    Wang (2016), Fig. 2B ("RT"). The stimulus stays on until the end of the trial; the
    network is asked to hold the correct output high from 300 ms after stimulus onset, and its
    reaction time is when an output first reaches 1.0.

    ## Inputs
    `stimulus_1`, `stimulus_2`, `start_cue` as in `PerceptualDecision-v0` (baseline 0.2, noise,
    rectified).

    ## Outputs and actions
    Outputs `choice_1`, `choice_2`: 0.2 during fixation; from 300 ms after stimulus onset to the
    end, 1.2 on the correct one and 0.2 on the other. Actions: `Discrete(3)` (0 fixate).

    ## Periods
    fixation 100 ms; stimulus 800 ms (`stimulus_duration`; e.g. 1500 ms for testing). Catch
    trials (5/11): 2000 ms of fixation, outputs 0.2, mask 1.

    ## Rewards
    Responding is allowed from stimulus onset; the first response ends the trial (+1 correct,
    0 wrong); responding during fixation aborts (-0.1); no response earns 0.

    ## Criterion
    Mean percent correct of the last 5 validations > 85 %. Choice from outputs: the first
    output to reach 1.0 after stimulus onset; its time is the reaction time (ms from onset).

    ## Arguments
    `dt` (20), `coherences`, `fixation` (100), `stimulus_duration` (800), `response_delay`
    (300 ms from onset to the target window; it must leave at least a step of the shortest
    stimulus), `high` (1.2), `threshold` (1.0), `catch_prob` (5/11), `catch_duration` (2000),
    `input_noise` (0.01), `tau_in` (100), `input_baseline` (0.2).

    Every task also takes `max_trial_steps` (10,000) and `max_batch_bytes` (4 GiB), the limits the
    base class checks (see `neurotasks.Task`).

    ## Reference
    Song, Yang & Wang (2016), Fig. 2B, 2D, 2F; Roitman & Shadlen (2002).

    ## Version history
    v0: first version.
    """

    id = "PerceptualDecisionRT-v0"
    summary = "Reaction-time random-dot motion 2AFC (Song et al. 2016, Fig. 2B)"
    reference = "Song, Yang & Wang 2016 (Fig. 2B); Roitman & Shadlen 2002"
    tags = ("decision", "evidence integration", "reaction time", "paper")
    period_names = ("fixation", "stimulus")
    input_names = ("stimulus_1", "stimulus_2", "start_cue")

    def __init__(self, *, dt: float = 20.0, coherences: Sequence[float] = COHERENCES,
                 fixation: float | Duration = 100.0, stimulus_duration: float | Duration = 800.0,
                 response_delay: float = 300.0, high: float = 1.2, threshold: float = 1.0,
                 catch_prob: float = 5 / 11, catch_duration: float = 2000.0, input_noise: float = 0.01,
                 tau_in: float = 100.0, input_baseline: float = 0.2, max_trial_steps: int = MAX_TRIAL_STEPS,
                 max_batch_bytes: int = MAX_BATCH_BYTES) -> None:
        super().__init__(dt=dt, coherences=coherences, catch_prob=catch_prob, catch_duration=catch_duration,
                         input_noise=input_noise, tau_in=tau_in, input_baseline=input_baseline,
                         max_trial_steps=max_trial_steps, max_batch_bytes=max_batch_bytes)
        self.durations = {
            "fixation": self.declare_period("fixation", fixation, "fixation"),
            "stimulus": self.declare_period("stimulus", stimulus_duration, "stimulus_duration"),
        }
        self.response_delay = check_milliseconds(response_delay, "response_delay", allow_zero=True)
        shortest = self.durations["stimulus"].min
        if round(self.response_delay / self.dt) >= round(shortest / self.dt):
            raise ValueError(f"response_delay ({self.response_delay:g} ms) must end at least one step "
                             f"(dt={self.dt:g} ms) before the shortest stimulus ({shortest:g} ms, "
                             "stimulus_duration): the target window would be empty")
        self.high = check_number(high, "high")
        self.threshold = check_number(threshold, "threshold")
        if not 0.2 < self.threshold <= self.high:
            raise ValueError(f"threshold must lie in (0.2, high={self.high}], got {threshold!r}")
        self.output_range = (0.0, max(DecisionTask.output_range[1], self.high))
        self.rule = ChoiceRule(response_period="stimulus", rt_period="stimulus", decode=self.threshold)

    def fill(self, tr):
        self.write_stimulus(tr)
        # The target window: from response_delay after stimulus onset to the end of the stimulus.
        stimulus = tr.periods["stimulus"]
        window = stimulus.copy()
        np.minimum(stimulus[:, 0] + tr.steps(self.response_delay), stimulus[:, 1], out=window[:, 0])
        self.write_choice_targets(tr, high=self.high, window=window)
