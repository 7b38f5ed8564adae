"""Deadline rules: loading, term dates, due dates across academic years, windows, entry states."""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gsync.config import TermDates
from gsync.deadlines import (
    STATE_RANK,
    STATES,
    UNKNOWN_SOURCE,
    FixedDay,
    Rule,
    TermDay,
    academic_year_of,
    deadlines_tab,
    default_terms,
    due_date,
    easter_sunday,
    entry_columns,
    entry_for_response,
    entry_resolver,
    entry_status,
    live_cohorts,
    load_rules,
    parse_rules,
    resolve,
    terms_for,
    window_of,
)
from gsync.errors import SpecError

D = dt.date
RULES = load_rules()


def terms(a0: D, a1: D, s0: D, s1: D, u0: D, u1: D) -> TermDates:
    return TermDates(
        autumn_start=a0,
        autumn_end=a1,
        spring_start=s0,
        spring_end=s1,
        summer_start=u0,
        summer_end=u1,
    )


# A trust's configured term dates (as in tests/conftest.py) plus a year with a late autumn start
# (Monday 8 September 2025 instead of Wednesday 3rd) in a separate mapping.
TERMS: dict[str, TermDates] = {
    "2023-24": terms(
        D(2023, 9, 5),
        D(2023, 12, 20),
        D(2024, 1, 4),
        D(2024, 3, 28),
        D(2024, 4, 15),
        D(2024, 7, 23),
    ),
    "2024-25": terms(
        D(2024, 9, 4), D(2024, 12, 20), D(2025, 1, 6), D(2025, 4, 4), D(2025, 4, 22), D(2025, 7, 22)
    ),
    "2025-26": terms(
        D(2025, 9, 3),
        D(2025, 12, 19),
        D(2026, 1, 5),
        D(2026, 3, 27),
        D(2026, 4, 13),
        D(2026, 7, 21),
    ),
    "2026-27": terms(
        D(2026, 9, 4),
        D(2026, 12, 18),
        D(2027, 1, 4),
        D(2027, 3, 26),
        D(2027, 4, 12),
        D(2027, 7, 21),
    ),
    "2027-28": terms(
        D(2027, 9, 2),
        D(2027, 12, 17),
        D(2028, 1, 4),
        D(2028, 3, 31),
        D(2028, 4, 18),
        D(2028, 7, 20),
    ),
}
LATE_START = {
    **TERMS,
    "2025-26": terms(
        D(2025, 9, 8),
        D(2025, 12, 19),
        D(2026, 1, 5),
        D(2026, 3, 27),
        D(2026, 4, 13),
        D(2026, 7, 21),
    ),
}


def rules_data(**changes: Any) -> dict[str, Any]:
    """The shipped rules as a mapping, with top-level changes."""
    data = RULES.model_dump(exclude_none=True)
    data.update(changes)
    return data


# --- loading -------------------------------------------------------------------------------------


def test_shipped_rules_hold_the_four_entries_then_the_sustained_checks() -> None:
    assert RULES.keys[:4] == [
        "current_intended",
        "intended",
        "actual_unvalidated",
        "actual_validated",
    ]
    assert RULES.keys[4:] == [
        "y1_summer",
        "y2_autumn",
        "y2_spring",
        "y2_summer",
        "y3_autumn",
        "y3_spring",
        "y3_summer",
    ]
    assert RULES.rule("current_intended").cohort == "current"
    assert RULES.rule("actual_validated").completed_by == [
        "recorded_and_validated",
        "unknown_after_attempts",
    ]
    assert all(r.attempts == 3 for r in RULES.entries)
    assert RULES.due_soon_days == 14


