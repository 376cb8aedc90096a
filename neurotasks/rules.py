"""Response rules: how a task turns an agent's behaviour into rewards and a per-trial outcome.

A rule is written once, vectorised over trials, and serves three callers:

* the single Gymnasium environment (a batch of one),
* the native vector environment (one row per sub-environment),
* ``Task.evaluate(batch, actions=...)``, which replays a whole array of actions through the
  same step function, so an RL agent is scored exactly as its environment rewarded it.

``Task.evaluate(batch, outputs=...)`` decodes network outputs with the rule's
``decode_outputs``, so supervised and RL agents end up in the same per-trial table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from neurotasks.batch import TrialBatch

#: NeuroGym's convention: breaking fixation aborts (-0.1); the first response ends the trial,
#: +1 if correct, 0 if wrong; no response earns 0 (``miss``), and a catch trial held to its end
#: (its success: it has no response window) earns ``catch``, 0 by default. A reward-trained agent
#: that is punished for missing (``miss`` < 0) keeps a signal on catch trials through ``catch``.
DEFAULT_CHOICE_REWARDS: dict[str, float] = {"abort": -0.1, "correct": 1.0, "fail": 0.0, "miss": 0.0, "catch": 0.0}


def held_to_end_reward(last: np.ndarray, catch: np.ndarray, rewards: Mapping[str, float]) -> np.ndarray:
    """(B,) the reward of a trial that reaches its last step without a response: ``catch`` on a catch
    trial (holding was its task), ``miss`` on any other; 0 before the last step."""
    return np.where(last, np.where(catch, rewards["catch"], rewards["miss"]), 0.0)


def reward_table(defaults: Mapping[str, float], rewards: Mapping[str, Any] | None) -> dict[str, float]:
    """The full reward table: ``defaults`` with the overrides in ``rewards``, each checked.

    Shared by the environments (``rewards=``) and ``Task.evaluate(actions=..., rewards=...)``, so
    both accept exactly the same tables. Keys must be among ``defaults``; values must be finite
    real numbers (ints, floats or NumPy scalars; not bools or strings). Errors name the key.
    """
    table = {key: float(value) for key, value in defaults.items()}
    if rewards is None:
        return table
    if not isinstance(rewards, Mapping):
        raise TypeError(f"rewards must be a mapping of reward names to numbers, got {type(rewards).__name__}")
    for key, value in rewards.items():
        if not isinstance(key, str) or key not in table:
            raise ValueError(f"rewards has unknown key {key!r}; valid keys: {sorted(table)}")
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)) \
                or not math.isfinite(value):
            raise ValueError(f"rewards[{key!r}] must be a finite number, got {value!r}")
        table[key] = float(value)
    return table


class ResponseRule:
    """Base class. Subclasses define the per-trial table, one vectorised step, and decoding."""

    #: "discrete" (a Discrete action space) or "continuous" (a Box action space).
    action_kind: str = "discrete"
    #: Keys of the ``rewards`` mapping this rule understands, with their defaults.
    default_rewards: Mapping[str, float] = {}
    #: Names of the per-trial outcome fields ``step`` reports when a trial ends.
    outcome_fields: tuple[str, ...] = ()
    #: True when ``step`` depends only on (trial, t, action) -- not on earlier steps, targets or
    #: mask (it is then called with None for both): a discrete environment can then tabulate
    #: every (t, action) outcome of a trial in one call.
    stateless: bool = False
    #: An action that does nothing before a trial's last step (fixate, wait): reward 0 and the
    #: trial goes on. The vector env then runs ``step`` only where another action is taken or a
    #: trial reaches its last step (with None for the accumulator, targets and mask). None: no such action.
    quiet_action: int | None = None
    #: For tasks whose observations follow the agent (a stage-2 state its first choice led to, a
    #: cursor its actions moved): a method ``observe(table, acc, t, obs) -> obs`` rewriting, in
    #: place and vectorised over trials, step ``t``'s observations (B, n_in) from the rule's
    #: state. TaskEnv and TaskVectorEnv call it on every observation they return; None (every
    #: other rule) costs them nothing. A rule with it keeps its state in the accumulator, so it
    #: is not ``stateless`` and has no ``quiet_action``.
    observe: Any = None

    def trial_table(self, batch: TrialBatch) -> dict[str, np.ndarray]:
        """Per-trial scalars (arrays of shape (B,)) the step function needs."""
        raise NotImplementedError

    def new_accumulator(self, n: int) -> dict[str, np.ndarray]:
        """Per-trial running sums the rule keeps while a trial is stepped (reset at each trial)."""
        return {}

    def reset_accumulator(self, acc: dict[str, np.ndarray], rows: np.ndarray) -> None:
        """Zero the running sums of the trials in ``rows`` (a new trial starts there)."""

    def step(
        self,
        table: Mapping[str, np.ndarray],
        acc: dict[str, np.ndarray],
        t: np.ndarray,
        action: np.ndarray,
        target: np.ndarray,
        mask: np.ndarray,
        rewards: Mapping[str, float],
        dt: float,
    ) -> dict[str, np.ndarray]:
        """One step for B trials. Returns at least ``reward`` (B,) float and ``done`` (B,) bool,
        plus the ``outcome_fields`` (meaningful where ``done``) and ``is_success``."""
        raise NotImplementedError

    def decode_outputs(self, batch: TrialBatch, outputs: np.ndarray) -> dict[str, np.ndarray]:
        """Per-trial outcome table from network outputs (B, T, n_out)."""
        raise NotImplementedError

    def step_one(self, row: Mapping[str, np.ndarray], acc: dict[str, np.ndarray], t: int, action,
                 target: np.ndarray, mask: np.ndarray, rewards: Mapping[str, float], dt: float) -> dict:
        """``step`` for a single trial (``row``: its table as (1, ...) arrays; ``target``, ``mask``:
        this step's (n_out,)), as Python scalars. Rules override it with a leaner equivalent."""
        res = self.step(row, acc, np.array([t]), np.asarray(action)[None], target[None], mask[None], rewards, dt)
        return {key: value[0].item() for key, value in res.items()}

    def replay(
        self, batch: TrialBatch, actions: np.ndarray, rewards: Mapping[str, float] | None = None
    ) -> dict[str, np.ndarray]:
        """Per-trial outcome table from actions (B, T[, n_act]) as the environment would score them.

        Steps are replayed in time order (vectorised over trials); a trial's actions after it
        ended (a response or a fixation break) are ignored, exactly as in the environment.
        """
        rewards = reward_table(self.default_rewards, rewards)
        table = self.trial_table(batch)
        n, n_steps = len(batch), batch.n_steps
        if actions.shape[:2] != (n, n_steps):
            raise ValueError(f"actions must have shape (B, T, ...) = ({n}, {n_steps}, ...), got {actions.shape}")
        acc = self.new_accumulator(n)
        done = np.zeros(n, dtype=bool)
        out: dict[str, np.ndarray] = {}
        total = np.zeros(n)
        for t in range(n_steps):
            live = ~done & (t < batch.lengths)
            if not live.any():
                break
            res = self.step(table, acc, np.full(n, t), actions[:, t], batch.targets[:, t],
                            batch.mask[:, t], rewards, batch.dt)
            total += np.where(live, res["reward"], 0.0)
            ended = live & res["done"]
            for key in (*self.outcome_fields, "is_success"):
                if key not in out:
                    out[key] = np.full(n, np.nan) if res[key].dtype.kind == "f" else np.zeros_like(res[key])
                out[key][ended] = res[key][ended]
            done |= ended
        out["reward"] = total
        return out


class ChoiceRule(ResponseRule):
    """Discrete choices with fixation (perceptual decisions, working memory, ...).

    Action 0 holds fixation; action i+1 chooses option i. A response before the response
    window opens breaks fixation and aborts the trial; the first response inside the window
    ends the trial (rewarded ``correct`` or ``fail``); a trial with no response earns ``miss``.
    Catch trials have no response window: holding fixation to the end is their success (``catch``).

    Args:
        response_period: the period whose onset opens the response window (open until the end).
        rt_period: the period whose onset reaction times are measured from (default: the window).
        decode: how to read a choice from network outputs: ``"last"`` takes the largest output at
            the last step of ``response_period`` (the paper's rule); a float θ takes the first
            output to reach θ at or after the onset of ``rt_period`` (reaction-time tasks).
    """

    action_kind = "discrete"
    default_rewards = DEFAULT_CHOICE_REWARDS
    outcome_fields = ("choice", "correct", "rt", "aborted")
    stateless = True
    quiet_action = 0

    def __init__(self, response_period: str, rt_period: str | None = None, decode: str | float = "last"):
        self.response_period = response_period
        self.rt_period = rt_period or response_period
        self.decode = decode

    def trial_table(self, batch: TrialBatch) -> dict[str, np.ndarray]:
        catch = batch.params["catch"].astype(bool)
        lengths = batch.lengths
        window = np.where(catch, lengths, batch.periods[self.response_period][:, 0])
        origin = batch.periods[self.rt_period][:, 0]
        return {"window": window, "origin": origin, "answer": batch.params["ground_truth"],
                "catch": catch, "length": lengths}

    def step(self, table, acc, t, action, target, mask, rewards, dt):
        action = np.asarray(action, dtype=np.int64).reshape(-1)     # no copy when already int64
        respond = action != 0
        early = respond & (t < table["window"])
        answered = respond ^ early                                  # early implies respond
        choice = np.where(answered, action - 1, -1)
        hit = choice == table["answer"]
        last = t >= table["length"] - 1
        catch = table["catch"]
        reward = np.where(
            early, rewards["abort"],
            np.where(answered, np.where(hit, rewards["correct"], rewards["fail"]),
                     held_to_end_reward(last, catch, rewards)))
        return {
            "reward": reward.astype(np.float64, copy=False),
            "done": respond | last,
            "choice": choice,
            "correct": np.where(catch, np.nan, hit),                # float64, NaN on catch trials
            "rt": np.where(answered, (t - table["origin"]) * dt, np.nan),
            "aborted": early,
            "is_success": np.where(catch, ~early, hit),
        }

    def decode_outputs(self, batch: TrialBatch, outputs: np.ndarray) -> dict[str, np.ndarray]:
        n = len(batch)
        catch = batch.params["catch"].astype(bool)
        rows = np.arange(n)
        if self.decode == "last":
            last = np.clip(batch.periods[self.response_period][:, 1] - 1, 0, None)
            choice = np.argmax(outputs[rows, last], axis=-1)
            choice = np.where(catch, -1, choice)
            rt = np.full(n, np.nan)
        else:
            theta = float(self.decode)
            t = np.arange(outputs.shape[1])[None, :]
            origin = batch.periods[self.rt_period][:, :1]
            crossed = (outputs.max(axis=-1) >= theta) & (t >= origin) & (t < batch.lengths[:, None])
            any_cross = crossed.any(axis=1)
            first = np.argmax(crossed, axis=1)
            choice = np.where(any_cross, np.argmax(outputs[rows, first], axis=-1), -1)
            rt = np.where(any_cross, (first - origin[:, 0]) * batch.dt, np.nan)
        hit = choice == batch.params["ground_truth"]
        return {
            "choice": choice.astype(np.int64),
            "correct": np.where(catch, np.nan, hit.astype(np.float64)),
            "rt": rt,
        }


#: Continuous tracking: reward is minus the masked squared error each step; leaving the target
#: by more than the tolerance during a hold period aborts the trial.
DEFAULT_TRACKING_REWARDS: dict[str, float] = {"abort": -1.0, "error_scale": 1.0}


class TrackingRule(ResponseRule):
    """Continuous outputs (eye or hand position, memory bits...) scored by their error.

    Each step earns ``-error_scale * mean((action - target)**2)`` over the constrained outputs.
    A trial lasts its full length unless, during one of ``hold_periods``, some constrained
    output is further than ``tolerance`` from its target: that breaks fixation and aborts the
    trial (reward ``abort``). The outcome is the trial's root-mean-square error over
    constrained steps (``rmse``); ``correct`` is 1 when it is at most ``success_rmse``.

    Args:
        success_rmse: the RMSE counted as a correct (successful) trial.
        hold_periods: periods during which straying beyond ``tolerance`` aborts the trial.
        tolerance: the allowed distance during hold periods.
    """

    action_kind = "continuous"
    default_rewards = DEFAULT_TRACKING_REWARDS
    outcome_fields = ("choice", "correct", "rt", "rmse", "aborted")

    def __init__(self, success_rmse: float, hold_periods: tuple[str, ...] = (), tolerance: float = np.inf):
        self.success_rmse = float(success_rmse)
        self.hold_periods = tuple(hold_periods)
        self.tolerance = float(tolerance)

    def trial_table(self, batch: TrialBatch) -> dict[str, np.ndarray]:
        table = {"length": batch.lengths}
        for i, name in enumerate(self.hold_periods):
            table[f"hold{i}"] = batch.periods[name]
        return table

    def new_accumulator(self, n: int) -> dict[str, np.ndarray]:
        return {"sse": np.zeros(n), "count": np.zeros(n)}

    def reset_accumulator(self, acc: dict[str, np.ndarray], rows: np.ndarray) -> None:
        acc["sse"][rows] = 0.0
        acc["count"][rows] = 0.0

    def step(self, table, acc, t, action, target, mask, rewards, dt):
        action = np.asarray(action, dtype=np.float64).reshape(target.shape)
        sq = mask * (action - target) ** 2
        n_masked = mask.sum(axis=-1)
        acc["sse"] += sq.sum(axis=-1)
        acc["count"] += n_masked
        reward = -rewards["error_scale"] * np.where(n_masked > 0, sq.sum(axis=-1) / np.maximum(n_masked, 1), 0.0)
        holding = np.zeros(t.shape, dtype=bool)
        for i in range(len(self.hold_periods)):
            span = table[f"hold{i}"]
            holding |= (t >= span[:, 0]) & (t < span[:, 1])
        strayed = holding & np.any((mask > 0) & (np.abs(action - target) > self.tolerance), axis=-1)
        reward = np.where(strayed, rewards["abort"], reward)
        last = t >= table["length"] - 1
        rmse = np.sqrt(acc["sse"] / np.maximum(acc["count"], 1))
        ok = ~strayed & (rmse <= self.success_rmse)
        n = t.shape[0]
        return {
            "reward": reward,
            "done": strayed | last,
            "choice": np.full(n, -1),
            "correct": ok.astype(np.float64),
            "rt": np.full(n, np.nan),
            "rmse": rmse,
            "aborted": strayed,
            "is_success": ok,
        }

    def step_one(self, row, acc, t, action, target, mask, rewards, dt):
        # ``step`` for one trial with scalar bookkeeping: the same operations on the same dtypes,
        # so the same numbers, in a fraction of the array calls.
        diff = np.asarray(action, dtype=np.float64).reshape(target.shape) - target
        sq = mask * diff ** 2
        n_masked = mask.sum()
        step_sse = sq.sum()
        acc["sse"][0] += step_sse
        acc["count"][0] += n_masked
        reward = -rewards["error_scale"] * (step_sse / np.maximum(n_masked, 1) if n_masked > 0 else 0.0)
        holding = any(span[0] <= t < span[1] for span in (row[f"hold{i}"][0] for i in range(len(self.hold_periods))))
        strayed = holding and bool(np.any((mask > 0) & (np.abs(diff) > self.tolerance)))
        if strayed:
            reward = rewards["abort"]
        rmse = np.sqrt(acc["sse"][0] / np.maximum(acc["count"][0], 1))
        ok = not strayed and bool(rmse <= self.success_rmse)
        return {"reward": float(reward), "done": strayed or bool(t >= row["length"][0] - 1), "choice": -1,
                "correct": float(ok), "rt": float("nan"), "rmse": float(rmse), "aborted": strayed, "is_success": ok}

    def decode_outputs(self, batch: TrialBatch, outputs: np.ndarray) -> dict[str, np.ndarray]:
        sse = (batch.mask * (outputs - batch.targets) ** 2).sum(axis=(1, 2))
        count = batch.mask.sum(axis=(1, 2))
        rmse = np.sqrt(sse / np.maximum(count, 1))
        n = len(batch)
        return {
            "choice": np.full(n, -1),
            "correct": (rmse <= self.success_rmse).astype(np.float64),
            "rt": np.full(n, np.nan),
            "rmse": rmse,
        }
