"""Pulse-based accumulation: count brief pulses on two channels, report the side with more."""

from __future__ import annotations

import numpy as np

from neurotasks.domains import Values
from neurotasks.rules import ChoiceRule
from neurotasks.task import MAX_BATCH_BYTES, MAX_TRIAL_STEPS, check_milliseconds, check_number
from neurotasks.tasks.decision import DecisionTask
from neurotasks.timing import Constant, Duration, PeriodTiming

#: The most bins a trial can have (the pulses of a channel are the bits of an int, and each of the
#: 2**n_bins patterns is a value of its domain).
MAX_BINS = 16


class PulseDecision(DecisionTask):
    """Accumulate discrete pulses from two sides and choose the side that gave more.

    ## Description
    NeuroGym's PulseDecisionMaking, a discretised version of the Poisson-clicks accumulation task
    of Brunton, Botvinick & Brody (2013) as run by Scott, Constantinople, Erlich, Tank & Brody
    (2015). The stimulus is `n_bins` (6) bins of 250 ms; at the start of each bin each of the two
    channels may give a 10 ms pulse, with probability 0.7 on the rich side and 0.3 on the other
    (the rich side is drawn per trial). The agent must report the side that gave more pulses
    (a tie is decided by a coin flip, as in NeuroGym), so the pulses must be counted, not the
    last one remembered.

    ## Inputs
    | channel | during | value |
    |---|---|---|
    | `fixation` | fixation, stimulus | 1 (its offset asks for the choice) |
    | `pulse_1`, `pulse_2` | the first `pulse_duration` (10 ms) of each bin | 1 if that side gave a pulse in that bin |

    Every input also carries a 0.2 baseline and white noise (sigma 0.01 at tau_in 100 ms), and is
    rectified.

    ## Outputs and actions
    Outputs `choice_1`, `choice_2`: 0.2 during fixation and stimulus; 1.0 on the correct one and
    0.2 on the other in the decision period; mask 1 throughout. Actions: `Discrete(3)`.

    ## Periods
    fixation 500 ms; stimulus `n_bins` x `bin_duration` (6 x 250 ms); decision 500 ms.

    ## Rewards
    Responding before the decision period aborts (-0.1); the first choice in it ends the trial:
    +1 if correct, 0 if wrong; no choice earns 0.

    ## Criterion
    Mean percent correct of the last 5 validations > 85 % (the ideal observer scores about 96 %:
    it loses only the ties, 7.9 % of trials at the defaults, half the time). Choice from outputs:
    the larger output at the last step of the decision period. No condition grid.

    ## Departures from NeuroGym
    NeuroGym's fixation input stays on during the decision period's first step and its bins are
    separate periods; here one stimulus period. The rats heard Poisson trains of clicks at up to
    40 Hz for up to a second: the bins are NeuroGym's simplification.

    ## Arguments
    `dt` (10 ms), `n_bins` (6; at most 16), `bin_duration` (250 ms), `pulse_duration` (10 ms;
    shorter than a bin), `p_pulse` ((0.3, 0.7): the poor and rich sides' pulse probabilities),
    `fixation` (500), `decision` (500), `catch_prob` (0), `catch_duration` (2000), `input_noise`
    (0.01), `tau_in` (100), `input_baseline` (0.2). Trial parameters: `pulses_1`, `pulses_2` (bit
    k set: a pulse in bin k), `rich_side` (0 or 1), `tie_break` (0 or 1: the answer on a tie);
    `n_pulses_1`, `n_pulses_2` and `ground_truth` are derived.

    Every task also takes `max_trial_steps` (10,000) and `max_batch_bytes` (4 GiB), the limits the
    base class checks (see `neurotasks.Task`).

    ## Reference
    Scott, Constantinople, Erlich, Tank & Brody (2015) eLife 4: e11308; Brunton, Botvinick &
    Brody (2013) Science 340: 95; NeuroGym 2.3.1 `PulseDecisionMaking`.

    ## Version history
    v0: first version.
    """

    id = "PulseDecision-v0"
    summary = "Count brief pulses on two sides over 6 bins and choose the side with more (Scott et al. 2015; NeuroGym)"
    reference = "Scott et al. 2015; Brunton et al. 2013; NeuroGym PulseDecisionMaking"
    tags = ("decision", "evidence integration", "neurogym")
    period_names = ("fixation", "stimulus", "decision")
    input_names = ("fixation", "pulse_1", "pulse_2")
    output_names = ("choice_1", "choice_2")
    derived_params = {name: "it is counted from pulses_1 and pulses_2 (and tie_break); force those instead"
                      for name in ("n_pulses_1", "n_pulses_2", "ground_truth")}

    def __init__(self, *, dt: float = 10.0, n_bins: int = 6, bin_duration: float = 250.0,
                 pulse_duration: float = 10.0, p_pulse: tuple[float, float] = (0.3, 0.7),
                 fixation: float | Duration = 500.0, decision: float | Duration = 500.0, catch_prob: float = 0.0,
                 catch_duration: float = 2000.0, input_noise: float = 0.01, tau_in: float = 100.0,
                 input_baseline: float = 0.2, max_trial_steps: int = MAX_TRIAL_STEPS,
                 max_batch_bytes: int = MAX_BATCH_BYTES) -> None:
        super().__init__(dt=dt, catch_prob=catch_prob, catch_duration=catch_duration, input_noise=input_noise,
                         tau_in=tau_in, input_baseline=input_baseline, max_trial_steps=max_trial_steps,
                         max_batch_bytes=max_batch_bytes)
        if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or not 1 <= n_bins <= MAX_BINS:
            raise ValueError(f"n_bins must be an int in [1, {MAX_BINS}], got {n_bins!r}")
        self.n_bins = int(n_bins)
        self.bin_steps = round(check_milliseconds(bin_duration, "bin_duration") / self.dt)
        self.pulse_steps = round(check_milliseconds(pulse_duration, "pulse_duration") / self.dt)
        if not 1 <= self.pulse_steps < self.bin_steps:
            raise ValueError(f"pulse_duration ({pulse_duration!r} ms) must last at least one step and fewer steps "
                             f"than bin_duration ({bin_duration!r} ms) at dt={self.dt:g} ms")
        if not isinstance(p_pulse, (tuple, list, np.ndarray)) or len(p_pulse) != 2:
            raise ValueError(f"p_pulse must be two probabilities (poor side, rich side), got {p_pulse!r}")
        low, high = (check_number(p, "p_pulse") for p in p_pulse)
        if not 0.0 <= low <= high <= 1.0:
            raise ValueError(f"p_pulse must be two probabilities (poor side, rich side) with poor <= rich, "
                             f"got {p_pulse!r}")
        self.p_pulse = (low, high)
        self.durations = {"fixation": self.declare_period("fixation", fixation, "fixation"),
                          "decision": self.declare_period("decision", decision, "decision")}
        self.period_timing["stimulus"] = PeriodTiming("n_bins and bin_duration",
                                                      Constant(self.n_bins * self.bin_steps * self.dt))
        self.rule = ChoiceRule(response_period="decision", rt_period="decision")

    def sample_params(self, n, rng):
        rich = rng.integers(0, 2, size=n)
        p = np.where(np.stack([rich == 0, rich == 1], axis=1), self.p_pulse[1], self.p_pulse[0])     # (n, 2)
        bits = rng.random((n, 2, self.n_bins)) < p[:, :, None]
        pulses = (bits * (np.int64(1) << np.arange(self.n_bins, dtype=np.int64))).sum(axis=2)
        return {"pulses_1": pulses[:, 0], "pulses_2": pulses[:, 1], "rich_side": rich,
                "tie_break": rng.integers(0, 2, size=n)}

    def derive_params(self, params):
        count = [_popcount(params[f"pulses_{c}"], self.n_bins) for c in (1, 2)]
        answer = np.where(count[0] > count[1], 0, np.where(count[1] > count[0], 1, params["tie_break"]))
        return {**params, "n_pulses_1": count[0], "n_pulses_2": count[1], "ground_truth": answer.astype(np.int64)}

    def param_domains(self):
        patterns = Values(range(2 ** self.n_bins), what=f"bit k: a pulse in bin k of {self.n_bins}")
        side = Values((0, 1))
        return {**super().param_domains(), "pulses_1": patterns, "pulses_2": patterns, "rich_side": side,
                "tie_break": side}

    def sample_durations(self, params, rng):
        n = len(params["catch"])
        drawn = {name: duration.sample(n, rng) for name, duration in self.durations.items()}
        return {**drawn, "stimulus": np.full(n, self.n_bins * self.bin_steps * self.dt)}

    def fill(self, tr):
        table = tr.period_table(3)
        table[:, :2, 0] = 1.0                                                       # the fixation input
        tr.lay_out(table, tr.table_rows, tr.inputs)
        since = tr.t[None, :] - tr.onset("stimulus")[:, None]                      # (B, T) steps into the stimulus
        on = (since >= 0) & (since < self.n_bins * self.bin_steps) & (since % self.bin_steps < self.pulse_steps)
        on &= ~tr.params["catch"][:, None]
        bin_index = np.clip(since // self.bin_steps, 0, self.n_bins - 1)
        for c in (1, 2):
            fired = (tr.params[f"pulses_{c}"][:, None] >> bin_index) & 1
            tr.inputs[:, :, c] = on & (fired == 1)
        self.write_choice_targets(tr, fixation=("fixation", "stimulus"))


def _popcount(bits: np.ndarray, n_bins: int) -> np.ndarray:
    """(n,) number of set bits among the lowest ``n_bins`` of each int."""
    return ((np.asarray(bits, dtype=np.int64)[:, None] >> np.arange(n_bins)) & 1).sum(axis=1)