def test_unknown_key_error_names_file_and_entry(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    text = (Path(__file__).parents[2] / "sheets_templates" / "deadlines.toml").read_text()
    path.write_text(
        text.replace('key = "intended"\n', 'key = "intended"\ncolour = "red"\n'), encoding="utf-8"
    )
    with pytest.raises(SpecError) as exc:
        load_rules(path)
    msg = str(exc.value)
    assert str(path) in msg
    assert "entries[1] (key 'intended').colour" in msg
    assert "unknown key" in msg


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"due": {"month": 2, "day": 30}}, "month 2 has no day 30"),
        ({"due": {"term": "winter", "edge": "end"}}, "term"),
        ({"completed_by": ["answered"]}, "completed_by"),
        ({"attempts": 0}, "attempts"),
        ({"key": "Bad Key"}, "key"),
    ],
)
def test_bad_entry_is_rejected_naming_the_key(change: dict[str, Any], expected: str) -> None:
    data = rules_data()
    data["entries"][2].update(change)
    with pytest.raises(SpecError) as exc:
        parse_rules(data, "my-rules.toml")
    assert "my-rules.toml" in str(exc.value)
    assert "entries[2]" in str(exc.value)
    assert expected in str(exc.value)


def test_duplicate_keys_and_contradictory_outcomes_are_rejected() -> None:
    data = rules_data()
    data["entries"][1]["key"] = "current_intended"
    with pytest.raises(SpecError, match="two entries have key 'current_intended'"):
        parse_rules(data)
    data = rules_data()
    data["contacts"]["successful_outcomes"] = ["no reply"]
    with pytest.raises(SpecError, match="both successful and unsuccessful"):
        parse_rules(data)


def test_missing_file_is_a_spec_error(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="not found"):
        load_rules(tmp_path / "nope.toml")


def test_completed_by_accepts_a_single_value() -> None:
    rule = Rule.model_validate(
        {
            "key": "x",
            "label": "X",
            "cohort": "past",
            "due": {"month": 1, "day": 1},
            "completed_by": "recorded",
        }
    )
    assert rule.completed_by == ["recorded"]


def test_entry_columns_cover_every_rule() -> None:
    cols = entry_columns(RULES)
    assert "y3_summer_destination" in cols and "y2_autumn_validated" in cols
    assert len(cols) == 9 * len(RULES.entries)


# --- term dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "easter"),
    [
        (2024, D(2024, 3, 31)),
        (2025, D(2025, 4, 20)),
        (2026, D(2026, 4, 5)),
        (2038, D(2038, 4, 25)),
        (2285, D(2285, 3, 22)),
    ],
)
def test_easter(year: int, easter: D) -> None:
    assert easter_sunday(year) == easter


@pytest.mark.parametrize("year", range(1990, 2101))
def test_default_terms_are_ordered_and_plausible(year: int) -> None:
    t = default_terms(year)  # TermDates validates the order itself
    assert t.autumn_start.weekday() == 0 and D(year, 9, 1) <= t.autumn_start <= D(year, 9, 7)
    assert t.autumn_end.weekday() == 4 and t.autumn_end <= D(year, 12, 22)
    assert t.summer_end.weekday() == 4 and t.summer_end <= D(year + 1, 7, 24)
    assert (t.summer_start - t.spring_end).days == 11  # Thursday to the Monday 11 days later


def test_terms_for_uses_config_else_warns() -> None:
    got, warnings = terms_for(2025, TERMS)
    assert got == TERMS["2025-26"] and warnings == []
    got, warnings = terms_for(2031, TERMS)
    assert got == default_terms(2031)
    assert len(warnings) == 1 and '[term_dates."2031-32"]' in warnings[0]


