"""SB3 agents (PPO, RecurrentPPO) trained as runs: the run folder, validation, stopping, resuming, reloading.

Every training here is tiny (a few rollouts of 2 environments and a policy of 8 units): the tests
check what the run does, not how well the agent learns (the README reports that, measured).
"""

from __future__ import annotations

import importlib.util
import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

import neurotasks
from agents import checkpoint as checkpoint_file
from agents import runs
from agents.rl import zoo
from agents.rl.acting import policy_actions, score
from agents.rl.sb3_runs import (
    CHECKPOINT_VERSION,
    VALIDATION_TRIALS,
    AgentRun,
    build_model,
    load_agent,
    make_env,
    seed_int,
    train_agent,
    validation_batch,
)
from agents.run_lock import RunLock, RunLockedError
from neurotasks.criterion import Criterion

TASK_ID = "PerceptualDecision-v0"
TINY_LSTM = {"n_envs": 2, "n_steps": 32, "batch_size": 64, "n_epochs": 1,
             "policy_kwargs": "dict(lstm_hidden_size=8, net_arch=[8], shared_lstm=True, enable_critic_lstm=False)"}
TINY_MLP = {"n_envs": 2, "n_steps": 32, "batch_size": 64, "n_epochs": 1, "policy_kwargs": "dict(net_arch=[8])"}
ROLLOUT = 64
#: keys of the supervised trainer's metrics.json that every run's metrics.json has
TRAINER_METRICS = ("task", "preset", "criterion", "criterion_met", "criterion_met_in_training",
                   "final_validation_meets_criterion", "final_validation_note", "stopped", "trials_to_criterion",
                   "updates_to_criterion", "wall_s_to_criterion", "updates", "trials", "wall_s", "final",
                   "final_model", "best", "pruned_weights", "skipped_updates")
PICKLE_SUFFIXES = (".zip", ".pkl", ".pickle", ".pt", ".pth")


def tiny(agent: str, tmp: Path, name: str = "run", **kwargs):
    hp = dict(TINY_LSTM if agent == "recurrent-ppo" else TINY_MLP)
    hp.update(kwargs.pop("hyperparams", {}))
    kwargs.setdefault("validate_every", ROLLOUT)
    kwargs.setdefault("figures", False)
    kwargs.setdefault("quiet", True)
    return train_agent(kwargs.pop("task", TASK_ID), agent, out=tmp / name, hyperparams=hp, **kwargs)


