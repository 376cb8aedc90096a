"""ei-reinforce on Box actions: the Gaussian readout (agents.rl.reinforce_readout), on tiny networks.

Its log-density against torch.distributions.Normal, the policy gradient (Williams 1992) against a loss written
out step by step and finite differences (the log sd included), actions inside the Box, the env's rewards
against ``task.evaluate(actions=...)``, Dale's law after training, seeded runs, exact resume, the run folder
(readout.safetensors, figures) and the documented errors.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest
import torch
from gymnasium import spaces
from gymnasium.utils import seeding
from safetensors.torch import load_file

import agents
import neurotasks
from agents import runs
from agents.models.eirnn import EIRNN
from agents.rl import reinforce_presets
from agents.rl.reinforce_baseline import GRUBaseline
from agents.rl.reinforce_loss import policy_gradient_loss, rate_penalty, returns_to_go
from agents.rl.reinforce_policy import PolicyStepper, policy_actions, taken_log_probs
from agents.rl.reinforce_readout import CategoricalReadout, GaussianReadout, readout_for
from agents.rl.reinforce_rollout import collect
from agents.rl.reinforce_runs import CHECKPOINT_VERSION as CKPT_VERSION
from agents.rl.reinforce_runs import (
    READOUT_WEIGHTS,
    initial_action_sd,
    load_policy,
    policy_network,
    policy_readout,
    run_rewards,
    train_reinforce,
)
from neurotasks.vector_env import TaskVectorEnv
from tests.finite_differences import assert_gradients_match_finite_differences

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TASK = "DelayedReach-v0"
#: a tiny run: 10 policy units, 8 baseline units, 8 trials per update, a validation every 2 updates
TINY = {"policy": {"n_units": 10}, "baseline_units": 8, "trials_per_update": 8, "validate_every": 2}
TIMINGS = ("wall_s", "env_share")


def tiny_run(out, updates: int = 4, seed: int = 0, **hp):
    return train_reinforce(TASK, out=out, seed=seed, max_updates=updates, quiet=True, figures=False,
                           progress=False, hyperparams={**TINY, **hp})


def results(history):
    return [{k: None if isinstance(v, float) and math.isnan(v) else v for k, v in row.items() if k not in TIMINGS}
            for row in history]


def checkpoint(run):
    return agents.checkpoint.load(run.path / runs.CHECKPOINT, CKPT_VERSION, torch.device("cpu"))


# ---------------------------------------------------------------- the distribution
def test_the_log_prob_is_a_diagonal_normals_around_the_squashed_mean():
    readout = GaussianReadout([-1.0, 0.0], [1.0, 2.0], initial_sd=0.3).double()
    with torch.no_grad():
        readout.log_std.copy_(torch.tensor([-1.0, 0.5]))
    g = torch.Generator().manual_seed(0)
    z = torch.randn(3, 4, 2, generator=g, dtype=torch.float64)
    actions = torch.randn(3, 4, 2, generator=g, dtype=torch.float64)
    mean = torch.tensor([0.0, 1.0], dtype=torch.float64) + torch.tensor([1.0, 1.0], dtype=torch.float64) * torch.tanh(z)
    expected = torch.distributions.Normal(mean, torch.tensor([math.exp(-1.0), math.exp(0.5)],
                                                             dtype=torch.float64)).log_prob(actions).sum(-1)
    torch.testing.assert_close(readout.log_prob(z, actions), expected)
    torch.testing.assert_close(readout.mean(torch.full((2,), 50.0, dtype=torch.float64)),
                               torch.tensor([1.0, 2.0], dtype=torch.float64))   # the mean stays in the Box


def test_sampled_actions_are_inside_the_box_and_the_unclipped_sample_is_recorded():
    readout = GaussianReadout([-1.0, -1.0], [1.0, 1.0], initial_sd=2.0)      # wide: many samples leave the Box
    g = torch.Generator().manual_seed(0)
    z = torch.randn(500, 2, generator=g)
    recorded, given = readout.act(z, readout.draw_noise(1, 500, g)[0])
    assert given.dtype == np.float32 and ((given >= -1) & (given <= 1)).all()
    outside = (np.abs(recorded) > 1).any(-1)
    assert 0.2 < outside.mean() < 0.9                                           # the clip was exercised
    np.testing.assert_array_equal(given, np.clip(recorded, -1, 1))
    drawn = readout.choose(z[None], sample=True, generator=g)
    assert drawn.shape == (1, 500, 2) and ((drawn >= -1) & (drawn <= 1)).all()
    mean = readout.choose(z[None], sample=False, generator=g)
    np.testing.assert_allclose(mean[0], readout.mean(z).detach().numpy())


def test_the_initial_sd_holds_fixation_with_probability_initial_hold():
    """P(|σ ε| <= tol)^(d k) = initial_hold, k the mean number of steps in the rule's hold periods."""
    task = neurotasks.make_task(TASK)
    hp = reinforce_presets.resolve({})
    sd = initial_action_sd(task, hp)
    probe = task.trials(256, np.random.default_rng(0))
    k = np.mean(sum(np.diff(probe.periods[p], axis=1)[:, 0] for p in task.rule.hold_periods))
    inside = 2 * NormalDist().cdf(task.rule.tolerance / sd) - 1
    assert inside ** (2 * k) == pytest.approx(hp["initial_hold"])
    assert initial_action_sd(neurotasks.make_task("FlipFlop-v0"), hp) == pytest.approx(0.1)   # no hold periods
    assert initial_action_sd(task, {**hp, "initial_action_sd": 0.3}) == 0.3


