"""The model zoo: one surface for every model, its argument checks, save -> load, and the hand-written gradients."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from safetensors.torch import load_file, save_file

import neurotasks
from agents.analysis.fixed_points import dynamics_from_model, find_fixed_points
from agents.analysis.lesions import inhibitory_units, lesion_model
from agents.models import interface, registry
from agents.models.dynamics import OmegaTerm, reference_forward
from agents.models.gru import GRUNetwork
from agents.models.lowrank import LowRankRNN
from agents.models.lstm import LSTMNetwork
from agents.models.rnn import YANG_GAIN, LeakyRNN
from agents.simulation import simulate, simulate_outputs
from agents.training.loss import masked_mse

NAMES = registry.names()
NEW = ("rnn", "gru", "lstm", "lowrank")
SMALL = {"n_units": 12}


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Small products run fastest on one thread (as the trainer runs them); two threads on a busy machine
    spin-wait for each other."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def build(name: str, **kwargs) -> torch.nn.Module:
    return registry.build({"name": name, "n_in": 3, "n_out": 2, "seed": 0, **SMALL, **kwargs})


def run(model, inputs, seed: int | None = 5, noise: bool = True):
    gen = None if seed is None else torch.Generator().manual_seed(seed)
    with torch.no_grad():
        return model(inputs, 20.0, noise=noise, generator=gen)


# ---------------------------------------------------------------------- the shared surface
@pytest.mark.parametrize("name", NAMES)
def test_forward_shapes_and_the_surface(name):
    model = build(name)
    outputs, rates = run(model, torch.rand(4, 7, 3))
    assert outputs.shape == (4, 7, 2) and rates.shape == (4, 7, 12)
    assert model.n_units == 12 and model.n_in == 3 and model.n_out == 2
    assert isinstance(model, interface.Model)
    assert all(isinstance(v, torch.Tensor) for v in model.state_dict().values())
    assert registry.name_of(model) == name
    assert all(isinstance(w, torch.Tensor) for w in model.weights())


def test_capabilities_are_the_protocols_each_model_satisfies():
    models = {name: build(name) for name in NAMES}
    rate = {n for n, m in models.items() if isinstance(m, interface.RateModel)}
    traced = {n for n, m in models.items() if isinstance(m, interface.TracedModel)}
    stepped = {n for n, m in models.items() if isinstance(m, interface.SteppedModel)}
    assert (rate, traced, stepped) == ({"eirnn", "rnn", "lowrank"}, {"rnn", "lowrank"}, {"gru", "lstm"})
    assert list(registry.arguments("lowrank"))[:2] == ["n_units", "rank"]
    assert registry.arguments("gru") == {"n_units": 100, "update_bias": 3.0, "seed": None}
    assert all(registry.model_class(name).name == name for name in NEW)


def test_gated_networks_start_with_a_retaining_gate_bias():
    n = 8
    kept = {0.0: GRUNetwork(2, 2, n, update_bias=0.0, seed=4), 3.0: GRUNetwork(2, 2, n, seed=4)}
    bias = {k: m.recurrent.bias_ih_l0.detach() for k, m in kept.items()}
    assert torch.allclose(bias[3.0][n:2 * n] - bias[0.0][n:2 * n], torch.full((n,), 3.0)), "update gate z"
    assert torch.equal(bias[3.0][:n], bias[0.0][:n]) and torch.equal(bias[3.0][2 * n:], bias[0.0][2 * n:])
    assert kept[3.0].config["update_bias"] == 3.0


@pytest.mark.parametrize("name", NAMES)
def test_config_round_trip_and_saved_weights_give_bit_identical_outputs(name, tmp_path):
    model = build(name)
    with torch.no_grad():                                        # move away from the initial weights
        for p in model.parameters():
            p.add_(0.01 * torch.randn(p.shape, generator=torch.Generator().manual_seed(p.numel())))
    config = json.loads(json.dumps(registry.config_of(model)))
    path = tmp_path / "model.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))
    again = registry.build({**config, "seed": None})             # the weights, not the seed, make it identical
    again.load_state_dict(load_file(str(path)))
    inputs = torch.rand(3, 9, 3, generator=torch.Generator().manual_seed(1))
    for noise in (False, True):
        a, b = run(model, inputs, noise=noise), run(again, inputs, noise=noise)
        assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert registry.config_of(again) == {**config, "seed": None}


@pytest.mark.parametrize("name", NAMES)
def test_seeded_construction_is_reproducible(name):
    a, b, c = build(name, seed=3), build(name, seed=3), build(name, seed=4)
    assert all(torch.equal(a.state_dict()[k], b.state_dict()[k]) for k in a.state_dict())
    assert any(not torch.equal(a.state_dict()[k], c.state_dict()[k]) for k in a.state_dict())


@pytest.mark.parametrize("name", NEW)
def test_construction_leaves_the_global_torch_rng_alone(name):
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    build(name, seed=None)
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize("name", NAMES)
def test_simulate_runs_every_model(name):
    task = neurotasks.make_task("PerceptualDecision-v0")
    batch = task.trials(3, np.random.default_rng(0))
    model = registry.build({"name": name, "n_in": 3, "n_out": 2, "seed": 0, **SMALL})
    outputs, rates = simulate(model, batch, seed=1)
    assert outputs.shape == (3, batch.n_steps, 2) and rates.shape == (3, batch.n_steps, 12)
    assert np.array_equal(simulate(model, batch, seed=1)[0], outputs)


@pytest.mark.parametrize("name", NAMES)
def test_simulate_outputs_in_chunks_are_the_network_s_outputs(name):
    """Without noise a chunked run is the whole-batch run; with noise it is seeded, and one chunk is simulate."""
    task = neurotasks.make_task("PerceptualDecision-v0")
    batch = task.trials(7, np.random.default_rng(0))
    model = registry.build({"name": name, "n_in": 3, "n_out": 2, "seed": 0, **SMALL})
    whole = simulate(model, batch, noise=False)[0]
    np.testing.assert_allclose(simulate_outputs(model, batch, noise=False, chunk=3), whole, rtol=1e-5, atol=1e-6)
    noisy = simulate_outputs(model, batch, seed=4, chunk=3)
    assert noisy.dtype == np.float32 and noisy.shape == whole.shape
    np.testing.assert_array_equal(simulate_outputs(model, batch, seed=4, chunk=3), noisy)
    np.testing.assert_array_equal(simulate_outputs(model, batch, seed=4, chunk=7), simulate(model, batch, seed=4)[0])


@pytest.mark.parametrize("chunk", [0, -1, 2.0, True])
def test_simulate_outputs_refuses_a_bad_chunk(chunk):
    model = registry.build({"name": "rnn", "n_in": 3, "n_out": 2, "seed": 0, **SMALL})
    with pytest.raises(ValueError, match="chunk must be a positive integer"):
        simulate_outputs(model, neurotasks.make_task("PerceptualDecision-v0").trials(2, 0), chunk=chunk)


def test_a_config_without_a_name_is_an_eirnn_one():
    model = registry.build({"n_in": 3, "n_out": 2, "n_units": 10, "seed": 0})
    assert registry.name_of(model) == "eirnn"
    assert registry.build(registry.config_of(model)).config == model.config


def test_noise_follows_the_generator_and_can_be_switched_off():
    for name in ("rnn", "lowrank"):
        model, inputs = build(name), torch.rand(2, 6, 3)
        assert torch.equal(run(model, inputs, seed=1)[0], run(model, inputs, seed=1)[0])
        assert not torch.equal(run(model, inputs, seed=1)[0], run(model, inputs, seed=2)[0])
        assert torch.equal(run(model, inputs, seed=1, noise=False)[0], run(model, inputs, seed=2, noise=False)[0])
        assert torch.equal(build(name, sigma_rec=0.0)(inputs, 20.0)[0], run(build(name), inputs, noise=False)[0])


@pytest.mark.parametrize("cls", [GRUNetwork, LSTMNetwork])
def test_gated_networks_ignore_dt_and_have_no_recurrent_noise(cls):
    model, inputs = cls(3, 2, n_units=8, seed=0), torch.rand(2, 6, 3)
    assert model.sigma_rec == 0.0
    with torch.no_grad():
        assert torch.equal(model(inputs, 20.0)[0], model(inputs, 1.0, noise=False)[0])


# ---------------------------------------------------------------------- bad arguments
@pytest.mark.parametrize("name, kwargs, match", [
    ("rnn", {"nonlinearity": "sigmoidal"}, "nonlinearity"),
    ("rnn", {"w_rec_init": "eye"}, "w_rec_init"),
    ("rnn", {"w_rec_init": "diag", "self_connections": False}, "self_connections"),
    ("rnn", {"sigma_rec": -0.1}, "sigma_rec"),
    ("rnn", {"tau": 0.0}, "tau"),
    ("rnn", {"n_units": 0}, "n_units"),
    ("rnn", {"n_units": 2.5}, "n_units"),
    ("rnn", {"train_bias": "yes"}, "train_bias"),
    ("rnn", {"x0": float("nan")}, "x0"),
    ("rnn", {"w_rec_gain": "big"}, "w_rec_gain"),
    ("rnn", {"seed": -1}, "seed"),
    ("lowrank", {"rank": 13}, "rank must be <= n_units=12"),
    ("lowrank", {"rank": 0}, "rank"),
    ("lowrank", {"rank": 1.5}, "rank"),
    ("lowrank", {"rank": "two"}, "rank"),
    ("lowrank", {"nonlinearity": "linear"}, "nonlinearity"),
    ("lowrank", {"excitatory_fraction": 1.5}, "excitatory_fraction"),
    ("lowrank", {"dale": 1}, "dale"),
    ("gru", {"n_units": -3}, "n_units"),
    ("gru", {"seed": "0"}, "seed"),
    ("lstm", {"forget_bias": float("inf")}, "forget_bias"),
    ("gru", {"update_bias": float("nan")}, "update_bias"),
])
def test_bad_arguments_name_the_argument(name, kwargs, match):
    with pytest.raises(ValueError, match=match):
        build(name, **kwargs)


@pytest.mark.parametrize("name", NAMES)
def test_unknown_arguments_and_names_list_the_valid_ones(name):
    with pytest.raises(ValueError, match=r"unknown argument\(s\) \['colour'\].*valid"):
        build(name, colour="red")
    with pytest.raises(ValueError, match=r"unknown argument 'colour'.*valid: n_units"):
        registry.parse_model_args(name, ["colour=red"])
    with pytest.raises(ValueError, match="needs n_out"):
        registry.build({"name": name, "n_in": 3})


def test_unknown_model_names_list_the_known_ones():
    with pytest.raises(ValueError, match="unknown model 'transformer'; known models: eirnn, rnn, gru, lstm, lowrank"):
        registry.build({"name": "transformer", "n_in": 1, "n_out": 1})
    with pytest.raises(ValueError, match="not a registered model"):
        registry.config_of(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="mapping"):
        registry.build(["rnn"])


def test_parse_model_args_reads_json_python_literals_and_plain_strings():
    parsed = registry.parse_model_args("lowrank", ["rank=2", "nonlinearity=relu", "dale=true", "tau = 50",
                                                   "sigma_rec=1e-2", "train_bias=True"])
    assert parsed == {"rank": 2, "nonlinearity": "relu", "dale": True, "tau": 50, "sigma_rec": 0.01,
                      "train_bias": True}
    assert registry.parse_model_args("rnn", ["w_rec_gain=null"]) == {"w_rec_gain": None}
    assert registry.parse_model_args("eirnn", ["tau=[100, 50]", "mask_in=[[1, 0]]"])["tau"] == [100, 50]
    model = build("lowrank", **registry.parse_model_args("lowrank", ["rank=2"]))
    assert model.rank == 2


@pytest.mark.parametrize("pairs, match", [
    (["rank=two"], "rank must be an int, got 'two'"),
    (["rank=2.0"], "rank must be an int"),
    (["dale=1"], "dale must be true or false"),
    (["tau=fast"], "tau must be a number"),
    (["nonlinearity=3"], "nonlinearity must be a string"),
    (["rank"], "key=value"),
    (["=2"], "key=value"),
    (["n_in=3"], "n_in is not a model argument to set: it comes from the task's input channels"),
    (["seed=1"], r"seed is not a model argument to set: it comes from the run's seed \(--seed\)"),
])
def test_parse_model_args_rejects_bad_pairs(pairs, match):
    with pytest.raises(ValueError, match=match):
        registry.parse_model_args("lowrank", pairs)


def test_parse_model_args_checks_every_model_by_its_own_signature():
    assert registry.parse_model_args("gru", ["n_units=64"]) == {"n_units": 64}
    with pytest.raises(ValueError, match="unknown argument 'rank' for model 'gru'"):
        registry.parse_model_args("gru", ["rank=2"])
    with pytest.raises(ValueError, match="forget_bias must be a number"):
        registry.parse_model_args("lstm", ["forget_bias=[1]"])
    with pytest.raises(ValueError, match="w_rec_gain must be a number or null"):
        registry.parse_model_args("rnn", ["w_rec_gain=high"])


@pytest.mark.parametrize("name", NAMES)
def test_every_argument_is_documented_in_the_docstring(name):
    doc = registry.describe(name)
    for argument in registry.arguments(name):
        if argument not in ("excitatory_fraction", "mask_in", "mask_rec", "mask_out"):   # grouped in eirnn's doc
            assert argument in doc, f"{name}: {argument} missing from the docstring"


@pytest.mark.parametrize("name", NAMES)
def test_bad_inputs_and_dt_are_rejected(name):
    model = build(name)
    with pytest.raises(ValueError, match="inputs must have shape"):
        model(torch.rand(2, 5, 4), 20.0)
    with pytest.raises(ValueError, match="dt must be a finite number > 0"):
        model(torch.rand(2, 5, 3), -1.0)
    with pytest.raises(ValueError, match="NaN or Inf"):
        model(torch.full((2, 5, 3), float("nan")), 20.0)
    with pytest.raises(TypeError, match=r"torch\.Tensor"):
        model(np.zeros((2, 5, 3)), 20.0)


def test_continuous_time_models_need_dt_at_most_tau():
    with pytest.raises(ValueError, match=r"exceeds the time constant tau=10\.0"):
        build("lowrank", tau=10.0)(torch.rand(1, 2, 3), 20.0)


# ---------------------------------------------------------------------- initialisation and constraints
@pytest.mark.parametrize("nonlinearity", sorted(YANG_GAIN))
def test_rnn_starts_as_yang_et_al(nonlinearity):
    model = LeakyRNN(3, 2, n_units=30, nonlinearity=nonlinearity, seed=0)
    w = model.effective_weights()
    gain = YANG_GAIN[nonlinearity]
    assert np.allclose(w["W_rec"] @ w["W_rec"].T, gain**2 * np.eye(30), atol=1e-5)     # gain x orthogonal
    assert np.all(w["b_rec"] == 0) and np.all(w["x0"] == 0) and np.all(w["b_out"] == 0)
    assert model.b_rec.requires_grad and model.b_out.requires_grad and not model.x0.requires_grad
    assert np.all(np.abs(w["W_out"]) <= np.sqrt(6 / 32))
    assert (model.shared_tau, model.sigma_rec, LeakyRNN(3, 2).nonlinearity) == (100.0, 0.05, "relu")
    assert np.array_equal(LeakyRNN(3, 2, n_units=5, w_rec_init="diag", seed=0).effective_weights()["W_rec"],
                          np.eye(5, dtype=np.float32) * 0.5)
    big = LeakyRNN(50, 2, n_units=400, w_rec_init="randgauss", w_rec_gain=2.0, seed=0).effective_weights()
    assert abs(big["W_rec"].std() - 2.0 / 20) < 0.005 and abs(big["W_in"].std() - 1 / np.sqrt(50)) < 0.005


def test_rnn_without_self_connections_keeps_an_empty_diagonal():
    model = LeakyRNN(3, 2, n_units=10, self_connections=False, seed=0)
    hammer(model)
    assert np.all(np.diag(model.effective_weights()["W_rec"]) == 0)


@pytest.mark.parametrize("rank", [1, 3])
def test_lowrank_recurrence_has_the_rank_it_is_given(rank):
    model = LowRankRNN(3, 2, n_units=20, rank=rank, seed=0)
    hammer(model)
    w = model.effective_weights()["W_rec"].astype(np.float64)
    assert np.linalg.matrix_rank(w, tol=1e-6) == rank
    assert np.allclose(w, (model.m @ model.n.t()).detach().numpy() / 20, atol=1e-6)


def test_lowrank_dale_signs_hold_after_many_updates():
    model = LowRankRNN(3, 2, n_units=20, rank=2, dale=True, seed=0)
    hammer(model)
    w = model.effective_weights()["W_rec"]
    assert model.n_exc == 16 and np.all(w[:, :16] >= 0) and np.all(w[:, 16:] <= 0)
    assert np.any(w[:, :16] > 0) and np.any(w[:, 16:] < 0)
    assert list(inhibitory_units(model)) == list(range(16, 20))


@pytest.mark.parametrize("name", NEW)
def test_shrink_recurrent_scales_the_recurrent_weights(name):
    for kwargs in ({}, {"dale": True}) if name == "lowrank" else ({},):
        model = build(name, **kwargs)
        before = [w.detach().clone() for w in model.weights()]
        model.shrink_recurrent(0.5)
        after = model.weights()
        assert torch.allclose(after[1], 0.5 * before[1], atol=1e-7)
        assert torch.equal(after[0], before[0]) and torch.equal(after[2], before[2])


# ---------------------------------------------------------------------- hand-written gradients
def reference_gradients(model, inputs, dt, noise, grad_z, grad_r, omega_weight: float = 0.0):
    """∂L/∂θ by autograd through the plain loop of :func:`reference_forward`, L = Σ z·grad_z + Σ r·grad_r."""
    w_in, w_rec, w_out = model.weights()
    outputs, rates, _ = reference_forward(inputs.transpose(0, 1), w_in, model.b_rec, w_rec, model.x0, w_out,
                                          model.b_out, model.alpha(dt), noise, model.nonlinearity)
    loss = (outputs * grad_z).sum() + (rates * grad_r).sum()
    params = dict((k, p) for k, p in model.named_parameters() if p.requires_grad)
    return dict(zip(params, torch.autograd.grad(loss, list(params.values())), strict=True))


def gradient_case(name: str, seed: int = 0, **kwargs):
    torch.manual_seed(seed)
    model = registry.build({"name": name, "n_in": 3, "n_out": 2, "n_units": 7, "seed": seed, "train_x0": True,
                            "train_bias": True, **kwargs}).double()
    with torch.no_grad():
        model.b_rec.normal_(0, 0.1)
        model.x0.normal_(0, 0.3)
    inputs = torch.rand(4, 9, 3, dtype=torch.float64)
    gen = torch.Generator().manual_seed(seed)
    grad_z = torch.randn(9, 4, 2, dtype=torch.float64, generator=gen)
    grad_r = torch.randn(9, 4, 7, dtype=torch.float64, generator=gen)
    workspace = model.draw_noise(4, 9, gen)
    sd = np.sqrt(2 * 20.0 / model.shared_tau) * model.sigma_rec
    return model, inputs, grad_z, grad_r, workspace, sd * workspace[1:].clone()


GRADIENT_CASES = [("rnn", {}), ("rnn", {"nonlinearity": "softplus"}), ("rnn", {"nonlinearity": "tanh"}),
                  ("rnn", {"self_connections": False}), ("lowrank", {"rank": 2}),
                  ("lowrank", {"rank": 3, "nonlinearity": "relu"}), ("lowrank", {"rank": 2, "dale": True})]


@pytest.mark.parametrize("name, kwargs", GRADIENT_CASES)
def test_hand_written_gradients_equal_autograd(name, kwargs):
    model, inputs, grad_z, grad_r, workspace, noise = gradient_case(name, **kwargs)
    expected = reference_gradients(model, inputs, 20.0, noise, grad_z, grad_r)
    # outside autograd: run_traced + backward_traced (the chain rule of weight_gradients written out)
    _, _, trace = model.run_traced(inputs, 20.0, noise_workspace=workspace.clone())
    by_hand = model.backward_traced(trace, grad_z, grad_r)
    # through autograd: the fused node's BPTT, then autograd from the effective weights to the parameters
    outputs, rates = model(inputs, 20.0, noise_workspace=workspace.clone())
    loss = (outputs.transpose(0, 1) * grad_z).sum() + (rates.transpose(0, 1) * grad_r).sum()
    params = [p for p in model.parameters() if p.requires_grad]
    fused = dict(zip(by_hand, torch.autograd.grad(loss, params), strict=True))
    assert list(by_hand) == list(expected)
    for key in expected:
        assert torch.allclose(by_hand[key], expected[key], rtol=1e-10, atol=1e-12), key
        assert torch.allclose(fused[key], expected[key], rtol=1e-10, atol=1e-12), key


@pytest.mark.parametrize("name, kwargs", GRADIENT_CASES[::2])
def test_hand_written_gradients_with_omega_equal_the_autograd_chain(name, kwargs):
    """λ_Ω ∂Ω/∂W_rec reaches the parameters through weight_gradients as autograd would carry it."""
    model, inputs, grad_z, _, workspace, _ = gradient_case(name, **kwargs)
    omega_hand, omega_auto = OmegaTerm(2.0), OmegaTerm(2.0)
    _, _, trace = model.run_traced(inputs, 20.0, noise_workspace=workspace.clone())
    by_hand = model.backward_traced(trace, grad_z, None, omega_hand)
    outputs, _ = model(inputs, 20.0, noise_workspace=workspace.clone(), omega=omega_auto)
    params = [p for p in model.parameters() if p.requires_grad]
    fused = torch.autograd.grad((outputs.transpose(0, 1) * grad_z).sum(), params)
    assert omega_hand.value == pytest.approx(omega_auto.value, rel=1e-12) and omega_hand.n_valid > 0
    for key, g in zip(by_hand, fused, strict=True):
        assert torch.allclose(by_hand[key], g, rtol=1e-10, atol=1e-12), key


@given(n_units=st.integers(2, 9), rank=st.integers(1, 9), dale=st.booleans(), seed=st.integers(0, 2**16),
       nonlinearity=st.sampled_from(LowRankRNN.NONLINEARITIES))
def test_lowrank_gradients_equal_autograd_for_any_size(n_units, rank, dale, seed, nonlinearity):
    rank = min(rank, n_units)
    model = LowRankRNN(2, 1, n_units=n_units, rank=rank, dale=dale, nonlinearity=nonlinearity, train_bias=True,
                       seed=seed).double()
    gen = torch.Generator().manual_seed(seed)
    inputs = torch.rand(3, 5, 2, dtype=torch.float64, generator=gen)
    grad_z = torch.randn(5, 3, 1, dtype=torch.float64, generator=gen)
    expected = reference_gradients(model, inputs, 10.0, None, grad_z, torch.zeros(5, 3, n_units, dtype=torch.float64))
    _, _, trace = model.run_traced(inputs, 10.0, noise=False)
    by_hand = model.backward_traced(trace, grad_z)
    for key in expected:
        assert torch.allclose(by_hand[key], expected[key], rtol=1e-9, atol=1e-12), key


# ---------------------------------------------------------------------- the one-step maps and the analyses
@pytest.mark.parametrize("cls", [GRUNetwork, LSTMNetwork])
def test_the_written_out_step_is_the_fused_kernel(cls):
    model = cls(3, 2, n_units=6, seed=0).double()
    inputs = torch.rand(4, 8, 3, dtype=torch.float64)
    with torch.no_grad():
        _, hidden = model(inputs, 20.0)
        state = torch.zeros(4, 6 if cls is GRUNetwork else 12, dtype=torch.float64)
        for t in range(8):
            state = model.step(state, inputs[:, t])
            assert torch.allclose(state[:, :6], hidden[:, t], atol=1e-12)
    if cls is LSTMNetwork:
        h, c = model.states(inputs)
        assert np.allclose(h, hidden.numpy(), atol=1e-12) and np.allclose(c[:, -1], state[:, 6:].numpy())


@pytest.mark.parametrize("cls", [GRUNetwork, LSTMNetwork])
def test_fixed_points_of_the_gated_maps(cls):
    model = cls(2, 1, n_units=5, seed=1)
    velocity = model.velocity([0.5, 0.0])
    size = 5 if cls is GRUNetwork else 10
    points = find_fixed_points(velocity, np.random.default_rng(0).normal(0, 0.3, (4, size)))
    assert len(points) >= 1 and points.states.shape[1] == size
    state = torch.as_tensor(points.states[:1])
    inputs = torch.tensor([[0.5, 0.0]], dtype=torch.float64)
    with torch.no_grad():
        assert torch.allclose(model.double().step(state, inputs), state, atol=1e-6)
    with pytest.raises(ValueError, match="n_in=2"):
        model.velocity([1.0])


@pytest.mark.parametrize("name, kwargs", [("rnn", {"nonlinearity": "tanh"}), ("rnn", {"nonlinearity": "rtanh"}),
                                          ("lowrank", {"rank": 2}), ("lowrank", {"dale": True})])
def test_rate_models_velocity_is_their_euler_step(name, kwargs):
    """dynamics_from_model (the fixed-point analysis) reads rnn and lowrank as the network they run."""
    model = build(name, train_x0=True, **kwargs).double()
    with torch.no_grad():
        model.x0.normal_(0, 0.5, generator=torch.Generator().manual_seed(0))
    u = np.array([0.3, 0.7, 1.0])
    _, _, trace = model.run_traced(torch.tensor(u)[None, None, :], 20.0, noise=False)
    euler = (trace.states[1, 0] - trace.states[0, 0]) / (20.0 / model.shared_tau)
    velocity = dynamics_from_model(model, inputs=u)
    assert torch.allclose(velocity(model.x0.detach()[None, :])[0], euler, atol=1e-10)


@pytest.mark.parametrize("name", NEW)
def test_lesions_silence_units_of_every_model(name):
    model = build(name)
    inputs = torch.rand(2, 6, 3, generator=torch.Generator().manual_seed(0))
    active = torch.argsort(run(model, inputs, noise=False)[1].abs().mean((0, 1)), descending=True)[:2].tolist()
    lesioned = lesion_model(model, units=active)
    assert lesioned is not model
    w_rec, w_out = lesioned.weights()[1], lesioned.weights()[2]
    n = model.n_units
    assert torch.all(w_rec.reshape(-1, n, n)[:, :, active] == 0) and torch.all(w_out[:, active] == 0)
    assert not torch.equal(run(model, inputs, noise=False)[0], run(lesioned, inputs, noise=False)[0])
    assert torch.all(model.weights()[2][:, active] != 0), "the original is untouched"
    assert torch.equal(run(lesion_model(model), inputs, noise=False)[0], run(model, inputs, noise=False)[0])


# ---------------------------------------------------------------------- learning
def hammer(model, n_updates: int = 30, lr: float = 0.5) -> None:
    """Big Adam steps toward random targets: every constraint must survive them."""
    gen = torch.Generator().manual_seed(0)
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    for _ in range(n_updates):
        outputs, rates = model(torch.rand(4, 10, model.n_in, generator=gen), 20.0, generator=gen)
        loss = (outputs - torch.randn(4, 10, model.n_out, generator=gen)).square().mean() + rates.mean()
        opt.zero_grad()
        loss.backward()
        opt.step()


@pytest.mark.parametrize("name", NEW)
def test_a_few_adam_steps_on_perceptual_decision_reduce_the_loss(name):
    task = neurotasks.make_task("PerceptualDecision-v0")
    batch = task.trials(16, np.random.default_rng(0))
    inputs, targets, mask = (torch.from_numpy(a) for a in (batch.inputs, batch.targets, batch.mask))
    model = registry.build({"name": name, "n_in": 3, "n_out": 2, "n_units": 24, "seed": 0})
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=0.02)
    losses = []
    for step in range(25):
        outputs, _ = model(inputs, batch.dt, generator=torch.Generator().manual_seed(step))
        loss = masked_mse(outputs, targets, mask)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert np.mean(losses[-5:]) < 0.5 * losses[0], losses
