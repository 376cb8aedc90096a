"""Every model of the zoo through the one trainer: run folders, load, reproducibility, exact resume, the CLI,
evaluate, the per-model presets, the rate networks' update outside autograd, and the analyses that need rates."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest
import torch

import agents
import neurotasks
from agents import atomic, runs
from agents import checkpoint as checkpoint_file
from agents.analysis.fixed_points import MapVelocity, dynamics_from_model, find_fixed_points, model_velocity
from agents.analysis.lesions import inhibitory_units, lesion_model
from agents.cli import main
from agents.models import registry
from agents.training import trainer as trainer_module
from agents.training.presets import PRESETS, preset
from agents.training.trainer import CHECKPOINT_VERSION, UpdateStep, gradient_path, make_optimizer, model_config
from tests.test_run_safety import EASY, _full_disk, _history, _interrupt_metrics, _without_wall
from tests.update_check import assert_update_by_hand_equals_autograd

MODELS = registry.names()
TINY = {"validation_every": 32, "validation_trials": 24, "batch_size": 16}
TASK = "PerceptualDecision-v0"


def tiny(tmp_path, model, name="run", **kwargs):
    options = {"model": model, "preset": "fast", "n_units": 8, "settings": TINY, "quiet": True, "figures": False,
               "max_trials": 64}
    options.update(kwargs)
    return agents.train(kwargs.pop("task", TASK), out=tmp_path / name, **options)


def _weights(run: runs.RunDir) -> bytes:
    return (run.path / runs.WEIGHTS).read_bytes()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """model -> (its run folder, the final model finish() scored and saved, as it was in memory), trained once."""
    cache: dict[str, tuple[runs.RunDir, torch.nn.Module]] = {}

    def get(model: str) -> tuple[runs.RunDir, torch.nn.Module]:
        if model not in cache:
            built = []
            original = registry.build

            def build(config):
                built.append(original(config))
                return built[-1]

            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(registry, "build", build)
                run = tiny(tmp_path_factory.mktemp(model), model)
            cache[model] = run, built[-1]
        return cache[model]

    return get


# ---------------------------------------------------------------------- run folders of every model
@pytest.mark.parametrize("model", MODELS)
def test_a_trained_model_loads_bit_identical_to_the_final_model_in_memory(trained, model):
    run, final = trained(model)
    loaded = agents.load(run.path)
    assert type(loaded) is type(final) and not loaded.training
    assert run.config["model"][registry.NAME_KEY] == model
    assert registry.config_of(loaded) == run.config["model"]
    batch = neurotasks.make_task(TASK).trials(6, 1)
    for noise in (True, False):
        a, b = agents.simulate(final, batch, noise=noise, seed=5), agents.simulate(loaded, batch, noise=noise, seed=5)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
    assert a[1].shape == (6, batch.inputs.shape[1], 8)


@pytest.mark.parametrize("model", MODELS)
def test_seeded_training_is_reproducible(tmp_path, model):
    first, second = tiny(tmp_path, model, "a"), tiny(tmp_path, model, "b")
    assert _history(first) == _history(second) and len(first.history()) == 3
    assert _weights(first) == _weights(second)
    assert _without_wall(first.metrics) == _without_wall(second.metrics)
    other = tiny(tmp_path, model, "c", seed=1)
    assert _history(other) != _history(first), "another seed, another run"


@pytest.mark.parametrize("model", MODELS)
def test_resuming_gives_the_same_run_as_never_stopping(tmp_path, model):
    straight = tiny(tmp_path, model, "straight", max_trials=128)
    tiny(tmp_path, model, "stopped", max_trials=64)
    resumed = tiny(tmp_path, model, "stopped", max_trials=128)
    assert _history(resumed) == _history(straight)
    assert _weights(resumed) == _weights(straight)
    assert _without_wall(resumed.metrics) == _without_wall(straight.metrics)


@pytest.mark.parametrize("model", MODELS)
def test_an_interrupted_checkpoint_write_resumes_exactly(tmp_path, model, monkeypatch):
    straight = tiny(tmp_path, model, "straight", max_trials=128)
    calls = {"n": 0}
    original = checkpoint_file.save

    def save_then_die(path, state, version):
        calls["n"] += 1
        if calls["n"] == 3:                         # the third checkpoint: the disk fills while writing it
            monkeypatch.setattr(atomic, "_write_all", _full_disk)
        return original(path, state, version)

    monkeypatch.setattr(checkpoint_file, "save", save_then_die)
    with pytest.raises(OSError, match="No space left"):
        tiny(tmp_path, model, "stopped", max_trials=128)
    monkeypatch.undo()
    assert checkpoint_file.load(tmp_path / "stopped" / runs.CHECKPOINT, CHECKPOINT_VERSION)["trials"] == 32
    resumed = tiny(tmp_path, model, "stopped", max_trials=128)
    assert _history(resumed) == _history(straight)
    assert _weights(resumed) == _weights(straight)


@pytest.mark.parametrize("model", MODELS)
def test_a_run_interrupted_while_finishing_finishes_the_same(tmp_path, model):
    done = tiny(tmp_path, model, "straight", criterion=EASY, max_trials=1024)
    assert done.metrics["criterion_met"] and done.metrics["updates"] == 2
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runs, "write_json_atomic", _interrupt_metrics(runs.write_json_atomic))
        with pytest.raises(KeyboardInterrupt):
            tiny(tmp_path, model, criterion=EASY, max_trials=1024)
    rerun = tiny(tmp_path, model, criterion=EASY, max_trials=1024)
    assert _without_wall(rerun.metrics) == _without_wall(done.metrics)
    assert _weights(rerun) == _weights(done) and _history(rerun) == _history(done)


@pytest.mark.parametrize("model", MODELS)
def test_evaluate_works_on_every_model(trained, model, capsys):
    run, _ = trained(model)
    assert main(["evaluate", str(run.path), "--trials", "30", "--seed", "2"]) == 0
    rows = list(csv.DictReader((run.path / "evaluation" / "trials.csv").open()))
    assert len(rows) == 30 and {"coherence", "choice", "correct"} <= set(rows[0])
    assert "percent_correct" in capsys.readouterr().out
    assert main(["evaluate", str(run.path), "--trials", "10", "stimulus=fixed"]) == 2
    assert "the network has 3 inputs and 2 outputs but" in capsys.readouterr().err


def test_what_does_not_apply_to_a_gated_network_is_recorded_as_such(tmp_path):
    run = tiny(tmp_path, "gru")
    assert all(math.isnan(row["omega"]) for row in run.history()), "no Ω without the leaky rate recurrence"
    assert run.metrics["pruned_weights"] is None, "gru has no pruning"
    assert run.metrics["model"] == "gru"
    assert run.config["trainer"]["lambda_omega"] == 0.0 and run.config["trainer"]["prune_w_min"] == 0.0
    assert all(math.isfinite(row["omega"]) for row in tiny(tmp_path, "rnn", "rnn").history()[1:])


def test_the_default_run_folder_names_the_model_unless_it_is_eirnn(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    options = {"n_units": 8, "settings": TINY, "quiet": True, "figures": False, "max_trials": 16}
    assert agents.train(TASK, model="gru", **options).path.name.startswith(f"{TASK}-gru-")
    eirnn = agents.train(TASK, **options).path.name
    assert eirnn.startswith(f"{TASK}-") and not eirnn.startswith(f"{TASK}-eirnn")


# ---------------------------------------------------------------------- run folders from before the zoo
def test_an_eirnn_folder_without_a_model_name_loads_resumes_and_evaluates(tmp_path):
    straight = tiny(tmp_path, "eirnn", "straight", max_trials=96)
    old = tiny(tmp_path, "eirnn", "old", max_trials=32)
    config = json.loads((old.path / runs.CONFIG).read_text())
    assert config["model"].pop(registry.NAME_KEY) == "eirnn"
    runs.write_json_atomic(old.path / runs.CONFIG, config)           # as the trainer wrote it before the zoo
    assert isinstance(agents.load(old.path), agents.EIRNN)
    resumed = tiny(tmp_path, "eirnn", "old", max_trials=96)
    assert _history(resumed) == _history(straight) and _weights(resumed) == _weights(straight)
    assert registry.NAME_KEY not in json.loads((old.path / runs.CONFIG).read_text())["model"], "left as it was"
    assert main(["evaluate", str(old.path), "--trials", "10"]) == 0
    with pytest.raises(ValueError, match=r"holds a different run \(differs in model, trainer\): it holds a 'eirnn' "
                                         r"model, this run asks for 'rnn'"):
        tiny(tmp_path, "rnn", "old", max_trials=96)


def test_a_folder_naming_an_unknown_model_is_refused_clearly(tmp_path):
    run = tiny(tmp_path, "rnn")
    config = json.loads((run.path / runs.CONFIG).read_text())
    config["model"][registry.NAME_KEY] = "transformer"
    runs.write_json_atomic(run.path / runs.CONFIG, config)
    with pytest.raises(ValueError, match=r"config\.json does not describe a model that can be built: unknown model "
                                         r"'transformer'"):
        agents.load(run.path)


def test_save_model_writes_any_model_with_its_name(tmp_path):
    model = registry.build({"name": "lowrank", "n_in": 3, "n_out": 2, "n_units": 10, "rank": 2, "seed": 1})
    runs.save_model(tmp_path, model, {"task": {"id": TASK, "kwargs": {}}})
    loaded = agents.load(tmp_path)
    assert isinstance(loaded, agents.LowRankRNN) and loaded.rank == 2
    batch = neurotasks.make_task(TASK).trials(4, 0)
    np.testing.assert_array_equal(agents.simulate(model, batch, seed=1)[0], agents.simulate(loaded, batch, seed=1)[0])


# ---------------------------------------------------------------------- model configs and presets
def test_model_config_passes_on_what_the_task_suggests_where_the_model_takes_it():
    flip_flop = neurotasks.make_task("FlipFlop-v0")                    # suggests tau 20, sigma_rec 0.05
    rnn = model_config(flip_flop, name="rnn", seed=2)
    assert rnn == {"name": "rnn", "n_in": 3, "n_out": 3, "seed": 2, "n_units": 100, "tau": 20.0, "sigma_rec": 0.05}
    assert model_config(flip_flop, name="eirnn")["train_bias"], "the E/I readout is non-negative"
    gru = model_config(neurotasks.make_task("ParametricWorkingMemory-v0"), n_units=30, name="gru", seed=1)
    assert gru == {"name": "gru", "n_in": 2, "n_out": 2, "seed": 1, "n_units": 30}, "no E/I fraction, no masks"
    lowrank = model_config(neurotasks.make_task(TASK), name="lowrank", rank=3)
    assert lowrank["excitatory_fraction"] == 0.8 and lowrank["rank"] == 3 and "mask_rec" not in lowrank
    assert "mask_rec" in model_config(neurotasks.make_task("ParametricWorkingMemory-v0"), name="eirnn")
    # a sparse suggestion (500 units, p_E 0.1, p_I 0.5: density 0.18) gives a dense model as many connections
    pwm = neurotasks.make_task("ParametricWorkingMemory-v0")
    assert {name: model_config(pwm, name=name)["n_units"] for name in MODELS} == \
        {"eirnn": 500, "lowrank": 500, "rnn": 212, "gru": 212, "lstm": 212}
    assert round(500 * math.sqrt(0.8 * 0.1 + 0.2 * 0.5)) == 212
    assert model_config(pwm, name="rnn", n_units=500)["n_units"] == 500, "an explicit size wins"
    for name in MODELS:
        registry.build(model_config(flip_flop, n_units=6, name=name))  # every config builds
    with pytest.raises(ValueError, match="unknown model 'nope'"):
        model_config(flip_flop, name="nope")


def test_presets_per_model_are_explicit():
    for name in ("fast", "pycog"):
        assert preset(name) == preset(name, "eirnn") == PRESETS[name], "the E/I network's numbers do not move"
        for model in ("gru", "lstm"):
            assert preset(name, model).lambda_omega == 0.0 and preset(name, model).prune_w_min == 0.0
        for model in ("rnn", "lowrank"):
            assert preset(name, model).lambda_omega == PRESETS[name].lambda_omega
            assert preset(name, model).prune_w_min == 0.0
    # Adam's learning rate for a dense recurrent matrix: 0.01 up to 100 units, Yang et al.'s 0.001 above
    for model in ("rnn", "gru", "lstm"):
        assert [preset("fast", model, n).learning_rate for n in (None, 8, 100, 101, 212, 500)] == \
            [0.01, 0.01, 0.01, 0.001, 0.001, 0.001]
        assert preset("fast", model, 212).updated(learning_rate=0.0005).learning_rate == 0.0005
        assert preset("pycog", model, 500).learning_rate == 0.01, "SGD's steps scale with the gradient"
    for model in ("eirnn", "lowrank"):
        assert preset("fast", model, 500).learning_rate == 0.01


def test_the_learning_rate_a_run_uses_is_recorded_and_an_override_wins(tmp_path):
    assert tiny(tmp_path, "gru", "big", n_units=200, max_trials=16).config["trainer"]["learning_rate"] == 0.001
    mine = tiny(tmp_path, "gru", "mine", n_units=200, max_trials=16, settings={**TINY, "learning_rate": 0.03})
    assert mine.config["trainer"]["learning_rate"] == 0.03


@pytest.mark.parametrize(("model", "settings", "match"), [
    ("gru", {"lambda_omega": 1.0}, "lambda_omega=1: the vanishing-gradient regulariser Ω is defined for the leaky"),
    ("rnn", {"prune_w_min": 1e-3}, "prune_w_min=0.001: model 'rnn' has no pruning"),
])
def test_settings_a_model_does_not_have_are_refused(tmp_path, model, settings, match):
    with pytest.raises(ValueError, match=match):
        tiny(tmp_path, model, settings={**TINY, **settings})
    assert not (tmp_path / "run").exists()


def test_errors_of_train_for_models(tmp_path):
    with pytest.raises(ValueError, match="unknown model 'transformer'; known models: eirnn, rnn, gru, lstm, lowrank"):
        tiny(tmp_path, "transformer")
    with pytest.raises(ValueError, match="unknown argument 'rnak' for model 'lowrank'"):
        tiny(tmp_path, "lowrank", model_args={"rnak": 2})
    with pytest.raises(ValueError, match="seed is not a model argument to set"):
        tiny(tmp_path, "rnn", model_args={"seed": 3})
    with pytest.raises(ValueError, match="the number of units is given twice"):
        tiny(tmp_path, "rnn", model_args={"n_units": 8})
    with pytest.raises(ValueError, match="rank must be <= n_units=8"):
        tiny(tmp_path, "lowrank", model_args={"rank": 9})
    assert not (tmp_path / "run").exists(), "nothing written for a run that cannot start"
    run = tiny(tmp_path, "lowrank", n_units=None, model_args={"n_units": 6, "rank": 2, "dale": True})
    assert run.model().n_units == 6 and run.config["model"]["dale"] is True


# ---------------------------------------------------------------------- the update step
@pytest.mark.parametrize(("name", "kwargs", "preset_name"), [
    ("rnn", {}, "fast"), ("rnn", {"nonlinearity": "tanh", "train_x0": True}, "pycog"), ("lowrank", {"rank": 2}, "fast"),
    ("lowrank", {"rank": 2, "dale": True, "nonlinearity": "relu"}, "pycog"), ("lowrank", {"train_bias": True}, "fast"),
])
def test_a_rate_networks_update_outside_autograd_equals_the_autograd_update(name, kwargs, preset_name):
    """rnn and lowrank train through their own fused BPTT (run_traced / backward_traced into the flat gradient
    buffer, Ω and noise drawn ahead included): the same numbers as autograd through their forward pass."""
    settings = preset(preset_name, name).updated(learning_rate=0.05)
    assert_update_by_hand_equals_autograd(
        lambda: registry.build({"name": name, "n_in": 3, "n_out": 2, "n_units": 12, "seed": 3, **kwargs}), settings,
        path="traced", omega_finite=True)


def test_the_update_takes_each_models_path():
    paths = {name: gradient_path(registry.build({"name": name, "n_in": 3, "n_out": 2, "n_units": 4}))
             for name in MODELS}
    assert paths == {"eirnn": "eirnn", "rnn": "traced", "lowrank": "traced", "gru": "autograd", "lstm": "autograd"}


@pytest.mark.parametrize("name", ["gru", "lstm", "lowrank"])
def test_a_diverging_update_is_skipped_and_shrinks_the_models_recurrent_weights(name):
    model = registry.build({"name": name, "n_in": 3, "n_out": 2, "n_units": 6, "seed": 0})
    settings = preset("pycog", name)
    step = UpdateStep(model, make_optimizer(model, settings), settings, torch.Generator().manual_seed(0))
    w_rec = model.weights()[1].detach().clone()
    readout = model.readout.weight if name in ("gru", "lstm") else model.w_out
    with torch.no_grad():
        readout[0, 0] = float("inf")
    inputs = torch.rand(2, 5, 3, generator=torch.Generator().manual_seed(0))
    stats = step(inputs, torch.zeros(2, 5, 2), torch.ones(2, 5, 2), 20.0)
    assert not stats["ok"] and step.optimizer.param_groups[0]["lr"] == pytest.approx(0.005)
    torch.testing.assert_close(model.weights()[1].detach(), w_rec * (1 - 0.02 * 0.01))


# ---------------------------------------------------------------------- the command line
def _train_cli(*argv: str) -> int:
    return main(["train", TASK, "--max-trials", "32", "--quiet", "--no-figures", *argv])


@pytest.mark.parametrize(("argv", "match"), [
    (["--model", "transformer"], "unknown model 'transformer'; known models: eirnn, rnn, gru, lstm, lowrank"),
    (["--model", "lowrank", "--model-arg", "rnak=2"], "unknown argument 'rnak' for model 'lowrank'; valid: n_units, "
                                                      "rank"),
    (["--model", "lowrank", "--model-arg", "rank=two"], "model argument rank must be an int, got 'two'"),
    (["--model", "lowrank", "--model-arg", "rank"], "expected a model argument as key=value, got 'rank'"),
    (["--model", "lowrank", "--model-arg", "rank=200"], "rank must be <= n_units=100, got 200"),
    (["--model", "rnn", "--model-arg", "nonlinearity=sigmoid"], "nonlinearity must be one of"),
    (["--model", "gru", "--model-arg", "seed=1"], "seed is not a model argument to set: it comes from the run's seed"),
    (["--model-arg", "n_units=10", "--n-units", "10"], "--n-units and --model-arg n_units= both give the number"),
    (["--model", "gru", "--agent", "ppo"], "--model with --agent ppo: --model and --agent are exclusive"),
    (["--agent", "ppo", "--preset", "fast"], "--preset with --agent ppo: --preset is a recipe for networks"),
    (["--agent", "ppo", "--model-arg", "rank=2"], "--model-arg with --agent ppo"),
    (["--agent", "ppo", "--n-units", "8"], "--n-units with --agent ppo: an agent's policy size is a hyperparameter"),
    (["--agent", "dqn"], "unknown agent 'dqn'; known agents: ppo, recurrent-ppo"),
    (["--hyperparam", "n_envs=2"], "--hyperparam sets an agent's hyperparameters (with --agent)"),
    (["--model", "gru", "--preset", "slow"], "unknown preset 'slow'"),
    (["--model", "gru", "--preset", "pycog"], None),
])
def test_bad_models_and_model_arguments_exit_2_with_one_line(tmp_path, capsys, argv, match):
    out = tmp_path / "run"
    code = _train_cli("--out", str(out), *argv)
    err = capsys.readouterr().err
    if match is None:                                    # the control: the same command line that works
        assert code == 0, err
        return
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("neurotasks train: error: ") and match in err, err
    assert not out.exists(), "nothing written"


def test_the_cli_trains_a_model_with_its_arguments(tmp_path, capsys):
    out = tmp_path / "run"
    assert _train_cli("--out", str(out), "--model", "lowrank", "--model-arg", "rank=2", "--model-arg", "dale=true",
                      "--model-arg", "n_units=10") == 0
    assert f"run folder: {out}" in capsys.readouterr().out
    config = runs.RunDir(out).config["model"]
    assert (config["name"], config["rank"], config["dale"], config["n_units"]) == ("lowrank", 2, True, 10)
    assert _train_cli("--out", str(out), "--model", "lowrank", "--model-arg", "rank=2") == 2
    assert "holds a different run (differs in model)" in capsys.readouterr().err


def test_train_help_lists_every_model_with_its_arguments_and_defaults(capsys):
    with pytest.raises(SystemExit) as done:
        main(["train", "--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    flat = " ".join(text.split())
    for name in MODELS:
        assert f"\n  {name}: " in text
    for listed in ("rank=1", "forget_bias=1.0", "w_rec_init=randortho", "excitatory_fraction=0.8", "rho=1.5",
                   "dale=false", "--model-arg n_units=N, and giving both is an error", "--agent NAME"):
        assert listed in flat, listed
    assert "seed=" not in text.split("models (")[1], "seed comes from --seed"


# ---------------------------------------------------------------------- analyses on every model
@pytest.mark.parametrize("model", MODELS)
def test_the_analyses_that_need_rates_work_on_every_trained_model(trained, model):
    net = agents.load(trained(model)[0].path)
    batch = neurotasks.make_task(TASK).trials(8, 0)
    _, rates = agents.simulate(net, batch, noise=False)
    velocity = model_velocity(net, inputs=batch.inputs[0, 5])
    assert getattr(velocity, "discrete_time", False) == (model in ("gru", "lstm"))
    size = 16 if model == "lstm" else 8                              # the LSTM's state is [h, c]
    starts = np.concatenate([rates[:, 5:8].reshape(-1, 8)] * (2 if model == "lstm" else 1), axis=1)[:2]
    assert starts.shape == (2, size)
    points = find_fixed_points(velocity, starts, slow_tolerance=1e-6, max_iter=100)
    if len(points):
        growth = np.log(np.abs(1 + points.eigenvalues)) if points.discrete_time else points.eigenvalues.real
        assert np.array_equal(points.stable, np.all(growth < 0, axis=1))
    lesioned = lesion_model(net, units=[0, 1])
    assert not np.array_equal(agents.simulate(lesioned, batch, noise=False)[0], agents.simulate(net, batch,
                                                                                                 noise=False)[0])
    if model == "eirnn":
        assert inhibitory_units(net).tolist() == list(range(6, 8))
    else:
        with pytest.raises(ValueError, match="has no excitatory and inhibitory populations"):
            inhibitory_units(net)


def test_a_discrete_maps_stability_is_read_from_one_plus_its_eigenvalues():
    # h -> -1.5 h: F = -2.5 h; Re λ < 0 would call the origin stable, but the map flips and grows
    flip = find_fixed_points(MapVelocity(lambda h: -2.5 * h), np.array([[0.3, -0.2]]))
    assert flip.discrete_time and not flip.stable[0] and flip.n_unstable[0] == 2
    assert find_fixed_points(lambda h: -2.5 * h, np.array([[0.3, -0.2]])).stable[0], "as a flow it attracts"
    shrink = find_fixed_points(lambda h: -0.5 * h, np.array([[0.3, -0.2]]), discrete_time=True)
    assert shrink.stable[0] and shrink.n_unstable[0] == 0
    mixed = find_fixed_points(MapVelocity(lambda h: h * torch.tensor([-0.5, 0.5], dtype=h.dtype)),
                              np.array([[0.3, 0.2]]))
    assert not mixed.stable[0] and mixed.n_unstable[0] == 1 and mixed.eigenvalues[0, 0].real == pytest.approx(0.5)
    gru = agents.GRUNetwork(2, 1, n_units=4, seed=0)
    with pytest.raises(TypeError, match="use model_velocity"):
        dynamics_from_model(gru)


def test_lowrank_under_dale_has_inhibitory_units():
    net = registry.build({"name": "lowrank", "n_in": 3, "n_out": 2, "n_units": 10, "dale": True})
    assert inhibitory_units(net).tolist() == [8, 9]
    eirnn = agents.EIRNN(3, 2, n_units=10, dale=False)
    with pytest.raises(ValueError, match="EIRNN has no excitatory and inhibitory populations"):
        inhibitory_units(eirnn)


def test_agents_exports_the_zoo():
    for cls, name in (("LeakyRNN", "rnn"), ("LowRankRNN", "lowrank"), ("GRUNetwork", "gru"), ("LSTMNetwork", "lstm"),
                      ("EIRNN", "eirnn")):
        assert getattr(agents, cls) is registry.model_class(name) and cls in dir(agents)


def test_simulate_refuses_what_is_not_a_network():
    class Agent:
        policy = object()

    with pytest.raises(TypeError, match="an RL agent acts rather than being simulated"):
        agents.simulate(Agent(), neurotasks.make_task(TASK).trials(2, 0))


# ---------------------------------------------------------------------- RL agents through the same commands
TINY_PPO = ["n_envs=2", "n_steps=32", "batch_size=64", "n_epochs=1", "policy_kwargs=dict(net_arch=[8])"]


def test_train_with_an_agent_writes_a_run_that_evaluate_plays(tmp_path, capsys):
    pytest.importorskip("stable_baselines3")
    out = tmp_path / "ppo"
    hyper = [arg for pair in TINY_PPO for arg in ("--hyperparam", pair)]
    assert main(["train", TASK, "--agent", "ppo", *hyper, "--max-trials", "20", "--out", str(out), "--quiet",
                 "--no-figures"]) == 0
    assert f"run folder: {out}" in capsys.readouterr().out
    run = runs.RunDir(out)
    assert run.config["agent"] == "ppo" and run.config["hyperparameters"]["n_steps"] == 32
    assert main(["evaluate", str(out), "--trials", "25", "--seed", "1"]) == 0
    text = capsys.readouterr().out
    assert "25 trials (deterministic actions, seed 1)" in text and "percent_correct" in text
    assert len(list(csv.DictReader((out / "evaluation" / "trials.csv").open()))) == 25
    agent = agents.load(out)
    assert hasattr(agent, "policy")
    with pytest.raises(ValueError, match="is an RL agent's run"):
        run.model()
    assert main(["evaluate", str(out), "--trials", "5", "stimulus=fixed"]) == 2
    assert "the agent observes 3 inputs" in capsys.readouterr().err
    assert main(["train", TASK, "--agent", "ppo", "--hyperparam", "n_stepz=3", "--out", str(tmp_path / "bad"),
                 "--quiet"]) == 2
    assert "n_stepz" in capsys.readouterr().err


def test_a_diverged_training_is_one_line_with_exit_code_1(tmp_path, capsys, monkeypatch):
    def diverge(self, max_trials, max_minutes):
        raise trainer_module.TrainingDiverged("training diverged: 10 consecutive updates with a non-finite gradient")

    monkeypatch.setattr(trainer_module.Trainer, "run", diverge)
    assert _train_cli("--out", str(tmp_path / "run"), "--model", "rnn") == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "training diverged: 10 consecutive updates" in err and "keeps its last complete checkpoint" in err
