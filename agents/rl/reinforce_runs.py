"""Train an E/I network from reward alone (REINFORCE with a GRU baseline) into a run folder.

    run = train_reinforce("PerceptualDecision-v0")                     # pyrl's hyperparameters, to criterion
    run = train_reinforce("ContextDecision-v0", out="runs/cd", max_minutes=30, hyperparams={"trials_per_update": 128})

Song, Yang & Wang (2017, eLife 6:e21492) train a policy network (here :class:`agents.models.eirnn.EIRNN`,
Dale's law, masks, noise, τ; a softmax over its readout for Discrete actions, a Gaussian for Box actions,
:mod:`agents.rl.reinforce_policy`, :mod:`agents.rl.reinforce_readout`) with REINFORCE and
a baseline network (:mod:`agents.rl.reinforce_baseline`) that reads the policy's rates and actions. One update:

1. one trial in each of ``trials_per_update`` sub-environments of a :class:`neurotasks.vector_env.TaskVectorEnv`,
   stepped together to the end of the last trial, actions sampled (:mod:`agents.rl.reinforce_rollout`);
2. the policy re-run over the recording with autograd (its fused ``forward``, the rollout's own noise);
3. the baseline's update on the returns to go, then the policy's with the baseline's (pre-update) values
   (pyrl's order), each by Adam with its gradient's norm clipped to 1 (:mod:`agents.rl.reinforce_loss`;
   an update whose gradient is not finite is skipped, as pyrl's Adam zeroes it).

Every ``validate_every`` updates the policy plays the condition grid (``trainer.validation_batch``, the
supervised trainer's validation batches) with actions drawn from it (Box actions: the Gaussian's mean, see
:func:`score_policy`) and recurrent noise on (pyrl validates so), scored by ``task.evaluate(batch,
actions=...)``; a history row; the best policy kept; the task's criterion.

The run folder is the supervised trainer's (:mod:`agents.runs`). Its config.json's "model" entry is the policy's
E/I network config, and model.safetensors holds that network's weights, so ``agents.load(run)`` gives back the
trained :class:`EIRNN` (its ``n_out`` outputs are the action logits, or the Gaussian's pre-squash means) and every
analysis of networks applies to it; config.json's "reinforce" entry holds the hyperparameters, its "readout" entry
the action distribution. A Gaussian readout's learned log sd is in readout.safetensors beside model.safetensors
(:func:`load_policy` gives both back). checkpoint.safetensors (:mod:`agents.checkpoint`) holds both networks,
the readout's parameters, both optimizers, the counters, the history, the torch generator's state and where the
environments' streams of trials stand (``TaskVectorEnv.trial_streams()``, JSON: each generator's state and place
in its chunk). Resuming (the same call on the same folder) restores all of it. The streams are seeded once, from
the run's seed, and continue from update to update (reseeding every update drew fresh generators and chunks each
time, about a third of the environment's time); every validation seeds its batch from (seed, updates). So a run resumed
from a checkpoint continues exactly as the uninterrupted run would have.
"""

from __future__ import annotations

import datetime as _dt
import math
import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from gymnasium.vector import AutoresetMode

from agents import checkpoint as checkpoint_file
from agents import runs
from agents.models import registry
from agents.models.eirnn import EIRNN
from agents.rl import reinforce_presets
from agents.rl.reinforce_baseline import GRUBaseline
from agents.rl.reinforce_loss import (
    baseline_loss,
    discount_per_step,
    policy_gradient_loss,
    rate_penalty,
    returns_to_go,
)
from agents.rl.reinforce_policy import policy_actions, taken_log_probs
from agents.rl.reinforce_readout import GaussianReadout, Readout, readout_for
from agents.rl.reinforce_rollout import collect
from agents.training.presets import DEFAULT_PRESET, PRESETS
from agents.training.trainer import (
    _criterion_dict,
    _normalise,
    final_verdict,
    model_config,
    resolve_device,
    seed_int,
    validation_batch,
    versions,
)
from neurotasks.criterion import Criterion
from neurotasks.task import Task
from neurotasks.vector_env import TaskVectorEnv