# ---------------------------------------------------------------- the gradient
def tiny_policy():
    network = EIRNN(3, 2, n_units=6, seed=3, sigma_rec=0.1, train_bias=True, readout="all").double()
    with torch.no_grad():
        network.w_in.mul_(10.0)
    readout = GaussianReadout([-1.0, -1.0], [1.0, 1.0], initial_sd=0.4).double()
    with torch.no_grad():
        readout.log_std.copy_(torch.tensor([-0.7, -1.2]))
    return network, readout


def recorded_trials(network, seed: int = 0, b: int = 3, t_steps: int = 6):
    g = torch.Generator().manual_seed(seed)
    inputs = torch.rand(b, t_steps, network.n_in, generator=g, dtype=torch.float64)
    noise = torch.randn(t_steps + 1, b, network.n_units, generator=g, dtype=torch.float64)
    actions = torch.randn(b, t_steps, network.n_out, generator=g, dtype=torch.float64) * 0.7
    mask = (torch.arange(t_steps)[None] < torch.tensor([t_steps, 4, 5])[:, None]).double()
    rewards = -torch.rand(b, t_steps, generator=g, dtype=torch.float64) * mask
    advantages = returns_to_go(rewards, mask) + 0.3
    return inputs, noise, actions, mask, advantages


def reference_loss(network, readout, inputs, noise, actions, mask, advantages, dt):
    """-(1/B) Σ M log N(a; tanh(z), σ²) A + 0.01 rate penalty, with the Euler steps and the density written out."""
    alpha = network.alpha(dt)
    w_in, w_rec, w_out = network.weights()
    b, t_steps, _ = inputs.shape
    x = network.x0.expand(b, -1)
    r = torch.relu(x)
    loss, rates = 0.0, []
    for t in range(t_steps):
        x = (1 - alpha) * x + alpha * (r @ w_rec.T + network.b_rec + inputs[:, t] @ w_in.T) \
            + torch.sqrt(2 * alpha) * network.sigma_rec * noise[t + 1]
        r = torch.relu(x)
        rates.append(r)
        normal = torch.distributions.Normal(torch.tanh(r @ w_out.T + network.b_out), readout.log_std.exp())
        loss = loss - (mask[:, t] * normal.log_prob(actions[:, t]).sum(-1) * advantages[:, t]).sum() / b
    rates = torch.stack(rates, 1)
    return loss + 0.01 * (rates.square().mean(-1) * mask).sum() / mask.sum()


def gaussian_loss(network, readout, inputs, noise, actions, mask, advantages, dt):
    log_probs, rates = taken_log_probs(network, readout, inputs, actions, dt, noise)
    return policy_gradient_loss(log_probs, advantages, mask) + 0.01 * rate_penalty(rates, mask)


def test_the_gaussian_policy_gradient_is_the_loss_written_out_step_by_step():
    network, readout = tiny_policy()
    trials = recorded_trials(network)
    params = [p for p in network.parameters() if p.requires_grad] + [readout.log_std]
    loss = gaussian_loss(network, readout, *trials, 20.0)
    ref = reference_loss(network, readout, *trials, 20.0)
    torch.testing.assert_close(loss, ref)
    grads, ref_grads = torch.autograd.grad(loss, params), torch.autograd.grad(ref, params)
    assert all(float(g.abs().sum()) > 0 for g in grads)
    for g, g_ref in zip(grads, ref_grads, strict=True):
        torch.testing.assert_close(g, g_ref)


