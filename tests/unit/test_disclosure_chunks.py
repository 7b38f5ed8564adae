"""The checker keeps of each pupil column only the normalised texts it looks up (`_column_norms`
with `keep`), a mostly distinct column normalised `_CHUNK` cells at a time: it finds exactly the
breaches the frozen code found (`_reference_disclosure`). Chunks and thresholds are lowered so
small frames take the new ways across several chunks: a chunk holding a missing cell or a
number (the column then read as distinct texts), matches in the first, a middle and the last
chunk, and both ways of listing substrings (`_INSIDE_LIMIT`)."""

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


@pytest.fixture
def small(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(disclosure, "_SAMPLE", 3)
    monkeypatch.setattr(disclosure, "_MOSTLY_DISTINCT", 1)


@pytest.mark.usefixtures("small")
@pytest.mark.parametrize("seed", range(40))
def test_checker_identical_with_small_chunks(monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    rng = random.Random(seed)
    monkeypatch.setattr(disclosure, "_CHUNK", rng.choice([1, 2, 3, 5, 4096]))
    monkeypatch.setattr(disclosure, "_INSIDE_LIMIT", rng.choice([0, 50, 10**6]))

    def text(lo: int, hi: int, alphabet: str) -> str:
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(lo, hi)))

    n = rng.randint(7, 40)
    ascii_only = "abAB12.@"
    mixed = "abΣß  A\t"
    odd: list[Any] = [None, 3, np.nan, np.str_("ab")]
    pupils = pd.DataFrame(
        {
            "upn": [text(1, 6, ascii_only) for _ in range(n)],
            "school_email": [
                text(2, 9, ascii_only) if rng.random() < 0.95 else rng.choice(odd) for _ in range(n)
            ],
            "personal_email": [text(2, 9, rng.choice([ascii_only, mixed])) for _ in range(n)],
            "legal_forename": [text(1, 4, mixed) for _ in range(n)],
            "full_name": [text(3, 8, mixed) for _ in range(n)],
            "y2_summer_course": [text(1, 5, ascii_only + " ") for _ in range(n)],
        },
        dtype=object,
    )
    texts = [
        text(0, rng.choice([6, 12, 40]), ascii_only + mixed) for _ in range(rng.randint(1, 60))
    ]
    # Some pupil values are cells themselves, or inside one, wherever they sit in the column.
    for col in ("upn", "school_email", "full_name"):
        for at in (0, n // 2, n - 1):
            value = pupils.at[at, col]
            if isinstance(value, str) and rng.random() < 0.7:
                texts.append(value if rng.random() < 0.5 else f"x {value} y")
    tables = {"t": _text_table(texts), "u": _text_table(texts[::2], column="school")}
    assert _breaches(disclosure, tables, pupils) == _breaches(ref, tables, pupils)


@pytest.mark.usefixtures("small")
@pytest.mark.parametrize("chunk", [1, 2, 4096])
def test_checker_identical_on_chosen_values_in_chunks(monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:  # fmt: skip
    monkeypatch.setattr(disclosure, "_CHUNK", chunk)
    pupils = pd.concat([PUPILS] * 2, ignore_index=True)
    tables = {"t": _text_table(CELLS), "u": _text_table(list(reversed(CELLS)), column="group")}
    want = _breaches(ref, tables, pupils)
    assert _breaches(disclosure, tables, pupils) == want
    assert len([b for b in want if b[0] == "identifying_value"]) >= 40


@settings(max_examples=150, deadline=None)
@given(
    cells=st.lists(st.sampled_from(["a", "B", " A", "ß", "Σ", "x\x00y", "", None, 1]), max_size=14),
    keep=st.sets(st.sampled_from(["a", "b", "ss", "σ", "x\x00y", "1", "zz"])),
    chunk=st.integers(1, 5),
)
def test_column_norms_kept_are_the_kept_distinct_texts(cells: list[Any], keep: set[str], chunk: int) -> None:  # fmt: skip
    column = pd.Series(cells, dtype=object)
    want = {ref._norm(v) for v in column.dropna().astype(str).tolist()} & keep
    saved = disclosure._SAMPLE, disclosure._MOSTLY_DISTINCT, disclosure._CHUNK
    try:
        for sample, distinct in ((3, 1), (3, 0), (1000, 900)):
            disclosure._SAMPLE, disclosure._MOSTLY_DISTINCT = sample, distinct
            disclosure._CHUNK = chunk
            assert set(disclosure._column_norms(column, keep)) == want
    finally:
        disclosure._SAMPLE, disclosure._MOSTLY_DISTINCT, disclosure._CHUNK = saved
