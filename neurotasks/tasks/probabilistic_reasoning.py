"""Probabilistic reasoning (Yang & Shadlen 2007): add up the evidence of four shapes shown one by one."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np

from neurotasks.batch import TrialBatch
from neurotasks.criterion import Criterion
from neurotasks.domains import Reals, Values
from neurotasks.rules import ChoiceRule
from neurotasks.task import MAX_BATCH_BYTES, MAX_CHANNELS, MAX_TRIAL_STEPS, check_values
from neurotasks.tasks.decision import DecisionTask
from neurotasks.timing import Duration, Uniform

#: Each shape's evidence for choice 2 (log10 likelihood ratio): Yang & Shadlen's 0.3 to 0.9 either
#: way, and the two "trump" shapes (infinite in the paper; 10, certain in practice, as in NeuroGym).
SHAPE_WEIGHTS = (-10.0, -0.9, -0.7, -0.5, -0.3, 0.3, 0.5, 0.7, 0.9, 10.0)
#: The delay after the last shape: uniform on [450, 550) ms (NeuroGym).
DELAY = Uniform(450.0, 550.0)


class ProbabilisticReasoning(DecisionTask):
    """Four shapes appear one by one; each says how likely each choice is to be rewarded.

    ## Description
    The probabilistic-categorisation ("weather prediction") task of Yang & Shadlen (2007),
    NeuroGym's ProbabilisticReasoning. Four shapes, drawn with replacement from ten, appear one
    after another at four locations (in a random order) and stay on; each shape carries a weight,
    the log10 likelihood ratio it gives for choice 2 against choice 1. The rewarded choice is
    drawn with probability P(choice 2) = 1 / (1 + 10^-L), L the sum of the four weights: the agent
    must add up the weights and choose the likelier option (the monkeys' choices followed L).

    ## Inputs
    | channel | during | value |
    |---|---|---|
    | `fixation` | every period but decision | 1 |
    | `loc{l}_shape{s}` (4 x 10) | from the k-th stimulus period to the last, for the k-th shape | 1 at its location |

    Every input also carries a 0.2 baseline and white noise (sigma 0.01 at tau_in 100 ms), and is
    rectified.

    ## Outputs and actions
    Outputs `choice_1`, `choice_2`: 0.2 before the decision period; 1.0 on the rewarded choice
    (`ground_truth`) and 0.2 on the other in it; mask 1 throughout. Actions: `Discrete(3)`.

    ## Periods
    fixation 500 ms; stimulus1 ... stimulus4 500 ms each (a new shape at the start of each); delay
    uniform on [450, 550) ms; decision 500 ms.

    ## Rewards
    Responding before the decision period aborts (-0.1); the first choice in it ends the trial:
    +1 if it is the rewarded choice, 0 otherwise (so even the best agent is rewarded on
    1 / (1 + 10^-|L|) of the trials); no choice earns 0.

    ## Criterion
    `percent_likelier` > 90 %, averaged over the last 5 validations: the choices that agree with
    the sign of L (the choice an ideal observer makes), over the trials with L != 0.
    `percent_correct` (agreement with the drawn rewarded choice) is reported too.

    ## Departures from NeuroGym
    None in the task's logic. Where NeuroGym draws the rewarded choice inside its trial builder,
    here a uniform `reward_draw` is a trial parameter, so trials can be forced and replayed.

    ## Arguments
    `dt` (20 ms), `shape_weights` (the ten weights above), `n_locations` (4; also the number of
    shapes per trial, at most 6), `fixation` (500), `stimulus_duration` (500, each),
    `delay` (("uniform", 450, 550)), `decision` (500), `catch_prob` (0), `catch_duration` (2000),
    `input_noise` (0.01), `tau_in` (100), `input_baseline` (0.2). Trial parameters: `shape_1` ...
    `shape_4` (indices into `shape_weights`), `location_order` (which of the 4! orders of the
    locations), `reward_draw` (uniform on [0, 1)); `log_odds` (L), `likelier` (1 if L > 0) and
    `ground_truth` (1 if `reward_draw` < 1 / (1 + 10^-L)) are derived.

    Every task also takes `max_trial_steps` (10,000) and `max_batch_bytes` (4 GiB), the limits the
    base class checks (see `neurotasks.Task`).

    ## Reference
    Yang & Shadlen (2007) Nature 447: 1075; NeuroGym 2.3.1 `ProbabilisticReasoning`.

    ## Version history
    v0: first version.
    """

    id = "ProbabilisticReasoning-v0"
    summary = "Add up the log-likelihood weights of four shapes shown one by one (Yang & Shadlen 2007)"
    reference = "Yang & Shadlen 2007; NeuroGym ProbabilisticReasoning"
    tags = ("decision", "evidence integration", "probabilistic inference", "neurogym")
    output_names = ("choice_1", "choice_2")
    criterion = Criterion("percent_likelier", ">", 90.0, window=5)
    derived_params = {name: "it follows from the shapes and reward_draw; force those instead"
                      for name in ("log_odds", "likelier", "ground_truth")}

    def __init__(self, *, dt: float = 20.0, shape_weights: Sequence[float] = SHAPE_WEIGHTS, n_locations: int = 4,
                 fixation: float | Duration = 500.0, stimulus_duration: float | Duration = 500.0,
                 delay: float | Duration = DELAY, decision: float | Duration = 500.0, catch_prob: float = 0.0,
                 catch_duration: float = 2000.0, input_noise: float = 0.01, tau_in: float = 100.0,
                 input_baseline: float = 0.2, max_trial_steps: int = MAX_TRIAL_STEPS,
                 max_batch_bytes: int = MAX_BATCH_BYTES) -> None:
        self.shape_weights = check_values(shape_weights, "shape_weights", -300.0, 300.0)
        if len(self.shape_weights) > MAX_CHANNELS // 6:
            raise ValueError(f"shape_weights must hold at most {MAX_CHANNELS // 6} shapes, got {len(shape_weights)}")
        if isinstance(n_locations, bool) or not isinstance(n_locations, (int, np.integer)) or not 1 <= n_locations <= 6:
            raise ValueError(f"n_locations must be an int in [1, 6], got {n_locations!r}")
        self.n_locations, self.n_shapes = int(n_locations), len(self.shape_weights)
        self.period_names = ("fixation", *(f"stimulus{k + 1}" for k in range(self.n_locations)), "delay", "decision")
        self.input_names = ("fixation", *(f"loc{loc}_shape{s}" for loc in range(self.n_locations)
                                          for s in range(self.n_shapes)))
        super().__init__(dt=dt, catch_prob=catch_prob, catch_duration=catch_duration, input_noise=input_noise,
                         tau_in=tau_in, input_baseline=input_baseline, max_trial_steps=max_trial_steps,
                         max_batch_bytes=max_batch_bytes)
        self.orders = np.array(list(itertools.permutations(range(self.n_locations))), dtype=np.int64)
        self.durations = {"fixation": self.declare_period("fixation", fixation, "fixation")}
        for k in range(self.n_locations):
            self.durations[f"stimulus{k + 1}"] = self.declare_period(f"stimulus{k + 1}", stimulus_duration,
                                                                     "stimulus_duration")
        self.durations["delay"] = self.declare_period("delay", delay, "delay")
        self.durations["decision"] = self.declare_period("decision", decision, "decision")
        self.rule = ChoiceRule(response_period="decision", rt_period="decision")

    def sample_params(self, n, rng):
        shapes = rng.integers(0, self.n_shapes, size=(self.n_locations, n))
        return {**{f"shape_{k + 1}": shapes[k] for k in range(self.n_locations)},
                "location_order": rng.integers(0, len(self.orders), size=n), "reward_draw": rng.random(n)}

    def derive_params(self, params):
        # Rounded to 1e-9 so that weights which cancel (0.3 + 0.3 + 0.3 - 0.9) give exactly 0.
        log_odds = np.round(sum(self.shape_weights[params[f"shape_{k + 1}"]] for k in range(self.n_locations)), 9)
        p_second = 1.0 / (1.0 + 10.0 ** -np.clip(log_odds, -300.0, 300.0))
        return {**params, "log_odds": log_odds, "likelier": (log_odds > 0).astype(np.int64),
                "ground_truth": (params["reward_draw"] < p_second).astype(np.int64)}

    def param_domains(self):
        shape = Values(range(self.n_shapes), what="an index into shape_weights")
        return {**super().param_domains(), **{f"shape_{k + 1}": shape for k in range(self.n_locations)},
                "location_order": Values(range(len(self.orders)), what="which order of the locations"),
                "reward_draw": Reals(0.0, 1.0, high_open=True)}

    def fill(self, tr):
        n, n_loc, n_shapes = tr.n, self.n_locations, self.n_shapes
        table = tr.period_table(len(self.input_names))
        decision = self.period_names.index("decision")
        table[:, :decision, 0] = 1.0
        locations = self.orders[tr.params["location_order"]]                      # (B, n_loc): where shape k goes
        rows = np.arange(n)
        for k in range(n_loc):
            channel = 1 + locations[:, k] * n_shapes + tr.params[f"shape_{k + 1}"]
            for j in range(k, n_loc):                                              # on from its period to the last
                table[rows, 1 + j, channel] = 1.0
        tr.lay_out(table, tr.table_rows, tr.inputs)
        self.write_choice_targets(tr, fixation=self.period_names[:decision])

    def score(self, batch: TrialBatch, evaluation: Mapping[str, np.ndarray]) -> dict[str, float]:
        """``percent_correct`` and ``percent_likelier``: the choices that agree with the sign of the
        summed evidence, over non-catch trials with non-zero evidence."""
        out = super().score(batch, evaluation)
        informative = ~batch.params["catch"].astype(bool) & (batch.params["log_odds"] != 0)
        agree = np.asarray(evaluation["choice"])[informative] == batch.params["likelier"][informative]
        out["percent_likelier"] = float(100.0 * agree.mean()) if informative.any() else float("nan")
        return out
