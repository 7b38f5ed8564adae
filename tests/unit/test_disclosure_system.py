"""`disclosure._System` reads each cell's equations and each equation's members from its arrays
when asked: `where(k)` lists the equations holding k in ascending order, once per time k appears
in one; `members(e)` is the equation's cells, its total first; for cell numbers that fit 16 bits
(the sort numpy does by radix) and larger ones."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from gsync import disclosure


def _system(
    eqs: list[list[int]], n_cells: int
) -> tuple[disclosure._System, np.ndarray, np.ndarray]:
    ptr = np.zeros(len(eqs) + 1, dtype=np.int64)
    np.cumsum([len(e) for e in eqs], out=ptr[1:])
    members = np.array([m for e in eqs for m in e], dtype=np.int64)
    return disclosure._System(ptr, members, n_cells), ptr, members


@settings(max_examples=200, deadline=None)
@given(
    eqs=st.lists(st.lists(st.integers(0, 40), min_size=1, max_size=6), max_size=12),
    big=st.sampled_from([0, 65_400, 65_536, 200_000]),
)
def test_where_and_members_are_the_equations(eqs: list[list[int]], big: int) -> None:
    eqs = [[m + big if m % 3 == 0 else m for m in e] for e in eqs]  # some cells past 16 bits
    n_cells = max([m for e in eqs for m in e], default=0) + 1
    system, _ptr, _members = _system(eqs, n_cells)
    for k in {m for e in eqs for m in e} | {0, n_cells - 1}:
        want = [i for i, e in enumerate(eqs) for m in e if m == k]
        got = system.where(k)
        assert got == want and all(type(i) is int for i in got)
    for i, e in enumerate(eqs):
        assert system.members(i) == e


def test_hide_counts_and_components_across_16_bits() -> None:
    eqs = [[70_000, 5, 65_535], [5, 65_536], [70_000, 65_536]]
    system, _ptr, _members = _system(eqs, 70_001)
    assert system.hide(5) == [0, 1]
    assert system.hide(65_536) == [2]
    assert system.count == [1, 2, 1]
    assert system.determined() == {5, 65_536}
