"""Contacts: counting unsuccessful attempts, three attempts then unknown, who is due a contact."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from gsync.contacts import (
    ATTEMPTS_COLUMNS,
    CONTACTS_COLUMNS,
    DUE_COLUMNS,
    apply_three_attempts,
    attempts,
    contacts_due,
)
from gsync.deadlines import UNKNOWN_SOURCE, entry_columns, entry_status, load_rules, parse_rules
from tests.unit.test_deadlines import TERMS

D = dt.date
RULES = load_rules()


def pupil(upn: str, year: int = 2025, school: str = "Northfield", **cells: str) -> dict[str, str]:
    row = {
        "school": school,
        "upn": upn,
        "leaving_year": str(year),
        "phase": "Y11",
        "do_not_contact": "N",
        "legal_forename": "Pupil",
        "legal_surname": upn,
        "personal_email": f"{upn.lower()}@example.com",
        "telephone": "07700 900000",
    }
    row.update(dict.fromkeys(entry_columns(RULES), ""))
    row.update(cells)
    return row


def contact(
    upn: str,
    date: str,
    outcome: str = "No reply",
    *,
    entry: str = "",
    channel: str = "Email",
    year: int = 2025,
) -> dict[str, str]:
    return {
        "school": "Northfield",
        "upn": upn,
        "leaving_year": str(year),
        "entry": entry,
        "date": date,
        "channel": channel,
        "outcome": outcome,
        "by": "SC",
        "note": "",
    }


def frame(rows: list[dict[str, str]], columns: list[str] | None = None) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns, dtype=str)


def contacts_frame(*rows: dict[str, str]) -> pd.DataFrame:
    return frame(list(rows), CONTACTS_COLUMNS)


DEST = frame([pupil("A1"), pupil("B2"), pupil("C3", do_not_contact="Y")])


def counts(result: pd.DataFrame) -> dict[tuple[str, str], int]:
    return {(r["upn"], r["entry"]): r["attempts"] for r in result.to_dict("records")}


# --- counting ------------------------------------------------------------------------------------


def test_attempts_counts_unsuccessful_inside_the_window() -> None:
    contacts = contacts_frame(
        contact("A1", "2025-10-01"),  # actual_unvalidated window (13 Sep - 31 Dec 2025)
        contact("a1 ", "2025-10-08", "NO ANSWER", channel="Phone"),  # case and spaces
        contact("A1", "2025-10-08", "no answer", channel="phone"),  # the same attempt twice
        contact("A1", "2025-10-09", "Reached"),
        contact("A1", "2025-10-11", "refused"),  # successful: never counts
        contact("A1", "2025-10-10", "Chatted"),  # not a listed outcome: never counts
        contact("A1", "2025-09-01"),  # intended window
        contact(
            "A1", "2025-09-01", entry="actual_unvalidated"
        ),  # explicit entry, outside its window
        contact("B2", "2026-02-01", entry="actual_validated"),
        contact("ZZ9", "2025-10-01"),  # not in Destinations
        contact("B2", "not a date"),
    )
    result = attempts(contacts, DEST, RULES, TERMS)
    assert list(result.columns) == ATTEMPTS_COLUMNS
    assert counts(result) == {
        ("A1", "actual_unvalidated"): 2,
        ("A1", "intended"): 1,
        ("B2", "actual_validated"): 1,
    }
    a1 = result[(result["upn"] == "A1") & (result["entry"] == "actual_unvalidated")].iloc[0]
    assert (a1["school"], a1["leaving_year"], a1["last_attempt"]) == (
        "Northfield",
        2025,
        "2025-10-08",
    )
    warnings = " ".join(result.attrs["warnings"])
    assert "unreadable date" in warnings and "not in Destinations" in warnings
    assert "outside the entry's window" in warnings
    assert "ZZ9" not in warnings and "A1" not in warnings  # no pupil details in warnings


def test_attempts_ignore_the_future_of_as_of() -> None:
    contacts = contacts_frame(contact("A1", "2025-10-01"), contact("A1", "2025-11-01"))
    assert counts(attempts(contacts, DEST, RULES, TERMS, as_of=D(2025, 10, 15))) == {
        ("A1", "actual_unvalidated"): 1
    }


def test_outcome_lists_come_from_the_rules() -> None:
    data = RULES.model_dump(exclude_none=True)
    data["contacts"]["unsuccessful_outcomes"] = ["Chatted"]

    rules = parse_rules(data)
    contacts = contacts_frame(contact("A1", "2025-10-01"), contact("A1", "2025-10-02", "chatted"))
    assert counts(attempts(contacts, DEST, rules, TERMS)) == {("A1", "actual_unvalidated"): 1}


# --- three attempts, then unknown ----------------------------------------------------------------


def test_two_attempts_leave_it_open_the_third_makes_it_unknown_a_later_destination_replaces_it() -> (
    None
):
    tries = [
        contact("A1", "2025-10-01", channel="Email"),
        contact("A1", "2025-10-15", "No answer", channel="Phone"),
        contact("A1", "2025-11-05", "Letter returned", channel="Letter"),
    ]
    two = apply_three_attempts(DEST, contacts_frame(*tries[:2]), RULES, TERMS, D(2025, 10, 20))
    assert two.equals(DEST)
    status = entry_status(two, RULES, TERMS, D(2025, 10, 20))
    row = status[(status["entry"] == "actual_unvalidated")].iloc[0]
    assert row["complete"] == 0

    three = apply_three_attempts(DEST, contacts_frame(*tries), RULES, TERMS, D(2025, 11, 6))
    a1 = three[three["upn"] == "A1"].iloc[0]
    assert a1["actual_unvalidated_destination"] == "Unknown"
    assert a1["actual_unvalidated_source"] == UNKNOWN_SOURCE
    assert a1["actual_unvalidated_recorded"] == "2025-11-06"
    assert a1["intended_destination"] == ""  # other entries untouched
    assert three[three["upn"] != "A1"].equals(DEST[DEST["upn"] != "A1"])
    assert DEST.loc[0, "actual_unvalidated_destination"] == ""  # input unchanged
    status = entry_status(three, RULES, TERMS, D(2025, 11, 6))
    assert status[status["entry"] == "actual_unvalidated"].iloc[0]["complete"] == 1

    # Applying again later keeps the placeholder's date (idempotent).
    again = apply_three_attempts(three, contacts_frame(*tries), RULES, TERMS, D(2025, 12, 1))
    assert again.equals(three)

    # A later response replaces the placeholder (the merge writes it); the rule leaves it alone.
    replaced = three.copy()
    idx = replaced.index[replaced["upn"] == "A1"][0]
    replaced.loc[idx, "actual_unvalidated_destination"] = "College"
    replaced.loc[idx, "actual_unvalidated_source"] = "form"
    replaced.loc[idx, "actual_unvalidated_recorded"] = "2025-11-20"
    after = apply_three_attempts(replaced, contacts_frame(*tries), RULES, TERMS, D(2025, 12, 1))
    assert after.equals(replaced)


def test_never_overwrites_a_recorded_destination() -> None:
    dest = frame(
        [
            pupil("A1", actual_validated_destination="College", actual_validated_validated="N"),
            pupil("B2"),
        ]
    )
    tries = contacts_frame(
        *[
            contact(u, f"2026-0{m}-10", entry="actual_validated")
            for u in ("A1", "B2")
            for m in (1, 2, 3)
        ]
    )
    out = apply_three_attempts(dest, tries, RULES, TERMS, D(2026, 3, 15))
    assert out.loc[0, "actual_validated_destination"] == "College"
    assert out.loc[0, "actual_validated_source"] == ""
    assert out.loc[1, "actual_validated_destination"] == "Unknown"


def test_attempts_for_one_entry_do_not_count_for_the_next() -> None:
    tries = contacts_frame(
        contact("A1", "2025-08-20"), contact("A1", "2025-09-01"), contact("A1", "2025-09-20")
    )
    out = apply_three_attempts(DEST, tries, RULES, TERMS, D(2025, 10, 1))
    assert out.equals(DEST)


def test_rules_without_unknown_after_attempts_are_not_marked() -> None:
    data = RULES.model_dump(exclude_none=True)
    data["entries"][2]["completed_by"] = ["recorded"]

    rules = parse_rules(data)
    tries = contacts_frame(*[contact("A1", f"2025-10-0{d}") for d in (1, 2, 3)])
    assert apply_three_attempts(DEST, tries, rules, TERMS, D(2025, 10, 5)).equals(DEST)
    assert not apply_three_attempts(DEST, tries, RULES, TERMS, D(2025, 10, 5)).equals(DEST)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["A1", "B2"]),
            st.dates(D(2025, 9, 13), D(2025, 12, 31)),
            st.sampled_from(["No reply", "Reached", "Wrong number"]),
            st.sampled_from(["Email", "Phone"]),
        ),
        max_size=10,
    ),
    st.booleans(),
)
def test_three_attempts_property(tries: list[tuple[str, D, str, str]], b2_recorded: bool) -> None:
    cells = {"actual_unvalidated_destination": "College"} if b2_recorded else {}
    dest = frame([pupil("A1"), pupil("B2", **cells)])
    contacts = contacts_frame(*[contact(u, d.isoformat(), o, channel=c) for u, d, o, c in tries])
    out = apply_three_attempts(dest, contacts, RULES, TERMS, D(2026, 1, 1))
    for upn in ("A1", "B2"):
        distinct = {(d, c) for u, d, o, c in tries if u == upn and o != "Reached"}
        row = out[out["upn"] == upn].iloc[0]
        if upn == "B2" and b2_recorded:
            assert row["actual_unvalidated_destination"] == "College"
            assert row["actual_unvalidated_source"] == ""
        elif len(distinct) >= 3:
            assert row["actual_unvalidated_source"] == UNKNOWN_SOURCE
        else:
            assert row["actual_unvalidated_destination"] == ""


# --- whom to contact -----------------------------------------------------------------------------


def test_contacts_due_lists_pupils_missing_the_entry_now_due() -> None:
    dest = frame(
        [
            pupil("A1"),
            pupil(
                "B2",
                actual_unvalidated_destination="College",
                actual_unvalidated_recorded="2025-10-01",
            ),
            pupil("C3", do_not_contact="Y"),
            pupil("D4", school="Southgate"),
            pupil("E5", year=2026),  # current leavers: their Form A entry
            pupil("F6", year=2020),  # tracking over
        ]
    )
    contacts = contacts_frame(
        contact("A1", "2025-10-01"), contact("A1", "2025-10-02", channel="Phone")
    )
    due = contacts_due(dest, contacts, RULES, TERMS, D(2025, 11, 1))
    assert list(due.columns) == [
        *DUE_COLUMNS,
        "legal_forename",
        "legal_surname",
        "personal_email",
        "telephone",
    ]
    assert list(due["upn"]) == ["A1", "E5", "D4"]
    got: dict[str, Any] = {r["upn"]: r for r in due.to_dict("records")}
    assert (got["A1"]["entry"], got["A1"]["due"], got["A1"]["attempts"]) == (
        "actual_unvalidated",
        "2025-12-31",
        2,
    )
    assert got["A1"]["last_attempt"] == "2025-10-02"
    assert got["A1"]["personal_email"] == "a1@example.com"
    assert (got["E5"]["entry"], got["E5"]["due"], got["E5"]["attempts"]) == (
        "current_intended",
        "2026-07-31",
        0,
    )
    only = contacts_due(dest, contacts, RULES, TERMS, D(2025, 11, 1), school="SOUTHGATE")
    assert list(only["upn"]) == ["D4"]


def test_contacts_due_moves_with_the_windows_and_omits_unknowns() -> None:
    dest = frame(
        [
            pupil(
                "A1",
                actual_unvalidated_destination="Unknown",
                actual_unvalidated_source=UNKNOWN_SOURCE,
                actual_unvalidated_recorded="2025-11-06",
            )
        ]
    )
    assert contacts_due(dest, contacts_frame(), RULES, TERMS, D(2025, 12, 1)).empty
    january = contacts_due(dest, contacts_frame(), RULES, TERMS, D(2026, 1, 2))
    assert list(january["entry"]) == ["actual_validated"]
    names = contacts_due(dest, contacts_frame(), RULES, TERMS, D(2026, 1, 2), contact_columns=())
    assert list(names.columns) == DUE_COLUMNS