#: the agent's name (``neurotasks train ID --agent ei-reinforce``)
AGENT = "ei-reinforce"
CHECKPOINT_VERSION = 2         #: 2: the environments' trial streams are kept (1 reseeded them every update)
CHECKPOINT_KIND = "ei-reinforce-run"
CHECKPOINT_FIELDS: dict[str, type | tuple[type, ...]] = {
    "kind": str, "policy": dict, "baseline": dict, "policy_optimizer": dict, "baseline_optimizer": dict,
    "updates": int, "trials": int, "skipped_updates": int, "wall_s": (int, float), "env_s": (int, float),
    "history": list, "best": (dict, type(None)), "reached": (dict, type(None)), "stopped": (str, type(None)),
    "figures_updates": (int, type(None)), "interval": dict, "generator": torch.Tensor,
    "trial_streams": (dict, type(None)),
}
VALIDATION_TRIALS = PRESETS[DEFAULT_PRESET].validation_trials
RESUME_KEYS = ("task", "agent", "model", "reinforce", "seed", "criterion")
#: a Gaussian readout's parameters (its log sd), beside the policy network's model.safetensors
READOUT_WEIGHTS = "readout.safetensors"
#: default budget: updates over the whole run
MAX_UPDATES = 20_000


def policy_network(task: Task, hp: Mapping[str, Any], seed: int) -> EIRNN:
    """The task's suggested E/I network (its size, E fraction, masks) with one readout per action (Discrete) or
    per action dimension (Box) and the hyperparameters' τ, σ_rec and output bias; ``hp["policy"]`` overrides any
    argument."""
    readout = policy_readout(task, hp)
    overrides = {k: hp[k] for k in reinforce_presets.NETWORK_KEYS}
    overrides.update(hp.get("policy", {}))
    overrides["n_out"] = readout.n_outputs
    config = model_config(task, seed=seed, name="eirnn", **overrides)
    try:
        network = registry.build(config)
    except (TypeError, ValueError) as err:
        raise ValueError(f"the policy network's arguments are refused: {err}") from None
    if hp["input_weight_scale"] != 1:
        with torch.no_grad():
            network.w_in.mul_(float(hp["input_weight_scale"]))
    if isinstance(readout, GaussianReadout) and hp["box_readout_scale"] != 1:
        with torch.no_grad():
            network.w_out.mul_(float(hp["box_readout_scale"]))
    if hp["initial_hold"] is not None:
        if isinstance(readout, GaussianReadout):
            hold_position(network, readout, task, seed)
        else:
            hold_fixation(network, task, float(hp["initial_hold"]), seed)
    return network


def policy_readout(task: Task, hp: Mapping[str, Any]) -> Readout:
    """The action distribution of ``task``'s action space (:func:`agents.rl.reinforce_readout.readout_for`):
    a softmax for Discrete actions, a Gaussian for Box ones, starting at :func:`initial_action_sd`."""
    from neurotasks.env import make_spaces

    _, action_space = make_spaces(task)
    try:
        return readout_for(action_space, initial_action_sd(task, hp), task.rule.quiet_action)
    except ValueError as err:
        raise ValueError(f"{AGENT} cannot act on {task.id}: {err}") from None


def initial_action_sd(task: Task, hp: Mapping[str, Any]) -> float:
    """The Gaussian's starting sd: ``hp["initial_action_sd"]``, else for a rule that aborts beyond a tolerance in
    hold periods the sd that keeps every dimension within it through the periods' mean number of steps k with
    probability ``initial_hold`` (P(|σ ε| <= tol)^(d k) = initial_hold), else a tenth of the mean half-width."""
    from statistics import NormalDist

    if hp.get("initial_action_sd") is not None:
        return float(hp["initial_action_sd"])
    low, high = task.output_range
    fallback = 0.1 * (float(high) - float(low)) / 2
    rule = task.rule
    holds, tolerance = tuple(getattr(rule, "hold_periods", ())), float(getattr(rule, "tolerance", math.inf))
    if rule.action_kind == "discrete" or not holds or not math.isfinite(tolerance) or hp["initial_hold"] is None:
        return fallback
    probe = task.trials(256, np.random.default_rng(0))
    steps = sum(np.diff(probe.periods[name], axis=1)[:, 0] for name in holds)
    k = max(float(np.mean(steps)), 1.0) * len(task.output_names)
    p = float(hp["initial_hold"]) ** (1.0 / k)                      # per dimension and step
    return tolerance / NormalDist().inv_cdf((1.0 + p) / 2.0)


