"""The Summary tabs' rows: `_cells` keeps a list of plain texts and numbers as it is and
converts anything else as `_cell` does; `_rows_by_school` groups the rows by school in table
order as one row at a time did, whether a school's rows come together or not."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from gsync import summary
from gsync.disclosure import TABLE_COLUMNS

values_st = st.lists(
    st.one_of(
        st.text(max_size=3),
        st.integers(-5, 5),
        st.floats(allow_nan=True),
        st.booleans(),
        st.none(),
        st.integers(-5, 5).map(np.int64),
        st.floats(-5, 5).map(np.float64),
    ),
    max_size=30,
)


def _typed(values: list[Any]) -> list[tuple[type, str]]:
    return [(type(v), repr(v)) for v in values]


@settings(max_examples=300, deadline=None)
@given(values=values_st)
def test_cells_are_each_cell(values: list[Any]) -> None:
    assert _typed(summary._cells(list(values))) == _typed([summary._cell(v) for v in values])


def _one_at_a_time(tables: dict[str, pd.DataFrame]) -> dict[Any, list[list[Any]]]:
    bodies: dict[Any, list[list[Any]]] = {}
    for kind, table in tables.items():
        columns = [[summary._cell(v) for v in table[c].tolist()] for c in TABLE_COLUMNS]
        for school, *cells in zip(table["school"].tolist(), *columns, strict=True):
            bodies.setdefault(school, []).append([kind, *cells])
    return bodies


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 10**6), shuffle=st.booleans(), odd=st.booleans())
def test_rows_by_school_as_one_at_a_time(seed: int, shuffle: bool, odd: bool) -> None:
    rng = random.Random(seed)
    tables: dict[str, pd.DataFrame] = {}
    for kind in ("a", "b", "c")[: rng.randint(1, 3)]:
        schools = sorted(rng.choice(["S1", "S2", "S3", "Trust"]) for _ in range(rng.randint(0, 12)))
        if shuffle:
            rng.shuffle(schools)
        rows = [
            [s, "2026 Y11", "intended", "all", "All pupils", "x", rng.choice([1, "c"]), 1.5]
            for s in schools
        ]
        table = pd.DataFrame(rows, columns=TABLE_COLUMNS).astype({"count": object})
        if odd and len(table):
            table["percent"] = table["percent"].astype(object)
            table.loc[0, "percent"] = np.float64(2.5)  # not a plain float: converted
            table.loc[len(table) - 1, "count"] = True
        tables[kind] = table
    got = summary._rows_by_school(tables)
    want = _one_at_a_time(tables)
    assert list(got) == list(want)
    assert {k: [_typed(r) for r in v] for k, v in got.items()} == {
        k: [_typed(r) for r in v] for k, v in want.items()
    }
