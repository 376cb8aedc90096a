"""Delayed match to sample (with or without distractors) and to category, as go/no-go tasks.

A sample stimulus, a delay, then a test stimulus: the agent responds (releases the lever) during
the test if it matches the sample (the same stimulus; or, for match to category, a stimulus of
the same category) and withholds otherwise. Stimuli are directions on a ring of ``dim_ring``
cosine-tuned input units, unit k preferring direction 2 pi k / dim_ring and reading
0.5 + 0.5 cos(theta - 2 pi k / dim_ring) (NeuroGym's coding); the stimuli are the units'
preferred directions. The two tasks differ only in what a match is and in their defaults.

Both papers' monkeys responded by releasing a lever during a matching test (a go/no-go
response); NeuroGym asks instead for a two-choice "match / non-match" report, and its
DelayMatchCategory codes directions on two units, cos(theta) and -cos(theta), which cannot tell
theta from -theta: its two categories (above and below pi) give the same inputs, so the task
cannot be learned above chance. Here the response is the papers' and the ring has the papers'
directions.
"""

from __future__ import annotations

import numpy as np

from neurotasks.domains import Values
from neurotasks.task import MAX_BATCH_BYTES, MAX_CHANNELS, MAX_TRIAL_STEPS, check_number
from neurotasks.tasks.go_nogo import GoNoGoRule, GoNoGoTask
from neurotasks.timing import Duration


def ring_tuning(direction_index: np.ndarray, dim_ring: int) -> np.ndarray:
    """(B, dim_ring) float32 input of a ring of cosine-tuned units to the directions
    ``2 pi index / dim_ring``: 0.5 + 0.5 cos(theta - preferred)."""
    theta = 2.0 * np.pi * np.asarray(direction_index)[:, None] / dim_ring
    preferred = 2.0 * np.pi * np.arange(dim_ring) / dim_ring
    return (0.5 + 0.5 * np.cos(theta - preferred)).astype(np.float32)


def check_dim_ring(dim_ring: object) -> int:
    """``dim_ring`` as an int in [2, MAX_CHANNELS], or a ValueError naming it."""
    if isinstance(dim_ring, bool) or not isinstance(dim_ring, (int, np.integer)) or not 2 <= dim_ring <= MAX_CHANNELS:
        raise ValueError(f"dim_ring must be an int in [2, {MAX_CHANNELS}], got {dim_ring!r}")
    return int(dim_ring)


class _DelayMatchTask(GoNoGoTask):
    """Shared by the two tasks: fixation, sample, delay, test (the response window).

    Trial parameters drawn: ``sample`` (the sample's direction index), ``match`` (1: the test
    matches) and ``offset`` (which non-identical test): subclasses derive ``test`` from them.
    """

    period_names = ("fixation", "sample", "delay", "test")
    response_period = "test"
    tags: tuple[str, ...] = ("go/no-go", "working memory", "neurogym")

    def __init__(self, *, dt: float, dim_ring: int, fixation: float | Duration, sample_duration: float | Duration,
                 delay: float | Duration, test_duration: float | Duration, catch_prob: float, catch_duration: float,
                 input_noise: float, tau_in: float, input_baseline: float, max_trial_steps: int,
                 max_batch_bytes: int) -> None:
        super().__init__(dt=dt, catch_prob=catch_prob, catch_duration=catch_duration, input_noise=input_noise,
                         tau_in=tau_in, input_baseline=input_baseline, max_trial_steps=max_trial_steps,
                         max_batch_bytes=max_batch_bytes)
        self.dim_ring = check_dim_ring(dim_ring)
        self.input_names = ("fixation", *(f"direction_{k:02d}" for k in range(self.dim_ring)))
        self.durations = self.declare_periods({
            "fixation": (fixation, "fixation"), "sample": (sample_duration, "sample_duration"),
            "delay": (delay, "delay"), "test": (test_duration, "test_duration")})

    def n_offsets(self) -> int:
        """How many values ``offset`` takes."""
        raise NotImplementedError

    def sample_params(self, n, rng):
        return {"sample": rng.integers(0, self.dim_ring, size=n), "match": rng.integers(0, 2, size=n),
                "offset": rng.integers(0, self.n_offsets(), size=n)}

    def param_domains(self):
        return {**super().param_domains(),
                "sample": Values(range(self.dim_ring), what="the sample's direction index"),
                "match": Values((0, 1), what="1: the test matches the sample"),
                "offset": Values(range(self.n_offsets()), what="which non-identical test stimulus")}

    def derive_go(self, params):
        params["test"] = self.test_direction(params["sample"], params["match"], params["offset"])
        return params["match"] == 1

    def test_direction(self, sample: np.ndarray, match: np.ndarray, offset: np.ndarray) -> np.ndarray:
        """(n,) the test's direction index."""
        raise NotImplementedError

    def conditions(self):
        sample, match = np.meshgrid(np.arange(self.dim_ring), [0, 1], indexing="ij")
        return {"sample": sample.ravel(), "match": match.ravel()}

    def stimuli(self, tr, table):
        table[:, self.period_names.index("sample"), 1:] = ring_tuning(tr.params["sample"], self.dim_ring)
        table[:, self.period_names.index("test"), 1:] = ring_tuning(tr.params["test"], self.dim_ring)