@torch.no_grad()
def hold_position(network: EIRNN, readout: GaussianReadout, task: Task, seed: int) -> np.ndarray:
    """Set the output bias so that the untrained Gaussian policy's mean is on the hold target (the targets'
    mean over the rule's hold periods, a probe batch run without noise), the analogue of fixation training
    (:func:`hold_fixation`); a task without hold periods keeps its zero bias. Returns the target."""
    holds = tuple(getattr(task.rule, "hold_periods", ()))
    if not holds:
        return np.zeros(network.n_out)
    if not network.b_out.requires_grad:
        raise ValueError("initial_hold needs a trained output bias (hyperparameter train_bias=true)")
    probe = task.trials(64, np.random.default_rng(seed))
    t = np.arange(probe.n_steps)
    holding = np.zeros((len(probe), probe.n_steps), bool)
    for name in holds:
        span = probe.periods[name]
        holding |= (t >= span[:, :1]) & (t < span[:, 1:])
    network.b_out.zero_()
    z, _ = network(torch.from_numpy(np.ascontiguousarray(probe.inputs, np.float32)), float(probe.dt), noise=False)
    where = torch.from_numpy(holding)
    target = probe.targets[holding].mean(0)
    level = ((torch.from_numpy(target.astype(np.float32)) - readout.centre) / readout.half_width).clamp(-0.99, 0.99)
    network.b_out.copy_(torch.atanh(level) - z[where].mean(0))
    return target


@torch.no_grad()
def hold_fixation(network: EIRNN, task: Task, survival: float, seed: int) -> float:
    """Set the fixate action's output bias so that the untrained policy holds fixation through the task's mean
    number of steps before its response window with probability ``survival``; returns the per-step probability.

    p = survival^(1/k), k from a probe batch (the first step whose correct action is not fixate, non-catch
    trials); the bias is the log-odds that make softmax give p against the other actions' mean logit."""
    if not network.b_out.requires_grad:
        raise ValueError("initial_hold needs a trained output bias (hyperparameter train_bias=true)")
    probe = task.trials(256, np.random.default_rng(seed))
    responding = probe.gt > 0
    rows = responding.any(axis=1)
    if "catch" in probe.params:
        rows &= ~np.asarray(probe.params["catch"], bool)
    k = float(np.argmax(responding[rows], axis=1).mean()) if rows.any() else 1.0
    p = survival ** (1.0 / max(k, 1.0))
    others = network.n_out - 1
    network.b_out.zero_()
    network.b_out[0] = math.log(p * others / (1.0 - p))
    return p


def score_policy(network: EIRNN, task: Task, batch, rewards: Mapping[str, float], generator: torch.Generator,
                 readout: Readout | None = None) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """(``task.score`` of the policy's actions with recurrent noise, plus its mean reward): a softmax's actions
    drawn (as pyrl validates), a Gaussian's mean (as Gaussian policies are evaluated, e.g. SB3's
    ``deterministic=True``: the exploration noise σ would add σ² to every step's squared error, and the criterion
    scores the network's output)."""
    sample = readout is None or readout.kind == "categorical"
    actions, _ = policy_actions(network, batch, noise=True, generator=generator, sample=sample, readout=readout)
    evaluation = task.evaluate(batch, actions=actions, rewards=rewards)
    scores = {k: float(v) for k, v in task.score(batch, evaluation).items()}
    scores["mean_reward"] = float(np.mean(evaluation["reward"]))
    return scores, evaluation


def _clip_and_check(parameters: list[torch.nn.Parameter], max_norm: float) -> float:
    norm = float(torch.nn.utils.clip_grad_norm_(parameters, max_norm))
    return norm


