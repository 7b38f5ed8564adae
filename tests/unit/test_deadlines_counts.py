"""`deadlines.entry_status` counts each cohort at once and `completion_vector` reads an entry's
other cells only at the rows with a destination (issue 7, brief R3). Checked against the frozen
P4 code (tests/unit/_reference_p4/deadlines.py) on generated frames: mostly blank entries, cells
of any kind (padding, NaN, None, pd.NA, numbers, numpy text), schools and phases that are not all
text (pandas' groupby then), missing columns, years out of the live range, a school filter.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gsync import deadlines
from tests.unit._reference_p4 import deadlines as ref_deadlines
from tests.unit.test_derived_equivalence import _typed

RULES = deadlines.load_rules()
KEYS = ("current_intended", "actual_validated", "y1_summer")
FIELDS = ("destination", "source", "validated", "recorded")

TEXT: dict[str, list[Any]] = {
    "destination": ["", "", "", " ", "College", " Job ", "Unknown"],
    "source": ["", "form", deadlines.UNKNOWN_SOURCE, " Unknown (3 Attempts) ", "staff"],
    "validated": ["", "Y", "y ", "N", " "],
    "recorded": ["", "2025-09-01", "2026-01-01T10:00", "2026-07-01", "2026-13-01", "soon"],
}
BLANKS: list[Any] = [None, float("nan"), np.nan]
ODD: list[Any] = [pd.NA, 3, 2.5, True, np.str_(" College"), dt.date(2026, 1, 2)]


@st.composite
def column(draw: st.DrawFn, field: str, n: int) -> list[Any]:
    """A column's cells: text only, text with blanks, or with odd cells too."""
    palette = list(TEXT[field])
    kind = draw(st.sampled_from(["text", "blanks", "na", "odd", "empty"]))
    if kind == "empty":
        return [""] * n
    if kind != "text":
        palette += BLANKS
    if kind == "na":  # text and pd.NA only: read whole, pd.NA as a blank
        palette += [pd.NA, pd.NA]
    if kind == "odd":
        palette += ODD
    return draw(st.lists(st.sampled_from(palette), min_size=n, max_size=n))


@st.composite
def frame(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(0, 25))
    schools: list[Any] = ["S1", "s1", "S2", " S1", "B"]
    if draw(st.booleans()):
        schools += [None, float("nan"), 7]
    phases: list[Any] = ["Y11", "Y13", " Y11", ""]
    if draw(st.booleans()):
        phases += [None, float("nan"), 11]
    data: dict[str, list[Any]] = {
        "school": draw(st.lists(st.sampled_from(schools), min_size=n, max_size=n)),
        "leaving_year": draw(
            st.lists(
                st.sampled_from(["2026", "2025", " 2024", 2026, "2020", "x", None]),
                min_size=n,
                max_size=n,
            )
        ),
        "phase": draw(st.lists(st.sampled_from(phases), min_size=n, max_size=n)),
    }
    for key in KEYS:
        for field in FIELDS:
            if draw(st.integers(0, 9)):  # now and then a column is missing
                data[f"{key}_{field}"] = draw(column(field, n))
    out = pd.DataFrame(data, dtype=object)
    drop = draw(st.sampled_from([(), ("school",), ("phase",)]))
    return out.drop(columns=list(drop))


