"""`merge._Table.frame` (its cells put in as blocks: the appended rows row by row, the cells
written per set of cells) equals the frame built cell by cell from `_Table.get`.

Random tables: columns the tab has or not, rows written in random sets of cells in random
orders (cells outside the tab's columns, none at all, the school), whole rows taken by `row`
and written into, rows appended with missing or extra cells and then written.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from gsync import merge
from tests.unit.test_core_equivalence import TEMPLATE

TAB = TEMPLATE.tab("exceptions")
KEYS = [*TAB.keys, "extra", "nowhere"]
TEXTS = st.sampled_from(["", "a", "b", "Ä", "x y", "\x1f", "S", "T"])


def _by_cells(table: merge._Table) -> pd.DataFrame:
    expected = [[table.get(i, c) for c in table.columns] for i in range(len(table))]
    array = np.empty((len(expected), len(table.columns)), dtype=object)
    for i, row in enumerate(expected):
        for j, cell in enumerate(row):
            array[i, j] = cell
    return pd.DataFrame(array, columns=table.columns, dtype=object)


_WRITE = st.tuples(
    st.sampled_from(["update", "write", "row", "append"]),
    st.integers(0, 40),
    st.lists(st.tuples(st.sampled_from(KEYS), TEXTS), max_size=6),
)


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(0, 8),
    present=st.lists(st.sampled_from(KEYS[:-1]), unique=True, max_size=len(KEYS) - 1),
    writes=st.lists(_WRITE, max_size=25),
)
def test_frame_equals_the_cells(
    n: int, present: list[str], writes: list[tuple[str, int, list[tuple[str, str]]]]
) -> None:
    frame = pd.DataFrame({c: [f"{c}{i}" for i in range(n)] for c in present}, dtype=object)
    if not present:
        frame = pd.DataFrame(index=range(n))
    table = merge._Table(frame, TAB)
    for kind, at, cells in writes:
        values = dict(cells)
        if kind == "append" or not len(table):
            table.append({**values, "school": values.get("school", "S")})
            continue
        i = at % len(table)
        if kind == "update":
            table.update(i, values)
        elif kind == "write":
            values.pop("school", None)
            table.write(i, values)
        else:
            table.row(i).update(values)
    got = table.frame()
    pd.testing.assert_frame_equal(got, _by_cells(table))
    assert all(type(cell) is str for cell in got.to_numpy().ravel().tolist())


def test_cell_block_keeps_sequences_whole() -> None:
    """A cell that is itself a sequence stays one element (as the column-wise copy kept it)."""
    rows = [{"a": "xy", "b": ("p", "q")}, {"a": "", "b": "z"}]
    block = merge._cell_block(rows, ("b", "a"))
    assert block.shape == (2, 2)
    assert block[0, 0] == ("p", "q") and block[0, 1] == "xy" and block[1, 0] == "z"
    one = merge._cell_block(rows, ("a",))
    assert one.shape == (2, 1) and one[:, 0].tolist() == ["xy", ""]
    ordered = merge._cell_block(rows, ("a", "b"), in_order=True)
    assert ordered.tolist() == [["xy", ("p", "q")], ["", "z"]]


def test_small_pages_puts_numpy_advice_back() -> None:
    """`_small_pages` turns numpy's huge-page advice off meanwhile and puts it back as it
    was, also when the block inside raises."""
    setter = merge._MADVISE
    assert setter is not None  # numpy >= 1.26 has the switch
    original = setter(True)
    try:
        for was in (True, False):
            setter(was)
            with merge._small_pages():
                assert setter(False) is False
            assert setter(was) is was
            try:
                with merge._small_pages():
                    raise KeyError("x")
            except KeyError:
                pass
            assert setter(was) is was
    finally:
        setter(original)
