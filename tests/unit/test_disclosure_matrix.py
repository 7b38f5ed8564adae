"""`disclosure._System._matrix` gives a component's matrix as its non-zero entries (`Entries`),
never built dense: the same entries as the dense matrix the solver used to build (np.add.at of
each hidden member's sign), members repeated within an equation (summing, or cancelling to 0)
and a total among its own parts included; and the memo keys the two alike."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from gsync import disclosure


def _dense(system: disclosure._System, cells: list[int], eq_rows: list[int]) -> np.ndarray:
    """The matrix as `_System._matrix` built it before (frozen here)."""
    column = {k: i for i, k in enumerate(cells)}
    a = np.zeros((len(eq_rows), len(cells)))
    for r, e in enumerate(eq_rows):
        members = system.members(e)
        for place, k in enumerate(members):
            if k in system.hidden:
                np.add.at(a, (r, column[k]), 1.0 if place == 0 else -1.0)
    return a


@settings(max_examples=400, deadline=None)
@given(
    n_cells=st.integers(1, 12),
    data=st.data(),
)
def test_matrix_entries_are_the_dense_matrix(n_cells: int, data: st.DataObject) -> None:
    eqs = data.draw(
        st.lists(st.lists(st.integers(0, n_cells - 1), min_size=1, max_size=6), max_size=10)
    )
    ptr = np.zeros(len(eqs) + 1, dtype=np.int64)
    np.cumsum([len(e) for e in eqs], out=ptr[1:])
    members = np.array([k for e in eqs for k in e], dtype=np.int64)
    system = disclosure._System(ptr, members, n_cells)
    for k in data.draw(st.sets(st.integers(0, n_cells - 1))):
        system.hide(k)
    cells = sorted(system.hidden)
    if not cells:
        return
    eq_rows = sorted({e for k in cells for e in system.where(k)})
    got = system._matrix(cells, eq_rows)
    dense = _dense(system, cells, eq_rows)
    want = disclosure._entries(dense)
    assert got[0] == want[0] == dense.shape
    for a, b in zip(got[1:], want[1:], strict=True):
        assert a.dtype == b.dtype
        assert np.array_equal(a, b)
    assert disclosure._pinned_of_entries(got) == disclosure._pinned_columns(dense)
    disclosure._PINNED_MEMO.clear()
    first = disclosure._pinned_remembered_entries(got)
    assert disclosure._pinned_remembered(dense) == first
    assert len(disclosure._PINNED_MEMO) == 1  # the dense matrix found the entries' answer


def test_repeated_members_sum_or_cancel() -> None:
    # Equation 0: cell 0 is the total and a part (cancels); cell 1 a part twice (-2).
    # Equation 1: cell 2 the total, cell 1 a part.
    ptr = np.array([0, 4, 6], dtype=np.int64)
    members = np.array([0, 0, 1, 1, 2, 1], dtype=np.int64)
    system = disclosure._System(ptr, members, 3)
    for k in (0, 1, 2):
        system.hide(k)
    shape, rows, cols, values = system._matrix([0, 1, 2], [0, 1])
    assert shape == (2, 3)
    assert rows.tolist() == [0, 1, 1]
    assert cols.tolist() == [1, 1, 2]
    assert values.tolist() == [-2.0, -1.0, 1.0]