def na_as_blank(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with pd.NA as None in the columns whose other cells are all text (or missing).

    The frozen P4 code reads pd.NA there as "<NA>"; the current code (since brief Q3, which
    factorizes such columns) reads it as a blank, as the frozen core reference's three-attempts
    rules do (tests/unit/test_contacts_fast.py). The P4 code is compared on this frame.
    """
    out = frame.copy()
    for name in out.columns:
        values = out[name].to_numpy(dtype=object)
        if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
            out[name] = [None if v is pd.NA else v for v in values.tolist()]
    return out


def _status(module: Any, dest: pd.DataFrame, as_of: dt.date, **kw: Any) -> Any:
    try:
        status = module.entry_status(dest, RULES, {}, as_of, **kw)
    except Exception as exc:  # both must fail alike
        return type(exc).__name__, str(exc)
    return (
        _typed(status.to_dict("records")),
        [str(t) for t in status.dtypes],
        list(status.columns),
        status.attrs,
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    dest=frame(),
    as_of=st.sampled_from([dt.date(2026, 6, 1), dt.date(2026, 9, 10), dt.date(2025, 12, 1)]),
    school=st.sampled_from([None, "s1", "B"]),
)
def test_entry_status_equals_p4(dest: pd.DataFrame, as_of: dt.date, school: str | None) -> None:
    old = na_as_blank(dest)
    for key in KEYS:
        rule = RULES.rule(key)
        got = deadlines.completion_vector(dest, rule, as_of)
        want = ref_deadlines.completion_vector(old, rule, as_of)
        assert got[0].dtype == want[0].dtype and got[1].dtype == want[1].dtype
        assert got[0].tolist() == want[0].tolist() and got[1].tolist() == want[1].tolist()
    assert _status(deadlines, dest, as_of) == _status(ref_deadlines, old, as_of)
    if school is not None and "school" in dest.columns:
        # pd.NA is read by the column of the school's rows (see `na_as_blank`).
        mine = dest[dest["school"].astype(str).str.casefold() == school.casefold()]
        assert _status(deadlines, dest, as_of, school=school) == _status(
            ref_deadlines, na_as_blank(mine), as_of, school=school
        )


def test_filled_rows_of_a_column_with_pd_na() -> None:
    """`values != ""` cannot compare pd.NA: the column is read whole, pd.NA as a blank (as
    before: see `na_as_blank`)."""
    dest = pd.DataFrame(
        {
            "leaving_year": ["2026"] * 4,
            "current_intended_destination": [pd.NA, "College", " ", ""],
            "current_intended_recorded": ["2026-01-01"] * 4,
        },
        dtype=object,
    )
    assert deadlines._filled(dest, "current_intended_destination") is None
    rule = RULES.rule("current_intended")
    got = deadlines.completion_vector(dest, rule, dt.date(2026, 6, 1))
    want = ref_deadlines.completion_vector(na_as_blank(dest), rule, dt.date(2026, 6, 1))
    assert got[0].tolist() == want[0].tolist() == [False, True, False, False]
    filled = deadlines._filled(dest.fillna(""), "current_intended_destination")
    assert filled is not None and filled.tolist() == [1]


def test_cohorts_are_pandas_groups_in_order() -> None:
    schools = np.array(["b", "a", "B", "a", "b "], dtype=object)
    years = np.array([2026, 2026, 2025, 2025, 2026], dtype=np.int64)
    phases = np.array(["Y11", "Y13", "Y11", "Y11", "Y11"], dtype=object)
    found = deadlines._cohorts(schools, years, phases)
    assert found is not None
    group_of, groups = found
    want = deadlines._grouped(schools, years, phases)
    assert [g[:3] for g in groups] == [g[:3] for g in want]
    for number, (*_keys, pos) in enumerate(want):
        assert pos is not None
        assert np.flatnonzero(group_of == number).tolist() == pos.tolist()
    with_na = schools.copy()
    with_na[0] = None
    assert deadlines._cohorts(with_na, years, phases) is None


def test_completed_on_the_due_day_is_not_late() -> None:
    rule = RULES.rule("current_intended")
    due, _warnings = deadlines.due_date(rule, 2026, {})
    as_of = due + dt.timedelta(days=30)
    for last, state in ((due, "complete"), (due + dt.timedelta(days=1), "completed_late")):
        dest = pd.DataFrame(
            {
                "school": ["S1", "S1", "S2"],
                "leaving_year": ["2026"] * 3,
                "phase": ["Y11"] * 3,
                "current_intended_destination": ["College"] * 3,
                "current_intended_source": ["form"] * 3,
                "current_intended_recorded": [due.isoformat(), last.isoformat(), ""],
            },
            dtype=object,
        )
        status = deadlines.entry_status(dest, RULES, {}, as_of)
        assert _status(deadlines, dest, as_of) == _status(ref_deadlines, dest, as_of)
        mine = status[status["entry"] == "current_intended"]
        assert mine["state"].tolist() == [state, "complete"]
