"""The at-risk list on a hand-built Y11 cohort: every reason and the order worked out by hand.

Rounds (shipped deadlines.toml), cohort 2026: December round 2025-12-01..2026-01-16 (expects a
destination), April round 2026-04-01..2026-05-15 (destination, application), results round
2026-08-01..2026-09-30 (destination, application, offer). Weights: no destination 4, no
application 3, no offer 3, level above track 2, no response 1.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from gsync.deadlines import load_rules
from gsync.risk import assess, level_number, risk_rows
from gsync.template import load_template

RULES = load_rules()

PUPILS = [
    # upn, send, disadvantaged, eal, looked_after, on_track, interview, form A intended (dest, recorded)
    ("A", "N", "N", "N", "N", "Level 3", "", ("", "")),
    ("B", "K", "N", "N", "N", "", "", ("", "")),
    ("C", "N", "Y", "N", "Y", "", "2026-02-01", ("", "")),
    ("D", "N", "N", "N", "N", "Level 2", "", ("", "")),
    ("E", "N", "N", "Y", "N", "", "2026-03-01", ("", "")),
    ("F", "N", "N", "N", "N", "", "", ("", "")),
    ("G", "N", "N", "N", "N", "", "", ("Apprenticeship", "2026-04-20")),
]


def destinations(year: str = "2026") -> pd.DataFrame:
    rows = []
    for upn, send, dis, eal, la, track, interview, (fa_dest, fa_rec) in PUPILS:
        rows.append(
            {
                "school": "Northfield",
                "upn": upn,
                "leaving_year": year,
                "phase": "Y11",
                "legal_forename": f"F{upn}",
                "legal_surname": f"S{upn}",
                "preferred_forename": "",
                "preferred_surname": "",
                "send": send,
                "disadvantaged": dis,
                "eal": eal,
                "looked_after": la,
                "on_track_level": track,
                "latest_guidance_interview": interview,
                "current_intended_destination": fa_dest,
                "current_intended_recorded": fa_rec,
            }
        )
    return pd.DataFrame(rows, dtype=object)


def intention(upn: str, rnd: str, day: str, dest: str, level: str = "") -> dict[str, str]:
    return {
        "school": "Northfield",
        "upn": upn,
        "leaving_year": "2026",
        "round": rnd,
        "response_id": f"r-{upn}-{rnd}",
        "submitted": day,
        "destination": dest,
        "other": "",
        "provider": "",
        "course": "",
        "level": level,
    }


def application(upn: str, rnd: str, day: str, provider: str, status: str) -> dict[str, str]:
    return {
        "school": "Northfield",
        "upn": upn,
        "leaving_year": "2026",
        "round": rnd,
        "number": "1",
        "provider": provider,
        "course": "Course",
        "level": "Level 3",
        "status": status,
        "recorded": day,
    }


INTENTIONS = pd.DataFrame(
    [
        intention("A", "y11_december", "2025-12-05", "College", "Level 3"),
        intention("A", "y11_april", "2026-04-10", "College", "Level 3"),
        intention("C", "y11_december", "2025-12-06", "Not decided yet"),
        intention("C", "y11_april", "2026-04-11", "Not decided yet"),
        intention("D", "y11_december", "2025-12-07", "Sixth form", "Level 3"),
        intention("D", "y11_april", "2026-04-12", "Sixth form", "Level 3"),
        intention("E", "y11_december", "2025-12-08", "College", "Level 2"),
        intention("F", "y11_december", "2025-12-09", "College", "Level 2"),
    ],
    dtype=object,
)
APPLICATIONS = pd.DataFrame(
    [
        application("A", "y11_april", "2026-04-10", "Town College", "applied"),
        application("D", "y11_april", "2026-04-12", "Sixth", "interview"),
        application("E", "y11_december", "2025-12-08", "Town College", "applied"),
        application("F", "y11_december", "2025-12-09", "Town College", "applied"),
    ],
    dtype=object,
)


def run(as_of: dt.date, intentions: pd.DataFrame = INTENTIONS, apps: pd.DataFrame = APPLICATIONS):  # type: ignore[no-untyped-def]
    return assess(destinations(), intentions, apps, RULES, {}, as_of)


def test_after_the_april_round_order_and_reasons_by_hand() -> None:
    entries = run(dt.date(2026, 5, 20))  # both rounds closed; the April round is current
    got = [(e.upn, e.reasons, e.score, e.priority_groups) for e in entries]
    assert got == [
        # B: nothing at all (4 + 3 + 1), SEND.
        ("B", ("no_intended_destination", "no_application", "no_response"), 8, ("SEND",)),
        # C: answered both rounds "Not decided yet", no application (4 + 3); two groups.
        (
            "C",
            ("no_intended_destination", "no_application"),
            7,
            ("disadvantaged", "looked after"),
        ),
        # G: Form A names an apprenticeship (an intention), no application, no April answer.
        ("G", ("no_application", "no_response"), 4, ()),
        # D: intends Level 3, on track for Level 2.
        ("D", ("level_above_on_track",), 2, ()),
        # E and F: no April answer (1 each); E is EAL, so first.
        ("E", ("no_response",), 1, ("EAL",)),
        ("F", ("no_response",), 1, ()),
    ]
    by_upn = {e.upn: e for e in entries}
    assert by_upn["D"].labels == ("intends Level 3 but is on track for Level 2",)
    assert by_upn["G"].intended_destination == "Apprenticeship"
    assert all(e.current_round == "y11_april" for e in entries)
    assert "A" not in by_upn  # a plan, an application, answered both rounds, level fits


def test_an_open_round_only_counts_for_those_who_answered_it() -> None:
    # 10 January: the December round is open (closes 16 January); the April round is not open.
    entries = {e.upn: e.reasons for e in run(dt.date(2026, 1, 10))}
    assert entries["B"] == ("no_response",)  # not answered yet: no plan is not yet held against B
    assert entries["C"] == ("no_intended_destination",)  # answered "Not decided yet"
    assert entries["G"] == ("no_response",)  # Form A's intention is recorded later (20 April)
    assert "E" not in entries and "F" not in entries and "A" not in entries
    assert entries["D"] == ("level_above_on_track",)


def test_no_offer_by_the_results_round_and_latest_status_wins() -> None:
    intents = pd.concat(
        [
            INTENTIONS,
            pd.DataFrame(
                [
                    intention("A", "y11_results", "2026-08-21", "College", "Level 3"),
                    intention("D", "y11_results", "2026-08-21", "Sixth form", "Level 2"),
                ],
                dtype=object,
            ),
        ],
        ignore_index=True,
    )
    apps = pd.concat(
        [
            APPLICATIONS,
            pd.DataFrame(
                [
                    # A's application: an offer by results day.
                    application("A", "y11_results", "2026-08-21", "Town College", "accepted"),
                    # D's interview ended in a rejection (latest round wins).
                    application("D", "y11_results", "2026-08-21", "Sixth", "rejected"),
                ],
                dtype=object,
            ),
        ],
        ignore_index=True,
    )
    entries = {e.upn: e for e in run(dt.date(2026, 8, 25), intents, apps)}
    assert "A" not in entries
    assert entries["D"].reasons == ("no_offer",)  # now intends Level 2: the level fits
    assert entries["E"].reasons == ("no_offer", "no_response")  # applied, never an offer
    # After the last round closes the cohort leaves the list (Form A and the entries take over).
    assert run(dt.date(2026, 10, 1), intents, apps) == []


def test_ties_put_never_interviewed_then_oldest_interview_first() -> None:
    frame = destinations()
    frame.loc[frame["upn"] == "E", "eal"] = "N"
    frame.loc[frame["upn"] == "E", "latest_guidance_interview"] = "2026-03-01"
    frame.loc[frame["upn"] == "F", "latest_guidance_interview"] = "2026-01-15"
    order = [
        e.upn for e in assess(frame, INTENTIONS, APPLICATIONS, RULES, {}, dt.date(2026, 5, 20))
    ]
    assert order[-2:] == ["F", "E"]
    frame.loc[frame["upn"] == "F", "latest_guidance_interview"] = ""
    order = [
        e.upn for e in assess(frame, INTENTIONS, APPLICATIONS, RULES, {}, dt.date(2026, 5, 20))
    ]
    assert order[-2:] == ["F", "E"]
    frame.loc[frame["upn"] == "E", "latest_guidance_interview"] = ""
    order = [
        e.upn for e in assess(frame, INTENTIONS, APPLICATIONS, RULES, {}, dt.date(2026, 5, 20))
    ]
    assert order[-2:] == ["E", "F"]  # same everything: by UPN


def test_other_cohorts_and_schools_are_not_listed() -> None:
    later = destinations("2027")  # their December round opens in December 2026
    assert assess(later, None, None, RULES, {}, dt.date(2026, 5, 20)) == []
    assert assess(destinations(), None, None, RULES, {}, dt.date(2026, 5, 20), school="Other") == []


@pytest.mark.parametrize(
    ("text", "level"),
    [("Entry level", 0), ("Level 1", 1), ("level 8", 8), ("Not sure", None), ("", None)],
)
def test_level_number(text: str, level: int | None) -> None:
    assert level_number(text) == level


def test_risk_rows_follow_the_template() -> None:
    tab = load_template().tab("risk")
    rows = risk_rows(run(dt.date(2026, 5, 20)), tab.keys)
    assert [r["rank"] for r in rows] == ["1", "2", "3", "4", "5", "6"]
    assert rows[0]["upn"] == "B" and rows[0]["forename"] == "FB"
    assert rows[0]["reason_codes"] == "no_intended_destination no_application no_response"
    assert rows[1]["priority_groups"] == "disadvantaged, looked after"
    assert rows[1]["latest_guidance_interview"] == "2026-02-01"
