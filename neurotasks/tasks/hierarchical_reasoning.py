"""Hierarchical reasoning (Sarafyazd & Jazayeri 2019): judge an interval short or long and answer by a rule
that switches, unannounced, between blocks of trials."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from neurotasks.batch import TrialBatch
from neurotasks.criterion import Criterion
from neurotasks.domains import Reals, Values
from neurotasks.rules import ChoiceRule
from neurotasks.task import MAX_BATCH_BYTES, MAX_TRIAL_STEPS, check_values
from neurotasks.tasks.decision import HIGH, LOW, DecisionTask
from neurotasks.tasks.trial_stream import Carry, TrialStream, by_stream, last_start
from neurotasks.timing import Choice, Duration, PeriodTiming, TruncatedExponential

#: The sample intervals (ms) between the two flashes, and the boundary between short and long (their median).
INTERVALS = (530.0, 610.0, 690.0, 770.0, 850.0, 930.0, 1010.0, 1090.0, 1170.0)
#: A block lasts a whole number of trials drawn uniformly from BLOCK_TRIALS (inclusive); the rule then switches.
BLOCK_TRIALS = (10, 20)
FIXATION = TruncatedExponential(600.0, 400.0, 800.0)


class HierarchicalReasoning(TrialStream, DecisionTask):
    """Two flashes mark an interval; answer towards the flashes or away from them, by whether it was short
    or long and by a hidden rule that switches between blocks.

    ## Description
    The task of Sarafyazd & Jazayeri (2019), as NeuroGym codes it. Two flashes at one of two
    locations (`side`) mark a sample interval; the agent judges it shorter or longer than the
    median interval (850 ms; an interval of exactly 850 ms is judged by a coin, `draw_tie`) and
    answers with a saccade, towards the flashes or away from them according to the rule: under
    rule 0 short means towards, under rule 1 long means towards. The rule is never shown: it
    holds for a block of 10 to 20 trials (uniform) and then switches, so after an unrewarded trial
    the agent must work out whether it misjudged the interval or the rule changed, the
    hierarchical inference the paper studies in frontal cortex. Consecutive trials are one stream
    (``TrialStream``): environments carry the block across chunks and episodes.

    ## Inputs
    | channel | during | value |
    |---|---|---|
    | `fixation` | fixation, flash1, delay, flash2 | 1 (its offset is the go cue) |
    | `stimulus_1`, `stimulus_2` | flash1, flash2 | 1 on the flashes' side |

    Every input also carries a 0.2 baseline and white noise (sigma 0.01 at tau_in 100 ms), and is
    rectified.

    ## Outputs and actions
    Outputs `choice_1`, `choice_2`: 0.2 before the decision period; 1.0 on the correct side
    (`ground_truth`) and 0.2 on the other in it; mask 1 on fixation and decision. Actions:
    `Discrete(3)`. `trials(n)` is well defined for supervised training: `n` consecutive trials of
    one stream, the targets following its rule.

    ## Periods
    fixation truncated exponential (mean 600 ms in [400, 800)); flash1 100 ms; delay the sample
    interval (530 to 1170 ms in steps of 80); flash2 100 ms; decision 700 ms.

    ## Rewards
    Responding before the decision period aborts (-0.1); the first response in it ends the trial,
    +1 if correct, 0 if not; no response earns 0.

    ## Criterion
    Mean percent correct over the last 5 validations > 75 (an agent that knows the rule still
    guesses the 850 ms interval; one that infers it loses a trial or two at each switch).

    ## Departures from NeuroGym
    NeuroGym adds a "rule_target" period (1 s) in which the agent must also report the rule, and
    pays only when both reports are right; the monkeys made no such report, so there is none here.
    NeuroGym's boundary is the median of its second interval (610 ms, a bug); here the median of
    the intervals (850 ms). dt is 20 ms (NeuroGym's 100 ms rounds 770 and 850 ms to the same 8 steps).

    ## Arguments
    `dt` (20 ms), `intervals` (the nine above), `boundary` (their median), `block_trials`
    ((10, 20)), `fixation` (TruncatedExponential(600, 400, 800)), `flash` (100), `decision` (700),
    `catch_prob` (0), `catch_duration` (2000), `input_noise` (0.01), `tau_in` (100),
    `input_baseline` (0.2). Trial parameters: `side`, `interval`, `draw_tie`, `draw_rule` (a new
    stream's first rule), `draw_block` (a block length); `rule`, `block_trial`, `long` and
    `ground_truth` are derived by the stream.

    Every task also takes `max_trial_steps` (10,000) and `max_batch_bytes` (4 GiB), the limits the
    base class checks (see `neurotasks.Task`).

    ## Reference
    Sarafyazd & Jazayeri (2019) Science 364: eaav8911; NeuroGym 2.3.1 `HierarchicalReasoning`.

    ## Version history
    v0: first version.
    """

    id = "HierarchicalReasoning-v0"
    summary = "Interval short/long, answered by a hidden rule switching every 10-20 trials (Sarafyazd & Jazayeri 2019)"
    reference = "Sarafyazd & Jazayeri 2019; NeuroGym HierarchicalReasoning"
    tags = ("decision", "timing", "rule switching", "neurogym")
    period_names = ("fixation", "flash1", "delay", "flash2", "decision")
    input_names = ("fixation", "stimulus_1", "stimulus_2")
    output_names = ("choice_1", "choice_2")
    criterion = Criterion("percent_correct", ">", 75.0, window=5)

    def __init__(self, *, dt: float = 20.0, intervals: Sequence[float] = INTERVALS, boundary: float | None = None,
                 block_trials: tuple[int, int] = BLOCK_TRIALS, fixation: float | Duration = FIXATION,
                 flash: float | Duration = 100.0, decision: float | Duration = 700.0, catch_prob: float = 0.0,
                 catch_duration: float = 2000.0, input_noise: float = 0.01, tau_in: float = 100.0,
                 input_baseline: float = 0.2, max_trial_steps: int = MAX_TRIAL_STEPS,
                 max_batch_bytes: int = MAX_BATCH_BYTES) -> None:
        super().__init__(dt=dt, catch_prob=catch_prob, catch_duration=catch_duration, input_noise=input_noise,
                         tau_in=tau_in, input_baseline=input_baseline, max_trial_steps=max_trial_steps,
                         max_batch_bytes=max_batch_bytes)
        self.intervals = check_values(intervals, "intervals", 0.0, low_inclusive=False, distinct=True)
        self.boundary = float(np.median(self.intervals)) if boundary is None else \
            float(check_values([boundary], "boundary", 0.0, low_inclusive=False)[0])
        if isinstance(block_trials, (str, bytes)) or not isinstance(block_trials, Sequence) or len(block_trials) != 2 \
                or any(isinstance(b, bool) or not isinstance(b, (int, np.integer)) for b in block_trials) \
                or not 1 <= block_trials[0] <= block_trials[1]:
            raise ValueError(f"block_trials must be (fewest, most) trials of a block, ints with 1 <= fewest <= most, "
                             f"got {block_trials!r}")
        self.block_trials = (int(block_trials[0]), int(block_trials[1]))
        self.durations = {"fixation": self.declare_period("fixation", fixation, "fixation"),
                          "flash1": self.declare_period("flash1", flash, "flash"),
                          "flash2": self.declare_period("flash2", flash, "flash"),
                          "decision": self.declare_period("decision", decision, "decision")}
        self.rule = ChoiceRule(response_period="decision")
        self.period_timing["delay"] = PeriodTiming("intervals", Choice(tuple(self.intervals.tolist())))
        self.derived_params = {name: "the stream derives it (the block's rule); force side, interval, draw_tie "
                               "instead" for name in ("rule", "block_trial", "long", "ground_truth")}

    def sample_params(self, n, rng):
        low, high = self.block_trials
        return {"side": rng.integers(0, 2, size=n), "interval": self.intervals[rng.integers(0, len(self.intervals), n)],
                "draw_tie": rng.random(n), "draw_rule": rng.integers(0, 2, size=n),
                "draw_block": rng.integers(low, high + 1, size=n)}

    def derive_params(self, params):
        n = len(params["catch"])     # placeholders: ``chain`` writes them
        return {**params, "rule": np.zeros(n, dtype=np.int64), "block_trial": np.zeros(n, dtype=np.int64),
                "long": np.zeros(n, dtype=bool), "ground_truth": np.zeros(n, dtype=np.int64)}

    def param_domains(self):
        low, high = self.block_trials
        return {**super().param_domains(), "side": Values((0, 1), what="the flashes' side"),
                "interval": Values(self.intervals, dtype=np.float64, what="one of intervals"),
                "draw_tie": Reals(0.0, 1.0, high_open=True, what="an interval at the boundary is long if below 0.5"),
                "draw_rule": Values((0, 1), what="a new stream's first rule"),
                "draw_block": Values(range(low, high + 1), what="a block's length in trials")}

    def conditions(self):
        interval, side = np.meshgrid(self.intervals, [0, 1], indexing="ij")
        return {"interval": interval.ravel(), "side": side.ravel()}

    def sample_durations(self, params, rng):
        drawn = {name: duration.sample(len(params["catch"]), rng) for name, duration in self.durations.items()}
        return {**drawn, "delay": params["interval"]}

    def fill(self, tr):
        table = tr.period_table(3)
        table[:, :4, 0] = 1.0
        for flash in (1, 3):
            table[np.arange(tr.n), flash, 1 + tr.params["side"]] = 1.0
        tr.lay_out(table, tr.table_rows, tr.inputs)
        self.write_choice_targets(tr, fixation=self.period_names[:4])   # chain rewrites the decision's targets

    # ------------------------------------------------------------------ the stream
    def new_carry(self, n: int) -> Carry:
        return {"fresh": np.ones(n, dtype=bool), "rule": np.zeros(n, dtype=np.int64),
                "left": np.zeros(n, dtype=np.int64), "block_trial": np.zeros(n, dtype=np.int64)}

    def chain(self, batch: TrialBatch, carry: Mapping[str, np.ndarray]) -> Carry:
        """Blocks as a renewal process: a chunk's blocks start where the carried one ends (a fresh stream:
        at its first trial) and last ``draw_block`` of the chunk's first, second... trials; the rule
        flips at each start."""
        params, fresh = batch.params, carry["fresh"]
        n_streams = len(fresh)
        lengths = by_stream(params["draw_block"], n_streams)                        # (S, n)
        n = lengths.shape[1]
        first = np.where(fresh, 0, carry["left"])                                   # the first start
        starts = first[:, None] + np.concatenate([np.zeros((n_streams, 1), np.int64), np.cumsum(lengths, axis=1)],
                                                 axis=1)                            # (S, n + 1), increasing
        is_start = np.zeros((n_streams, n + 1), dtype=bool)
        rows = np.broadcast_to(np.arange(n_streams)[:, None], starts.shape)
        is_start[rows, np.minimum(starts, n)] = True                                # column n collects those beyond
        is_start = is_start[:, :n]
        before = np.where(fresh, 1 - by_stream(params["draw_rule"], n_streams)[:, 0], carry["rule"])
        rule = (before[:, None] + np.cumsum(is_start, axis=1)) % 2
        start = last_start(is_start)
        block_trial = np.where(start >= 0, np.arange(n)[None, :] - start,
                               carry["block_trial"][:, None] + 1 + np.arange(n)[None, :])
        next_start = np.where(starts >= n, starts, np.iinfo(np.int64).max).min(axis=1)

        interval = params["interval"]
        long = (interval > self.boundary) | ((interval == self.boundary) & (params["draw_tie"] < 0.5))
        towards = long == rule.ravel().astype(bool)
        answer = np.where(towards, params["side"], 1 - params["side"]).astype(np.int64)
        params["rule"][:], params["block_trial"][:] = rule.ravel(), block_trial.ravel()
        params["long"][:], params["ground_truth"][:] = long, answer
        decision = batch.periods["decision"]
        t = np.arange(batch.n_steps)[None, :]
        window = (t >= decision[:, :1]) & (t < decision[:, 1:])
        level = np.where(answer[:, None] == np.arange(2)[None, :], np.float32(HIGH), np.float32(LOW))
        np.copyto(batch.targets, level[:, None, :], where=window[:, :, None])
        np.copyto(batch.gt, (answer + 1)[:, None], where=window)
        return {"fresh": np.zeros(n_streams, dtype=bool), "rule": rule[:, -1], "left": next_start - n,
                "block_trial": block_trial[:, -1]}
