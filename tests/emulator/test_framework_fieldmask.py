"""The ``fields`` partial-response syntax: parsing examples and properties of applying a mask."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gsync.emulator.core import ApiError
from gsync.emulator.fieldmask import apply, filter_fields, parse, paths


def test_parse_examples() -> None:
    assert parse("a,b(c,d/e),f/g") == {
        "a": None,
        "b": {"c": None, "d": {"e": None}},
        "f": {"g": None},
    }
    assert parse("sheets.properties.title") == {"sheets": {"properties": {"title": None}}}
    assert parse("files(id, name), nextPageToken") == {
        "files": {"id": None, "name": None},
        "nextPageToken": None,
    }
    # a whole-field selection wins over a narrower one
    assert parse("a,a/b") == {"a": None}


@pytest.mark.parametrize("bad", ["", "a,", "a(b", "a)b", "(a)", "a//b"])
def test_parse_rejects(bad: str) -> None:
    with pytest.raises(ApiError):
        parse(bad)


def test_apply_on_lists_and_star() -> None:
    value = {"files": [{"id": "1", "name": "n", "x": 1}, {"id": "2"}], "next": "t"}
    assert filter_fields(value, "files(id)") == {"files": [{"id": "1"}, {"id": "2"}]}
    assert filter_fields(value, "*") == value
    assert filter_fields(value, "files/*") == {"files": value["files"]}
    assert filter_fields(value, None) is value
    assert paths("title, gridProperties.rowCount") == ["title", "gridProperties.rowCount"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("abcd"), inner, max_size=4)
    ),
    max_leaves=20,
)
masks = st.recursive(
    st.dictionaries(st.sampled_from("abcd"), st.none(), min_size=1, max_size=3),
    lambda inner: st.dictionaries(
        st.sampled_from("abcd"), st.none() | inner, min_size=1, max_size=3
    ),
    max_leaves=8,
)


def _keys_within(value: Any, mask: Any) -> bool:
    if mask is None:
        return True
    if isinstance(value, list):
        return all(_keys_within(v, mask) for v in value)
    if not isinstance(value, dict):
        return True
    return all(k in mask and _keys_within(v, mask[k]) for k, v in value.items())


@given(json_values, masks)
def test_apply_is_idempotent_and_only_keeps_masked_keys(value: Any, mask: Any) -> None:
    once = apply(value, mask)
    assert apply(once, mask) == once
    assert _keys_within(once, mask)


@given(json_values)
def test_star_keeps_everything(value: Any) -> None:
    assert apply(value, {"*": None}) == value
