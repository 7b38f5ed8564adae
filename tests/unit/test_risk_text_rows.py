"""`risk._texts` / `risk._code` at rows whose cells are all text (`_stripped`, `_text_codes`):
read without deciding the whole column's way, and the same texts (and codes) as the whole
column's way gives, whether the other cells are text, blanks, numbers or numpy text; and the
texts each cell has as the frozen P4 code's `_text`. `_code` of a whole column of text too.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gsync import risk
from tests.unit._reference_p4 import risk as ref_risk

TEXTS = ["", " ", "a", "a ", " a", "b", "Level 2", " Level 2 ", "2", "1.0", "x y"]
LOOSE: list[Any] = [None, float("nan"), pd.NA, pd.NaT, 1, 1.0, 2.5, True, np.int64(2), np.str_(" a ")]  # fmt: skip


def _by_kind(series: pd.Series, rows: np.ndarray) -> tuple[list[str], risk._Coded]:
    """`_texts` and `_code` at `rows` the way chosen on the whole column (`_kind`), as before."""
    saved = risk._stripped, risk._text_codes
    risk._stripped = lambda cells: None
    risk._text_codes = lambda values: None
    try:
        return risk._texts(series, rows), risk._code(series, rows)
    finally:
        risk._stripped, risk._text_codes = saved


@st.composite
def columns(draw: st.DrawFn) -> tuple[pd.Series, np.ndarray]:
    cells = draw(
        st.lists(st.one_of(st.sampled_from(TEXTS), st.sampled_from(LOOSE)), min_size=1, max_size=30)
    )
    series = pd.Series(cells, dtype=object)
    rows = draw(st.lists(st.integers(0, len(cells) - 1), max_size=12))
    if draw(st.booleans()):  # rows of text only, in a column that may hold anything else
        texts = [i for i, v in enumerate(cells) if isinstance(v, str)]
        rows = [texts[i % len(texts)] for i in rows] if texts else []
    return series, np.array(rows, dtype=np.int64)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(columns())
@example((pd.Series([1, " a ", "a"], dtype=object), np.array([1, 2])))
@example((pd.Series([None, " a ", "b"], dtype=object), np.array([2, 1])))
@example((pd.Series([np.str_(" p "), "p", 2.0], dtype=object), np.array([0, 1])))
def test_text_rows_read_as_the_whole_column_reads_them(case: tuple[pd.Series, np.ndarray]) -> None:
    series, rows = case
    want_texts, (want_codes, want_distinct) = _by_kind(series, rows)
    texts = risk._texts(series, rows)
    codes, distinct = risk._code(series, rows)
    assert texts == want_texts
    assert codes.tolist() == want_codes.tolist()
    # A column read cell by cell lists only the texts found; text rows add "" last, never used.
    assert distinct == want_distinct or (distinct == [*want_distinct, ""] and "" not in texts)
    assert [distinct[c] for c in codes.tolist()] == texts
    if all(isinstance(v, str) for v in series.iloc[rows]):
        assert texts == [ref_risk._text(v) for v in series.iloc[rows]]
    whole = risk._texts(series)
    assert texts == [whole[i] for i in rows.tolist()]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(columns())
@example((pd.Series([" a ", "a", "b"], dtype=object), np.array([], dtype=np.int64)))
@example((pd.Series([None, "a"], dtype=object), np.array([], dtype=np.int64)))
@example((pd.Series([], dtype=object), np.array([], dtype=np.int64)))
def test_a_whole_column_codes_as_its_kind_reads_it(case: tuple[pd.Series, np.ndarray]) -> None:
    """`_code` of a whole column (text only: read without `_kind`) as `_kind`'s way: the same
    codes and distinct texts."""
    series = case[0]
    saved = risk._text_codes
    risk._text_codes = lambda values: None
    try:
        want_codes, want_distinct = risk._code(series)
    finally:
        risk._text_codes = saved
    codes, distinct = risk._code(series)
    assert codes.tolist() == want_codes.tolist()
    assert distinct == want_distinct
