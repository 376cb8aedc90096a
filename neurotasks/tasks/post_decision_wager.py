"""Post-decision wagering (Kiani & Shadlen 2009): a random-dot choice with, on half the trials, a sure bet."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from neurotasks.batch import TrialBatch
from neurotasks.criterion import Criterion
from neurotasks.domains import Values
from neurotasks.rules import DEFAULT_CHOICE_REWARDS, ChoiceRule
from neurotasks.task import MAX_BATCH_BYTES, MAX_TRIAL_STEPS, check_duration, check_number, check_values
from neurotasks.tasks.decision import DecisionTask
from neurotasks.tasks.perceptual_decision import evidence
from neurotasks.timing import Duration, PeriodTiming, TruncatedExponential, Uniform

#: Kiani & Shadlen's motion coherences (%), 0 included.
COHERENCES = (0.0, 3.2, 6.4, 12.8, 25.6, 51.2)
#: Motion viewing duration: truncated exponential on [100, 900) ms (NeuroGym: scale 180 ms).
STIMULUS = TruncatedExponential(180.0, 100.0, 900.0)
#: From motion offset to the go cue: truncated exponential on [1200, 1800) ms (NeuroGym: scale 1350 ms).
DELAY = TruncatedExponential(1350.0, 1200.0, 1800.0)
#: From motion offset to the sure target's onset, on wager trials: uniform on [500, 750) ms.
SURE_ONSET = Uniform(500.0, 750.0)
#: The sure target's reward, a fraction of a correct choice's (NeuroGym's 0.7).
SURE_REWARD = 0.7


class WagerRule(ChoiceRule):
    """Two choices and, on wager trials, a sure bet (action 3) that always pays ``sure``.

    The sure bet ends the trial with reward ``sure`` on a wager trial (its ``correct`` is NaN: a
    waived decision, left out of the accuracy) and ``abort`` on a trial that offered none. Everything
    else is ``ChoiceRule``'s. The outcome's ``sure`` says whether the sure bet was taken.
    """

    outcome_fields = ("choice", "correct", "rt", "aborted", "sure")

    def __init__(self, sure_reward: float) -> None:
        super().__init__(response_period="decision", rt_period="decision")
        self.default_rewards = {**DEFAULT_CHOICE_REWARDS, "sure": float(sure_reward)}

    def trial_table(self, batch: TrialBatch) -> dict[str, np.ndarray]:
        table = super().trial_table(batch)
        table["wager"] = batch.params["wager"].astype(bool)
        return table

    def step(self, table, acc, t, action, target, mask, rewards, dt):
        action = np.asarray(action, dtype=np.int64).reshape(-1)
        out = super().step(table, acc, t, np.where(action == 3, 0, action), target, mask, rewards, dt)
        sure = (action == 3) & (t >= table["window"])
        taken = sure & table["wager"]
        refused = (action == 3) & ~taken               # early, or not offered: a fixation break
        out["reward"] = np.where(taken, rewards["sure"], np.where(refused, rewards["abort"], out["reward"]))
        out["done"] = out["done"] | (action == 3)
        out["choice"] = np.where(sure, 2, out["choice"])
        out["correct"] = np.where(taken, np.nan, np.where(refused & ~table["catch"], 0.0, out["correct"]))
        out["rt"] = np.where(sure, (t - table["origin"]) * dt, out["rt"])
        out["aborted"] = out["aborted"] | refused
        out["is_success"] = np.where(refused, False, out["is_success"] | taken)
        out["sure"] = taken
        return out

    def decode_outputs(self, batch: TrialBatch, outputs: np.ndarray) -> dict[str, np.ndarray]:
        out = super().decode_outputs(batch, outputs)
        wager = batch.params["wager"].astype(bool)
        sure = out["choice"] == 2
        out["correct"] = np.where(sure & wager, np.nan, np.where(sure, 0.0, out["correct"]))
        out["sure"] = sure & wager
        return out


class PostDecisionWager(DecisionTask):
    """Choose the motion direction, or, when a sure target is offered, take a small certain reward.

    ## Description
    The post-decision wagering task of Kiani & Shadlen (2009), NeuroGym's PostDecisionWager. The
    agent views random-dot motion for a random time; during the delay that follows, on a random
    half of the trials, a sure target appears: choosing it waives the decision for a smaller but
    certain reward. An agent that knows how confident it is takes the sure bet when it is
    unsure (at weak motion and short viewing); its accuracy on the trials where it declined the
    bet is higher than where the bet was not offered (the paper's signature of confidence).

    ## Inputs
    | channel | during | value |
    |---|---|---|
    | `fixation` | every period but decision | 1 (its offset is the go cue) |
    | `stimulus_1` | stimulus | (1 + c/100)/2 if direction 1 is correct, else (1 - c/100)/2 |
    | `stimulus_2` | stimulus | the complement |
    | `sure` | sure_delay, decision | 1 on wager trials |

    Every input also carries a 0.2 baseline and white noise (sigma 0.01 at tau_in 100 ms), and is
    rectified.

    ## Outputs and actions
    Outputs `choice_1`, `choice_2`, `sure`: 0.2 before the decision period; in it 1.0 on the
    correct direction, 0.2 on the others. The supervised targets teach the discrimination only:
    whether to take the sure bet depends on the agent's own confidence, which no target can say,
    so the wager is learned from reward (the environment). Actions: `Discrete(4)`: 0 fixate,
    1, 2 the directions, 3 the sure target.

    ## Periods
    fixation 100 ms; stimulus truncated exponential on [100, 900) ms (scale 180); pre_sure uniform
    on [500, 750) ms (motion offset to the sure target); sure_delay the rest of a delay drawn
    truncated exponential on [1200, 1800) ms (scale 1350) from motion offset to the go cue;
    decision 100 ms.

    ## Rewards
    Responding before the decision period aborts (-0.1). In it: the correct direction +1, the
    wrong one 0, the sure target `sure` (0.7) on wager trials and -0.1 (an abort) on the others.

    ## Criterion
    Mean percent correct (over trials whose decision was not waived) of the last 5 validations
    > 75 % (a sixth of the trials have no motion; a perfect integrator reaches about 80 %). Choice
    from outputs: the largest output at the last step of the decision period. `percent_sure` (the
    share of wager trials where the sure target was taken) is reported too.

    ## Departures from NeuroGym
    NeuroGym's sure-target period is inserted after the stimulus and shifts the delay; here the
    sure target comes on within the delay (pre_sure + sure_delay is the delay), as in the paper.

    ## Arguments
    `dt` (20 ms), `coherences` (0, 3.2, 6.4, 12.8, 25.6, 51.2 %), `wager_prob` (0.5), `sure_reward`
    (0.7), `fixation` (100), `stimulus_duration`, `delay`, `sure_onset` (see Periods; the sure
    onset must come before the shortest delay ends), `decision` (100), `catch_prob` (0),
    `catch_duration` (2000), `input_noise` (0.01), `tau_in` (100), `input_baseline` (0.2). Trial
    parameters: `ground_truth`, `coherence`, `wager` (1: the sure target is offered).

    Every task also takes `max_trial_steps` (10,000) and `max_batch_bytes` (4 GiB), the limits the
    base class checks (see `neurotasks.Task`).

    ## Reference
    Kiani & Shadlen (2009) Science 324: 759; NeuroGym 2.3.1 `PostDecisionWager`.

    ## Version history
    v0: first version.
    """

    id = "PostDecisionWager-v0"
    summary = "Random-dot choice with a sure bet offered on half the trials: confidence (Kiani & Shadlen 2009)"
    reference = "Kiani & Shadlen 2009; NeuroGym PostDecisionWager"
    tags = ("decision", "confidence", "evidence integration", "neurogym")
    period_names = ("fixation", "stimulus", "pre_sure", "sure_delay", "decision")
    input_names = ("fixation", "stimulus_1", "stimulus_2", "sure")
    output_names = ("choice_1", "choice_2", "sure")
    criterion = Criterion("percent_correct", ">", 75.0, window=5)

    def __init__(self, *, dt: float = 20.0, coherences: Sequence[float] = COHERENCES, wager_prob: float = 0.5,
                 sure_reward: float = SURE_REWARD, fixation: float | Duration = 100.0,
                 stimulus_duration: float | Duration = STIMULUS, delay: float | Duration = DELAY,
                 sure_onset: float | Duration = SURE_ONSET, decision: float | Duration = 100.0,
                 catch_prob: float = 0.0, catch_duration: float = 2000.0, input_noise: float = 0.01,
                 tau_in: float = 100.0, input_baseline: float = 0.2, max_trial_steps: int = MAX_TRIAL_STEPS,
                 max_batch_bytes: int = MAX_BATCH_BYTES) -> None:
        super().__init__(dt=dt, catch_prob=catch_prob, catch_duration=catch_duration, input_noise=input_noise,
                         tau_in=tau_in, input_baseline=input_baseline, max_trial_steps=max_trial_steps,
                         max_batch_bytes=max_batch_bytes)
        self.coherences = check_values(coherences, "coherences", 0.0, 100.0)
        self.wager_prob = check_number(wager_prob, "wager_prob")
        if not 0.0 <= self.wager_prob <= 1.0:
            raise ValueError(f"wager_prob must be a probability in [0, 1], got {wager_prob!r}")
        self.delay = check_duration(delay, "delay")
        self.sure_onset = self.declare_period("pre_sure", sure_onset, "sure_onset")
        if not self.sure_onset.max < self.delay.min:
            raise ValueError(f"sure_onset (up to {self.sure_onset.max:g} ms) must come before the shortest delay "
                             f"ends ({self.delay.min:g} ms, delay)")
        self.period_timing["sure_delay"] = PeriodTiming("delay and sure_onset", Uniform(
            self.delay.min - self.sure_onset.max, self.delay.max - self.sure_onset.min))
        self.durations = {"fixation": self.declare_period("fixation", fixation, "fixation"),
                          "stimulus": self.declare_period("stimulus", stimulus_duration, "stimulus_duration"),
                          "decision": self.declare_period("decision", decision, "decision")}
        self.rule = WagerRule(check_number(sure_reward, "sure_reward"))

    def sample_params(self, n, rng):
        return {"ground_truth": rng.integers(0, 2, size=n),
                "coherence": self.coherences[rng.integers(0, len(self.coherences), size=n)],
                "wager": (rng.random(n) < self.wager_prob).astype(np.int64)}

    def param_domains(self):
        return {**super().param_domains(), "ground_truth": Values((0, 1), what="the motion direction"),
                "coherence": Values(self.coherences, float, what="%"),
                "wager": Values((0, 1), what="1: the sure target is offered")}

    def conditions(self):
        coherence, gt, wager = np.meshgrid(self.coherences, [0, 1], [0, 1], indexing="ij")
        return {"coherence": coherence.ravel(), "ground_truth": gt.ravel(), "wager": wager.ravel()}

    def sample_durations(self, params, rng):
        n = len(params["catch"])
        drawn = {name: duration.sample(n, rng) for name, duration in self.durations.items()}
        delay, onset = self.delay.sample(n, rng), self.sure_onset.sample(n, rng)
        return {**drawn, "pre_sure": onset, "sure_delay": delay - onset}

    def fill(self, tr):
        table = tr.period_table(4)
        table[:, :4, 0] = 1.0
        table[:, 1, 1:3] = evidence(tr.params["coherence"], tr.params["ground_truth"])
        table[:, 3:5, 3] = tr.params["wager"][:, None]
        tr.lay_out(table, tr.table_rows, tr.inputs)
        self.write_choice_targets(tr, fixation=("fixation", "stimulus", "pre_sure", "sure_delay"))

    def score(self, batch: TrialBatch, evaluation: Mapping[str, np.ndarray]) -> dict[str, float]:
        """``percent_correct`` over decisions not waived, and ``percent_sure`` of the wager trials."""
        out = super().score(batch, evaluation)
        offered = batch.params["wager"].astype(bool) & ~batch.params["catch"].astype(bool)
        sure = np.asarray(evaluation.get("sure", np.zeros(len(batch), bool)), dtype=bool)
        out["percent_sure"] = float(100.0 * sure[offered].mean()) if offered.any() else float("nan")
        return out
