"""`deadlines._filled` and `_distinct_texts` read only the cells that matter when those are all
str (every cell of a destination column but "" a str; the cells at the rows with a destination
of the other columns), without a pass over the whole column: the same completion and Deadlines
counts as the frozen P4 code (tests/unit/_reference_p4/deadlines.py) on frames with few
destinations, whose other cells are text, blanks (None, NaN, pd.NA) or odd (numbers, dates,
numpy text), in the rows read or elsewhere only."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gsync import deadlines
from tests.unit._reference_p4 import deadlines as ref_deadlines
from tests.unit.test_deadlines_counts import (
    BLANKS,
    FIELDS,
    KEYS,
    ODD,
    RULES,
    TEXT,
    _status,
    na_as_blank,
)

AS_OF = [dt.date(2026, 6, 1), dt.date(2026, 9, 10)]


@st.composite
def sparse_frame(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(2, 40))
    data: dict[str, list[Any]] = {
        "school": draw(st.lists(st.sampled_from(["S1", "S2"]), min_size=n, max_size=n)),
        "leaving_year": draw(st.lists(st.sampled_from(["2026", "2025"]), min_size=n, max_size=n)),
        "phase": ["Y11"] * n,
    }
    for key in KEYS:
        for field in FIELDS:
            cells: list[Any] = [""] * n
            # A few rows with something; elsewhere "" or, now and then, an odd cell or a blank.
            for at in draw(st.lists(st.integers(0, n - 1), max_size=4)):
                cells[at] = draw(st.sampled_from([*TEXT[field][1:], " "]))
            if draw(st.integers(0, 3)) == 0:
                odd = draw(st.sampled_from(BLANKS + ODD))
                cells[draw(st.integers(0, n - 1))] = odd
            data[f"{key}_{field}"] = cells
    return pd.DataFrame(data, dtype=object)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dest=sparse_frame(), as_of=st.sampled_from(AS_OF))
def test_completion_on_sparse_frames_equals_p4(dest: pd.DataFrame, as_of: dt.date) -> None:
    old = na_as_blank(dest)
    for key in KEYS:
        rule = RULES.rule(key)
        got = deadlines.completion_vector(dest, rule, as_of)
        want = ref_deadlines.completion_vector(old, rule, as_of)
        assert got[0].tolist() == want[0].tolist() and got[1].tolist() == want[1].tolist()
    assert _status(deadlines, dest, as_of) == _status(ref_deadlines, old, as_of)


def test_filled_reads_only_the_cells_not_blank() -> None:
    frame = pd.DataFrame(
        {
            "a": ["", " ", "College", "", np.str_(" Job")],
            "b": ["", 3, "College", "", ""],  # a number: read whole, cell by cell (None)
            "c": ["", "", "", "", ""],
            "d": [None, "College", "", " ", float("nan")],  # blanks: read whole as text
            "e": ["", np.array([1, 2]), "x", "", ""],  # an array: cannot compare, read whole
        },
        dtype=object,
    )
    assert deadlines._filled(frame, "a").tolist() == [2, 4]  # type: ignore[union-attr]
    assert deadlines._filled(frame, "b") is None
    assert deadlines._filled(frame, "c").tolist() == []  # type: ignore[union-attr]
    assert deadlines._filled(frame, "d").tolist() == [1]  # type: ignore[union-attr]
    assert deadlines._filled(frame, "e") is None
    assert deadlines._filled(frame.iloc[:0], "a").tolist() == []  # type: ignore[union-attr]


def test_distinct_texts_at_rows_of_text_in_a_column_that_is_not() -> None:
    """Rows of str cells in a column read cell by cell elsewhere (a number, a date): each
    row's text is its cell stripped either way."""
    frame = pd.DataFrame(
        {"r": [3, " 2026-01-01 ", "2026-01-01", dt.date(2026, 1, 2), np.str_(" y"), None]},
        dtype=object,
    )
    for rows in ([1, 2], [1, 4], [4], [0, 1], [3, 5], [0, 1, 2, 3, 4, 5]):
        at = np.array(rows, dtype=np.int64)
        codes, texts = deadlines._distinct_texts(frame, "r", at)
        whole_codes, whole_texts = deadlines._distinct_texts(frame, "r")
        assert texts[codes].tolist() == whole_texts[whole_codes][at].tolist()
