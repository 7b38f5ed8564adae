"""`disclosure._rounded_half_up` (the published percentages rounded at once) gives what
`_round_half_up` (Decimal, half up, of each value's repr) gives: ties, the floats next to them,
whole numbers, tiny and huge values, and the values it leaves to `_round_half_up`."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from gsync import disclosure


def _same(values: list[float], decimals: int) -> None:
    got = disclosure._rounded_half_up(np.array(values, dtype=float), decimals)
    want = [disclosure._round_half_up(v, decimals) for v in values]
    assert [repr(g) for g in got] == [repr(w) for w in want]
    assert all(type(g) is float for g in got)


def _near(x: float) -> list[float]:
    return [x, math.nextafter(x, -math.inf), math.nextafter(x, math.inf)]


def test_ties_and_their_neighbours() -> None:
    values = [0.0, 0.49999999999999994, 0.5, 1.5, 2.5, 99.5, 100.0, 5e-324, 1e-300]
    for k in [*range(0, 120), 2**20, 10**9, 10**14, 10**15 - 1]:
        values += _near(k + 0.5) + _near(float(k))
    values = [v for v in values if v >= 0.0]
    _same(values, 0)
    _same(values[:50], 1)
    _same(values[:50], 2)


def test_the_percentages_of_small_counts() -> None:
    n, base = np.meshgrid(np.arange(0, 400), np.arange(1, 400))
    pct = np.unique(100.0 * n.ravel() / base.ravel())
    _same(pct.tolist(), 0)


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.floats(0.0, 1e15, allow_nan=False),
            st.floats(0.0, 200.0, allow_nan=False),
            st.integers(0, 10**6).map(lambda k: k + 0.5),
        ),
        min_size=1,
        max_size=30,
    ),
    st.sampled_from([0, 0, 1, 3]),
)
def test_any_values(values: list[float], decimals: int) -> None:
    _same(values, decimals)


def test_values_left_to_decimal() -> None:
    """-0.0, negatives, 1e15 and past it, and no values: each as `_round_half_up` gives it (or
    fails as it fails)."""
    _same([-0.0, 1.0], 0)
    _same([-2.5, -0.5, 3.5], 0)
    _same([1e15, 0.5], 0)
    _same([1e15 + 0.5, 2.5], 0)
    assert disclosure._rounded_half_up(np.zeros(0), 0) == []
    nan = disclosure._rounded_half_up(np.array([math.nan, 1.5]), 0)
    assert math.isnan(nan[0]) and nan[1] == 2.0
