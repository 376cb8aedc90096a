"""Train a stable-baselines3 agent (PPO, RecurrentPPO) on a task into a run folder, as the supervised trainer does.

    run = train_agent("PerceptualDecision-v0", "recurrent-ppo")          # RL-Zoo hyperparameters shipped here
    run = train_agent("ContextDecision-v0", "recurrent-ppo", out="runs/cd", max_minutes=30)
    model = load_agent(run.path)                                          # the SB3 model, rebuilt without pickle

The run folder is the supervised trainer's (:mod:`agents.runs`): config.json (task, agent, algorithm,
every hyperparameter used, seed, criterion, versions), model.safetensors (the policy's state dict),
checkpoint.safetensors (:mod:`agents.checkpoint`), history.csv, metrics.json, figures/. Nothing in it
is a pickle: SB3's own ``.zip`` is never written, and :func:`load_agent` builds the algorithm from
config.json and loads the weights into it.

The loop, top to bottom (SB3's ``learn`` runs it; :class:`~agents.rl.callbacks.RunCallback` steers):

1. the hyperparameters: the task's entry of ``hyperparams/<ppo|ppo_lstm>.yml``, then ``hyperparams``;
2. ``n_envs`` environments of the task in one SB3 VecEnv; the algorithm built on them, seeded;
3. before every rollout (so right after every update): if ``validate_every`` timesteps have passed,
   the policy plays the task's condition grid (``task.grid_trials``, the supervised trainer's
   validation batches, from the same seeded stream) with deterministic actions, batched over trials,
   scored by ``task.evaluate(batch, actions=...)`` and ``task.score``; a history row; the best policy
   kept; the criterion checked on the history as the trainer checks it; a checkpoint written;
4. stop at the criterion or at a budget (``max_trials``, ``max_timesteps`` — by default the entry's
   ``n_timesteps`` — or ``max_minutes``); the final policy (the one that met the criterion, else the
   best one) scored on fresh trials; metrics.json; figures.

Counting: a trial is an episode (one trial per episode); an update ("updates") is one PPO iteration,
a rollout of ``n_envs * n_steps`` steps followed by ``n_epochs`` passes over it.

Resume (the same call on the same folder) restores: the policy, the optimizer's moments and step
counts, ``num_timesteps``, SB3's update counter, trials, updates, wall time, history, best policy,
the criterion's state, the next validation, and the global RNG states SB3 draws from (torch:
actions; NumPy: minibatch order; Python). Not restored, so a resumed run is reproducible but not
bit-identical to an uninterrupted one: the environments' trials in flight (each sub-environment
starts a fresh trial, seeded from the seed and ``num_timesteps``) and with them the LSTM states of
those trials (zero, as at any trial start). Checkpoints are written between updates, so no
collected experience is lost. The folder is locked (:mod:`agents.run_lock`) while a process writes it.
"""

from __future__ import annotations

import datetime as _dt
import math
import os
import random
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from agents import checkpoint as checkpoint_file
from agents import runs
from agents.atomic import json_safe
from agents.rl import zoo
from agents.rl.acting import score
from agents.rl.callbacks import RunCallback
from agents.training.presets import DEFAULT_PRESET, PRESETS
from agents.training.trainer import final_verdict, resolve_device, seed_int, validation_batch, versions
from neurotasks.criterion import Criterion
from neurotasks.task import Task

