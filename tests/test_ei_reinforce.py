"""ei-reinforce: the E/I network trained from reward alone (Song, Yang & Wang 2017), on tiny networks.

The loss's gradient against an autograd loop and finite differences, the baseline's, the replay of a rollout,
the env's rewards against ``task.evaluate(actions=...)``, Dale's law and masks after training, seeded runs,
resume after an interruption, errors, and the run folder.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from gymnasium.utils import seeding
from safetensors.torch import load_file

import agents
import neurotasks
from agents import runs
from agents.models.eirnn import EIRNN
from agents.rl import reinforce_presets
from agents.rl.reinforce_baseline import GRUBaseline
from agents.rl.reinforce_loss import baseline_loss, discount_per_step, policy_loss, rate_penalty, returns_to_go
from agents.rl.reinforce_policy import PolicyStepper, action_log_probs
from agents.rl.reinforce_rollout import collect
from agents.rl.reinforce_runs import CHECKPOINT_VERSION as CKPT_VERSION
from agents.rl.reinforce_runs import policy_network, train_reinforce
from neurotasks.vector_env import TaskVectorEnv
from tests.finite_differences import assert_gradients_match_finite_differences

pytestmark = pytest.mark.usefixtures("one_torch_thread")

#: a tiny run: 10 policy units, 8 baseline units, 8 trials per update, a validation every 2 updates
TINY = {"policy": {"n_units": 10}, "baseline_units": 8, "trials_per_update": 8, "validate_every": 2}
#: history columns that are clock readings, not results
TIMINGS = ("wall_s", "env_share")


def tiny_run(out, updates: int = 4, seed: int = 0, task: str = "PerceptualDecision-v0", **hp):
    return train_reinforce(task, out=out, seed=seed, max_updates=updates, quiet=True, figures=False,
                           progress=False, hyperparams={**TINY, **hp})


def results(history):
    """The rows without their clock readings, NaN as None (so that equal rows compare equal)."""
    return [{k: None if isinstance(v, float) and math.isnan(v) else v for k, v in row.items() if k not in TIMINGS}
            for row in history]


# ---------------------------------------------------------------- the loss and its gradient
def reference_loss(network: EIRNN, baseline: GRUBaseline, inputs, noise, actions, rewards, mask, dt, gamma, l2):
    """The paper's loss (Song et al. 2017 Eqs 2-6) written out step by step: the network's Euler steps from
    its effective weights, an explicit discounted sum per trial and step, no fused kernels."""
    alpha = network.alpha(dt)
    w_in, w_rec, w_out = network.weights()
    b, t_steps, _ = inputs.shape
    x = network.x0.expand(b, -1)
    r = torch.relu(x)
    log_pi, all_rates = [], []
    for t in range(t_steps):
        x = (1 - alpha) * x + alpha * (r @ w_rec.T + network.b_rec + inputs[:, t] @ w_in.T) \
            + torch.sqrt(2 * alpha) * network.sigma_rec * noise[t + 1]
        r = torch.relu(x)
        log_pi.append(torch.log_softmax(r @ w_out.T + network.b_out, -1))
        all_rates.append(r)
    log_pi, rates = torch.stack(log_pi, 1), torch.stack(all_rates, 1)
    returns = torch.zeros_like(rewards)
    for i in range(b):
        for t in range(t_steps):
            returns[i, t] = sum(gamma ** (k - t) * rewards[i, k] * mask[i, k] for k in range(t, t_steps))
    values = baseline(rates.detach(), actions)
    loss = 0.0
    for i in range(b):
        for t in range(t_steps):
            loss = loss - mask[i, t] * log_pi[i, t, actions[i, t]] * (returns[i, t] - values[i, t].detach()) / b
    penalty = sum((rates[i, t] ** 2).mean() * mask[i, t] for i in range(b) for t in range(t_steps)) / mask.sum()
    return loss + l2 * penalty, values, returns


def recorded_trials(network: EIRNN, seed: int = 0, b: int = 3, t_steps: int = 7):
    g = torch.Generator().manual_seed(seed)
    inputs = torch.rand(b, t_steps, network.n_in, generator=g, dtype=torch.float64)
    noise = torch.randn(t_steps + 1, b, network.n_units, generator=g, dtype=torch.float64)
    actions = torch.randint(0, network.n_out, (b, t_steps), generator=g)
    lengths = torch.tensor([t_steps, 4, 5])
    mask = (torch.arange(t_steps)[None] < lengths[:, None]).double()
    rewards = torch.zeros(b, t_steps, dtype=torch.float64)
    rewards[torch.arange(b), lengths - 1] = torch.tensor([1.0, -1.0, 0.5], dtype=torch.float64)
    rewards[0, 2] = 0.25                                       # a reward mid-trial: the discount matters
    return inputs, noise, actions, rewards, mask


def tiny_networks():
    network = EIRNN(3, 3, n_units=6, seed=3, sigma_rec=0.1, train_bias=True).double()
    with torch.no_grad():
        network.w_in.mul_(10.0)                                 # active units, so every weight has a gradient
    return network, GRUBaseline(6, 3, n_units=4, initial_value=-1.0, seed=4).double()


@pytest.mark.parametrize("tau_reward", [math.inf, 50.0])
def test_the_policy_gradient_is_the_papers_loss_written_out_step_by_step(tau_reward):
    network, baseline = tiny_networks()
    inputs, noise, actions, rewards, mask = recorded_trials(network)
    dt, l2 = 20.0, 0.01
    gamma = discount_per_step(dt, tau_reward)
    params = [p for p in network.parameters() if p.requires_grad]

    log_probs, rates = action_log_probs(network, inputs, dt, noise)
    returns = returns_to_go(rewards, mask, gamma)
    values = baseline(rates.detach(), actions)
    loss = policy_loss(log_probs, actions, returns - values.detach(), mask) + l2 * rate_penalty(rates, mask)
    grads = torch.autograd.grad(loss, params)

    ref, ref_values, ref_returns = reference_loss(network, baseline, inputs, noise, actions, rewards, mask, dt,
                                                  gamma, l2)
    ref_grads = torch.autograd.grad(ref, params)
    torch.testing.assert_close(returns, ref_returns)
    torch.testing.assert_close(values, ref_values)
    torch.testing.assert_close(loss, ref)
    assert all(float(g.abs().sum()) > 0 for g in grads)
    for g, g_ref in zip(grads, ref_grads, strict=True):
        torch.testing.assert_close(g, g_ref)


def test_the_policy_gradient_matches_finite_differences():
    network, baseline = tiny_networks()
    inputs, noise, actions, rewards, mask = recorded_trials(network, seed=1)
    with torch.no_grad():
        values = baseline(action_log_probs(network, inputs, 20.0, noise)[1], actions)
    advantages = returns_to_go(rewards, mask) - values          # held fixed, as in the update

    def loss() -> torch.Tensor:
        log_probs, rates = action_log_probs(network, inputs, 20.0, noise)
        return policy_loss(log_probs, actions, advantages, mask) + 0.01 * rate_penalty(rates, mask)

    params = {"w_in": network.w_in, "w_rec": network.w_rec, "w_out": network.w_out, "b_rec": network.b_rec,
              "b_out": network.b_out, "x0": network.x0}
    assert_gradients_match_finite_differences(loss, params)


def test_the_baseline_loss_gradient_matches_finite_differences():
    baseline = GRUBaseline(5, 3, n_units=4, seed=0).double()
    g = torch.Generator().manual_seed(0)
    rates = torch.rand(2, 6, 5, generator=g, dtype=torch.float64)
    actions = torch.randint(0, 3, (2, 6), generator=g)
    returns = torch.randn(2, 6, generator=g, dtype=torch.float64)
    mask = torch.tensor([[1.0] * 6, [1.0] * 3 + [0.0] * 3], dtype=torch.float64)
    params = list(baseline.parameters())

    def loss(*values):
        with torch.nn.utils.stateless._reparametrize_module(baseline, dict(zip(dict(baseline.named_parameters()),
                                                                               values, strict=True))):
            return baseline_loss(baseline(rates, actions), returns, mask)

    assert torch.autograd.gradcheck(loss, tuple(p.detach().clone().requires_grad_() for p in params))
    # the masked mean squared error
    v = baseline(rates, actions)
    expected = sum(float((v[i, t].detach() - returns[i, t]) ** 2) for i in range(2) for t in range(6) if mask[i, t]) / 9
    assert float(baseline_loss(v, returns, mask).detach()) == pytest.approx(expected)


def test_the_baseline_never_sees_the_action_whose_return_it_predicts():
    baseline = GRUBaseline(5, 3, n_units=4, seed=0)
    rates, actions = torch.rand(2, 6, 5), torch.zeros(2, 6, dtype=torch.int64)
    changed = actions.clone()
    changed[:, 3] = 2
    moved = rates.clone()
    moved[:, 3] += 1.0
    v, v_action, v_rates = baseline(rates, actions), baseline(rates, changed), baseline(moved, actions)
    for other in (v_action, v_rates):
        torch.testing.assert_close(other[:, :4], v[:, :4])     # steps up to 3 see only what came before
        assert not torch.allclose(other[:, 4:], v[:, 4:])


def test_the_baseline_starts_at_the_abort_reward():
    baseline = GRUBaseline(5, 3, n_units=4, initial_value=-1.0, seed=0)
    assert float(baseline.readout.bias.detach()) == -1.0


def test_returns_to_go_refuse_a_bad_discount():
    with pytest.raises(ValueError, match="discount"):
        returns_to_go(torch.zeros(1, 3), torch.ones(1, 3), 1.5)
    with pytest.raises(ValueError, match="tau_reward"):
        discount_per_step(20.0, 0.0)


# ---------------------------------------------------------------- the rollout on the vector env
def rollout(task_id: str, n: int = 16, seed: int = 0):
    task = neurotasks.make_task(task_id)
    hp = reinforce_presets.resolve(TINY)
    network = policy_network(task, hp, seed)
    rewards = {"abort": -1.0, "correct": 1.0, "miss": -1.0}
    env = TaskVectorEnv(n, task, rewards=rewards, trial_chunk=2)
    seeds = list(range(100 + seed, 100 + seed + n))
    roll = collect(network, env, torch.Generator().manual_seed(seed), seeds)
    env.close()
    return task, network, rewards, seeds, roll


def test_the_update_replays_the_policy_that_acted():
    task, network, _, _, roll = rollout("PerceptualDecision-v0")
    log_probs, _ = action_log_probs(network, roll.inputs, float(task.dt), roll.noise)
    stepper = PolicyStepper(network, roll.inputs.shape[0], float(task.dt))
    stepped = torch.stack([torch.log_softmax(stepper.step(roll.inputs[:, t], roll.noise[t + 1]), -1)
                           for t in range(roll.inputs.shape[1])], 1)
    torch.testing.assert_close(log_probs.detach(), stepped, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("task_id", ["PerceptualDecision-v0", "ContextDecision-v0"])
def test_env_rewards_equal_task_evaluate_on_the_same_trials_and_actions(task_id):
    """Each sub-environment's trial is the first of ``task.trials(trial_chunk, np_random(seed))``; replaying
    the actions it was given through ``task.evaluate`` must give the reward it paid, trial by trial."""
    task, _, rewards, seeds, roll = rollout(task_id, n=32)
    outcomes = {"aborted": 0, "answered": 0}
    for i, seed in enumerate(seeds):
        batch = task.trials(2, seeding.np_random(seed)[0]).select([0])
        steps = int(roll.mask[i].sum())
        np.testing.assert_array_equal(roll.inputs[i, :steps].numpy(), batch.inputs[0, :steps])
        actions = np.zeros((1, batch.n_steps), np.int64)
        actions[0, :steps] = roll.actions[i, :steps].numpy()
        evaluation = task.evaluate(batch, actions=actions, rewards=rewards)
        assert float(roll.rewards[i].sum()) == evaluation["reward"][0], (i, seed)
        outcomes["aborted"] += bool(evaluation["aborted"][0])
        outcomes["answered"] += bool(evaluation["choice"][0] >= 0)
    assert outcomes["aborted"] > 0 and outcomes["answered"] > 0      # both kinds of trial end were compared


# ---------------------------------------------------------------- training runs
@pytest.mark.parametrize("positivity", ["abs", "rectify"])
def test_dales_law_and_masks_hold_after_training(tmp_path, positivity):
    rng = np.random.default_rng(0)
    mask_rec = (rng.random((10, 10)) < 0.5).astype(float)
    hp = {"policy": {"n_units": 10, "mask_rec": mask_rec.tolist()}, "positivity": positivity}
    run = tiny_run(tmp_path / "run", updates=4, learning_rate=0.05, **hp)
    assert agents.load(run.path).positivity == positivity
    start = policy_network(neurotasks.make_task("PerceptualDecision-v0"), reinforce_presets.resolve({**TINY, **hp}),
                           agents.training.trainer.seed_int(0, 8))
    trained = agents.load(run.path)
    assert isinstance(trained, EIRNN)
    saved = agents.checkpoint.load(run.path / runs.CHECKPOINT, CKPT_VERSION, torch.device("cpu"))
    trained.load_state_dict(saved["policy"])
    assert not torch.equal(trained.w_rec, start.w_rec)                # the last policy: it did learn something
    w_in, w_rec, w_out = (w.detach().numpy() for w in trained.weights())
    n_exc = trained.n_exc
    assert (w_in >= 0).all()
    assert (w_rec[:, :n_exc] >= 0).all() and (w_rec[:, n_exc:] <= 0).all()
    assert (w_rec[mask_rec == 0] == 0).all() and (np.diag(w_rec) == 0).all()
    assert (w_out >= 0).all() and (w_out[:, n_exc:] == 0).all()     # readout from excitatory units only


def test_a_seeded_run_is_reproducible(tmp_path):
    a, b = tiny_run(tmp_path / "a", seed=5), tiny_run(tmp_path / "b", seed=5)
    wa, wb = load_file(str(a.path / runs.WEIGHTS)), load_file(str(b.path / runs.WEIGHTS))
    assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)
    assert results(a.history()) == results(b.history())
    other = tiny_run(tmp_path / "c", seed=6)
    assert results(other.history()) != results(a.history())


def test_resume_after_an_interruption_continues_as_the_uninterrupted_run(tmp_path):
    whole = tiny_run(tmp_path / "whole", updates=6)
    tiny_run(tmp_path / "split", updates=3)                            # interrupted after 3 updates
    split = tiny_run(tmp_path / "split", updates=6)                    # the same call resumes it
    ck_whole = agents.checkpoint.load(whole.path / runs.CHECKPOINT, CKPT_VERSION, torch.device("cpu"))
    ck_split = agents.checkpoint.load(split.path / runs.CHECKPOINT, CKPT_VERSION, torch.device("cpu"))
    assert ck_split["updates"] == ck_whole["updates"] == 6
    for part in ("policy", "baseline"):
        assert all(torch.equal(ck_whole[part][k], ck_split[part][k]) for k in ck_whole[part]), part
    assert results(split.history()) == results(whole.history())
    assert split.metrics["trials"] == whole.metrics["trials"] == 48


@pytest.mark.parametrize("task", ["Bandit-v0", "DawTwoStep-v0", "HierarchicalReasoning-v0"])
def test_a_task_whose_trials_carry_over_is_refused_by_name(tmp_path, capsys, task):
    """A network reset at every trial cannot learn a bandit's block or a drifting reward: refused, not "trained"."""
    from agents.cli import main

    with pytest.raises(ValueError, match=rf"{task}'s trials depend on earlier trials .* train recurrent-ppo"):
        tiny_run(tmp_path / "run", task=task)
    assert main(["train", task, "--agent", "ei-reinforce", "--out", str(tmp_path / "cli")]) == 2
    assert "starts its network afresh at every trial" in capsys.readouterr().err
    assert not (tmp_path / "run").exists() and not (tmp_path / "cli").exists(), "nothing written"


