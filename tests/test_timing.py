"""Duration distributions: bounds, means, and argument errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from neurotasks.timing import Choice, Constant, TruncatedExponential, Uniform, as_duration


@given(scale=st.floats(10, 2000), low=st.floats(0, 500), width=st.floats(20, 3000), seed=st.integers(0, 2**32 - 1))
def test_truncated_exponential_bounds_and_mean(scale, low, width, seed):
    d = TruncatedExponential(scale, low, low + width)
    x = d.sample(20000, np.random.default_rng(seed))
    assert x.min() >= low and x.max() < low + width
    # the analytic mean of the truncated distribution, within 5 standard errors
    assert abs(x.mean() - d.mean) <= 5 * x.std() / math.sqrt(x.size) + 1e-9


def test_truncated_exponential_is_pycogs_conditioned_exponential():
    """Exp(scale 330) conditioned on [80, 1500): by memorylessness, 80 + Exp(330) cut at 1500."""
    d = TruncatedExponential(330.0, 80.0, 1500.0)
    z = 1420.0 / 330.0
    assert d.mean == pytest.approx(80 + 330 - 1420 * math.exp(-z) / (1 - math.exp(-z)))
    x = d.sample(200000, np.random.default_rng(0))
    assert np.median(x) == pytest.approx(80 - 330 * math.log(1 - 0.5 * (1 - math.exp(-z))), rel=0.01)
    assert TruncatedExponential(100.0).mean == 100.0


def test_other_distributions():
    rng = np.random.default_rng(0)
    assert np.all(Constant(300).sample(5, rng) == 300.0) and Constant(300).mean == 300
    u = Uniform(2500, 3500).sample(50000, rng)
    assert u.min() >= 2500 and u.max() < 3500 and abs(u.mean() - 3000) < 10
    c = Choice((480, 560, 640)).sample(30000, rng)
    assert set(np.unique(c)) == {480.0, 560.0, 640.0}
    assert Choice((1, 3), p=(0.25, 0.75)).mean == pytest.approx(2.5)


@pytest.mark.parametrize(
    ("value", "match"),
    [(-1, "stimulus"), (("uniform", 500, 100), "stimulus"), (("choice", []), "stimulus"),
     (("truncated_exponential", 0, 10, 20), "stimulus"), ("long", "stimulus"), (float("nan"), "stimulus")],
)
def test_as_duration_errors_name_the_parameter(value, match):
    with pytest.raises(ValueError, match=match):
        as_duration(value, "stimulus")


def test_as_duration_accepts_the_documented_forms():
    assert as_duration(100, "x") == Constant(100.0)
    assert as_duration(("uniform", 1, 2), "x") == Uniform(1, 2)
    assert as_duration(("choice", [1, 2]), "x") == Choice((1.0, 2.0))
    assert as_duration(("truncated_exponential", 330, 80, 1500), "x") == TruncatedExponential(330, 80, 1500)
