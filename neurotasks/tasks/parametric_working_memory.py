"""Parametric working memory (Romo et al. 1999) as trained in Song, Yang & Wang (2016), Fig. 7."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from neurotasks.criterion import Criterion
from neurotasks.domains import Reals
from neurotasks.rules import ChoiceRule
from neurotasks.task import MAX_BATCH_BYTES, MAX_TRIAL_STEPS
from neurotasks.tasks.decision import DecisionTask
from neurotasks.timing import Duration, Uniform

#: The paper's (f1, f2) frequency pairs in Hz; each is also presented swapped.
PAIRS = ((18.0, 10.0), (22.0, 14.0), (26.0, 18.0), (30.0, 22.0), (34.0, 26.0))
#: The training delay of the paper (pass ``delay=3000`` to test with the paper's fixed delay).
DELAY = Uniform(2500.0, 3500.0)
#: Tuning: the positively tuned input goes from TUNING_LOW at the lowest frequency to
#: TUNING_LOW + TUNING_SPAN at the highest; the negatively tuned one the other way round.
TUNING_LOW, TUNING_SPAN = 0.4, 0.8


def frequency_tuning(f: np.ndarray, low: float, high: float) -> tuple[np.ndarray, np.ndarray]:
    """Positively and negatively tuned input values for frequencies in [low, high] Hz."""
    x = (np.asarray(f, dtype=np.float64) - low) / (high - low)
    return TUNING_LOW + TUNING_SPAN * x, TUNING_LOW + TUNING_SPAN * (1.0 - x)


def check_pairs(pairs: object) -> np.ndarray:
    """The user's ``pairs`` -> (K, 2) float array of distinct (f1, f2), or a ValueError naming ``pairs``."""
    try:
        arr = np.asarray(pairs, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"pairs must be a list of (f1, f2) frequency pairs in Hz, got {pairs!r}") from None
    if arr.size == 0:
        raise ValueError("pairs must not be empty")
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"pairs must be a list of (f1, f2) frequency pairs in Hz, got {pairs!r}")
    if not np.all(np.isfinite(arr)) or arr.min() <= 0:
        raise ValueError(f"pairs must hold positive, finite frequencies, got {pairs!r}")
    if np.any(arr[:, 0] == arr[:, 1]):
        raise ValueError(f"pairs must not contain a pair with f1 == f2 (no correct answer), got {pairs!r}")
    ordered = np.sort(arr, axis=1)
    if len(np.unique(ordered, axis=0)) != len(arr):
        raise ValueError(f"pairs must not repeat a pair (each pair is also presented swapped), got {pairs!r}")
    return arr


