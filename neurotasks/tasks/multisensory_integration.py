"""Multisensory integration (Raposo et al. 2014) as trained in Song, Yang & Wang (2016), Fig. 6."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from neurotasks.criterion import Criterion
from neurotasks.domains import Reals, Values
from neurotasks.task import MAX_BATCH_BYTES, MAX_TRIAL_STEPS, check_number, check_values
from neurotasks.tasks.decision import DecisionTask
from neurotasks.timing import Duration

#: Event rates of the paper, in Hz (events/s).
RATES = tuple(float(f) for f in range(9, 17))
#: The category boundary: rates above it are "high".
BOUNDARY = 12.5
#: Values of ``modality``.
VISUAL, AUDITORY, BOTH = 0, 1, 2
#: Input channels of each modality (the groups of ``suggested_network["input_groups"]``).
VISUAL_CHANNELS = ("visual_pos", "visual_neg")
AUDITORY_CHANNELS = ("auditory_pos", "auditory_neg")
#: Tuning: the positively tuned input goes from TUNING_LOW at the lowest rate to
#: TUNING_LOW + TUNING_SPAN at the highest; the negatively tuned one the other way round.
TUNING_LOW, TUNING_SPAN = 0.4, 0.8


def rate_tuning(rate: np.ndarray, low: float, high: float) -> tuple[np.ndarray, np.ndarray]:
    """Positively and negatively tuned input values for event rates in [low, high] Hz."""
    x = (np.asarray(rate, dtype=np.float64) - low) / (high - low)
    return TUNING_LOW + TUNING_SPAN * x, TUNING_LOW + TUNING_SPAN * (1.0 - x)


class MultisensoryIntegration(DecisionTask):
    """Judge whether an event rate is high or low from visual, auditory or both streams.

    ## Description
    The multisensory rate-discrimination task of Raposo, Kaufman & Churchland (2014) as trained
    in Song, Yang & Wang (2016), Fig. 6. Visual flashes, auditory clicks, or both (always at
    the same rate) are presented at a rate between 9 and 16 events/s; the agent reports whether
    the rate is above the 12.5 events/s boundary. Unlike the two-stimulus comparison tasks the
    agent compares one input against an internal criterion, which is why each modality comes
    as a positively and a negatively tuned channel. Combining both modalities, when present,
    improves performance (multisensory enhancement).

    ## Inputs
    | channel | during | value |
    |---|---|---|
    | `visual_pos` | stimulus | 0.4 + 0.8 (f - f_min)/(f_max - f_min) on visual and both trials |
    | `auditory_pos` | stimulus | the same on auditory and both trials |
    | `visual_neg` | stimulus | 0.4 + 0.8 (f_max - f)/(f_max - f_min) on visual and both trials |
    | `auditory_neg` | stimulus | the same on auditory and both trials |
    | `start_cue` | stimulus and decision | 1 (pycog's multisensory.py: `X[e['stimulus'] + e['decision'], START] = 1`) |

    f_min and f_max are the smallest and largest of `rates` (9 and 16 Hz by default), so the
    tuned inputs span [0.4, 1.2]. The channels of an absent modality carry nothing (they stay at
    the baseline). Every input also carries a 0.2 baseline and white noise (sigma 0.01 at
    tau_in 100 ms, per-step sd sqrt(2 tau_in/dt) sigma), and is rectified.

    ## Outputs and actions
    Outputs `choice_high`, `choice_low`: 0.2 during fixation; in the decision period 1.0 on
    `choice_high` and 0.2 on `choice_low` if f > `boundary` (`ground_truth` 0), the reverse
    otherwise (`ground_truth` 1); unconstrained during the stimulus. Actions: `Discrete(3)`:
    0 fixate, 1 choose high, 2 choose low.

    Trial parameters: `rate` (Hz), `modality` (0 visual, 1 auditory, 2 both) and `ground_truth`,
    derived from the rate. Force `rate` to choose the answer (within the tuning range, and not
    the boundary itself); forcing `ground_truth` is refused.

    ## Periods
    fixation 100 ms; stimulus 1000 ms; decision 300 ms. Catch trials (20 %): 2500 ms of
    fixation, outputs 0.2 throughout, mask 1 everywhere, excluded from performance.

    ## Rewards
    Breaking fixation before the decision period aborts the trial (-0.1); the first choice in
    the decision period ends the trial: +1 if correct, 0 if wrong; no choice earns 0.

    ## Criterion
    Mean percent correct (non-catch trials) of the last 5 validations > 90 %. Choice from
    outputs: the larger output at the last step of the decision period. The validation grid
    has 24 conditions: 8 rates x 3 modalities.

    ## Network
    `suggested_network` follows the paper: 150 units, 80 % excitatory; the visual channels
    (`visual_pos`, `visual_neg`) project to one third of the units (excitatory and inhibitory
    alike), the auditory channels to another third, and the last third receives no sensory
    input (`input_groups` and `input_fraction_per_group` = 1/3). Channels outside the groups
    (`start_cue`) are not restricted.

    ## Arguments
    `dt` (20 ms), `rates` (9, 10, ..., 16 Hz), `boundary` (12.5 Hz), `fixation` (100),
    `stimulus_duration` (1000), `decision` (300), `catch_prob` (0.2), `catch_duration` (2500),
    `input_noise` (0.01), `tau_in` (100), `input_baseline` (0.2).

    Every task also takes `max_trial_steps` (10,000) and `max_batch_bytes` (4 GiB), the limits the
    base class checks (see `neurotasks.Task`).

    ## Reference
    Song, Yang & Wang (2016) PLoS Comput Biol 12(2): e1004792, Fig. 6;
    Raposo, Kaufman & Churchland (2014) Nat Neurosci 17: 1784-1792.

    ## Version history
    v0: first version (before the first release, the start cue was extended through the decision
    period, as in pycog).
    """

    id = "MultisensoryIntegration-v0"
    summary = ("Visual/auditory event-rate discrimination with multisensory trials (Raposo et al. 2014; "
               "Song et al. 2016, Fig. 6)")
    tags = ("decision", "multisensory integration", "evidence integration", "paper")
    reference = "Song, Yang & Wang 2016 (Fig. 6); Raposo et al. 2014"
    period_names = ("fixation", "stimulus", "decision")
    input_names = ("visual_pos", "auditory_pos", "visual_neg", "auditory_neg", "start_cue")
    output_names = ("choice_high", "choice_low")
    criterion = Criterion("percent_correct", ">", 90.0, window=5)
    signal_range = (0.0, TUNING_LOW + TUNING_SPAN)
    suggested_network = {
        "n_units": 150,
        "excitatory_fraction": 0.8,
        "input_groups": {"visual": list(VISUAL_CHANNELS), "auditory": list(AUDITORY_CHANNELS)},
        "input_fraction_per_group": 1 / 3,
    }

    derived_params = {"ground_truth": "it is derived from rate (0 above the boundary, 1 below); "
                                      "force rate instead"}

    def __init__(self, *, dt: float = 20.0, rates: Sequence[float] = RATES, boundary: float = BOUNDARY,
                 fixation: float | Duration = 100.0, stimulus_duration: float | Duration = 1000.0,
                 decision: float | Duration = 300.0, catch_prob: float = 0.2, catch_duration: float = 2500.0,
                 input_noise: float = 0.01, tau_in: float = 100.0, input_baseline: float = 0.2,
                 max_trial_steps: int = MAX_TRIAL_STEPS, max_batch_bytes: int = MAX_BATCH_BYTES) -> None:
        super().__init__(dt=dt, catch_prob=catch_prob, catch_duration=catch_duration, input_noise=input_noise,
                         tau_in=tau_in, input_baseline=input_baseline, max_trial_steps=max_trial_steps,
                         max_batch_bytes=max_batch_bytes)
        self.rates = check_values(rates, "rates", -np.inf, np.inf)
        if self.rates.min() <= 0:
            raise ValueError(f"rates must be positive (events/s), got {rates!r}")
        if self.rates.min() == self.rates.max():
            raise ValueError(f"rates needs at least two different rates to define the tuning, got {rates!r}")
        self.boundary = check_number(boundary, "boundary")
        if np.any(self.rates == self.boundary):
            raise ValueError(f"rates must not contain the boundary {self.boundary:g} Hz (its category is "
                             f"undefined), got {rates!r}")
        self.durations = self.fixation_stimulus_decision(fixation, stimulus_duration, decision)

    def sample_params(self, n, rng):
        return {
            "rate": self.rates[rng.integers(0, len(self.rates), size=n)],
            "modality": rng.integers(0, 3, size=n),
        }

    def derive_params(self, params):
        return {**params, "ground_truth": np.where(params["rate"] > self.boundary, 0, 1).astype(np.int64)}

    def param_domains(self):
        return {**super().param_domains(),
                "rate": Reals(self.rates.min(), self.rates.max(), excluded=(self.boundary,),
                              what="Hz: the tuning range, the boundary having no category"),
                "modality": Values((VISUAL, AUDITORY, BOTH), what="0 visual, 1 auditory, 2 both")}

    def conditions(self):
        rate, modality = np.meshgrid(self.rates, [VISUAL, AUDITORY, BOTH], indexing="ij")
        return {"rate": rate.ravel(), "modality": modality.ravel()}

    def fill(self, tr):
        modality = tr.params["modality"]
        pos, neg = rate_tuning(tr.params["rate"], self.rates.min(), self.rates.max())
        visual = (modality == VISUAL) | (modality == BOTH)
        auditory = (modality == AUDITORY) | (modality == BOTH)
        values = np.stack([pos * visual, pos * auditory, neg * visual, neg * auditory, np.ones_like(pos)], axis=1)
        cue = np.zeros_like(values)
        cue[:, -1] = 1.0                                 # the start cue stays on through the decision period
        tr.per_period({"stimulus": values.astype(np.float32), "decision": cue.astype(np.float32)}, out=tr.inputs)
        self.write_choice_targets(tr)