#: the format version of an SB3 run's checkpoint.safetensors (its own numbering, beside the trainer's)
CHECKPOINT_VERSION = 1
#: the ``kind`` entry of that checkpoint's state
CHECKPOINT_KIND = "sb3-run"
#: entries of the checkpoint's state and their types
CHECKPOINT_FIELDS: dict[str, type | tuple[type, ...]] = {
    "kind": str, "policy": dict, "optimizer": dict, "num_timesteps": int, "sb3_n_updates": int, "updates": int,
    "trials": int, "wall_s": (int, float), "history": list, "best": (dict, type(None)),
    "reached": (dict, type(None)), "next_validation": int, "stopped": (str, type(None)),
    "figures_updates": (int, type(None)), "interval": dict, "torch_rng": torch.Tensor, "numpy_rng": tuple,
    "python_rng": tuple,
}
#: validation batches: about this many grid trials, as the supervised trainer's default preset
VALIDATION_TRIALS = PRESETS[DEFAULT_PRESET].validation_trials
#: default spacing of validations: the first whole number of rollouts of at least this many timesteps
VALIDATE_EVERY_TIMESTEPS = 10_000
#: the stop reason after which a run never trains again
CRITERION = runs.CRITERION


# ---------------------------------------------------------------------- building blocks
def make_env(task: Task, n_envs: int):
    """``n_envs`` environments of ``task`` as one SB3 VecEnv (the adapter over the native vector env when
    available, else SB3's DummyVecEnv of single environments), and the adapter's name."""
    try:
        from agents.rl.vec_env import TaskVecEnv
    except ImportError:
        from stable_baselines3.common.vec_env import DummyVecEnv

        from neurotasks.env import TaskEnv

        return DummyVecEnv([lambda: TaskEnv(task) for _ in range(n_envs)]), "DummyVecEnv"
    return TaskVecEnv(task, n_envs), "TaskVecEnv"


def build_model(spec: zoo.AgentSpec, hp: Mapping[str, Any], env, seed: int, device: torch.device):
    """The algorithm, constructed with the run's hyperparameters on ``env``; errors name the hyperparameters."""
    from stable_baselines3.common.logger import Logger

    policy, kwargs = zoo.constructor_kwargs(hp)
    try:
        model = spec.algorithm_class()(policy, env, seed=seed, device=device, verbose=0, **kwargs)
    except (TypeError, ValueError, AssertionError) as err:
        raise ValueError(f"{spec.algorithm} refused the hyperparameters: {err}") from None
    model.set_logger(Logger(folder=None, output_formats=[]))    # no stdout, no files: the run folder is the log
    return model


def check_action_space(spec: zoo.AgentSpec, task: Task) -> None:
    """PPO and RecurrentPPO act in Discrete spaces (choices) and Box spaces (a Gaussian policy whose actions
    are clipped to the bounds, eye or hand positions); anything else is refused."""
    from gymnasium import spaces

    from neurotasks.env import make_spaces

    _, action_space = make_spaces(task)
    if not isinstance(action_space, (spaces.Discrete, spaces.Box)):
        raise ValueError(f"{spec.name} cannot act in {task.id}'s action space {action_space}")


# SB3 samples actions from torch's global generator and shuffles minibatches with NumPy's legacy global one.
def _global_rng_states() -> dict[str, Any]:
    return {"torch_rng": torch.get_rng_state(), "numpy_rng": np.random.get_state(),  # noqa: NPY002
            "python_rng": random.getstate()}


def _set_global_rng_states(states: Mapping[str, Any]) -> None:
    torch.set_rng_state(states["torch_rng"].cpu())
    np.random.set_state(states["numpy_rng"])  # noqa: NPY002
    random.setstate(_as_tuples(states["python_rng"]))


def _as_tuples(value: Any) -> Any:
    return tuple(_as_tuples(v) for v in value) if isinstance(value, (list, tuple)) else value


def _normalise(data: Any) -> Any:
    import json

    return json.loads(json.dumps(json_safe(data)))


def _criterion_dict(c: Criterion) -> dict[str, Any]:
    return {"metric": c.metric, "op": c.op, "threshold": float(c.threshold), "window": int(c.window)}


#: SB3's training statistics copied into each history row (logger key -> column)
TRAIN_STATS = {"train/loss": "loss", "train/policy_gradient_loss": "policy_loss", "train/value_loss": "value_loss",
               "train/entropy_loss": "entropy_loss", "train/approx_kl": "approx_kl",
               "train/clip_fraction": "clip_fraction", "train/explained_variance": "explained_variance",
               "train/std": "action_std"}
