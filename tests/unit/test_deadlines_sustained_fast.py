"""deadlines.with_sustained's fast ways give the frozen frame (tests/unit/_reference_core.py):
the rows of the pupils with a logged check found by one `isin` when every UPN cell is a plain
text that is its own `_upn_text` (`_plain_upns_at`), else cell by cell; and the new columns
made an array each. The UPN cells mix the plain ones with every way a cell can fail the fast
way's test (lower case, whitespace of any kind, non-ASCII, a missing cell, a number, a str
subclass), the logged checks name pupils in any of those spellings."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

from gsync import deadlines
from tests.unit import _reference_core as ref

RULES = deadlines.load_rules()
CHECKS = [r.key for r in RULES.entries if r.key.startswith("y")]
PLAIN = ["A1", "B22", "C333", "Z9", "AB-12", "X_1"]
# Cells the fast way must refuse (each, alone among plain ones, sends the column cell by cell).
ODD: list[Any] = [
    "a1",  # lower case
    " A1",  # whitespace
    "A1 ",
    "A\t1",
    "A1\x1c",  # whitespace to str.strip, not to the eye
    "\u00c91",  # non-ASCII (upper case already)
    "\u00df",  # non-ASCII that upper() changes ("SS")
    None,
    float("nan"),
    7,
    np.str_("A1"),
]


def _frames(upns: list[Any], years: list[Any], logged: list[tuple[Any, Any, str, str]]) -> tuple[pd.DataFrame, pd.DataFrame]:  # fmt: skip
    destinations = pd.DataFrame(
        {"upn": pd.Series(upns, dtype=object), "leaving_year": pd.Series(years, dtype=object)}
    )
    destinations["current_intended_destination"] = "Sixth form"
    destinations.attrs["warnings"] = ["kept"]
    rows = [
        {
            "upn": u,
            "leaving_year": y,
            "check": check,
            **{f: f"{f} {i}" for f in deadlines.SUSTAINED_FIELDS},
            "destination": dest,
        }
        for i, (u, y, check, dest) in enumerate(logged)
    ]
    columns = ["upn", "leaving_year", "check", *deadlines.SUSTAINED_FIELDS]
    return destinations, pd.DataFrame(rows, columns=columns, dtype=object)


def _same_as_frozen(destinations: pd.DataFrame, sustained: pd.DataFrame) -> pd.DataFrame:
    new = deadlines.with_sustained(destinations, sustained, RULES)
    old = ref.with_sustained(destinations, sustained, RULES)
    assert_frame_equal(new, old)
    assert new.attrs == old.attrs
    return new


def _slow_rows(frame: pd.DataFrame, pupils: set[tuple[str, int]]) -> dict[tuple[str, int], list[int]]:  # fmt: skip
    want: dict[tuple[str, int], list[int]] = {}
    for pos, (u, y) in enumerate(zip(frame["upn"], frame["leaving_year"], strict=True)):
        key = deadlines._pupil_key(u, y)
        if key in pupils:
            want.setdefault(key, []).append(pos)
    return want


_SPELLINGS = st.sampled_from([*PLAIN, *ODD, "a1 ", "c333", ""])


@settings(max_examples=150, deadline=None)
@given(
    plain=st.lists(st.sampled_from([*PLAIN, ""]), min_size=0, max_size=30),
    odd=st.lists(st.tuples(st.integers(0, 29), st.sampled_from(range(len(ODD)))), max_size=2),
    years=st.lists(
        st.sampled_from(["2026", "2027", " 2026", 2026, None, "x"]), min_size=30, max_size=30
    ),
    logged=st.lists(
        st.tuples(
            _SPELLINGS,
            st.sampled_from(["2026", 2027, "2027 ", None]),
            st.sampled_from([*CHECKS[:3], "current_intended", "nope"]),
            st.sampled_from(["", "Employment"]),
        ),
        max_size=6,
    ),
)
def test_with_sustained_equals_the_frozen(plain: list[str], odd: list[tuple[int, int]], years: list[Any], logged: list[tuple[Any, Any, str, str]]) -> None:  # fmt: skip
    upns: list[Any] = list(plain)
    for at, which in odd:
        if upns:
            upns[at % len(upns)] = ODD[which]
    destinations, sustained = _frames(upns, years[: len(upns)], logged)
    _same_as_frozen(destinations, sustained)
    pupils = {(u, y) for u, y, _c in _logged_keys(logged)}
    assert deadlines._rows_of_pupils(destinations, pupils) == _slow_rows(destinations, pupils)


def _logged_keys(logged: list[tuple[Any, Any, str, str]]) -> set[tuple[str, int, str]]:
    out: set[tuple[str, int, str]] = set()
    for u, y, check, _d in logged:
        key = deadlines._pupil_key(u, y)
        if key is not None:
            out.add((key[0], key[1], check))
    return out


def test_the_fast_way_is_taken_for_plain_upns_only() -> None:
    plain = pd.Series([*PLAIN, "A1"], dtype=object)
    assert deadlines._plain_upns_at(plain, plain.tolist(), {"A1", "Z9", "NOPE"}) == [0, 3, 6]
    assert deadlines._plain_upns_at(plain[:0], [], {"A1"}) == []
    for odd in ODD:
        cells = pd.Series([*PLAIN, odd], dtype=object)
        assert deadlines._plain_upns_at(cells, cells.tolist(), {"A1"}) is None, odd


def test_logged_checks_reach_their_pupils_rows() -> None:
    upns = ["A1", "B22", "A1", "C333"]
    logged = [
        ("a1 ", "2026", CHECKS[0], "Employment"),  # spelt otherwise: the same pupil
        ("A1", 2026, CHECKS[0], ""),  # a row without a destination loses to one with
        ("C333", "2027", CHECKS[1], "Apprenticeship"),  # another year: no row
        ("B22", "2027", CHECKS[2], "Education"),
    ]
    destinations, sustained = _frames(upns, ["2026", "2027", "2026", "2026"], logged)
    out = _same_as_frozen(destinations, sustained)
    assert out[f"{CHECKS[0]}_destination"].tolist() == ["Employment", "", "Employment", ""]
    assert out[f"{CHECKS[2]}_destination"].tolist() == ["", "Education", "", ""]
    assert out[f"{CHECKS[1]}_destination"].tolist() == ["", "", "", ""]
    # The new columns are arrays of their own: a change to one reaches no other (nor the input).
    out.loc[0, f"{CHECKS[3]}_other"] = "changed"
    assert out[f"{CHECKS[3]}_provider"].tolist() == ["", "", "", ""]
    assert out[f"{CHECKS[4]}_other"].tolist() == ["", "", "", ""]
    assert "changed" not in destinations.to_numpy().tolist()[0]


def test_no_pupils_and_no_logged_checks() -> None:
    for upns in ([], ["A1", "B22"]):
        destinations, sustained = _frames(upns, ["2026"] * len(upns), [])
        _same_as_frozen(destinations, sustained)
