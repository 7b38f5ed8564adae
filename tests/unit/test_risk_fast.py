"""`risk.assess` works out the reasons of pupils with no intentions and no applications once per
(cohort, Form A level, on-track level) and builds their entries from the cells column by column
(`risk._listed_entries`). Checked here against the frozen P4 code (tests/unit/_reference_p4/risk.py)
on generated trusts: blanks, unknown codes and levels, the three-attempts placeholder in any case,
recorded dates before / after the day or unreadable, repeated UPNs, pupils with and without round
rows side by side, one pupil, no listed pupil.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gsync import risk
from gsync.deadlines import UNKNOWN_SOURCE, load_rules
from tests.unit._reference_p4 import risk as ref_risk
from tests.unit.test_derived_equivalence import _typed

RULES = load_rules()
DAYS = (
    dt.date(2025, 12, 10),
    dt.date(2026, 1, 20),
    dt.date(2026, 4, 20),
    dt.date(2026, 5, 20),
    dt.date(2026, 8, 10),
    dt.date(2026, 10, 5),
)
ROUNDS = [r.key for r in RULES.rounds]

texts = st.sampled_from(["", " ", "x", "Y", "y", "N", "K", "E", " e ", "k"])
levels = st.sampled_from(
    ["", "Level 1", "Level 2", "level 3", " Level 4 ", "Entry level", "Not sure", "Level", "L9"]
)
destinations = st.sampled_from(["", "College", "Other", "Sixth form", "Not decided yet"])
sources = st.sampled_from(["", "form", UNKNOWN_SOURCE, UNKNOWN_SOURCE.title(), "staff"])
recorded = st.sampled_from(
    ["", "2025-11-01", "2025-11-01", "2026-04-19", "2026-06-01", "2026-13-01", "soon"]
)
names = st.sampled_from(["", "Ann", "Bo", " Cy "])


@st.composite
def pupil(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "school": draw(st.sampled_from(["North", "South", ""])),
        "upn": draw(st.sampled_from(["U1", "U2", "U3", "U4", "U5", "U6", " U7", ""])),
        "leaving_year": draw(st.sampled_from(["2026", "2026", "2026", "2027", "2025", "20x6", ""])),
        "phase": draw(st.sampled_from(["Y11", "Y11", "Y13", "Y13", "", "Y12"])),
        "legal_forename": draw(names),
        "legal_surname": draw(names),
        "preferred_forename": draw(names),
        "preferred_surname": draw(names),
        "send": draw(texts),
        "disadvantaged": draw(texts),
        "eal": draw(texts),
        "looked_after": draw(texts),
        "on_track_level": draw(levels),
        "latest_guidance_interview": draw(st.sampled_from(["", "2026-01-05", "2025-10-01"])),
        "current_intended_destination": draw(destinations),
        "current_intended_other": draw(st.sampled_from(["", "Gap year"])),
        "current_intended_provider": draw(st.sampled_from(["", "Town College"])),
        "current_intended_course": draw(st.sampled_from(["", "Maths"])),
        "current_intended_level": draw(levels),
        "current_intended_source": draw(sources),
        "current_intended_recorded": draw(recorded),
    }


@st.composite
def round_row(draw: st.DrawFn, kind: str) -> dict[str, Any]:
    row = {
        "school": "North",
        "upn": draw(st.sampled_from(["U1", "U2", "U3"])),
        "leaving_year": draw(st.sampled_from(["2026", "2027"])),
        "round": draw(st.sampled_from([*ROUNDS, "nope"])),
        "response_id": draw(st.sampled_from(["", "r1", "r2"])),
        "provider": draw(st.sampled_from(["", "Town College", "Sixth"])),
        "course": draw(st.sampled_from(["", "Maths"])),
        "level": draw(levels),
    }
    if kind == "intention":
        row |= {"submitted": draw(recorded), "destination": draw(destinations), "other": ""}
    else:
        row |= {
            "number": "1",
            "status": draw(st.sampled_from(["applied", "offer", "accepted", ""])),
            "recorded": draw(recorded),
        }
    return row


PUPIL_COLUMNS = [*risk.PUPIL_FIELDS, "phase"]
ROUND_COLUMNS = ["school", "upn", "leaving_year", "round", "response_id", "provider", "course"]
INTENTION_COLUMNS = [*ROUND_COLUMNS, "level", "submitted", "destination", "other"]
APPLICATION_COLUMNS = [*ROUND_COLUMNS, "level", "number", "status", "recorded"]


def _frame(rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns, dtype=object)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pupils=st.lists(pupil(), max_size=30),
    intents=st.lists(round_row("intention"), max_size=6),
    apps=st.lists(round_row("application"), max_size=6),
    day=st.sampled_from(DAYS),
    drop=st.sampled_from([(), ("current_intended_source",), ("school", "on_track_level")]),
)
def test_assess_equals_p4(
    pupils: list[dict[str, Any]],
    intents: list[dict[str, Any]],
    apps: list[dict[str, Any]],
    day: dt.date,
    drop: tuple[str, ...],
) -> None:
    columns = [c for c in PUPIL_COLUMNS if c not in drop]
    dest = _frame(pupils, columns)
    i_frame = _frame(intents, INTENTION_COLUMNS) if intents else None
    a_frame = _frame(apps, APPLICATION_COLUMNS) if apps else None
    want = ref_risk.assess(dest, i_frame, a_frame, RULES, {}, day)
    got = risk.assess(dest, i_frame, a_frame, RULES, {}, day)
    assert _typed([e.__dict__ for e in got]) == _typed([e.__dict__ for e in want])
    keys = [*risk._RISK_KEYS, "nope"]
    assert risk.risk_rows(got, keys) == ref_risk.risk_rows(want, keys)


def test_one_pupil_and_no_listed_pupil() -> None:
    one = {
        **{c: "" for c in PUPIL_COLUMNS},
        "upn": "U1",
        "leaving_year": "2026",
        "phase": "Y11",
        "current_intended_destination": "College",
        "current_intended_level": "Level 3",
        "on_track_level": "Level 2",
        "current_intended_recorded": "2026-01-01",
    }
    day = dt.date(2026, 4, 20)
    for rows in ([one], [one, one], [{**one, "leaving_year": "2030"}]):
        dest = _frame(rows, PUPIL_COLUMNS)
        want = ref_risk.assess(dest, None, None, RULES, {}, day)
        got = risk.assess(dest, None, None, RULES, {}, day)
        assert _typed([e.__dict__ for e in got]) == _typed([e.__dict__ for e in want])
    listed = risk.assess(_frame([one], PUPIL_COLUMNS), None, None, RULES, {}, day)
    assert listed[0].reasons == ("level_above_on_track", "no_response")


@pytest.mark.parametrize("day", DAYS)
def test_assess_equals_p4_on_a_dense_trust(day: dt.date) -> None:
    """Hundreds of pupils over few distinct cells: many share a cohort, a Form A level and an
    on-track level (the remembered reasons) while their other cells differ."""
    rng = random.Random(day.toordinal())
    choices = {
        "school": ["North", "South"],
        "upn": [f"U{i}" for i in range(60)],
        "leaving_year": ["2026", "2026", "2027"],
        "phase": ["Y11", "Y13"],
        "send": ["N", "K", "e", ""],
        "on_track_level": ["", "Level 1", "Level 2", "level 3", "Entry level", "Not sure"],
        "current_intended_level": ["", "Level 2", "Level 3", "Level 4", "Not sure"],
        "current_intended_destination": ["", "College", "Other", "Sixth form"],
        "current_intended_source": ["form", UNKNOWN_SOURCE, UNKNOWN_SOURCE.upper()],
        "current_intended_recorded": ["", "2025-11-01", "2026-04-19", "x"],
        "current_intended_other": ["", "Gap year"],
        "legal_forename": ["Ann", "Bo"],
        "preferred_forename": ["", "Cy"],
        "latest_guidance_interview": ["", "2026-01-05"],
    }
    rows = [{c: rng.choice(v) for c, v in choices.items()} for _ in range(500)]
    dest = pd.DataFrame(rows, dtype=object)
    intents = _frame(
        [
            {
                "school": "North",
                "upn": f"U{rng.randrange(60)}",
                "leaving_year": "2026",
                "round": rng.choice(ROUNDS),
                "response_id": "r",
                "provider": "",
                "course": "",
                "level": rng.choice(["Level 3", ""]),
                "submitted": "2025-12-05",
                "destination": rng.choice(["College", "Not decided yet"]),
                "other": "",
            }
            for _ in range(20)
        ],
        INTENTION_COLUMNS,
    )
    for i_frame in (None, intents):
        want = ref_risk.assess(dest, i_frame, None, RULES, {}, day)
        got = risk.assess(dest, i_frame, None, RULES, {}, day)
        assert _typed([e.__dict__ for e in got]) == _typed([e.__dict__ for e in want])
    if day in DAYS[1:4]:
        assert any("level_above_on_track" in e.reasons for e in want)


@pytest.mark.parametrize(
    "columns",
    [
        [*risk._RISK_KEYS],
        ["rank", "nope", "upn", "rank", "score", "reasons"],
        [],
        ["nope"],
    ],
)
def test_risk_cells_are_the_rows_values(columns: list[str]) -> None:
    """The Risk tab's cells (`_risk_cells`) are the values of `risk_rows` in column order
    (`risk_rows` equals the frozen P4 one: tests/unit/test_risk_plumbing.py)."""
    rng = random.Random(len(columns))
    groups = [(), ("SEND",), ("SEND", "EAL"), ("disadvantaged", "EAL", "looked after")]
    reasons = [("no_response",), ("no_intended_destination", "no_response"), ("no_offer",)]
    entries = [
        risk.RiskEntry(
            school=rng.choice(["North", "South"]),
            upn=f"U{i}",
            leaving_year="2026",
            forename=rng.choice(["", "Ann"]),
            surname="Lee",
            priority_groups=rng.choice(groups),
            reasons=(codes := rng.choice(reasons)),
            labels=tuple(f"{c} ({i % 3})" for c in codes),
            current_round="y11_april",
            intended_destination=rng.choice(["", "College"]),
            on_track_level="",
            latest_guidance_interview="",
        )
        for i in range(40)
    ]
    for some in (entries, entries[:1], []):
        want = [[row[c] for c in columns] for row in risk.risk_rows(some, columns)]
        assert risk._risk_cells(some, columns) == want