# --- due dates, table-driven ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "leaving_year", "term_dates", "expected"),
    [
        # Seed 003: end of the 2nd week of the autumn term after leaving.
        ("intended", 2024, TERMS, D(2024, 9, 13)),  # starts Wed 4 Sep: weeks end 6th, 13th
        ("intended", 2025, TERMS, D(2025, 9, 12)),  # starts Wed 3 Sep
        ("intended", 2025, LATE_START, D(2025, 9, 19)),  # late start Mon 8 Sep
        ("intended", 2026, TERMS, D(2026, 9, 11)),  # starts Fri 4 Sep: a one-day week 1
        ("intended", 2027, TERMS, D(2027, 9, 10)),  # starts Thu 2 Sep
        ("actual_unvalidated", 2023, TERMS, D(2023, 12, 31)),
        ("actual_unvalidated", 2025, TERMS, D(2025, 12, 31)),
        ("actual_validated", 2023, TERMS, D(2024, 3, 31)),  # leap year 2024
        ("actual_validated", 2025, TERMS, D(2026, 3, 31)),
        ("current_intended", 2026, TERMS, D(2026, 7, 31)),
        ("y1_summer", 2024, TERMS, D(2025, 7, 22)),
        ("y2_autumn", 2025, TERMS, D(2026, 12, 18)),
        ("y2_spring", 2025, TERMS, D(2027, 3, 26)),
        ("y2_summer", 2025, TERMS, D(2027, 7, 21)),
        ("y3_autumn", 2025, TERMS, D(2027, 12, 17)),
        ("y3_spring", 2025, TERMS, D(2028, 3, 31)),
        ("y3_summer", 2025, TERMS, D(2028, 7, 20)),
    ],
)
def test_due_dates(
    key: str, leaving_year: int, term_dates: dict[str, TermDates], expected: D
) -> None:
    got, warnings = due_date(RULES.rule(key), leaving_year, term_dates)
    assert got == expected
    assert warnings == []


@pytest.mark.parametrize(
    ("expr", "leaving_year", "expected", "warns"),
    [
        (FixedDay(month=2, day=29, year_offset=1), 2023, D(2024, 2, 29), False),
        (FixedDay(month=2, day=29, year_offset=1), 2024, D(2025, 2, 28), True),
        (FixedDay(month=2, day=28, year_offset=0, days=1), 2024, D(2024, 2, 29), False),
        (FixedDay(month=2, day=28, year_offset=0, days=1), 2025, D(2025, 3, 1), False),
        (FixedDay(month=3, day=1, year_offset=0, days=-1), 2028, D(2028, 2, 29), False),
        (TermDay(term="spring", week=8, edge="end", year_offset=-1), 2024, D(2024, 2, 23), False),
        (TermDay(term="autumn", week=1, edge="start"), 2025, D(2025, 9, 3), False),
        (TermDay(term="autumn", week=2, edge="start"), 2025, D(2025, 9, 8), False),
        (TermDay(term="autumn", week=20, edge="end"), 2025, D(2025, 12, 19), True),
        (TermDay(term="summer", edge="end", year_offset=-1), 2025, D(2025, 7, 22), False),
    ],
)
def test_expressions_leap_years_and_edges(
    expr: FixedDay | TermDay, leaving_year: int, expected: D, warns: bool
) -> None:
    got, warnings = resolve(expr, leaving_year, TERMS)
    assert got == expected
    assert bool(warnings) is warns


def test_missing_year_falls_back_with_a_warning() -> None:
    got, warnings = due_date(RULES.rule("intended"), 2030, TERMS)
    # 1 September 2030 is a Sunday: default start Monday 2nd, week 2 ends Friday 13th.
    assert got == D(2030, 9, 13)
    assert any("2030-31" in w for w in warnings)


@pytest.mark.parametrize("term_dates", [TERMS, LATE_START, {}])
@pytest.mark.parametrize("leaving_year", [2023, 2024, 2025, 2026, 2027, 2032])
def test_windows_tile_the_tracking_period(
    term_dates: dict[str, TermDates], leaving_year: int
) -> None:
    windows = [window_of(r, leaving_year, term_dates)[0] for r in RULES.entries]
    assert all(w is not None for w in windows)
    spans = [w for w in windows if w is not None]
    for (_, close), (nxt, _) in itertools.pairwise(spans):
        assert nxt == close + dt.timedelta(days=1)  # no gap, no overlap
    for rule, (opens, closes) in zip(RULES.entries, spans, strict=True):
        assert opens <= closes
        assert closes == due_date(rule, leaving_year, term_dates)[0]


