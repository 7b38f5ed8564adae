"""disclosure._ascii_kept: a mostly distinct pupil column of ASCII texts without whitespace looked
up by slices of the joined texts lowered at once, only the slices whose length and first and last
characters some kept text has (`_Sieve`): the same kept texts as normalising every cell
(`_reference_disclosure._norm`), with chunks of ASCII and of other texts mixed, empty cells and an
empty kept text, texts holding the glue, lengths past every kept text's, and the checker's
breaches unchanged."""

from __future__ import annotations

import random
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gsync import disclosure
from tests.unit import _reference_disclosure as ref
from tests.unit.test_disclosure_values import _breaches, _text_table

PIECES = ["a", "B", "ab", "AB1", "1", "@", ".", "Zz9", "x\x00y", " ", "\t", "ß", "é", "", "b-a"]
KEPT = ["a", "b", "ab", "ab1", "1", "@", "zz9", "", "ss", "é", "b-a", "ab1ab1", "x\x00y", "B"]


def _want(cells: list[Any], keep: set[str]) -> set[str]:
    return {ref._norm(v) for v in pd.Series(cells, dtype=object).dropna().astype(str)} & keep


@settings(max_examples=400, deadline=None)
@given(
    cells=st.lists(
        st.lists(st.sampled_from(PIECES), max_size=4).map("".join), min_size=1, max_size=30
    ),
    keep=st.sets(st.sampled_from(KEPT)),
    chunk=st.integers(1, 7),
)
def test_column_norms_kept_with_ascii_chunks(cells: list[str], keep: set[str], chunk: int) -> None:
    column = pd.Series(cells, dtype=object)
    saved = disclosure._SAMPLE, disclosure._MOSTLY_DISTINCT, disclosure._ASCII_CHUNK
    try:
        disclosure._SAMPLE, disclosure._MOSTLY_DISTINCT = 0, -1  # every column mostly distinct
        disclosure._ASCII_CHUNK = chunk
        assert set(disclosure._column_norms(column, keep)) == _want(cells, keep)
        sieve = disclosure._Sieve(keep)
        assert set(disclosure._column_norms(column, keep, sieve)) == _want(cells, keep)
    finally:
        disclosure._SAMPLE, disclosure._MOSTLY_DISTINCT, disclosure._ASCII_CHUNK = saved


@settings(max_examples=300, deadline=None)
@given(
    cells=st.lists(st.text(alphabet="aAbB1@.-_Zz", max_size=6), min_size=1, max_size=20),
    keep=st.sets(st.text(alphabet="ab1@.-_zé", max_size=7), max_size=12),
)
def test_ascii_kept_is_the_intersection(cells: list[str], keep: set[str]) -> None:
    got = disclosure._ascii_kept(cells, keep, disclosure._Sieve(keep))
    assert got == keep.intersection(ref._norm(c) for c in cells)


def test_ascii_kept_declines_other_texts() -> None:
    keep = {"ab", "a b"}
    sieve = disclosure._Sieve(keep)
    assert disclosure._ascii_kept(["AB", "a b"], keep, sieve) is None  # whitespace
    assert disclosure._ascii_kept(["AB", "\tab"], keep, sieve) is None
    assert disclosure._ascii_kept(["AB", "é"], keep, sieve) is None  # not ASCII
    assert disclosure._ascii_kept(["AB", "a\x00b"], keep, sieve) is None  # the glue
    assert disclosure._ascii_kept(["AB", "", "xab", "abx", "Ab"], keep, sieve) == {"ab"}
    assert disclosure._ascii_kept(["", ""], {""}, disclosure._Sieve({""})) == {""}
    assert disclosure._ascii_kept(["", "a"], {"a"}, disclosure._Sieve({"a"})) == {"a"}
    assert disclosure._ascii_kept(["a"], {"b"}, disclosure._Sieve(set())) == set()
    # Texts as long as, and longer than, the longest kept one; first and last characters alone.
    keep = {"abc", "zz"}
    sieve = disclosure._Sieve(keep)
    assert disclosure._ascii_kept(["ABC", "abcd", "azc", "aBC", "ZZ", "zzz"], keep, sieve) == keep
    # Lengths 64 apart share a mark (a candidate the lookup then turns down).
    long = "a" + "x" * 63 + "a"
    assert disclosure._ascii_kept([long, "A"], {"a"}, disclosure._Sieve({"a"})) == {"a"}
    assert disclosure._ascii_kept([long], {"a", long}, disclosure._Sieve({"a", long})) == {long}
    with pytest.raises(TypeError):
        disclosure._ascii_kept(["a", 1], {"a"}, sieve)  # type: ignore[list-item]


@pytest.mark.parametrize("seed", range(20))
def test_checker_identical_with_ascii_chunks(monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    rng = random.Random(seed)
    monkeypatch.setattr(disclosure, "_SAMPLE", 3)
    monkeypatch.setattr(disclosure, "_MOSTLY_DISTINCT", 1)
    monkeypatch.setattr(disclosure, "_ASCII_CHUNK", rng.choice([1, 2, 5, 16384]))
    monkeypatch.setattr(disclosure, "_INSIDE_LIMIT", rng.choice([0, 10**6]))

    def text(lo: int, hi: int, alphabet: str) -> str:
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(lo, hi)))

    n = rng.randint(8, 40)
    plain = "abAB12.@-"
    pupils = pd.DataFrame(
        {
            "upn": [text(1, 6, plain) for _ in range(n)],
            "school_email": [text(0, 9, plain) for _ in range(n)],
            "telephone": [text(2, 5, "0123+") for _ in range(n)],
            "personal_email": [text(2, 9, rng.choice([plain, plain + "é "])) for _ in range(n)],
        },
        dtype=object,
    )
    texts = [text(0, rng.choice([6, 12]), plain + " é") for _ in range(rng.randint(1, 40))]
    for col in pupils.columns:
        for at in (0, n // 2, n - 1):
            value = str(pupils.at[at, col])
            if rng.random() < 0.7:
                texts.append(value if rng.random() < 0.5 else f"x {value.upper()} y")
    tables = {"t": _text_table(texts), "u": _text_table(texts[::2], column="school")}
    assert _breaches(disclosure, tables, pupils) == _breaches(ref, tables, pupils)