def rows(run, drop: tuple[str, ...] = ()) -> list[dict]:
    """history.csv's rows, NaN as None (NaN equals nothing), without the columns ``drop``."""
    return [{k: None if isinstance(v, float) and np.isnan(v) else v for k, v in row.items() if k not in drop}
            for row in run.history()]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One recurrent run of 3 rollouts, validated after each, with its figures."""
    out = tmp_path_factory.mktemp("sb3")
    return tiny("recurrent-ppo", out, max_timesteps=3 * ROLLOUT, figures=True)


# ---------------------------------------------------------------------- the run folder
def test_the_run_folder_holds_what_a_supervised_run_holds(trained):
    files = {p.name for p in trained.path.iterdir()}
    assert {runs.CONFIG, runs.WEIGHTS, runs.CHECKPOINT, runs.HISTORY, runs.METRICS, "figures"} <= files
    config = trained.config
    assert config["task"] == {"id": TASK_ID, "kwargs": {}}
    assert config["agent"] == "recurrent-ppo" and config["algorithm"] == "sb3_contrib.RecurrentPPO"
    hp = config["hyperparameters"]
    assert (hp["n_envs"], hp["n_steps"], hp["batch_size"], hp["n_epochs"]) == (2, 32, 64, 1)
    assert hp["policy"] == "MlpLstmPolicy"
    assert hp["policy_kwargs"] == {"lstm_hidden_size": 8, "net_arch": [8], "shared_lstm": True,
                                   "enable_critic_lstm": False}
    shipped = zoo.zoo_entry(zoo.AGENTS["recurrent-ppo"], TASK_ID)
    assert hp["learning_rate"] == shipped["learning_rate"] and hp["gamma"] == shipped["gamma"]
    assert hp["clip_range"] == 0.2                                     # the algorithm's default, recorded too
    assert config["seed"] == 0 and config["criterion"]["metric"] == "percent_correct"
    assert {"stable_baselines3", "sb3_contrib", "torch", "neurotasks"} <= set(config["versions"])
    assert trained.task().id == TASK_ID
    metrics = trained.metrics
    assert set(TRAINER_METRICS) <= set(metrics)
    assert metrics["stopped"] == "max_timesteps" and metrics["timesteps"] == 3 * ROLLOUT
    assert metrics["updates"] == 3 and metrics["trials"] > 0
    history = trained.history()
    assert [row["timesteps"] for row in history] == [0, 64, 128, 192]
    assert [row["updates"] for row in history] == [0, 1, 2, 3]
    assert all(0 <= row["percent_correct"] <= 100 for row in history)
    assert history[-1]["trials"] == metrics["trials"]
    # (no psychometric.png: an untrained policy never chooses)
    assert {"training_curve.png", "example_trials.png"} <= {p.name for p in (trained.path / "figures").iterdir()}


def test_weights_are_the_policy_state_dict_and_nothing_in_the_folder_is_a_pickle(trained):
    model = load_agent(trained.path)
    weights = load_file(str(trained.path / runs.WEIGHTS))
    assert set(weights) == set(model.policy.state_dict())
    assert not [p for p in trained.path.rglob("*") if p.suffix in PICKLE_SUFFIXES]
    state = checkpoint_file.load(trained.path / runs.CHECKPOINT, CHECKPOINT_VERSION)
    assert state["kind"] == "sb3-run" and state["num_timesteps"] == 3 * ROLLOUT
    assert set(state["policy"]) == set(weights) and state["optimizer"]["state"]


def test_loading_and_resuming_never_unpickle(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("something unpickled")

    tiny("recurrent-ppo", tmp_path, max_timesteps=ROLLOUT)
    for module, name in ((pickle, "load"), (pickle, "loads"), (pickle, "Unpickler"), (torch, "load")):
        monkeypatch.setattr(module, name, refuse)
    model = load_agent(tmp_path / "run")
    assert policy_actions(model, neurotasks.make_task(TASK_ID).trials(4, 0)).shape[0] == 4
    run = tiny("recurrent-ppo", tmp_path, max_timesteps=2 * ROLLOUT)       # resumes
    assert run.metrics["timesteps"] == 2 * ROLLOUT


# ---------------------------------------------------------------------- validation
def test_validations_score_deterministic_actions_through_evaluate(tmp_path, monkeypatch):
    task = neurotasks.make_task(TASK_ID)
    calls = []
    evaluate = task.evaluate

    def recording(batch, outputs=None, actions=None, rewards=None):
        calls.append((outputs, actions))
        return evaluate(batch, outputs=outputs, actions=actions, rewards=rewards)

    monkeypatch.setattr(task, "evaluate", recording)
    run = tiny("recurrent-ppo", tmp_path, task=task, max_timesteps=ROLLOUT)
    assert len(calls) == len(run.history()) + 1                           # every validation and the final one
    assert all(outputs is None and actions is not None and actions.dtype.kind == "i" for outputs, actions in calls)
    # the final validation: the saved policy, deterministic, on the fresh batch of seed stream 5
    model = load_agent(run.path)
    batch = validation_batch(task, np.random.default_rng(seed_int(0, 5)), VALIDATION_TRIALS)
    scores, _ = score(model, task, batch)
    assert scores == pytest.approx(run.metrics["final"])


def test_validation_batches_are_the_supervised_trainers(tmp_path):
    # The trainer draws its k-th validation batch from default_rng(seed_int(seed, 2)); so does an agent's run.
    task = neurotasks.make_task(TASK_ID)
    first = validation_batch(task, np.random.default_rng(seed_int(0, 2)), VALIDATION_TRIALS)
    grid = task.grid_trials(30, np.random.default_rng(seed_int(0, 2)))
    np.testing.assert_array_equal(first.inputs, grid.inputs)
    assert len(first) >= 300


def test_a_recurrent_policy_plays_whole_trials_as_sb3_steps_it(trained):
    # policy_actions runs each trial through the LSTM in one call; SB3's predict goes step by step,
    # carrying the state, as the policy acts in its environment.
    model = load_agent(trained.path)
    batch = neurotasks.make_task(TASK_ID).trials(6, 3)
    whole = policy_actions(model, batch)
    assert whole.shape == (6, batch.n_steps) and whole.dtype.kind == "i"
    state, start, steps = None, np.ones(6, dtype=bool), []
    for t in range(batch.n_steps):
        action, state = model.predict(batch.inputs[:, t], state=state, episode_start=start, deterministic=True)
        steps.append(action)
        start = np.zeros(6, dtype=bool)
    np.testing.assert_array_equal(whole, np.stack(steps, axis=1))


def test_reloading_gives_identical_deterministic_actions(tmp_path):
    # Stopped at the criterion, the saved policy is the one being trained: the checkpoint's.
    run = tiny("recurrent-ppo", tmp_path, criterion=Criterion("percent_correct", ">=", 0.0, window=3))
    state = checkpoint_file.load(run.path / runs.CHECKPOINT, CHECKPOINT_VERSION)
    assert state["updates"] == 2
    reference = build_model(zoo.AGENTS["recurrent-ppo"], run.config["hyperparameters"],
                            make_env(run.task(), 2)[0], None, torch.device("cpu"))
    reference.policy.load_state_dict(state["policy"])
    batch = neurotasks.make_task(TASK_ID).trials(40, 11)
    loaded = load_agent(run.path)
    for key, value in loaded.policy.state_dict().items():
        assert torch.equal(value, state["policy"][key])
    np.testing.assert_array_equal(policy_actions(loaded, batch), policy_actions(reference, batch))
    np.testing.assert_array_equal(policy_actions(load_agent(run.path), batch), policy_actions(loaded, batch))



# ---------------------------------------------------------------------- stopping
def test_stops_at_the_tasks_criterion_as_the_trainer_checks_it(tmp_path):
    task = neurotasks.make_task(TASK_ID)
    task.criterion = Criterion("percent_correct", ">=", 0.0, window=2)     # met by the second validation
    run = tiny("ppo", tmp_path, task=task, max_timesteps=100 * ROLLOUT)
    metrics, history = run.metrics, rows(run)
    assert metrics["stopped"] == "criterion" and metrics["criterion_met"]
    assert len(history) == 2
    assert metrics["updates_to_criterion"] == history[1]["updates"] == 1
    assert metrics["trials_to_criterion"] == history[1]["trials"]
    assert metrics["timesteps_to_criterion"] == ROLLOUT and metrics["final_model"] == "met criterion"
    assert run.config["criterion"] == {"metric": "percent_correct", "op": ">=", "threshold": 0.0, "window": 2}
    again = tiny("ppo", tmp_path, task=task, max_timesteps=100 * ROLLOUT)    # finished: nothing to do
    assert rows(again) == history


def test_stops_at_a_timestep_budget_between_updates(tmp_path):
    run = tiny("ppo", tmp_path, max_timesteps=100, validate_every=10_000)
    metrics = run.metrics
    assert metrics["stopped"] == "max_timesteps"
    assert metrics["timesteps"] == 2 * ROLLOUT                          # the first boundary at or past 100
    assert [row["timesteps"] for row in run.history()] == [0]
    assert not metrics["criterion_met"] and metrics["final_model"] == "best"


def test_stops_at_a_trial_budget(tmp_path):
    run = tiny("ppo", tmp_path, max_trials=20, validate_every=10_000)
    metrics = run.metrics
    assert metrics["stopped"] == "max_trials"
    assert metrics["trials"] >= 20 and metrics["timesteps"] % ROLLOUT == 0
    state = checkpoint_file.load(run.path / runs.CHECKPOINT, CHECKPOINT_VERSION)
    assert state["trials"] == metrics["trials"] and state["stopped"] is None    # a budget stop can be resumed


def test_the_shipped_n_timesteps_is_the_default_budget(tmp_path):
    run = tiny("ppo", tmp_path, hyperparams={"n_timesteps": ROLLOUT})
    assert run.metrics["stopped"] == "max_timesteps" and run.metrics["timesteps"] == ROLLOUT


# ---------------------------------------------------------------------- resuming
def test_resume_continues_from_the_checkpoint(tmp_path):
    first = tiny("recurrent-ppo", tmp_path, max_timesteps=2 * ROLLOUT)
    history, trials = rows(first), first.metrics["trials"]
    state = checkpoint_file.load(first.path / runs.CHECKPOINT, CHECKPOINT_VERSION)

    # What a resume restores: the policy, the optimizer's moments and steps, the counters.
    run = AgentRun(first.task(), zoo.AGENTS["recurrent-ppo"], first.config["hyperparameters"], first.path, 0,
                   first.task().criterion, torch.device("cpu"), ROLLOUT, True, False)
    assert run.start_or_resume()
    for key, value in run.model.policy.state_dict().items():
        assert torch.equal(value, state["policy"][key])
    restored = run.model.policy.optimizer.state_dict()["state"]
    for index, moments in state["optimizer"]["state"].items():
        assert torch.equal(restored[index]["exp_avg"], moments["exp_avg"])
        assert float(restored[index]["step"]) == float(moments["step"])
    assert (run.model.num_timesteps, run.updates, run.trials) == (2 * ROLLOUT, 2, trials)
    run.env.close()

    resumed = tiny("recurrent-ppo", tmp_path, max_timesteps=4 * ROLLOUT)
    after = rows(resumed)
    assert after[:len(history)] == history                                 # history kept
    assert [row["timesteps"] for row in after] == [0, 64, 128, 192, 256]  # and continued
    assert [row["updates"] for row in after] == [0, 1, 2, 3, 4]
    assert resumed.metrics["trials"] > trials
    assert resumed.metrics["wall_s"] >= first.metrics["wall_s"]


def test_resuming_the_same_checkpoint_twice_gives_the_same_run(tmp_path):
    tiny("ppo", tmp_path, max_timesteps=ROLLOUT)
    copy = tmp_path / "copy"
    copy.mkdir()
    for path in (tmp_path / "run").iterdir():
        if path.is_file() and path.name != "run.lock":
            (copy / path.name).write_bytes(path.read_bytes())
    a = tiny("ppo", tmp_path, max_timesteps=3 * ROLLOUT)
    b = tiny("ppo", tmp_path, "copy", max_timesteps=3 * ROLLOUT)
    assert rows(a, drop=("wall_s",)) == rows(b, drop=("wall_s",))
    wa, wb = load_file(str(a.path / runs.WEIGHTS)), load_file(str(b.path / runs.WEIGHTS))
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_a_seeded_run_is_reproducible_and_leaves_the_global_rngs_alone(tmp_path):
    np.random.seed(123)  # noqa: NPY002  (the legacy global generator SB3 seeds)
    before = np.random.get_state()[1].copy()  # noqa: NPY002
    torch_before = torch.get_rng_state()
    a = tiny("ppo", tmp_path, "a", max_timesteps=2 * ROLLOUT, seed=4)
    assert np.array_equal(np.random.get_state()[1], before)  # noqa: NPY002
    assert torch.equal(torch.get_rng_state(), torch_before)
    b = tiny("ppo", tmp_path, "b", max_timesteps=2 * ROLLOUT, seed=4)
    assert rows(a, drop=("wall_s",)) == rows(b, drop=("wall_s",))


def test_a_folder_of_another_run_is_refused(tmp_path):
    tiny("ppo", tmp_path, max_timesteps=ROLLOUT)
    with pytest.raises(ValueError, match=r"holds a different run \(differs in hyperparameters\)"):
        tiny("ppo", tmp_path, max_timesteps=ROLLOUT, hyperparams={"learning_rate": 0.5})
    with pytest.raises(ValueError, match="differs in agent"):
        tiny("recurrent-ppo", tmp_path, max_timesteps=ROLLOUT)


def test_a_locked_folder_is_refused(tmp_path):
    with RunLock(tmp_path / "run"), pytest.raises(RunLockedError, match="is in use by process"):
        tiny("ppo", tmp_path, max_timesteps=ROLLOUT)


def test_a_corrupt_checkpoint_is_named(tmp_path):
    tiny("ppo", tmp_path, max_timesteps=ROLLOUT)
    (tmp_path / "run" / runs.CHECKPOINT).write_bytes(b"not a checkpoint")
    with pytest.raises(checkpoint_file.CheckpointError, match=r"checkpoint\.safetensors is corrupt"):
        tiny("ppo", tmp_path, max_timesteps=2 * ROLLOUT)


# ---------------------------------------------------------------------- continuous actions
def test_ppo_acts_in_a_box_on_a_task_without_a_condition_grid(tmp_path):
    run = tiny("ppo", tmp_path, task="FlipFlop-v0", max_timesteps=ROLLOUT)
    history = run.history()
    assert all(np.isfinite(row["rmse"]) for row in history)
    model = load_agent(run.path)
    actions = policy_actions(model, neurotasks.make_task("FlipFlop-v0").trials(3, 0))
    assert actions.shape == (3, 200, 3) and actions.dtype == np.float32
    assert np.all((actions >= -1) & (actions <= 1))                        # clipped to the action space


# ---------------------------------------------------------------------- errors
@pytest.mark.parametrize("agent", ["a2c", "PPO", "", None])
def test_an_unknown_agent_is_refused(tmp_path, agent):
    with pytest.raises(ValueError, match=r"unknown agent .*known agents: ppo, recurrent-ppo"):
        train_agent(TASK_ID, agent, out=tmp_path / "run")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(("overrides", "message"), [
    ({"learning_rat": 0.001}, r"unknown hyperparameter\(s\) \['learning_rat'\] for PPO; valid: "),
    ({"lstm_hidden_size": 8}, r"unknown hyperparameter\(s\) \['lstm_hidden_size'\]"),
    ({"n_steps": 0}, "n_steps must be a positive int, got 0"),
    ({"n_envs": 2.5}, "n_envs must be a positive int"),
    ({"batch_size": True}, "batch_size must be a positive int"),
    ({"learning_rate": -1.0}, r"learning_rate must be in \(0, inf\]"),
    ({"gamma": 1.5}, r"gamma must be in \[0, 1\]"),
    ({"ent_coef": float("nan")}, "ent_coef must be a finite number"),
    ({"learning_rate": "lin_0.001"}, "schedules such as 'lin_0.001' are not supported"),
    ({"normalize": True}, "VecNormalize is not supported"),
    ({"frame_stack": 4}, "frame_stack is an RL-Zoo option train_agent does not support"),
    ({"policy": "CnnPolicy"}, "policy must be MlpPolicy"),
    ({"policy_kwargs": "dict(net_arch=[8], lstm_hidden_size=4)"}, r"unknown policy_kwargs \['lstm_hidden_size'\]"),
    ({"policy_kwargs": "__import__('os').system('true')"}, "is not allowed"),
    ({"policy_kwargs": "dict(activation_fn=os.system)"}, "'os.system' is not allowed"),
    ({"policy_kwargs": {"activation_fn": print}}, "must be one of"),
    ({"policy_kwargs": {"net_arch": {1, 2}}}, "set values cannot be stored"),
    ({"target_kl": "x"}, "target_kl must be a finite number"),
    ({"use_sde": 1}, "use_sde must be true or false"),
    ({"batch_size": 1}, "PPO refused the hyperparameters: `batch_size` must be greater than 1"),
])
def test_bad_hyperparameters_are_refused_before_anything_is_written(tmp_path, overrides, message):
    with pytest.raises(ValueError, match=message):
        train_agent(TASK_ID, "ppo", out=tmp_path / "run", hyperparams=overrides, quiet=True)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"max_trials": 0}, "max_trials must be a positive int"),
    ({"max_timesteps": 1.5}, "max_timesteps must be a positive int"),
    ({"validate_every": -3}, "validate_every must be a positive int"),
    ({"max_minutes": 0}, "max_minutes must be > 0"),
    ({"hyperparams": [("n_envs", 2)]}, "hyperparams must be a dict, got list"),
    ({"task_kwargs": {"dt": -1}}, "dt"),
])
def test_bad_arguments_are_refused(tmp_path, kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        train_agent(TASK_ID, "ppo", out=tmp_path / "run", **kwargs)
    assert not (tmp_path / "run").exists()


def test_task_kwargs_need_a_task_id(tmp_path):
    with pytest.raises(ValueError, match="task_kwargs only applies"):
        train_agent(neurotasks.make_task(TASK_ID), "ppo", out=tmp_path / "run", task_kwargs={"dt": 10})


def test_load_agent_refuses_a_supervised_run(tmp_path):
    (tmp_path / runs.CONFIG).write_text(json.dumps({"task": {"id": TASK_ID, "kwargs": {}}, "model": {}}))
    with pytest.raises(ValueError, match="is not an RL agent's run folder"):
        load_agent(tmp_path)


# ---------------------------------------------------------------------- the shipped hyperparameters
@pytest.mark.parametrize("algo", ["ppo", "ppo_lstm"])
def test_every_registered_task_has_a_tuned_entry_that_resolves(algo):
    path = zoo.hyperparams_file(algo)
    assert path.is_file() and path.parent.name == "hyperparams" and path.parent.parent.name == "rl"
    entries = zoo.read_file(path)
    assert set(neurotasks.list_tasks()) <= set(entries)
    spec = next(s for s in zoo.AGENTS.values() if s.zoo_name == algo)
    for task_id in neurotasks.list_tasks():
        entry = entries[task_id]
        assert {"n_envs", "n_steps", "batch_size", "learning_rate", "gamma", "gae_lambda", "ent_coef", "n_epochs",
                "policy", "policy_kwargs", "n_timesteps"} <= set(entry), task_id
        hp = zoo.resolve(spec, task_id)
        assert hp["policy"] == ("MlpLstmPolicy" if spec.recurrent else "MlpPolicy")
        # RL-Zoo evals the string with torch.nn as nn; the safe parser must read the same dict
        rl_zoo = eval(entry["policy_kwargs"], {"nn": torch.nn, "dict": dict})   # our own shipped file
        assert zoo.policy_kwargs_objects(hp["policy_kwargs"]) == rl_zoo
        assert hp["n_envs"] * hp["n_steps"] % hp["batch_size"] == 0
    assert zoo.hyperparams_file("recurrent-ppo") == zoo.hyperparams_file("ppo_lstm")


def test_hyperparams_file_of_an_unknown_algorithm():
    with pytest.raises(ValueError, match="no hyperparameter file for 'sac'"):
        zoo.hyperparams_file("sac")


def test_policy_kwargs_strings_are_parsed_not_run():
    assert zoo.parse_policy_kwargs("dict(net_arch=dict(pi=[64], vf=[64]), activation_fn=nn.ReLU, "
                                   "log_std_init=-2, ortho_init=False)") == \
        {"net_arch": {"pi": [64], "vf": [64]}, "activation_fn": "nn.ReLU", "log_std_init": -2, "ortho_init": False}
    assert zoo.parse_policy_kwargs("{'net_arch': (8, 8)}") == {"net_arch": [8, 8]}
    assert zoo.policy_kwargs_objects({"activation_fn": "nn.Tanh"}) == {"activation_fn": torch.nn.Tanh}
    assert zoo.policy_kwargs_to_json({"activation_fn": torch.nn.ReLU}) == {"activation_fn": "nn.ReLU"}
    for text in ("dict(x=open('f'))", "dict(**y)", "[1, 2]", "dict(x=nn.Module)", "dict(x=1 + 2)", "dict(x="):
        with pytest.raises(ValueError, match="policy_kwargs"):
            zoo.parse_policy_kwargs(text)


# ---------------------------------------------------------------------- RL-Zoo reads the shipped files
@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("rl_zoo3") is None, reason="rl_zoo3 is not installed "
                    "(pip install rl_zoo3); the shipped files are then only checked by the tests above")
@pytest.mark.parametrize("algo", ["ppo", "ppo_lstm"])
def test_rl_zoo_trains_from_the_shipped_file(tmp_path, algo):
    command = [sys.executable, "-m", "rl_zoo3.train", "--algo", algo, "--env", TASK_ID, "--gym-packages",
               "neurotasks", "--conf-file", str(zoo.hyperparams_file(algo)), "-n", "64", "-f", str(tmp_path),
               "--seed", "0", "--eval-freq", "-1", "--log-interval", "-1", "--verbose", "0",
               "--hyperparams", "n_envs:2", "n_steps:32", "batch_size:64", "n_epochs:1"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    saved = json.dumps(sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.zip")))
    assert f"{TASK_ID}.zip" in saved                                        # RL-Zoo's own output (a zip)
    config = next(tmp_path.rglob("config.yml")).read_text()
    assert "gamma" in config and zoo.zoo_entry(next(s for s in zoo.AGENTS.values() if s.zoo_name == algo),
                                               TASK_ID)["policy_kwargs"][:10] in config
