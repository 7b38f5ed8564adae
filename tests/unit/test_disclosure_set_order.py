"""`disclosure._Cells.in_set_order` (the set of every key's order read once, as cell numbers)
picks the same cells in the same order as the frozen walk of the set per call
(`_reference_cells`), on ragged tables hypothesis builds and texts present, absent or mixed,
each cells object asked several times (the order is kept between calls)."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gsync import disclosure
from gsync.disclosure import KEY_COLUMNS
from tests.unit import _reference_cells as ref
from tests.unit.test_disclosure_cells import _frame, rows_st

NAMES = ("school", "cohort", "entry", "group", "category")


def _cells(rows: list[tuple[Any, ...]]) -> disclosure._Cells:
    table = _frame(rows)
    return disclosure._Cells({k: [str(v) for v in table[k].tolist()] for k in KEY_COLUMNS})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=rows_st(), asks=st.lists(st.tuples(st.integers(0, 4), st.data()), max_size=6))
def test_in_set_order_identical(
    rows: list[tuple[Any, ...]], asks: list[tuple[int, st.DataObject]]
) -> None:
    fast, frozen = _cells(rows), _cells(rows)
    for column, data in asks:
        present = fast.ranks[NAMES[column]][1]
        texts = data.draw(
            st.sets(st.sampled_from([*present, "missing", "Trust", "a", ""]), max_size=4)
        )
        got, want = fast.in_set_order(column, texts), ref.in_set_order(frozen, column, texts)
        assert got.dtype == want.dtype == np.int64
        assert got.tolist() == want.tolist()


def test_in_set_order_of_no_rows() -> None:
    cells = _cells([])
    assert cells.in_set_order(0, {"Trust"}).tolist() == []
