"""`summary._text_codes` numbers a column's texts exactly as factorizing its texts did: the same
codes, the same texts in the same order (the frozen `_reference_summary._col` gives the texts)."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest

from gsync import summary
from tests.unit import _reference_summary as ref


def _same(frame: pd.DataFrame, name: str) -> None:
    codes, texts = summary._text_codes(frame, name)
    want_codes, want_texts = pd.factorize(summary._texts(frame, name))
    assert codes.dtype == want_codes.dtype and texts.dtype == want_texts.dtype
    assert codes.tolist() == want_codes.tolist()
    assert [(type(t), t) for t in texts] == [(type(t), t) for t in want_texts]
    if name in frame.columns:  # what the texts always were
        ref_codes, ref_texts = pd.factorize(ref._col(frame, name).to_numpy(dtype=object))
        assert codes.tolist() == ref_codes.tolist() and list(texts) == list(ref_texts)


@pytest.mark.parametrize("seed", range(60))
def test_text_codes_as_factorized_texts(seed: int) -> None:
    rng = random.Random(seed)
    pool: list[Any] = ["a", "b", "", " ", None, np.nan, "c", "a ", pd.NA, np.str_("d")]
    if seed % 5 == 0:
        pool += [1, 2.5, True]  # not text: the column goes through `_col`
    for _ in range(40):
        size = rng.randint(0, 14)
        weights = [rng.random() for _ in pool]
        values = rng.choices(pool, weights=weights, k=size)
        frame = pd.DataFrame({"x": pd.Series(values, dtype=object)})
        _same(frame, "x")
        _same(frame.astype({"x": "str"}) if seed % 3 == 0 and size else frame, "x")


def test_text_codes_edge_columns() -> None:
    frame = pd.DataFrame(
        {
            "blank_first": ["", None, "a", ""],
            "missing_first": [None, "a", "", "b"],
            "blank_late": ["a", None, "b", ""],
            "all_missing": [None, np.nan, None, None],
            "numbers": [1, 2, 1, None],
            # Missing to factorize, not skipped by infer_dtype: not a text column.
            "nat": ["a", pd.NaT, "b", "a"],
            "decimal_nan": ["a", "b", Decimal("NaN"), ""],
            "all_text": ["b", "a", "b", " "],
        },
        dtype=object,
    )
    frame["strings"] = pd.Series(["a", None, "", "b"], dtype="string")
    for name in [*frame.columns, "absent"]:
        _same(frame, name)
    _same(frame.iloc[:0], "blank_first")
    _same(frame.iloc[:0], "absent")
