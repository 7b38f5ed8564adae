"""`mergememo.Digests.feed` given cells that also hold their columns as arrays (`ArrayCells`,
such as the merge's `_FrameCells`): a school's rows that run on are read from the array's slice.
The digests, counts and `ok` equal those of the same cells given as lists only, on random
columns and rows: runs, single rows, rows out of order or repeated, schools with no rows, runs
past the column's end or at negative positions (as a list's slice reads them), cells holding
the separator, non-ASCII text and lone surrogates, columns the cells give only as lists."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from gsync import merge, mergememo


class _Lists:
    def __init__(self, columns: dict[str, list[str]]) -> None:
        self.columns = columns

    def column(self, key: str) -> list[str]:
        return self.columns[key]


class _Arrays(_Lists):
    def __init__(self, columns: dict[str, list[str]], listed: frozenset[str]) -> None:
        super().__init__(columns)
        self.listed = listed  # given only as lists
        self.asked: list[str] = []

    def array(self, key: str) -> np.ndarray | None:
        if key in self.listed:
            return None
        self.asked.append(key)
        out = np.empty(len(self.columns[key]), dtype=object)
        out[:] = self.columns[key]
        return out


def _same(
    columns: dict[str, list[str]], rows: dict[str, list[int]], listed: frozenset[str]
) -> None:
    keys = sorted(columns)
    new, old = mergememo.Digests(), mergememo.Digests()
    arrays = _Arrays(columns, listed)
    assert isinstance(arrays, mergememo.ArrayCells)
    assert not isinstance(_Lists(columns), mergememo.ArrayCells)
    new.feed(arrays, keys, rows)
    old.feed(_Lists(columns), keys, rows)
    assert new.ok == old.ok
    assert new.counts == old.counts
    assert new.columns.keys() == old.columns.keys()
    for k, h in old.columns.items():
        assert new.columns[k].digest() == h.digest(), k
    for school in rows:
        assert new.summary(school, keys) == old.summary(school, keys)


_CELL = st.lists(st.sampled_from(["a", "b", "\x1f", "é", "\ud800", " ", "xyz"]), max_size=3).map(
    "".join
)


@settings(max_examples=300, deadline=None)
@given(
    n=st.integers(0, 12),
    cells=st.lists(_CELL, min_size=24, max_size=24),
    rows=st.dictionaries(
        st.sampled_from("xyzw"),
        st.one_of(
            st.lists(st.integers(-3, 14), max_size=6),
            st.tuples(st.integers(-4, 14), st.integers(0, 8)).map(
                lambda t: list(range(t[0], t[0] + t[1]))
            ),
        ),
        max_size=4,
    ),
    listed=st.sets(st.sampled_from("ab")),
)
def test_feed_of_array_cells_equals_feed_of_lists(
    n: int, cells: list[str], rows: dict[str, list[int]], listed: set[str]
) -> None:
    columns = {"a": cells[:n], "b": cells[12 : 12 + n]}
    ok_rows = {
        s: p
        for s, p in rows.items()
        # a list's item outside the column raises (as it did): such rows are not given
        if all(-n <= i < n for i in p) or (len(p) > 1 and np.all(np.diff(p) == 1))
    }
    _same(columns, ok_rows, frozenset(listed))


def test_feed_reads_runs_from_the_arrays() -> None:
    columns = {"a": [f"{i}" for i in range(10)]}
    arrays = _Arrays(columns, frozenset())
    digests = mergememo.Digests()
    digests.feed(arrays, ["a"], {"x": [0, 1, 2], "y": [3, 5], "z": []})
    assert arrays.asked == ["a"]
    _same(columns, {"x": [0, 1, 2], "y": [3, 5], "z": [], "w": [9, 10, 11]}, frozenset())


def test_frame_cells_give_the_frames_columns() -> None:
    frame = pd.DataFrame({"a": ["1", "2"], "b": ["x", ""]}, dtype=object)
    cells = merge._FrameCells(frame)
    assert isinstance(cells, mergememo.ArrayCells)
    got = cells.array("a")
    assert got is not None and got.tolist() == cells.column("a") == ["1", "2"]
    assert cells.array("nope") is None and cells.column("nope") == ["", ""]
