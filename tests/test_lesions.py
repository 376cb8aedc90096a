"""Lesions (silenced units, cut connections) and input-noise robustness on a hand-built integrator network."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import neurotasks
from agents.analysis.lesions import (
    inhibitory_units,
    input_noise_robustness,
    lesion_masks,
    lesion_model,
    lesion_study,
    lesion_weights,
    top_selective_units,
)


class IntegratorNet(torch.nn.Module):
    """Units 0 and 1 (excitatory) integrate stimulus 1 and 2 perfectly; unit 2 (inhibitory) is idle.
    The readout compares them. Dale-style masks are buffers, as in the EIRNN."""

    def __init__(self, n_in: int = 3):
        super().__init__()
        self.n_units, self.n_exc, self.config = 3, 2, {"tau": 100.0}
        w_in = np.zeros((3, n_in))
        w_in[0, 0] = w_in[1, 1] = 1.0
        self.W_in = torch.nn.Parameter(torch.tensor(w_in))
        self.W_rec = torch.nn.Parameter(torch.tensor(np.diag([1.0, 1.0, 0.0])))
        self.W_out = torch.nn.Parameter(torch.tensor([[1.0, -1.0, 0.0], [-1.0, 1.0, 0.0]]))
        self.register_buffer("rec_mask", torch.ones(3, 3))
        self.register_buffer("out_mask", torch.ones(2, 3))

    def effective_weights(self):
        with torch.no_grad():
            return {"W_in": self.W_in.numpy().copy(), "W_rec": (self.W_rec * self.rec_mask).numpy(),
                    "W_out": (self.W_out * self.out_mask).numpy(), "b_rec": np.zeros(3), "b_out": np.zeros(2),
                    "x0": np.zeros(3)}


def integrate(model, batch, noise=True, seed=None):
    """Euler steps of tau dx/dt = -x + W_rec relu(x) + W_in u (no recurrent noise)."""
    w = model.effective_weights()
    alpha = batch.dt / model.config["tau"]
    x = np.zeros((len(batch), model.n_units))
    rates = np.zeros((len(batch), batch.n_steps, model.n_units))
    for t in range(batch.n_steps):
        x = x + alpha * (-x + np.maximum(x, 0) @ w["W_rec"].T + batch.inputs[:, t] @ w["W_in"].T)
        rates[:, t] = np.maximum(x, 0)
    return rates @ w["W_out"].T, rates


@pytest.fixture(scope="module")
def task():
    return neurotasks.make_task("PerceptualDecision-v0", catch_prob=0.0, input_noise=0.0)


@pytest.fixture(scope="module")
def batch(task):
    return task.trials(200, 0)


def test_masks_silence_units_and_cut_connections():
    masks = lesion_masks(3, units=[1], connections=np.array([[0, 0, 1], [0, 0, 0], [0, 0, 0]], bool))
    assert masks["W_rec"].tolist() == [[1, 0, 0], [1, 0, 1], [1, 0, 1]]
    assert masks["W_out_columns"].tolist() == [1, 0, 1]
    weights = {"W_rec": np.ones((3, 3)), "W_out": np.ones((2, 3)), "W_in": np.ones((3, 2))}
    lesioned = lesion_weights(weights, units=[0])
    assert lesioned["W_rec"][:, 0].tolist() == [0, 0, 0] and lesioned["W_out"][:, 0].tolist() == [0, 0]
    assert weights["W_rec"].sum() == 9                       # the original is untouched
    with pytest.raises(ValueError, match="units"):
        lesion_masks(3, units=[3])
    with pytest.raises(ValueError, match="connections"):
        lesion_masks(3, connections=np.ones((2, 2), bool))


def test_lesion_model_masks_a_copy(batch, task):
    model = IntegratorNet()
    lesioned = lesion_model(model, units=[0])
    assert lesioned.effective_weights()["W_out"][:, 0].tolist() == [0.0, 0.0]
    assert model.effective_weights()["W_out"][:, 0].tolist() == [1.0, -1.0]
    assert inhibitory_units(model).tolist() == [2]

    class NoMasks(torch.nn.Module):
        n_units = 3

    with pytest.raises(TypeError, match="lesioned"):
        lesion_model(NoMasks(), units=[0])


def test_lesion_study_reports_each_lesion_on_the_same_trials(task, batch):
    model = IntegratorNet()
    results = lesion_study(task, model, {
        "idle inhibitory unit": {"units": inhibitory_units(model)},
        "integrator 1": {"units": [0]},
        "self-connection 1": {"connections": np.eye(3, dtype=bool) & (np.arange(3) == 0)[:, None]},
    }, batch, simulate=integrate)
    assert results["intact"]["percent_correct"] == 100.0
    assert results["idle inhibitory unit"]["percent_correct"] == 100.0
    # without unit 0 the readout always favours choice 2: half the trials are right
    ground_truth = batch.params["ground_truth"]
    assert results["integrator 1"]["percent_correct"] == pytest.approx(100 * np.mean(ground_truth == 1))
    assert results["self-connection 1"]["percent_correct"] < 100.0
    with pytest.raises(ValueError, match="intact"):
        lesion_study(task, model, {"intact": {}}, batch, simulate=integrate)


def test_a_lesion_whose_activity_runs_away_is_scored_not_fatal(task, batch):
    """A lesion (here: one that leaves unit 0 a self-excitation of 1e30, as removing inhibition can) whose
    outputs overflow to inf and NaN is scored as the saturated answer its trials give, and counted."""
    def runaway_lesion(model, units):
        lesioned = IntegratorNet()
        with torch.no_grad():
            lesioned.W_rec[0, 0] = 1e30
        return lesioned

    with np.errstate(over="ignore", invalid="ignore"):
        results = lesion_study(task, IntegratorNet(), {"disinhibited": {"units": [2]}}, batch, simulate=integrate,
                               lesion=runaway_lesion)
    assert results["intact"]["diverged_percent"] == 0.0 and results["intact"]["percent_correct"] == 100.0
    lesioned = results["disinhibited"]
    assert lesioned["diverged_percent"] > 0
    assert 0.0 <= lesioned["percent_correct"] < 100.0


def test_top_selective_units():
    d = np.array([0.1, -3.0, 2.0, -0.5, 1.0])
    assert top_selective_units(d, 2).tolist() == [1, 2]
    assert top_selective_units(d, 2, side="first").tolist() == [2, 4]
    assert top_selective_units(d, 1, side="second").tolist() == [1]
    assert top_selective_units(d, 2, among=[0, 3, 4]).tolist() == [4, 3]
    with pytest.raises(ValueError, match="side"):
        top_selective_units(d, 1, side="left")


def test_performance_falls_as_input_noise_grows():
    task = neurotasks.make_task("PerceptualDecision-v0")
    model = IntegratorNet()
    result = input_noise_robustness(task, model, [0.0, 0.01, 0.5], n_trials=200, simulate=integrate)
    assert result.metric == "percent_correct"
    assert result.levels.tolist() == [0.0, 0.01, 0.5]
    assert result.scores[0] == 100.0
    assert result.scores[2] < result.scores[0] - 5
    assert task.input_noise == 0.01                       # the task itself is not modified
    with pytest.raises(ValueError, match="levels"):
        input_noise_robustness(task, model, [-1.0], simulate=integrate)


def test_lesions_of_a_real_eirnn():
    pytest.importorskip("agents.simulation")
    import agents

    task = neurotasks.make_task("PerceptualDecision-v0")
    model = agents.EIRNN(3, 2, n_units=20, seed=0)
    inhibitory = inhibitory_units(model)
    assert inhibitory.tolist() == list(range(16, 20))
    lesioned = lesion_model(model, units=inhibitory)
    weights, original = lesioned.effective_weights(), model.effective_weights()
    assert np.all(weights["W_rec"][:, inhibitory] == 0) and np.any(original["W_rec"][:, inhibitory] != 0)
    assert np.array_equal(weights["W_rec"][:, :16], original["W_rec"][:, :16])
    cut = lesion_model(model, connections=np.eye(20, k=1, dtype=bool))
    assert np.all(np.diag(cut.effective_weights()["W_rec"], k=1) == 0)
    results = lesion_study(task, model, {"all I": {"units": inhibitory}}, task.trials(30, 0))
    assert set(results) == {"intact", "all I"} and "percent_correct" in results["all I"]
