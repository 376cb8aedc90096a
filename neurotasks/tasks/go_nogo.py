"""Go/no-go tasks: respond in the response window on go trials, withhold on no-go trials.

Shared by NeuroGym's native go/no-go tasks (GoNogo, DelayPairedAssociation here; the
delay-match tasks in ``neurotasks.tasks.delay_match``). A trial is a sequence of periods with
stimuli on named input channels, a ``fixation`` input that is on until the response window opens
(NeuroGym's fixation channel: its offset is the go cue), and one output, ``go``: 0.2 before the
window and on no-go trials, 1.0 in the window on go trials (Song et al. 2016's target levels).

Trial parameters: ``go`` (1 on go trials) and ``ground_truth``, derived from the trial's
condition: 0 (the ``go`` output) on go trials, -1 (no response) on no-go trials, as in
``neurotasks.tasks.yang19``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from neurotasks.batch import TrialBatch
from neurotasks.criterion import Criterion
from neurotasks.domains import Values
from neurotasks.rules import DEFAULT_CHOICE_REWARDS, ChoiceRule, held_to_end_reward
from neurotasks.task import MAX_BATCH_BYTES, MAX_TRIAL_STEPS, Trials
from neurotasks.tasks.decision import HIGH, LOW, DecisionTask
from neurotasks.timing import Duration

#: An output at or above this level (halfway between the low and high targets) is a response.
GO_THRESHOLD = 0.5 * (LOW + HIGH)


class GoNoGoRule(ChoiceRule):
    """Go/no-go: action 1 responds (licks, releases the lever), action 0 withholds.

    A response before the window opens breaks fixation and aborts the trial (``abort``). The window
    opens with ``response_period`` and lasts to the end of the trial. The first response in it ends
    the trial: ``correct`` on a go trial if it falls in the trial's ``hit_span`` (a hit; the whole
    window unless a subclass says otherwise), else ``fail`` (a false alarm). A trial that reaches its
    last step without a response earns ``miss`` on a go trial and ``correct`` on a no-go trial (a
    correct rejection), so withholding is worth learning. Catch trials want no response at all.

    From network outputs, the response is the first step of the window on which the ``go`` output
    reaches ``threshold`` (a lick); its time from the window's onset is the reaction time.
    """

    def __init__(self, response_period: str, threshold: float = GO_THRESHOLD,
                 rewards: Mapping[str, float] | None = None) -> None:
        super().__init__(response_period=response_period, rt_period=response_period)
        self.threshold = float(threshold)
        self.default_rewards = {**DEFAULT_CHOICE_REWARDS, **(rewards or {})}

    def trial_table(self, batch: TrialBatch) -> dict[str, np.ndarray]:
        table = super().trial_table(batch)
        table["go"] = batch.params["go"].astype(bool)
        table["hit_start"], table["hit_end"] = self.hit_span(batch)
        return table

    def hit_span(self, batch: TrialBatch) -> tuple[np.ndarray, np.ndarray]:
        """(B,) first and (B,) end steps where a response on a go trial is a hit: the whole window here;
        a response elsewhere in the window is a false alarm."""
        return batch.periods[self.response_period][:, 0], batch.lengths

    def step(self, table, acc, t, action, target, mask, rewards, dt):
        respond = np.asarray(action, dtype=np.int64).reshape(-1) != 0
        early = respond & (t < table["window"])
        answered = respond ^ early
        last = t >= table["length"] - 1
        go, catch = table["go"], table["catch"]
        on_target = go & (t >= table["hit_start"]) & (t < table["hit_end"])
        rejected = last & ~respond & ~go & ~catch                   # withheld to the end of a no-go trial
        hit = np.where(go, answered & on_target, rejected)
        outcome = np.where(answered, np.where(on_target, rewards["correct"], rewards["fail"]),
                           np.where(rejected, rewards["correct"], held_to_end_reward(last, catch, rewards)))
        return {
            "reward": np.where(early, rewards["abort"], outcome).astype(np.float64, copy=False),
            "done": respond | last,
            "choice": np.where(answered, 0, -1),
            "correct": np.where(catch, np.nan, hit),
            "rt": np.where(answered, (t - table["origin"]) * dt, np.nan),
            "aborted": early,
            "is_success": np.where(catch, ~early, hit),
        }

    def decode_outputs(self, batch: TrialBatch, outputs: np.ndarray) -> dict[str, np.ndarray]:
        start = batch.periods[self.response_period][:, 0]
        t = np.arange(outputs.shape[1])[None, :]
        crossed = (outputs[:, :, 0] >= self.threshold) & (t >= start[:, None]) & (t < batch.lengths[:, None])
        responded = crossed.any(axis=1)
        first = np.argmax(crossed, axis=1)
        hit_start, hit_end = self.hit_span(batch)
        catch = batch.params["catch"].astype(bool)
        hit = np.where(batch.params["go"].astype(bool), responded & (first >= hit_start) & (first < hit_end),
                       ~responded)
        return {
            "choice": np.where(responded & ~catch, 0, -1).astype(np.int64),
            "correct": np.where(catch, np.nan, hit.astype(np.float64)),
            "rt": np.where(responded, (first - start) * batch.dt, np.nan),
        }


class GoNoGoTask(DecisionTask):
    """Base of the go/no-go tasks. A subclass sets ``period_names`` (the response period last),
    ``input_names`` (``fixation`` first), ``self.durations`` and writes ``sample_params``,
    ``derive_go`` and ``stimuli``."""

    output_names = ("go",)
    #: The period in which responding is allowed (the last one).
    response_period: ClassVar[str] = "decision"
    criterion = Criterion("min_condition_percent_correct", ">=", 80.0, window=5)
    #: The task's default rewards, over NeuroGym's choice rewards (abort -0.1, correct 1, fail 0, miss 0).
    rewards: ClassVar[dict[str, float]] = {}
    suggested_network = {"n_units": 100, "excitatory_fraction": 0.8}
    derived_params = {"ground_truth": "it is 0 (respond) on go trials and -1 (withhold) on no-go trials; "
                                      "force the stimuli instead",
                      "go": "it follows from the stimuli; force them instead"}

    def __init__(self, *, dt: float = 20.0, catch_prob: float = 0.0, catch_duration: float = 2000.0,
                 input_noise: float = 0.01, tau_in: float = 100.0, input_baseline: float = 0.2,
                 max_trial_steps: int = MAX_TRIAL_STEPS, max_batch_bytes: int = MAX_BATCH_BYTES) -> None:
        super().__init__(dt=dt, catch_prob=catch_prob, catch_duration=catch_duration, input_noise=input_noise,
                         tau_in=tau_in, input_baseline=input_baseline, max_trial_steps=max_trial_steps,
                         max_batch_bytes=max_batch_bytes)
        self.rule = GoNoGoRule(self.response_period, rewards=self.rewards)

    def declare_periods(self, timing: Mapping[str, tuple[Any, str]]) -> dict[str, Duration]:
        """``self.durations`` from period name -> (the user's value, its argument's name)."""
        return {period: self.declare_period(period, value, argument) for period, (value, argument) in timing.items()}

    def derive_go(self, params: dict[str, np.ndarray]) -> np.ndarray:
        """(n,) bool: which trials are go trials."""
        raise NotImplementedError

    def stimuli(self, tr: Trials, table: np.ndarray) -> None:
        """Write each period's stimulus inputs into ``table`` (B, P + 1, n_in), in place."""
        raise NotImplementedError

    def derive_params(self, params):
        go = self.derive_go(params)
        return {**params, "go": go.astype(np.int64), "ground_truth": np.where(go, 0, -1).astype(np.int64)}

    def go_periods(self, tr: Trials) -> np.ndarray:
        """(B, P + 1) bool: the periods in which each trial wants the response (the response period of
        go trials; a column per period, the last for the padding)."""
        wanted = np.zeros((tr.n, len(self.period_names) + 1), dtype=bool)
        wanted[:, self.period_names.index(self.response_period)] = tr.params["go"].astype(bool)
        return wanted

    def fill(self, tr):
        table = tr.period_table(len(self.input_names))
        table[:, :self.period_names.index(self.response_period), 0] = 1.0      # the fixation input, off in the window
        self.stimuli(tr, table)
        tr.lay_out(table, tr.table_rows, tr.inputs)
        wanted = self.go_periods(tr)
        targets = np.where(wanted, np.float32(HIGH), np.float32(LOW))
        targets[:, -1] = 0.0
        tr.lay_out(targets, tr.table_rows, tr.targets.reshape(tr.n, tr.n_steps))
        tr.per_period({period: 1.0 for period in self.period_names}, out=tr.mask)
        tr.lay_out(wanted.astype(np.int64), tr.table_rows, tr.gt)