# --- which entry a response fills ---------------------------------------------------------------


UTC = dt.UTC


@pytest.mark.parametrize(
    ("submitted", "expected"),
    [
        (dt.datetime(2024, 8, 31, 12, tzinfo=UTC), None),  # before Year 11/13 begins
        (dt.datetime(2024, 9, 4, 9, tzinfo=UTC), "current_intended"),
        (dt.datetime(2025, 5, 1, 9, tzinfo=UTC), "current_intended"),
        (dt.datetime(2025, 7, 31, 22, 59, tzinfo=UTC), "current_intended"),  # 23:59 BST
        (dt.datetime(2025, 7, 31, 23, 30, tzinfo=UTC), "intended"),  # 00:30 BST on 1 August
        (dt.datetime(2025, 9, 12, 15), "intended"),  # naive: school time
        (dt.datetime(2025, 9, 13, 8), "actual_unvalidated"),
        (dt.datetime(2025, 12, 31, 23, 59, tzinfo=UTC), "actual_unvalidated"),  # GMT in winter
        (dt.datetime(2026, 1, 1, 0, 0, tzinfo=UTC), "actual_unvalidated"),  # validation: staff
        (dt.datetime(2026, 4, 1, 10, tzinfo=UTC), "y1_summer"),
        (dt.datetime(2027, 1, 10, 10, tzinfo=UTC), "y2_spring"),
        (dt.datetime(2028, 7, 20, 10, tzinfo=UTC), "y3_summer"),
        (dt.datetime(2028, 7, 21, 10, tzinfo=UTC), None),  # tracking over
    ],
)
def test_entry_for_response(submitted: dt.datetime, expected: str | None) -> None:
    assert entry_for_response(RULES, TERMS, submitted, 2025) == expected
    default_entry_for = functools.partial(entry_for_response, RULES, TERMS)
    assert default_entry_for(submitted, 2025) == expected
    assert entry_resolver(RULES, TERMS)(submitted, leaving_year=2025) == expected


def test_entry_for_response_late_start_moves_the_boundary() -> None:
    moment = dt.datetime(2025, 9, 15, 10, tzinfo=UTC)
    assert entry_for_response(RULES, TERMS, moment, 2025) == "actual_unvalidated"
    assert entry_for_response(RULES, LATE_START, moment, 2025) == "intended"


def test_form_fills_redirects_or_closes_an_entry_to_responses() -> None:
    january = dt.datetime(2026, 1, 10, tzinfo=UTC)
    data = rules_data()
    data["entries"][3].pop("form_fills")
    assert entry_for_response(parse_rules(data), TERMS, january, 2025) == "actual_validated"
    data["entries"][3]["form_fills"] = False
    assert entry_for_response(parse_rules(data), TERMS, january, 2025) is None
    data["entries"][3]["form_fills"] = "nonsense"
    with pytest.raises(SpecError, match="form_fills names 'nonsense'"):
        parse_rules(data)


def test_entry_without_window_never_takes_responses() -> None:
    data = rules_data()
    for entry in data["entries"]:
        entry.pop("window")
    rules = parse_rules(data)
    assert entry_for_response(rules, TERMS, dt.datetime(2025, 9, 1, tzinfo=UTC), 2025) is None


# --- cohorts and states --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (D(2026, 11, 23), [2024, 2025, 2026, 2027]),
        (D(2026, 7, 31), [2023, 2024, 2025, 2026]),
        (D(2026, 8, 1), [2024, 2025, 2026, 2027]),
    ],
)
def test_live_cohorts(as_of: D, expected: list[int]) -> None:
    assert live_cohorts(as_of) == expected
    assert academic_year_of(as_of) == expected[-2]


