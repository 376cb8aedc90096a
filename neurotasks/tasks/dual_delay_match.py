"""Two-item delayed match to sample with retro-cues (Rose et al. 2016): two tests, two answers per trial."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from neurotasks.batch import TrialBatch
from neurotasks.domains import Values
from neurotasks.rules import DEFAULT_CHOICE_REWARDS, ResponseRule, held_to_end_reward
from neurotasks.task import MAX_BATCH_BYTES, MAX_TRIAL_STEPS
from neurotasks.tasks.decision import DecisionTask
from neurotasks.timing import Duration

PERIODS = ("fixation", "sample", "delay1", "cue1", "test1", "delay2", "cue2", "test2")


class TwoAnswerRule(ResponseRule):
    """Two match / non-match answers, one in each of the test periods ``test1`` and ``test2``.

    Action 1 answers "match", 2 "non-match". A response outside the two tests breaks fixation and
    aborts the trial (``abort``). The first response in test1 earns ``correct`` or ``fail`` and the
    trial goes on (later responses in test1 are ignored); the first response in test2 earns
    ``correct`` or ``fail`` and ends the trial. A trial is correct when both answers are. A trial
    that ends without a second answer earns ``miss`` at its last step. Outcome fields: ``choice``
    (the second answer), ``first_choice`` (-1: none), ``correct``, ``rt`` (of the second answer,
    from test2's onset), ``aborted``.
    """

    action_kind = "discrete"
    default_rewards = DEFAULT_CHOICE_REWARDS
    outcome_fields = ("choice", "first_choice", "correct", "rt", "aborted")

    def trial_table(self, batch: TrialBatch) -> dict[str, np.ndarray]:
        catch = batch.params["catch"].astype(bool)
        never = batch.lengths                              # catch trials have no test: any response aborts
        table = {"catch": catch, "length": batch.lengths,
                 "answer_1": batch.params["answer_first"], "answer_2": batch.params["answer_second"]}
        for k in (1, 2):
            span = batch.periods[f"test{k}"]
            table[f"start_{k}"], table[f"end_{k}"] = np.where(catch, never, span[:, 0]), np.where(catch, never,
                                                                                                   span[:, 1])
        return table

    def new_accumulator(self, n: int) -> dict[str, np.ndarray]:
        return {"first": np.full(n, -1, dtype=np.int64)}

    def reset_accumulator(self, acc: dict[str, np.ndarray], rows: np.ndarray) -> None:
        acc["first"][rows] = -1

    def step(self, table, acc, t, action, target, mask, rewards, dt):
        action = np.asarray(action, dtype=np.int64).reshape(-1)
        respond = action != 0
        in_first = (t >= table["start_1"]) & (t < table["end_1"])
        in_second = (t >= table["start_2"]) & (t < table["end_2"])
        early = respond & ~in_first & ~in_second
        first_now = respond & in_first & (acc["first"] == -1)
        acc["first"] = np.where(first_now, action - 1, acc["first"])
        second = respond & in_second
        last = t >= table["length"] - 1
        scored = np.where(first_now, action - 1 == table["answer_1"], action - 1 == table["answer_2"])
        catch = table["catch"]
        reward = np.where(early, rewards["abort"],
                          np.where(first_now | second, np.where(scored, rewards["correct"], rewards["fail"]),
                                   held_to_end_reward(last, catch, rewards)))
        both = second & (acc["first"] == table["answer_1"]) & (action - 1 == table["answer_2"])
        return {
            "reward": reward.astype(np.float64, copy=False),
            "done": early | second | last,
            "choice": np.where(second, action - 1, -1),
            "first_choice": acc["first"].copy(),
            "correct": np.where(catch, np.nan, both),
            "rt": np.where(second, (t - table["start_2"]) * dt, np.nan),
            "aborted": early,
            "is_success": np.where(catch, ~early, both),
        }

    def decode_outputs(self, batch: TrialBatch, outputs: np.ndarray) -> dict[str, np.ndarray]:
        rows = np.arange(len(batch))
        answers = [np.argmax(outputs[rows, np.maximum(batch.periods[f"test{k}"][:, 1] - 1, 0)], axis=-1)
                   for k in (1, 2)]
        catch = batch.params["catch"].astype(bool)
        both = (answers[0] == batch.params["answer_first"]) & (answers[1] == batch.params["answer_second"])
        return {"choice": np.where(catch, -1, answers[1]).astype(np.int64),
                "first_choice": np.where(catch, -1, answers[0]).astype(np.int64),
                "correct": np.where(catch, np.nan, both.astype(np.float64)), "rt": np.full(len(batch), np.nan)}


class DualDelayMatchSample(DecisionTask):
    """Hold two items; a cue says which is tested first; answer match / non-match for each in turn.

    ## Description
    The two-item delayed match-to-sample task with retro-cues of Rose et al. (2016), NeuroGym's
    DualDelayMatchSample. Two sample items are shown together; after a delay a cue says which
    one will be tested, and a test item asks whether it matches that sample; then a second cue and
    test probe the other item. The item cued first is the "attended" memory; the other must be
    kept too, in a latent state (which Rose et al. reactivated with TMS).

    ## Inputs
    | channel | during | value |
    |---|---|---|
    | `fixation` | every period but test1 and test2 | 1 (off while an answer is allowed) |
    | `item_1_a`, `item_1_b` | sample; the test of item 1 | 1 on item 1's value (a or b) |
    | `item_2_a`, `item_2_b` | sample; the test of item 2 | 1 on item 2's value |
    | `cue_1`, `cue_2` | the cue before each item's test | 1 |

    Every input also carries a 0.2 baseline and white noise (sigma 0.01 at tau_in 100 ms), and is
    rectified.

    ## Outputs and actions
    Outputs `match`, `non_match`: 0.2 outside the tests; in test1 1.0 on the first answer and 0.2
    on the other, and the same for the second answer in test2; mask 1 throughout. Actions:
    `Discrete(3)`: 0 fixate, 1 match, 2 non-match. `gt` is the answer + 1 in each test.

    ## Periods
    fixation, sample, delay1, cue1, test1, delay2, cue2, test2: 500 ms each.

    ## Rewards
    Responding outside the tests aborts (-0.1); the first answer in each test earns +1 if right,
    0 if wrong; the answer in test2 ends the trial. Two right answers earn 2.

    ## Criterion
    Mean percent of trials with both answers right over the last 5 validations > 85 % (chance: 25 %).
    Answers from outputs: the larger output at the last step of each test.

    ## Departures from NeuroGym
    NeuroGym's fixation input stays on throughout and every response in test1 is rewarded; here the
    fixation input goes off during the tests and only the first answer in test1 counts. NeuroGym
    codes each item as (cos, sin) of 0 or 90 degrees, which is the one-hot code here. The timing is
    NeuroGym's (the paper's human trials were slower; its numbers are not checked here).

    ## Arguments
    `dt` (20 ms), a duration for each period (`fixation`, `sample_duration`, `delay1`,
    `cue_duration`, `test_duration`, `delay2`; 500 ms each; the two cues and the two tests share
    theirs), `catch_prob` (0), `catch_duration` (2000), `input_noise` (0.01), `tau_in` (100),
    `input_baseline` (0.2). Trial parameters: `sample_1`, `sample_2` (0 a, 1 b), `match_1`,
    `match_2` (1: that item's test matches), `test_order` (0: item 1 is tested first);
    `answer_first`, `answer_second` (0 match, 1 non-match) and `ground_truth` (the first answer)
    are derived.

    Every task also takes `max_trial_steps` (10,000) and `max_batch_bytes` (4 GiB), the limits the
    base class checks (see `neurotasks.Task`).

    ## Reference
    Rose, LaRocque, Riggall, Gosseries, Starrett, Meyering & Postle (2016) Science 354: 1136;
    NeuroGym 2.3.1 `DualDelayMatchSample`.

    ## Version history
    v0: first version.
    """

    id = "DualDelayMatchSample-v0"
    summary = "Two items held; retro-cues say which is tested first; two match / non-match answers (Rose et al. 2016)"
    reference = "Rose et al. 2016; NeuroGym DualDelayMatchSample"
    tags = ("working memory", "attention", "neurogym")
    period_names = PERIODS
    input_names = ("fixation", "item_1_a", "item_1_b", "item_2_a", "item_2_b", "cue_1", "cue_2")
    output_names = ("match", "non_match")
    derived_params = {name: "it follows from the samples, the matches and test_order; force those instead"
                      for name in ("answer_first", "answer_second", "ground_truth")}

    def __init__(self, *, dt: float = 20.0, fixation: float | Duration = 500.0,
                 sample_duration: float | Duration = 500.0, delay1: float | Duration = 500.0,
                 cue_duration: float | Duration = 500.0, test_duration: float | Duration = 500.0,
                 delay2: float | Duration = 500.0, catch_prob: float = 0.0, catch_duration: float = 2000.0,
                 input_noise: float = 0.01, tau_in: float = 100.0, input_baseline: float = 0.2,
                 max_trial_steps: int = MAX_TRIAL_STEPS, max_batch_bytes: int = MAX_BATCH_BYTES) -> None:
        super().__init__(dt=dt, catch_prob=catch_prob, catch_duration=catch_duration, input_noise=input_noise,
                         tau_in=tau_in, input_baseline=input_baseline, max_trial_steps=max_trial_steps,
                         max_batch_bytes=max_batch_bytes)
        timing = {"fixation": (fixation, "fixation"), "sample": (sample_duration, "sample_duration"),
                  "delay1": (delay1, "delay1"), "cue1": (cue_duration, "cue_duration"),
                  "test1": (test_duration, "test_duration"), "delay2": (delay2, "delay2"),
                  "cue2": (cue_duration, "cue_duration"), "test2": (test_duration, "test_duration")}
        self.durations = {p: self.declare_period(p, *timing[p]) for p in PERIODS}
        self.rule = TwoAnswerRule()

    def sample_params(self, n, rng):
        draws = rng.integers(0, 2, size=(5, n))
        return dict(zip(("sample_1", "sample_2", "match_1", "match_2", "test_order"), draws, strict=True))

    def derive_params(self, params):
        first_is_1 = params["test_order"] == 0
        match_first = np.where(first_is_1, params["match_1"], params["match_2"])
        match_second = np.where(first_is_1, params["match_2"], params["match_1"])
        answer_first = (1 - match_first).astype(np.int64)
        return {**params, "answer_first": answer_first, "answer_second": (1 - match_second).astype(np.int64),
                "ground_truth": answer_first}

    def param_domains(self):
        binary = Values((0, 1))
        return {**super().param_domains(), **{name: binary for name in
                                              ("sample_1", "sample_2", "match_1", "match_2", "test_order")}}

    def conditions(self):
        grid = np.meshgrid(*([[0, 1]] * 5), indexing="ij")
        return {name: g.ravel() for name, g in
                zip(("sample_1", "sample_2", "match_1", "match_2", "test_order"), grid, strict=True)}

    def fill(self, tr):
        p, rows = tr.params, np.arange(tr.n)
        index = {name: PERIODS.index(name) for name in PERIODS}
        table = tr.period_table(len(self.input_names))
        table[:, [index[q] for q in PERIODS if not q.startswith("test")], 0] = 1.0
        first_is_1 = p["test_order"] == 0
        for item in (1, 2):
            sample = p[f"sample_{item}"]
            test = np.where(p[f"match_{item}"] == 1, sample, 1 - sample)
            channel = 1 + 2 * (item - 1)
            table[rows, index["sample"], channel + sample] = 1.0
            tested_first = first_is_1 if item == 1 else ~first_is_1
            test_period = np.where(tested_first, index["test1"], index["test2"])
            cue_period = np.where(tested_first, index["cue1"], index["cue2"])
            table[rows, test_period, channel + test] = 1.0
            table[rows, cue_period, 4 + item] = 1.0
        tr.lay_out(table, tr.table_rows, tr.inputs)
        targets = tr.period_table(2)
        targets[:, :-1] = 0.2
        gt = tr.period_table(None, np.int64)
        for k, name in ((index["test1"], "answer_first"), (index["test2"], "answer_second")):
            targets[rows, k, p[name]] = 1.0
            gt[:, k] = p[name] + 1
        tr.lay_out(targets, tr.table_rows, tr.targets)
        tr.per_period({q: 1.0 for q in PERIODS}, out=tr.mask)
        tr.lay_out(gt, tr.table_rows, tr.gt)

    def score(self, batch: TrialBatch, evaluation: Mapping[str, np.ndarray]) -> dict[str, float]:
        """``percent_correct`` (both answers right) and ``percent_first_correct``."""
        out = super().score(batch, evaluation)
        keep = ~batch.params["catch"].astype(bool)
        first = np.asarray(evaluation["first_choice"])[keep] == batch.params["answer_first"][keep]
        out["percent_first_correct"] = float(100.0 * first.mean()) if keep.any() else float("nan")
        return out
