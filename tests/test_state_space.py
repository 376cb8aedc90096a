"""Alignment, condition averages, PCA and targeted dimensionality reduction on constructed populations."""

from __future__ import annotations

import numpy as np
import pytest

from agents.analysis.state_space import fit_pca, regression_subspace
from agents.analysis.trial_average import align, condition_average


def test_align_cuts_a_window_around_each_event():
    values = np.arange(2 * 6, dtype=float).reshape(2, 6, 1)          # trial 0: 0..5, trial 1: 6..11
    out = align(values, onset=[1, 4], before=2, after=2, lengths=[6, 5])
    assert out.shape == (2, 4, 1)
    assert np.array_equal(out[0, :, 0], [np.nan, 0, 1, 2], equal_nan=True)
    assert np.array_equal(out[1, :, 0], [8, 9, 10, np.nan], equal_nan=True)  # step 5 is padding (length 5)
    assert np.all(np.isnan(align(values, [np.nan, 0], 1, 1)[0]))
    with pytest.raises(ValueError, match="onset"):
        align(values, [1], 1, 1)
    with pytest.raises(ValueError, match="before and after"):
        align(values, [1, 1], 0, 0)


def test_condition_average_groups_by_every_label_and_ignores_nan():
    values = np.array([[1.0, np.nan], [3.0, 4.0], [10.0, 20.0], [5.0, 6.0]])
    avg = condition_average(values, {"gt": [0, 0, 1, 0], "coh": [1, 1, 1, 2]})
    assert avg.conditions["gt"].tolist() == [0, 0, 1]
    assert avg.conditions["coh"].tolist() == [1, 2, 1]
    assert avg.n.tolist() == [2, 1, 1]
    assert avg.mean.tolist() == [[2.0, 4.0], [5.0, 6.0], [10.0, 20.0]]
    only = condition_average(values, {"gt": [0, 0, 1, 0]}, where=[True, False, True, True])
    assert only.mean[0].tolist() == [3.0, 6.0]
    with pytest.raises(ValueError, match="label 'gt'"):
        condition_average(values, {"gt": [0, 1]})
    with pytest.raises(ValueError, match="at least one"):
        condition_average(values, {})


def test_pca_finds_the_planted_direction():
    rng = np.random.default_rng(0)
    direction = rng.normal(size=20)
    direction /= np.linalg.norm(direction)
    data = rng.normal(size=(500, 1)) * 5 * direction + 0.1 * rng.normal(size=(500, 20)) + 3.0
    pca = fit_pca(data.reshape(50, 10, 20), n_components=3)
    assert abs(pca.components[0] @ direction) > 0.99
    assert pca.explained_variance_ratio[0] > 0.95
    assert np.allclose(pca.components @ pca.components.T, np.eye(3), atol=1e-10)
    assert pca.project(data).shape == (500, 3)
    with pytest.raises(ValueError, match="n_components"):
        fit_pca(data, n_components=0)
    with pytest.raises(ValueError, match="two samples"):
        fit_pca(np.full((3, 4), np.nan))


def planted_population(seed: int = 0, n_trials: int = 400, n_steps: int = 10, n_units: int = 30):
    """Rates = choice(t) * a + motion(t) * b + context * c + noise, with a, b, c known directions;
    the choice signal grows over time, motion peaks mid-window."""
    rng = np.random.default_rng(seed)
    a, b, c = rng.normal(size=(3, n_units))
    choice = rng.choice([-1.0, 1.0], size=n_trials)
    motion = rng.choice([-0.5, -0.15, 0.15, 0.5], size=n_trials)
    context = rng.choice([-1.0, 1.0], size=n_trials)
    t = np.linspace(0, 1, n_steps)
    rates = (choice[:, None, None] * t[None, :, None] * a
             + motion[:, None, None] * np.sin(np.pi * t)[None, :, None] * b * 4
             + context[:, None, None] * c * 0.5
             + 0.3 * rng.normal(size=(n_trials, n_steps, n_units)) + 2.0)
    return rates, {"choice": choice, "motion": motion, "context": context}, (a, b, c)


def _cosine(u, v):
    return abs(u @ v) / np.linalg.norm(u) / np.linalg.norm(v)


def test_regression_axes_recover_the_planted_coding_directions():
    rates, variables, (a, b, _) = planted_population()
    sub = regression_subspace(rates, variables, n_pcs=None, zscore=False)
    assert sub.names == ("choice", "motion", "context")
    assert sub.axes.shape == (3, rates.shape[2])
    assert np.allclose(sub.axes @ sub.axes.T, np.eye(3), atol=1e-10)
    # choice is strongest at the end, motion in the middle
    assert sub.t_max[0] == rates.shape[1] - 1
    assert sub.t_max[1] in (4, 5)
    assert _cosine(sub.axis("choice"), a) > 0.97
    # orthogonalised axes: the motion axis is b with its component along a removed
    b_orth = b - (b @ sub.axes[0]) * sub.axes[0]
    assert _cosine(sub.axis("motion"), b_orth) > 0.95
    # the projection separates choices along the choice axis at the last step
    projected = sub.project(rates[:, -1])
    assert projected.shape == (rates.shape[0], 3)
    assert np.all(projected[variables["choice"] > 0, 0].mean() > projected[variables["choice"] < 0, 0].mean())
    # raw coefficients are the true ones at the last step
    assert np.allclose(sub.coefficients[0, -1], a, atol=0.15)


def test_denoising_by_top_pcs_keeps_the_signal():
    rates, variables, (a, _, _) = planted_population(seed=1, n_trials=200)
    sub = regression_subspace(rates, variables, n_pcs=3)
    assert sub.pca is not None and sub.pca.components.shape[0] == 3
    # denoised coefficients lie in the span of the 3 PCs
    resid = sub.denoised[0, -1] - sub.denoised[0, -1] @ sub.pca.components.T @ sub.pca.components
    assert np.linalg.norm(resid) < 1e-8
    # z-scored rates code choice along a / scale
    assert _cosine(sub.axis("choice"), a / sub.scale) > 0.95


def test_regression_handles_nan_padding_and_refuses_bad_input():
    rates, variables, _ = planted_population(seed=2, n_trials=120)
    rates[:30, 7:] = np.nan                       # shorter trials, as after align()
    sub = regression_subspace(rates, variables, n_pcs=None, zscore=False)
    assert np.all(np.isfinite(sub.coefficients))
    with pytest.raises(ValueError, match="rates must have shape"):
        regression_subspace(rates[0], variables)
    with pytest.raises(ValueError, match="at least one task variable"):
        regression_subspace(rates, {})
    with pytest.raises(ValueError, match="one value per trial"):
        regression_subspace(rates, {"choice": np.ones(3)})
    with pytest.raises(ValueError, match="finite"):
        regression_subspace(rates, {"choice": np.full(120, np.nan)})
    with pytest.raises(ValueError, match="no time step"):
        regression_subspace(rates[:3], {k: v[:3] for k, v in variables.items()})
