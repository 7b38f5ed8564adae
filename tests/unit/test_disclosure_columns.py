"""The checker normalises a mostly distinct column of texts cell by cell (no distinct texts first)
and ASCII texts without whitespace by lowering them at once; it finds exactly the values the frozen
code found (`_reference_disclosure`). The thresholds are lowered here so small frames take the
new ways: missing cells, numbers, str subclasses, string dtypes, the glue, every ASCII whitespace,
non-ASCII case folding.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gsync import disclosure
from tests.unit import _reference_disclosure as ref
from tests.unit.test_disclosure_values import CELLS, PUPILS, _breaches, _text_table

ASCII = [chr(c) for c in range(128)]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from([*ASCII, "ß", "Σ", "İ", "\u00a0"]), max_size=8)))
def test_normalised_is_norm(texts: list[str]) -> None:
    assert disclosure._normalised(texts) == [disclosure._norm(t) for t in texts]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from("aZ09.@-_"), max_size=6)))
def test_normalised_of_ascii_without_whitespace_is_lower(texts: list[str]) -> None:
    assert disclosure._normalised(texts) == [t.lower() for t in texts]
    assert disclosure._normalised(texts) == [disclosure._norm(t) for t in texts]


@pytest.fixture
def low_thresholds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(disclosure, "_SAMPLE", 3)
    monkeypatch.setattr(disclosure, "_MOSTLY_DISTINCT", 1)


CELL_VALUES: list[Any] = ["a", "B", "a ", " A", "ß", "x\x00y", "Σ", 1, 1.0, None, np.str_("Q"), ""]


def _column(values: list[Any], dtype: Any) -> pd.Series | None:
    """The values as a column of `dtype` (None when pandas refuses that dtype for them)."""
    column = pd.Series(values, dtype=object)
    if dtype is object:
        return column
    try:
        return column.astype(dtype)
    except (TypeError, ValueError):
        return None


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(st.sampled_from(CELL_VALUES), max_size=12),
    dtype=st.sampled_from([object, "string", "str"]),
)
def test_column_norms_are_the_distinct_normalised_texts(values: list[Any], dtype: Any) -> None:
    column = _column(values, dtype)
    if column is None:
        return
    want = {ref._norm(v) for v in column.dropna().astype(str).tolist()}
    saved = disclosure._SAMPLE, disclosure._MOSTLY_DISTINCT
    try:
        for sample, distinct in ((3, 1), (3, 0), (1000, 900)):
            disclosure._SAMPLE, disclosure._MOSTLY_DISTINCT = sample, distinct
            assert set(disclosure._column_norms(column)) == want
    finally:
        disclosure._SAMPLE, disclosure._MOSTLY_DISTINCT = saved


@pytest.mark.usefixtures("low_thresholds")
def test_checker_identical_on_chosen_values_by_cells() -> None:
    pupils = pd.concat([PUPILS] * 2, ignore_index=True)  # more than 2 * _SAMPLE rows
    tables = {"t": _text_table(CELLS), "u": _text_table(list(reversed(CELLS)), column="group")}
    want = _breaches(ref, tables, pupils)
    assert _breaches(disclosure, tables, pupils) == want
    assert len([b for b in want if b[0] == "identifying_value"]) >= 40


@pytest.mark.usefixtures("low_thresholds")
@pytest.mark.parametrize("seed", range(30))
def test_checker_identical_on_random_values_by_cells(seed: int) -> None:
    rng = random.Random(seed)

    def text(lo: int, hi: int, alphabet: str) -> str:
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(lo, hi)))

    n = rng.randint(7, 40)
    ascii_only = "abAB12.@"
    mixed = "abΣß  A\t"
    pupils = pd.DataFrame(
        {
            "upn": [text(1, 6, ascii_only) for _ in range(n)],
            "personal_email": [text(2, 9, rng.choice([ascii_only, mixed])) for _ in range(n)],
            "legal_forename": [text(1, 4, mixed) for _ in range(n)],
            "full_name": [text(3, 8, mixed) for _ in range(n)],
            "y2_summer_course": [text(1, 5, ascii_only + " ") for _ in range(n)],
            "phone": [text(1, 3, ascii_only) if rng.random() < 0.8 else None for _ in range(n)],
        },
        dtype=object,
    )
    texts = [
        text(0, rng.choice([6, 12, 40]), ascii_only + mixed) for _ in range(rng.randint(1, 60))
    ]
    tables = {"t": _text_table(texts), "u": _text_table(texts[::2], column="school")}
    assert _breaches(disclosure, tables, pupils) == _breaches(ref, tables, pupils)


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(st.sampled_from(["a", "", " b", None, np.nan, np.str_("c"), 3]), max_size=8),
    dtype=st.sampled_from([object, "string", "str"]),
)
def test_cell_texts_are_the_cells_as_str(values: list[Any], dtype: Any) -> None:
    column = _column(values, dtype)
    if column is None:
        return
    table = pd.DataFrame({"x": column, "y": pd.Series(range(len(values)), dtype="int64")})
    got = disclosure._cell_texts(table)
    want = [(c, [str(v) for v in table[c].tolist()]) for c in table.columns]
    assert [(c, [(type(v), v) for v in vs]) for c, vs in got] == [
        (c, [(type(v), v) for v in vs]) for c, vs in want
    ]
