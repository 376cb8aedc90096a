"""Two-step task (Daw et al. 2011): a first choice leads, commonly or rarely, to one of two second-stage
states, whose choices pay with probabilities that drift from trial to trial."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from neurotasks.batch import TrialBatch
from neurotasks.criterion import Criterion
from neurotasks.domains import Flag, Reals
from neurotasks.rules import ResponseRule
from neurotasks.task import MAX_BATCH_BYTES, MAX_TRIAL_STEPS, Task, check_number
from neurotasks.tasks.trial_stream import Carry, TrialStream, by_stream

#: Daw et al. (2011): each first-stage choice leads to "its" second-stage state on 70 % of trials.
COMMON_PROB = 0.7
#: The reward probabilities' Gaussian random walk: sd 0.025 per trial, reflected at 0.25 and 0.75.
DRIFT_SD = 0.025
REWARD_BOUNDS = (0.25, 0.75)
#: The four second-stage options, in ``p_*`` order: state B's two, then state C's two.
OPTIONS = ("b1", "b2", "c1", "c2")
DEFAULT_TWO_STEP_REWARDS: dict[str, float] = {"abort": -0.1, "reward": 1.0}


def reflect(x: np.ndarray, low: float, high: float) -> np.ndarray:
    """``x`` folded into [low, high] by mirror reflections at both bounds (a triangle wave of period 2 (high - low)).

    A free Gaussian walk folded this way has the law of the walk reflected at each step (the fold
    only flips the sign of later steps, which are symmetric), so a whole stream of reflected walks
    is one cumulative sum and one fold: no loop over trials."""
    width = high - low
    u = np.mod(x - low, 2.0 * width)
    return low + width - np.abs(width - u)


class TwoStepRule(ResponseRule):
    """Stage 1 (step 0): action 1 or 2 picks a first-stage option and leads to state B (0) or C (1);
    stage 2 (step 1): action 1 or 2 picks that state's option, which pays ``reward`` if the trial's
    uniform ``draw_paid`` is below its probability. Action 0 at either stage aborts (``abort``).

    The stage-2 state depends on the stage-1 action, so the rule keeps it in its accumulator and
    ``observe`` shows it (the observation hook the environments call).
    Outcome: ``choice`` (stage-1 option, -1 if none), ``correct`` (1 if it is ``ground_truth``),
    ``rt`` (0: a stage is one step, there is no reaction time), ``aborted``, ``state`` (0: B, 1: C,
    -1: none), ``common`` (the trial's transition), ``choice_2`` (stage-2 option, -1 if none),
    ``rewarded``.
    """

    action_kind = "discrete"
    default_rewards = DEFAULT_TWO_STEP_REWARDS
    outcome_fields = ("choice", "correct", "rt", "aborted", "state", "common", "choice_2", "rewarded")

    def __init__(self, state_channels: tuple[int, int]) -> None:
        self.state_channels = state_channels

    def trial_table(self, batch: TrialBatch) -> dict[str, np.ndarray]:
        params = batch.params
        table = {f"p_{o}": params[f"p_{o}"] for o in OPTIONS}
        table.update(common=params["common"], draw_paid=params["draw_paid"], answer=params["ground_truth"],
                     length=batch.lengths)
        return table

    def new_accumulator(self, n: int) -> dict[str, np.ndarray]:
        return {"choice": np.full(n, -1, dtype=np.int64)}

    def reset_accumulator(self, acc: dict[str, np.ndarray], rows: np.ndarray) -> None:
        acc["choice"][rows] = -1

    @staticmethod
    def state_of(choice: np.ndarray, common: np.ndarray) -> np.ndarray:
        """The second-stage state (0: B, 1: C) first-stage ``choice`` (0 or 1) leads to: its own on a common
        transition (option 1 -> B, option 2 -> C), the other on a rare one."""
        return np.where(np.asarray(common, dtype=bool), choice, 1 - choice)

    @staticmethod
    def paid(table: Mapping[str, np.ndarray], state: np.ndarray, choice_2: np.ndarray) -> np.ndarray:
        p = np.choose(np.clip(2 * state + choice_2, 0, 3), [table[f"p_{o}"] for o in OPTIONS])
        return (state >= 0) & (choice_2 >= 0) & (table["draw_paid"] < p)

    def step(self, table, acc, t, action, target, mask, rewards, dt):
        action = np.asarray(action, dtype=np.int64).reshape(-1)
        t = np.asarray(t)
        second = t >= 1
        abort = action == 0
        first_choice = np.where(second, acc["choice"], np.where(abort, -1, action - 1))
        acc["choice"] = np.where(second, acc["choice"], first_choice)
        state = np.where(first_choice >= 0, self.state_of(np.maximum(first_choice, 0), table["common"]), -1)
        choice_2 = np.where(second & ~abort, action - 1, -1)
        paid = self.paid(table, state, choice_2)
        reward = np.where(abort, rewards["abort"], np.where(paid, rewards["reward"], 0.0))
        n = action.shape[0]
        return {
            "reward": reward.astype(np.float64),
            "done": abort | second | (t >= table["length"] - 1),
            "choice": first_choice,
            "correct": (first_choice == table["answer"]).astype(np.float64),
            "rt": np.zeros(n),                  # a stage is one step: nothing to time
            "aborted": abort,
            "state": state,
            "common": np.asarray(table["common"], dtype=np.float64),
            "choice_2": choice_2,
            "rewarded": paid.astype(np.float64),
            "is_success": paid,
        }

    def observe(self, table: Mapping[str, np.ndarray], acc: Mapping[str, np.ndarray], t: np.ndarray,
                obs: np.ndarray) -> np.ndarray:
        """Show, at stage 2, the state the agent's own first choice led to (in place; returns ``obs``)."""
        second = (np.asarray(t) >= 1) & (acc["choice"] >= 0)
        if second.any():
            state = self.state_of(np.maximum(acc["choice"], 0), table["common"])
            b, c = self.state_channels
            shown = np.maximum(obs[:, b], obs[:, c])            # the state's signal, wherever the batch put it
            obs[:, b] = np.where(second, np.where(state == 0, shown, 0.0), obs[:, b])
            obs[:, c] = np.where(second, np.where(state == 1, shown, 0.0), obs[:, c])
        return obs

    def decode_outputs(self, batch: TrialBatch, outputs: np.ndarray) -> dict[str, np.ndarray]:
        """The largest output at each stage: the stage-2 state follows from the stage-1 choice (the
        network saw the state of the batch's path, that of ``ground_truth``)."""
        table = self.trial_table(batch)
        choice = np.argmax(outputs[:, 0], axis=-1).astype(np.int64)
        choice_2 = np.argmax(outputs[:, 1], axis=-1).astype(np.int64)
        state = self.state_of(choice, table["common"])
        n = len(batch)
        return {"choice": choice, "correct": (choice == table["answer"]).astype(np.float64), "rt": np.zeros(n),
                "state": state, "common": table["common"].astype(np.float64), "choice_2": choice_2,
                "rewarded": self.paid(table, state, choice_2).astype(np.float64)}


class DawTwoStep(TrialStream, Task):
    """Choose in two stages: the first choice's usual (70 %) or rare (30 %) transition picks the second
    stage, whose options pay with slowly drifting probabilities.

    ## Description
    The two-step task of Daw et al. (2011, Fig. 1). At stage 1 (state A) the agent chooses one of
    two options; option 1 leads to state B and option 2 to state C on 70 % of trials (common), to
    the other state on 30 % (rare). In the second-stage state it chooses one of two options, each
    paying 1 with its own probability. The four probabilities drift independently from trial to
    trial as Gaussian random walks (sd 0.025) reflected at 0.25 and 0.75, so the agent must keep
    learning; a model-based agent credits a reward after a rare transition to the *other*
    first-stage option, a model-free one to the option it chose (Daw's stay-probability analysis:
    `choice`, `common` and `rewarded` are in every trial's outcome).

    ## Inputs
    | channel | during | value |
    |---|---|---|
    | `state_a` | stage1 | 1 |
    | `state_b`, `state_c` | stage2 | 1 on the state reached |

    In an environment the stage-2 state is the one the agent's own first choice led to (the rule's
    `observe` hook); in a batch (`trials(n)`) it is the one `ground_truth` leads to.

    ## Outputs and actions
    Outputs `option_1`, `option_2`: 1 on the target option at each stage, 0 on the other; mask 1.
    Actions: `Discrete(3)`, 0 = none (aborts), 1 and 2 the options.

    ## Periods
    stage1, stage2: one step each (`dt`, 100 ms).

    ## Rewards
    The stage-2 option pays `reward` (1) if the trial's uniform draw is below its probability;
    choosing none at either stage aborts the trial (`abort`, -0.1).

    ## Criterion
    Percent of first choices equal to `ground_truth` > 70. The supervised target is the choice of
    an ideal model-based agent that knows the current probabilities: the first-stage option whose
    common state offers more (0.7 max p_B + 0.3 max p_C against the reverse), then the better
    option of the state reached. Defined so that `trials(n)` gives a batch; with drifting
    probabilities near 0.5 it is a hard target, and for RL agents the stay probabilities are the
    measure.

    ## Departures from NeuroGym
    NeuroGym's DawTwoStep uses 0.8 / 0.2 transitions, two reward probabilities (0.9, 0.1) that
    swap with probability 0.025 per trial, and pays at the first step; here Daw et al.'s 0.7 / 0.3
    transitions, four drifting probabilities and a reward at the second choice, as in the paper.

    ## Arguments
    `dt` (100 ms), `common_prob` (0.7), `drift_sd` (0.025), `reward_bounds` ((0.25, 0.75)).
    Trial parameters: `common` (the transition), `draw_paid` (a uniform), `start_<o>` (a new
    stream's first probabilities, uniform within the bounds) and `drift_<o>` (the walk's steps)
    for the options o = b1, b2, c1, c2; `p_<o>` and `ground_truth` are derived by the stream.

    Every task also takes `max_trial_steps` (10,000) and `max_batch_bytes` (4 GiB), the limits the
    base class checks (see `neurotasks.Task`).

    ## Reference
    Daw, Gershman, Seymour, Dayan & Dolan (2011) Neuron 69: 1204; NeuroGym 2.3.1 `DawTwoStep`.

    ## Version history
    v0: first version.
    """

    id = "DawTwoStep-v0"
    summary = "Two-stage choice, 0.7/0.3 transitions, drifting reward probabilities (Daw et al. 2011)"
    reference = "Daw et al. 2011; NeuroGym DawTwoStep"
    tags = ("reinforcement learning", "value-based", "model-based", "neurogym")
    period_names = ("stage1", "stage2")
    input_names = ("state_a", "state_b", "state_c")
    output_names = ("option_1", "option_2")
    action_names = ("none", "option_1", "option_2")
    criterion = Criterion("percent_correct", ">", 70.0, window=5)
    output_range = (0.0, 1.5)

    def __init__(self, *, dt: float = 100.0, common_prob: float = COMMON_PROB, drift_sd: float = DRIFT_SD,
                 reward_bounds: tuple[float, float] = REWARD_BOUNDS, max_trial_steps: int = MAX_TRIAL_STEPS,
                 max_batch_bytes: int = MAX_BATCH_BYTES) -> None:
        super().__init__(dt=dt, max_trial_steps=max_trial_steps, max_batch_bytes=max_batch_bytes)
        self.common_prob = check_number(common_prob, "common_prob")
        if not 0.5 <= self.common_prob <= 1.0:
            raise ValueError(f"common_prob must be in [0.5, 1] (the common transition is the likelier), "
                             f"got {common_prob!r}")
        self.drift_sd = check_number(drift_sd, "drift_sd")
        if self.drift_sd < 0:
            raise ValueError(f"drift_sd must be >= 0, got {drift_sd!r}")
        if isinstance(reward_bounds, (str, bytes)) or not isinstance(reward_bounds, Sequence) \
                or len(reward_bounds) != 2:
            raise ValueError(f"reward_bounds must be (low, high), got {reward_bounds!r}")
        low, high = (check_number(b, "reward_bounds") for b in reward_bounds)
        if not 0.0 <= low < high <= 1.0:
            raise ValueError(f"reward_bounds must be probabilities with low < high, got {reward_bounds!r}")
        self.reward_bounds = (low, high)
        self.durations = {"stage1": self.declare_period("stage1", self.dt, "dt"),
                          "stage2": self.declare_period("stage2", self.dt, "dt")}
        self.rule = TwoStepRule((1, 2))
        self.derived_params = {name: "the stream derives it (the drifting probabilities); force start_<o>, "
                               "drift_<o> instead" for name in ("ground_truth", *(f"p_{o}" for o in OPTIONS))}

    def sample_params(self, n, rng):
        low, high = self.reward_bounds
        params = {"common": rng.random(n) < self.common_prob, "draw_paid": rng.random(n)}
        starts = rng.uniform(low, high, size=(n, len(OPTIONS)))
        drifts = rng.normal(0.0, self.drift_sd, size=(n, len(OPTIONS)))
        for j, o in enumerate(OPTIONS):
            params[f"start_{o}"] = starts[:, j]
            params[f"drift_{o}"] = drifts[:, j]
        return params

    def derive_params(self, params):
        n = len(params["catch"])     # placeholders: ``chain`` writes them
        return {**params, **{f"p_{o}": np.zeros(n) for o in OPTIONS}, "ground_truth": np.zeros(n, dtype=np.int64)}

    def param_domains(self):
        low, high = self.reward_bounds
        domains = {**super().param_domains(), "common": Flag(),
                   "draw_paid": Reals(0.0, 1.0, high_open=True, what="the option pays if below its p")}
        for o in OPTIONS:
            domains[f"start_{o}"] = Reals(low, high, what="a new stream's first p")
            domains[f"drift_{o}"] = Reals(what="the walk's step after this trial")
        return domains

    def conditions(self):
        return {"common": np.array([True, False])}

    def fill(self, tr):
        tr.per_period({"stage1": np.array([1.0, 0.0, 0.0], np.float32)}, out=tr.inputs)
        tr.mask[:] = 1.0          # chain writes the stage-2 state, the targets and gt (they follow the walk)

    # ------------------------------------------------------------------ the stream
    def new_carry(self, n: int) -> Carry:
        return {"fresh": np.ones(n, dtype=bool), "walk": np.zeros((n, len(OPTIONS)))}

    def chain(self, batch: TrialBatch, carry: Mapping[str, np.ndarray]) -> Carry:
        """p of trial j = the fold of x_j, x_j = x_0 + the steps of trials 0..j-1; x_0 is the carried walk
        (a fresh stream: its first trial's ``start_<o>``)."""
        params, n_streams = batch.params, len(carry["fresh"])
        starts = np.stack([by_stream(params[f"start_{o}"], n_streams)[:, 0] for o in OPTIONS], axis=-1)
        x0 = np.where(carry["fresh"][:, None], starts, carry["walk"])                       # (S, 4)
        steps = np.stack([by_stream(params[f"drift_{o}"], n_streams) for o in OPTIONS], axis=-1)   # (S, n, 4)
        walk = x0[:, None, :] + np.cumsum(steps, axis=1) - steps                            # before each trial's step
        p = reflect(walk, *self.reward_bounds).reshape(len(batch), len(OPTIONS))
        for j, o in enumerate(OPTIONS):
            params[f"p_{o}"][:] = p[:, j]
        best_b, best_c = np.maximum(p[:, 0], p[:, 1]), np.maximum(p[:, 2], p[:, 3])
        q = self.common_prob
        first = (q * best_c + (1 - q) * best_b > q * best_b + (1 - q) * best_c).astype(np.int64)
        params["ground_truth"][:] = first
        state = TwoStepRule.state_of(first, params["common"])
        second = np.where(state == 0, p[:, 1] > p[:, 0], p[:, 3] > p[:, 2]).astype(np.int64)
        batch.inputs[:, 1, 1], batch.inputs[:, 1, 2] = state == 0, state == 1
        batch.targets[:, 0] = np.arange(2)[None, :] == first[:, None]
        batch.targets[:, 1] = np.arange(2)[None, :] == second[:, None]
        batch.gt[:, 0], batch.gt[:, 1] = first + 1, second + 1
        return {"fresh": np.zeros(n_streams, dtype=bool), "walk": walk[:, -1] + steps[:, -1]}