def test_the_gaussian_policy_gradient_matches_finite_differences():
    network, readout = tiny_policy()
    trials = recorded_trials(network, seed=1)
    params = {"w_in": network.w_in, "w_rec": network.w_rec, "w_out": network.w_out, "b_out": network.b_out,
              "log_std": readout.log_std}
    assert_gradients_match_finite_differences(lambda: gaussian_loss(network, readout, *trials, 20.0), params)


def test_the_baseline_reads_the_previous_action_vector():
    baseline = GRUBaseline(5, 2, n_units=4, seed=0)
    rates, actions = torch.rand(2, 6, 5), torch.zeros(2, 6, 2)
    changed = actions.clone()
    changed[:, 3] = 0.5
    v, v_changed = baseline(rates, actions), baseline(rates, changed)
    torch.testing.assert_close(v_changed[:, :4], v[:, :4])
    assert not torch.allclose(v_changed[:, 4:], v[:, 4:])
    with pytest.raises(ValueError, match=r"actions must have shape \(2, 6, 2\)"):
        baseline(rates, torch.zeros(2, 6, 3))


# ---------------------------------------------------------------- the rollout on the vector env
def rollout(n: int = 16, seed: int = 0, **hp):
    task = neurotasks.make_task(TASK)
    hp = reinforce_presets.resolve({**TINY, **hp})
    network, readout = policy_network(task, hp, seed), policy_readout(task, hp)
    rewards = run_rewards(task, hp)
    env = TaskVectorEnv(n, task, rewards=rewards, trial_chunk=2)
    seeds = list(range(100 + seed, 100 + seed + n))
    roll = collect(network, env, torch.Generator().manual_seed(seed), seeds, readout=readout)
    env.close()
    return task, network, readout, rewards, seeds, roll


def test_the_update_replays_the_gaussian_policy_that_acted():
    task, network, readout, _, _, roll = rollout()
    assert roll.actions.shape == (*roll.mask.shape, 2) and roll.actions.dtype == torch.float32
    log_probs, _ = taken_log_probs(network, readout, roll.inputs, roll.actions, float(task.dt), roll.noise)
    stepper = PolicyStepper(network, roll.inputs.shape[0], float(task.dt))
    stepped = torch.stack([readout.log_prob(stepper.step(roll.inputs[:, t], roll.noise[t + 1]), roll.actions[:, t])
                           for t in range(roll.inputs.shape[1])], 1)
    torch.testing.assert_close(log_probs.detach(), stepped, atol=1e-4, rtol=1e-5)


def test_env_rewards_equal_task_evaluate_on_the_clipped_actions():
    task, _, readout, rewards, seeds, roll = rollout(n=16, initial_action_sd=0.08)
    clipped = readout.baseline_input(roll.actions).numpy()
    outcomes = {"aborted": 0, "completed": 0}
    for i, seed in enumerate(seeds):
        batch = task.trials(2, seeding.np_random(seed)[0]).select([0])
        steps = int(roll.mask[i].sum())
        actions = np.zeros((1, batch.n_steps, 2), np.float32)
        actions[0, :steps] = clipped[i, :steps]
        evaluation = task.evaluate(batch, actions=actions, rewards=rewards)
        assert float(roll.rewards[i].sum()) == pytest.approx(evaluation["reward"][0], rel=1e-5, abs=1e-6), i
        outcomes["aborted" if evaluation["aborted"][0] else "completed"] += 1
    assert outcomes["aborted"] > 0 and outcomes["completed"] > 0        # both kinds of trial end were compared


# ---------------------------------------------------------------- training runs
def test_dales_law_holds_and_the_log_sd_learns_after_training_on_a_box_task(tmp_path):
    run = tiny_run(tmp_path / "run", updates=4, learning_rate=0.05)
    trained = agents.load(run.path)
    ck = checkpoint(run)
    trained.load_state_dict(ck["policy"])
    w_in, w_rec, w_out = (w.detach().numpy() for w in trained.weights())
    n_exc = trained.n_exc
    assert (w_in >= 0).all()
    assert (w_rec[:, :n_exc] >= 0).all() and (w_rec[:, n_exc:] <= 0).all() and (np.diag(w_rec) == 0).all()
    assert trained.readout == "all"                                     # DelayedReach-v0's suggested readout
    assert (w_out[:, :n_exc] >= 0).all() and (w_out[:, n_exc:] <= 0).all()
    start = policy_readout(neurotasks.make_task(TASK), reinforce_presets.resolve(TINY)).log_std
    assert not torch.equal(ck["readout"]["log_std"], start.detach())


