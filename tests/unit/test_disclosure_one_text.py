"""disclosure._distinct_texts / _column_norms with a column of one text throughout (found by
`list.count`, without hashing each cell): the texts of `column.dropna().astype(str)` and the
frozen checker's breaches, whatever else hides among the cells (a missing cell, a number, a
str subclass, an array, pd.NA) and wherever (in the few cells looked at first or not)."""

from __future__ import annotations

from dataclasses import astuple
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from gsync import disclosure
from gsync.disclosure import TABLE_COLUMNS, TOTAL
from tests.unit import _reference_disclosure as ref

ODD: list[Any] = [
    None,
    float("nan"),
    pd.NA,
    1,
    1.0,
    True,
    np.str_("x"),
    np.str_(""),
    " x",
    "X",
    "",
    "x",
    np.array([1, 2]),
    (1,),
]


def _expected(column: pd.Series) -> set[str]:
    return set(column.dropna().astype(str).tolist())


@settings(max_examples=400, deadline=None)
@given(
    first=st.sampled_from(["", "x", " x ", "Σ"]),
    n=st.integers(1, 400),
    odd=st.lists(st.tuples(st.integers(0, 399), st.sampled_from(range(len(ODD)))), max_size=3),
)
def test_distinct_texts_of_mostly_one_text(first: str, n: int, odd: list[tuple[int, int]]) -> None:
    cells: list[Any] = [first] * n
    for at, which in odd:
        cells[at % n] = ODD[which]
    column = pd.Series(cells, dtype=object)
    try:
        want = _expected(column)
    except TypeError:  # (an array among the cells: astype(str) of it works, dropna may not)
        return
    assert disclosure._distinct_texts(column) == want
    assert set(disclosure._column_norms(column)) == {disclosure._norm(t) for t in want}


def test_one_text_cases() -> None:
    assert disclosure._one_text([]) is None
    assert disclosure._one_text([""] * 5000) == ""
    assert disclosure._one_text(["x", np.str_("x"), "x"]) == "x"
    assert disclosure._one_text([np.str_("x"), "x"]) is None  # not a `str` first
    many: list[Any] = ["a"] * 5000
    many[4999] = "b"  # past every cell looked at first
    assert disclosure._one_text(many) is None
    many[4999] = pd.NA
    assert disclosure._one_text(many) is None
    many[4999] = np.array([1, 2])
    assert disclosure._one_text(many) is None
    many[4999] = None
    assert disclosure._one_text(many) is None
    assert disclosure._distinct_texts(pd.Series(many, dtype=object)) == {"a"}


def test_checker_identical_with_blank_and_constant_columns() -> None:
    n = 3000
    pupils = pd.DataFrame(
        {
            "upn": [f"A{i:012d}" for i in range(n)],
            "notes": ["Gap year"] * n,
            "intended_other": [""] * (n - 1) + ["Army"],
            "y1_summer_course": [""] * (n - 1) + [None],
            "legal_surname": ["Lee"] * n,
        },
        dtype=object,
    )
    rows = [
        ["S", "2026 Y11", "intended", "all", "All pupils", TOTAL, 10, 100.0],
        ["S", "2026 Y11", "intended", "all", "All pupils", "Gap year", 10, 100.0],
        ["S", "2026 Y11", "intended", "all", "All pupils", "Army", 10, 100.0],
        ["S", "2026 Y11", "intended", "all", "Lee", "A000000000007", 10, 100.0],
    ]
    tables = {"t": pd.DataFrame(rows, columns=TABLE_COLUMNS)}
    mine = disclosure.check_disclosure(tables, disclosure.load_policy(), pupils)
    theirs = ref.check_disclosure(tables, ref.load_policy(), pupils)
    assert [astuple(b) for b in mine] == [astuple(b) for b in theirs]
    assert {b.kind for b in mine} >= {"identifying_value"}
