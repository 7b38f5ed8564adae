"""The pure round merge: rows per pupil per round, applications, idempotence, staff edits."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from gsync.deadlines import load_rules
from gsync.rounds import application_numbers, merge_rounds, normalise_round_responses

RULES = load_rules()
NOW = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
KEYS = ["full_name", "date_of_birth", "leaving_year", "destination", "level", "share_with_la"]
KEYS += [f"app{n}_{f}" for n in (1, 2) for f in ("provider", "course", "level", "status")]
QMAP = {k: f"q{i}" for i, k in enumerate(KEYS)}


def response(rid: str, when: str, email: str, **answers: str) -> dict[str, Any]:
    return {
        "responseId": rid,
        "createTime": when,
        "lastSubmittedTime": when,
        "respondentEmail": email,
        "answers": {
            QMAP[k]: {"textAnswers": {"answers": [{"value": v}]}} for k, v in answers.items() if v
        },
    }


DEST = pd.DataFrame(
    [
        {
            "school": "Northfield",
            "upn": "U1",
            "leaving_year": "2026",
            "phase": "Y11",
            "legal_forename": "Ann",
            "legal_surname": "Bee",
            "date_of_birth": "2010-02-03",
            "school_email": "ann@pupils.example",
        }
    ],
    dtype=object,
)
BASE = {"full_name": "Ann Bee", "date_of_birth": "2010-02-03", "leaving_year": "2026"}


def merge(tabs: dict[str, pd.DataFrame], raw: list[dict[str, Any]]) -> Any:
    return merge_rounds(
        tabs,
        {"y11_april": raw},
        school="Northfield",
        rules=RULES,
        question_maps={"y11_april": QMAP},
        now=NOW,
    )


def test_application_numbers_and_normalising() -> None:
    assert application_numbers(QMAP) == [1, 2]
    rows = normalise_round_responses(
        [
            response(
                "r1",
                "2026-04-10T10:00:00Z",
                "x@y",
                **BASE,
                destination="Not decided yet",
                share_with_la="No, do not share it",
                app1_provider="Town",
                app1_status="Offer",
                app2_status="Accepted",
            )
        ],
        QMAP,
    )
    (row,) = rows
    assert row["destination"] == "Not decided yet" and row["destination_other"] == ""
    assert row["share_with_la"] == "N"
    assert [a["status"] for a in row["applications"]] == ["offer", "accepted"]
    assert row["issues"] == "incomplete_app2"  # a status without provider or course
    assert "missing_consent" not in row["issues"]


def test_merge_idempotent_then_edit_blanks_dropped_application_then_staff_edit_conflicts() -> None:
    first = response(
        "r1",
        "2026-04-10T10:00:00Z",
        "ann@pupils.example",
        **BASE,
        destination="College",
        level="Level 3",
        share_with_la="Yes, you may share it",
        app1_provider="Town",
        app1_course="A levels",
        app1_status="Applied",
        app2_provider="City",
        app2_course="BTEC",
        app2_status="Interview",
    )
    one = merge({"destinations": DEST}, [first])
    assert one.counts["applied"] == 1 and one.counts["applications"] == 2
    (intent,) = one.tabs["intentions"].to_dict("records")
    assert (intent["upn"], intent["round"], intent["destination"], intent["share_with_la"]) == (
        "U1",
        "y11_april",
        "College",
        "Y",
    )
    again = merge(one.tabs, [first])
    assert again.counts["applied"] == 0 and again.counts["applications"] == 0
    assert again.tabs["intentions"].equals(one.tabs["intentions"])
    assert again.tabs["applications"].equals(one.tabs["applications"])
    # The pupil edits the response: one application left, now an offer.
    edited = response(
        "r1",
        "2026-04-12T10:00:00Z",
        "ann@pupils.example",
        **BASE,
        destination="College",
        level="Level 3",
        share_with_la="Yes, you may share it",
        app1_provider="Town",
        app1_course="A levels",
        app1_status="Offer",
    )
    two = merge(one.tabs, [edited])
    apps = two.tabs["applications"]
    assert list(apps["status"]) == ["offer", ""] and list(apps["provider"]) == ["Town", ""]
    # Staff correct the destination; a newer submission then conflicts and is not written.
    tabs = dict(two.tabs)
    intents = tabs["intentions"].copy()
    intents.loc[0, "destination"] = "Sixth form"
    tabs["intentions"] = intents
    newer = dict(edited, lastSubmittedTime="2026-04-14T10:00:00Z")
    three = merge(tabs, [newer])
    assert three.tabs["intentions"].loc[0, "destination"] == "Sixth form"
    exc = three.tabs["exceptions"]
    assert list(exc["kind"]) == ["conflict"] and list(exc["entry"]) == ["y11_april"]
    assert three.counts["conflicts"] == 1


def test_unmatched_response_raises_an_exception_and_is_resolved_when_it_matches() -> None:
    stranger = response(
        "r9", "2026-04-10T10:00:00Z", "who@else", **{**BASE, "full_name": "Ann Sea"}
    )
    out = merge({"destinations": DEST}, [stranger])
    exc = out.tabs["exceptions"]
    assert list(exc["kind"]) == ["unmatched"] and len(out.tabs["intentions"]) == 0
    fixed = dict(stranger, respondentEmail="ann@pupils.example")
    later = merge(out.tabs, [fixed])
    assert "no longer applies" in later.tabs["exceptions"].loc[0, "reason"]
    assert len(later.tabs["intentions"]) == 1
