"""Context-dependent integration (Mante et al. 2013) as trained in Song, Yang & Wang (2016), Fig. 4."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from neurotasks.criterion import Criterion
from neurotasks.domains import Reals, Values
from neurotasks.task import MAX_BATCH_BYTES, MAX_TRIAL_STEPS, check_values
from neurotasks.tasks.decision import DecisionTask
from neurotasks.timing import Duration

#: The paper's coherences of each modality, in % (pycog's mante.py).
COHERENCES = (5.0, 15.0, 50.0)
#: Values of ``context``.
MOTION, COLOUR = 0, 1


def modality_evidence(coherence: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """(B, 2) values of one modality's two channels: (1 + c/100)/2 on the channel of ``direction``
    (0: choice 1, 1: choice 2), (1 - c/100)/2 on the other."""
    c = np.asarray(coherence, dtype=np.float64) / 100.0
    toward_first = np.where(np.asarray(direction) == 0, 1.0, -1.0)
    return np.stack([(1 + toward_first * c) / 2, (1 - toward_first * c) / 2], axis=1).astype(np.float32)


class ContextDecision(DecisionTask):
    """Integrate the modality the context cue names and ignore the other.

    ## Description
    The context-dependent integration task of Mante et al. (2013) as trained in Song, Yang &
    Wang (2016), Fig. 4. A field of dots has both a motion and a colour coherence, each pointing
    toward one of two choices, independently of each other. A context cue tells which modality
    matters on this trial: the agent must integrate that modality's evidence, ignore the other
    one completely, and report the direction of the attended modality in the decision period.

    ## Inputs
    | channel | during | value |
    |---|---|---|
    | `context_motion` | stimulus | 1 on motion-context trials (`context` 0), else 0 |
    | `context_colour` | stimulus | 1 on colour-context trials (`context` 1), else 0 |
    | `motion_1` | stimulus | (1 + c_m/100)/2 if motion points to choice 1, else (1 - c_m/100)/2 |
    | `motion_2` | stimulus | the complement, (1 ∓ c_m/100)/2 |
    | `colour_1` | stimulus | (1 + c_c/100)/2 if colour points to choice 1, else (1 - c_c/100)/2 |
    | `colour_2` | stimulus | the complement |

    With the default coherences the stimulus channels carry 0.525/0.475 (5 %), 0.575/0.425
    (15 %) or 0.75/0.25 (50 %). Every input also carries a 0.2 baseline and white noise (sigma
    0.01 at tau_in 100 ms, per-step sd sqrt(2 tau_in/dt) sigma), and is rectified.

    ## Outputs and actions
    Outputs `choice_1`, `choice_2`: 0.2 during fixation; 1.0 on the correct one (the direction
    of the attended modality) and 0.2 on the other during the decision period; unconstrained
    during the stimulus. Actions: `Discrete(3)`: 0 fixate, 1 choose 1, 2 choose 2.

    Trial parameters: `context` (0 motion, 1 colour), `motion_coherence`, `motion_direction`
    (0/1: the choice motion points to), `colour_coherence`, `colour_direction`, and
    `ground_truth`, derived: the direction of the attended modality. Force the context and the
    directions to choose the answer; forcing `ground_truth` itself is refused.

    ## Periods
    fixation 100 ms; stimulus 800 ms; decision 300 ms. Catch trials (1/73): 2000 ms of
    fixation (pycog's mante.py: `epochs = {'T': 2000}` for a catch trial), outputs 0.2
    throughout, mask 1 everywhere, excluded from performance.

    ## Rewards
    Breaking fixation before the decision period aborts the trial (-0.1); the first choice in
    the decision period ends the trial: +1 if correct, 0 if wrong; no choice earns 0.

    ## Criterion
    Mean percent correct (non-catch trials) of the last 5 validations > 90 %. Choice from
    outputs: the larger output at the last step of the decision period. The validation grid
    has 72 conditions: 2 contexts x 3 motion coherences x 2 motion directions x 3 colour
    coherences x 2 colour directions.

    ## Arguments
    `dt` (20 ms), `coherences` (5, 15, 50 %, shared by both modalities), `fixation` (100),
    `stimulus_duration` (800), `decision` (300), `catch_prob` (1/73), `catch_duration` (2000),
    `input_noise` (0.01), `tau_in` (100), `input_baseline` (0.2).

    Every task also takes `max_trial_steps` (10,000) and `max_batch_bytes` (4 GiB), the limits the
    base class checks (see `neurotasks.Task`).

    ## Reference
    Song, Yang & Wang (2016) PLoS Comput Biol 12(2): e1004792, Fig. 4 and Fig. 5;
    Mante, Sussillo, Shenoy & Newsome (2013) Nature 503: 78-84.

    ## Version history
    v0: first version (before the first release, catch trials went from 1200 to pycog's 2000 ms).
    """

    id = "ContextDecision-v0"
    summary = "Context-dependent integration of motion or colour (Mante et al. 2013; Song et al. 2016, Fig. 4)"
    tags = ("decision", "context dependence", "evidence integration", "paper")
    reference = "Song, Yang & Wang 2016 (Fig. 4); Mante et al. 2013"
    period_names = ("fixation", "stimulus", "decision")
    input_names = ("context_motion", "context_colour", "motion_1", "motion_2", "colour_1", "colour_2")
    output_names = ("choice_1", "choice_2")
    criterion = Criterion("percent_correct", ">", 90.0, window=5)
    suggested_network = {"n_units": 150, "excitatory_fraction": 0.8, "batch_size": 50}
    derived_params = {"ground_truth": "it is the direction of the attended modality; force context, "
                                      "motion_direction and colour_direction instead"}

    def __init__(self, *, dt: float = 20.0, coherences: Sequence[float] = COHERENCES,
                 fixation: float | Duration = 100.0, stimulus_duration: float | Duration = 800.0,
                 decision: float | Duration = 300.0, catch_prob: float = 1 / 73, catch_duration: float = 2000.0,
                 input_noise: float = 0.01, tau_in: float = 100.0, input_baseline: float = 0.2,
                 max_trial_steps: int = MAX_TRIAL_STEPS, max_batch_bytes: int = MAX_BATCH_BYTES) -> None:
        super().__init__(dt=dt, catch_prob=catch_prob, catch_duration=catch_duration, input_noise=input_noise,
                         tau_in=tau_in, input_baseline=input_baseline, max_trial_steps=max_trial_steps,
                         max_batch_bytes=max_batch_bytes)
        self.coherences = check_values(coherences, "coherences", 0.0, 100.0)
        self.durations = self.fixation_stimulus_decision(fixation, stimulus_duration, decision)

    def sample_params(self, n, rng):
        return {
            "context": rng.integers(0, 2, size=n),
            "motion_coherence": self.coherences[rng.integers(0, len(self.coherences), size=n)],
            "motion_direction": rng.integers(0, 2, size=n),
            "colour_coherence": self.coherences[rng.integers(0, len(self.coherences), size=n)],
            "colour_direction": rng.integers(0, 2, size=n),
        }

    def derive_params(self, params):
        attended = np.where(params["context"] == MOTION, params["motion_direction"], params["colour_direction"])
        return {**params, "ground_truth": attended.astype(np.int64)}

    def param_domains(self):
        direction = Values((0, 1), what="the choice it points to")
        return {**super().param_domains(), "context": Values((MOTION, COLOUR), what="0 motion, 1 colour"),
                "motion_coherence": Reals(0.0, 100.0, what="%"), "motion_direction": direction,
                "colour_coherence": Reals(0.0, 100.0, what="%"), "colour_direction": direction}

    def conditions(self):
        grid = np.meshgrid([MOTION, COLOUR], self.coherences, [0, 1], self.coherences, [0, 1], indexing="ij")
        names = ("context", "motion_coherence", "motion_direction", "colour_coherence", "colour_direction")
        return {name: values.ravel() for name, values in zip(names, grid, strict=True)}

    def fill(self, tr):
        context = tr.params["context"]
        cue = np.stack([context == MOTION, context == COLOUR], axis=1).astype(np.float32)
        motion = modality_evidence(tr.params["motion_coherence"], tr.params["motion_direction"])
        colour = modality_evidence(tr.params["colour_coherence"], tr.params["colour_direction"])
        tr.per_period({"stimulus": np.concatenate([cue, motion, colour], axis=1)}, out=tr.inputs)
        self.write_choice_targets(tr)
