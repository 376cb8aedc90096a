"""Fixed and slow points: a linear network's unique fixed point and a 2-bit flip-flop's four attractors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from agents.analysis.fixed_points import (
    RateDynamics,
    dynamics_from_model,
    find_fixed_points,
    jacobian,
    minimise_speed,
    sample_states,
)


def test_linear_network_fixed_point_and_eigenvalues():
    rng = np.random.default_rng(0)
    w_rec = 0.3 * rng.normal(size=(6, 6))
    w_in = rng.normal(size=(6, 2))
    u = np.array([0.5, -1.0])
    b = rng.normal(size=6)
    dynamics = RateDynamics(W_rec=w_rec, W_in=w_in, b_rec=b, nonlinearity="linear", inputs=u)
    found = find_fixed_points(dynamics, rng.normal(size=(8, 6)), distinct_tolerance=1e-4)
    expected = np.linalg.solve(np.eye(6) - w_rec, w_in @ u + b)
    assert len(found) == 1
    assert np.allclose(found.states[0], expected, atol=1e-6)
    assert found.is_fixed[0]
    truth = np.linalg.eigvals(w_rec - np.eye(6))
    assert np.allclose(np.sort_complex(found.eigenvalues[0]), np.sort_complex(truth), atol=1e-8)
    assert found.stable[0] == bool(np.all(truth.real < 0))
    assert np.allclose(found.jacobians[0], w_rec - np.eye(6), atol=1e-10)


def test_two_bit_flip_flop_has_four_stable_points():
    # tau dx/dt = -x + 2 tanh(x), per unit: stable at +-x* (x* = 2 tanh x*), unstable at 0.
    dynamics = RateDynamics(W_rec=2.0 * np.eye(2), nonlinearity="tanh")
    starts = sample_states(np.random.default_rng(0).uniform(-3, 3, size=(500, 2)), 40, rng=1)
    found = find_fixed_points(dynamics, starts)
    x_star = 1.9150080
    stable = found.states[found.stable]
    assert len(stable) == 4
    corners = {tuple(np.sign(s).astype(int)) for s in stable}
    assert corners == {(1, 1), (1, -1), (-1, 1), (-1, -1)}
    assert np.allclose(np.abs(stable), x_star, atol=1e-5)
    # the other points are saddles (one unstable direction) and the unstable origin (two)
    assert set(found.n_unstable[~found.stable].tolist()) <= {1, 2}
    assert np.all(found.speed < 1e-12)


def test_slow_points_are_kept_only_when_asked():
    # dx/dt = x^2 + 0.01: no fixed point, but the ghost of a saddle-node at 0 where the flow is slowest
    def velocity(x: torch.Tensor) -> torch.Tensor:
        return x**2 + 0.01

    starts = np.array([[-1.0], [0.3], [1.0]])
    assert len(find_fixed_points(velocity, starts)) == 0
    slow = find_fixed_points(velocity, starts, slow_tolerance=1e-4)
    assert len(slow) == 1
    assert slow.states[0, 0] == pytest.approx(0.0, abs=1e-5)
    assert slow.speed[0] == pytest.approx(0.5 * 0.01**2, rel=1e-4)
    assert not slow.is_fixed[0]


def test_adam_finds_the_linear_fixed_point_too():
    dynamics = RateDynamics(W_rec=np.array([[0.5]]), b_rec=np.array([1.0]), nonlinearity="linear")
    states, q = minimise_speed(dynamics, np.array([[0.0], [5.0]]), method="adam", max_iter=2000, learning_rate=0.1)
    assert np.allclose(states[:, 0], 2.0, atol=1e-3)
    assert np.all(q < 1e-6)


def test_a_callable_velocity_and_autograd_jacobian():
    def velocity(x: torch.Tensor) -> torch.Tensor:      # dx/dt = x - x^3: stable at +-1, unstable at 0
        return x - x**3

    found = find_fixed_points(velocity, np.array([[-2.0], [0.1], [2.0], [-0.1]]))
    assert sorted(np.round(found.states[:, 0], 6).tolist()) in ([-1.0, 0.0, 1.0], [-1.0, 1.0])
    assert np.all(found.stable == (np.abs(found.states[:, 0]) > 0.5))
    assert jacobian(velocity, [0.0]) == pytest.approx(np.array([[1.0]]))


def test_per_unit_time_constants_rescale_velocity():
    dynamics = RateDynamics(W_rec=np.zeros((2, 2)), nonlinearity="relu", tau=[50.0, 150.0])
    v = dynamics(torch.tensor([[1.0, 1.0]], dtype=torch.float64)).numpy()
    assert np.allclose(v, [[-2.0, -2.0 / 3.0]])     # mean tau 100 over 50 and 150


class _Model:
    n_units = 3
    config = {"nonlinearity": "relu", "tau": 100.0}

    def effective_weights(self):
        return {"W_in": np.eye(3)[:, :2], "W_rec": np.zeros((3, 3)), "b_rec": np.array([0.0, 0.0, 0.5])}


def test_dynamics_from_model_reads_weights_and_holds_the_input():
    dynamics = dynamics_from_model(_Model(), inputs=[1.0, 2.0])
    found = find_fixed_points(dynamics, np.zeros((2, 3)))
    assert np.allclose(found.states[0], [1.0, 2.0, 0.5])


def test_bad_arguments():
    with pytest.raises(ValueError, match="W_rec must be square"):
        RateDynamics(W_rec=np.zeros((2, 3)))
    with pytest.raises(ValueError, match="nonlinearity"):
        RateDynamics(W_rec=np.zeros((2, 2)), nonlinearity="cubic")
    with pytest.raises(ValueError, match="inputs"):
        RateDynamics(W_rec=np.zeros((2, 2)), W_in=np.zeros((2, 3)), inputs=[1.0])
    with pytest.raises(ValueError, match="tau"):
        RateDynamics(W_rec=np.zeros((2, 2)), tau=0.0)
    dynamics = RateDynamics(W_rec=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="method"):
        minimise_speed(dynamics, np.zeros((1, 2)), method="newton")
    with pytest.raises(ValueError, match="initial_states"):
        minimise_speed(dynamics, np.zeros(2))
    with pytest.raises(ValueError, match="slow_tolerance"):
        find_fixed_points(dynamics, np.zeros((1, 2)), fixed_tolerance=1e-3, slow_tolerance=1e-6)
    with pytest.raises(ValueError, match="no finite state"):
        sample_states(np.full((3, 2), np.nan), 2)
    with pytest.raises(ValueError, match="n must be"):
        sample_states(np.zeros((3, 2)), 0)


def test_dynamics_from_a_real_eirnn_match_its_euler_step():
    pytest.importorskip("agents.models.eirnn")
    import agents

    model = agents.EIRNN(3, 2, n_units=12, nonlinearity="linear", tau=[50.0] * 6 + [150.0] * 6, x0=0.3, seed=1)
    u = np.array([0.6, 0.4, 1.0])
    dynamics = dynamics_from_model(model, inputs=u)
    x0 = model.effective_weights()["x0"].astype(np.float64)
    with torch.no_grad():
        _, rates = model(torch.tensor(u, dtype=torch.float32).reshape(1, 1, 3), 10.0, noise=False)
    step = rates.numpy()[0, 0] - x0                                   # linear: rate = state
    tau = np.array([50.0] * 6 + [150.0] * 6)
    expected = (10.0 / tau) * dynamics(torch.tensor(x0[None])).numpy()[0] * tau / tau.mean()
    assert np.allclose(step, expected, atol=1e-5)