class ReinforceRun:
    """Owns a run folder, the two networks and their optimizers; :func:`agents.runs.complete` drives it."""

    def __init__(self, task: Task, hp: dict[str, Any], out: Path, seed: int, criterion: Criterion,
                 device: torch.device, quiet: bool, progress: bool | None) -> None:
        self.task, self.hp, self.out, self.seed = task, hp, out, int(seed)
        self.criterion, self.device, self.quiet = criterion, device, quiet
        is_ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
        self.show_bar = (not quiet and sys.stderr.isatty() and not is_ci) if progress is None else bool(progress)
        self.readout = policy_readout(task, hp)
        self.rewards = run_rewards(task, hp)
        self.network = policy_network(task, hp, seed_int(seed, 8))
        self.baseline = GRUBaseline(self.network.n_units, self.readout.n_features, hp["baseline_units"],
                                    hp["baseline_initial_value"], seed=seed_int(seed, 9))
        betas = tuple(hp["adam_betas"])
        self.policy_opt = torch.optim.Adam(self._policy_parameters(), lr=hp["learning_rate"], betas=betas,
                                           eps=hp["adam_eps"])
        self.baseline_opt = torch.optim.Adam(self.baseline.parameters(), lr=hp["baseline_learning_rate"],
                                             betas=betas, eps=hp["adam_eps"])
        self.discount = discount_per_step(float(task.dt), float(hp["tau_reward"]))
        # one trial per sub-environment and update, from streams seeded once (see the module docstring)
        # (an ended trial's sub-environment waits for the next update's reset: no trial drawn to be thrown away)
        self.env = TaskVectorEnv(hp["trials_per_update"], task, rewards=self.rewards,
                                 autoreset_mode=AutoresetMode.DISABLED)
        self._env_started = False
        self._restored_streams: dict[str, Any] | None = None    # a checkpoint's, put back at the next update
        self.generator = torch.Generator().manual_seed(seed_int(seed, 3))
        self.config = _normalise({
            "task": {"id": task.id, "kwargs": dict(task.kwargs)},
            "agent": AGENT,
            "algorithm": "REINFORCE with a GRU baseline (Song, Yang & Wang 2017)",
            "model": registry.config_of(self.network),
            "reinforce": hp,
            "readout": readout_config(self.readout),
            "baseline": {"name": "gru", "n_in": self.network.n_units + self.readout.n_features,
                         "n_units": hp["baseline_units"], "initial_value": hp["baseline_initial_value"]},
            "seed": self.seed,
            "criterion": _criterion_dict(criterion),
            "validation": {"every_updates": hp["validate_every"], "trials": VALIDATION_TRIALS,
                           "actions": "sampled" if self.readout.kind == "categorical" else "mean", "noise": True},
            "rewards": self.rewards,
            "preset": None,
        })
        self.updates = self.trials = self.skipped_updates = 0
        self.wall_s = self.env_s = 0.0
        self.history: list[dict[str, Any]] = []
        self.best: dict[str, Any] | None = None
        self.reached: dict[str, Any] | None = None
        self.stopped: str | None = None
        self.figures_updates: int | None = None
        self.interval = self._fresh_interval()
        self._started = 0.0

    def _policy_parameters(self) -> list[torch.nn.Parameter]:
        """The policy's trained parameters: the network's, then the readout's (a Gaussian's log sd)."""
        return [p for p in self.network.parameters() if p.requires_grad] + list(self.readout.parameters())

    def _policy_state(self) -> dict[str, dict[str, torch.Tensor]]:
        return {"network": {k: v.detach().clone() for k, v in self.network.state_dict().items()},
                "readout": {k: v.detach().clone() for k, v in self.readout.state_dict().items()}}

    def _save_policy(self, state: Mapping[str, Mapping[str, torch.Tensor]]) -> None:
        """model.safetensors (the network) and, for a readout with parameters, readout.safetensors."""
        runs.save_weights(self.out / runs.WEIGHTS, dict(state["network"]))
        if state["readout"]:
            runs.save_weights(self.out / READOUT_WEIGHTS, dict(state["readout"]))

    @staticmethod
    def _fresh_interval() -> dict[str, float]:
        return {"trials": 0, "reward": 0.0, "policy_loss": 0.0, "baseline_loss": 0.0, "grad_norm": 0.0,
                "updates": 0, "update_s": 0.0, "env_s": 0.0}

    def _env_seeds(self) -> list[int]:
        """Each sub-environment's seed, from the run's seed: the streams of trials of the whole run."""
        state = np.random.SeedSequence([self.seed, 7]).generate_state(self.env.num_envs)
        return [int(s) for s in state]

    def _env_reset(self) -> tuple[list[int] | None, dict[str, Any] | None]:
        """(seeds, options) of the next update's ``env.reset``: the run's seeds at its first update, a resumed
        run's saved streams at the first after resuming, else none (the streams continue)."""
        if self._env_started:
            return None, None
        self._env_started = True
        if self._restored_streams is not None:
            streams, self._restored_streams = self._restored_streams, None
            return None, {"trial_streams": streams}
        return self._env_seeds(), None

    # ---------------------------------------------------------------- persistence
    def start_or_resume(self) -> bool:
        """Write config.json for a new run, or load the checkpoint of an earlier one. True if resumed."""
        return runs.start_or_resume(self.out, self.config, RESUME_KEYS, self._load_checkpoint, device=self.device,
                                    versions=versions())

    def checkpoint_state(self) -> dict[str, Any]:
        return {
            "kind": CHECKPOINT_KIND, "policy": dict(self.network.state_dict()),
            "readout": dict(self.readout.state_dict()), "baseline": dict(self.baseline.state_dict()),
            "policy_optimizer": self.policy_opt.state_dict(),
            "baseline_optimizer": self.baseline_opt.state_dict(), "updates": self.updates, "trials": self.trials,
            "skipped_updates": self.skipped_updates, "wall_s": self.wall_s, "env_s": self.env_s,
            "history": self.history, "best": self.best, "reached": self.reached, "stopped": self.stopped,
            "figures_updates": self.figures_updates, "interval": dict(self.interval),
            "generator": self.generator.get_state(),
            "trial_streams": self.env.trial_streams() if self._env_started else self._restored_streams,
        }

    def save_checkpoint(self) -> None:
        checkpoint_file.save(self.out / runs.CHECKPOINT, self.checkpoint_state(), CHECKPOINT_VERSION)
        runs.write_history_atomic(self.out / runs.HISTORY, self.history)

    def _load_checkpoint(self) -> None:
        path = self.out / runs.CHECKPOINT
        ckpt = checkpoint_file.load(path, CHECKPOINT_VERSION, self.device)
        if ckpt.get("kind") != CHECKPOINT_KIND:
            raise checkpoint_file.CheckpointError(f"{path} is corrupt (it is a {ckpt.get('kind')!r} checkpoint, "
                                                  f"not an {AGENT} run's)")
        checkpoint_file.check_state(ckpt, path, CHECKPOINT_FIELDS, "policy", self.network.state_dict(),
                                    "policy network")
        baseline_expected = self.baseline.state_dict()
        if set(ckpt["baseline"]) != set(baseline_expected) or any(
                ckpt["baseline"][k].shape != v.shape for k, v in baseline_expected.items()):
            raise checkpoint_file.CheckpointError(f"{path} is corrupt (its baseline weights do not match "
                                                  f"the baseline in {runs.CONFIG})")
        readout_expected = self.readout.state_dict()
        saved = [ckpt.get("readout", {})] + ([ckpt["best"].get("readout", {})] if ckpt["best"] else [])
        for state in saved:
            if not isinstance(state, dict) or set(state) != set(readout_expected) or any(
                    not isinstance(state[k], torch.Tensor) or state[k].shape != v.shape
                    or not torch.isfinite(state[k]).all() for k, v in readout_expected.items()):
                raise checkpoint_file.CheckpointError(f"{path} is corrupt (its readout parameters do not match "
                                                      f"the readout in {runs.CONFIG}, or are not finite)")
        try:
            self.network.load_state_dict(ckpt["policy"])
            self.readout.load_state_dict(ckpt.get("readout", {}))
            self.baseline.load_state_dict(ckpt["baseline"])
            self.policy_opt.load_state_dict(ckpt["policy_optimizer"])
            self.baseline_opt.load_state_dict(ckpt["baseline_optimizer"])
            self.generator.set_state(ckpt["generator"].cpu())
        except (RuntimeError, ValueError, KeyError, TypeError, IndexError) as err:
            raise checkpoint_file.CheckpointError(f"{path} is corrupt ({type(err).__name__}: {err})") from None
        for key in ("updates", "trials", "skipped_updates", "history", "best", "reached", "stopped",
                    "figures_updates"):
            setattr(self, key, ckpt[key])
        self.wall_s, self.env_s, self.interval = float(ckpt["wall_s"]), float(ckpt["env_s"]), dict(ckpt["interval"])
        self._restored_streams = ckpt["trial_streams"]

    # ---------------------------------------------------------------- one update
    def update(self) -> None:
        """One batch of trials and one update of each network."""
        start = time.perf_counter()
        seeds, options = self._env_reset()
        roll = collect(self.network, self.env, self.generator, seeds, readout=self.readout, reset_options=options)
        log_probs, rates = taken_log_probs(self.network, self.readout, roll.inputs, roll.actions,
                                           float(self.task.dt), roll.noise)
        returns = returns_to_go(roll.rewards, roll.mask, self.discount)
        values = self.baseline(rates.detach(), self.readout.baseline_input(roll.actions))
        loss_b = baseline_loss(values, returns, roll.mask)
        loss_p = policy_gradient_loss(log_probs, returns - values.detach(), roll.mask)
        if self.hp["l2_rates"] > 0:
            loss_p = loss_p + self.hp["l2_rates"] * rate_penalty(rates, roll.mask)
        self.baseline_opt.zero_grad(set_to_none=True)
        self.policy_opt.zero_grad(set_to_none=True)
        loss_b.backward()
        loss_p.backward()
        norm_b = _clip_and_check(list(self.baseline.parameters()), self.hp["max_grad_norm"])
        norm_p = _clip_and_check(self._policy_parameters(), self.hp["max_grad_norm"])
        if math.isfinite(norm_b) and math.isfinite(norm_p):
            self.baseline_opt.step()
            self.policy_opt.step()
        else:
            self.skipped_updates += 1
        self.updates += 1
        b = self.env.num_envs
        self.trials += b
        self.env_s += roll.env_seconds
        iv = self.interval
        iv["trials"] += b
        iv["reward"] += float(roll.rewards.sum())
        iv["policy_loss"] += float(loss_p.detach())
        iv["baseline_loss"] += float(loss_b.detach())
        iv["grad_norm"] += norm_p
        iv["updates"] += 1
        iv["update_s"] += time.perf_counter() - start
        iv["env_s"] += roll.env_seconds

    # ---------------------------------------------------------------- validation
    def validate(self) -> dict[str, Any]:
        generator = torch.Generator().manual_seed(seed_int(self.seed, 4, self.updates))
        trials = validation_batch(self.task, np.random.default_rng(seed_int(self.seed, 2, self.updates)),
                                  VALIDATION_TRIALS)
        scores, _ = score_policy(self.network, self.task, trials, self.rewards, generator, self.readout)
        wall = self.wall_s + (time.perf_counter() - self._started)
        iv, n = self.interval, max(self.interval["updates"], 1)
        row = {"updates": self.updates, "trials": self.trials, "wall_s": round(wall, 3), **scores,
               "train_reward": iv["reward"] / iv["trials"] if iv["trials"] else float("nan"),
               "policy_loss": iv["policy_loss"] / n, "baseline_loss": iv["baseline_loss"] / n,
               "grad_norm": iv["grad_norm"] / n,
               "env_share": iv["env_s"] / iv["update_s"] if iv["update_s"] else float("nan"),
               "lr": float(self.policy_opt.param_groups[0]["lr"])}
        if isinstance(self.readout, GaussianReadout):
            row["action_sd"] = float(self.readout.sd.detach().mean())
        self.interval = self._fresh_interval()
        self.history.append(row)
        value = scores.get(self.criterion.metric, float("nan"))
        if runs.keeps_as_best(self.criterion, value, self.best):
            policy = self._policy_state()
            self.best = {"value": value, "updates": self.updates, "trials": self.trials, "wall_s": wall,
                         "state": policy["network"], "readout": policy["readout"]}
            self._save_policy(policy)
        if self.reached is None and self.criterion.met([r.get(self.criterion.metric, float("nan"))
                                                        for r in self.history]):
            self.reached = {"updates": self.updates, "trials": self.trials, "wall_s": wall}
        return row

    def _report(self, row: dict[str, Any], bar) -> None:
        metric = self.criterion.metric
        line = (f"[{row['wall_s']:7.1f} s] {row['trials']:>8d} trials {row['updates']:>6d} updates  "
                f"{metric} {row.get(metric, float('nan')):.4g}  reward/trial {row['mean_reward']:.3f}  "
                f"train reward {row['train_reward']:.3f}")
        if "percent_correct" in row and metric != "percent_correct":
            line += f"  percent_correct {row['percent_correct']:.4g}"
        if bar is not None:
            bar.set_postfix_str(f"{metric}={row.get(metric, float('nan')):.3g}", refresh=True)
        if not self.quiet:
            (bar.write if bar is not None else print)(line)
            sys.stdout.flush()

    # ---------------------------------------------------------------- the loop
    def run(self, max_trials: int | None, max_updates: int, max_minutes: float | None) -> str:
        """Train until the criterion or a budget; returns why it stopped."""
        from tqdm.auto import tqdm

        self._started = time.perf_counter()
        deadline = self._started + 60.0 * max_minutes if max_minutes is not None else math.inf
        every = self.hp["validate_every"]
        bar = tqdm(total=max_updates, initial=min(self.updates, max_updates), unit="update",
                   disable=not self.show_bar, dynamic_ncols=True, smoothing=0.1)
        reason = None
        try:
            if not self.history:                                   # the untrained policy's row
                self._report(self.validate(), bar)
            while reason is None:
                self.update()
                bar.update(1)
                validated = self.updates % every == 0
                if validated:
                    self._report(self.validate(), bar)
                    if self.reached is not None:
                        reason = self.stopped = runs.CRITERION
                if reason is None:
                    if max_trials is not None and self.trials >= max_trials:
                        reason = "max_trials"
                    elif self.updates >= max_updates:
                        reason = "max_updates"
                    elif time.perf_counter() >= deadline:
                        reason = "max_minutes"
                if validated or reason is not None:
                    now = time.perf_counter()
                    self.wall_s += now - self._started
                    self._started = now
                    self.save_checkpoint()
        finally:
            bar.close()
        return reason

    # ---------------------------------------------------------------- the end
    def finish(self, reason: str) -> dict[str, Any]:
        """Save the final policy (the one that met the criterion, else the best) and metrics.json."""
        current = self._policy_state()
        if self.reached is not None:
            final, which = current, "met criterion"
        elif self.best is not None:
            final, which = {"network": self.best["state"], "readout": self.best.get("readout", {})}, "best"
        else:
            final, which = current, "last"
        self._save_policy(final)
        self.network.load_state_dict(final["network"])
        self.readout.load_state_dict(final["readout"])
        try:
            fresh = validation_batch(self.task, np.random.default_rng(seed_int(self.seed, 5)), VALIDATION_TRIALS)
            final_scores, _ = score_policy(self.network, self.task, fresh, self.rewards,
                                           torch.Generator().manual_seed(seed_int(self.seed, 6)), self.readout)
        finally:
            self.network.load_state_dict(current["network"])
            self.readout.load_state_dict(current["readout"])
        metrics = {
            "task": self.task.id, "model": "eirnn", "agent": AGENT, "algorithm": self.config["algorithm"],
            "preset": None, "criterion": str(self.criterion), "criterion_met": self.reached is not None,
            **final_verdict(self.criterion, final_scores, self.reached is not None),
            "stopped": reason,
            "trials_to_criterion": self.reached["trials"] if self.reached else None,
            "updates_to_criterion": self.reached["updates"] if self.reached else None,
            "wall_s_to_criterion": round(self.reached["wall_s"], 3) if self.reached else None,
            "updates": self.updates, "trials": self.trials, "wall_s": round(self.wall_s, 3),
            "env_share": round(self.env_s / self.wall_s, 4) if self.wall_s else None,
            "final": final_scores, "final_model": which,
            "best": {k: v for k, v in self.best.items() if k not in ("state", "readout")} if self.best else None,
            "pruned_weights": None, "skipped_updates": self.skipped_updates,
        }
        if isinstance(self.readout, GaussianReadout):
            metrics["action_sd"] = [float(v) for v in final["readout"]["log_std"].exp()]
        runs.write_json_atomic(self.out / runs.METRICS, metrics)
        return metrics