class GoNogo(GoNoGoTask):
    """Go/no-go: respond after a go stimulus, withhold after a no-go stimulus.

    ## Description
    NeuroGym's GoNogo, after the go/no-go task of the olfactory working-memory study it cites
    (Zhang et al. 2019, eLife 8: e43191, Chengyu Li's laboratory): a go or a no-go stimulus (an
    odor) is presented; after a delay, the agent must respond (lick) in the response window on go
    trials and withhold on no-go trials. Go and no-go trials are equally likely.

    ## Inputs
    | channel | during | value |
    |---|---|---|
    | `fixation` | every period but decision | 1 (its offset opens the response window) |
    | `nogo` | stimulus | 1 on no-go trials |
    | `go` | stimulus | 1 on go trials |

    Every input also carries a 0.2 baseline and white noise (sigma 0.01 at tau_in 100 ms, per-step
    sd sqrt(2 tau_in/dt) sigma), and is rectified.

    ## Outputs and actions
    Output `go`: 0.2 before the decision period and on no-go trials, 1.0 in the decision period
    on go trials; mask 1 throughout. Actions: `Discrete(2)`: 0 withhold (fixate), 1 respond.
    `gt` is 1 in the decision period of go trials, else 0.

    ## Periods
    fixation 100 ms; stimulus 1000 ms; delay 1000 ms; decision 500 ms.

    ## Rewards
    Responding before the decision period aborts (-0.1). The first response in it ends the trial:
    +1 on a go trial (hit), `fail` (-0.5, NeuroGym's) on a no-go trial (false alarm). No response
    earns `miss` (-0.5, NeuroGym's) on a go trial and +1 on a no-go trial (correct rejection).

    ## Criterion
    The worse of the go and no-go trials' percent correct, averaged over the last 5 validations,
    >= 80 % (the mice's criterion for a learned task in Chengyu Li's laboratory). From outputs, a
    response is the `go` output reaching 0.6 on any step of the decision period.

    ## Departures from NeuroGym
    The timing follows the mouse protocol of Li's laboratory (odor 1 s; a 0.5 s response window
    1 s after odor offset), not NeuroGym's 500/500/500 ms at dt = 100 ms. NeuroGym has no
    fixation period (0 ms); 100 ms here let the network settle before the stimulus. NeuroGym
    rewards a correct rejection with 0, which gives an agent nothing to learn from withholding when
    false alarms cost little; here it earns `correct` (as the match tasks of Yang et al. 2019 do).
    The mice had no fixation cue (their response window came at a fixed time); the `fixation`
    input is NeuroGym's.

    ## Arguments
    `dt` (20 ms), `fixation` (100), `stimulus_duration` (1000), `delay` (1000), `decision` (500),
    `catch_prob` (0), `catch_duration` (2000), `input_noise` (0.01), `tau_in` (100),
    `input_baseline` (0.2). Trial parameter: `stimulus` (1 go, 0 no-go; `go` and `ground_truth`
    are derived from it).

    Every task also takes `max_trial_steps` (10,000) and `max_batch_bytes` (4 GiB), the limits the
    base class checks (see `neurotasks.Task`).

    ## Reference
    Zhang, Yan, Wang, ..., Compte & Li (2019) eLife 8: e43191; NeuroGym 2.3.1 `GoNogo`.

    ## Version history
    v0: first version.
    """

    id = "GoNogo-v0"
    summary = "Respond after a go stimulus, withhold after a no-go one, across a delay (NeuroGym; Zhang et al. 2019)"
    reference = "Zhang et al. 2019 (eLife); NeuroGym GoNogo"
    tags = ("go/no-go", "working memory", "neurogym")
    period_names = ("fixation", "stimulus", "delay", "decision")
    input_names = ("fixation", "nogo", "go")
    rewards = {"fail": -0.5, "miss": -0.5}

    def __init__(self, *, dt: float = 20.0, fixation: float | Duration = 100.0,
                 stimulus_duration: float | Duration = 1000.0, delay: float | Duration = 1000.0,
                 decision: float | Duration = 500.0, catch_prob: float = 0.0, catch_duration: float = 2000.0,
                 input_noise: float = 0.01, tau_in: float = 100.0, input_baseline: float = 0.2,
                 max_trial_steps: int = MAX_TRIAL_STEPS, max_batch_bytes: int = MAX_BATCH_BYTES) -> None:
        super().__init__(dt=dt, catch_prob=catch_prob, catch_duration=catch_duration, input_noise=input_noise,
                         tau_in=tau_in, input_baseline=input_baseline, max_trial_steps=max_trial_steps,
                         max_batch_bytes=max_batch_bytes)
        self.durations = self.declare_periods({"fixation": (fixation, "fixation"),
                                               "stimulus": (stimulus_duration, "stimulus_duration"),
                                               "delay": (delay, "delay"), "decision": (decision, "decision")})

    def sample_params(self, n, rng):
        return {"stimulus": rng.integers(0, 2, size=n)}

    def derive_go(self, params):
        return params["stimulus"] == 1

    def param_domains(self):
        return {**super().param_domains(), "stimulus": Values((0, 1), what="1: the go stimulus, 0: the no-go one")}

    def conditions(self):
        return {"stimulus": np.array([0, 1])}

    def stimuli(self, tr, table):
        period = self.period_names.index("stimulus")
        table[np.arange(tr.n), period, 1 + tr.params["stimulus"]] = 1.0


