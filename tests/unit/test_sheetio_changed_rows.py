"""`sheetio._changed_rows`'s row-at-a-time comparison of derived tabs (cells exactly str, int or
float, numbers shown as `_Shown` texts) against the frozen reference (`_reference_sheetio`, the code
before issue 7) and the live `_rows_equal`: the same rows found changed, on tabs of plain cells
whose reads show the numbers as the sheet may (or not), with bools, NaN, inf, huge ints, negative
and integral floats, "1,234" and rows a cell "" longer or shorter than the row read.
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from gsync import sheetio as new_io
from tests.unit import _reference_sheetio as ref_io
from tests.unit.test_sheetio_equivalence import SETTINGS
from tests.unit.test_sheetio_frames_fast import _outcome

TEXTS = ["", "a", "c", "~", "0", "1", "-1", "1,234", "1234", "TRUE", "nan", "inf", "12.5"]
NUMBERS: list[Any] = [0, 1, -1, 12, -12, 1234, 2**53 + 1, 10**20, 10**299, 10**301, -(10**400), 0.0, -0.0, 1.0, -1.0, 12.5, -12.5, 0.1, 1e-10, 1e15, 1e16, 1e20, -1e20, 1e300, 1234.0000000001, math.nan, math.inf, -math.inf]  # fmt: skip
#: What a read may show for a number besides `_Shown`'s text (or another cell's text).
VARIANTS = ["1,234", "1234.0", "-0", "0.0", "1E+20", "12.50", "1e+16", "10000000000000000", "x", ""]

plain_cells = st.one_of(
    st.sampled_from(TEXTS),
    st.sampled_from(NUMBERS),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=True, allow_infinity=True),
)
any_cells = st.one_of(plain_cells, st.booleans(), st.none())


def _read(value: Any, how: int) -> str:
    """A read of a cell: `_Shown`'s text, the number as `str`, or a variant."""
    if type(value) is str:
        return value if how else "x"
    if how == 0:
        return VARIANTS[int(abs(hash(value))) % len(VARIANTS)]
    if how == 1:
        return str(value)
    shown = new_io._Shown()[value] if type(value) in (int, float) else str(value)
    return shown if type(shown) is str else str(value)


@st.composite
def tabs(draw: st.DrawFn, cells: st.SearchStrategy[Any]) -> tuple[list[list[str]], list[Any]]:
    rows: list[Any] = draw(st.lists(st.lists(cells, max_size=6), max_size=8))
    grid = []
    for row in rows:
        read = [_read(v, draw(st.sampled_from([0, 1, 2, 2, 2, 2]))) for v in row]
        cut = draw(st.sampled_from(["trim", "trim", "longer", "shorter", "as is"]))
        if cut == "trim":
            read = new_io._trim(read)
        elif cut == "longer":
            read = [*read, draw(st.sampled_from(["", "", "a"]))]
        elif cut == "shorter":
            read = read[:-1]
        grid.append(read)
    if draw(st.booleans()):
        rows = [[*r, *[""] * draw(st.integers(0, 2))] for r in rows]  # a cell "" longer
    grid = grid[: draw(st.integers(0, len(grid) + 1))]
    grid += draw(st.lists(st.lists(st.sampled_from(TEXTS), max_size=3), max_size=2))
    if draw(st.booleans()):
        rows = rows * 2  # the same (text, number) pairs meet again
        grid = grid * 2
    return grid, rows


def _assert_same(grid: list[list[str]], rows: list[Any]) -> None:
    span = range(max(len(grid), len(rows)))

    def changed(mod: Any) -> list[int]:
        return [i for i in span if not mod._rows_equal(grid[i : i + 1] or [[]], rows[i : i + 1] or [[]])]  # fmt: skip

    want, live = _outcome(lambda: changed(ref_io)), _outcome(lambda: changed(new_io))
    got = _outcome(lambda: new_io._changed_rows(grid, rows))
    assert got == want == live, (grid, rows)


@SETTINGS
@given(tabs(plain_cells))
@example(([["12", "0", "90.3", "1,234"]], [[12, 0.0, 90.3, 1234]]))
@example(([["1", "TRUE"]], [[1.0, True]]))
@example(([["a"]], [["a", "", ""]]))
@example(([["a", ""]], [["a"]]))
@example(([["nan", "inf"]], [[math.nan, math.inf]]))
@example(([["0", "-0"]], [[-0.0, 0]]))
@example(([["100000000000000000000", "1e+20"]], [[1e20, 10**20]]))
def test_changed_rows_of_plain_cells(tab: tuple[list[list[str]], list[Any]]) -> None:
    _assert_same(*tab)


@SETTINGS
@given(tabs(any_cells))
@example(([["1", "0"]], [[True, 0]]))
@example(([["1"], ["1"]], [[1], [True]]))
@example(([[""]], [[None]]))
def test_changed_rows_with_bools_and_blanks(tab: tuple[list[list[str]], list[Any]]) -> None:
    """A tab with a bool or None anywhere: not compared as texts (True == 1 would share 1's
    text), each row as `_rows_equal` does."""
    _assert_same(*tab)


@SETTINGS
@given(plain_cells)
def test_a_shown_text_is_the_same_cell(value: Any) -> None:
    """`_Shown` gives a number a text only if the reference's `_same` accepts it for the number,
    and for every int or float equal to it (1 and 1.0 share an entry); a text is itself."""
    shown = new_io._Shown()
    text = shown[value]
    if type(text) is not str:  # equals no text: such a row is compared cell by cell
        assert text is value
        assert (type(value) is float and not math.isfinite(value)) or abs(value) >= 10**300
        return
    if type(value) is str:
        assert text is value
        return
    assert ref_io._same(text, value)
    for twin in (int(value), float(value)) if math.isfinite(value) else ():
        if twin == value and abs(twin) < 1e300:
            assert ref_io._same(shown[twin], twin)