#: config.json entries that must match for a folder to be resumed (n_timesteps, a budget, may change)
RESUME_KEYS = ("task", "agent", "algorithm", "model", "hyperparameters", "seed", "criterion", "validation")


# ---------------------------------------------------------------------- the run
class AgentRun:
    """Owns a run folder and an SB3 model; the callback calls ``at_boundary`` between updates."""

    def __init__(self, task: Task, spec: zoo.AgentSpec, hp: dict[str, Any], out: Path, seed: int,
                 criterion: Criterion, device: torch.device, validate_every: int, quiet: bool,
                 progress: bool | None) -> None:
        self.task, self.spec, self.hp, self.out, self.seed = task, spec, hp, out, int(seed)
        self.criterion, self.device, self.quiet = criterion, device, quiet
        is_ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
        self.show_bar = (not quiet and sys.stderr.isatty() and not is_ci) if progress is None else bool(progress)
        self.env, env_name = make_env(task, hp["n_envs"])
        self.model = build_model(spec, hp, self.env, self.seed, device)
        rollout = hp["n_envs"] * hp["n_steps"]
        self.validate_every = int(validate_every)
        self.config = _normalise({
            "task": {"id": task.id, "kwargs": dict(task.kwargs)},
            "agent": spec.name,
            "algorithm": spec.qualified_name,
            "model": {"name": spec.name, "algorithm": spec.qualified_name, "policy": hp["policy"],
                      "policy_kwargs": hp["policy_kwargs"]},
            "hyperparameters": hp,
            "hyperparameter_file": zoo.hyperparams_file(spec.zoo_name).name,
            "seed": self.seed,
            "criterion": _criterion_dict(criterion),
            "validation": {"every_timesteps": self.validate_every, "trials": VALIDATION_TRIALS,
                           "deterministic": True},
            "preset": None,
            "env": {"vec_env": env_name, "rollout_timesteps": rollout},
        })
        self.val_rng = np.random.default_rng(seed_int(seed, 2))
        self.updates = self.trials = 0
        self.wall_s = 0.0
        self.history: list[dict[str, Any]] = []
        self.best: dict[str, Any] | None = None
        self.reached: dict[str, Any] | None = None
        self.stopped: str | None = None
        self.figures_updates: int | None = None
        self.next_validation = 0
        self.interval = {"trials": 0, "reward": 0.0}        # since the last validation: trials ended, their rewards
        self.boundary_timesteps = 0
        # set by run()
        self.bar = None
        self.max_trials = self.max_timesteps = None
        self.deadline = math.inf
        self._started = 0.0

    # ---------------------------------------------------------------- persistence
    def start_or_resume(self) -> bool:
        """Write config.json for a new run, or load the checkpoint of an earlier one. True if resumed."""
        return runs.start_or_resume(self.out, self.config, RESUME_KEYS, self._load_checkpoint, device=self.device,
                                    versions=versions_now(), comparable=_without_budget)

    def checkpoint_state(self) -> dict[str, Any]:
        """Everything a resumed run restores: tensors, numbers, lists, dicts and strings only."""
        return {
            "kind": CHECKPOINT_KIND, "policy": dict(self.model.policy.state_dict()),
            "optimizer": self.model.policy.optimizer.state_dict(), "num_timesteps": int(self.boundary_timesteps),
            "sb3_n_updates": int(self.model._n_updates), "updates": self.updates, "trials": self.trials,
            "wall_s": self.wall_s, "history": self.history, "best": self.best, "reached": self.reached,
            "next_validation": self.next_validation, "stopped": self.stopped, "figures_updates": self.figures_updates,
            "interval": dict(self.interval), **_global_rng_states(),
        }

    def save_checkpoint(self) -> None:
        checkpoint_file.save(self.out / runs.CHECKPOINT, self.checkpoint_state(), CHECKPOINT_VERSION)
        runs.write_history_atomic(self.out / runs.HISTORY, self.history)

    def _load_checkpoint(self) -> None:
        path = self.out / runs.CHECKPOINT
        ckpt = checkpoint_file.load(path, CHECKPOINT_VERSION, self.device)
        check_checkpoint_state(ckpt, path, self.model.policy.state_dict())
        try:
            self.model.policy.load_state_dict(ckpt["policy"])
            self.model.policy.optimizer.load_state_dict(ckpt["optimizer"])
            _set_global_rng_states(ckpt)
        except (RuntimeError, ValueError, KeyError, TypeError, IndexError) as err:
            raise checkpoint_file.CheckpointError(f"{path} is corrupt ({type(err).__name__}: {err})") from None
        self.model.num_timesteps = self.boundary_timesteps = ckpt["num_timesteps"]
        self.model._n_updates = ckpt["sb3_n_updates"]
        self.updates, self.trials, self.wall_s = ckpt["updates"], ckpt["trials"], float(ckpt["wall_s"])
        self.history, self.best, self.reached = ckpt["history"], ckpt["best"], ckpt["reached"]
        self.next_validation, self.stopped = ckpt["next_validation"], ckpt["stopped"]
        self.figures_updates, self.interval = ckpt["figures_updates"], dict(ckpt["interval"])
        # fresh trials in every sub-environment, reproducibly (the trials in flight at the checkpoint are gone)
        self.env.seed(seed_int(self.seed, 7, self.boundary_timesteps))

    # ---------------------------------------------------------------- validation
    def validate(self) -> dict[str, Any]:
        """Score the current policy on the next validation batch; a history row; best, criterion."""
        scores, _ = score(self.model, self.task, validation_batch(self.task, self.val_rng, VALIDATION_TRIALS))
        wall = self.wall_s + (time.perf_counter() - self._started)
        logged = self.model.logger.name_to_value
        row = {"updates": self.updates, "trials": self.trials, "timesteps": self.boundary_timesteps,
               "wall_s": round(wall, 3), **scores,
               "train_reward": self.interval["reward"] / self.interval["trials"] if self.interval["trials"]
               else float("nan"),
               **{column: float(logged[key]) if key in logged else float("nan") for key, column in TRAIN_STATS.items()
                  if key != "train/std" or key in logged},
               "lr": float(self.model.policy.optimizer.param_groups[0]["lr"])}
        self.interval = {"trials": 0, "reward": 0.0}
        self.history.append(row)
        value = scores.get(self.criterion.metric, float("nan"))
        if runs.keeps_as_best(self.criterion, value, self.best):
            self.best = {"value": value, "updates": self.updates, "trials": self.trials,
                         "timesteps": self.boundary_timesteps, "wall_s": wall,
                         "state": {k: v.detach().clone() for k, v in self.model.policy.state_dict().items()}}
            runs.save_weights(self.out / runs.WEIGHTS, self.best["state"])
        if self.reached is None and self.criterion.met([r.get(self.criterion.metric, float("nan"))
                                                        for r in self.history]):
            self.reached = {"updates": self.updates, "trials": self.trials, "timesteps": self.boundary_timesteps,
                            "wall_s": wall}
        return row

    # ---------------------------------------------------------------- the callback's hooks
    def at_boundary(self, updates_done: int) -> str | None:
        """Between two updates: validate when due, then the criterion, the budgets; the stop reason or None."""
        self.updates += updates_done
        self.boundary_timesteps = self.model.num_timesteps
        reason = None
        validated = self.boundary_timesteps >= self.next_validation
        if validated:
            row = self.validate()
            self.next_validation = self.boundary_timesteps + self.validate_every
            self._report(row)
            if self.reached is not None:
                reason = self.stopped = CRITERION             # recorded with the kept (current) weights
        if reason is None:
            if self.max_trials is not None and self.trials >= self.max_trials:
                reason = "max_trials"
            elif self.max_timesteps is not None and self.boundary_timesteps >= self.max_timesteps:
                reason = "max_timesteps"
            elif time.perf_counter() >= self.deadline:
                reason = "max_minutes"
        if validated or reason is not None:
            now = time.perf_counter()
            self.wall_s += now - self._started
            self._started = now
            self.save_checkpoint()
        return reason

    def count_step(self, n_envs: int, dones: np.ndarray, rewards: np.ndarray) -> None:
        ended = int(np.count_nonzero(dones))
        self.trials += ended
        self.interval["trials"] += ended
        self.interval["reward"] += float(np.sum(rewards))

    def rollout_collected(self, timesteps: int) -> None:
        if self.bar is not None:
            self.bar.update(timesteps - self.bar.n)
            self.bar.set_postfix_str(self._postfix(), refresh=False)

    def _postfix(self) -> str:
        perf = self.history[-1].get(self.criterion.metric, float("nan")) if self.history else float("nan")
        text = f"{self.trials} trials {self.criterion.metric}={perf:.3g}"
        left = self.deadline - time.perf_counter()
        if math.isfinite(left):
            text += f" cap in {int(left // 60)}:{int(left % 60):02d}"
        return text

    def _report(self, row: dict[str, Any]) -> None:
        metric = self.criterion.metric
        line = (f"[{row['wall_s']:7.1f} s] {row['timesteps']:>9d} steps {row['trials']:>7d} trials "
                f"{row['updates']:>5d} updates  {metric} {row.get(metric, float('nan')):.4g}  "
                f"reward/trial {row['mean_reward']:.3f}")
        if "percent_correct" in row and metric != "percent_correct":
            line += f"  percent_correct {row['percent_correct']:.4g}"
        if self.bar is not None:
            self.bar.set_postfix_str(self._postfix(), refresh=True)
        if not self.quiet:
            (self.bar.write if self.bar is not None else print)(line)
            sys.stdout.flush()

    # ---------------------------------------------------------------- the loop
    def run(self, max_trials: int | None, max_timesteps: int, max_minutes: float | None) -> str:
        """Learn until the criterion or a budget; returns why it stopped."""
        from tqdm.auto import tqdm

        self.max_trials, self.max_timesteps = max_trials, max_timesteps
        self._started = time.perf_counter()
        self.deadline = self._started + 60.0 * max_minutes if max_minutes is not None else math.inf
        self.bar = tqdm(total=max_timesteps, initial=min(self.boundary_timesteps, max_timesteps), unit="step",
                        disable=not self.show_bar, dynamic_ncols=True, smoothing=0.1, unit_scale=True)
        callback = RunCallback(self)
        try:
            # The callback stops learning (criterion, budgets); SB3's own total is only a backstop.
            self.model.learn(total_timesteps=2**62, callback=callback, reset_num_timesteps=False, log_interval=None)
        finally:
            self.bar.close()
            self.bar = None
        self.model.num_timesteps = self.boundary_timesteps       # the discarded step after the stop
        return callback.stop_reason or "max_timesteps"

    # ---------------------------------------------------------------- the end
    def finish(self, reason: str) -> dict[str, Any]:
        """Save the final policy and metrics.json; returns the metrics."""
        if self.reached is not None:
            final_state, which = self.model.policy.state_dict(), "met criterion"
        elif self.best is not None:
            final_state, which = self.best["state"], "best"
        else:
            final_state, which = self.model.policy.state_dict(), "last"
        runs.save_weights(self.out / runs.WEIGHTS, dict(final_state))
        current = {k: v.detach().clone() for k, v in self.model.policy.state_dict().items()}
        self.model.policy.load_state_dict(final_state)
        try:
            fresh = validation_batch(self.task, np.random.default_rng(seed_int(self.seed, 5)), VALIDATION_TRIALS)
            final_scores, _ = score(self.model, self.task, fresh)
        finally:
            self.model.policy.load_state_dict(current)
        metrics = {
            "task": self.task.id,
            "model": self.spec.name,
            "agent": self.spec.name,
            "algorithm": self.spec.qualified_name,
            "preset": None,
            "criterion": str(self.criterion),
            "criterion_met": self.reached is not None,
            **final_verdict(self.criterion, final_scores, self.reached is not None),
            "stopped": reason,
            "trials_to_criterion": self.reached["trials"] if self.reached else None,
            "updates_to_criterion": self.reached["updates"] if self.reached else None,
            "timesteps_to_criterion": self.reached["timesteps"] if self.reached else None,
            "wall_s_to_criterion": round(self.reached["wall_s"], 3) if self.reached else None,
            "updates": self.updates,
            "trials": self.trials,
            "timesteps": self.boundary_timesteps,
            "wall_s": round(self.wall_s, 3),
            "final": final_scores,
            "final_model": which,
            "best": {k: v for k, v in self.best.items() if k != "state"} if self.best else None,
            "pruned_weights": None,                      # the trainer's keys: nothing to prune (as gru/lstm),
            "skipped_updates": 0,                        # and PPO never skips an update
            "epochs": int(self.model._n_updates),       # SB3's count: n_epochs passes per update
        }
        runs.write_json_atomic(self.out / runs.METRICS, metrics)
        return metrics


