"""Choice selectivity d′ (Song et al. 2016, Eq 30) and sorting units by it, E and I apart."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from agents.analysis.selectivity import choice_selectivity, dprime, preferred_choice, sort_units, window_mask


def test_dprime_matches_the_formula():
    a = np.array([[1.0, 0.0], [3.0, 0.0]])          # means 2, 0; variances 1, 0
    b = np.array([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    d = dprime(a, b)
    assert d[0] == pytest.approx((2 - 0) / np.sqrt((1 + 0) / 2))
    assert d[1] == 0.0                               # a silent unit: zero pooled variance -> 0
    assert dprime([1.0, 3.0], [0.0, 2.0])[0] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="same N"):
        dprime(np.zeros((2, 3)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="at least one sample"):
        dprime(np.zeros((0, 3)), np.zeros((2, 3)))


def constructed_rates(seed: int = 0):
    """Unit 0 fires more on choice-0 trials, unit 1 on choice-1 trials (more strongly), unit 2 not at all,
    unit 3 is choice-blind noise; the window is steps 2..5; outside it unit 3 carries a big choice signal."""
    rng = np.random.default_rng(seed)
    n_trials, n_steps = 40, 8
    choice = np.tile([0, 1], n_trials // 2)
    rates = rng.normal(1.0, 0.1, size=(n_trials, n_steps, 4))
    rates[choice == 0, :, 0] += 0.5
    rates[choice == 1, :, 1] += 1.0
    rates[:, :, 2] = 0.0
    rates[choice == 0, :2, 3] += 5.0
    spans = np.tile([2, 6], (n_trials, 1))
    return rates, choice, spans


def test_index_sign_and_ordering():
    rates, choice, spans = constructed_rates()
    d = choice_selectivity(rates, choice, spans)
    assert d[0] > 3 and d[1] < -6 and d[2] == 0.0 and abs(d[3]) < 1
    assert preferred_choice(d).tolist() == [0, 1, 0, 0]
    # a (B, T) mask gives the same answer as spans; flipping first/second flips the sign
    assert np.allclose(choice_selectivity(rates, choice, window_mask(spans, rates.shape[1])), d)
    assert np.allclose(choice_selectivity(rates, choice, spans, first=1, second=0), -d)
    # without the window, unit 3's pre-stimulus signal shows up
    assert choice_selectivity(rates, choice)[3] > 0.5


def test_trials_without_a_choice_are_ignored():
    rates, choice, spans = constructed_rates()
    d = choice_selectivity(rates, choice, spans)
    choice = choice.copy()
    rates = rates.copy()
    choice[:4] = -1
    rates[:4] = 1e6                                  # garbage on the ignored trials
    assert np.allclose(choice_selectivity(rates, choice, spans)[:3], d[:3], atol=0.5)


def test_errors_name_the_problem():
    rates, choice, _ = constructed_rates()
    with pytest.raises(ValueError, match="rates must have shape"):
        choice_selectivity(rates[0], choice)
    with pytest.raises(ValueError, match="one entry per trial"):
        choice_selectivity(rates, choice[:3])
    with pytest.raises(ValueError, match="window"):
        choice_selectivity(rates, choice, np.ones((3, 3), bool))
    with pytest.raises(ValueError, match="choice 0 and with choice 1"):
        choice_selectivity(rates, np.zeros_like(choice))
    with pytest.raises(ValueError, match="spans"):
        window_mask(np.zeros(3), 4)


def test_sort_units_orders_e_then_i_by_descending_dprime():
    d = np.array([0.5, -2.0, 3.0, 0.0, -1.0, 1.5])     # units 0-3 excitatory, 4-5 inhibitory
    order = sort_units(d, n_exc=4)
    assert order.tolist() == [2, 0, 3, 1, 5, 4]
    assert sort_units(d).tolist() == [2, 5, 0, 3, 4, 1]
    # the paper's view: only the most selective units of each population
    assert sort_units(d, n_exc=4, top=(2, 1)).tolist() == [2, 1, 5]
    assert sort_units(d, n_exc=4, top=3).tolist() == [2, 1, 5]  # 3 units: 2 E + 1 I
    with pytest.raises(ValueError, match="n_exc"):
        sort_units(d, n_exc=7)


@given(st.lists(st.floats(-5, 5), min_size=1, max_size=30), st.data())
def test_sort_units_is_a_permutation_sorted_within_populations(values, data):
    d = np.asarray(values)
    n_exc = data.draw(st.integers(0, d.size))
    order = sort_units(d, n_exc=n_exc)
    assert sorted(order.tolist()) == list(range(d.size))
    assert np.all(order[:n_exc] < n_exc) and np.all(order[n_exc:] >= n_exc)
    assert np.all(np.diff(d[order[:n_exc]]) <= 0) and np.all(np.diff(d[order[n_exc:]]) <= 0)