def run_rewards(task: Task, hp: Mapping[str, Any]) -> dict[str, float]:
    """The environment's reward table: the choice rule's abort/correct/miss/catch rewards (those its rule has),
    or the tracking rule's abort reward and error scale (None: 1 / the mean trial length in steps)."""
    if task.rule.action_kind == "discrete":
        rewards = {"abort": float(hp["abort_reward"]), "correct": float(hp["correct_reward"]),
                   "miss": float(hp["miss_reward"]), "catch": float(hp["catch_reward"])}
        return {k: v for k, v in rewards.items() if k in task.rule.default_rewards}
    scale = hp.get("error_scale")
    if scale is None:
        scale = 1.0 / max(float(np.mean(task.trials(256, np.random.default_rng(0)).lengths)), 1.0)
    return {"abort": float(hp["abort_reward"]), "error_scale": float(scale)}


def readout_config(readout: Readout) -> dict[str, Any]:
    """config.json's "readout" entry: what turns the network's outputs into actions."""
    if isinstance(readout, GaussianReadout):
        return {"name": "gaussian", "mean": "centre + half_width * tanh(z)", "low": readout.low.tolist(),
                "high": readout.high.tolist(), "sd": "exp(log_std), learned, in " + READOUT_WEIGHTS,
                "environment_action": "the sample clipped into the Box"}
    return {"name": "categorical", "probabilities": "softmax(z)"}