def pupil(
    upn: str, year: int, school: str = "Northfield", phase: str = "Y11", **cells: str
) -> dict[str, str]:
    row = {
        "school": school,
        "upn": upn,
        "leaving_year": str(year),
        "phase": phase,
        "do_not_contact": "N",
    }
    for col in entry_columns(RULES):
        row[col] = ""
    row.update(cells)
    return row


def frame(*rows: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), dtype=str)


def status_row(
    status: pd.DataFrame, entry: str, year: int, school: str = "Northfield"
) -> dict[str, Any]:
    sel = status[
        (status["entry"] == entry) & (status["leaving_year"] == year) & (status["school"] == school)
    ]
    assert len(sel) == 1
    return dict(sel.iloc[0])


@pytest.mark.parametrize("rule", RULES.entries, ids=lambda r: r.key)
@pytest.mark.parametrize("leaving_year", [2024, 2025])
def test_every_deadline_either_side_and_on_the_day(rule: Rule, leaving_year: int) -> None:
    due, _ = due_date(rule, leaving_year, TERMS)
    empty = frame(pupil("A1", leaving_year))
    cases = [
        (due - dt.timedelta(days=15), "upcoming", 15),
        (due - dt.timedelta(days=14), "due_soon", 14),
        (due - dt.timedelta(days=1), "due_soon", 1),
        (due, "due_soon", 0),
        (due + dt.timedelta(days=1), "overdue", -1),
    ]
    for as_of, state, days_left in cases:
        if leaving_year not in live_cohorts(as_of):
            continue
        row = status_row(entry_status(empty, RULES, TERMS, as_of), rule.key, leaving_year)
        assert (row["state"], row["days_left"], row["due"]) == (state, days_left, due)
    # Recorded on the day: complete; the day after: overdue until then, completed late after.
    done = {
        f"{rule.key}_destination": "College",
        f"{rule.key}_source": "form",
        f"{rule.key}_validated": "Y",
    }
    on_day = frame(pupil("A1", leaving_year, **done, **{f"{rule.key}_recorded": due.isoformat()}))
    late_day = (due + dt.timedelta(days=1)).isoformat()
    late = frame(pupil("A1", leaving_year, **done, **{f"{rule.key}_recorded": late_day}))
    after = due + dt.timedelta(days=2)
    if leaving_year in live_cohorts(after):
        assert (
            status_row(entry_status(on_day, RULES, TERMS, after), rule.key, leaving_year)["state"]
            == "complete"
        )
        assert (
            status_row(entry_status(late, RULES, TERMS, after), rule.key, leaving_year)["state"]
            == "completed_late"
        )
        assert (
            status_row(entry_status(late, RULES, TERMS, due), rule.key, leaving_year)["state"]
            == "due_soon"
        )


def test_two_cohorts_on_either_side_of_the_same_deadline() -> None:
    # 2026's autumn term starts Fri 4 Sep, so the 2026 leavers' intended entry is due Fri 11 Sep;
    # the 2025 leavers' was due on 12 Sep 2025 and was completed on time.
    rows = [
        pupil("A1", 2026),
        pupil("B1", 2025, intended_destination="College", intended_recorded="2025-09-10"),
    ]
    status = entry_status(frame(*rows), RULES, TERMS, D(2026, 9, 10))
    assert status_row(status, "intended", 2026)["state"] == "due_soon"
    assert status_row(status, "intended", 2025)["state"] == "complete"
    status = entry_status(frame(*rows), RULES, TERMS, D(2026, 9, 12))
    assert status_row(status, "intended", 2026)["state"] == "overdue"
    assert status_row(status, "intended", 2026)["days_left"] == -1


