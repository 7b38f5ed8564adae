"""disclosure._pinned_columns (sparse rows, the dense elimination's float operations) against the
frozen dense elimination: the same pinned columns, ties in the pivot search, rows swapped,
entries below the thresholds (1e-12 touched, 1e-9 pivot, 1e-7 pinned) and fractions included."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from gsync import disclosure
from tests.unit import _reference_disclosure as ref

VALUES = [-2.0, -1.0, 1.0, 2.0, 0.5, -1.0 / 3.0, 3.0, 1e-13, 5e-10, 5e-8, 1e-6, -7.0]


@settings(max_examples=600, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    rows=st.integers(1, 30),
    cols=st.integers(1, 30),
    density=st.sampled_from([0.05, 0.15, 0.4, 0.9]),
    values=st.sampled_from([VALUES[:4], VALUES, [1.0, -1.0], VALUES[4:]]),
)
def test_pinned_columns_identical_to_the_dense_elimination(
    seed: int, rows: int, cols: int, density: float, values: list[float]
) -> None:
    rng = np.random.default_rng(seed)
    a = rng.choice(values, size=(rows, cols))
    a *= rng.random((rows, cols)) < density
    if rows > 3:
        a[rows // 2] = a[0]  # a repeated equation
        a[rows - 1] = a[0] - a[1]  # a dependent one
        a[1] *= 0.0  # a row of zeros
    assert disclosure._pinned_columns(a) == ref._pinned_columns(a)


def test_pinned_columns_on_equation_like_systems() -> None:
    """Totals and parts (1 and -1 per row, each cell in a few rows), as the suppression's
    components are, many rows sharing the largest magnitude (ties in the pivot search)."""
    rng = np.random.default_rng(7)
    for _ in range(300):
        rows, cols = int(rng.integers(2, 40)), int(rng.integers(2, 30))
        a = np.zeros((rows, cols))
        for i in range(rows):
            members = rng.choice(cols, size=min(cols, int(rng.integers(2, 6))), replace=False)
            a[i, members[0]] += 1.0
            a[i, members[1:]] -= 1.0
        assert disclosure._pinned_columns(a) == ref._pinned_columns(a)


def test_pinned_columns_small_cases() -> None:
    assert disclosure._pinned_columns(np.eye(3)) == [0, 1, 2]
    assert disclosure._pinned_columns(np.array([[1.0, -1.0]])) == []
    assert disclosure._pinned_columns(np.array([[1.0, -1.0], [0.0, 1.0]])) == [0, 1]
    assert disclosure._pinned_columns(np.zeros((2, 3))) == []
    assert disclosure._pinned_columns(np.zeros((0, 2))) == []
    assert disclosure._pinned_columns(np.array([[1.0, -1.0, 0.0], [0.0, 0.0, 2.0]])) == [2]