def load_policy(run_dir: str | os.PathLike) -> tuple[EIRNN, Readout]:
    """(the trained policy network, its readout with its learned parameters) of an ei-reinforce run folder."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    run = runs.RunDir(run_dir)
    if not is_reinforce_run(run.config):
        raise ValueError(f"{run.path} is not an {AGENT} run folder")
    task = run.task()
    readout = policy_readout(task, run.config["reinforce"])        # as resolved when the run started
    if readout.state_dict():
        path = run.path / READOUT_WEIGHTS
        try:
            readout.load_state_dict(load_file(str(path)))
        except (SafetensorError, OSError, RuntimeError, ValueError) as err:
            raise ValueError(f"{path} is missing or corrupt ({err})") from None
        if not all(torch.isfinite(v).all() for v in readout.state_dict().values()):
            raise ValueError(f"{path} holds non-finite readout parameters")
    return run.model(), readout


def is_reinforce_run(config: Mapping[str, Any]) -> bool:
    """Whether a run folder's config.json is an ei-reinforce run's."""
    return config.get("agent") == AGENT and isinstance(config.get("reinforce"), Mapping)


def train_reinforce(task: str | Task, *, out: str | os.PathLike | None = None, seed: int = 0,
                    max_trials: int | None = None, max_updates: int | None = None, max_minutes: float | None = None,
                    hyperparams: Mapping[str, Any] | None = None, quiet: bool = False, figures: bool = True,
                    task_kwargs: Mapping[str, Any] | None = None, criterion: Criterion | None = None,
                    progress: bool | None = None, device: str = "cpu") -> runs.RunDir:
    """Train an E/I network on ``task`` from reward alone and return its run folder.

    Args:
        task: a task id (made with ``task_kwargs``) or a Task, with Discrete actions (a softmax policy) or Box
            actions with finite bounds (a Gaussian policy, :mod:`agents.rl.reinforce_readout`).
        out: the run folder (default ``runs/<ID>-ei-reinforce-<YYYYmmdd-HHMMSS>``); an existing one is resumed.
        seed: seeds the networks' weights, the trials, the noise and the actions.
        max_trials, max_updates: budgets over the whole run (default ``max_updates`` 20,000); max_minutes: per
            call. Checked after every update.
        hyperparams: overrides of :data:`agents.rl.reinforce_presets.DEFAULTS` (``{"trials_per_update": 128}``;
            ``{"policy": {"n_units": 200}}`` for the E/I network's arguments).
        criterion: replace ``task.criterion``; quiet: no line per validation; progress: force the bar on/off;
        figures: draw the figures. device: only ``"cpu"`` (the step-by-step rollout is CPU-bound).
    """
    task = runs.task_of(task, task_kwargs)
    if getattr(task, "chain", None) is not None:
        raise ValueError(f"{task.id}'s trials depend on earlier trials (a TrialStream: blocks, drifting rewards, a "
                         f"hidden rule), but {AGENT} starts its network afresh at every trial and so cannot learn "
                         "what carries over: train recurrent-ppo on it (its LSTM keeps its state through an episode)")
    for name, value in (("max_trials", max_trials), ("max_updates", max_updates)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if max_minutes is not None and not max_minutes > 0:
        raise ValueError(f"max_minutes must be > 0, got {max_minutes!r}")
    dev = resolve_device(device)
    if dev.type != "cpu":
        raise ValueError(f"device must be 'cpu' for {AGENT} (its rollout steps a CPU environment), got {device!r}")
    hp = reinforce_presets.resolve(hyperparams)
    if out is None:
        out = Path("runs") / f"{task.id}-{AGENT}-{_dt.datetime.now().strftime('%Y%m%d-%H%M%S')}"
    out = Path(out)
    budget = max_updates if max_updates is not None else MAX_UPDATES

    lock = run = None
    try:
        run = ReinforceRun(task, hp, out, seed, criterion or task.criterion, dev, quiet, progress)
        lock = runs.open_for_writing(out)
        resumed = run.start_or_resume()
        runs.complete(out, run, lambda: run.run(max_trials, budget, max_minutes),
                      f"resuming {out} from update {run.updates} ({run.trials} trials)", resumed=resumed,
                      write_figures=_write_figures, figures=figures, quiet=quiet)
    finally:
        if run is not None:
            run.env.close()
        if lock is not None:
            lock.release()
    return runs.RunDir(out)


def _write_figures(out: Path) -> None:
    from agents.rl.reinforce_figures import write_reinforce_figures

    write_reinforce_figures(out)
