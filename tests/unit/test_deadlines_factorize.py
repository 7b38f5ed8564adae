"""deadlines reads a column of texts only through pandas' table of texts without `pd.factorize`'s
own check of every cell (`_texts_only`, then `_factorize`): the same codes and distinct texts as
`pd.factorize`, and `_texts_only` exactly where `infer_dtype` (missing cells not skipped) says
"string" (padding, case, non-ASCII, numpy text, a blank, the empty array; None, NaN, pd.NA, a
number)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from gsync import deadlines

TEXTS = ["", " ", "College", "college", " Job ", "é", "2026", np.str_("x"), "a\ud800"]
OTHERS: list[Any] = [None, float("nan"), pd.NA, 3, 2.5]


@settings(max_examples=300, deadline=None)
@given(
    cells=st.lists(st.sampled_from(TEXTS), max_size=30),
    odd=st.lists(st.sampled_from(OTHERS), max_size=2),
    rows=st.lists(st.integers(0, 29), max_size=10),
)
def test_factorize_of_texts_equals_pd_factorize(cells: list[Any], odd: list[Any], rows: list[int]) -> None:  # fmt: skip
    values = np.array([*cells, *odd] if cells or odd else [], dtype=object)
    plain = deadlines._texts_only(values)
    assert plain == (len(values) > 0 and pd.api.types.infer_dtype(values, skipna=False) == "string")
    picked = values[[r for r in rows if r < len(values)]]
    for part in (values, picked):
        codes, uniques = deadlines._factorize(part, plain)
        want_codes, want_uniques = pd.factorize(part)
        assert codes.dtype == want_codes.dtype and codes.tolist() == want_codes.tolist()
        assert type(uniques) is type(want_uniques) and uniques.dtype == want_uniques.dtype
        assert [(type(u), u) for u in uniques.tolist()] == [
            (type(u), u) for u in want_uniques.tolist()
        ]


def test_cell_texts_of_texts_and_of_other_cells() -> None:
    frame = pd.DataFrame(
        {"a": [" College", "", "Job ", " College"], "b": [" College", None, 3, "x"]}, dtype=object
    )
    assert deadlines.cell_texts(frame, "a").tolist() == ["College", "", "Job", "College"]
    assert deadlines.cell_texts(frame, "b").tolist() == ["College", "", "3", "x"]
    assert (
        deadlines._leaving_years(frame.rename(columns={"a": "leaving_year"})).tolist() == [-1] * 4
    )