def test_a_seeded_box_run_is_reproducible(tmp_path):
    a, b = tiny_run(tmp_path / "a", seed=5), tiny_run(tmp_path / "b", seed=5)
    for name in (runs.WEIGHTS, READOUT_WEIGHTS):
        wa, wb = load_file(str(a.path / name)), load_file(str(b.path / name))
        assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa), name
    assert results(a.history()) == results(b.history())
    assert results(tiny_run(tmp_path / "c", seed=6).history()) != results(a.history())


def test_a_resumed_box_run_continues_as_the_uninterrupted_run(tmp_path):
    whole = tiny_run(tmp_path / "whole", updates=6)
    tiny_run(tmp_path / "split", updates=3)
    split = tiny_run(tmp_path / "split", updates=6)
    ck_whole, ck_split = checkpoint(whole), checkpoint(split)
    for part in ("policy", "readout", "baseline"):
        assert all(torch.equal(ck_whole[part][k], ck_split[part][k]) for k in ck_whole[part]), part
    assert results(split.history()) == results(whole.history())
    assert load_file(str(split.path / READOUT_WEIGHTS))["log_std"].equal(
        load_file(str(whole.path / READOUT_WEIGHTS))["log_std"])


def test_the_box_run_folder_holds_the_readout_and_its_figures(tmp_path):
    from agents.rl.reinforce_figures import write_reinforce_figures

    run = tiny_run(tmp_path / "run", updates=2)
    assert run.config["readout"]["name"] == "gaussian" and run.config["validation"]["actions"] == "mean"
    assert set(run.config["rewards"]) == {"abort", "error_scale"}
    network, readout = load_policy(run.path)
    assert isinstance(readout, GaussianReadout) and network.n_out == 2
    np.testing.assert_allclose(readout.sd.detach().numpy(), run.metrics["action_sd"], rtol=1e-6)
    assert {"reach_error", "action_sd", "mean_reward"} <= set(run.history()[0])
    written = write_reinforce_figures(run.path, repeats=1, max_trials=16)
    assert {p.name for p in written} == {"training_curve.png", "example_trials.png"}
    batch = neurotasks.make_task(TASK).grid_trials(1, 0)
    actions, means = policy_actions(network, batch, generator=torch.Generator().manual_seed(0), sample=False,
                                    readout=readout)
    assert actions.shape == means.shape == (*batch.gt.shape[:2], 2) and np.abs(actions).max() <= 1


def test_the_benchmark_scores_a_box_run_by_its_mean_actions(tmp_path):
    from agents.benchmark.zoo import evaluate_policy

    run = tiny_run(tmp_path / "run", updates=2)
    task = neurotasks.make_task(TASK)
    batch = task.grid_trials(1, 0)
    network, readout = load_policy(run.path)
    actions, _ = policy_actions(network, batch, generator=torch.Generator().manual_seed(3), sample=False,
                                readout=readout)
    expected = task.evaluate(batch, actions=actions, rewards=run.config["rewards"])
    scored = evaluate_policy(run.path, task, batch, seed=3)
    np.testing.assert_array_equal(scored["reward"], expected["reward"])


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize(("space", "message"), [
    (spaces.Box(-np.inf, np.inf, (2,)), "action_space must be a Box with finite bounds"),
    (spaces.Box(-1.0, 1.0, (2, 2)), "action_space must be a Box of one dimension"),
    (spaces.MultiBinary(3), r"action_space must be Discrete \(softmax readout\) or Box \(Gaussian readout\)"),
    (spaces.Discrete(3, start=1), "action_space must be a Discrete space starting at 0"),
])
def test_an_unsupported_action_space_is_refused_naming_it(space, message):
    with pytest.raises(ValueError, match=message):
        readout_for(space)


def test_the_readout_matches_the_action_space():
    assert isinstance(readout_for(spaces.Discrete(3), quiet_action=0), CategoricalReadout)
    with pytest.raises(ValueError, match="initial_action_sd must be a finite number > 0"):
        readout_for(spaces.Box(-1.0, 1.0, (2,)), initial_sd=0.0)


@pytest.mark.parametrize(("overrides", "message"), [
    ({"initial_action_sd": -0.1}, "initial_action_sd must be a finite number > 0 or None"),
    ({"error_scale": 0}, "error_scale must be a finite number > 0 or None"),
    ({"box_readout_scale": -1}, "box_readout_scale must be a finite number >= 0"),
])
def test_bad_box_hyperparameters_are_refused_by_name_before_anything_is_written(tmp_path, overrides, message):
    with pytest.raises(ValueError, match=message):
        tiny_run(tmp_path / "run", **overrides)
    assert not (tmp_path / "run").exists()