def test_entry_status_counts_schools_cohorts_and_completion_rules() -> None:
    rows = [
        pupil(
            "A1",
            2025,
            actual_validated_destination="College",
            actual_validated_validated="Y",
            actual_validated_recorded="2026-02-01",
        ),
        pupil(
            "A2",
            2025,
            actual_validated_destination="College",
            actual_validated_validated="N",
            actual_validated_recorded="2026-02-01",
        ),
        pupil(
            "A3",
            2025,
            actual_validated_destination="Unknown",
            actual_validated_source=UNKNOWN_SOURCE,
            actual_validated_recorded="2026-03-01",
        ),
        pupil("A4", 2025),
        pupil(
            "S1",
            2025,
            school="Southgate",
            phase="Y13",
            intended_destination="Unknown",
            intended_source=UNKNOWN_SOURCE,
            intended_recorded="2025-09-01",
        ),
        pupil("OLD", 2021),  # tracking over
    ]
    status = entry_status(frame(*rows), RULES, TERMS, D(2026, 3, 20))
    assert set(status["leaving_year"]) == {2025}
    assert list(status.columns)[:4] == ["school", "leaving_year", "phase", "entry"]
    row = status_row(status, "actual_validated", 2025)
    assert (row["complete"], row["total"], row["percent"], row["state"]) == (2, 4, 50.0, "due_soon")
    south = status_row(status, "intended", 2025, school="Southgate")
    assert (south["phase"], south["complete"], south["total"], south["state"]) == (
        "Y13",
        1,
        1,
        "complete",
    )
    # "recorded" alone does not accept the unknown placeholder.
    data = rules_data()
    data["entries"][1]["completed_by"] = ["recorded"]
    strict = entry_status(frame(*rows), parse_rules(data), TERMS, D(2026, 3, 20))
    assert status_row(strict, "intended", 2025, school="Southgate")["state"] == "overdue"
    only = entry_status(frame(*rows), RULES, TERMS, D(2026, 3, 20), school="southgate")
    assert set(only["school"]) == {"Southgate"}
    assert len(only) == len(RULES.entries)


def test_a_record_dated_after_as_of_does_not_count_yet() -> None:
    rows = [
        pupil(
            "A1",
            2025,
            actual_unvalidated_destination="College",
            actual_unvalidated_recorded="2025-12-01",
        )
    ]
    before = entry_status(frame(*rows), RULES, TERMS, D(2025, 11, 30))
    assert status_row(before, "actual_unvalidated", 2025)["complete"] == 0
    after = entry_status(frame(*rows), RULES, TERMS, D(2025, 12, 1))
    assert status_row(after, "actual_unvalidated", 2025)["state"] == "complete"


def test_missing_entry_columns_are_skipped_with_a_warning() -> None:
    row = {k: v for k, v in pupil("A1", 2025).items() if not k.startswith("y3_")}
    status = entry_status(frame(row), RULES, TERMS, D(2026, 1, 10))
    assert not any(status["entry"].str.startswith("y3_"))
    assert any("y3_autumn_destination" in w for w in status.attrs["warnings"])
    assert "A1" not in " ".join(status.attrs["warnings"])


def test_deadlines_tab_is_text_sorted_and_anonymous() -> None:
    rows = [
        pupil("A1", 2025, intended_destination="College", intended_recorded="2025-09-01"),
        pupil("A2", 2025),
    ]
    status = entry_status(frame(*rows), RULES, TERMS, D(2025, 10, 1))
    tab = deadlines_tab(status)
    assert list(tab.columns) == list(status.columns)
    assert all(isinstance(v, str) for v in tab.to_numpy().ravel())
    assert list(tab["due"]) == sorted(tab["due"])
    intended = tab[tab["entry"] == "intended"].iloc[0]
    assert (intended["complete"], intended["total"], intended["percent"], intended["state"]) == (
        "1",
        "2",
        "50.0",
        "overdue",
    )
    assert set(tab["state"]) <= set(STATES)
    assert "A1" not in tab.to_csv()
    assert list(deadlines_tab(status.iloc[0:0]).columns) == list(status.columns)


