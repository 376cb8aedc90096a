"""EIRNN: constraints, initialisation, noise, time step, the fused recurrence's gradients and Ω."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import agents
import neurotasks
from agents.models import dynamics, masks
from agents.models.dynamics import NONLINEARITIES, OmegaTerm, RateNetwork, reference_forward, reference_omega
from agents.models.eirnn import EIRNN
from agents.models.init import spectral_radius


def hammer(model: EIRNN, n_updates: int = 30, lr: float = 0.5, seed: int = 0) -> None:
    """Big Adam steps toward random targets: every constraint must survive them."""
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    for _ in range(n_updates):
        inputs = torch.rand(4, 10, model.n_in, generator=gen)
        targets = torch.randn(4, 10, model.n_out, generator=gen)
        outputs, rates = model(inputs, 20.0, generator=gen, omega=OmegaTerm(2.0))
        loss = (outputs - targets).square().mean() + rates.mean()
        opt.zero_grad()
        loss.backward()
        opt.step()


# ---------------------------------------------------------------------- constraints
def test_defaults_follow_the_paper():
    model = EIRNN(3, 2, seed=0)
    assert (model.n_units, model.n_exc, model.n_in, model.n_out) == (100, 80, 3, 2)
    assert model.config["tau"] == 100.0 and model.config["sigma_rec"] == 0.15 and model.config["rho"] == 1.5
    assert model.nonlinearity == "relu" and model.dale and model.readout == "excitatory"
    assert torch.allclose(model.x0, torch.full((100,), 0.1))
    assert model.x0.requires_grad and not model.b_rec.requires_grad and not model.b_out.requires_grad
    w = model.effective_weights()
    assert {k: v.shape for k, v in w.items()} == {"W_in": (100, 3), "W_rec": (100, 100), "W_out": (2, 100),
                                                 "b_rec": (100,), "b_out": (2,), "x0": (100,)}
    assert np.all(w["W_in"] >= 0) and w["W_in"].max() <= 0.1
    assert np.all(w["b_rec"] == 0) and np.all(w["b_out"] == 0)


@pytest.mark.parametrize("positivity", ["rectify", "abs"])
def test_dale_signs_masks_and_readout_hold_after_many_updates(positivity):
    model = EIRNN(3, 2, n_units=20, positivity=positivity, seed=1)
    hammer(model)
    w = model.effective_weights()
    assert np.all(w["W_rec"][:, :16] >= 0), "excitatory columns must stay >= 0"
    assert np.all(w["W_rec"][:, 16:] <= 0), "inhibitory columns must stay <= 0"
    assert np.all(np.diag(w["W_rec"]) == 0), "no self-connections"
    assert np.all(w["W_in"] >= 0) and np.all(w["W_out"] >= 0)
    assert np.all(w["W_out"][:, 16:] == 0), "readout only from excitatory units"
    assert np.any(w["W_out"][:, :16] != 0)


@pytest.mark.parametrize("positivity", ["rectify", "abs"])
def test_readout_from_all_units_carries_dale_signs_after_many_updates(positivity):
    """Song et al. 2016: W_out = W_out,+ D, so inhibitory units pull the outputs negative (the sequence net, Fig 8)."""
    model = EIRNN(3, 2, n_units=20, positivity=positivity, readout="all", seed=1)
    w = model.effective_weights()["W_out"]
    assert np.all(w[:, 16:] < 0) and np.all(w[:, :16] > 0)
    hammer(model)
    w = model.effective_weights()["W_out"]
    assert np.all(w[:, :16] >= 0) and np.all(w[:, 16:] <= 0)
    model = EIRNN(3, 2, n_units=20, positivity=positivity, readout="all", seed=1)
    with torch.no_grad():
        model.w_out.zero_()
        model.w_out[:, 16:] = 1.0                    # read out from inhibitory units only: outputs <= b_out
        z, _ = model(torch.rand(5, 4, 3), 20.0, noise=False)
    assert torch.all(z <= model.b_out + 1e-6) and torch.any(z < model.b_out - 1e-3)


def test_masked_and_fixed_weights_never_change():
    n = 12
    rng = np.random.default_rng(0)
    mask_rec = (rng.random((n, n)) < 0.5).astype(np.float32)
    fixed = np.zeros((n, n), np.float32)
    fixed[(mask_rec == 0)] = 0.3 * (rng.random(int((mask_rec == 0).sum())) < 0.3)
    np.fill_diagonal(fixed, 0.0)
    mask_in = np.ones((n, 2), np.float32)
    mask_in[:4, 0] = 0
    model = EIRNN(2, 1, n_units=n, mask_rec=mask_rec, fixed_rec=fixed, mask_in=mask_in, seed=0)
    before = model.effective_weights()
    hammer(model, n_updates=20)
    after = model.effective_weights()
    untrained = mask_rec == 0
    np.testing.assert_array_equal(after["W_rec"][untrained], before["W_rec"][untrained])
    signs = np.where(np.arange(n) < model.n_exc, 1.0, -1.0)
    np.testing.assert_allclose(after["W_rec"][untrained], (fixed * signs[None, :])[untrained])
    assert np.all(after["W_in"][:4, 0] == 0)
    assert not np.array_equal(after["W_rec"][~untrained], before["W_rec"][~untrained]), "plastic weights train"


def test_self_connections_and_unconstrained_network():
    model = EIRNN(2, 2, n_units=10, self_connections=True, dale=False, readout="all", seed=0)
    hammer(model, n_updates=5)
    w = model.effective_weights()
    assert np.any(np.diag(w["W_rec"]) != 0)
    assert np.any(w["W_rec"] > 0) and np.any(w["W_rec"] < 0)
    assert np.any(w["W_out"][:, 8:] != 0)


@given(seed=st.integers(0, 10_000), rho=st.floats(0.5, 3.0), n=st.integers(5, 60))
def test_spectral_radius_after_init(seed, rho, n):
    for dale in (True, False):
        model = EIRNN(2, 2, n_units=n, rho=rho, dale=dale, seed=seed)
        assert spectral_radius(model.effective_weights()["W_rec"]) == pytest.approx(rho, rel=1e-4)


def test_spectral_radius_with_fixed_weights_and_sparse_mask():
    n = 50
    mask = masks.random_sparse(n, 0.8, 0.1, 0.5, seed=3)
    fixed = np.zeros((n, n), np.float32)
    fixed[1, 0] = 0.5
    mask[1, 0] = 0.0
    model = EIRNN(2, 2, n_units=n, mask_rec=mask, fixed_rec=fixed, seed=0)
    assert spectral_radius(model.effective_weights()["W_rec"]) == pytest.approx(1.5, rel=1e-4)


def test_initial_weights_are_balanced_in_every_row():
    model = EIRNN(3, 2, n_units=100, seed=4)
    w = model.effective_weights()["W_rec"]
    np.testing.assert_allclose(np.abs(w[:, :80]).sum(1), np.abs(w[:, 80:]).sum(1), rtol=1e-5)


def test_seed_fixes_the_initial_weights():
    a, b, c = EIRNN(3, 2, seed=7), EIRNN(3, 2, seed=7), EIRNN(3, 2, seed=8)
    assert torch.equal(a.w_rec, b.w_rec) and not torch.equal(a.w_rec, c.w_rec)


def test_prune_removes_small_weights():
    model = EIRNN(3, 2, n_units=10, seed=0)
    with torch.no_grad():
        model.w_rec[0, 1] = 5e-5
        model.w_in[2, 0] = -1e-5 if model.positivity == "abs" else 5e-5
    removed = model.prune(1e-4)
    w = model.effective_weights()
    assert removed >= 2 and w["W_rec"][0, 1] == 0 and w["W_in"][2, 0] == 0
    for key in ("W_in", "W_rec", "W_out"):
        nonzero = np.abs(w[key])[w[key] != 0]
        assert nonzero.size == 0 or nonzero.min() >= 1e-4


# ---------------------------------------------------------------------- noise and time constants
def _linear_probe(tau, sigma=0.15, n=40):
    """A network whose outputs are its states x: no recurrence, no input, linear units, identity readout."""
    return EIRNN(1, n, n_units=n, tau=tau, sigma_rec=sigma, nonlinearity="linear", dale=False, readout="all",
                 mask_in=np.zeros((n, 1)), mask_rec=np.zeros((n, n)), mask_out=np.eye(n), x0=0.0, seed=0)


def _set_identity_readout(model):
    with torch.no_grad():
        model.w_out.copy_(torch.eye(model.n_units))


def test_noise_per_step_has_sd_sqrt_2_alpha_sigma():
    model = _linear_probe(100.0)
    _set_identity_readout(model)
    x, _ = model(torch.zeros(50, 200, 1), 20.0, generator=torch.Generator().manual_seed(0))
    increments = x[:, 1:] - 0.8 * x[:, :-1]
    assert float(increments.detach().std()) == pytest.approx(np.sqrt(2 * 0.2) * 0.15, rel=0.01)
    assert abs(float(increments.detach().mean())) < 2e-3


def test_per_unit_tau_sets_per_unit_noise_and_decay():
    n = 40
    tau = np.where(np.arange(n) < 20, 100.0, 50.0)
    model = _linear_probe(tau, n=n)
    _set_identity_readout(model)
    x, _ = model(torch.zeros(50, 200, 1), 20.0, generator=torch.Generator().manual_seed(1))
    alpha = torch.tensor(20.0 / tau, dtype=torch.float32)
    increments = x[:, 1:] - (1 - alpha) * x[:, :-1]
    sd = increments.reshape(-1, n).std(0)
    sd = sd.detach()
    assert float(sd[:20].mean()) == pytest.approx(np.sqrt(0.4) * 0.15, rel=0.02)
    assert float(sd[20:].mean()) == pytest.approx(np.sqrt(0.8) * 0.15, rel=0.02)
    # noiseless decay of the initial state: (1 - α_i)^t
    with torch.no_grad():
        model.x0.fill_(1.0)
    x, _ = model(torch.zeros(1, 5, 1), 20.0, noise=False)
    expected = (1 - alpha)[None, :] ** torch.arange(1, 6)[:, None]
    torch.testing.assert_close(x[0], expected)


def test_noise_is_reproducible_with_a_generator():
    model = EIRNN(3, 2, n_units=20, seed=0)
    inputs = torch.rand(2, 15, 3)
    a = model(inputs, 20.0, generator=torch.Generator().manual_seed(5))[0]
    b = model(inputs, 20.0, generator=torch.Generator().manual_seed(5))[0]
    c = model(inputs, 20.0, generator=torch.Generator().manual_seed(6))[0]
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_simulate_is_deterministic_and_numpy():
    task = neurotasks.make_task("PerceptualDecision-v0")
    batch = task.trials(4, 0)
    model = EIRNN(3, 2, n_units=20, seed=0)
    z1, r1 = agents.simulate(model, batch, seed=3)
    z2, _ = agents.simulate(model, batch, seed=3)
    q1, _ = agents.simulate(model, batch, noise=False)
    q2, _ = agents.simulate(model, batch, noise=False)
    assert z1.dtype == np.float32 and z1.shape == (4, batch.n_steps, 2) and r1.shape == (4, batch.n_steps, 20)
    np.testing.assert_array_equal(z1, z2)
    np.testing.assert_array_equal(q1, q2)
    assert not np.array_equal(z1, q1)
    assert np.all(r1 >= 0)


def _decision_outputs(model, dt):
    task = neurotasks.make_task("PerceptualDecision-v0", dt=dt, input_noise=0.0, catch_prob=0.0,
                                stimulus_duration=800.0)
    batch = task.trials(4, 0, coherence=np.array([3.2, 12.8, 51.2, 25.6]), ground_truth=np.array([0, 1, 0, 1]))
    z, _ = agents.simulate(model, batch, noise=False)
    per_bin = round(20 / dt)
    return z[:, per_bin - 1 :: per_bin]                  # the state at the end of every 20 ms bin


def test_finer_time_steps_converge_to_the_continuous_network():
    model = EIRNN(3, 2, n_units=50, rho=0.9, seed=2)
    with torch.no_grad():
        model.w_in.mul_(10.0)
        model.w_out.mul_(10.0)
    z = {dt: _decision_outputs(model, dt) for dt in (20.0, 10.0, 5.0, 1.0, 0.5)}
    scale = float(np.abs(z[0.5]).max())
    coarse = float(np.abs(z[20.0] - z[10.0]).max())
    medium = float(np.abs(z[10.0] - z[5.0]).max())
    fine = float(np.abs(z[1.0] - z[0.5]).max())
    assert coarse < 0.1 * scale, "dt = 20 ms already close to dt = 10 ms"
    assert fine < medium < coarse
    assert fine < 0.15 * coarse


def test_dt_larger_than_tau_is_refused():
    model = EIRNN(3, 2, n_units=10, tau=np.r_[np.full(8, 100.0), np.full(2, 10.0)])
    with pytest.raises(ValueError, match="tau"):
        model(torch.zeros(1, 3, 3), 20.0)
    with pytest.raises(ValueError, match="dt"):
        model(torch.zeros(1, 3, 3), -1.0)


# ---------------------------------------------------------------------- bad input
def test_bad_inputs_give_clear_errors():
    model = EIRNN(3, 2, n_units=10)
    with pytest.raises(ValueError, match="n_in=3"):
        model(torch.zeros(2, 5, 4), 20.0)
    with pytest.raises(ValueError, match="shape"):
        model(torch.zeros(5, 3), 20.0)
    with pytest.raises(ValueError, match="NaN"):
        model(torch.full((2, 5, 3), float("nan")), 20.0)
    with pytest.raises(TypeError, match=r"torch\.Tensor"):
        model(np.zeros((2, 5, 3)), 20.0)
    batch = neurotasks.make_task("PerceptualDecision-v0").trials(2, 0)
    with pytest.raises(ValueError, match="n_in=2"):
        agents.simulate(EIRNN(2, 2, n_units=10), batch)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"nonlinearity": "cubic"}, "nonlinearity"),
    ({"positivity": "square"}, "positivity"),
    ({"readout": "inhibitory"}, "readout"),
    ({"n_units": 0}, "n_units"),
    ({"tau": -1.0}, "tau"),
    ({"tau": [1.0, 2.0]}, "tau"),
    ({"sigma_rec": -0.1}, "sigma_rec"),
    ({"excitatory_fraction": 1.5}, "excitatory_fraction"),
    ({"mask_rec": np.ones((3, 3))}, "mask_rec"),
    ({"mask_in": -np.ones((10, 3))}, "mask_in"),
    ({"fixed_rec": np.ones((10, 10))}, "fixed_rec"),
])
def test_bad_constructor_arguments(kwargs, match):
    args = {"n_units": 10, **kwargs}
    with pytest.raises(ValueError, match=match):
        EIRNN(3, 2, **args)


def test_config_rebuilds_the_model():
    mask = masks.random_sparse(20, seed=1)
    model = EIRNN(3, 2, n_units=20, tau=np.linspace(50, 100, 20), mask_rec=mask, seed=5)
    import json

    config = json.loads(json.dumps(model.config))
    clone = EIRNN(**config)
    for a, b in zip(model.state_dict().values(), clone.state_dict().values(), strict=True):
        assert torch.equal(a, b)


# ---------------------------------------------------------------------- masks
def test_separate_choice_populations_mask():
    m = masks.separate_choice_populations(100, n_in=3, n_out=2)
    rec, m_in, out = m["mask_rec"], m["mask_in"], m["mask_out"]
    g1, g2 = np.arange(0, 40), np.arange(40, 80)
    assert rec[np.ix_(g1, g2)].sum() == 0 and rec[np.ix_(g2, g1)].sum() == 0
    assert rec[np.ix_(g1, g1)].sum() == 40 * 39 and rec[80:, :].sum() == 20 * 100 - 20
    assert m_in[g1, 0].all() and not m_in[g2, 0].any() and m_in[g2, 1].all() and m_in[:, 2].all()
    assert out[0, g1].all() and not out[0, g2].any() and not out[:, 80:].any()
    model = EIRNN(3, 2, n_units=100, **m, seed=0)
    hammer(model, n_updates=3)
    w = model.effective_weights()["W_rec"]
    assert np.all(w[np.ix_(g1, g2)] == 0)


def test_two_areas_mask():
    m = masks.two_areas(100, n_in=3, n_out=2, seed=0)
    rec = m["mask_rec"]
    e1, e2, i1, i2 = np.arange(0, 40), np.arange(40, 80), np.arange(80, 90), np.arange(90, 100)
    assert rec[np.ix_(np.r_[e2, i2], i1)].sum() == 0 and rec[np.ix_(np.r_[e1, i1], i2)].sum() == 0
    assert rec[np.ix_(np.r_[e2, i2], e1)].mean() == 1.0
    assert 0.1 < rec[np.ix_(np.r_[e1, i1], e2)].mean() < 0.3
    assert m["mask_in"][:40].all() and not m["mask_in"][e2].any() and m["mask_in"][i1].all()
    assert m["mask_out"][:, e2].all() and m["mask_out"].sum() == 2 * 40


def test_random_sparse_connection_probabilities():
    rec = masks.random_sparse(500, 0.8, 0.1, 0.5, seed=0)
    assert rec[:, :400].mean() == pytest.approx(0.1, abs=0.01)
    assert rec[:, 400:].mean() == pytest.approx(0.5, abs=0.02)
    assert np.all(np.diag(rec) == 0)
    with pytest.raises(ValueError, match="p_exc"):
        masks.random_sparse(10, p_exc=0.0)


def test_input_groups_reach_their_thirds():
    m = masks.input_groups(150, 5, {"visual": [0, 2], "auditory": [1, 3]}, 1 / 3)
    visual, auditory = m[:, 0].astype(bool), m[:, 1].astype(bool)
    assert visual.sum() == 50 and auditory.sum() == 50 and not np.any(visual & auditory)
    assert visual[:120].sum() == 40 and visual[120:].sum() == 10
    assert np.array_equal(m[:, 0], m[:, 2]) and m[:, 4].all()
    task = neurotasks.make_task("MultisensoryIntegration-v0")
    from agents.training.trainer import model_config

    config = model_config(task)
    assert config["n_units"] == 150 and np.asarray(config["mask_in"]).shape == (150, 5)


# ---------------------------------------------------------------------- the fused recurrence
def _tiny(alpha_per_unit: bool, seed: int = 0):
    torch.manual_seed(seed)
    t, b, n, n_in, n_out = 6, 3, 5, 2, 2
    f64 = {"dtype": torch.float64}
    args = (torch.rand(t, b, n_in, **f64).requires_grad_(), torch.rand(n, n_in, **f64).requires_grad_(),
            (0.1 * torch.randn(n, **f64)).requires_grad_(), (0.5 * torch.randn(n, n, **f64)).requires_grad_(),
            torch.randn(n, **f64).requires_grad_(), torch.rand(n_out, n, **f64).requires_grad_(),
            torch.randn(n_out, **f64).requires_grad_())
    alpha = torch.rand(n, **f64) * 0.5 + 0.1 if alpha_per_unit else torch.full((n,), 0.2, **f64)
    return args, alpha


@pytest.mark.parametrize("nonlinearity", sorted(set(NONLINEARITIES) - {"rectified_power", "linear"}))
@pytest.mark.parametrize("per_unit", [False, True])
def test_fused_gradients_match_finite_differences(nonlinearity, per_unit):
    args, alpha = _tiny(per_unit)
    assert torch.autograd.gradcheck(lambda *a: RateNetwork.apply(*a, alpha, None, None, nonlinearity, None), args)


@pytest.mark.parametrize("per_unit", [False, True])
def test_fused_forward_and_gradients_match_an_autograd_loop(per_unit):
    args, alpha = _tiny(per_unit, seed=1)
    noise = torch.empty(6 * 3, 5, dtype=torch.float64).normal_(0.0, 0.2, generator=torch.Generator().manual_seed(9))
    z, r = RateNetwork.apply(*args, alpha, torch.full((5,), 0.2, dtype=torch.float64),
                             torch.Generator().manual_seed(9), "relu", None)
    z_ref, r_ref, _ = reference_forward(*args, alpha, noise.view(6, 3, 5))
    torch.testing.assert_close(z, z_ref)
    torch.testing.assert_close(r, r_ref)
    target = torch.rand_like(z)
    fused = torch.autograd.grad(((z - target) ** 2).sum() + r.square().mean(), args)
    ref = torch.autograd.grad(((z_ref - target) ** 2).sum() + r_ref.square().mean(), args)
    for a, b in zip(fused, ref, strict=True):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize(("nonlinearity", "per_unit"), [("relu", False), ("relu", True), ("tanh", True)])
def test_omega_and_its_immediate_gradient_match_autograd(nonlinearity, per_unit):
    args, alpha = _tiny(per_unit, seed=2)
    w_rec = args[3]
    target = torch.rand(6, 3, 2, dtype=torch.float64)

    def grad_w(weight):
        term = OmegaTerm(weight)
        z, _ = RateNetwork.apply(*args, alpha, None, None, nonlinearity, term)
        (g,) = torch.autograd.grad(((z - target) ** 2).sum(), (w_rec,))
        return g, term

    with_omega, term = grad_w(1.5)
    without, _ = grad_w(0.0)
    z, _, states = reference_forward(*args, alpha, None, nonlinearity)
    deltas = torch.autograd.grad(((z - target) ** 2).sum(), states)
    w = w_rec.detach().clone().requires_grad_()
    omega = reference_omega([s.detach() for s in states], [d.detach() for d in deltas], w, alpha, nonlinearity)
    (expected,) = torch.autograd.grad(omega, w)
    assert term.value == pytest.approx(float(omega.detach()), rel=1e-10)
    assert term.n_valid == 6 * 3
    torch.testing.assert_close(with_omega - without, 1.5 * expected)


def test_omega_flows_to_the_plastic_weights_through_the_model():
    model = EIRNN(3, 2, n_units=12, seed=0)
    inputs, targets = torch.rand(4, 8, 3), torch.rand(4, 8, 2)

    def grads(weight):
        model.zero_grad()
        term = OmegaTerm(weight)
        z, _ = model(inputs, 20.0, noise=False, omega=term)
        ((z - targets) ** 2).mean().backward()
        return model.w_rec.grad.clone(), term

    g_omega, term = grads(2.0)
    g_plain, _ = grads(0.0)
    assert np.isfinite(term.value) and term.value > 0
    assert not torch.equal(g_omega, g_plain)
    assert torch.all((g_omega - g_plain)[model.mask_rec == 0] == 0)


def test_noise_drawn_ahead_equals_noise_drawn_inline():
    model = EIRNN(3, 2, n_units=20, tau=np.linspace(50, 100, 20), seed=0)
    inputs = torch.rand(3, 9, 3)
    inline, _ = model(inputs, 20.0, generator=torch.Generator().manual_seed(4))
    workspace = model.draw_noise(3, 9, torch.Generator().manual_seed(4))
    ahead, _ = model(inputs, 20.0, noise_workspace=workspace)
    torch.testing.assert_close(ahead, inline)
    with pytest.raises(ValueError, match="noise_workspace"):
        model(inputs, 20.0, noise_workspace=model.draw_noise(3, 8))


def test_torchscript_loops_give_the_python_loops_numbers(monkeypatch):
    model = EIRNN(3, 2, n_units=16, seed=0)
    inputs, targets = torch.rand(4, 9, 3), torch.rand(4, 9, 2)

    def run():
        model.zero_grad()
        term = OmegaTerm(2.0)
        z, _ = model(inputs, 20.0, generator=torch.Generator().manual_seed(2), omega=term)
        ((z - targets) ** 2).mean().backward()
        return z.detach(), term.value, [p.grad.clone() for p in model.parameters() if p.requires_grad]

    scripted = run()
    monkeypatch.setattr(dynamics, "USE_TORCHSCRIPT", False)
    python = run()
    assert torch.equal(scripted[0], python[0]) and scripted[1] == python[1]
    for a, b in zip(scripted[2], python[2], strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize("kwargs", [{}, {"positivity": "abs"}, {"dale": False}, {"readout": "all"},
                                    {"readout": "all", "positivity": "abs"},
                                    {"fixed_rec": np.full((10, 10), 0.05) * (np.random.default_rng(0)
                                                                            .random((10, 10)) < 0.3),
                                     "mask_rec": None}])
def test_plastic_gradients_are_the_chain_rule_through_weights(kwargs):
    if "fixed_rec" in kwargs:                       # fixed connections only where the mask is 0
        fixed = kwargs["fixed_rec"]
        kwargs = {"fixed_rec": fixed, "mask_rec": (fixed == 0).astype(np.float32)}
    model = EIRNN(3, 2, n_units=10, seed=1, **kwargs)
    with torch.no_grad():
        model.w_rec.add_(0.05 * torch.randn(10, 10))  # some plastic weights negative: [.]_+ and |.| matter
    gen = torch.Generator().manual_seed(0)
    grads = [torch.randn(w.shape, generator=gen) for w in model.weights()]
    expected = torch.autograd.grad(model.weights(), (model.w_in, model.w_rec, model.w_out), grads)
    with torch.no_grad():
        effective = model.weights()
    for got in (model.plastic_gradients(*grads), model.plastic_gradients(*grads, effective=effective)):
        for a, b in zip(got, expected, strict=True):
            torch.testing.assert_close(a, b)