_DERIVED = {**GoNoGoTask.derived_params,
            "test": "it follows from sample, match and offset; force those instead",
            "go": "it is match; force match instead"}


class DelayMatchSample(_DelayMatchTask):
    """Delayed match to sample: release during the test if it is the sample.

    ## Description
    The delayed match-to-sample task of Miller, Erickson & Desimone (1996), NeuroGym's
    DelayMatchSample. A sample stimulus is shown, then, after a delay, a test stimulus; the agent
    must respond during the test if it is the sample (a match, half the trials) and withhold if it
    is any other stimulus. The monkeys saw pictures; here the stimuli are `dim_ring` (8)
    directions on a ring, and a non-matching test is any other of them, equally likely.

    ## Inputs
    | channel | during | value |
    |---|---|---|
    | `fixation` | fixation, sample, delay | 1 |
    | `direction_00` ... `direction_07` | sample, test | 0.5 + 0.5 cos(theta - 2 pi k / 8) for the stimulus at theta |

    Every input also carries a 0.2 baseline and white noise (sigma 0.01 at tau_in 100 ms), and is
    rectified.

    ## Outputs and actions
    Output `go`: 0.2 before the test and on non-match trials; 1.0 during the test on match trials;
    mask 1 throughout. Actions: `Discrete(2)`: 0 hold, 1 release.

    ## Periods
    fixation 300 ms; sample 500 ms; delay 1000 ms; test 500 ms (the response window).

    ## Rewards
    Releasing before the test aborts (-0.1); the first release during the test ends the trial: +1
    on a match, 0 on a non-match; holding to the end earns 0 on a match and +1 on a non-match.

    ## Criterion
    The worst (sample, match) condition's percent correct, averaged over the last 5 validations,
    >= 80 %. From outputs, a release is the `go` output reaching 0.6 during the test.

    ## Departures from NeuroGym
    NeuroGym's version has a two-choice report in a 900 ms decision period after the test, two
    ring units and two stimuli (a non-match is always the opposite one); here the response is the
    monkeys' release during the test and there are 8 stimuli. Miller et al. showed several tests
    per trial (the match among them): that is `DelayMatchSampleDistractor1D-v0`.

    ## Arguments
    `dt` (20 ms), `dim_ring` (8), `fixation` (300), `sample_duration` (500), `delay` (1000),
    `test_duration` (500), `catch_prob` (0), `catch_duration` (2000), `input_noise` (0.01),
    `tau_in` (100), `input_baseline` (0.2). Trial parameters: `sample` (0 to dim_ring - 1),
    `match` (0 or 1), `offset` (a non-match test is `sample + 1 + offset`, mod dim_ring); `test`,
    `go` and `ground_truth` are derived.

    Every task also takes `max_trial_steps` (10,000) and `max_batch_bytes` (4 GiB), the limits the
    base class checks (see `neurotasks.Task`).

    ## Reference
    Miller, Erickson & Desimone (1996) J Neurosci 16: 5154; NeuroGym 2.3.1 `DelayMatchSample`.

    ## Version history
    v0: first version.
    """

    id = "DelayMatchSample-v0"
    summary = "Delayed match to sample: release during the test if it is the sample (Miller et al. 1996)"
    reference = "Miller, Erickson & Desimone 1996; NeuroGym DelayMatchSample"
    derived_params = _DERIVED

    def __init__(self, *, dt: float = 20.0, dim_ring: int = 8, fixation: float | Duration = 300.0,
                 sample_duration: float | Duration = 500.0, delay: float | Duration = 1000.0,
                 test_duration: float | Duration = 500.0, catch_prob: float = 0.0, catch_duration: float = 2000.0,
                 input_noise: float = 0.01, tau_in: float = 100.0, input_baseline: float = 0.2,
                 max_trial_steps: int = MAX_TRIAL_STEPS, max_batch_bytes: int = MAX_BATCH_BYTES) -> None:
        super().__init__(dt=dt, dim_ring=dim_ring, fixation=fixation, sample_duration=sample_duration, delay=delay,
                         test_duration=test_duration, catch_prob=catch_prob, catch_duration=catch_duration,
                         input_noise=input_noise, tau_in=tau_in, input_baseline=input_baseline,
                         max_trial_steps=max_trial_steps, max_batch_bytes=max_batch_bytes)

    def n_offsets(self):
        return self.dim_ring - 1

    def test_direction(self, sample, match, offset):
        return np.where(match == 1, sample, (sample + 1 + offset) % self.dim_ring)


