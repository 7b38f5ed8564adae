"""`summary._unique_inverse` is `np.unique(values, return_inverse=True)` (the same unique values,
indexes, dtypes and shapes) whether it counts or sorts: small and large ranges, empty arrays,
repeated values, values outside the stated range. `summary._stripped_text_codes` numbers the
stripped texts as `_stripped_codes(_texts(...))` did, from one factorization of the column."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from gsync import summary


@settings(max_examples=150, deadline=None)
@given(
    values=st.lists(st.integers(-3, 40), max_size=60),
    bound=st.sampled_from([1, 5, 41, 100, 10**6]),
)
def test_unique_inverse_is_np_unique(values: list[int], bound: int) -> None:
    array = np.array(values, dtype=np.int64)
    got_values, got_inverse = summary._unique_inverse(array, bound)
    want_values, want_inverse = np.unique(array, return_inverse=True)
    assert got_values.dtype == want_values.dtype and got_inverse.dtype == want_inverse.dtype
    assert got_values.shape == want_values.shape and got_inverse.shape == want_inverse.shape
    assert got_values.tolist() == want_values.tolist()
    assert got_inverse.tolist() == want_inverse.tolist()


def test_combine_numbers_combinations_in_sorted_order() -> None:
    rng = np.random.default_rng(5)
    a, b = rng.integers(0, 7, 5000), rng.integers(0, 3, 5000)
    combos, which = summary._combine((a, 7), (b, 3))
    want, want_which = np.unique(a * 3 + b, return_inverse=True)
    assert combos.tolist() == want.tolist() and which.tolist() == want_which.tolist()


POOL: list[Any] = ["2026", " 2026", "2026 ", "", " ", None, np.nan, "Y11", pd.NA, np.str_("Y13"), 7]


@settings(max_examples=150, deadline=None)
@given(
    values=st.lists(st.sampled_from(POOL), max_size=14),
    as_str=st.booleans(),
    absent=st.booleans(),
)
def test_stripped_text_codes_are_those_of_the_texts(
    values: list[Any], as_str: bool, absent: bool
) -> None:
    frame = pd.DataFrame({"x": pd.Series(values, dtype=object)})
    if as_str and values and not any(isinstance(v, int) for v in values):
        frame = frame.astype({"x": "str"})
    name = "absent" if absent else "x"
    codes, texts = summary._stripped_text_codes(frame, name)
    want_codes, want_texts = summary._stripped_codes(summary._texts(frame, name))
    assert codes.dtype == want_codes.dtype and codes.tolist() == want_codes.tolist()
    assert [(type(t), t) for t in texts] == [(type(t), t) for t in want_texts]