def _without_budget(config: dict[str, Any]) -> dict[str, Any]:
    """The resume keys of a config without the timestep budget, which a resumed call may change."""
    if isinstance(config.get("hyperparameters"), dict):
        config = {**config, "hyperparameters": {k: v for k, v in config["hyperparameters"].items()
                                                if k != "n_timesteps"}}
    return config


def versions_now() -> dict[str, str]:
    """The trainer's versions plus SB3's."""
    import stable_baselines3

    out = dict(versions())
    out["stable_baselines3"] = stable_baselines3.__version__
    try:
        import sb3_contrib
    except ImportError:
        pass
    else:
        out["sb3_contrib"] = sb3_contrib.__version__
    return out


def check_checkpoint_state(state: Mapping[str, Any], path: Path, policy_state: Mapping[str, torch.Tensor]) -> None:
    """CheckpointError naming ``path`` unless ``state`` is an SB3 run's, every entry of the right type, with
    weights of the policy's names and shapes, all finite."""
    def corrupt(why: str) -> checkpoint_file.CheckpointError:
        return checkpoint_file.CheckpointError(f"{path} is corrupt ({why})")

    if "kind" in state and state["kind"] != CHECKPOINT_KIND:
        raise corrupt(f"it is a {state['kind']!r} checkpoint, not an SB3 run's")
    checkpoint_file.check_state(state, path, CHECKPOINT_FIELDS, "policy", policy_state, "policy")