class ParametricWorkingMemory(DecisionTask):
    """Remember a first frequency across a delay and compare it with a second one.

    ## Description
    The vibrotactile delayed-discrimination task of Romo et al. (1999) as trained in Song, Yang
    & Wang (2016), Fig. 7. A first stimulus of frequency f1 is followed, after a delay of about
    three seconds, by a second stimulus of frequency f2; the agent reports whether f1 was
    greater or smaller than f2. The agent must hold a parametric (graded) memory of f1 through
    the delay. Each frequency is given by a positively and a negatively tuned channel, since
    the agent compares one input with a remembered value of the same input.

    ## Inputs
    | channel | during | value |
    |---|---|---|
    | `f_pos` | f1, f2 | 0.4 + 0.8 (f - f_min)/(f_max - f_min), f = f1 then f2 |
    | `f_neg` | f1, f2 | 0.4 + 0.8 (f_max - f)/(f_max - f_min) |

    f_min and f_max are the smallest and largest frequencies of `pairs` (10 and 34 Hz by
    default), so the inputs span [0.4, 1.2]. Both channels carry nothing during fixation, delay
    and decision (they stay at the baseline). Every input also carries a 0.2 baseline and white
    noise (sigma 0.01 at tau_in 100 ms, per-step sd sqrt(2 tau_in/dt) sigma), and is rectified.

    ## Outputs and actions
    Outputs `f1_greater`, `f1_smaller`: 0.2 during fixation; in the decision period 1.0 on
    `f1_greater` and 0.2 on `f1_smaller` if f1 > f2 (`ground_truth` 0), the reverse otherwise
    (`ground_truth` 1); unconstrained from f1 to the end of f2. Actions: `Discrete(3)`:
    0 fixate, 1 "f1 greater", 2 "f1 smaller".

    Trial parameters: `f1`, `f2` (Hz, in the tuning range) and `ground_truth`, derived from them.
    Forcing one frequency alone keeps the other as drawn, except on trials where it drew the
    forced value: there it takes the other frequency of the drawn pair. Forcing both equal on a
    trial, and forcing `ground_truth`, are refused.

    ## Periods
    fixation 100 ms; f1 500 ms; delay uniform on [2500, 3500) ms (test default 3000: pass
    `delay=3000` to test with a fixed delay, as the paper does); f2 500 ms; decision 300 ms.
    Catch trials (1/11): 2500 ms of fixation, outputs 0.2 throughout, mask 1 everywhere,
    excluded from performance.

    ## Rewards
    Breaking fixation before the decision period aborts the trial (-0.1); the first choice in
    the decision period ends the trial: +1 if correct, 0 if wrong; no choice earns 0. Reaction
    times are measured from the onset of the decision period (they carry no meaning here).

    ## Criterion
    The worst condition's percent correct >= 85 % (`min_condition_percent_correct`, one
    validation). Choice from outputs: the larger output at the last step of the decision
    period. The validation grid has 10 conditions: the 5 pairs in both orders.

    ## Network
    `suggested_network` follows the paper: 500 units, 80 % excitatory, connection probability
    0.1 from excitatory and 0.5 from inhibitory units.

    ## Arguments
    `dt` (20 ms), `pairs` ((18, 10), (22, 14), (26, 18), (30, 22), (34, 26) Hz; each also
    swapped), `fixation` (100), `f1_duration` (500), `delay` (("uniform", 2500, 3500)),
    `f2_duration` (500), `decision` (300), `catch_prob` (1/11), `catch_duration` (2500),
    `input_noise` (0.01), `tau_in` (100), `input_baseline` (0.2).

    Every task also takes `max_trial_steps` (10,000) and `max_batch_bytes` (4 GiB), the limits the
    base class checks (see `neurotasks.Task`).

    ## Reference
    Song, Yang & Wang (2016) PLoS Comput Biol 12(2): e1004792, Fig. 7;
    Romo, Brody, Hernández & Lemus (1999) Nature 399: 470-473.

    ## Version history
    v0: first version.
    """

    id = "ParametricWorkingMemory-v0"
    summary = "Compare two vibrotactile frequencies across a 3 s delay (Romo et al. 1999; Song et al. 2016, Fig. 7)"
    tags = ("working memory", "decision", "paper")
    reference = "Song, Yang & Wang 2016 (Fig. 7); Romo et al. 1999"
    period_names = ("fixation", "f1", "delay", "f2", "decision")
    input_names = ("f_pos", "f_neg")
    output_names = ("f1_greater", "f1_smaller")
    criterion = Criterion("min_condition_percent_correct", ">=", 85.0, window=1)
    signal_range = (0.0, TUNING_LOW + TUNING_SPAN)
    suggested_network = {"n_units": 500, "excitatory_fraction": 0.8, "connection_prob": {"E": 0.1, "I": 0.5}}
    derived_params = {"ground_truth": "it is derived from f1 and f2 (0 if f1 > f2, else 1); force f1 and f2 instead"}

    def __init__(self, *, dt: float = 20.0, pairs: Sequence[Sequence[float]] = PAIRS,
                 fixation: float | Duration = 100.0, f1_duration: float | Duration = 500.0,
                 delay: float | Duration | tuple = DELAY, f2_duration: float | Duration = 500.0,
                 decision: float | Duration = 300.0, catch_prob: float = 1 / 11, catch_duration: float = 2500.0,
                 input_noise: float = 0.01, tau_in: float = 100.0, input_baseline: float = 0.2,
                 max_trial_steps: int = MAX_TRIAL_STEPS, max_batch_bytes: int = MAX_BATCH_BYTES) -> None:
        super().__init__(dt=dt, catch_prob=catch_prob, catch_duration=catch_duration, input_noise=input_noise,
                         tau_in=tau_in, input_baseline=input_baseline, max_trial_steps=max_trial_steps,
                         max_batch_bytes=max_batch_bytes)
        self.pairs = check_pairs(pairs)
        self.f_min, self.f_max = float(self.pairs.min()), float(self.pairs.max())
        self.durations = {
            "fixation": self.declare_period("fixation", fixation, "fixation"),
            "f1": self.declare_period("f1", f1_duration, "f1_duration"),
            "delay": self.declare_period("delay", delay, "delay", can_be_zero=True),
            "f2": self.declare_period("f2", f2_duration, "f2_duration"),
            "decision": self.declare_period("decision", decision, "decision"),
        }
        self.rule = ChoiceRule(response_period="decision", rt_period="decision")

    @property
    def ordered_pairs(self) -> np.ndarray:
        """(2K, 2) every condition's (f1, f2): each pair as given, then swapped."""
        return np.stack([self.pairs, self.pairs[:, ::-1]], axis=1).reshape(-1, 2)

    def sample_params(self, n, rng):
        f = self.ordered_pairs[rng.integers(0, 2 * len(self.pairs), size=n)]
        return {"f1": f[:, 0].copy(), "f2": f[:, 1].copy()}

    def derive_params(self, params):
        return {**params, "ground_truth": np.where(params["f1"] > params["f2"], 0, 1).astype(np.int64)}

    def param_domains(self):
        tuning = Reals(self.f_min, self.f_max, what="Hz: the tuning range")
        return {**super().param_domains(), "f1": tuning, "f2": tuning}

    def impose(self, params, forced):
        # A frequency forced alone keeps the other one drawn, except where it drew the forced value:
        # there it takes the drawn pair's other frequency (which differs), so every trial has an answer.
        drawn_f1, drawn_f2 = params["f1"], params["f2"]
        super().impose(params, forced)
        if "f1" in forced and "f2" not in forced:
            params["f2"] = np.where(drawn_f2 == params["f1"], drawn_f1, drawn_f2)
        elif "f2" in forced and "f1" not in forced:
            params["f1"] = np.where(drawn_f1 == params["f2"], drawn_f2, drawn_f1)
        same = params["f1"] == params["f2"]
        if same.any():
            raise ValueError(f"forced parameters f1 and f2 must differ on every trial (f1 == f2 has no correct "
                             f"answer), but they are both {params['f1'][same][0]:g} Hz on {int(same.sum())} trial(s)")

    def conditions(self):
        f = self.ordered_pairs
        return {"f1": f[:, 0].copy(), "f2": f[:, 1].copy()}

    def fill(self, tr):
        tuned = {}
        for period in ("f1", "f2"):
            pos, neg = frequency_tuning(tr.params[period], self.f_min, self.f_max)
            tuned[period] = np.stack([pos, neg], axis=1).astype(np.float32)
        tr.per_period(tuned, out=tr.inputs)
        self.write_choice_targets(tr)
