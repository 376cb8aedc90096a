"""Economic choice (Padoa-Schioppa & Assad 2006): choose between two juice offers by their value."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from neurotasks.batch import TrialBatch
from neurotasks.domains import Values
from neurotasks.rules import DEFAULT_CHOICE_REWARDS, ChoiceRule, ResponseRule
from neurotasks.task import MAX_BATCH_BYTES, MAX_TRIAL_STEPS, check_number
from neurotasks.tasks.decision import DecisionTask
from neurotasks.timing import Duration, Uniform

#: The offer types (quantity of juice B, quantity of juice A) of Padoa-Schioppa & Assad (2006), Fig. 1.
OFFERS = ((0, 1), (1, 3), (1, 2), (1, 1), (2, 1), (3, 1), (4, 1), (6, 1), (2, 0))
#: How many drops of B one drop of A is worth (the example monkey's relative value, 1A = 2.2B).
RELATIVE_VALUE = 2.2
#: Reward per drop of A (NeuroGym's 0.22: a full reward for about 4.5 drops).
REWARD_PER_A = 0.22
#: The offer period: uniform on [1000, 2000) ms.
OFFER_DURATION = Uniform(1000.0, 2000.0)
#: Quantities are shown as quantity / QUANTITY_SCALE (NeuroGym's coding).
QUANTITY_SCALE = 5.0


class ValueRule(ResponseRule):
    """A choice paid by the value of the chosen offer: ``value_per_a`` times its value in drops of A.

    Timing, aborts and the outcome are ``ChoiceRule``'s (a choice rule inside this one; not a
    subclass, since a correct choice here is not worth ``correct``); ``correct`` is choosing the
    offer of higher value.
    """

    action_kind = "discrete"
    outcome_fields = ChoiceRule.outcome_fields
    stateless = True
    quiet_action = 0

    def __init__(self, value_per_a: float) -> None:
        self.choice = ChoiceRule(response_period="decision", rt_period="decision")
        self.default_rewards = {"abort": DEFAULT_CHOICE_REWARDS["abort"], "value_per_a": float(value_per_a),
                                "miss": DEFAULT_CHOICE_REWARDS["miss"], "catch": DEFAULT_CHOICE_REWARDS["catch"]}

    def trial_table(self, batch: TrialBatch) -> dict[str, np.ndarray]:
        table = self.choice.trial_table(batch)
        table["value_1"], table["value_2"] = batch.params["value_1"], batch.params["value_2"]   # (B,) each
        return table

    def step(self, table, acc, t, action, target, mask, rewards, dt):
        out = self.choice.step(table, acc, t, action, target, mask, {**rewards, "correct": 0.0, "fail": 0.0}, dt)
        paid = np.where(out["choice"] == 1, table["value_2"], table["value_1"]) * rewards["value_per_a"]
        out["reward"] = np.where(out["choice"] >= 0, paid, out["reward"])
        return out

    def decode_outputs(self, batch: TrialBatch, outputs: np.ndarray) -> dict[str, np.ndarray]:
        return self.choice.decode_outputs(batch, outputs)


class EconomicDecision(DecisionTask):
    """Two offers of different juices in different quantities: choose the one worth more.

    ## Description
    The juice-choice task of Padoa-Schioppa & Assad (2006), NeuroGym's EconomicDecisionMaking.
    Two offers appear, one of juice A and one of juice B (which side gets which is drawn per
    trial), each in a quantity of drops; the agent chooses one and receives it. The monkey valued
    one drop of A like 2.2 drops of B, so it chose 1A over 2B but 3B over 1A: the choice depends on
    quantity times value, the quantity orbitofrontal neurons encode.

    ## Inputs
    | channel | during | value |
    |---|---|---|
    | `fixation` | fixation, offer | 1 (its offset is the go cue) |
    | `juice_a_1`, `juice_b_1` | offer | 1 on the juice offered on side 1 |
    | `juice_a_2`, `juice_b_2` | offer | the same for side 2 |
    | `quantity_1`, `quantity_2` | offer | drops offered on that side / 5 |

    Every input also carries a 0.2 baseline and white noise (sigma 0.01 at tau_in 100 ms), and is
    rectified.

    ## Outputs and actions
    Outputs `choice_1`, `choice_2`: 0.2 before the decision period; 1.0 on the offer of higher
    value (`ground_truth`) and 0.2 on the other in it; mask 1 throughout. Actions: `Discrete(3)`.

    ## Periods
    fixation 1500 ms; offer uniform on [1000, 2000) ms; decision 750 ms.

    ## Rewards
    Responding before the decision period aborts (-0.1); the first choice in it ends the trial,
    paid `value_per_a` (0.22) per drop of A, a drop of B being worth 1 / 2.2 of one; an offer of
    0 drops pays 0; no choice earns 0.

    ## Criterion
    Mean percent of choices of the higher-valued offer over the last 5 validations > 90 %, on the
    18 conditions (9 offer types x 2 sides). Choice from outputs: the larger output at the last
    step of the decision period.

    ## Departures from NeuroGym
    NeuroGym's environment has no ground truth (its `gt` is 0 throughout), so it cannot be trained
    supervised; here the target is the offer of higher value, the choice a monkey with the
    paper's relative value makes (no offer type is a tie at 2.2). Its fixation input stays on through
    the offer as here.

    ## Arguments
    `dt` (20 ms), `offers` (the nine (B, A) offer types above), `relative_value` (2.2),
    `value_per_a` (0.22), `fixation` (1500), `offer_duration` (("uniform", 1000, 2000)), `decision`
    (750), `catch_prob` (0), `catch_duration` (2000), `input_noise` (0.01), `tau_in` (100),
    `input_baseline` (0.2). Trial parameters: `offer` (an index into `offers`), `a_side` (0: juice A
    on side 1); `quantity_1`, `quantity_2`, `value_1`, `value_2` (in drops of A) and
    `ground_truth` are derived.

    Every task also takes `max_trial_steps` (10,000) and `max_batch_bytes` (4 GiB), the limits the
    base class checks (see `neurotasks.Task`).

    ## Reference
    Padoa-Schioppa & Assad (2006) Nature 441: 223; NeuroGym 2.3.1 `EconomicDecisionMaking`.

    ## Version history
    v0: first version.
    """

    id = "EconomicDecision-v0"
    summary = "Choose between two juice offers by quantity x value, 1A = 2.2B (Padoa-Schioppa & Assad 2006)"
    reference = "Padoa-Schioppa & Assad 2006; NeuroGym EconomicDecisionMaking"
    tags = ("decision", "value-based", "neurogym")
    period_names = ("fixation", "offer", "decision")
    input_names = ("fixation", "juice_a_1", "juice_b_1", "juice_a_2", "juice_b_2", "quantity_1", "quantity_2")
    output_names = ("choice_1", "choice_2")
    derived_params = {name: "it follows from offer and a_side; force those instead"
                      for name in ("quantity_1", "quantity_2", "value_1", "value_2", "ground_truth")}

    def __init__(self, *, dt: float = 20.0, offers: Sequence[Sequence[int]] = OFFERS,
                 relative_value: float = RELATIVE_VALUE, value_per_a: float = REWARD_PER_A,
                 fixation: float | Duration = 1500.0, offer_duration: float | Duration = OFFER_DURATION,
                 decision: float | Duration = 750.0, catch_prob: float = 0.0, catch_duration: float = 2000.0,
                 input_noise: float = 0.01, tau_in: float = 100.0, input_baseline: float = 0.2,
                 max_trial_steps: int = MAX_TRIAL_STEPS, max_batch_bytes: int = MAX_BATCH_BYTES) -> None:
        super().__init__(dt=dt, catch_prob=catch_prob, catch_duration=catch_duration, input_noise=input_noise,
                         tau_in=tau_in, input_baseline=input_baseline, max_trial_steps=max_trial_steps,
                         max_batch_bytes=max_batch_bytes)
        self.offers = check_offers(offers)
        self.relative_value = check_number(relative_value, "relative_value")
        if self.relative_value <= 0:
            raise ValueError(f"relative_value must be > 0 (drops of B per drop of A), got {relative_value!r}")
        values = self.offers[:, 1] * self.relative_value
        if np.any(values == self.offers[:, 0]):
            raise ValueError(f"offers must not hold an offer whose two sides are worth the same at relative_value="
                             f"{self.relative_value:g} (no better choice), got {offers!r}")
        self.signal_range = (0.0, max(1.0, float(self.offers.max()) / QUANTITY_SCALE))
        self.durations = {"fixation": self.declare_period("fixation", fixation, "fixation"),
                          "offer": self.declare_period("offer", offer_duration, "offer_duration"),
                          "decision": self.declare_period("decision", decision, "decision")}
        self.rule = ValueRule(check_number(value_per_a, "value_per_a"))

    def sample_params(self, n, rng):
        return {"offer": rng.integers(0, len(self.offers), size=n), "a_side": rng.integers(0, 2, size=n)}

    def derive_params(self, params):
        n_b, n_a = self.offers[params["offer"]].T
        a_first = params["a_side"] == 0
        quantity_1, quantity_2 = np.where(a_first, n_a, n_b), np.where(a_first, n_b, n_a)
        value_a, value_b = n_a.astype(float), n_b / self.relative_value
        value_1, value_2 = np.where(a_first, value_a, value_b), np.where(a_first, value_b, value_a)
        return {**params, "quantity_1": quantity_1, "quantity_2": quantity_2, "value_1": value_1,
                "value_2": value_2, "ground_truth": (value_2 > value_1).astype(np.int64)}

    def param_domains(self):
        return {**super().param_domains(), "offer": Values(range(len(self.offers)), what="an index into offers"),
                "a_side": Values((0, 1), what="0: juice A on side 1")}

    def conditions(self):
        offer, side = np.meshgrid(np.arange(len(self.offers)), [0, 1], indexing="ij")
        return {"offer": offer.ravel(), "a_side": side.ravel()}

    def fill(self, tr):
        table = tr.period_table(len(self.input_names))
        table[:, :2, 0] = 1.0
        a_first = tr.params["a_side"] == 0
        offer = np.zeros((tr.n, 6), dtype=np.float32)
        offer[:, 0], offer[:, 1] = a_first, ~a_first
        offer[:, 2], offer[:, 3] = ~a_first, a_first
        offer[:, 4] = tr.params["quantity_1"] / QUANTITY_SCALE
        offer[:, 5] = tr.params["quantity_2"] / QUANTITY_SCALE
        table[:, 1, 1:] = offer
        tr.lay_out(table, tr.table_rows, tr.inputs)
        self.write_choice_targets(tr, fixation=("fixation", "offer"))


def check_offers(offers: object) -> np.ndarray:
    """The user's ``offers`` -> (K, 2) int array of (drops of B, drops of A), or a ValueError naming ``offers``."""
    try:
        arr = np.asarray(offers, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"offers must be a list of (drops of B, drops of A) pairs, got {offers!r}") from None
    if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] == 0 or not np.all(np.isfinite(arr)) \
            or np.any(arr < 0) or np.any(arr != np.round(arr)) or arr.max() > 1000 or np.any(arr.sum(axis=1) == 0):
        raise ValueError(f"offers must be a non-empty list of (drops of B, drops of A) pairs of whole numbers in "
                         f"[0, 1000], not both 0, got {offers!r}")
    return arr.astype(np.int64)