# --- properties ----------------------------------------------------------------------------------

ENTRY_KEYS = [r.key for r in RULES.entries]


@st.composite
def destinations_frames(draw: st.DrawFn) -> pd.DataFrame:
    """A few pupils of two cohorts with random entry cells, dates spread over the tracking years."""
    n = draw(st.integers(min_value=1, max_value=6))
    rows = []
    for i in range(n):
        cells: dict[str, str] = {}
        for key in draw(st.lists(st.sampled_from(ENTRY_KEYS), max_size=5, unique=True)):
            cells[f"{key}_destination"] = draw(
                st.sampled_from(["College", "Unknown", "Apprenticeship"])
            )
            cells[f"{key}_source"] = draw(st.sampled_from(["form", "staff", UNKNOWN_SOURCE]))
            cells[f"{key}_validated"] = draw(st.sampled_from(["Y", "N", ""]))
            recorded = draw(st.one_of(st.none(), st.dates(D(2024, 9, 1), D(2028, 8, 31))))
            cells[f"{key}_recorded"] = recorded.isoformat() if recorded else ""
        rows.append(pupil(f"P{i}", draw(st.sampled_from([2025, 2026])), **cells))
    return frame(*rows)


def _by_key(status: pd.DataFrame) -> dict[tuple[Any, ...], dict[str, Any]]:
    return {(r["school"], r["leaving_year"], r["entry"]): r for r in status.to_dict("records")}


@settings(max_examples=60, deadline=None)
@given(destinations_frames(), st.dates(D(2025, 8, 1), D(2028, 7, 31)), st.integers(0, 400))
def test_state_never_goes_backwards_as_time_passes(dest: pd.DataFrame, as_of: D, step: int) -> None:
    later = as_of + dt.timedelta(days=step)
    first = _by_key(entry_status(dest, RULES, TERMS, as_of))
    second = _by_key(entry_status(dest, RULES, TERMS, later))
    for key, row in first.items():
        if key not in second:
            continue  # the cohort's tracking ended
        before, after = row["state"], second[key]["state"]
        assert STATE_RANK[after] >= STATE_RANK[before], (key, before, after)
        if before in ("complete", "completed_late"):
            assert after == before
        assert second[key]["complete"] >= row["complete"]


@settings(max_examples=60, deadline=None)
@given(
    destinations_frames(),
    st.dates(D(2025, 8, 1), D(2028, 7, 31)),
    st.data(),
)
def test_adding_a_destination_never_makes_an_entry_less_complete(
    dest: pd.DataFrame, as_of: D, data: st.DataObject
) -> None:
    pos = data.draw(st.integers(0, len(dest) - 1))
    key = data.draw(st.sampled_from(ENTRY_KEYS))
    if dest.iloc[pos][f"{key}_destination"]:
        return
    recorded = data.draw(st.one_of(st.none(), st.dates(D(2024, 9, 1), D(2028, 8, 31))))
    added = dest.copy()
    added.iloc[pos, added.columns.get_loc(f"{key}_destination")] = "College"
    added.iloc[pos, added.columns.get_loc(f"{key}_source")] = data.draw(
        st.sampled_from(["form", "staff"])
    )
    added.iloc[pos, added.columns.get_loc(f"{key}_validated")] = data.draw(
        st.sampled_from(["Y", "N"])
    )
    added.iloc[pos, added.columns.get_loc(f"{key}_recorded")] = (
        recorded.isoformat() if recorded else ""
    )
    before = _by_key(entry_status(dest, RULES, TERMS, as_of))
    after = _by_key(entry_status(added, RULES, TERMS, as_of))
    assert before.keys() == after.keys()
    for k, row in before.items():
        assert after[k]["complete"] >= row["complete"]
        assert after[k]["percent"] >= row["percent"]
        if row["state"] in ("complete", "completed_late"):
            assert after[k]["state"] == row["state"]
