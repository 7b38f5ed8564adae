"""`disclosure._published_columns` (each group's base once, percentages divided at once and each
distinct one rounded once) gives the cells the row-by-row way gives, and `apply_suppression` the
frozen code's table (`_reference_disclosure`): hidden cells and bases, empty and missing bases,
small percentages, every rounding, repeated keys and counts past int64 (row by row), no rows."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gsync import disclosure
from gsync.disclosure import KEY_COLUMNS, TABLE_COLUMNS, TOTAL
from tests.unit import _reference_disclosure as ref
from tests.unit.test_disclosure_fast import random_table

POLICY = disclosure.load_policy()


def _typed(values: Any) -> list[tuple[type, Any]]:
    return [(type(v), v) for v in list(values)]


keys_st = st.lists(
    st.tuples(
        st.sampled_from(["S1", "S2"]),
        st.sampled_from(["2026 Y11"]),
        st.sampled_from(["intended", "actual"]),
        st.sampled_from(["All pupils", "SEND"]),
        st.sampled_from([TOTAL, "a", "b", "c"]),
    ),
    max_size=30,
)


@settings(max_examples=150, deadline=None)
@given(
    keys=keys_st,
    values=st.lists(st.integers(-2, 400), min_size=30, max_size=30),
    hide=st.lists(st.booleans(), min_size=30, max_size=30),
    decimals=st.integers(0, 3),
    huge=st.booleans(),
)
def test_published_cells_are_those_row_by_row(
    keys: list[tuple[str, str, str, str, str]],
    values: list[int],
    hide: list[bool],
    decimals: int,
    huge: bool,
) -> None:
    counts = {k: values[i] for i, k in enumerate(keys)}
    if huge and counts:
        counts[keys[0]] = 2**70
    hidden = {k for i, k in enumerate(keys) if hide[i]}
    policy = POLICY.model_copy(update={"percent_decimals": decimals})
    columns = {
        name: [k[i] for k in keys]
        for i, name in enumerate(("school", "cohort", "entry", "group", "category"))
    }
    want = disclosure._published_cells_by_row(keys, counts, hidden, policy)
    # As apply_suppression calls it: each distinct cell's count and whether it is hidden.
    cells = disclosure._Cells(columns)
    shut = np.array([k in hidden for k in cells.keys], dtype=bool)
    try:
        n = np.array([counts[k] for k in cells.keys], dtype=np.int64)
    except OverflowError:
        got = None  # apply_suppression's counts are then Python ints: row by row
    else:
        got = disclosure._published_columns(cells, n, shut, policy)
    if got is None:  # repeated keys, a count past int64 or no rows: row by row
        assert len(set(keys)) < len(keys) or huge or not keys
        return
    assert _typed(got[0]) == _typed(want[0])
    assert _typed(got[1]) == _typed(want[1])


@pytest.mark.parametrize("seed", range(25))
def test_apply_suppression_identical_with_repeats_and_odd_counts(seed: int) -> None:
    rng = random.Random(seed)
    table = random_table(rng)
    if seed % 3 == 1:  # a repeated key
        table = pd.concat([table, table.iloc[[3, 7]]], ignore_index=True)
    if seed % 3 == 2:  # small counts to hide, and a small percentage to write as its symbol
        table.loc[table.index[::5], "count"] = [rng.choice([0, 1, 2, 7]) for _ in table.index[::5]]
        table.loc[len(table)] = ["S", "2026 Y11", "e", "all", "All pupils", TOTAL, 100000, 100.0]
        table.loc[len(table)] = ["S", "2026 Y11", "e", "all", "All pupils", "a", 40, 0.0]
    for decimals in (0, 1, 3):
        policy = POLICY.model_copy(update={"percent_decimals": decimals})
        ref_policy = ref.load_policy().model_copy(update={"percent_decimals": decimals})
        got = disclosure.apply_suppression(table, policy)
        want = ref.apply_suppression(table, ref_policy)
        assert [str(t) for t in got.dtypes] == [str(t) for t in want.dtypes]
        for c in TABLE_COLUMNS:
            assert _typed(got[c]) == _typed(want[c]), c
    assert list(KEY_COLUMNS) == TABLE_COLUMNS[:6]


def test_apply_suppression_of_no_rows() -> None:
    empty = pd.DataFrame({c: pd.Series([], dtype=object) for c in TABLE_COLUMNS})
    got = disclosure.apply_suppression(empty, POLICY)
    want = ref.apply_suppression(empty, ref.load_policy())
    assert got.shape == want.shape and list(got.dtypes) == list(want.dtypes)
    assert np.array_equal(got.columns, want.columns)
