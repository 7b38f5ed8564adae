"""`summary._chart_entry` reads each entry's distinct destinations from the numbering the summary
tables already made (`_Pupils.text_codes`); it picks the entry the frozen code picks reading
every cell (tests/unit/_reference_summary.py): blanks, NaN / None, padded and unknown labels,
numbers, missing columns, one pupil."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from gsync import summary
from gsync.taxonomy import load_taxonomy
from tests.unit import _reference_summary as ref

TAX = load_taxonomy()
CELLS: list[Any] = ["", " ", None, np.nan, "College", " college ", "Nope", "NEET", 3, "Other"]


@settings(max_examples=150, deadline=None)
@given(
    size=st.integers(1, 6),
    columns=st.lists(st.sampled_from(summary.ENTRIES), unique=True),
    cells=st.lists(st.sampled_from(CELLS), min_size=24, max_size=24),
)
def test_chart_entry_equals_the_frozen_one(size: int, columns: list[str], cells: list[Any]) -> None:
    frame = pd.DataFrame(
        {
            f"{entry}_destination": pd.Series(
                [cells[(6 * i + k) % len(cells)] for k in range(size)], dtype=object
            )
            for i, entry in enumerate(columns)
        },
        index=range(size),
    )
    frame["school"] = "S"
    pupils = summary._Pupils(frame)
    assert summary._chart_entry(pupils, TAX) == ref._chart_entry(frame, TAX)
    for entry in summary.ENTRIES:  # the tables' numbering is the one the chart reads
        pupils.tables(TAX, entry)
    assert summary._chart_entry(pupils, TAX) == ref._chart_entry(frame, TAX)