class DelayMatchCategory(_DelayMatchTask):
    """Delayed match to category: release during the test if its motion is in the sample's category.

    ## Description
    The delayed match-to-category task of Freedman & Assad (2006), NeuroGym's DelayMatchCategory.
    Twelve motion directions, 30 degrees apart, are split into two categories of six by a
    boundary (45 and 225 degrees); a sample direction is shown, then after a delay a test
    direction, and the agent must respond during the test if both lie in the same category
    (half the trials) and withhold otherwise. The test is any direction of the required category,
    equally likely, so the answer depends on the category, not on the direction.

    ## Inputs
    | channel | during | value |
    |---|---|---|
    | `fixation` | fixation, sample, delay | 1 |
    | `direction_00` ... `direction_11` | sample, test | 0.5 + 0.5 cos(theta - 30 k degrees) for motion at theta |

    Every input also carries a 0.2 baseline and white noise (sigma 0.01 at tau_in 100 ms), and is
    rectified.

    ## Outputs and actions
    Output `go`: 0.2 before the test and on non-match trials; 1.0 during the test on match trials;
    mask 1 throughout. Actions: `Discrete(2)`: 0 hold, 1 release.

    ## Periods
    fixation 500 ms; sample 650 ms; delay 1000 ms; test 650 ms (the response window).

    ## Rewards
    Releasing before the test aborts (-0.1); the first release during the test ends the trial: +1
    on a match, 0 on a non-match; holding to the end earns 0 on a match and +1 on a non-match.

    ## Criterion
    The worst (sample, match) condition's percent correct, averaged over the last 5 validations,
    >= 80 %. From outputs, a release is the `go` output reaching 0.6 during the test.

    ## Departures from NeuroGym
    NeuroGym asks for a match / non-match choice and codes the direction on two units (cos theta
    and its opposite), which make its categories (above and below 180 degrees) indistinguishable;
    here the monkeys' lever release and 12 direction-tuned units. After a non-match the monkeys
    saw a second, matching test; it carries no decision and is left out.

    ## Arguments
    `dt` (20 ms), `dim_ring` (12 directions, 360 / dim_ring degrees apart), `boundary` (45
    degrees: the categories are [boundary, boundary + 180) and the rest), `fixation` (500),
    `sample_duration` (650), `delay` (1000), `test_duration` (650), `catch_prob` (0),
    `catch_duration` (2000), `input_noise` (0.01), `tau_in` (100), `input_baseline` (0.2). Trial
    parameters: `sample` (direction index), `match` (0 or 1), `offset` (which direction of the
    test's category, in increasing order from the boundary, modulo the category's size); `test`,
    `go`, `ground_truth` and `sample_category` are derived.

    Every task also takes `max_trial_steps` (10,000) and `max_batch_bytes` (4 GiB), the limits the
    base class checks (see `neurotasks.Task`).

    ## Reference
    Freedman & Assad (2006) Nature 443: 85; NeuroGym 2.3.1 `DelayMatchCategory`.

    ## Version history
    v0: first version.
    """

    id = "DelayMatchCategory-v0"
    summary = "Delayed match to category of motion directions, by lever release (Freedman & Assad 2006)"
    reference = "Freedman & Assad 2006; NeuroGym DelayMatchCategory"
    tags = ("go/no-go", "working memory", "categorization", "neurogym")
    derived_params = {**_DERIVED, "sample_category": "it follows from sample and boundary; force sample instead"}

    def __init__(self, *, dt: float = 20.0, dim_ring: int = 12, boundary: float = 45.0,
                 fixation: float | Duration = 500.0, sample_duration: float | Duration = 650.0,
                 delay: float | Duration = 1000.0, test_duration: float | Duration = 650.0, catch_prob: float = 0.0,
                 catch_duration: float = 2000.0, input_noise: float = 0.01, tau_in: float = 100.0,
                 input_baseline: float = 0.2, max_trial_steps: int = MAX_TRIAL_STEPS,
                 max_batch_bytes: int = MAX_BATCH_BYTES) -> None:
        super().__init__(dt=dt, dim_ring=dim_ring, fixation=fixation, sample_duration=sample_duration, delay=delay,
                         test_duration=test_duration, catch_prob=catch_prob, catch_duration=catch_duration,
                         input_noise=input_noise, tau_in=tau_in, input_baseline=input_baseline,
                         max_trial_steps=max_trial_steps, max_batch_bytes=max_batch_bytes)
        self.boundary = check_number(boundary, "boundary")
        degrees = 360.0 * np.arange(self.dim_ring) / self.dim_ring
        #: Category of each direction: 0 on [boundary, boundary + 180) degrees, 1 elsewhere.
        self.category = (((degrees - self.boundary) % 360.0) >= 180.0).astype(np.int64)
        # Directions of each category, in increasing order from the boundary.
        order = np.argsort((degrees - self.boundary) % 360.0, kind="stable")
        self.members = [order[self.category[order] == c] for c in (0, 1)]
        # Each half-circle holds at least one of dim_ring >= 2 equally spaced directions: no empty category.
        self._member_table = np.stack([np.resize(m, max(len(m) for m in self.members)) for m in self.members])
        self._sizes = np.array([len(m) for m in self.members])

    def n_offsets(self):
        return int(self._sizes.max())

    def derive_go(self, params):
        params["sample_category"] = self.category[params["sample"]]
        return super().derive_go(params)

    def test_direction(self, sample, match, offset):
        test_category = np.where(match == 1, self.category[sample], 1 - self.category[sample])
        return self._member_table[test_category, offset % self._sizes[test_category]]


