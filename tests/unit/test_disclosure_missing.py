"""`disclosure._column_norms` with `keep` on a mostly distinct column holding missing cells (the
round tabs' rows stacked under the pupils' ones) reads each chunk's texts alone: the same kept
texts as the frozen definition (`_reference_disclosure._norm` of `dropna().astype(str)`), with
every kind of missing cell, numbers and other objects among them (the column then read whole, as
before), ASCII and other texts, chunks of one cell up, and the checker's breaches unchanged."""

from __future__ import annotations

import decimal
import random
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gsync import disclosure
from tests.unit import _reference_disclosure as ref
from tests.unit.test_disclosure_values import _breaches, _text_table

PIECES = ["a", "B", "ab", "AB1", "1", "@", "Zz9", " ", "ß", "é", "", "x\x00y"]
MISSING = [None, float("nan"), pd.NA, pd.NaT, np.datetime64("NaT"), decimal.Decimal("NaN")]
OTHERS = [1, 2.5, np.str_("ab"), ("a",)]
KEPT = ["a", "b", "ab", "ab1", "1", "@", "zz9", "", "ss", "é", "2.5", "x\x00y", "('a',)"]


def _want(cells: list[Any], keep: set[str]) -> set[str]:
    return {ref._norm(v) for v in pd.Series(cells, dtype=object).dropna().astype(str)} & keep


def _cells(others: list[Any], min_size: int = 0) -> st.SearchStrategy[list[Any]]:
    """Columns of texts made of `PIECES`, missing cells and some of `others`."""
    cell = st.one_of(
        st.lists(st.sampled_from(PIECES), max_size=3).map("".join),
        st.sampled_from(MISSING),
        st.sampled_from(others),
    )
    return st.lists(cell, min_size=min_size, max_size=30)


@settings(max_examples=500, deadline=None)
@given(
    cells=_cells(OTHERS, min_size=1),
    others=st.booleans(),
    keep=st.sets(st.sampled_from(KEPT)),
    chunk=st.integers(1, 7),
)
def test_column_norms_kept_with_missing_cells(
    cells: list[Any], others: bool, keep: set[str], chunk: int
) -> None:
    if not others:
        cells = [c for c in cells if not any(c is o for o in OTHERS)]
    if not cells:
        return
    column = pd.Series(cells, dtype=object)
    saved = disclosure._SAMPLE, disclosure._MOSTLY_DISTINCT, disclosure._ASCII_CHUNK
    try:
        disclosure._SAMPLE, disclosure._MOSTLY_DISTINCT = 0, -1  # every column mostly distinct
        disclosure._ASCII_CHUNK = chunk
        for sieve in (None, disclosure._Sieve(keep)):
            assert set(disclosure._column_norms(column, keep, sieve)) == _want(cells, keep)
    finally:
        disclosure._SAMPLE, disclosure._MOSTLY_DISTINCT, disclosure._ASCII_CHUNK = saved


def test_missing_is_what_dropna_drops() -> None:
    cells = [*MISSING, *OTHERS, "", "a", 0, np.nan, np.float64("nan")]
    kept = pd.Series(cells, dtype=object).dropna().tolist()
    assert [c for c in cells if not disclosure._missing(c)] == kept


@pytest.mark.parametrize("seed", range(20))
def test_checker_identical_with_round_rows_stacked(
    monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    """Pupil columns of distinct texts with missing cells at the end (as `_checked_pupils`
    stacks the round rows), small chunks: the same breaches as the frozen checker."""
    rng = random.Random(seed)
    monkeypatch.setattr(disclosure, "_SAMPLE", 3)
    monkeypatch.setattr(disclosure, "_MOSTLY_DISTINCT", 1)
    monkeypatch.setattr(disclosure, "_ASCII_CHUNK", rng.choice([1, 2, 5, 16384]))
    n = rng.randint(8, 40)
    texts = [f"Pupil{i}x" if rng.random() < 0.9 else f"Pupil {i}" for i in range(n)]
    upns = [f"A{100000 + i}" for i in range(n)]
    tail = [rng.choice([None, float("nan"), pd.NA]) for _ in range(rng.randint(1, 6))]
    pupils = pd.DataFrame(
        {
            "legal_surname": pd.Series(texts + tail, dtype=object),
            "upn": pd.Series(upns + tail, dtype=object),
            "intention_other": pd.Series([None] * n + ["Pupil3x"] * len(tail), dtype=object),
        }
    )
    cells = ["College", texts[0], upns[1].lower(), "Pupil3x", texts[-1]]
    tables = {"t": _text_table(cells)}
    want = _breaches(ref, tables, pupils)
    assert _breaches(disclosure, tables, pupils) == want
    assert any(b[0] == "identifying_value" for b in want)


@settings(max_examples=500, deadline=None)
@given(
    cells=_cells(OTHERS[:3]),
    others=st.booleans(),
)
def test_distinct_texts_with_missing_cells(cells: list[Any], others: bool) -> None:
    """Texts and missing cells: the texts `dropna().astype(str)` leaves (the frozen way)."""
    if not others:
        cells = [c for c in cells if not any(c is o for o in OTHERS)]
    column = pd.Series(cells, dtype=object)
    want = set(column.dropna().astype(str).tolist())
    got = disclosure._distinct_texts(column)
    assert {(type(t), t) for t in got} == {(type(t), t) for t in want}