class DelayPairedAssociation(GoNoGoTask):
    """Delayed paired association: respond when the test odor is the one paired with the sample.

    ## Description
    The olfactory delayed paired-association (DPA) task of Chengyu Li's laboratory (Liu et al.
    2014, Science 346: 458; Zhang et al. 2019, eLife 8: e43191), NeuroGym's
    DelayPairedAssociation. A sample odor (S1 or S2) is followed, after a 5 s delay, by a test
    odor (T1 or T2); the pairs S1-T1 and S2-T2 are rewarded: the agent must respond (lick) in the
    response window that opens 1 s after the test odor's offset on paired trials and withhold on
    unpaired ones. The four (sample, test) combinations are equally likely, so half the trials
    are go trials and the sample alone does not tell the answer: it must be held through the delay.

    ## Inputs
    | channel | during | value |
    |---|---|---|
    | `fixation` | every period but decision | 1 |
    | `sample_1`, `sample_2` | sample | 1 on the sample odor's channel |
    | `test_1`, `test_2` | test | 1 on the test odor's channel |

    Every input also carries a 0.2 baseline and white noise (sigma 0.01 at tau_in 100 ms), and is
    rectified.

    ## Outputs and actions
    Output `go`: 0.2 except in the decision period of paired trials, where it is 1.0; mask 1
    throughout. Actions: `Discrete(2)`: 0 withhold, 1 respond (lick).

    ## Periods
    fixation 100 ms; sample 1000 ms (odor delivery); delay 5000 ms; test 1000 ms; response_delay
    1000 ms; decision 500 ms (the response window).

    ## Rewards
    Responding before the window aborts (-0.1); the first response in it ends the trial: +1 on a
    paired trial (hit), `fail` (0) on an unpaired one (false alarm, not punished in the paper);
    no response earns `miss` (0) on a paired trial and +1 on an unpaired one (correct rejection).

    ## Criterion
    The worst of the four (sample, test) conditions' percent correct, averaged over the last 5
    validations, >= 80 % (Li's laboratory's criterion for a well-trained mouse). From outputs, a
    response is the `go` output reaching 0.6 on any step of the decision period.

    ## Departures from NeuroGym
    NeuroGym shortens the delay to 1 s (and has no fixation period); the paper's mice were
    trained and recorded with a 5 s delay (Liu et al. 2014 also used 8 s), the default here. The
    paper rewarded hits only; here a correct rejection earns `correct` so that an RL agent has a
    reason to withhold (NeuroGym punishes false alarms with -1 instead: `rewards={"fail": -1}`).

    ## Arguments
    `dt` (20 ms), `fixation` (100), `sample_duration` (1000), `delay` (5000), `test_duration`
    (1000), `response_delay` (1000), `decision` (500), `catch_prob` (0), `catch_duration` (2000),
    `input_noise` (0.01), `tau_in` (100), `input_baseline` (0.2). Trial parameters: `sample`,
    `test` (0 or 1: S1/S2, T1/T2); `go` (sample == test) and `ground_truth` are derived.

    Every task also takes `max_trial_steps` (10,000) and `max_batch_bytes` (4 GiB), the limits the
    base class checks (see `neurotasks.Task`).

    ## Reference
    Liu, Gu, Zhu, ..., Li (2014) Science 346: 458; Zhang et al. (2019) eLife 8: e43191;
    NeuroGym 2.3.1 `DelayPairedAssociation`.

    ## Version history
    v0: first version.
    """

    id = "DelayPairedAssociation-v0"
    summary = "Olfactory delayed paired association: lick for the test odor paired with the sample (Liu et al. 2014)"
    reference = "Liu et al. 2014; Zhang et al. 2019; NeuroGym DelayPairedAssociation"
    tags = ("go/no-go", "working memory", "association", "neurogym")
    period_names = ("fixation", "sample", "delay", "test", "response_delay", "decision")
    input_names = ("fixation", "sample_1", "sample_2", "test_1", "test_2")

    def __init__(self, *, dt: float = 20.0, fixation: float | Duration = 100.0,
                 sample_duration: float | Duration = 1000.0, delay: float | Duration = 5000.0,
                 test_duration: float | Duration = 1000.0, response_delay: float | Duration = 1000.0,
                 decision: float | Duration = 500.0, catch_prob: float = 0.0, catch_duration: float = 2000.0,
                 input_noise: float = 0.01, tau_in: float = 100.0, input_baseline: float = 0.2,
                 max_trial_steps: int = MAX_TRIAL_STEPS, max_batch_bytes: int = MAX_BATCH_BYTES) -> None:
        super().__init__(dt=dt, catch_prob=catch_prob, catch_duration=catch_duration, input_noise=input_noise,
                         tau_in=tau_in, input_baseline=input_baseline, max_trial_steps=max_trial_steps,
                         max_batch_bytes=max_batch_bytes)
        self.durations = self.declare_periods({
            "fixation": (fixation, "fixation"), "sample": (sample_duration, "sample_duration"),
            "delay": (delay, "delay"), "test": (test_duration, "test_duration"),
            "response_delay": (response_delay, "response_delay"), "decision": (decision, "decision")})

    def sample_params(self, n, rng):
        return {"sample": rng.integers(0, 2, size=n), "test": rng.integers(0, 2, size=n)}

    def derive_go(self, params):
        return params["sample"] == params["test"]

    def param_domains(self):
        return {**super().param_domains(), "sample": Values((0, 1), what="0: odor S1, 1: odor S2"),
                "test": Values((0, 1), what="0: odor T1, 1: odor T2")}

    def conditions(self):
        sample, test = np.meshgrid([0, 1], [0, 1], indexing="ij")
        return {"sample": sample.ravel(), "test": test.ravel()}

    def stimuli(self, tr, table):
        rows = np.arange(tr.n)
        table[rows, self.period_names.index("sample"), 1 + tr.params["sample"]] = 1.0
        table[rows, self.period_names.index("test"), 3 + tr.params["test"]] = 1.0
