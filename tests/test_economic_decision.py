"""EconomicDecision-v0: Padoa-Schioppa & Assad (2006)'s offer types, relative value and juice rewards."""

from __future__ import annotations

import numpy as np
import pytest

import neurotasks
from neurotasks.env import TaskEnv

ID = "EconomicDecision-v0"


def quiet(**kwargs):
    return neurotasks.make_task(ID, input_noise=0.0, **kwargs)


def test_metadata_and_timing():
    task = quiet()
    assert task.offers.tolist() == [[0, 1], [1, 3], [1, 2], [1, 1], [2, 1], [3, 1], [4, 1], [6, 1], [2, 0]]
    assert task.relative_value == 2.2 and len(task.conditions()["offer"]) == 18
    assert ID in neurotasks.list_tasks("value-based") and ID in neurotasks.list_tasks("neurogym")
    batch = task.trials(2000, rng=0)
    assert np.all(np.diff(batch.periods["fixation"], axis=1) == 75)
    assert np.all(np.diff(batch.periods["decision"], axis=1) == round(750 / 20))
    offer = np.diff(batch.periods["offer"], axis=1)[:, 0] * 20
    assert offer.min() >= 1000 and offer.max() <= 2000


@pytest.mark.parametrize(("offer", "a_better"), [((1, 1), True), ((2, 1), True), ((3, 1), False), ((6, 1), False),
                                                 ((2, 0), False), ((0, 1), True)])
def test_the_better_offer_is_quantity_times_value(offer, a_better):
    task = quiet()
    index = task.offers.tolist().index(list(offer))
    batch = task.trials(2, rng=1, offer=index, a_side=np.array([0, 1]))
    np.testing.assert_array_equal(batch.params["ground_truth"], [0, 1] if a_better else [1, 0])
    rows = np.arange(2)
    x = batch.inputs[rows, batch.periods["offer"][:, 0]] - 0.2
    n_b, n_a = offer
    np.testing.assert_allclose(x[0], [1, 1, 0, 0, 1, n_a / 5, n_b / 5], atol=1e-6)     # A on side 1
    np.testing.assert_allclose(x[1], [1, 0, 1, 1, 0, n_b / 5, n_a / 5], atol=1e-6)
    np.testing.assert_allclose(batch.inputs[rows, batch.periods["decision"][:, 0]], 0.2, atol=1e-6)


def test_rewards_are_the_chosen_juice():
    task = quiet()
    batch = task.trials(3, rng=2, offer=np.array([1, 7, 8]), a_side=0)          # 1B:3A, 6B:1A, 2B:0A
    go = batch.periods["decision"][:, 0]
    actions = np.zeros((3, batch.n_steps), np.int64)
    actions[np.arange(3), go] = np.array([1, 2, 1])
    ev = task.evaluate(batch, actions=actions)
    np.testing.assert_allclose(ev["reward"], [3 * 0.22, 6 / 2.2 * 0.22, 0.0])
    np.testing.assert_array_equal(ev["correct"], [1.0, 1.0, 0.0])
    assert TaskEnv(ID).rewards == {"abort": -0.1, "value_per_a": 0.22, "miss": 0.0, "catch": 0.0}


def test_argument_errors():
    with pytest.raises(ValueError, match="offers"):
        neurotasks.make_task(ID, offers=[(1, 2, 3)])
    with pytest.raises(ValueError, match="offers"):
        neurotasks.make_task(ID, offers=[(0, 0)])
    with pytest.raises(ValueError, match="offers"):
        neurotasks.make_task(ID, offers=[(2, 1)], relative_value=2.0)       # a tie: no better choice
    with pytest.raises(ValueError, match="relative_value"):
        neurotasks.make_task(ID, relative_value=0)
    with pytest.raises(ValueError, match="value_1 is derived"):
        quiet().trials(1, rng=0, value_1=1.0)
