"""A1 notation: examples from the Sheets API reference, and round-trip properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gsync.emulator.a1 import (
    A1Range,
    column_index,
    column_letters,
    format_range,
    parse,
    quote_sheet,
)
from gsync.emulator.core import ApiError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sheet1!A1:B2", A1Range("Sheet1", 0, 2, 0, 2)),
        ("'My Tab'!A:A", A1Range("My Tab", None, None, 0, 1)),
        ("'It''s'!B2:D", A1Range("It's", 1, None, 1, 4)),
        ("A2:C", A1Range(None, 1, None, 0, 3)),
        ("A:C", A1Range(None, None, None, 0, 3)),
        ("2:5", A1Range(None, 1, 5, None, None)),
        ("A5:5", A1Range(None, 4, 5, 0, None)),
        ("Sheet1", A1Range("Sheet1")),
        ("My Tab", A1Range("My Tab")),
        ("'Sheet1'", A1Range("Sheet1")),
        ("A1", A1Range(None, 0, 1, 0, 1)),
        ("B2:A1", A1Range(None, 0, 2, 0, 2)),
        ("Data!ZZ10", A1Range("Data", 9, 10, 701, 702)),
        ("'a!b'!C3", A1Range("a!b", 2, 3, 2, 3)),
    ],
)
def test_parse_examples(text: str, expected: A1Range) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    "text", ["", "Sheet1!", "'x", "'x'y", "A:C5", "'x'!", "''!A1", "Sheet1!A0", "Sheet1!1:A"]
)
def test_parse_rejects_like_google(text: str) -> None:
    with pytest.raises(ApiError) as info:
        parse(text)
    assert info.value.code == 400
    assert info.value.message == f"Unable to parse range: {text}"


def test_columns() -> None:
    assert [column_letters(i) for i in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]
    assert column_index("aa") == 26


@given(st.integers(min_value=0, max_value=18277))
def test_column_round_trip(index: int) -> None:
    assert column_index(column_letters(index)) == index


titles = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20
).filter(lambda t: t.strip() == t and t.strip() != "")


@given(
    titles,
    st.integers(0, 5000),
    st.integers(1, 50),
    st.integers(0, 700),
    st.integers(1, 30),
)
def test_format_then_parse_round_trips(title: str, r0: int, h: int, c0: int, w: int) -> None:
    text = format_range(title, r0, r0 + h, c0, c0 + w)
    assert parse(text) == A1Range(title, r0, r0 + h, c0, c0 + w)


def test_quote_sheet() -> None:
    assert quote_sheet("Sheet1") == "Sheet1"
    assert quote_sheet("My Tab") == "'My Tab'"
    assert quote_sheet("It's") == "'It''s'"
    assert quote_sheet("A1") == "'A1'"  # would read as a cell otherwise
