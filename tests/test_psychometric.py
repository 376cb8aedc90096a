"""Psychometric and chronometric functions: known parameters are recovered; bad input is refused."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import special

from agents.analysis.psychometric import (
    chronometric_table,
    fit_psychometric,
    psychometric_table,
    signed_stimulus,
)

LEVELS = np.array([-51.2, -25.6, -12.8, -6.4, -3.2, 0.0, 3.2, 6.4, 12.8, 25.6, 51.2])


def simulate_choices(mu: float, sigma: float, lapse: float, repeats: int, seed: int):
    rng = np.random.default_rng(seed)
    x = np.repeat(LEVELS, repeats)
    p = lapse / 2 + (1 - lapse) * special.ndtr((x - mu) / sigma)
    return x, rng.random(x.size) < p


@pytest.mark.parametrize(("mu", "sigma", "lapse"), [(0.0, 6.0, 0.0), (3.0, 10.0, 0.1), (-5.0, 4.0, 0.05)])
def test_recovers_known_parameters(mu, sigma, lapse):
    x, chose = simulate_choices(mu, sigma, lapse, repeats=1000, seed=1)
    fit = fit_psychometric(x, chose)
    assert fit.bias == pytest.approx(mu, abs=0.6)
    assert fit.threshold == pytest.approx(sigma, rel=0.12)
    assert fit.lapse == pytest.approx(lapse, abs=0.025)
    assert fit.n_trials == x.size
    assert np.all(np.isfinite([fit.stderr["bias"], fit.stderr["threshold"]]))
    # the standard errors are honest: the truth lies within 4 of them
    assert abs(fit.bias - mu) < 4 * fit.stderr["bias"] + 1e-9
    assert abs(fit.threshold - sigma) < 4 * fit.stderr["threshold"] + 1e-9


def test_predict_and_fixed_lapse():
    x, chose = simulate_choices(2.0, 8.0, 0.0, repeats=300, seed=2)
    fit = fit_psychometric(x, chose, lapse=False)
    assert fit.lapse == 0.0
    assert np.isnan(fit.stderr["lapse"]) and np.isfinite(fit.stderr["bias"])
    assert fit.predict(fit.bias) == pytest.approx(0.5)
    assert fit.predict(fit.bias + fit.threshold) == pytest.approx(special.ndtr(1.0))
    assert fit.predict([-1e6, 1e6]) == pytest.approx([0.0, 1.0])
    fixed = fit_psychometric(x, chose, lapse=0.2)
    assert fixed.lapse == pytest.approx(0.2)
    assert fixed.predict(1e6) == pytest.approx(0.9)
    assert "bias" in str(fit) and fit.as_dict()["threshold"] == fit.threshold


@given(st.floats(-10, 10), st.floats(2, 20))
def test_noiseless_choices_give_a_steep_curve_at_the_boundary(mu, sigma):
    # deterministic choices (x > mu) are fitted with a bias between the two levels around mu
    x = np.linspace(-50, 50, 41)
    fit = fit_psychometric(x, x > mu, lapse=False)
    below, above = x[x <= mu].max(), x[x > mu].min()
    assert below - 1e-6 <= fit.bias <= above + 1e-6
    assert fit.threshold < 2.5


@pytest.mark.parametrize(("x", "y", "match"), [
    ([], [], "x must not be empty"),
    ([1, 2, 3], [0, 1], "chose_first must have the shape"),
    ([1, np.nan, 3], [0, 1, 1], "x must be finite"),
    ([1, 2, 3], [0, 2, 1], "chose_first must be bool or 0/1"),
    ([1, 1, 1], [0, 1, 1], "two distinct stimulus values"),
])
def test_bad_input(x, y, match):
    with pytest.raises(ValueError, match=match):
        fit_psychometric(x, y)


def test_bad_lapse_arguments():
    x, y = [1.0, 2.0, 3.0], [0, 1, 1]
    with pytest.raises(ValueError, match="max_lapse"):
        fit_psychometric(x, y, max_lapse=0)
    with pytest.raises(ValueError, match="lapse"):
        fit_psychometric(x, y, lapse=1.5)


def _params():
    # 3 coherences x 2 ground truths, 2 trials each, plus one catch trial
    coherence = np.array([0, 0, 6.4, 6.4, 51.2, 51.2, 0, 0, 6.4, 6.4, 51.2, 51.2, 51.2])
    ground_truth = np.array([0] * 6 + [1] * 7)
    catch = np.zeros(13, dtype=bool)
    catch[-1] = True
    return {"coherence": coherence, "ground_truth": ground_truth, "catch": catch}


def test_signed_stimulus_follows_the_paper():
    params = _params()
    signed = signed_stimulus(params)
    assert np.array_equal(signed[:6], params["coherence"][:6])
    assert np.array_equal(signed[6:], -params["coherence"][6:])
    assert np.array_equal(signed_stimulus(params, direction=None), params["coherence"])
    with pytest.raises(KeyError, match="nope"):
        signed_stimulus(params, "nope")
    with pytest.raises(KeyError, match="nope"):
        signed_stimulus(params, "coherence", direction="nope")


def test_psychometric_table_counts_choice_one_per_signed_level():
    params = _params()
    choice = np.array([0, 1, 0, 0, 0, 0, 1, 0, 1, 1, 1, -1, 0])   # one no-response, one catch trial
    table = psychometric_table(params, {"choice": choice})
    assert table.x.tolist() == [-51.2, -6.4, 0.0, 6.4, 51.2]
    assert table.n.tolist() == [1, 2, 4, 2, 2]                      # the no-response and catch trials dropped
    assert table.p.tolist() == [0.0, 0.0, 0.5, 1.0, 1.0]
    assert table.percent[2] == 50.0
    assert table.se[2] == pytest.approx(np.sqrt(0.25 / 4))
    assert table.se[0] == 0.0
    only_first = psychometric_table(params, {"choice": choice}, where=params["ground_truth"] == 0)
    assert only_first.n.sum() == 6
    with pytest.raises(ValueError, match="where"):
        psychometric_table(params, {"choice": choice}, where=np.ones(3, bool))
    with pytest.raises(ValueError, match="one entry per trial"):
        psychometric_table(params, {"choice": choice}, signed=np.zeros(4))


def test_table_fit_uses_the_trials():
    x, chose = simulate_choices(1.0, 7.0, 0.0, repeats=200, seed=3)
    params = {"coherence": np.abs(x), "ground_truth": np.where(x >= 0, 0, 1)}
    table = psychometric_table(params, {"choice": np.where(chose, 0, 1)})
    assert table.fit().bias == pytest.approx(fit_psychometric(x, chose).bias, abs=1e-6)


def test_chronometric_table_averages_correct_reaction_times():
    params = {"coherence": np.array([6.4, 6.4, 6.4, 51.2, 51.2, 51.2]), "ground_truth": np.array([0, 1, 0, 1, 0, 1]),
              "catch": np.zeros(6, dtype=bool)}
    evaluation = {"rt": np.array([500.0, 700.0, 100.0, 200.0, 300.0, np.nan]),
                  "correct": np.array([1.0, 1.0, 0.0, 1.0, 1.0, 1.0])}
    table = chronometric_table(params, evaluation)
    assert table.x.tolist() == [6.4, 51.2]
    assert table.n.tolist() == [2, 2]
    assert table.mean_rt.tolist() == [600.0, 250.0]
    assert table.se == pytest.approx([np.std([500, 700], ddof=1) / np.sqrt(2), np.std([200, 300], ddof=1) / np.sqrt(2)])
    with pytest.raises(KeyError, match="speed"):
        chronometric_table(params, evaluation, "speed")


def test_accuracy_by_duration_bins_trials_per_level():
    from types import SimpleNamespace

    from agents.analysis.psychometric import accuracy_by_duration

    stimulus = np.array([[5, 10], [5, 30], [5, 10], [5, 30], [5, 30], [5, 30]])   # 100 ms or 500 ms at dt 20
    batch = SimpleNamespace(params={"coherence": np.array([3.2, 3.2, 51.2, 51.2, 3.2, 3.2]),
                                    "catch": np.zeros(6, bool)},
                            periods={"stimulus": stimulus}, dt=20.0)
    evaluation = {"correct": np.array([0.0, 1.0, 1.0, 1.0, 1.0, 0.0])}
    table = accuracy_by_duration(batch, evaluation, bins=[0, 300, 600])
    assert table.levels.tolist() == [3.2, 51.2]
    assert table.centres.tolist() == [150.0, 450.0]
    assert table.n.tolist() == [[1, 3], [1, 1]]
    assert np.allclose(table.percent_correct, [[0.0, 200 / 3], [100.0, 100.0]])
    assert accuracy_by_duration(batch, evaluation, bins=2).n.sum() == 6
    with pytest.raises(KeyError, match="delay"):
        accuracy_by_duration(batch, evaluation, period="delay")
    with pytest.raises(ValueError, match="bins"):
        accuracy_by_duration(batch, evaluation, bins=[300, 0])