def test_the_run_folder_is_loadable_and_holds_a_supervised_runs_files(tmp_path):
    run = train_reinforce("PerceptualDecision-v0", out=tmp_path / "run", max_updates=2, quiet=True,
                          progress=False, hyperparams=TINY)
    for name in (runs.CONFIG, runs.WEIGHTS, runs.CHECKPOINT, runs.HISTORY, runs.METRICS):
        assert (run.path / name).is_file(), name
    config = json.loads((run.path / runs.CONFIG).read_text())
    assert config["agent"] == "ei-reinforce" and config["model"]["name"] == "eirnn"
    network = agents.load(run.path)
    assert (network.n_in, network.n_out, network.n_units) == (3, 3, 10)
    assert [row["updates"] for row in run.history()] == [0, 2]
    assert {"percent_correct", "mean_reward", "train_reward"} <= set(run.history()[0])
    assert run.metrics["stopped"] == "max_updates" and 0 <= run.metrics["final"]["percent_correct"] <= 100
    figures = {p.name for p in (run.path / runs.FIGURES).iterdir()}
    assert figures, "no figures were drawn"
    assert not any(p.suffix in (".pt", ".pkl", ".zip") for p in run.path.rglob("*"))


def test_a_folder_of_another_run_is_refused(tmp_path):
    tiny_run(tmp_path / "run", updates=2)
    with pytest.raises(ValueError, match="different run"):
        tiny_run(tmp_path / "run", updates=2, seed=1)


