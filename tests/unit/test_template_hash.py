"""`format_sync_hash` and `parse_sync_hash` give the text and parse they gave before (the cells
are stored in sheets). The old functions are frozen below."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from gsync.template import HASH_GROUPS, format_sync_hash, parse_sync_hash


def old_parse_sync_hash(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in str(text or "").split():
        group, sep, value = part.partition("=")
        if sep and group in HASH_GROUPS:
            out[group] = value
    return out


def old_format_sync_hash(hashes: dict[str, str]) -> str:
    return " ".join(f"{g}={hashes[g]}" for g in HASH_GROUPS if g in hashes)


GROUPS = st.sampled_from([*HASH_GROUPS, "zz", "", "id ", "ID"])
VALUES = st.one_of(
    st.sampled_from(("1a2b3c4d", "1a2b3c4d.9f8e", "", "=", "a b")), st.text(max_size=6)
)


@settings(max_examples=500)
@given(st.dictionaries(GROUPS, VALUES))
def test_format_as_before(hashes: dict[str, str]) -> None:
    assert format_sync_hash(hashes) == old_format_sync_hash(hashes)


class Text(str):
    """A str subclass (a cell read by some other path)."""


@settings(max_examples=500)
@given(
    st.one_of(
        st.lists(st.tuples(GROUPS, st.sampled_from(("=", "", "==")), VALUES)).map(
            lambda parts: " ".join(f"{g}{s}{v}" for g, s, v in parts)
        ),
        st.text(max_size=20),
        st.sampled_from((None, 0, 0.0, 12, float("nan"), Text("id=1 ct=2"), Text(""))),
    )
)
def test_parse_as_before(text: Any) -> None:
    got = parse_sync_hash(text)
    assert list(got.items()) == list(old_parse_sync_hash(text).items())
    assert format_sync_hash(got) == old_format_sync_hash(got)