class MatchPositionRule(GoNoGoRule):
    """Go/no-go over a sequence of tests: the response window opens with the first test, and only a
    response during the matching test (``test{match_position}``) is a hit."""

    def __init__(self, n_tests: int, rewards: dict[str, float] | None = None) -> None:
        super().__init__("test1", rewards=rewards)
        self.n_tests = n_tests

    def hit_span(self, batch):
        spans = np.stack([batch.periods[f"test{k + 1}"] for k in range(self.n_tests)], axis=1)     # (B, K, 2)
        match = spans[np.arange(len(batch)), batch.params["match_position"] - 1]
        return match[:, 0], match[:, 1]


class DelayMatchSampleDistractor1D(GoNoGoTask):
    """Delayed match to sample with distractors: release during the one test, of three, that matches.

    ## Description
    The sequential delayed match-to-sample task of Miller, Erickson & Desimone (1996), NeuroGym's
    DelayMatchSampleDistractor1D. A sample is followed by three tests separated by delays; exactly
    one (at `match_position`, 1 to 3, equally likely) is the sample, the others are distractors,
    any stimulus but the sample (they may repeat each other). The agent must respond during the
    matching test and not before: the memory of the sample must survive the distractors.

    ## Inputs
    | channel | during | value |
    |---|---|---|
    | `fixation` | fixation, sample, delay1 | 1 (its offset opens the response window) |
    | `direction_00` ... `direction_07` | sample, test1, test2, test3 | 0.5 + 0.5 cos(theta - 2 pi k / 8) |

    Every input also carries a 0.2 baseline and white noise (sigma 0.01 at tau_in 100 ms), and is
    rectified.

    ## Outputs and actions
    Output `go`: 1.0 during the matching test, 0.2 elsewhere; mask 1 throughout. Actions:
    `Discrete(2)`: 0 hold, 1 release.

    ## Periods
    fixation 300 ms; sample 500 ms; delay1 1000 ms; test1 500 ms; delay2 1000 ms; test2 500 ms;
    delay3 1000 ms; test3 500 ms.

    ## Rewards
    Releasing before test1 aborts (-0.1); the first release from test1 on ends the trial: +1
    during the matching test, `fail` (-1, NeuroGym's) anywhere else; no release earns 0.

    ## Criterion
    The worst (sample, match position) condition's percent correct, averaged over the last 5
    validations, >= 80 %. From outputs, the release is the first step from test1 on where `go`
    reaches 0.6; it is correct during the matching test.

    ## Departures from NeuroGym
    NeuroGym draws directions uniformly on the circle and codes them on 32 units as cos(theta -
    preferred) in [-1, 1], so a distractor can be as close to the sample as one likes; here, as in
    `DelayMatchSample-v0`, 8 distinct stimuli on a rectified ring. NeuroGym's fixation input is on
    in the fixation period only; here it goes off at the first test, where responding is allowed.

    ## Arguments
    `dt` (20 ms), `dim_ring` (8), `fixation` (300), `sample_duration` (500), `delay` (1000, each
    of the three delays), `test_duration` (500, each test), `catch_prob` (0), `catch_duration`
    (2000), `input_noise` (0.01), `tau_in` (100), `input_baseline` (0.2). Trial parameters:
    `sample`, `match_position` (1 to 3), `offset_1` ... `offset_3` (distractor k is
    `sample + 1 + offset_k`, mod dim_ring); `test_1` ... `test_3`, `go` and `ground_truth` are derived.

    Every task also takes `max_trial_steps` (10,000) and `max_batch_bytes` (4 GiB), the limits the
    base class checks (see `neurotasks.Task`).

    ## Reference
    Miller, Erickson & Desimone (1996) J Neurosci 16: 5154; NeuroGym 2.3.1 `DelayMatchSampleDistractor1D`.

    ## Version history
    v0: first version.
    """

    id = "DelayMatchSampleDistractor1D-v0"
    summary = "Release at the one test of three that matches the sample, ignoring distractors (Miller et al. 1996)"
    reference = "Miller, Erickson & Desimone 1996; NeuroGym DelayMatchSampleDistractor1D"
    tags = ("go/no-go", "working memory", "distractors", "neurogym")
    period_names = ("fixation", "sample", "delay1", "test1", "delay2", "test2", "delay3", "test3")
    response_period = "test1"
    rewards = {"fail": -1.0}
    n_tests = 3
    derived_params = {**GoNoGoTask.derived_params, "go": "every trial has a match",
                      **{f"test_{k}": "it follows from sample, match_position and the offsets; force those instead"
                         for k in (1, 2, 3)}}

    def __init__(self, *, dt: float = 20.0, dim_ring: int = 8, fixation: float | Duration = 300.0,
                 sample_duration: float | Duration = 500.0, delay: float | Duration = 1000.0,
                 test_duration: float | Duration = 500.0, catch_prob: float = 0.0, catch_duration: float = 2000.0,
                 input_noise: float = 0.01, tau_in: float = 100.0, input_baseline: float = 0.2,
                 max_trial_steps: int = MAX_TRIAL_STEPS, max_batch_bytes: int = MAX_BATCH_BYTES) -> None:
        super().__init__(dt=dt, catch_prob=catch_prob, catch_duration=catch_duration, input_noise=input_noise,
                         tau_in=tau_in, input_baseline=input_baseline, max_trial_steps=max_trial_steps,
                         max_batch_bytes=max_batch_bytes)
        self.dim_ring = check_dim_ring(dim_ring)
        self.input_names = ("fixation", *(f"direction_{k:02d}" for k in range(self.dim_ring)))
        timing = {"fixation": (fixation, "fixation"), "sample": (sample_duration, "sample_duration")}
        for k in (1, 2, 3):
            timing.update({f"delay{k}": (delay, "delay"), f"test{k}": (test_duration, "test_duration")})
        self.durations = self.declare_periods({p: timing[p] for p in self.period_names})
        self.rule = MatchPositionRule(self.n_tests, rewards=self.rewards)

    def sample_params(self, n, rng):
        params = {"sample": rng.integers(0, self.dim_ring, size=n),
                  "match_position": rng.integers(1, self.n_tests + 1, size=n)}
        offsets = rng.integers(0, self.dim_ring - 1, size=(self.n_tests, n))
        params.update({f"offset_{k + 1}": offsets[k] for k in range(self.n_tests)})
        return params

    def param_domains(self):
        offset = Values(range(self.dim_ring - 1), what="which distractor: sample + 1 + offset")
        return {**super().param_domains(),
                "sample": Values(range(self.dim_ring), what="the sample's direction index"),
                "match_position": Values(range(1, self.n_tests + 1), what="which test matches"),
                **{f"offset_{k + 1}": offset for k in range(self.n_tests)}}

    def derive_go(self, params):
        sample = params["sample"]
        for k in range(1, self.n_tests + 1):
            distractor = (sample + 1 + params[f"offset_{k}"]) % self.dim_ring
            params[f"test_{k}"] = np.where(params["match_position"] == k, sample, distractor)
        return np.ones(len(sample), dtype=bool)

    def conditions(self):
        sample, position = np.meshgrid(np.arange(self.dim_ring), np.arange(1, self.n_tests + 1), indexing="ij")
        return {"sample": sample.ravel(), "match_position": position.ravel()}

    def go_periods(self, tr):
        wanted = np.zeros((tr.n, len(self.period_names) + 1), dtype=bool)
        columns = np.array([self.period_names.index(f"test{k}") for k in range(1, self.n_tests + 1)])
        wanted[np.arange(tr.n), columns[tr.params["match_position"] - 1]] = True
        return wanted

    def stimuli(self, tr, table):
        table[:, self.period_names.index("sample"), 1:] = ring_tuning(tr.params["sample"], self.dim_ring)
        for k in range(1, self.n_tests + 1):
            table[:, self.period_names.index(f"test{k}"), 1:] = ring_tuning(tr.params[f"test_{k}"], self.dim_ring)
