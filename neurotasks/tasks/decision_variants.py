"""NeuroGym's variants of the paper's decision tasks: a delayed response, and a single fixed context.

Each is the existing task with one thing changed, so it inherits that task's coding, noise,
conditions and scoring: ``PerceptualDecisionDelayResponse`` is ``PerceptualDecision`` with a delay
and a go cue before the response; ``SingleContextDecision`` is ``ContextDecision`` with the context
fixed for the whole task and not signalled.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from neurotasks.criterion import Criterion
from neurotasks.domains import Values
from neurotasks.rules import ChoiceRule
from neurotasks.task import MAX_BATCH_BYTES, MAX_TRIAL_STEPS
from neurotasks.tasks.context_decision import COLOUR, MOTION, ContextDecision, modality_evidence
from neurotasks.tasks.perceptual_decision import _TwoAlternativeMotion, evidence
from neurotasks.timing import Choice, Duration

#: Inagaki et al. (2019)'s delays (ms), as NeuroGym lists them.
DELAYS = (300.0, 500.0, 700.0, 900.0, 1200.0, 2000.0, 3200.0, 4000.0)
DELAY = Choice(DELAYS)
#: NeuroGym's coherences for the delayed response, including 0 (no evidence).
DELAY_COHERENCES = (0.0, 6.4, 12.8, 25.6, 51.2)


class PerceptualDecisionDelayResponse(_TwoAlternativeMotion):
    """Integrate noisy evidence, hold the choice through a random delay, report it after a go cue.

    ## Description
    NeuroGym's PerceptualDecisionMakingDelayResponse, after the delayed-response task of Inagaki,
    Fontolan, Romani & Svoboda (2019), whose mice held a planned choice through delays of 0.3 to
    4 s before a go cue. Two noisy inputs carry evidence for each choice (as in
    `PerceptualDecision-v0`); a delay of random length follows the stimulus; the fixation input
    goes off as the go cue and the agent reports the choice. The delay's unpredictable end makes
    the network keep the choice in memory (Inagaki et al.'s discrete attractor states).

    ## Inputs
    | channel | during | value |
    |---|---|---|
    | `fixation` | fixation, stimulus, delay | 1 (its offset is the go cue) |
    | `stimulus_1` | stimulus | (1 + c/100)/2 if choice 1 is correct, else (1 - c/100)/2 |
    | `stimulus_2` | stimulus | the complement |

    Every input also carries a 0.2 baseline and white noise (sigma 0.01 at tau_in 100 ms), and is
    rectified.

    ## Outputs and actions
    Outputs `choice_1`, `choice_2`: 0.2 before the decision period; 1.0 on the correct one and
    0.2 on the other in it; mask 1 throughout. Actions: `Discrete(3)`: 0 fixate, 1, 2 choose.
    At coherence 0 the correct choice is drawn at random (no evidence for it).

    ## Periods
    fixation 100 ms; stimulus 1150 ms (the sample epoch; 58 steps at dt 20); delay one of 300, 500, 700, 900, 1200,
    2000, 3200, 4000 ms, equally likely; decision 1500 ms (the response epoch).

    ## Rewards
    Responding before the decision period aborts (-0.1); the first choice in it ends the trial:
    +1 if correct, 0 if wrong; no choice earns 0.

    ## Criterion
    Mean percent correct of the last 5 validations > 80 % (a fifth of the trials have coherence 0,
    where 50 % is the best one can do: 80 % overall is 87.5 % on the others). Choice from outputs:
    the larger output at the last step of the decision period. Conditions: coherences x choices.

    ## Departures from NeuroGym
    NeuroGym has no fixation period (0 ms), no go-cue period (its TODO) and adds noise of sd
    1/sqrt(dt) per step to the evidence; here the 100 ms fixation, coding and noise of
    `PerceptualDecision-v0`. NeuroGym draws the delays equally often (its TODO notes the paper's
    were not); so does this version.

    ## Arguments
    `dt` (20 ms), `coherences` (0, 6.4, 12.8, 25.6, 51.2 %), `fixation` (100), `stimulus_duration`
    (1150), `delay` (("choice", [300, ..., 4000])), `decision` (1500), `catch_prob` (0),
    `catch_duration` (2000), `input_noise` (0.01), `tau_in` (100), `input_baseline` (0.2).

    Every task also takes `max_trial_steps` (10,000) and `max_batch_bytes` (4 GiB), the limits the
    base class checks (see `neurotasks.Task`).

    ## Reference
    Inagaki, Fontolan, Romani & Svoboda (2019) Nature 566: 212; NeuroGym 2.3.1
    `PerceptualDecisionMakingDelayResponse`.

    ## Version history
    v0: first version.
    """

    id = "PerceptualDecisionDelayResponse-v0"
    summary = "Random-dot 2AFC reported after a random delay and a go cue (Inagaki et al. 2019; NeuroGym)"
    reference = "Inagaki et al. 2019; NeuroGym PerceptualDecisionMakingDelayResponse"
    tags = ("decision", "evidence integration", "working memory", "neurogym")
    period_names = ("fixation", "stimulus", "delay", "decision")
    input_names = ("fixation", "stimulus_1", "stimulus_2")
    criterion = Criterion("percent_correct", ">", 80.0, window=5)

    def __init__(self, *, dt: float = 20.0, coherences: Sequence[float] = DELAY_COHERENCES,
                 fixation: float | Duration = 100.0, stimulus_duration: float | Duration = 1150.0,
                 delay: float | Duration = DELAY, decision: float | Duration = 1500.0,
                 catch_prob: float = 0.0, catch_duration: float = 2000.0, input_noise: float = 0.01,
                 tau_in: float = 100.0, input_baseline: float = 0.2, max_trial_steps: int = MAX_TRIAL_STEPS,
                 max_batch_bytes: int = MAX_BATCH_BYTES) -> None:
        super().__init__(dt=dt, coherences=coherences, catch_prob=catch_prob, catch_duration=catch_duration,
                         input_noise=input_noise, tau_in=tau_in, input_baseline=input_baseline,
                         max_trial_steps=max_trial_steps, max_batch_bytes=max_batch_bytes)
        self.durations = {**self.fixation_stimulus_decision(fixation, stimulus_duration, decision),
                          "delay": self.declare_period("delay", delay, "delay")}
        self.rule = ChoiceRule(response_period="decision", rt_period="decision")

    def fill(self, tr):
        table = tr.period_table(3)
        table[:, :3, 0] = 1.0
        table[:, 1, 1:] = evidence(tr.params["coherence"], tr.params["ground_truth"])
        tr.lay_out(table, tr.table_rows, tr.inputs)
        self.write_choice_targets(tr, fixation=("fixation", "stimulus", "delay"))


class SingleContextDecision(ContextDecision):
    """Integrate one modality, always the same one, and ignore the other: no context cue.

    ## Description
    NeuroGym's SingleContextDecisionMaking (in 2.3.1, ContextDecisionMaking with
    `use_expl_context=False`): Mante et al. (2013)'s stimuli, a motion and a colour coherence each
    pointing to a choice, but the relevant modality (`context`) is fixed for the whole task and
    never signalled: it must be learned. Everything else is `ContextDecision-v0`.

    ## Inputs
    `motion_1`, `motion_2`, `colour_1`, `colour_2` as in `ContextDecision-v0` (no context inputs):
    (1 ± c/100)/2 during the stimulus, a 0.2 baseline, white noise (sigma 0.01 at tau_in 100 ms),
    rectified.

    ## Outputs and actions
    Outputs `choice_1`, `choice_2`: 0.2 during fixation; 1.0 on the direction of the relevant
    modality and 0.2 on the other in the decision period. Actions: `Discrete(3)`.

    ## Periods
    fixation 100 ms; stimulus 800 ms; decision 300 ms. Catch trials (1/37): 2000 ms of fixation.

    ## Rewards
    Breaking fixation aborts (-0.1); the first choice in the decision period ends the trial: +1
    if correct, 0 if wrong; no choice earns 0.

    ## Criterion
    Mean percent correct of the last 5 validations > 90 %, on a grid of 36 conditions (3 x 2
    motion, 3 x 2 colour).

    ## Departures from NeuroGym
    NeuroGym's version has Mante's 750 ms stimulus and a 300-3000 ms delay and codes each
    modality on a ring; this one keeps `ContextDecision-v0`'s timing and coding (Song et al.
    2016), so that the two differ only in the context cue. The catch-trial rate is
    `ContextDecision-v0`'s one catch trial per grid pass (1/73 of 72 conditions; 1/37 of 36).

    ## Arguments
    `context` ("motion" or "colour"; default "motion"), and `ContextDecision-v0`'s arguments.

    Every task also takes `max_trial_steps` (10,000) and `max_batch_bytes` (4 GiB), the limits the
    base class checks (see `neurotasks.Task`).

    ## Reference
    Mante, Sussillo, Shenoy & Newsome (2013) Nature 503: 78; NeuroGym 2.3.1
    `ContextDecisionMaking(use_expl_context=False)`.

    ## Version history
    v0: first version.
    """

    id = "SingleContextDecision-v0"
    summary = "Mante's two-modality dots with one fixed, unsignalled relevant modality (NeuroGym)"
    reference = "Mante et al. 2013; NeuroGym SingleContextDecisionMaking"
    tags = ("decision", "evidence integration", "neurogym")
    input_names = ("motion_1", "motion_2", "colour_1", "colour_2")

    def __init__(self, *, dt: float = 20.0, context: str = "motion", coherences: Sequence[float] = (5.0, 15.0, 50.0),
                 fixation: float | Duration = 100.0, stimulus_duration: float | Duration = 800.0,
                 decision: float | Duration = 300.0, catch_prob: float = 1 / 37, catch_duration: float = 2000.0,
                 input_noise: float = 0.01, tau_in: float = 100.0, input_baseline: float = 0.2,
                 max_trial_steps: int = MAX_TRIAL_STEPS, max_batch_bytes: int = MAX_BATCH_BYTES) -> None:
        if context not in ("motion", "colour"):
            raise ValueError(f"context must be 'motion' or 'colour', got {context!r}")
        self.context = MOTION if context == "motion" else COLOUR
        super().__init__(dt=dt, coherences=coherences, fixation=fixation, stimulus_duration=stimulus_duration,
                         decision=decision, catch_prob=catch_prob, catch_duration=catch_duration,
                         input_noise=input_noise, tau_in=tau_in, input_baseline=input_baseline,
                         max_trial_steps=max_trial_steps, max_batch_bytes=max_batch_bytes)

    def sample_params(self, n, rng):
        params = super().sample_params(n, rng)
        params["context"] = np.full(n, self.context, dtype=np.int64)
        return params

    def param_domains(self):
        return {**super().param_domains(), "context": Values((self.context,), what="the task's fixed context")}

    def conditions(self):
        grid = super().conditions()
        keep = grid["context"] == self.context
        return {name: values[keep] for name, values in grid.items()}

    def fill(self, tr):
        motion = modality_evidence(tr.params["motion_coherence"], tr.params["motion_direction"])
        colour = modality_evidence(tr.params["colour_coherence"], tr.params["colour_direction"])
        tr.per_period({"stimulus": np.concatenate([motion, colour], axis=1)}, out=tr.inputs)
        self.write_choice_targets(tr)