def test_a_benchmark_cell_trains_and_scores_ei_reinforce(tmp_path):
    """``neurotasks benchmark --models ei-reinforce``'s cell: its run folder and its psychometric fit, from
    actions drawn from the policy (the zoo's evaluate)."""
    from agents.benchmark import zoo
    from agents.benchmark.cells import PSYCHOMETRIC, Budget, Cell, run_cell

    entrant = zoo.resolve("ei-reinforce")
    assert entrant.kind == "rl" and entrant.evaluate is zoo.evaluate_policy
    cell = Cell("PerceptualDecision-v0", "ei-reinforce", 0)
    outcome = run_cell(cell, Budget(max_trials=64, fit_trials=110), tmp_path)
    assert outcome["status"] == "finished", outcome["error"]
    folder = cell.folder(tmp_path)
    assert json.loads((folder / runs.CONFIG).read_text())["agent"] == "ei-reinforce"
    assert runs.RunDir(folder).metrics["trials"] == 64
    assert (folder / PSYCHOMETRIC).is_file()
    batch = neurotasks.make_task("PerceptualDecision-v0").grid_trials(1, 0)
    task = neurotasks.make_task("PerceptualDecision-v0")
    first, again = (zoo.evaluate_policy(folder, task, batch, 3) for _ in range(2))
    np.testing.assert_array_equal(first["choice"], again["choice"])      # seeded


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize(("overrides", "message"), [
    ({"learning_rat": 0.1}, "unknown hyperparameter 'learning_rat'"),
    ({"trials_per_update": 0}, "trials_per_update must be a positive int"),
    ({"trials_per_update": 2.5}, "trials_per_update must be a positive int"),
    ({"learning_rate": -0.1}, "learning_rate must be a number > 0"),
    ({"max_grad_norm": float("nan")}, "max_grad_norm must be a number > 0"),
    ({"sigma_rec": -1}, "sigma_rec must be a finite number >= 0"),
    ({"abort_reward": "a"}, "abort_reward must be a finite number"),
    ({"adam_betas": [0.9]}, "adam_betas must be two numbers"),
    ({"initial_hold": 1.5}, "initial_hold must be a probability"),
    ({"positivity": "square"}, "positivity must be 'rectify' or 'abs'"),
    ({"policy": 3}, "hyperparameter policy must be a dict"),
    ({"policy": {"n_unit": 10}}, "the policy network's arguments are refused"),
])
def test_bad_hyperparameters_are_refused_by_name_before_anything_is_written(tmp_path, overrides, message):
    with pytest.raises(ValueError, match=message):
        train_reinforce("PerceptualDecision-v0", out=tmp_path / "run", max_updates=1, quiet=True,
                        figures=False, hyperparams={**TINY, **overrides})
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"max_updates": 0}, "max_updates must be a positive int"),
    ({"max_trials": -1}, "max_trials must be a positive int"),
    ({"max_minutes": 0}, "max_minutes must be > 0"),
    ({"device": "mps"}, "device must be .cpu."),
])
def test_bad_arguments_are_refused_by_name(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        train_reinforce("PerceptualDecision-v0", out=tmp_path / "run", quiet=True, figures=False,
                        hyperparams=TINY, **kwargs)


def test_initial_hold_needs_a_trained_output_bias():
    task = neurotasks.make_task("PerceptualDecision-v0")
    with pytest.raises(ValueError, match="train_bias"):
        policy_network(task, reinforce_presets.resolve({**TINY, "train_bias": False}), 0)


def test_initial_hold_sets_the_untrained_policys_fixation():
    """From the fixate action's bias alone, holding through the mean pre-response time is as likely as
    ``initial_hold`` (0.5)."""
    task = neurotasks.make_task("PerceptualDecision-v0")
    network = policy_network(task, reinforce_presets.resolve({**TINY, "initial_hold": 0.5}), 0)
    p_fixate = float(torch.softmax(network.b_out.detach(), 0)[0])
    probe = task.trials(256, np.random.default_rng(0))
    real = ~probe.params["catch"].astype(bool)
    k = probe.periods["decision"][real, 0].mean()
    assert p_fixate ** k == pytest.approx(0.5)
    assert torch.equal(network.b_out[1:], torch.zeros(2))


def test_neurotasks_evaluate_plays_the_policy_on_fresh_trials(tmp_path, capsys):
    import csv

    from agents.benchmark.zoo import evaluate_policy
    from agents.cli import main

    run = tiny_run(tmp_path / "run", updates=2)
    assert main(["evaluate", str(run.path), "--trials", "40", "--seed", "3"]) == 0
    printed = capsys.readouterr().out
    assert "the policy's actions with its noise" in printed and "percent_correct" in printed
    with open(run.path / "evaluation" / "trials.csv") as f:
        rows = list(csv.DictReader(f))
    task = neurotasks.make_task("PerceptualDecision-v0")
    batch = task.trials(40, np.random.default_rng(3))
    expected = evaluate_policy(run.path, task, batch, 3)
    np.testing.assert_allclose([float(r["reward"]) for r in rows], expected["reward"])
    assert main(["evaluate", str(run.path), "--trials", "40", "--seed", "3", "--no-noise"]) == 0
    assert "the policy's actions without its recurrent noise" in capsys.readouterr().out
    with open(run.path / "evaluation" / "trials.csv") as f:
        quiet = [float(r["reward"]) for r in csv.DictReader(f)]
    np.testing.assert_allclose(quiet, evaluate_policy(run.path, task, batch, 3, noise=False)["reward"])
