"""Multi-armed bandit (Wang et al. 2018's meta-RL bandits; NeuroGym's Bandit): arms pay with probabilities
kept for a block of trials."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from neurotasks.batch import TrialBatch
from neurotasks.criterion import Criterion
from neurotasks.domains import Reals
from neurotasks.rules import ResponseRule
from neurotasks.task import MAX_BATCH_BYTES, MAX_TRIAL_STEPS, Task, check_values
from neurotasks.tasks.trial_stream import Carry, TrialStream, by_stream, last_start, stream_positions

#: Trials an arm keeps its probability in Wang et al. (2018): an episode of 100 trials.
WANG_BLOCK_TRIALS = 100
#: The most arms (each is an output and an action).
MAX_ARMS = 64
#: Reward of a paying arm, of choosing none.
DEFAULT_BANDIT_REWARDS: dict[str, float] = {"reward": 1.0, "miss": 0.0}


class BanditRule(ResponseRule):
    """One step, one pull: arm i (action i + 1) pays ``reward`` if its outcome drawn with the trial
    (``paid_i``, Bernoulli(p_i)) is set; action 0 pulls nothing and earns ``miss``.

    Outcome: ``choice`` (the arm, -1 for none), ``correct`` (1 if it is the best arm, ``ground_truth``),
    ``rt`` (0: a trial is one step, there is no reaction time), ``aborted`` (False), ``rewarded`` (1 if it paid).
    """

    action_kind = "discrete"
    default_rewards = DEFAULT_BANDIT_REWARDS
    outcome_fields = ("choice", "correct", "rt", "aborted", "rewarded")
    stateless = True
    quiet_action = 0

    def __init__(self, n_arms: int) -> None:
        self.n_arms = n_arms

    def trial_table(self, batch: TrialBatch) -> dict[str, np.ndarray]:
        table = {f"paid_{i + 1}": batch.params[f"paid_{i + 1}"] for i in range(self.n_arms)}
        table["answer"], table["length"] = batch.params["ground_truth"], batch.lengths
        return table

    def _paid(self, table: Mapping[str, np.ndarray], choice: np.ndarray) -> np.ndarray:
        paid = np.zeros(choice.shape, dtype=bool)
        for i in range(self.n_arms):
            paid |= (choice == i) & table[f"paid_{i + 1}"]
        return paid

    def step(self, table, acc, t, action, target, mask, rewards, dt):
        action = np.asarray(action, dtype=np.int64).reshape(-1)
        choice = action - 1
        paid = self._paid(table, choice)
        last = t >= table["length"] - 1
        n = choice.shape[0]
        return {
            "reward": np.where(paid, rewards["reward"], np.where(choice < 0, np.where(last, rewards["miss"], 0.0),
                                                                  0.0)).astype(np.float64),
            "done": (choice >= 0) | last,
            "choice": choice,
            "correct": (choice == table["answer"]).astype(np.float64),
            "rt": np.zeros(n),                  # a trial is one step: nothing to time
            "aborted": np.zeros(n, dtype=bool),
            "rewarded": paid.astype(np.float64),
            "is_success": choice == table["answer"],
        }

    def decode_outputs(self, batch: TrialBatch, outputs: np.ndarray) -> dict[str, np.ndarray]:
        table = self.trial_table(batch)
        last = batch.periods["decision"][:, 1] - 1
        choice = np.argmax(outputs[np.arange(len(batch)), last], axis=-1).astype(np.int64)
        return {"choice": choice, "correct": (choice == table["answer"]).astype(np.float64),
                "rt": np.zeros(len(batch)), "rewarded": self._paid(table, choice).astype(np.float64)}


class Bandit(TrialStream, Task):
    """Pull one of several arms; each pays with its own probability, kept for a block of trials.

    ## Description
    The two-armed Bernoulli bandits of Wang et al. (2018, Fig. 1): each episode (a block of
    ``block_trials`` = 100 trials) draws the arms' probabilities, p_1 uniform on [0, 1] and
    p_2 = 1 - p_1 (``dependent``; independent uniform draws otherwise), and keeps them for its
    trials, so an agent that remembers what it pulled and what it got learns within an episode
    which arm is better ("meta-reinforcement learning"). With ``arm_probs`` the probabilities are
    fixed (NeuroGym's ``Bandit(p=...)``) and the stream has no blocks. Each trial is one step.

    ## Inputs
    | channel | during | value |
    |---|---|---|
    | `cue` | decision | 1 (pull now) |

    Wang et al.'s network also sees its previous action and reward. Those depend on the agent, so
    they are the agent's to feed back (as NeuroGym does, with its PassAction / PassReward
    wrappers), not the task's.

    ## Outputs and actions
    Outputs `arm_1` ... `arm_n`: 1 on the best arm (`ground_truth`, the largest p; the lowest
    index on ties), 0 on the others; mask 1. Actions: `Discrete(1 + n_arms)`, 0 = pull none.

    ## Periods
    decision: one step (`dt`, 100 ms).

    ## Rewards
    The pulled arm pays `reward` (1) if its outcome, drawn with the trial (Bernoulli(p_i)), is set,
    else 0; pulling none earns `miss` (0). Each trial ends at its one step.

    ## Criterion
    Percent of trials on the best arm > 75 (the supervised target; for RL, the share of best-arm
    pulls over an episode is the measure Wang et al. report).

    ## Departures from NeuroGym
    NeuroGym's Bandit keeps fixed probabilities (0.5, 0.5 by default), draws the outcome as the
    agent acts and has no ground truth; here outcomes are drawn with the trial (the same law), the
    default follows Wang et al.'s episodes, and the best arm is the supervised target (well defined:
    the arm an agent knowing the probabilities pulls). Action 0 (none) keeps the suite's convention
    that 0 is fixate / no response.

    ## Arguments
    `dt` (100 ms), `n_arms` (2), `arm_probs` (None: drawn per block; or one probability per arm),
    `block_trials` (100), `dependent` (True: p_2 = 1 - p_1; two arms only). Trial parameters:
    `draw_p_i` (a new block's candidate p_i), `draw_paid_i` (uniforms); `p_i`, `paid_i`,
    `block_trial` and `ground_truth` are derived by the stream (``chain``).

    Every task also takes `max_trial_steps` (10,000) and `max_batch_bytes` (4 GiB), the limits the
    base class checks (see `neurotasks.Task`).

    ## Reference
    Wang, Kurth-Nelson et al. (2018) Nat Neurosci 21: 860 (two-armed bandits, episodes of 100
    trials); NeuroGym 2.3.1 `Bandit`.

    ## Version history
    v0: first version.
    """

    id = "Bandit-v0"
    summary = "Pull one of n arms paying with probabilities kept for 100-trial episodes (Wang et al. 2018)"
    reference = "Wang et al. 2018; NeuroGym Bandit"
    tags = ("reinforcement learning", "value-based", "neurogym")
    period_names = ("decision",)
    input_names = ("cue",)
    criterion = Criterion("percent_correct", ">", 75.0, window=5)
    output_range = (0.0, 1.5)

    def __init__(self, *, dt: float = 100.0, n_arms: int = 2, arm_probs: Sequence[float] | None = None,
                 block_trials: int = WANG_BLOCK_TRIALS, dependent: bool = True,
                 max_trial_steps: int = MAX_TRIAL_STEPS, max_batch_bytes: int = MAX_BATCH_BYTES) -> None:
        super().__init__(dt=dt, max_trial_steps=max_trial_steps, max_batch_bytes=max_batch_bytes)
        if isinstance(n_arms, bool) or not isinstance(n_arms, (int, np.integer)) or not 2 <= n_arms <= MAX_ARMS:
            raise ValueError(f"n_arms must be an int in [2, {MAX_ARMS}], got {n_arms!r}")
        if isinstance(block_trials, bool) or not isinstance(block_trials, (int, np.integer)) or block_trials < 1:
            raise ValueError(f"block_trials must be a positive int, got {block_trials!r}")
        if not isinstance(dependent, bool):
            raise ValueError(f"dependent must be True or False, got {dependent!r}")
        self.n_arms, self.block_trials = int(n_arms), int(block_trials)
        self.arm_probs = None if arm_probs is None else check_values(arm_probs, "arm_probs", 0.0, 1.0)
        if self.arm_probs is not None and len(self.arm_probs) != self.n_arms:
            raise ValueError(f"arm_probs must hold one probability per arm ({self.n_arms}), got {arm_probs!r}")
        if dependent and self.arm_probs is None and self.n_arms != 2:
            raise ValueError(f"dependent=True (p_2 = 1 - p_1) needs n_arms=2, got n_arms={n_arms}; "
                             "use dependent=False")
        self.dependent = dependent
        self.output_names = tuple(f"arm_{i + 1}" for i in range(self.n_arms))
        self.action_names = ("none", *self.output_names)
        self.durations = {"decision": self.declare_period("decision", self.dt, "dt")}
        self.rule = BanditRule(self.n_arms)
        self.derived_params = {name: "the stream derives it (block probabilities, outcomes); force draw_p_i, "
                               "draw_paid_i instead"
                               for name in ("ground_truth", "block_trial",
                                            *(f"{k}_{i + 1}" for k in ("p", "paid") for i in range(self.n_arms)))}

    def sample_params(self, n, rng):
        params = {}
        draws = rng.random((n, 2 * self.n_arms))
        for i in range(self.n_arms):
            params[f"draw_p_{i + 1}"] = draws[:, i]
            params[f"draw_paid_{i + 1}"] = draws[:, self.n_arms + i]
        return params

    def derive_params(self, params):
        # Placeholders of the derived values (``chain`` writes them), so every batch has the fields.
        n = len(params["catch"])
        out = dict(params)
        for i in range(self.n_arms):
            out[f"p_{i + 1}"] = np.zeros(n)
            out[f"paid_{i + 1}"] = np.zeros(n, dtype=bool)
        out["block_trial"] = np.zeros(n, dtype=np.int64)
        out["ground_truth"] = np.zeros(n, dtype=np.int64)
        return out

    def param_domains(self):
        domains = super().param_domains()
        for i in range(self.n_arms):
            domains[f"draw_p_{i + 1}"] = Reals(0.0, 1.0, what="a new block's p_i")
            domains[f"draw_paid_{i + 1}"] = Reals(0.0, 1.0, high_open=True, what="arm i pays if below p_i")
        return domains

    def conditions(self):
        return {"catch": np.array([False])}

    def fill(self, tr):
        tr.inputs[:, :, 0] = 1.0
        tr.mask[:] = 1.0          # chain writes targets and gt (they follow the block's probabilities)

    # ------------------------------------------------------------------ the stream
    def new_carry(self, n: int) -> Carry:
        return {"fresh": np.ones(n, dtype=bool), "p": np.zeros((n, self.n_arms)),
                "block_trial": np.zeros(n, dtype=np.int64)}

    def chain(self, batch: TrialBatch, carry: Mapping[str, np.ndarray]) -> Carry:
        params, n_streams = batch.params, len(carry["fresh"])
        _, position = stream_positions(carry, len(batch), "block_trial")        # (S, n)
        if self.arm_probs is not None:
            p = np.broadcast_to(self.arm_probs, (*position.shape, self.n_arms))
            block_trial = position
        else:
            block_trial = position % self.block_trials
            drawn = np.stack([by_stream(params[f"draw_p_{i + 1}"], n_streams) for i in range(self.n_arms)], axis=-1)
            if self.dependent:
                drawn[..., 1] = 1.0 - drawn[..., 0]
            start = last_start(block_trial == 0)                                  # (S, n)
            rows = np.arange(n_streams)[:, None]
            p = np.where((start >= 0)[..., None], drawn[rows, np.maximum(start, 0)], carry["p"][:, None, :])
        flat_p = p.reshape(len(batch), self.n_arms)
        for i in range(self.n_arms):
            params[f"p_{i + 1}"][:] = flat_p[:, i]
            params[f"paid_{i + 1}"][:] = params[f"draw_paid_{i + 1}"] < flat_p[:, i]
        params["block_trial"][:] = block_trial.ravel()
        best = np.argmax(flat_p, axis=1)
        params["ground_truth"][:] = best
        batch.targets[:, 0] = np.arange(self.n_arms)[None, :] == best[:, None]
        batch.gt[:, 0] = best + 1
        return {"fresh": np.zeros(n_streams, dtype=bool), "p": np.array(p[:, -1]),
                "block_trial": block_trial[:, -1] + 1}