# ---------------------------------------------------------------------- public entry points
def train_agent(task: str | Task, agent: str = "ppo", *, out: str | os.PathLike | None = None, seed: int = 0,
                max_trials: int | None = None, max_minutes: float | None = None, max_timesteps: int | None = None,
                hyperparams: Mapping[str, Any] | None = None, quiet: bool = False, figures: bool = True,
                task_kwargs: Mapping[str, Any] | None = None, criterion: Criterion | None = None,
                validate_every: int | None = None, progress: bool | None = None,
                device: str = "cpu") -> runs.RunDir:
    """Train an SB3 agent on ``task`` and return its run folder.

    Args:
        task: a task id (made with ``task_kwargs``) or a Task.
        agent: ``"ppo"`` (stable-baselines3's PPO, MlpPolicy) or ``"recurrent-ppo"`` (sb3-contrib's
            RecurrentPPO, MlpLstmPolicy).
        out: the run folder (default ``runs/<ID>-<agent>-<YYYYmmdd-HHMMSS>``); an existing one is resumed.
        seed: seeds the policy, the environments and SB3's sampling.
        max_trials, max_timesteps: budgets over the whole run (default ``max_timesteps``: the entry's
            ``n_timesteps``); max_minutes: per call. Checked between updates.
        hyperparams: overrides of the shipped RL-Zoo entry (``{"learning_rate": 3e-4, "n_envs": 8}``).
        criterion: replace ``task.criterion``; validate_every: timesteps between validations (rounded up to
            whole rollouts; default: rollouts of at least 10,000 timesteps).
        quiet: no line per validation; progress: force the progress bar on/off; figures: draw the figures.
        device: ``"cpu"`` (default; these policies are small) or ``"cuda"``.
    """
    spec = zoo.agent_spec(agent)
    task = runs.task_of(task, task_kwargs)
    for name, value in (("max_trials", max_trials), ("max_timesteps", max_timesteps),
                        ("validate_every", validate_every)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if max_minutes is not None and not max_minutes > 0:
        raise ValueError(f"max_minutes must be > 0, got {max_minutes!r}")
    check_action_space(spec, task)
    hp = zoo.resolve(spec, task.id, hyperparams)
    rollout = hp["n_envs"] * hp["n_steps"]
    every = validate_every if validate_every is not None else VALIDATE_EVERY_TIMESTEPS
    every = math.ceil(every / rollout) * rollout
    budget = max_timesteps if max_timesteps is not None else hp["n_timesteps"]
    dev = resolve_device(device)
    if out is None:
        out = Path("runs") / f"{task.id}-{spec.name}-{_dt.datetime.now().strftime('%Y%m%d-%H%M%S')}"
    out = Path(out)

    saved_rng = _global_rng_states()               # SB3 seeds the global RNGs; the caller gets them back
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(1)                       # a policy of a few thousand weights: threads cost more
    lock = run = None
    try:
        run = AgentRun(task, spec, hp, out, seed, criterion or task.criterion, dev, every, quiet, progress)
        lock = runs.open_for_writing(out)
        resumed = run.start_or_resume()
        runs.complete(out, run, lambda: run.run(max_trials, budget, max_minutes),
                      f"resuming {out} from {run.boundary_timesteps} timesteps ({run.trials} trials, "
                      f"{run.updates} updates)", resumed=resumed, write_figures=_write_agent_figures,
                      figures=figures, quiet=quiet)
    finally:
        if run is not None:
            run.env.close()
        if lock is not None:
            lock.release()
        torch.set_num_threads(previous_threads)
        _set_global_rng_states(saved_rng)
    return runs.RunDir(out)


def is_agent_run(config: Mapping[str, Any]) -> bool:
    """Whether a run folder's config.json is an SB3 agent's (else a supervised network's)."""
    return config.get("agent") in zoo.AGENTS and isinstance(config.get("hyperparameters"), dict)


def load_agent(run_dir: str | os.PathLike, device: str = "cpu"):
    """The trained SB3 model of an agent's run folder, built from config.json and model.safetensors (never
    unpickled): the algorithm constructed with the saved hyperparameters on one environment of the task,
    then the policy's weights loaded. ValueError if the folder is not an agent's or its weights do not fit."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    run = runs.RunDir(run_dir)
    config = run.config
    if not is_agent_run(config):
        raise ValueError(f"{run.path} is not an RL agent's run folder (its config.json names no agent)")
    spec = zoo.agent_spec(config["agent"])
    hp = dict(config["hyperparameters"])
    task = run.task()
    path = run.file(runs.WEIGHTS)
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as err:
        raise ValueError(f"{path} is corrupt ({err})") from None
    bad = runs.non_finite_entries(state)
    if bad:
        raise ValueError(f"{path} holds non-finite weights (NaN or infinity) in {', '.join(bad)}")
    env, _ = make_env(task, hp["n_envs"])
    # seed None: SB3 would reseed the process's global RNGs; the initial weights are replaced anyway
    model = build_model(spec, hp, env, None, resolve_device(device))
    try:
        model.policy.load_state_dict(state)
    except RuntimeError as err:
        raise ValueError(f"{path} does not match the policy in {runs.CONFIG}: {err}") from None
    model.policy.set_training_mode(False)
    return model


def _write_agent_figures(out: Path) -> None:
    from agents.rl.figures import write_agent_figures

    write_agent_figures(out)

